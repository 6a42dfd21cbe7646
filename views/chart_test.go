package views

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestNiceTicks: the axis gets round steps, never 100/71/42/14/-15.
func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi     float64
		want       []float64
		start, end float64
	}{
		{0, 100, []float64{0, 25, 50, 75, 100}, 0, 100},
		{-15, 100, []float64{-50, 0, 50, 100}, -50, 100},
		{0, 6, []float64{0, 2, 4, 6}, 0, 6},
		{0, 16.01, []float64{0, 5, 10, 15, 20}, 0, 20},
		{0, 0.3, []float64{0, 0.1, 0.2, 0.3}, 0, 0.3},
		{5, 5, []float64{5, 5.25, 5.5, 5.75, 6}, 5, 6},
	}
	for _, tt := range tests {
		ticks, start, end := niceTicks(tt.lo, tt.hi)
		if !slices.Equal(ticks, tt.want) || start != tt.start || end != tt.end {
			t.Errorf("niceTicks(%v, %v) = %v [%v, %v], want %v [%v, %v]", tt.lo, tt.hi, ticks, start, end, tt.want, tt.start, tt.end)
		}
	}
}

func TestNewChart(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	spec := ChartSpec{
		Title: "burn", From: at(0), To: at(4), YMin: 0, YMax: 1,
		Series: []SeriesSpec{
			// An hour without events breaks the line rather than drawing 0.
			{Name: "a", Style: "line", Points: []Point{{at(0), 1}, {at(1), 2}, {at(2), math.NaN()}, {at(3), 2}, {at(4), 1}}},
			{Name: "b", Style: "line", Points: []Point{{at(0), 1}, {at(4), 1}}},
			{Name: "ideal", Style: "ideal", Points: []Point{{at(0), 1}, {at(4), 0}}},
		},
		Marks: []Mark{{T: at(2), Kind: MarkRelease}, {T: at(9), Kind: MarkPolicy}},
	}
	c := NewChart(spec)
	if n := len(c.Series[0].Segments); n != 2 {
		t.Errorf("series a has %d segments, want 2 (a gap at hour 2)", n)
	}
	if c.Series[0].Class == c.Series[1].Class {
		t.Errorf("two lines share the style %q", c.Series[0].Class)
	}
	if c.Series[2].Class != "ideal" {
		t.Errorf("reference line styled %q", c.Series[2].Class)
	}
	// a and b both end at 1: their labels must not sit on each other.
	if d := math.Abs(c.Series[0].EndY - c.Series[1].EndY); d < labelGap {
		t.Errorf("end labels %v apart, want at least %v", d, labelGap)
	}
	if len(c.Marks) != 1 || c.Marks[0].Kind != MarkRelease {
		t.Errorf("marks %+v, want only the release inside the range", c.Marks)
	}
	if got := c.MarkKinds(); !slices.Equal(got, []string{MarkRelease}) {
		t.Errorf("legend mark kinds %v", got)
	}
	if !spec.HasData() {
		t.Error("a spec with points says it has no data")
	}
	empty := ChartSpec{Series: []SeriesSpec{{Name: "a", Style: "line", Points: []Point{{at(0), math.NaN()}}}, spec.Series[2]}}
	if empty.HasData() {
		t.Error("a spec with only gaps and a reference line says it has data")
	}
}
