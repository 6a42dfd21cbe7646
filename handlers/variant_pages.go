package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
)

// VariantPages serves the variant-budget pages: projects, violations,
// compliance, and the overview's projects part.
type VariantPages struct {
	Store VariantStore
	// Exceptions lists the project's variant exceptions, for their plans'
	// progress; nil shows none.
	Exceptions func(ctx context.Context, project string) ([]*ccb.Exception, error)
	Now        func() time.Time
	Log        *slog.Logger // one project's failure in a list; nil for slog's default
	// Gate answers a project's deployment gate, so that a blocked project
	// can be taken to the board from its page; nil offers no such form.
	Gate GateFunc
}

// recentAnalyses is how many analyses a page of the project's list shows.
const recentAnalyses = 15

// projectionHorizon is how far past the last analysis a chart draws the
// projection.
const projectionHorizon = 30 * 24 * time.Hour

// ProjectSummaries is the overview's projects part.
func (p *VariantPages) ProjectSummaries(ctx context.Context) ([]views.ProjectSummary, error) {
	ps, err := p.Store.Projects(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := p.Store.ViolationCounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []views.ProjectSummary
	for _, pr := range ps {
		latest, status, err := latestBaseline(ctx, p.Store, p.Log, pr.Name)
		if err != nil {
			return nil, err
		}
		s := views.ProjectSummary{Name: pr.Name, Status: status, Open: counts[pr.Name][variant.ViolationOpen]}
		if latest != nil {
			s.Commit, s.At, s.Compliance = latest.Commit, latest.CreatedAt, &latest.Compliance
			for _, d := range latest.Analysis.Dimensions {
				if len(d.Metrics) == 0 {
					continue
				}
				// Metrics come worst first: status, then delta.
				m := d.Metrics[0]
				s.Dimensions = append(s.Dimensions, views.DimensionFigure{Name: d.Name, Status: d.Status, Metric: m.Name, Variant: m.Variant,
					Delta: m.Delta, SoftLimit: m.SoftLimit, HardLimit: m.HardLimit})
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// Project handles GET /projects/:project.
func (p *VariantPages) Project(c echo.Context) error {
	ctx, now, name := c.Request().Context(), p.Now(), c.Param("project")
	span, ranges, err := chartRange(c, "dimensions")
	if err != nil {
		return err
	}
	pr, err := p.Store.Project(ctx, name)
	if err != nil {
		return err
	}
	v := views.ProjectView{Page: PageOf(c, name, "overview"), Now: now, Name: name, RepoPath: pr.RepoPath, Ranges: ranges}
	latest, err := p.Store.LatestBaselineAnalysis(ctx, name)
	if err != nil && budgetgate.ErrorCode(err) != budgetgate.ENOTFOUND {
		return err
	}
	before, err := pageCursor(c, "before")
	if err != nil {
		return err
	}
	if v.Recent, err = p.Store.AnalysesPage(ctx, name, before, recentAnalyses+1); err != nil {
		return err
	}
	if before > 0 {
		v.RecentPager.NewestHref = views.ProjectHref(name) + "#recent-analyses"
	}
	if len(v.Recent) > recentAnalyses {
		v.Recent = v.Recent[:recentAnalyses]
		v.RecentPager.OlderHref = views.WithCursor(views.ProjectHref(name), v.Recent[recentAnalyses-1].ID) + "#recent-analyses"
	}
	if v.Open, err = p.Store.Violations(ctx, app.ViolationFilter{Project: name, State: variant.ViolationOpen}); err != nil {
		return err
	}
	var marks []views.Mark
	if p.Exceptions != nil {
		excs, err := p.Exceptions(ctx, name)
		if err != nil {
			return err
		}
		var doc *variant.Analysis
		if latest != nil {
			doc = latest.Analysis
		}
		for _, e := range excs {
			v.Plans = append(v.Plans, e.Progress(doc, now)...)
		}
		marks = serviceMarks(nil, excs, nil)
	}
	if v.AskBoard, err = p.askBoard(ctx, name); err != nil {
		return err
	}
	if latest != nil {
		v.Latest = latest
		hist, err := p.Store.History(ctx, app.HistoryFilter{Project: name, From: now.Add(-span)})
		if err != nil {
			return err
		}
		projections := variant.ProjectHistory(hist)
		for _, d := range latest.Analysis.Dimensions {
			v.Dimensions = append(v.Dimensions, dimensionPanel(d, hist, projections, now, marks))
		}
	}
	return Render(c, http.StatusOK, views.Project(v))
}

// dimensionPanel builds one dimension's charts (one per budget, since
// budgets have their own limits), tables and projections.
func dimensionPanel(d variant.DimensionResult, hist []variant.FigurePoint, projections []variant.MetricProjection, now time.Time, marks []views.Mark) views.DimensionPanel {
	panel := views.DimensionPanel{Name: d.Name, Status: d.Status, Metrics: d.Metrics, Variants: d.Variants, Recommendations: d.Recommendations, InFile: d.InFile, CoreCoverage: d.CoreCoverage}
	var budgets []string
	for _, m := range d.Metrics {
		panel.MetricNames = append(panel.MetricNames, m.Name)
		if !slices.Contains(budgets, m.Budget) {
			budgets = append(budgets, m.Budget)
		}
	}
	mine := map[string]variant.MetricProjection{}
	for _, pr := range projections {
		// A metric nobody measures (all zero) projects nothing worth a line.
		if pr.Dimension == d.Name && (pr.SlopePerDay != 0 || pr.Fitted != 0) {
			mine[pr.Metric] = pr
			panel.Projections = append(panel.Projections, projectionLine(pr, now))
		}
	}
	for _, b := range budgets {
		var metrics []variant.MetricResult
		for _, m := range d.Metrics {
			if m.Budget == b {
				metrics = append(metrics, m)
			}
		}
		if chart, ok := budgetChart(d.Name, b, metrics, hist, mine, now, marks); ok {
			panel.Charts = append(panel.Charts, views.BudgetChart{Budget: b, Chart: chart})
		}
	}
	return panel
}

func projectionLine(pr variant.MetricProjection, now time.Time) views.ProjectionLine {
	l := views.ProjectionLine{Metric: pr.Metric, Status: variant.VariantPass}
	rate := fmt.Sprintf("%+.3f pp a day over the last %d baseline analyses", pr.SlopePerDay, pr.Points)
	switch {
	case pr.Over:
		l.Status = variant.VariantFail
		l.Text = fmt.Sprintf("over its hard limit of %g%% (trend line at %.2f%%); %s", pr.Limit, pr.Fitted, rate)
	case pr.Crosses != nil:
		l.Status = variant.VariantWarn
		l.Text = fmt.Sprintf("projected to cross its hard limit of %g%% on %s (%s); %s", pr.Limit, pr.Crosses.UTC().Format(time.DateOnly), views.Until(now, pr.Crosses), rate)
	default:
		l.Text = fmt.Sprintf("not heading for its hard limit of %g%%; %s", pr.Limit, rate)
	}
	return l
}

// budgetChart draws the delta over time of a budget's metrics in one
// dimension, its soft and hard limits, the projection of the metric
// nearest its limit, and the moments the limits changed. It is not drawn
// (false) when no metric of the budget has a figure: an empty chart says
// nothing.
func budgetChart(dim, budget string, metrics []variant.MetricResult, hist []variant.FigurePoint, proj map[string]variant.MetricProjection, now time.Time, marks []views.Mark) (views.Chart, bool) {
	series := map[string][]views.Point{}
	var order []string
	var from, last time.Time
	limits := map[time.Time]bool{}
	var prevSoft, prevHard float64
	for _, p := range hist {
		if p.Dimension != dim || p.Budget != budget {
			continue
		}
		if from.IsZero() || p.At.Before(from) {
			from = p.At
		}
		if p.At.After(last) {
			last = p.At
		}
		if (prevSoft != 0 || prevHard != 0) && (p.SoftLimit != prevSoft || p.HardLimit != prevHard) {
			limits[p.At] = true
		}
		prevSoft, prevHard = p.SoftLimit, p.HardLimit
		if _, ok := series[p.Metric]; !ok {
			order = append(order, p.Metric)
		}
		series[p.Metric] = append(series[p.Metric], views.Point{T: p.At, V: p.Delta})
	}
	var lines []views.SeriesSpec
	for _, m := range order {
		// A metric nobody measures (all zero) would draw a flat line at zero.
		if slices.ContainsFunc(series[m], func(p views.Point) bool { return p.V != 0 }) {
			lines = append(lines, views.SeriesSpec{Name: views.Label(m), Style: "line", Points: series[m]})
		}
	}
	if len(metrics) == 0 || len(lines) == 0 {
		return views.Chart{}, false
	}
	soft, hard := metrics[0].SoftLimit, metrics[0].HardLimit
	to := last.Add(projectionHorizon)
	// The projection shown is the metric's nearest to (or furthest over) its limit.
	summary := fmt.Sprintf("%s %s now %.2f%% (%s)", views.Label(metrics[0].Name), metrics[0].Variant, metrics[0].Delta, views.Limits(soft, hard))
	var best *variant.MetricProjection
	for _, m := range metrics {
		if pr, ok := proj[m.Name]; ok && (best == nil || closer(pr, *best)) {
			best = &pr
		}
	}
	if best != nil {
		end, v := to, best.Fitted+best.SlopePerDay*to.Sub(last).Hours()/24
		switch {
		case v > hard && best.SlopePerDay > 0 && best.Crosses != nil && best.Crosses.After(last):
			end, v = *best.Crosses, hard
		case v < 0 && best.SlopePerDay < 0:
			end, v = last.Add(time.Duration(-best.Fitted/best.SlopePerDay*24)*time.Hour), 0
		}
		lines = append(lines, views.SeriesSpec{Name: "projection of " + views.Label(best.Metric), Style: "projection",
			Points: []views.Point{{T: last, V: best.Fitted}, {T: end, V: v}}})
		if best.Crosses != nil && !best.Over {
			summary += "; projected to cross " + fmt.Sprintf("%g%%", hard) + " on " + best.Crosses.UTC().Format(time.DateOnly)
		}
	}
	for t := range limits {
		marks = append(marks, views.Mark{T: t, Kind: views.MarkPolicy, Label: "limits changed, " + views.When(t)})
	}
	c := views.NewChart(views.ChartSpec{
		Title: fmt.Sprintf("%s: delta (%%) over time, %s", dim, budget), From: from, To: to, YMin: 0, YMax: hard * 1.2,
		Series: lines,
		Lines: []views.HLine{
			{Name: fmt.Sprintf("soft limit %g%%", soft), Class: "limit-soft", Y: soft, Label: fmt.Sprintf("soft %g%%", soft)},
			{Name: fmt.Sprintf("hard limit %g%%", hard), Class: "limit-hard", Y: hard, Label: fmt.Sprintf("hard %g%%", hard)},
		},
		Marks:   marks,
		YLabel:  func(v float64) string { return views.TrimNumber(v, 2) + "%" },
		Summary: summary,
	})
	return c, true
}

// closer reports whether a is more urgent than b, by the domain's ranking.
func closer(a, b variant.MetricProjection) bool {
	return variant.CompareProjections(a.Projection, b.Projection) < 0
}

// ViolationsPage handles GET /violations?state=&project=.
func (p *VariantPages) ViolationsPage(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := violationFilter(ctx, p.Store, c)
	if err != nil {
		return err
	}
	if f.Before, err = pageCursor(c, "before"); err != nil {
		return err
	}
	f.Limit = listPageSize + 1
	vs, err := p.Store.Violations(ctx, f)
	if err != nil {
		return err
	}
	base := views.ViolationsHref(f.Project, f.State)
	var pager views.Pager
	if f.Before > 0 {
		pager.NewestHref = base
	}
	if len(vs) > listPageSize {
		vs = vs[:listPageSize]
		pager.OlderHref = views.WithCursor(base, vs[listPageSize-1].ID)
	}
	ps, err := p.Store.Projects(ctx)
	if err != nil {
		return err
	}
	v := views.ViolationsView{Page: PageOf(c, "Violations", "violations"), Project: f.Project, State: f.State,
		States: variant.ViolationStates, Violations: vs, Pager: pager}
	for _, pr := range ps {
		v.Projects = append(v.Projects, pr.Name)
	}
	asked := v.Projects
	if f.Project != "" {
		asked = []string{f.Project}
	}
	if v.AskBoards, err = p.askBoards(ctx, asked); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Violations(v))
}

// CompliancePage handles GET /projects/:project/compliance.
func (p *VariantPages) CompliancePage(c echo.Context) error {
	ctx, name := c.Request().Context(), c.Param("project")
	if _, err := p.Store.Project(ctx, name); err != nil {
		return err
	}
	hist, err := p.Store.ComplianceHistory(ctx, name)
	if err != nil {
		return err
	}
	v := views.ComplianceView{Page: PageOf(c, name+" compliance", "overview"), Name: name}
	if len(hist) > 0 {
		latest, err := p.Store.LatestBaselineAnalysis(ctx, name)
		if err != nil {
			return err
		}
		v.Latest = latest
		v.Current = &hist[len(hist)-1]
		var pts []views.Point
		for _, h := range hist {
			pts = append(pts, views.Point{T: h.At, V: h.Score})
		}
		v.Chart = views.NewChart(views.ChartSpec{
			Title: "Compliance score (%) over time", From: hist[0].At, To: hist[len(hist)-1].At, YMin: 0, YMax: 100,
			Series:  []views.SeriesSpec{{Name: "compliance", Style: "line", Points: pts}},
			YLabel:  func(v float64) string { return views.TrimNumber(v, 1) + "%" },
			Summary: "compliance now " + views.Pct(v.Current.Score),
		})
		v.History = slices.Clone(hist)
		slices.Reverse(v.History)
	}
	return Render(c, http.StatusOK, views.Compliance(v))
}

// ComplianceCSV handles GET /projects/:project/compliance.csv.
func (p *VariantPages) ComplianceCSV(c echo.Context) error {
	name := c.Param("project")
	if _, err := p.Store.Project(c.Request().Context(), name); err != nil {
		return err
	}
	return complianceCSV(c, p.Store, name)
}
