package promsli

import (
	"cmp"
	"slices"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// FromPolicies is every SLO of the policies whose SLI is pulled from
// Prometheus, by service and name.
func FromPolicies(ps map[string]*errorbudget.Policy) []SLO {
	var out []SLO
	for _, p := range ps {
		for _, s := range p.SLOs {
			if s.SLI == nil || s.SLI.Prometheus == nil {
				continue
			}
			q := s.SLI.Prometheus
			out = append(out, SLO{Service: p.Service, Name: s.Name, Window: s.Window, URL: q.URL,
				Good: q.Good, Bad: q.Bad, Total: q.Total, MaxStaleness: q.MaxStaleness})
		}
	}
	slices.SortFunc(out, func(a, b SLO) int { return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Name, b.Name)) })
	return out
}
