package promsli

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/common/model"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// carry holds the fractions of events that rounding has not yet handed out,
// so that a trickle of 0.3 errors a minute still adds up to 18 an hour
// instead of rounding to nothing. It lives as long as the puller follows
// the SLO; a restart loses at most one event of each kind.
type carry struct {
	total, bad float64
}

// take hands out the whole events of x plus what was carried.
func take(acc *float64, x float64) int64 {
	*acc += x
	n := math.Floor(*acc + 1e-9)
	*acc -= n
	return int64(n)
}

// rates is one range query's answer: per-second rates by interval end.
type rates map[int64]float64

// seriesRates reads a range query's answer, which must be a single series
// (or none: no data in the range). Rates must be finite and not negative.
func seriesRates(field string, v model.Value) (rates, error) {
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s: the query returns a %s, not a range vector", field, v.Type())
	}
	switch len(m) {
	case 0:
		return rates{}, nil
	case 1:
	default:
		return nil, fmt.Errorf("%s: the query returns %d series (such as %s); aggregate it to one with sum()", field, len(m), m[0].Metric)
	}
	out := make(rates, len(m[0].Values))
	for _, p := range m[0].Values {
		x := float64(p.Value)
		if math.IsNaN(x) {
			continue // 0/0 in the query: no data at that step
		}
		if math.IsInf(x, 0) || x < 0 {
			return nil, fmt.Errorf("%s: %v at %s is not a rate of events (a finite number >= 0)", field, x, p.Timestamp.Time().UTC().Format(time.RFC3339))
		}
		out[int64(p.Timestamp.Unix())] = x
	}
	return out, nil
}

// toEvents turns the rates of the steps from, from+step, ..., to into one
// event per step at which total has a value, stamped with the last minute
// of its interval (so that a pull resumes after the newest stored minute). A missing bad is no errors, a missing good is no good events:
// "sum(rate(x{code=~"5.."}[5m]))" has no series while nothing failed, and a
// good query that has none must not make the budget look healthy. Bad is
// capped at total, the excess carried.
func toEvents(from, to time.Time, step time.Duration, total, good, bad rates, useGood bool, c *carry) ([]errorbudget.SLIEvent, error) {
	var out []errorbudget.SLIEvent
	secs := step.Seconds()
	for t := from; !t.After(to); t = t.Add(step) {
		ts := t.Unix()
		tr, ok := total[ts]
		if !ok {
			continue
		}
		var br float64
		if useGood {
			br = max(tr-good[ts], 0)
		} else {
			br = bad[ts]
		}
		n := take(&c.total, tr*secs)
		b := take(&c.bad, br*secs)
		if b > n {
			c.bad += float64(b - n)
			b = n
		}
		if n > errorbudget.MaxSLICount {
			return nil, fmt.Errorf("total: %d events in the %s to %s is more than %d", n, step, t.UTC().Format(time.RFC3339), int64(errorbudget.MaxSLICount))
		}
		out = append(out, errorbudget.SLIEvent{Time: t.Add(-Step), Good: n - b, Total: n})
	}
	return out, nil
}
