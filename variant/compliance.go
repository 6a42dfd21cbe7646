package variant

import (
	"slices"
	"time"
)

// Compliance is the share of (dimension, metric) pairs within their soft
// limits (see docs/BUDGET_MATH.md, Compliance and projection).
type Compliance struct {
	Score  float64 `json:"score"` // percent, two decimals
	Within int     `json:"within"`
	Pairs  int     `json:"pairs"`
}

// ComplianceOf scores an analysis: the percentage of its (dimension,
// metric) figures at or under their soft limit. An analysis with no
// figures breaks no limit: 100.
func ComplianceOf(a *Analysis) Compliance {
	var c Compliance
	for _, dr := range a.Dimensions {
		for _, mr := range dr.Metrics {
			c.Pairs++
			if WithinSoft(mr.Delta, mr.SoftLimit) {
				c.Within++
			}
		}
	}
	c.Score = 100
	if c.Pairs > 0 {
		c.Score = Round2(100 * float64(c.Within) / float64(c.Pairs))
	}
	return c
}

// TrendPoint is a figure at a moment: a dimension's delta for one metric
// at one baseline analysis.
type TrendPoint struct {
	Time  time.Time
	Value float64
}

// Projection is a least-squares line through recent figures and where it
// meets a limit.
type Projection struct {
	Points      int        `json:"points"`
	SlopePerDay float64    `json:"slope_per_day"` // percentage points a day
	Fitted      float64    `json:"fitted"`        // the line's value at the last point
	Limit       float64    `json:"limit"`
	Crosses     *time.Time `json:"crosses_at"` // when the line reaches the limit; nil if it never does
	Over        bool       `json:"over"`       // the line is above the limit at the last point already
}

// MinProjectionPoints is how many figures a projection needs.
const MinProjectionPoints = 3

// maxProjectionDays bounds how far ahead a crossing is reported.
const maxProjectionDays = 10 * 365

// ProjectCrossing fits a line (least squares, time in days) through
// points and says when it reaches limit. It is false when there are fewer
// than MinProjectionPoints points or they all share one moment. A flat or
// falling line under the limit never crosses it; a line already over it
// reports the moment it went over, which may be before the last point.
func ProjectCrossing(points []TrendPoint, limit float64) (Projection, bool) {
	if len(points) < MinProjectionPoints {
		return Projection{}, false
	}
	pts := slices.Clone(points)
	slices.SortStableFunc(pts, func(x, y TrendPoint) int { return x.Time.Compare(y.Time) })
	t0 := pts[0].Time
	day := func(t time.Time) float64 { return t.Sub(t0).Hours() / 24 }
	var sx, sy float64
	for _, p := range pts {
		sx += day(p.Time)
		sy += p.Value
	}
	n := float64(len(pts))
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for _, p := range pts {
		dx := day(p.Time) - mx
		sxy += dx * (p.Value - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return Projection{}, false
	}
	slope := sxy / sxx
	last := pts[len(pts)-1].Time
	pr := Projection{Points: len(pts), SlopePerDay: slope, Limit: limit}
	pr.Fitted = my + slope*(day(last)-mx)
	pr.Over = pr.Fitted > limit
	if slope == 0 {
		return pr, true
	}
	if !pr.Over && slope < 0 {
		return pr, true
	}
	if pr.Over && slope < 0 {
		// Falling but still over: it went over before any point we have.
		return pr, true
	}
	x := mx + (limit-my)/slope // days after t0 where the line meets the limit
	if x-day(last) > maxProjectionDays {
		return pr, true // so slow it says nothing
	}
	at := t0.Add(time.Duration(x * 24 * float64(time.Hour)))
	pr.Crosses = &at
	return pr, true
}
