package errorbudget

import (
	"fmt"
	"time"
)

// Staleness says which pulled SLO's data is too old, and how old: a puller
// that cannot reach its source must not leave the gate judging by the
// figures of before the outage (see docs/OPERATIONS.md, Pulled SLIs).
type Staleness struct {
	SLO    string    `json:"slo"`
	Newest time.Time `json:"newest"` // end of the newest interval with data
}

// Reason is the gate's words for it.
func (s Staleness) Reason(service string) string {
	return fmt.Sprintf("SLI data for %s/%s is stale: newest %s", service, s.SLO, s.Newest.UTC().Format(time.RFC3339))
}

// MarkStale makes the figures stale: the gate then refuses them unless the
// policy allows releases without data. The figures stay, for the pages.
func (m *Metrics) MarkStale(s Staleness) {
	m.Status = StatusStale
	m.Stale = &s
}
