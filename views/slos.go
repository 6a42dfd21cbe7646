package views

import (
	"fmt"
	"strings"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// SLOSummary says what a policy's SLOs promise: "99.9% over 30d" for a
// service with one SLO, each SLO by name otherwise.
func SLOSummary(p *errorbudget.Policy) string {
	if len(p.SLOs) == 1 {
		s := p.SLOs[0]
		return fmt.Sprintf("%g%% over %s", s.Objective, s.WindowText)
	}
	parts := make([]string, len(p.SLOs))
	for i, s := range p.SLOs {
		parts[i] = fmt.Sprintf("%s %g%% over %s", s.Name, s.Objective, s.WindowText)
	}
	return strings.Join(parts, "; ")
}
