package views

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Chart is a server-rendered SVG line chart: series of points over time,
// horizontal reference lines (limits) and vertical marks (releases,
// exceptions, policy changes). Series are told apart without colour: each
// has its own dash pattern, shown again in the legend, and its name is
// written at its line's end.
type Chart struct {
	Title   string
	Width   int
	Height  int
	Series  []Series
	HLines  []HLine
	Marks   []Mark
	YTicks  []Tick
	XTicks  []Tick
	Summary string // a text alternative for screen readers
}

// Series is one line, drawn as one polyline per run of points without a gap.
type Series struct {
	Name     string
	Class    string
	Segments []string // SVG points attributes
	EndX     float64  // where the line ends
	LineEndY float64
	EndY     float64 // where its name is written, moved apart from the others
}

// HLine is a horizontal reference line, such as a hard limit.
type HLine struct {
	Name  string
	Class string
	Y     float64
	Label string
}

// Mark is a moment worth seeing against the lines: a release, an
// exception, a policy change. Kind picks its letter and style.
type Mark struct {
	T     time.Time
	Kind  string // MarkRelease, MarkException, MarkPolicy
	Label string // what happened, shown on hover and to screen readers
	X     float64
}

// Mark kinds.
const (
	MarkRelease   = "release"
	MarkException = "exception"
	MarkPolicy    = "policy"
)

// MarkLetter is the letter a mark carries on the chart, explained in the legend.
func MarkLetter(kind string) string {
	switch kind {
	case MarkRelease:
		return "R"
	case MarkException:
		return "E"
	}
	return "P"
}

// MarkKinds are the kinds of marks on c, in a fixed order, for the legend.
func (c Chart) MarkKinds() []string {
	var out []string
	for _, k := range []string{MarkRelease, MarkException, MarkPolicy} {
		if slices.ContainsFunc(c.Marks, func(m Mark) bool { return m.Kind == k }) {
			out = append(out, k)
		}
	}
	return out
}

// Tick is an axis label at a position.
type Tick struct {
	Pos   float64
	Label string
}

// Point is a value at a moment; a NaN value breaks the line (no data).
type Point struct {
	T time.Time
	V float64
}

// SeriesSpec is a line to draw. Style is "line" (each gets its own dash
// pattern), "ideal" or "projection" (thin and dashed, for reference).
type SeriesSpec struct {
	Name   string
	Style  string
	Points []Point
}

// ChartSpec is what a chart shows.
type ChartSpec struct {
	Title      string
	From, To   time.Time
	YMin, YMax float64 // shown at least; the axis widens to fit data and lines
	Series     []SeriesSpec
	Lines      []HLine
	Marks      []Mark
	// YLabel writes a tick value; nil writes the number alone.
	YLabel  func(float64) string
	Summary string
}

const (
	chartWidth, chartHeight   = 640, 260
	padL, padT, padB          = 80.0, 14.0, 24.0
	padRLabels, padRNoLabels  = 150.0, 12.0
	labelGap, maxLabelLength  = 13.0, 24
	lineStyles                = 6 // line0 .. line5 in the stylesheet
	styleLine, styleReference = "line", "ideal"
)

// HasData reports whether any series has a point to draw: a chart
// without one is not shown.
func (s ChartSpec) HasData() bool {
	for _, sr := range s.Series {
		if sr.Style == styleLine && slices.ContainsFunc(sr.Points, func(p Point) bool { return !math.IsNaN(p.V) }) {
			return true
		}
	}
	return false
}

// NewChart scales the spec into an SVG of fixed size.
func NewChart(s ChartSpec) Chart {
	c := Chart{Title: s.Title, Width: chartWidth, Height: chartHeight, Summary: s.Summary}
	yMin, yMax := s.YMin, s.YMax
	for _, sr := range s.Series {
		for _, p := range sr.Points {
			if !math.IsNaN(p.V) {
				yMin, yMax = math.Min(yMin, p.V), math.Max(yMax, p.V)
			}
		}
	}
	for _, l := range s.Lines {
		yMin, yMax = math.Min(yMin, l.Y), math.Max(yMax, l.Y)
	}
	ticks, yMin, yMax := niceTicks(yMin, yMax)
	right := float64(c.Width) - padRNoLabels
	if len(s.Series) > 0 {
		right = float64(c.Width) - padRLabels
	}
	w, h := right-padL, float64(c.Height)-padT-padB
	span := s.To.Sub(s.From).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return padL + w*t.Sub(s.From).Seconds()/span }
	y := func(v float64) float64 { return padT + h*(1-(v-yMin)/(yMax-yMin)) }
	lines := 0
	for _, sr := range s.Series {
		out := Series{Name: sr.Name, Class: sr.Style}
		if sr.Style == styleLine {
			out.Class = fmt.Sprintf("line%d", lines%lineStyles)
			lines++
		}
		var b strings.Builder
		for _, p := range sr.Points {
			if math.IsNaN(p.V) {
				out.Segments = appendSegment(out.Segments, &b)
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			out.EndX, out.EndY = x(p.T), y(p.V)
			fmt.Fprintf(&b, "%.1f,%.1f", out.EndX, out.EndY)
		}
		out.Segments = appendSegment(out.Segments, &b)
		out.LineEndY = out.EndY
		if len(out.Segments) > 0 {
			c.Series = append(c.Series, out)
		}
	}
	spreadLabels(c.Series, padT, float64(c.Height)-padB)
	for _, l := range s.Lines {
		l.Y = y(l.Y)
		c.HLines = append(c.HLines, l)
	}
	for _, m := range s.Marks {
		if m.T.Before(s.From) || m.T.After(s.To) {
			continue
		}
		m.X = x(m.T)
		c.Marks = append(c.Marks, m)
	}
	label := s.YLabel
	if label == nil {
		label = func(v float64) string { return TrimNumber(v, 6) }
	}
	for _, v := range ticks {
		c.YTicks = append(c.YTicks, Tick{Pos: y(v), Label: label(v)})
	}
	for i := 0; i <= 4; i++ {
		t := s.From.Add(time.Duration(float64(s.To.Sub(s.From)) * float64(i) / 4))
		c.XTicks = append(c.XTicks, Tick{Pos: x(t), Label: t.UTC().Format("Jan 2")})
	}
	return c
}

// appendSegment ends the run of points in b, if any.
func appendSegment(segs []string, b *strings.Builder) []string {
	if b.Len() == 0 {
		return segs
	}
	segs = append(segs, b.String())
	b.Reset()
	return segs
}

// spreadLabels moves the line-end labels apart so that no two overlap,
// keeping them inside [top, bottom].
func spreadLabels(series []Series, top, bottom float64) {
	idx := make([]int, len(series))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(series[a].EndY, series[b].EndY) })
	prev := top - labelGap
	for _, i := range idx {
		series[i].EndY = math.Max(series[i].EndY, prev+labelGap)
		prev = series[i].EndY
	}
	// Pushed past the bottom: shift the stack back up.
	for k := len(idx) - 1; k >= 0; k-- {
		i := idx[k]
		limit := bottom - float64(len(idx)-1-k)*labelGap
		if series[i].EndY <= limit {
			break
		}
		series[i].EndY = limit
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// niceTicks picks about five round tick values (steps of 1, 2, 2.5 or 5
// times a power of ten) covering [lo, hi], and the axis range they span.
func niceTicks(lo, hi float64) ([]float64, float64, float64) {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	// Round away float error (3 x 0.1 = 0.30000000000000004) to the
	// step's decimals.
	scale := math.Pow(10, math.Max(0, 2-math.Floor(math.Log10(step))))
	round := func(v float64) float64 { return math.Round(v*scale) / scale }
	first, last := math.Floor(lo/step), math.Ceil(hi/step)
	var ticks []float64
	for k := first; k <= last; k++ {
		ticks = append(ticks, round(k*step))
	}
	return ticks, round(first * step), round(last * step)
}

// EndLabel is a series' name as written at its line's end, shortened to fit.
func (s Series) EndLabel() string {
	r := []rune(s.Name)
	if len(r) <= maxLabelLength {
		return s.Name
	}
	return string(r[:maxLabelLength-1]) + "…"
}

// Right is the x of the plot's right edge.
func (c Chart) Right() float64 {
	if len(c.Series) > 0 {
		return float64(c.Width) - padRLabels
	}
	return float64(c.Width) - padRNoLabels
}

// Left is the x of the plot's left edge.
func (c Chart) Left() float64 { return padL }

// Top is the y of the plot's top edge.
func (c Chart) Top() float64 { return padT }

// Bottom is the y of the x axis.
func (c Chart) Bottom() float64 { return float64(c.Height) - padB }

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// markPlural names the marks of a kind in the legend: "releases".
func markPlural(kind string) string {
	if kind == MarkPolicy {
		return " changes"
	}
	return "s"
}

// RangeLinks offer a chart's spans as links: ?range=7d and so on.
type RangeLinks struct {
	Current string
	Options []string
	Anchor  string // the id the links return to
}

// Href is the link to range r.
func (r RangeLinks) Href(name string) string { return "?range=" + name + "#" + r.Anchor }

// rangeText writes "7d" as "7 days".
func rangeText(name string) string { return strings.TrimSuffix(name, "d") + " days" }

// Days writes a span in whole days: "7 days".
func Days(d time.Duration) string {
	n := int(d.Round(24*time.Hour).Hours() / 24)
	if n == 1 {
		return "day"
	}
	return fmt.Sprintf("%d days", n)
}

// TrimNumber writes v with at most prec significant decimals and no
// trailing zeros: 0.2, 1.5, 0.05.
func TrimNumber(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.ContainsRune(s, '.') {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// ShortVersion shortens a policy version for a label: "sha256:2fa5e11c".
func ShortVersion(v string) string {
	if len(v) > 15 {
		return v[:15]
	}
	return v
}
