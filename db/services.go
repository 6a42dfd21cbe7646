package db

import (
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
}

func (c *policyCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.policies = nil
	c.mu.Unlock()
}

// Policies returns every service's active policy, by service name.
func (d *DB) Policies(ctx context.Context) (map[string]*errorbudget.Policy, error) {
	d.cache.mu.RLock()
	ps, gen := d.cache.policies, d.cache.gen
	d.cache.mu.RUnlock()
	if ps != nil {
		return ps, nil
	}
	list, err := d.ActivePolicies(ctx)
	if err != nil {
		return nil, err
	}
	ps = make(map[string]*errorbudget.Policy, len(list))
	for _, p := range list {
		ps[p.Service] = p
	}
	d.cache.mu.Lock()
	if d.cache.gen == gen {
		d.cache.policies = ps
	}
	d.cache.mu.Unlock()
	return ps, nil
}

// Policy returns a service's active policy, or ENOTFOUND.
func (d *DB) Policy(ctx context.Context, service string) (*errorbudget.Policy, error) {
	ps, err := d.Policies(ctx)
	if err != nil {
		return nil, err
	}
	p, ok := ps[service]
	if !ok {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "unknown service %q: no policy defines it", service)
	}
	return p, nil
}

// ServiceMetrics computes a service's figures at now.
func (d *DB) ServiceMetrics(ctx context.Context, service string, now time.Time) (errorbudget.Metrics, *errorbudget.Policy, error) {
	p, err := d.Policy(ctx, service)
	if err != nil {
		return errorbudget.Metrics{}, nil, err
	}
	counts, err := d.WindowCounts(ctx, p, now)
	if err != nil {
		return errorbudget.Metrics{}, nil, err
	}
	return errorbudget.ComputeMetrics(p, counts, now), p, nil
}

// AllMetrics computes every service's figures at now, sorted by name.
func (d *DB) AllMetrics(ctx context.Context, now time.Time) ([]errorbudget.Metrics, error) {
	ps, err := d.Policies(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]errorbudget.Metrics, 0, len(ps))
	for _, p := range ps {
		counts, err := d.WindowCounts(ctx, p, now)
		if err != nil {
			return nil, err
		}
		out = append(out, errorbudget.ComputeMetrics(p, counts, now))
	}
	sortByService(out)
	return out, nil
}
