package ccb

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxExpiryDays is far beyond any lifetime the rules allow, and far inside
// what a time.Duration holds.
const maxExpiryDays = 36600

// ParseExpiry reads a lifetime written as Go does ("36h", "90m") or in
// whole days ("90d").
func ParseExpiry(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 24h or 90d, got %q", s)
		}
		// Beyond this many days, either way, the product would wrap around
		// (Duration holds about 292 years): "99999999999d" would mean some
		// weeks, and "-107000d" a positive lifetime.
		if n <= 0 {
			return 0, fmt.Errorf("must be positive, got %q", s)
		}
		if n > maxExpiryDays {
			return 0, fmt.Errorf("at most %d days, got %q", maxExpiryDays, s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("want a duration such as 24h or 90d, got %q", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %q", s)
	}
	return d, nil
}

// FormatExpiry writes a lifetime the way ParseExpiry reads it: in days
// where it is more than one whole day, else in hours where it is whole hours.
func FormatExpiry(d time.Duration) string {
	day := 24 * time.Hour
	if d%day == 0 && d > day {
		return fmt.Sprintf("%dd", d/day)
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// ExpiryReminders are how long before an approval ends the board is told.
var ExpiryReminders = []time.Duration{24 * time.Hour, time.Hour}

// ReminderDue returns the reminder to send now, given the lead time of the
// last one sent (0 for none). Only the most urgent due reminder is sent, and
// none that would fire at the moment of approval (a 24h approval gets only
// the 1h reminder), since the decision notice already says when it ends.
func (e *Exception) ReminderDue(now time.Time, lastSent time.Duration) (time.Duration, bool) {
	if e.Status != ExceptionApproved || e.ExpiresAt == nil || e.DecidedAt == nil || !now.Before(*e.ExpiresAt) {
		return 0, false
	}
	var due time.Duration
	for _, lead := range ExpiryReminders {
		at := e.ExpiresAt.Add(-lead)
		if (lastSent == 0 || lead < lastSent) && at.After(*e.DecidedAt) && !now.Before(at) {
			if due == 0 || lead < due {
				due = lead
			}
		}
	}
	return due, due != 0
}
