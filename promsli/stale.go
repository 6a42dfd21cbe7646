package promsli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// Stale is the first (by name) of the service's pulled SLOs whose newest
// stored interval is older than its max staleness at now, or nil. It reads
// the store rather than the puller's memory, so that it holds from the
// first request after a start, before any pull, and on an instance that
// does not pull itself.
func (p *Puller) Stale(ctx context.Context, service string, now time.Time) (*errorbudget.Staleness, error) {
	for _, s := range p.pulledOf(service) {
		st, err := p.staleness(ctx, s, now)
		if err != nil || st != nil {
			return st, err
		}
	}
	return nil, nil
}

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

// pulledOf is the service's pulled SLOs, by name.
func (p *Puller) pulledOf(service string) []SLO {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byService[service]
}
