package errorbudget

import (
	"fmt"
	"time"

	"github.com/budgetgate/budgetgate"
)

// SLIEvent is one interval's counts posted by a service (the occurrences method).
type SLIEvent struct {
	Time  time.Time `json:"time"`
	Good  int64     `json:"good"`
	Total int64     `json:"total"`
}

// Limits on SLI ingest (see docs/API.md, Error budgets).
const (
	MaxSLIEventsPerRequest = 10000
	DefaultRetention       = 400 * 24 * time.Hour
	MaxClockSkew           = 5 * time.Minute
	// MaxSLICount bounds one entry's counts so that sums over years of data
	// cannot overflow.
	MaxSLICount = 1_000_000_000_000
)

// ValidateSLIEvents checks a batch against docs/API.md, Error budgets. It names the first
// offending entry, as "events[3].good".
func ValidateSLIEvents(events []SLIEvent, now time.Time, retention time.Duration) error {
	if len(events) == 0 {
		return budgetgate.FieldErrorf("events", "at least one event is required")
	}
	if len(events) > MaxSLIEventsPerRequest {
		return &budgetgate.Error{Code: budgetgate.ETOOLARGE, Field: "events", Message: fmt.Sprintf("%d events; at most %d a request", len(events), MaxSLIEventsPerRequest)}
	}
	oldest, newest := now.Add(-retention), now.Add(MaxClockSkew)
	for i, e := range events {
		field := func(name string) string { return fmt.Sprintf("events[%d].%s", i, name) }
		switch {
		case e.Time.IsZero():
			return budgetgate.FieldErrorf(field("time"), "required (RFC 3339)")
		case !e.Time.After(oldest):
			return budgetgate.FieldErrorf(field("time"), "%s is older than the retention of %s", e.Time.Format(time.RFC3339), retention)
		case e.Time.After(newest):
			return budgetgate.FieldErrorf(field("time"), "%s is more than %s in the future", e.Time.Format(time.RFC3339), MaxClockSkew)
		case e.Good < 0:
			return budgetgate.FieldErrorf(field("good"), "must be >= 0")
		case e.Total < 0:
			return budgetgate.FieldErrorf(field("total"), "must be >= 0")
		case e.Total > MaxSLICount:
			return budgetgate.FieldErrorf(field("total"), "must be <= %d", int64(MaxSLICount))
		case e.Good > e.Total:
			return budgetgate.FieldErrorf(field("good"), "good (%d) exceeds total (%d)", e.Good, e.Total)
		}
	}
	return nil
}

// FitsRetention checks that the server keeps SLI data for at least each
// SLO's window, or its figures would silently cover less than it says.
func (p *Policy) FitsRetention(retention time.Duration) error {
	for i, s := range p.SLOs {
		if s.Window > retention {
			return budgetgate.FieldErrorf(p.sloField(i, "window"), "%s is longer than the server's SLI retention of %s", s.WindowText, retention)
		}
	}
	return nil
}
