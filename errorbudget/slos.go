package errorbudget

import (
	"fmt"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
)

// ServiceMetrics are a service's figures: its worst SLO's, which decide
// its status and its gate, and every SLO's in the policy's order.
type ServiceMetrics struct {
	Metrics
	SLOs []Metrics `json:"slos"`
}

// ValidSLOName reports whether s is a well-formed SLO name (the same rule
// as service names).
func ValidSLOName(s string) bool { return serviceName.MatchString(s) }

// SLO returns the SLO called name, or nil.
func (p *Policy) SLO(name string) *SLO {
	for i := range p.SLOs {
		if p.SLOs[i].Name == name {
			return &p.SLOs[i]
		}
	}
	return nil
}

// ResolveSLO finds the SLO that counts or a question are about: the one
// named, or with name "" the service's only SLO. A service with several
// SLOs must be told which (an error naming the field slo).
func (p *Policy) ResolveSLO(name string) (*SLO, error) {
	if name == "" {
		if len(p.SLOs) == 1 {
			return &p.SLOs[0], nil
		}
		return nil, budgetgate.FieldErrorf("slo", "%s has %d SLOs (%s): name one, as in /api/v1/services/%s/slos/%s/sli",
			p.Service, len(p.SLOs), strings.Join(p.SLONames(), ", "), p.Service, p.SLOs[0].Name)
	}
	if s := p.SLO(name); s != nil {
		return s, nil
	}
	return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "service %s has no SLO %q (it has %s)", p.Service, name, strings.Join(p.SLONames(), ", "))
}

// IngestSLO is the SLO that posted counts go to, as ResolveSLO finds it. An
// SLO pulled from Prometheus refuses them: they would add to the pulled
// counts, and good events posted there would make its budget look
// healthier than its source says.
func (p *Policy) IngestSLO(name string) (*SLO, error) {
	s, err := p.ResolveSLO(name)
	if err != nil {
		return nil, err
	}
	if s.SLI != nil && s.SLI.Prometheus != nil {
		return nil, budgetgate.FieldErrorf("slo", "the SLI of %s is pulled from Prometheus: counts cannot be posted to it", p.Subject(s.Name))
	}
	return s, nil
}

// SLONames lists the SLOs' names in the policy's order.
func (p *Policy) SLONames() []string {
	out := make([]string, len(p.SLOs))
	for i, s := range p.SLOs {
		out[i] = s.Name
	}
	return out
}

// Subject is how messages name an SLO: the service alone when it has only
// one SLO (so that a single-SLO service reads as it always has), else
// service/slo.
func (p *Policy) Subject(slo string) string {
	if len(p.SLOs) <= 1 || slo == "" {
		return p.Service
	}
	return p.Service + "/" + slo
}

// severity ranks a status for choosing a service's worst SLO; lower is
// worse. Figures that could not be computed rank worst, and so does any
// status this code does not know, so that nothing new can open a gate by
// ranking as harmless. An SLO without data is as bad as the policy makes
// it: with on_no_data deny it blocks the gate, so it outranks every
// budget state; with allow it blocks nothing and ranks below healthy, so
// that the other SLOs' states still decide.
func (p *Policy) severity(s Status) int {
	switch s {
	case StatusNoData, StatusStale: // stale pulled data counts as none
		if p.OnNoData == OnNoDataAllow {
			return 7
		}
		return 1
	case StatusExhausted:
		return 2
	case StatusCritical:
		return 3
	case StatusWarning:
		return 4
	case StatusAttention:
		return 5
	case StatusHealthy:
		return 6
	}
	return 0
}

// Worst is the index of the SLO figures that decide the service: the most
// severe status and, among equals, the lowest remaining budget; the first
// in order among complete ties. It is -1 for an empty list.
func (p *Policy) Worst(ms []Metrics) int {
	worst := -1
	for i, m := range ms {
		if worst < 0 {
			worst = i
			continue
		}
		w := ms[worst]
		a, b := p.severity(m.Status), p.severity(w.Status)
		if a < b || a == b && m.RemainingPct < w.RemainingPct {
			worst = i
		}
	}
	return worst
}

// Summarise makes a service's figures from its SLOs' (in the policy's
// order): the worst one's, with the whole list under SLOs.
func (p *Policy) Summarise(ms []Metrics) ServiceMetrics {
	i := p.Worst(ms)
	if i < 0 {
		return ServiceMetrics{Metrics: UnknownMetrics(p, nil, time.Time{}), SLOs: []Metrics{}}
	}
	return ServiceMetrics{Metrics: ms[i], SLOs: ms}
}

// UnknownService stands for a service whose policy cannot be read, so that
// a list of services still shows it, as failing.
func UnknownService(service string, now time.Time) ServiceMetrics {
	m := UnknownMetrics(&Policy{Service: service}, nil, now)
	m.Error = "its stored policy could not be read; see the server log"
	return ServiceMetrics{Metrics: m, SLOs: []Metrics{}}
}

// sloField names an SLO's field in errors: the top-level key for a policy
// with one default SLO, slos[i].key otherwise.
func (p *Policy) sloField(i int, key string) string {
	if p.singleForm() {
		return key
	}
	return fmt.Sprintf("slos[%d].%s", i, key)
}

// singleForm reports whether the policy says no more than the form with
// slo_target and window at the top level can: one SLO, named DefaultSLO,
// with posted counts and no description of its own. Such a policy is
// written in that form, so that its version does not depend on which form
// the file used.
func (p *Policy) singleForm() bool {
	if len(p.SLOs) != 1 {
		return false
	}
	s := p.SLOs[0]
	return s.Name == DefaultSLO && s.SLI == nil && s.Description == ""
}
