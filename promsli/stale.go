package promsli

import (
	"context"
	"fmt"
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
		newest, err := p.store.NewestSLI(ctx, s.Service, s.Name)
		if err != nil {
			return nil, fmt.Errorf("reading the newest pulled interval of %s: %w", s.Key(), err)
		}
		if newest.IsZero() {
			continue // no data at all: the figures say no_data
		}
		end := newest.Add(Step)
		if now.Sub(end) > p.maxStaleness(s) {
			return &errorbudget.Staleness{SLO: s.Name, Newest: end}, nil
		}
	}
	return nil, nil
}

// MarkStale marks m stale when one of its service's pulled SLOs is.
// Figures that could not be computed stay unknown.
func (p *Puller) MarkStale(ctx context.Context, m *errorbudget.Metrics, now time.Time) error {
	if m.Status == errorbudget.StatusUnknown {
		return nil
	}
	s, err := p.Stale(ctx, m.Service, now)
	if err != nil || s == nil {
		return err
	}
	m.MarkStale(*s)
	return nil
}

// pulledOf is the service's pulled SLOs, by name.
func (p *Puller) pulledOf(service string) []SLO {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byService[service]
}
