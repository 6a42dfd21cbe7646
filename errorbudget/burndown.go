package errorbudget

import "time"

// TimedCounts are counts for the interval starting at Time.
type TimedCounts struct {
	Time time.Time
	Counts
}

// BudgetPoint is the budget left at a moment of the window.
type BudgetPoint struct {
	Time         time.Time
	RemainingPct float64 // of the whole window's budget
}

// BurnDown is the error budget of the SLO s left over its window ending at
// now, measured against the budget of the whole window (so the last point
// equals the SLO's remaining_pct).
// counts are per interval, in time order, inside the window.
func BurnDown(s *SLO, counts []TimedCounts, now time.Time) []BudgetPoint {
	start := now.Add(-s.Window)
	var total, bad int64
	for _, c := range counts {
		total += c.Total
	}
	allowed := (1 - s.Objective/100) * float64(total)
	out := make([]BudgetPoint, 0, len(counts)+1)
	out = append(out, BudgetPoint{Time: start, RemainingPct: 100})
	for _, c := range counts {
		bad += c.Bad()
		rem := 100.0
		if allowed > 0 {
			rem = 100 - 100*float64(bad)/allowed
		}
		end := c.Time.Add(time.Hour)
		if end.After(now) {
			end = now
		}
		out = append(out, BudgetPoint{Time: end, RemainingPct: rem})
	}
	return out
}
