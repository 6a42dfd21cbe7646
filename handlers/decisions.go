package handlers

import (
	"maps"
	"slices"
	"sync"
)

// DecisionCounts counts the release decisions this process has made, by
// service and outcome, for /metrics: a gate that denies every release for
// hours is worth an alert (deploy/prometheus/budgetgate-rules.yml), and the
// stored decisions cannot be counted at scrape time without reading them
// all. A nil *DecisionCounts counts nothing.
type DecisionCounts struct {
	mu sync.Mutex
	n  map[string]*[2]uint64 // by service: denied, approved
}

// Add counts one decision.
func (d *DecisionCounts) Add(service string, approved bool) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[string]*[2]uint64{}
	}
	c := d.n[service]
	if c == nil {
		c = new([2]uint64)
		d.n[service] = c
	}
	if approved {
		c[1]++
	} else {
		c[0]++
	}
}

// expose writes the counts of services and of every service counted,
// zero where none was made yet, so that a first decision shows as an
// increase.
func (d *DecisionCounts) expose(x *Exposition, services []string) {
	counts := map[string][2]uint64{}
	if d != nil {
		d.mu.Lock()
		for s, c := range d.n {
			counts[s] = *c
		}
		d.mu.Unlock()
	}
	for _, s := range services {
		counts[s] = counts[s]
	}
	x.Family("budgetgate_release_decisions_total", "counter", "Release decisions made by this process since it started, by service and decision (approved, denied); replays of an Idempotency-Key are not counted.")
	for _, s := range slices.Sorted(maps.Keys(counts)) {
		x.Sample("", float64(counts[s][1]), "service", s, "decision", "approved")
		x.Sample("", float64(counts[s][0]), "service", s, "decision", "denied")
	}
}
