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
			events, err := toEvents(t0, t0.Add((n-1)*Step), Step, tt.total, tt.good, tt.bad, tt.useGood, &c)
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

// The interval (t-1m, t] is stored in the minute that starts at t-1m, and
// an hour's in its last minute, as one entry.
func TestToEventsStampsIntervalStart(t *testing.T) {
	end := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var c carry
	events, err := toEvents(end, end, Step, rates{end.Unix(): 1}, nil, rates{}, false, &c)
	if err != nil {
		t.Fatal(err)
	}
	want := []errorbudget.SLIEvent{{Time: end.Add(-time.Minute), Good: 60, Total: 60}}
	if len(events) != 1 || events[0] != want[0] {
		t.Errorf("events %+v, want %+v", events, want)
	}
	events, err = toEvents(end, end.Add(HourStep), HourStep, rates{end.Unix(): 2, end.Add(HourStep).Unix(): 1}, nil, rates{}, false, &c)
	want = []errorbudget.SLIEvent{{Time: end.Add(-time.Minute), Good: 7200, Total: 7200}, {Time: end.Add(HourStep - time.Minute), Good: 3600, Total: 3600}}
	if len(events) != 2 || events[0] != want[0] || events[1] != want[1] {
		t.Errorf("hourly events %+v, want %+v", events, want)
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

func TestPlan(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 17, 30, 0, time.UTC)
	end := ready(now) // 10:16
	tests := []struct {
		name  string
		start time.Time
		want  []segment
	}{
		{"recent: minutes only", end.Add(-2 * time.Hour), []segment{{end.Add(-2 * time.Hour), end, Step}}},
		{"a month: minutes to the hour, hours, then minutes",
			time.Date(2026, 10, 23, 10, 18, 0, 0, time.UTC),
			[]segment{
				{time.Date(2026, 10, 23, 10, 18, 0, 0, time.UTC), time.Date(2026, 10, 23, 11, 0, 0, 0, time.UTC), Step},
				{time.Date(2026, 10, 23, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC), HourStep},
				{time.Date(2026, 11, 19, 9, 1, 0, 0, time.UTC), end, Step},
			}},
		{"resuming on the hour's first minute: no minutes before the hours",
			time.Date(2026, 11, 1, 0, 1, 0, 0, time.UTC),
			[]segment{
				{time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC), HourStep},
				{time.Date(2026, 11, 19, 9, 1, 0, 0, time.UTC), end, Step},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plan(tt.start, end, now)
			if len(got) != len(tt.want) {
				t.Fatalf("plan %v, want %v", got, tt.want)
			}
			for i := range got {
				if !got[i].from.Equal(tt.want[i].from) || !got[i].to.Equal(tt.want[i].to) || got[i].step != tt.want[i].step {
					t.Errorf("segment %d: %v, want %v", i, got[i], tt.want[i])
				}
			}
			// Contiguous: each interval starts where the one before ended.
			for i := 1; i < len(got); i++ {
				if !got[i].from.Add(-got[i].step).Equal(got[i-1].to) {
					t.Errorf("segments %d and %d leave a gap or overlap", i-1, i)
				}
			}
		})
	}
}
