package promsli

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/budgetgate/budgetgate/errorbudget"
)

func TestToEvents(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	minutes := func(n int, f func(i int) float64) rates {
		r := rates{}
		for i := range n {
			r[t0.Add(time.Duration(i)*Step).Unix()] = f(i)
		}
		return r
	}
	const n = 10
	tests := []struct {
		name             string
		total, good, bad rates
		useGood          bool
		wantTotal        int64
		wantBad          int64
		wantEvents       int
	}{
		// 0.005 errors a second is 0.3 a minute: rounded alone each
		// minute would be none, carried they are 3 in ten minutes.
		{"a trickle adds up", minutes(n, func(int) float64 { return 1 }), nil, minutes(n, func(int) float64 { return 0.005 }), false, 600, 3, n},
		{"no bad series is no errors", minutes(n, func(int) float64 { return 2 }), nil, rates{}, false, 1200, 0, n},
		{"no good series is all bad", minutes(n, func(int) float64 { return 2 }), rates{}, nil, true, 1200, 1200, n},
		{"good from bad", minutes(n, func(int) float64 { return 10 }), minutes(n, func(int) float64 { return 9.5 }), nil, true, 6000, 300, n},
		{"bad capped at total", minutes(n, func(int) float64 { return 1 }), nil, minutes(n, func(int) float64 { return 3 }), false, 600, 600, n},
		{"good above total is no errors", minutes(n, func(int) float64 { return 1 }), minutes(n, func(int) float64 { return 1.2 }), nil, true, 600, 0, n},
		{"steps without total are skipped", minutes(n, func(i int) float64 { return float64(i % 2) }), nil, rates{}, false, 300, 0, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "steps without total are skipped" {
				for ts, v := range tt.total {
					if v == 0 {
						delete(tt.total, ts)
					}
				}
				tt.wantEvents = n / 2
			}
			var c carry
			events, err := toEvents(t0, t0.Add((n-1)*Step), tt.total, tt.good, tt.bad, tt.useGood, &c)
			if err != nil {
				t.Fatal(err)
			}
			var total, bad int64
			for _, e := range events {
				if e.Good < 0 || e.Good > e.Total {
					t.Fatalf("event %+v: good outside [0, total]", e)
				}
				if !e.Time.Before(t0) && e.Time.Sub(t0)%Step != 0 {
					t.Fatalf("event at %s not on a minute", e.Time)
				}
				total += e.Total
				bad += e.Total - e.Good
			}
			if total != tt.wantTotal || bad != tt.wantBad || len(events) != tt.wantEvents {
				t.Errorf("%d events, total %d, bad %d; want %d, %d, %d", len(events), total, bad, tt.wantEvents, tt.wantTotal, tt.wantBad)
			}
		})
	}
}

// The interval (t-1m, t] is stored in the minute that starts at t-1m.
func TestToEventsStampsIntervalStart(t *testing.T) {
	end := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var c carry
	events, err := toEvents(end, end, rates{end.Unix(): 1}, nil, rates{}, false, &c)
	if err != nil {
		t.Fatal(err)
	}
	want := []errorbudget.SLIEvent{{Time: end.Add(-time.Minute), Good: 60, Total: 60}}
	if len(events) != 1 || events[0] != want[0] {
		t.Errorf("events %+v, want %+v", events, want)
	}
}

func TestSeriesRates(t *testing.T) {
	at := model.TimeFromUnix(1_795_000_000)
	series := func(labels string, vs ...float64) *model.SampleStream {
		s := &model.SampleStream{Metric: model.Metric{"job": model.LabelValue(labels)}}
		for i, v := range vs {
			s.Values = append(s.Values, model.SamplePair{Timestamp: at.Add(time.Duration(i) * Step), Value: model.SampleValue(v)})
		}
		return s
	}
	tests := []struct {
		name    string
		v       model.Value
		want    int
		wantErr string
	}{
		{"no series is no data", model.Matrix{}, 0, ""},
		{"one series", model.Matrix{series("a", 1, 2, 3)}, 3, ""},
		{"NaN steps are skipped", model.Matrix{series("a", 1, math.NaN(), 3)}, 2, ""},
		{"several series", model.Matrix{series("a", 1), series("b", 1)}, 0, "total: the query returns 2 series (such as {job=\"a\"}); aggregate it to one with sum()"},
		{"negative rate", model.Matrix{series("a", -1)}, 0, "total: -1 at 2026-11-18T11:06:40Z is not a rate of events (a finite number >= 0)"},
		{"infinite rate", model.Matrix{series("a", math.Inf(1))}, 0, "total: +Inf at 2026-11-18T11:06:40Z is not a rate of events (a finite number >= 0)"},
		{"a scalar", &model.Scalar{Value: 1, Timestamp: at}, 0, "total: the query returns a scalar, not a range vector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := seriesRates("total", tt.v)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(r) != tt.want {
				t.Fatalf("%d rates, %v; want %d", len(r), err, tt.want)
			}
		})
	}
}

func TestRollUp(t *testing.T) {
	h := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	// Minutes from 00:30 to 04:29, one event each: a cut hour, three whole
	// hours and a cut hour.
	first, last := h.Add(30*time.Minute), h.Add(4*time.Hour+29*time.Minute)
	var events []errorbudget.SLIEvent
	for m := first; !m.After(last); m = m.Add(Step) {
		events = append(events, errorbudget.SLIEvent{Time: m, Good: 2, Total: 3})
	}
	tests := []struct {
		name   string
		detail time.Time
		want   int // entries
	}{
		{"every whole hour rolled up", h.Add(24 * time.Hour), 30 + 3 + 30},
		{"hours after detail keep their minutes", h.Add(3 * time.Hour), 30 + 2 + 60 + 30},
		{"all within detail", h, len(events)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := rollUp(events, first, last, tt.detail)
			if len(out) != tt.want {
				t.Fatalf("%d entries, want %d", len(out), tt.want)
			}
			var good, total int64
			for i, e := range out {
				good += e.Good
				total += e.Total
				if i > 0 && !e.Time.After(out[i-1].Time) {
					t.Fatalf("entry %d at %s not after %s", i, e.Time, out[i-1].Time)
				}
				if e.Total > 3 && e.Time.Minute() != 59 {
					t.Errorf("rolled-up hour stamped %s, want its last minute", e.Time)
				}
			}
			if good != 2*int64(len(events)) || total != 3*int64(len(events)) {
				t.Errorf("sums %d/%d, want %d/%d", good, total, 2*len(events), 3*len(events))
			}
		})
	}
}
