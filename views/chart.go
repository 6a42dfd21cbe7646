package views

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Chart is a server-rendered SVG line chart: series of points over time,
// with optional horizontal reference lines (limits).
type Chart struct {
	Title   string
	Width   int
	Height  int
	Series  []Series
	HLines  []HLine
	YTicks  []Tick
	XTicks  []Tick
	Summary string // a text alternative for screen readers
}

// Series is one polyline; Class picks its style.
type Series struct {
	Name   string
	Class  string
	Points string // SVG points attribute
}

// HLine is a horizontal reference line, such as a hard limit.
type HLine struct {
	Name  string
	Class string
	Y     float64
	Label string
}

// Tick is an axis label at a position.
type Tick struct {
	Pos   float64
	Label string
}

// Point is a value at a moment.
type Point struct {
	T time.Time
	V float64
}

const padL, padR, padT, padB = 48.0, 12.0, 10.0, 24.0

// NewChart scales the series into a width x height SVG. lines are drawn
// across; yMin and yMax widen to fit the data and the lines.
func NewChart(title string, from, to time.Time, yMin, yMax float64, series map[string][]Point, classes map[string]string, order []string, lines []HLine) Chart {
	c := Chart{Title: title, Width: 720, Height: 240}
	for _, name := range order {
		for _, p := range series[name] {
			yMin, yMax = math.Min(yMin, p.V), math.Max(yMax, p.V)
		}
	}
	for _, l := range lines {
		yMin, yMax = math.Min(yMin, l.Y), math.Max(yMax, l.Y)
	}
	if yMax == yMin {
		yMax = yMin + 1
	}
	w, h := float64(c.Width)-padL-padR, float64(c.Height)-padT-padB
	span := to.Sub(from).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return padL + w*t.Sub(from).Seconds()/span }
	y := func(v float64) float64 { return padT + h*(1-(v-yMin)/(yMax-yMin)) }
	for _, name := range order {
		var b strings.Builder
		for i, p := range series[name] {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x(p.T), y(p.V))
		}
		c.Series = append(c.Series, Series{Name: name, Class: classes[name], Points: b.String()})
	}
	for _, l := range lines {
		l.Y = y(l.Y)
		c.HLines = append(c.HLines, l)
	}
	for i := 0; i <= 4; i++ {
		v := yMin + (yMax-yMin)*float64(i)/4
		c.YTicks = append(c.YTicks, Tick{Pos: y(v), Label: fmt.Sprintf("%.0f", v)})
	}
	for i := 0; i <= 4; i++ {
		t := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / 4))
		c.XTicks = append(c.XTicks, Tick{Pos: x(t), Label: t.UTC().Format("Jan 2")})
	}
	return c
}

// Right is the x of the plot's right edge.
func (c Chart) Right() float64 { return float64(c.Width) - padR }

// Left is the x of the plot's left edge.
func (c Chart) Left() float64 { return padL }

// Bottom is the y of the x axis.
func (c Chart) Bottom() float64 { return float64(c.Height) - padB }

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

func legendMark(class string) string {
	if class == "ideal" {
		return "- -"
	}
	return "——"
}
