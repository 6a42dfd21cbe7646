package promsli

import "time"

// Progress is what the SLO's page and /metrics show of its pulling.
type Progress struct {
	Service, SLO string
	// Source is the URL queried.
	Source string
	// Pulled of ToPull intervals of the current catch-up: a backfill on
	// first sight or after an outage, one interval when following.
	Pulled, ToPull int
	// Newest is the end of the newest interval with data; zero when none.
	Newest time.Time
	// LastPull is when a pull last succeeded.
	LastPull time.Time
	// Error is the last pull's error, with Prometheus's own message; empty
	// once a pull succeeds again.
	Error   string
	ErrorAt time.Time
	// MaxStaleness is how old Newest may be before the SLO is stale.
	MaxStaleness time.Duration
}

// Pull states, as pages and /metrics name them.
const (
	StateWaiting     = "waiting"     // no data pulled yet
	StateBackfilling = "backfilling" // catching up more than one interval
	StateFollowing   = "following"
	StateStale       = "stale"
)

// Stale is true when the newest data is older than MaxStaleness at now.
// An SLO with no data at all is not stale but has no data, which the
// gate refuses in its own words.
func (p Progress) Stale(now time.Time) bool {
	return !p.Newest.IsZero() && now.Sub(p.Newest) > p.MaxStaleness
}

// State names where the SLO stands at now.
func (p Progress) State(now time.Time) string {
	switch {
	case p.ToPull > 1 && p.Pulled < p.ToPull:
		return StateBackfilling
	case p.Stale(now):
		return StateStale
	case p.Newest.IsZero():
		return StateWaiting // no data yet, pulled or not
	}
	return StateFollowing
}

// Ratio is the share of the current catch-up done, from 0 to 1.
func (p Progress) Ratio() float64 {
	if p.ToPull == 0 {
		return 1
	}
	return float64(p.Pulled) / float64(p.ToPull)
}
