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

// SLOFigure is an SLO's objective over its window, after the SLO's name
// where the service has several: what a page's "SLO" figure shows.
func SLOFigure(m errorbudget.Metrics) string {
	return named(m, fmt.Sprintf("%g%% over %s", m.SLOTarget, m.Window))
}

// named puts an SLO's name before text about it, unless the SLO is a
// single-SLO service's default one, whose name says nothing.
func named(m errorbudget.Metrics, text string) string {
	if m.SLO == "" || m.SLO == errorbudget.DefaultSLO {
		return text
	}
	return m.SLO + ": " + text
}
