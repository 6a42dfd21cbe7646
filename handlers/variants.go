package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/variant"
	"github.com/labstack/echo/v4"
)

// VariantStore is what the variant-budget API and pages need from storage.
type VariantStore interface {
	Idempotent(ctx context.Context, idem *app.Idempotency, write func(tx app.Tx) (app.Reply, error)) (app.Reply, bool, error)
	Projects(ctx context.Context) ([]*app.Project, error)
	Project(ctx context.Context, name string) (*app.Project, error)
	LatestBaselineAnalysis(ctx context.Context, project string) (*variant.ProjectAnalysis, error)
	RecentAnalyses(ctx context.Context, project string, limit int) ([]*variant.ProjectAnalysis, error)
	AnalysesPage(ctx context.Context, project string, before int64, limit int) ([]*variant.ProjectAnalysis, error)
	History(ctx context.Context, f app.HistoryFilter) ([]variant.FigurePoint, error)
	Violations(ctx context.Context, f app.ViolationFilter) ([]variant.TrackedViolation, error)
	UnresolvedBaselineViolations(ctx context.Context, project string) ([]variant.TrackedViolation, error)
	ViolationCounts(ctx context.Context) (map[string]map[string]int, error)
	ComplianceHistory(ctx context.Context, project string) ([]variant.ComplianceRecord, error)
}

// Variants serves the variant-budget API (see docs/API.md, Variant budgets; docs/BUDGET_MATH.md, Compliance and projection).
type Variants struct {
	Store     VariantStore
	Analyses  *app.Analyses // recording analyses and the deployment gate
	PublicURL string        // links in answers
	Now       func() time.Time
	Log       *slog.Logger // nil: slog.Default()
}

// postedAnalysis is form (a) of POST /api/v1/budget/analyze: the document
// `budgetgate analyze --format json` prints, and optionally where CI built it.
type postedAnalysis struct {
	variant.Analysis
	// Branch is the branch CI built; the commit is on the baseline when it
	// is the analysis's baseline.
	Branch string `json:"branch,omitempty"`
	// OnBaseline says outright whether the commit is on the baseline branch.
	OnBaseline *bool `json:"on_baseline,omitempty"`
}

// analyzeAnswer is the answer to POST /api/v1/budget/analyze.
type analyzeAnswer struct {
	AnalysisID     int64                      `json:"analysis_id"`
	Project        string                     `json:"project"`
	Commit         string                     `json:"commit"`
	CommitSHA      string                     `json:"commit_sha"`
	Baseline       string                     `json:"baseline"`
	BaselineCommit string                     `json:"baseline_commit,omitempty"`
	OnBaseline     bool                       `json:"on_baseline"`
	Status         string                     `json:"status"`          // pass, warn, blocked or excepted
	AnalysisStatus string                     `json:"analysis_status"` // before exceptions
	Source         string                     `json:"source"`
	Compliance     variant.Compliance         `json:"compliance"`
	Dimensions     []variant.DimensionResult  `json:"dimensions"`
	Violations     []variant.TrackedViolation `json:"violations"`
	Resolved       []variant.TrackedViolation `json:"resolved,omitempty"`
	ExceptionID    *int64                     `json:"exception_id,omitempty"`
	CCBRequest     *app.CCBLink               `json:"ccb_request,omitempty"`
	// CCBRequestError says why a blocked analysis has no CCB request: it
	// is stored as blocked all the same, and the gate stays closed.
	CCBRequestError string `json:"ccb_request_error,omitempty"`
	// Note says why the analysis was not recorded as the baseline it
	// claimed to be.
	Note string `json:"note,omitempty"`
	URL  string `json:"url"`
}

// PostAnalyze handles POST /api/v1/budget/analyze in both forms: a complete
// analysis posted by CI, or {"project", "commit_sha", "baseline"} naming a
// revision of a repository the server is configured with.
func (v *Variants) PostAnalyze(c echo.Context) error {
	ctx := c.Request().Context()
	body, err := readBody(c)
	if err != nil {
		return err
	}
	req, err := decodeAnalyzeBody(body)
	if err != nil {
		return err
	}
	var a *variant.Analysis
	var base bool
	var note string
	source := app.SourceCI
	if req.isAnalysis() {
		var claimed bool
		if a, claimed, err = req.posted(); err != nil {
			return err
		}
		if base, note, err = v.Analyses.PostedBaseline(ctx, a, claimed, HasScope(c, budgetgate.ScopeBaseline)); err != nil {
			return err
		}
	} else {
		source = app.SourceServer
		if a, base, err = v.Analyses.AnalyzeRepository(ctx, req.repositoryRequest()); err != nil {
			return err
		}
	}
	idem, err := idempotency(c, "analyze:"+a.Project, body)
	if err != nil {
		return err
	}
	in := app.Recording{Analysis: a, OnBaseline: base, Source: source, Actor: Actor(c), Requester: Requester(c)}
	r, replayed, err := v.Analyses.Record(ctx, in, idem, func(rec *app.Recorded) (app.Reply, error) {
		saved := rec.Saved
		ans := analyzeAnswer{
			AnalysisID: saved.ID, Project: a.Project, Commit: a.Commit, CommitSHA: a.Commit, Baseline: a.Baseline,
			BaselineCommit: a.BaselineCommit, OnBaseline: base, Status: saved.Status, AnalysisStatus: a.Status, Source: source,
			Compliance: saved.Compliance, Dimensions: a.Dimensions, Violations: saved.Violations, Resolved: saved.Resolved, URL: rec.Link,
			Note: note,
		}
		if ans.Violations == nil {
			ans.Violations = []variant.TrackedViolation{}
		}
		if rec.CCBRequestError != nil {
			ans.CCBRequestError = "the CCB request could not be opened (" + budgetgate.ErrorMessage(rec.CCBRequestError) +
				"); the analysis is stored as blocked: open one with POST /api/v1/exceptions and its analysis_id"
		} else if rec.CCBRequest != nil {
			ans.CCBRequest, ans.ExceptionID = rec.CCBRequest, &rec.CCBRequest.ID
		}
		out, err := json.Marshal(ans)
		return app.Reply{Body: out, Created: true}, err
	})
	if err != nil {
		return err
	}
	return replyJSON(c, http.StatusCreated, r, replayed)
}

// analyzeBody is either form of POST /api/v1/budget/analyze, decoded once:
// a posted analysis, or {"project", "commit_sha", "baseline"}, whose two
// keys besides commit_sha an analysis has too.
type analyzeBody struct {
	postedAnalysis
	CommitSHA string `json:"commit_sha"`
}

// decodeAnalyzeBody decodes the body strictly, once, and refuses a key that
// belongs to the other form than the one the body is.
func decodeAnalyzeBody(body []byte) (*analyzeBody, error) {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] != '{' {
		return nil, &budgetgate.Error{Code: budgetgate.EBADREQUEST, Message: "want a JSON object: an analysis, or {\"project\", \"commit_sha\", \"baseline\"}"}
	}
	var req analyzeBody
	if err := decodeStrict(body, &req); err != nil {
		// encoding/json names fields of the embedded document by its type.
		if e, ok := err.(*budgetgate.Error); ok {
			e.Field = strings.TrimPrefix(e.Field, "Analysis.")
		}
		return nil, err
	}
	if req.isAnalysis() && req.CommitSHA != "" {
		return nil, budgetgate.FieldErrorf("commit_sha", "unknown field: a posted analysis names its commit in \"commit\"")
	}
	if !req.isAnalysis() {
		rest := req.postedAnalysis
		rest.Project, rest.Baseline = "", ""
		if key := firstSetKey(reflect.ValueOf(rest)); key != "" {
			return nil, budgetgate.FieldErrorf(key, "unknown field: a request to analyse a configured repository has only project, commit_sha and baseline (a posted analysis needs commit and dimensions)")
		}
	}
	return &req, nil
}

// firstSetKey names the JSON key of the first field of struct v (embedded
// structs included) that is not its zero value, "" if none is set.
func firstSetKey(v reflect.Value) string {
	for i := range v.NumField() {
		f, field := v.Type().Field(i), v.Field(i)
		if f.Anonymous {
			if key := firstSetKey(field); key != "" {
				return key
			}
			continue
		}
		if !field.IsZero() {
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			return key
		}
	}
	return ""
}

// isAnalysis tells the forms apart: an analysis has dimensions or a commit.
func (req *analyzeBody) isAnalysis() bool {
	return req.Dimensions != nil || req.Commit != ""
}

func (req *analyzeBody) repositoryRequest() app.RepositoryRequest {
	return app.RepositoryRequest{Project: req.Project, CommitSHA: req.CommitSHA, Baseline: req.Baseline}
}

// posted checks and re-evaluates an analysis posted by CI.
func (req *analyzeBody) posted() (*variant.Analysis, bool, error) {
	p := &req.postedAnalysis
	if p.Branch != "" {
		if err := variant.CheckName("branch", p.Branch); err != nil {
			return nil, false, err
		}
	}
	a := &p.Analysis
	if a.Dimensions != nil && a.Violations == nil {
		a.Violations = []variant.Violation{}
	}
	if err := a.Validate(); err != nil {
		return nil, false, err
	}
	a.Reevaluate()
	base := a.OfBaseline()
	switch {
	case p.OnBaseline != nil:
		base = *p.OnBaseline
	case p.Branch != "":
		base = p.Branch == a.Baseline
	}
	return a, base, nil
}

// projectParam returns the project a GET names, or the only one there is:
// the only project, else the only configured repository's.
func (v *Variants) projectParam(c echo.Context) (string, error) {
	return resolveProject(c.Request().Context(), v.Store, c.QueryParam("project"))
}

func resolveProject(ctx context.Context, store VariantStore, name string) (string, error) {
	if name != "" {
		if _, err := store.Project(ctx, name); err != nil {
			return "", err
		}
		return name, nil
	}
	ps, err := store.Projects(ctx)
	if err != nil {
		return "", err
	}
	var names, repos []string
	for _, p := range ps {
		names = append(names, p.Name)
		if p.RepoPath != "" {
			repos = append(repos, p.Name)
		}
	}
	switch {
	case len(names) == 1:
		return names[0], nil
	case len(repos) == 1:
		return repos[0], nil
	case len(names) == 0:
		return "", budgetgate.Errorf(budgetgate.ENOTFOUND, "no project has been analysed yet")
	}
	return "", budgetgate.FieldErrorf("project", "required: there are %d projects (%s)", len(names), strings.Join(names, ", "))
}

// dimensionStatus is one dimension in GET /api/v1/budget/status.
type dimensionStatus struct {
	Name        string                     `json:"name"`
	Status      string                     `json:"status"`
	Metrics     []variant.MetricResult     `json:"metrics"`
	Projections []variant.MetricProjection `json:"projections"`
}

// Status handles GET /api/v1/budget/status: the latest evaluation of each
// dimension on the project's baseline branch, with projections.
func (v *Variants) Status(c echo.Context) error {
	ctx := c.Request().Context()
	project, err := v.projectParam(c)
	if err != nil {
		return err
	}
	pa, err := v.Store.LatestBaselineAnalysis(ctx, project)
	if err != nil {
		return err
	}
	hist, err := v.Store.History(ctx, app.HistoryFilter{Project: project, Limit: historyForProjection})
	if err != nil {
		return err
	}
	proj := variant.ProjectHistory(hist)
	open, err := v.Store.UnresolvedBaselineViolations(ctx, project)
	if err != nil {
		return err
	}
	dims := []dimensionStatus{}
	for _, d := range pa.Analysis.Dimensions {
		ds := dimensionStatus{Name: d.Name, Status: d.Status, Metrics: d.Metrics, Projections: []variant.MetricProjection{}}
		for _, p := range proj {
			if p.Dimension == d.Name {
				ds.Projections = append(ds.Projections, p)
			}
		}
		dims = append(dims, ds)
	}
	return c.JSON(http.StatusOK, map[string]any{
		"project": project, "analysis_id": pa.ID, "commit_sha": pa.Commit, "baseline": pa.Baseline,
		"analyzed_at": pa.CreatedAt, "status": pa.Status, "compliance": pa.Compliance,
		"dimensions": dims, "open_violations": len(open), "url": app.ProjectURL(v.PublicURL, project),
	})
}

// historyForProjection is how many history points are read to fit the
// projections: enough for ProjectionWindow analyses of many metrics.
const historyForProjection = 4000

// parseTimeParam reads an RFC 3339 time or a date (YYYY-MM-DD, UTC).
func parseTimeParam(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, budgetgate.FieldErrorf(name, "want an RFC 3339 time or a date (2026-01-31), got %q", s)
}

// History handles GET /api/v1/budget/history: the figures of the project's
// baseline analyses over time, oldest first.
func (v *Variants) History(c echo.Context) error {
	project, err := v.projectParam(c)
	if err != nil {
		return err
	}
	f := app.HistoryFilter{Project: project, Dimension: c.QueryParam("dimension")}
	if f.From, err = parseTimeParam("from", c.QueryParam("from")); err != nil {
		return err
	}
	if f.To, err = parseTimeParam("to", c.QueryParam("to")); err != nil {
		return err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return budgetgate.FieldErrorf("to", "must be after from")
	}
	if s := c.QueryParam("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 {
			return budgetgate.FieldErrorf("limit", "want a positive number, got %q", s)
		}
	}
	points, err := v.Store.History(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if points == nil {
		points = []variant.FigurePoint{}
	}
	return c.JSON(http.StatusOK, map[string]any{"project": project, "dimension": f.Dimension, "points": points})
}

// violationFilter reads ?project=&state= (both optional).
func violationFilter(ctx context.Context, store VariantStore, c echo.Context) (app.ViolationFilter, error) {
	f := app.ViolationFilter{Project: c.QueryParam("project"), State: c.QueryParam("state")}
	if f.State != "" && f.State != variant.ViolationOpen && f.State != variant.ViolationExcepted && f.State != variant.ViolationResolved {
		return f, budgetgate.FieldErrorf("state", "want open, excepted or resolved, got %q", f.State)
	}
	if f.Project != "" {
		if _, err := store.Project(ctx, f.Project); err != nil {
			return f, err
		}
	}
	return f, nil
}

// ListViolations handles GET /api/v1/budget/violations.
func (v *Variants) ListViolations(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := violationFilter(ctx, v.Store, c)
	if err != nil {
		return err
	}
	vs, err := v.Store.Violations(ctx, f)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []variant.TrackedViolation{}
	}
	return c.JSON(http.StatusOK, map[string]any{"project": f.Project, "state": f.State, "violations": vs})
}

// Compliance handles GET /api/v1/budget/compliance: the project's score on
// its latest baseline analysis and over time; ?format=csv gives the report.
func (v *Variants) Compliance(c echo.Context) error {
	project, err := v.projectParam(c)
	if err != nil {
		return err
	}
	switch c.QueryParam("format") {
	case "csv":
		return complianceCSV(c, v.Store, project)
	case "", "json":
	default:
		return budgetgate.FieldErrorf("format", "want json or csv, got %q", c.QueryParam("format"))
	}
	hist, err := v.Store.ComplianceHistory(c.Request().Context(), project)
	if err != nil {
		return err
	}
	ans := map[string]any{"project": project, "history": hist, "current": nil}
	if hist == nil {
		ans["history"] = []variant.ComplianceRecord{}
	} else {
		ans["current"] = hist[len(hist)-1]
	}
	return c.JSON(http.StatusOK, ans)
}

// complianceCSV writes the compliance report: one row per (baseline
// analysis, dimension, metric), with the analysis's score beside it.
func complianceCSV(c echo.Context, store VariantStore, project string) error {
	ctx := c.Request().Context()
	hist, err := store.ComplianceHistory(ctx, project)
	if err != nil {
		return err
	}
	points, err := store.History(ctx, app.HistoryFilter{Project: project})
	if err != nil {
		return err
	}
	scores := map[int64]variant.ComplianceRecord{}
	for _, h := range hist {
		scores[h.AnalysisID] = h
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"analyzed_at", "commit_sha", "analysis_id", "compliance_score", "within", "pairs",
		"dimension", "metric", "budget", "delta", "variant", "soft_limit", "hard_limit", "within_soft_limit", "status"})
	for _, p := range points {
		s := scores[p.AnalysisID]
		w.Write([]string{
			p.At.UTC().Format(time.RFC3339), csvSafe(p.Commit), strconv.FormatInt(p.AnalysisID, 10),
			num(s.Score), strconv.Itoa(s.Within), strconv.Itoa(s.Pairs),
			csvSafe(p.Dimension), csvSafe(p.Metric), csvSafe(p.Budget), num(p.Delta), csvSafe(p.Variant),
			num(p.SoftLimit), num(p.HardLimit), strconv.FormatBool(variant.WithinSoft(p.Delta, p.SoftLimit)), p.Status,
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-compliance.csv"`, project))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// csvSafe keeps a spreadsheet from reading a name as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Gate handles GET /api/v1/budget/gate: may the project's baseline be
// deployed?
func (v *Variants) Gate(c echo.Context) error {
	project, err := v.projectParam(c)
	if err != nil {
		return err
	}
	ans, err := v.Analyses.Gate(c.Request().Context(), project)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ans)
}
