package errorbudget

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ForecastWindow is the burn-rate window the exhaustion forecast projects
// with (see docs/BUDGET_MATH.md, Projected exhaustion): long enough not to
// swing with every spike, short enough to follow a change in the trend.
const ForecastWindow = "6h"

// StatusReason names what set a service's status, with the figure and the
// bound it met, so that nobody has to work out why a service is critical:
// "critical: 1h burn rate 15.99x >= 5x". Where both bounds of the state
// hold, both are named.
func (p *Policy) StatusReason(m Metrics) string {
	switch m.Status {
	case StatusUnknown:
		return "unknown: " + m.Error
	case StatusNoData:
		return "no data: no events in the last " + m.Window
	case StatusHealthy:
		return "healthy: " + strings.Join(p.healthyBounds(m), " and ")
	}
	g := p.Gates[m.Status]
	if g == nil {
		return string(m.Status)
	}
	var met []string
	if t := g.EnterRemaining; t != nil && t.Holds(m.RemainingPct) {
		met = append(met, p.remainingFact(m.RemainingPct, *t))
	}
	if t := g.EnterBurn; t != nil && t.Holds(m.BurnRate) {
		met = append(met, p.burnFact(m.BurnRate, *t))
	}
	return string(m.Status) + ": " + strings.Join(met, " and ")
}

// healthyBounds are the bounds a healthy service keeps: above the first
// remaining bound of a worse state and below the first burn bound.
func (p *Policy) healthyBounds(m Metrics) []string {
	var out []string
	for _, s := range severityOrder[1:] {
		if t := p.Gates[s].EnterRemaining; t != nil {
			out = append(out, p.remainingFact(m.RemainingPct, complementOf(*t)))
			break
		}
	}
	for _, s := range severityOrder[1:] {
		if t := p.Gates[s].EnterBurn; t != nil {
			out = append(out, p.burnFact(m.BurnRate, complementOf(*t)))
			break
		}
	}
	return out
}

func (p *Policy) remainingFact(v float64, t Threshold) string {
	return "budget remaining " + figureMeeting(v, t, "%") + " " + t.Op + " " + plainNumber(t.Value) + "%"
}

func (p *Policy) burnFact(v float64, t Threshold) string {
	return p.BurnWindowText + " burn rate " + figureMeeting(v, t, "x") + " " + t.Op + " " + plainNumber(t.Value) + "x"
}

// figureMeeting writes v with as few decimals as show that it meets t (at
// least two for a burn rate, one for a percentage): 49.96% rounded to
// "50.0%" would read as not below 50%.
func figureMeeting(v float64, t Threshold, unit string) string {
	min := 1
	if unit == "x" {
		min = 2
	}
	for prec := min; prec < 6; prec++ {
		s := strconv.FormatFloat(v, 'f', prec, 64)
		if r, err := strconv.ParseFloat(s, 64); err == nil && t.Holds(r) {
			return s + unit
		}
	}
	return strconv.FormatFloat(v, 'g', -1, 64) + unit
}

func plainNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// CriteriaJoin is the word between a state's criteria lines: a service
// enters any state but healthy when one of them holds, and is healthy only
// while all of them hold.
func CriteriaJoin(s Status) string {
	if s == StatusHealthy {
		return "AND"
	}
	return "OR"
}

// HasData reports whether the burn window named w held any event; a burn
// rate of 0 over an empty window means no data, not a service at rest.
func (m Metrics) HasData(w string) bool {
	for _, n := range m.NoDataWindows {
		if n == w {
			return false
		}
	}
	return m.Status != StatusNoData && m.Status != StatusUnknown
}

// Title is an escalation as people say it: "budget below 25%" for
// budget_25pct, "budget exhausted" for budget_exhausted.
func (e Escalation) Title() string {
	if e.Name == ExhaustedEscalation {
		return "budget exhausted"
	}
	return "budget below " + plainNumber(e.ThresholdPct) + "%"
}

// Readable turns a policy key into words: "feature_freeze_and_postmortem"
// reads "feature freeze and postmortem".
func Readable(key string) string { return strings.ReplaceAll(key, "_", " ") }

// Message is what an escalation tells each role it notifies; subject
// names the SLO ("checkout/latency", or the service alone for its only SLO).
func (e Escalation) Message(subject string, m Metrics) string {
	return fmt.Sprintf("%s: error %s (%.1f%% remaining, status %s). Action: %s.",
		subject, e.Title(), m.RemainingPct, Readable(string(m.Status)), Readable(e.Action))
}

// BurnRateOf is how fast counts c spend this SLO's budget: their error
// rate over the error rate the SLO allows. An interval without events has
// no burn rate: NaN, so that a chart leaves a gap rather than drawing 0.
func (s *SLO) BurnRateOf(c Counts) float64 {
	if c.Total == 0 {
		return math.NaN()
	}
	return burnRate(c, budgetShare(s.Objective))
}

// ErrorRatePct is the error rate, in percent, that burns this SLO's budget
// at rate b.
func (s *SLO) ErrorRatePct(b float64) float64 {
	f, _ := budgetShare(s.Objective).Float64()
	return b * f * 100
}
