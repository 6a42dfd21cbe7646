package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"math"
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
	pr, err := p.Store.Project(ctx, name)
	if err != nil {
		return err
	}
	v := views.ProjectView{Page: PageOf(c, name, "overview"), Now: now, Name: name, RepoPath: pr.RepoPath}
	latest, err := p.Store.LatestBaselineAnalysis(ctx, name)
	if err != nil && budgetgate.ErrorCode(err) != budgetgate.ENOTFOUND {
		return err
	}
	if v.Recent, err = p.Store.RecentAnalyses(ctx, name, 15); err != nil {
		return err
	}
	if v.Open, err = p.Store.Violations(ctx, app.ViolationFilter{Project: name, State: variant.ViolationOpen}); err != nil {
		return err
	}
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
	}
	if v.AskBoard, err = p.askBoard(ctx, name); err != nil {
		return err
	}
	if latest != nil {
		v.Latest = latest
		hist, err := p.Store.History(ctx, app.HistoryFilter{Project: name})
		if err != nil {
			return err
		}
		projections := variant.ProjectHistory(hist)
		for _, d := range latest.Analysis.Dimensions {
			v.Dimensions = append(v.Dimensions, dimensionPanel(d, hist, projections, now))
		}
	}
	return Render(c, http.StatusOK, views.Project(v))
}

// dimensionPanel builds one dimension's charts (one per budget, since
// budgets have their own limits), tables and projections.
func dimensionPanel(d variant.DimensionResult, hist []variant.FigurePoint, projections []variant.MetricProjection, now time.Time) views.DimensionPanel {
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
		panel.Charts = append(panel.Charts, views.BudgetChart{Budget: b, Chart: budgetChart(d.Name, b, metrics, hist, mine, now)})
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
// dimension, its soft and hard limits, and the projection of the metric
// nearest its limit.
func budgetChart(dim, budget string, metrics []variant.MetricResult, hist []variant.FigurePoint, proj map[string]variant.MetricProjection, now time.Time) views.Chart {
	series := map[string][]views.Point{}
	classes := map[string]string{}
	var order []string
	var from, last time.Time
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
		if _, ok := series[p.Metric]; !ok {
			order = append(order, p.Metric)
			classes[p.Metric] = "actual"
		}
		series[p.Metric] = append(series[p.Metric], views.Point{T: p.At, V: p.Delta})
	}
	// Metrics without any data draw a flat line at zero over the others.
	kept := order[:0]
	for _, m := range order {
		if slices.ContainsFunc(series[m], func(p views.Point) bool { return p.V != 0 }) {
			kept = append(kept, m)
		} else {
			delete(series, m)
		}
	}
	order = kept
	if len(metrics) == 0 {
		return views.Chart{}
	}
	soft, hard := metrics[0].SoftLimit, metrics[0].HardLimit
	to := last.Add(projectionHorizon)
	if from.IsZero() {
		from, to = now.Add(-24*time.Hour), now
	}
	// The projection shown is the metric's nearest to (or furthest over) its limit.
	summary := fmt.Sprintf("%s %s now %.2f%% (%s)", views.Label(metrics[0].Name), metrics[0].Variant, metrics[0].Delta, views.Limits(soft, hard))
	var best *variant.MetricProjection
	for _, m := range metrics {
		if pr, ok := proj[m.Name]; ok && (best == nil || closer(pr, *best)) {
			best = &pr
		}
	}
	if best != nil && !last.IsZero() {
		name := "projection (" + views.Label(best.Metric) + ")"
		end, v := to, best.Fitted+best.SlopePerDay*to.Sub(last).Hours()/24
		switch {
		case v > hard && best.SlopePerDay > 0 && best.Crosses != nil && best.Crosses.After(last):
			end, v = *best.Crosses, hard
		case v < 0 && best.SlopePerDay < 0:
			end, v = last.Add(time.Duration(-best.Fitted/best.SlopePerDay*24)*time.Hour), 0
		}
		series[name] = []views.Point{{T: last, V: best.Fitted}, {T: end, V: v}}
		classes[name] = "ideal"
		order = append(order, name)
		if best.Crosses != nil && !best.Over {
			summary += "; projected to cross " + fmt.Sprintf("%g%%", hard) + " on " + best.Crosses.UTC().Format(time.DateOnly)
		}
	}
	lines := []views.HLine{
		{Name: fmt.Sprintf("soft limit %g%%", soft), Class: "limit-soft", Y: soft, Label: fmt.Sprintf("soft %g%%", soft)},
		{Name: fmt.Sprintf("hard limit %g%%", hard), Class: "limit-hard", Y: hard, Label: fmt.Sprintf("hard %g%%", hard)},
	}
	// A top a multiple of four gives whole-number ticks.
	top := math.Ceil(hard*1.2/4) * 4
	c := views.NewChart(fmt.Sprintf("%s: delta (%%) over time, %s", dim, budget), from, to, 0, top, series, classes, order, lines)
	c.Summary = summary
	return c
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
	f.Limit = 500
	vs, err := p.Store.Violations(ctx, f)
	if err != nil {
		return err
	}
	ps, err := p.Store.Projects(ctx)
	if err != nil {
		return err
	}
	v := views.ViolationsView{Page: PageOf(c, "Violations", "violations"), Project: f.Project, State: f.State,
		States: variant.ViolationStates, Violations: vs}
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
		v.Chart = views.NewChart("Compliance score (%) over time", hist[0].At, hist[len(hist)-1].At, 0, 100,
			map[string][]views.Point{"compliance": pts}, map[string]string{"compliance": "actual"}, []string{"compliance"}, nil)
		v.Chart.Summary = "compliance now " + views.Pct(v.Current.Score)
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
