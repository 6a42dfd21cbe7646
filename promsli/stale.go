package promsli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// staleness is the SLO's staleness at now, or nil when its data is fresh
// or it has none (the figures then say no_data).
func (p *Puller) staleness(ctx context.Context, s SLO, now time.Time) (*errorbudget.Staleness, error) {
	newest, err := p.store.NewestSLI(ctx, s.Service, s.Name)
	if err != nil {
		return nil, fmt.Errorf("reading the newest pulled interval of %s: %w", s.Key(), err)
	}
	if newest.IsZero() {
		return nil, nil
	}
	end := newest.Add(Step)
	if now.Sub(end) <= p.maxStalenessOf(s) {
		return nil, nil
	}
	return &errorbudget.Staleness{SLO: s.Name, Newest: end}, nil
}

// MarkStale marks each pulled SLO of sm whose data is stale, and lets the
// worst SLO decide the service again, as a stale SLO is worse than any
// figures. Figures that could not be computed stay unknown.
//
// Which SLOs are pulled, and their max staleness, come from pol, not from
// what this instance pulls: only one instance of a cluster pulls, and every
// instance's gate must see the same staleness.
func (p *Puller) MarkStale(ctx context.Context, sm *errorbudget.ServiceMetrics, pol *errorbudget.Policy, now time.Time) error {
	pulled := FromPolicies(map[string]*errorbudget.Policy{pol.Service: pol})
	if len(pulled) == 0 {
		return nil
	}
	marked := false
	for i := range sm.SLOs {
		m := &sm.SLOs[i]
		j := slices.IndexFunc(pulled, func(s SLO) bool { return s.Name == m.SLO })
		if m.Status == errorbudget.StatusUnknown || j < 0 {
			continue
		}
		st, err := p.staleness(ctx, pulled[j], now)
		if err != nil {
			return err
		}
		if st != nil {
			m.MarkStale(*st)
			marked = true
		}
	}
	if marked {
		*sm = pol.Summarise(sm.SLOs)
	}
	return nil
}
