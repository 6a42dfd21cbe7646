package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/views"
)

// maxMarks bounds the releases and exceptions read to mark a chart.
const maxMarks = 500

// serviceMarks are the moments a service's charts mark: releases the gate
// decided, exceptions the board decided, and policy versions taking effect.
func serviceMarks(decisions []*errorbudget.Decision, excs []*ccb.Exception, history []app.PolicyVersion) []views.Mark {
	var marks []views.Mark
	for _, d := range decisions {
		verdict := "denied"
		if d.Approved {
			verdict = "approved"
		}
		marks = append(marks, views.Mark{T: d.DecidedAt, Kind: views.MarkRelease,
			Label: fmt.Sprintf("release %s %s %s, %s", d.Release.Service, d.Release.Version, verdict, views.When(d.DecidedAt))})
	}
	for _, e := range excs {
		if e.DecidedAt != nil {
			marks = append(marks, views.Mark{T: *e.DecidedAt, Kind: views.MarkException,
				Label: fmt.Sprintf("CCB request %d %s, %s", e.ID, e.Status, views.When(*e.DecidedAt))})
		}
	}
	for _, h := range history {
		marks = append(marks, views.Mark{T: h.ActivatedAt, Kind: views.MarkPolicy,
			Label: fmt.Sprintf("policy %s took effect (%s, by %s), %s", views.ShortVersion(h.Version), h.Origin, h.ActivatedBy, views.When(h.ActivatedAt))})
	}
	return marks
}

// burnDownChart is the budget left over the last span of the window, beside
// the ideal line along which a burn rate of 1 spends it exactly.
func burnDownChart(slo *errorbudget.SLO, hourly []app.SLIPoint, now time.Time, span time.Duration, marks []views.Mark) views.Chart {
	start := now.Add(-slo.Window)
	from := now.Add(-min(span, slo.Window))
	var counts []errorbudget.TimedCounts
	for _, h := range hourly {
		if !h.Time.Before(start) {
			counts = append(counts, errorbudget.TimedCounts{Time: h.Time, Counts: errorbudget.Counts{Good: h.Good, Total: h.Total}})
		}
	}
	var actual []views.Point
	for _, b := range errorbudget.BurnDown(slo, counts, now) {
		if !b.Time.Before(from) {
			actual = append(actual, views.Point{T: b.Time, V: b.RemainingPct})
		}
	}
	idealAt := func(t time.Time) float64 { return 100 * (1 - t.Sub(start).Hours()/slo.Window.Hours()) }
	title := "Error budget remaining (%) of the " + slo.WindowText + " window"
	if from.After(start) {
		title += ", its last " + views.Days(now.Sub(from))
	}
	if slo.Name != errorbudget.DefaultSLO {
		title = slo.Name + ": " + title
	}
	c := views.NewChart(views.ChartSpec{
		Title: title, From: from, To: now, YMin: 0, YMax: 100,
		Series: []views.SeriesSpec{
			{Name: "remaining", Style: "line", Points: actual},
			{Name: "ideal (burn rate 1)", Style: "ideal", Points: []views.Point{{T: from, V: idealAt(from)}, {T: now, V: 0}}},
		},
		Marks:  marks,
		YLabel: func(v float64) string { return fmt.Sprintf("%g%%", v) },
	})
	if n := len(actual); n > 0 {
		c.Summary = "budget remaining now " + views.Pct(actual[n-1].V)
	}
	return c
}

// burnRateChart is the burn rate hour by hour over the span, with the
// error rate it stands for beside each tick; hours without events are gaps.
func burnRateChart(slo *errorbudget.SLO, hourly []app.SLIPoint, now time.Time, span time.Duration, marks []views.Mark) views.ChartSpec {
	from := now.Add(-span)
	var pts []views.Point
	peak := 0.0
	for _, h := range hourly {
		if h.Time.Before(from) {
			continue
		}
		b := slo.BurnRateOf(errorbudget.Counts{Good: h.Good, Total: h.Total})
		pts = append(pts, views.Point{T: h.Time, V: b})
		if b > peak {
			peak = b
		}
	}
	return views.ChartSpec{
		Title: "Burn rate per hour (error rate in brackets), last " + views.Days(span), From: from, To: now, YMin: 0, YMax: 1,
		Series: []views.SeriesSpec{{Name: "burn rate", Style: "line", Points: pts}},
		Lines:  []views.HLine{{Name: "burn rate 1: the budget lasts the window", Class: "ideal", Y: 1, Label: "1x"}},
		Marks:  marks,
		YLabel: func(v float64) string {
			return fmt.Sprintf("%gx (%s%%)", v, views.TrimNumber(slo.ErrorRatePct(v), 3))
		},
		Summary: fmt.Sprintf("highest hourly burn rate %.2fx", peak),
	}
}

// sloCharts are an SLO's charts over a span, and the decisions they mark.
type sloCharts struct {
	burnDown, burnRate views.Chart // empty when there is nothing to draw
	decisions          []*errorbudget.Decision
}

// charts reads what an SLO's charts draw and mark, and draws them.
func (p *Pages) charts(ctx context.Context, service string, slo *errorbudget.SLO, m errorbudget.Metrics, history []app.PolicyVersion, now time.Time, span time.Duration) (sloCharts, error) {
	var out sloCharts
	hourly, err := p.Store.HourlySLI(ctx, service, slo.Name, now.Add(-max(span, slo.Window)), now)
	if err != nil {
		return out, err
	}
	if out.decisions, err = p.Store.Decisions(ctx, service, maxMarks); err != nil {
		return out, err
	}
	excs, err := p.Store.Exceptions(ctx, app.ExceptionFilter{Service: service, Limit: maxMarks})
	if err != nil {
		return out, err
	}
	marks := serviceMarks(out.decisions, excs, history)
	if m.TotalEvents > 0 {
		out.burnDown = burnDownChart(slo, hourly, now, span, marks)
	}
	if spec := burnRateChart(slo, hourly, now, span, marks); spec.HasData() {
		out.burnRate = views.NewChart(spec)
	}
	return out, nil
}
