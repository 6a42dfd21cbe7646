package promtest

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Counter is one counter series of a history.
type Counter struct {
	// Series is the name and labels, as `http_requests_total{code="200"}`.
	Series string
	// Rate is how many events a second it counts at t.
	Rate func(t time.Time) float64
	// Resets are times at which it restarts from zero, as after a crash.
	Resets []time.Time
}

func (c Counter) family() string {
	name, _, _ := strings.Cut(c.Series, "{")
	return name
}

// History samples the counters every interval over [from, to] as
// OpenMetrics, grouped by family as the format requires.
func History(from, to time.Time, interval time.Duration, counters ...Counter) func(io.Writer) error {
	return func(w io.Writer) error {
		cs := slices.Clone(counters)
		slices.SortStableFunc(cs, func(a, b Counter) int { return cmp.Compare(a.family(), b.family()) })
		for start := 0; start < len(cs); {
			end := start + 1
			for end < len(cs) && cs[end].family() == cs[start].family() {
				end++
			}
			if err := writeFamily(w, from, to, interval, cs[start:end]); err != nil {
				return err
			}
			start = end
		}
		return nil
	}
}

func writeFamily(w io.Writer, from, to time.Time, interval time.Duration, cs []Counter) error {
	values := make([]float64, len(cs))
	resets := make([][]time.Time, len(cs))
	for i, c := range cs {
		resets[i] = c.Resets
	}
	var line []byte
	for t := from; !t.After(to); t = t.Add(interval) {
		for i, c := range cs {
			if len(resets[i]) > 0 && !t.Before(resets[i][0]) {
				values[i], resets[i] = 0, resets[i][1:]
			} else if t.After(from) {
				values[i] += c.Rate(t) * interval.Seconds()
			}
			line = append(line[:0], c.Series...)
			line = append(line, ' ')
			line = strconv.AppendFloat(line, values[i], 'f', -1, 64)
			line = append(line, ' ')
			line = strconv.AppendInt(line, t.Unix(), 10)
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("writing %s: %w", c.Series, err)
			}
		}
	}
	return nil
}
