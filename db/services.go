package db

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// policyCache keeps parsed active policies; SavePolicy invalidates it.
type policyCache struct {
	mu       sync.RWMutex
	gen      uint64 // bumped by every change, so a load that raced one is not kept
	policies map[string]*errorbudget.Policy
	broken   map[string]error // services whose stored policy no longer parses
}

func (c *policyCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.policies, c.broken = nil, nil
	c.mu.Unlock()
}

// Policies returns every service's active policy, by service name. Services
// whose stored policy no longer parses are left out (see brokenPolicies).
func (d *DB) Policies(ctx context.Context) (map[string]*errorbudget.Policy, error) {
	ps, _, err := d.loadPolicies(ctx)
	return ps, err
}

func (d *DB) loadPolicies(ctx context.Context) (map[string]*errorbudget.Policy, map[string]error, error) {
	d.cache.mu.RLock()
	ps, broken, gen := d.cache.policies, d.cache.broken, d.cache.gen
	d.cache.mu.RUnlock()
	if ps != nil && d.cachesLive() {
		return ps, broken, nil
	}
	list, broken, err := d.ActivePolicies(ctx)
	if err != nil {
		return nil, nil, err
	}
	for name, err := range broken {
		d.Log.Error("service policy", "service", name, "err", err)
	}
	ps = make(map[string]*errorbudget.Policy, len(list))
	for _, p := range list {
		ps[p.Service] = p
	}
	d.cache.mu.Lock()
	if d.cache.gen == gen {
		d.cache.policies, d.cache.broken = ps, broken
	}
	d.cache.mu.Unlock()
	return ps, broken, nil
}

// Policy returns a service's active policy, ENOTFOUND, or an internal
// error for a service whose stored policy no longer parses.
func (d *DB) Policy(ctx context.Context, service string) (*errorbudget.Policy, error) {
	ps, broken, err := d.loadPolicies(ctx)
	if err != nil {
		return nil, err
	}
	if err := broken[service]; err != nil {
		return nil, err
	}
	p, ok := ps[service]
	if !ok {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "unknown service %q: no policy defines it", service)
	}
	return p, nil
}

// ServiceMetrics computes a service's figures at now: every SLO's, and the
// worst one's for the service. An SLO whose counts cannot be read fails the
// whole answer, so that the gate, which asks this, stays closed.
func (d *DB) ServiceMetrics(ctx context.Context, service string, now time.Time) (errorbudget.ServiceMetrics, *errorbudget.Policy, error) {
	p, err := d.Policy(ctx, service)
	if err != nil {
		return errorbudget.ServiceMetrics{}, nil, err
	}
	sm, err := d.serviceMetrics(ctx, p, now)
	if err != nil {
		return errorbudget.ServiceMetrics{}, nil, err
	}
	return sm, p, nil
}

// serviceMetrics computes every SLO's figures. An SLO whose counts cannot
// be read is shown as unknown, which makes the service unknown, and the
// first such error is returned with the figures.
func (d *DB) serviceMetrics(ctx context.Context, p *errorbudget.Policy, now time.Time) (errorbudget.ServiceMetrics, error) {
	ms := make([]errorbudget.Metrics, len(p.SLOs))
	var first error
	for i := range p.SLOs {
		s := &p.SLOs[i]
		counts, err := d.WindowCounts(ctx, p, s, now)
		if err != nil {
			if ctx.Err() != nil {
				return errorbudget.ServiceMetrics{}, err
			}
			ms[i] = errorbudget.UnknownMetrics(p, s, now)
			first = cmp.Or(first, err)
			continue
		}
		ms[i] = errorbudget.ComputeMetrics(p, s, counts, now)
	}
	return p.Summarise(ms), first
}

// AllMetrics computes every service's figures at now, sorted by name.
func (d *DB) AllMetrics(ctx context.Context, now time.Time) ([]errorbudget.ServiceMetrics, error) {
	ps, broken, err := d.loadPolicies(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]errorbudget.ServiceMetrics, 0, len(ps)+len(broken))
	for name := range broken {
		out = append(out, errorbudget.UnknownService(name, now))
	}
	for _, p := range ps {
		sm, err := d.serviceMetrics(ctx, p, now)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			// One SLO's damaged data must not take the others' figures
			// down: it is listed as unknown and its service's gate stays
			// closed.
			d.Log.Error("service figures", "service", p.Service, "err", err)
		}
		out = append(out, sm)
	}
	sortByService(out)
	return out, nil
}
