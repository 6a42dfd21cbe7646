package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/budgetgate/budgetgate/variant"
)

const fleetPolicy = `project: fleet-core
baseline: main
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code, function_count]}
`

// fakeCCB opens numbered requests and counts them.
type fakeCCB struct {
	calls atomic.Int64
}

func (f *fakeCCB) OpenForAnalysis(ctx context.Context, tx app.Tx, project, commit string, analysisID int64, a *variant.Analysis, actor budgetgate.Actor) (int64, string, error) {
	n := f.calls.Add(1)
	return 100 + n, fmt.Sprintf("http://127.0.0.1/ccb/%d", 100+n), nil
}

// fakeCover covers violations up to a value per "dimension/variant/metric".
type fakeCover struct {
	mu    sync.Mutex
	upTo  map[string]float64
	calls int
}

func (f *fakeCover) Covered(_ context.Context, _ string, vs []variant.Violation) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	out := make([]bool, len(vs))
	for i, v := range vs {
		limit, ok := f.upTo[v.Dimension+"/"+v.Variant+"/"+v.Metric]
		out[i] = ok && v.Value <= limit
	}
	return out, nil
}

type variantServer struct {
	*testServer
	URL    string
	store  *db.DB
	ccb    *fakeCCB
	cover  *fakeCover
	now    time.Time
	token  string       // every scope
	viewer *http.Client // signed in as a viewer
}

var variantEpoch = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// newVariantServer serves the real routes, sign-in included, with the
// variant handlers over a fresh database; the clock moves an hour on each
// tick().
func newVariantServer(t *testing.T) *variantServer {
	t.Helper()
	vs := &variantServer{ccb: &fakeCCB{}, cover: &fakeCover{upTo: map[string]float64{}}, now: variantEpoch}
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return vs.now }
	vs.testServer = newTestServerWith(t, clock, func(h *Handlers, store *db.DB) {
		vpages := &handlers.VariantPages{Store: store, Now: clock}
		h.Variants = &handlers.Variants{Store: store, Analyses: &app.Analyses{Store: store, Cover: vs.cover, CCB: vs.ccb, PublicURL: "http://127.0.0.1",
			Hooks: app.Webhooks{"platform": "http://127.0.0.1:9/hook"}}, PublicURL: "http://127.0.0.1", Now: clock}
		h.VariantPages = vpages
		h.Pages.Projects = vpages.ProjectSummaries
	})
	vs.URL, vs.store = vs.testServer.URL, vs.testServer.Store
	token, _, err := vs.store.CreateToken(context.Background(), "test", budgetgate.TokenScopes, budgetgate.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	vs.token = token
	vs.viewer = vs.signIn(t, "dev-rita")
	return vs
}

func (vs *variantServer) tick() { vs.now = vs.now.Add(time.Hour) }

// fleetDoc is `budgetgate analyze --format json` for 9,500 core lines and
// the truck's (docs/BUDGET_MATH.md, Variant deltas: 500 warns, 600 fails), against main at
// baselineCommit ("" when the commit is main's).
func fleetDoc(t *testing.T, commit, baselineCommit string, truck int) string {
	t.Helper()
	p, err := variant.ParseVariantPolicy(".budgetgate.yaml", []byte(fleetPolicy))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Analyze(&variant.AnalysisInput{Commit: commit, Files: []variant.FileFacts{
		{Path: "core/a.go", Code: true, Lines: 9500, Functions: 100},
		{Path: "vehicles/truck/t.go", Code: true, Lines: truck, Functions: 1},
	}})
	a.BaselineCommit = baselineCommit
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

type answer struct {
	AnalysisID int64  `json:"analysis_id"`
	Project    string `json:"project"`
	Commit     string `json:"commit"`
	CommitSHA  string `json:"commit_sha"`
	Baseline   string `json:"baseline"`
	OnBaseline bool   `json:"on_baseline"`
	Status     string `json:"status"`
	Source     string `json:"source"`
	Compliance struct {
		Score float64 `json:"score"`
	} `json:"compliance"`
	Dimensions  []variant.DimensionResult  `json:"dimensions"`
	Violations  []variant.TrackedViolation `json:"violations"`
	Resolved    []variant.TrackedViolation `json:"resolved"`
	ExceptionID *int64                     `json:"exception_id"`
	CCBRequest  *struct {
		ID  int64  `json:"id"`
		URL string `json:"url"`
	} `json:"ccb_request"`
}

func (vs *variantServer) postAnalysis(t *testing.T, url, body string, header ...string) (int, answer, apiError) {
	t.Helper()
	status, raw, _ := do(t, vs.token, http.MethodPost, url+"/api/v1/budget/analyze", body, header...)
	var a answer
	var e apiError
	if status/100 == 2 {
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("answer %s: %v", raw, err)
		}
	} else {
		json.Unmarshal(raw, &e)
	}
	return status, a, e
}

func (vs *variantServer) getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	status, raw, _ := do(t, vs.token, http.MethodGet, url, "")
	if status == http.StatusOK {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	return status
}

// TestAnalyzePostedLifecycle posts analyses as CI does and follows the
// violations, the CCB requests, exceptions, compliance and the gate.
func TestAnalyzePostedLifecycle(t *testing.T) {
	vs := newVariantServer(t)
	steps := []struct {
		name           string
		commit, base   string
		truck          int
		cover          map[string]float64
		status         string
		onBaseline     bool
		ccbRequest     int64 // 0: none
		newViolations  int
		resolved       int
		gateAllowed    bool
		openViolations int
	}{
		{"baseline warns", "b1", "", 500, nil, variant.AnalysisWarn, true, 0, 0, 0, true, 0},
		{"change fails: a CCB request opens", "c1", "b1", 600, nil, variant.AnalysisBlocked, false, 101, 1, 0, true, 1},
		{"same commit again: the same request", "c1", "b1", 600, nil, variant.AnalysisBlocked, false, 101, 0, 0, true, 1},
		{"merged: the baseline blocks, and its own request opens", "b2", "", 600, nil, variant.AnalysisBlocked, true, 102, 1, 0, false, 2},
		{"an exception up to 600 lines covers it", "b3", "", 600, map[string]float64{"vehicle/truck/lines_of_code": 600}, variant.AnalysisExcepted, true, 0, 0, 0, true, 1},
		{"growth beyond the exception blocks again", "b4", "", 650, map[string]float64{"vehicle/truck/lines_of_code": 600}, variant.AnalysisBlocked, true, 103, 0, 0, false, 2},
		{"refactored: every violation resolves", "b5", "", 200, nil, variant.AnalysisPass, true, 0, 0, 2, true, 0},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			vs.tick()
			vs.cover.mu.Lock()
			vs.cover.upTo = s.cover
			vs.cover.mu.Unlock()
			status, a, e := vs.postAnalysis(t, vs.URL, fleetDoc(t, s.commit, s.base, s.truck))
			if status != http.StatusCreated {
				t.Fatalf("status %d: %+v", status, e)
			}
			if a.Status != s.status || a.OnBaseline != s.onBaseline || a.Project != "fleet-core" || a.CommitSHA != s.commit || a.Source != app.SourceCI {
				t.Errorf("answer %s on_baseline %v project %s commit %s source %s", a.Status, a.OnBaseline, a.Project, a.CommitSHA, a.Source)
			}
			switch {
			case s.ccbRequest == 0 && a.CCBRequest != nil:
				t.Errorf("CCB request %+v, want none", a.CCBRequest)
			case s.ccbRequest != 0 && (a.CCBRequest == nil || a.CCBRequest.ID != s.ccbRequest || a.ExceptionID == nil || *a.ExceptionID != s.ccbRequest):
				t.Errorf("CCB request %+v exception_id %v, want %d", a.CCBRequest, a.ExceptionID, s.ccbRequest)
			}
			fresh := 0
			for _, v := range a.Violations {
				if v.New {
					fresh++
				}
			}
			if fresh != s.newViolations || len(a.Resolved) != s.resolved {
				t.Errorf("%d new, %d resolved; want %d and %d", fresh, len(a.Resolved), s.newViolations, s.resolved)
			}
			var gate app.GateAnswer
			if st := vs.getJSON(t, vs.URL+"/api/v1/budget/gate?project=fleet-core", &gate); st != http.StatusOK || gate.Allowed != s.gateAllowed {
				t.Errorf("gate %d allowed %v (%s), want %v", st, gate.Allowed, gate.Reason, s.gateAllowed)
			}
			var list struct {
				Violations []variant.TrackedViolation `json:"violations"`
			}
			vs.getJSON(t, vs.URL+"/api/v1/budget/violations?project=fleet-core&state=open", &list)
			if len(list.Violations) != s.openViolations {
				t.Errorf("%d open violations, want %d", len(list.Violations), s.openViolations)
			}
		})
	}
	if n := vs.ccb.calls.Load(); n != 3 {
		t.Errorf("%d CCB requests opened, want 3 (one per blocked commit)", n)
	}

	t.Run("violations by state", func(t *testing.T) {
		for state, want := range map[string]int{"open": 0, "excepted": 0, "resolved": 2, "": 2} {
			var list struct {
				Violations []variant.TrackedViolation `json:"violations"`
			}
			if st := vs.getJSON(t, vs.URL+"/api/v1/budget/violations?state="+state, &list); st != http.StatusOK || len(list.Violations) != want {
				t.Errorf("state %q: %d, %d violations, want %d", state, st, len(list.Violations), want)
			}
		}
	})

	t.Run("status is the latest baseline analysis", func(t *testing.T) {
		var st struct {
			CommitSHA  string `json:"commit_sha"`
			Status     string `json:"status"`
			Compliance struct {
				Score float64 `json:"score"`
			} `json:"compliance"`
			Dimensions []struct {
				Name        string                     `json:"name"`
				Metrics     []variant.MetricResult     `json:"metrics"`
				Projections []variant.MetricProjection `json:"projections"`
			} `json:"dimensions"`
		}
		// The project is optional: there is only one.
		if code := vs.getJSON(t, vs.URL+"/api/v1/budget/status", &st); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		if st.CommitSHA != "b5" || st.Status != variant.AnalysisPass || st.Compliance.Score != 100 || len(st.Dimensions) != 1 {
			t.Errorf("status %+v", st)
		}
		// Five baseline analyses of truck lines: 5.00, 5.94, 5.94, 6.4, 2.06.
		if len(st.Dimensions[0].Projections) == 0 || st.Dimensions[0].Projections[0].Points != 5 {
			t.Errorf("projections %+v", st.Dimensions[0].Projections)
		}
	})

	t.Run("compliance over time", func(t *testing.T) {
		var c struct {
			Current variant.ComplianceRecord   `json:"current"`
			History []variant.ComplianceRecord `json:"history"`
		}
		if code := vs.getJSON(t, vs.URL+"/api/v1/budget/compliance?project=fleet-core", &c); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		var scores []string
		for _, h := range c.History {
			scores = append(scores, fmt.Sprint(h.Score))
		}
		// Lines over soft 3% in b1..b4: one of two pairs within; b5 both.
		if strings.Join(scores, " ") != "50 50 50 50 100" || c.Current.Commit != "b5" {
			t.Errorf("scores %v, current %+v", scores, c.Current)
		}
	})

	t.Run("compliance CSV", func(t *testing.T) {
		for _, path := range []string{"/api/v1/budget/compliance?project=fleet-core&format=csv", "/projects/fleet-core/compliance.csv"} {
			status, raw, h := do(t, vs.token, http.MethodGet, vs.URL+path, "")
			if !strings.HasPrefix(path, "/api/") { // a page: signed in, not a token
				resp, body := get(t, vs.viewer, vs.URL+path)
				status, raw, h = resp.StatusCode, []byte(body), resp.Header
			}
			if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
				t.Fatalf("%s: %d %s", path, status, h.Get("Content-Type"))
			}
			rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1+5*2 || rows[0][0] != "analyzed_at" || rows[0][3] != "compliance_score" {
				t.Fatalf("%d rows, header %v", len(rows), rows[0])
			}
			last := rows[len(rows)-1]
			if last[1] != "b5" || last[3] != "100" || last[13] != "true" {
				t.Errorf("last row %v", last)
			}
		}
	})

	t.Run("history filters", func(t *testing.T) {
		var h struct {
			Points []variant.FigurePoint `json:"points"`
		}
		vs.getJSON(t, vs.URL+"/api/v1/budget/history?project=fleet-core&dimension=vehicle", &h)
		if len(h.Points) != 10 {
			t.Errorf("%d points, want 10", len(h.Points))
		}
		from := variantEpoch.Add(4 * time.Hour).Format(time.RFC3339)
		to := variantEpoch.Add(6 * time.Hour).Format(time.RFC3339)
		vs.getJSON(t, vs.URL+"/api/v1/budget/history?project=fleet-core&from="+from+"&to="+to, &h)
		var commits []string
		for _, p := range h.Points {
			if p.Metric == variant.MetricLinesOfCode {
				commits = append(commits, p.Commit)
			}
		}
		if strings.Join(commits, ",") != "b2,b3" {
			t.Errorf("commits in [4h, 6h): %v", commits)
		}
		status, _, _ := do(t, vs.token, http.MethodGet, vs.URL+"/api/v1/budget/history?project=fleet-core&dimension=sector", "")
		vs.getJSON(t, vs.URL+"/api/v1/budget/history?project=fleet-core&dimension=sector", &h)
		if status != http.StatusOK || len(h.Points) != 0 {
			t.Errorf("unknown dimension: %d, %d points", status, len(h.Points))
		}
	})

	t.Run("a webhook message for each analysis with new violations", func(t *testing.T) {
		ns, err := vs.store.Notifications(context.Background(), "fleet-core", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 2 || ns[0].Target != "platform" || ns[0].WebhookURL != "http://127.0.0.1:9/hook" || ns[0].State != app.NotifyPending {
			t.Errorf("notifications %+v", ns)
		}
	})
}

func TestAnalyzeValidation(t *testing.T) {
	vs := newVariantServer(t)
	good := fleetDoc(t, "c1", "", 500)
	tests := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"malformed", `{"project":`, http.StatusBadRequest, ""},
		{"not an object", `[1,2]`, http.StatusBadRequest, ""},
		{"unknown field in a posted analysis", strings.Replace(good, `"commit":`, `"comit":"x","commit":`, 1), http.StatusUnprocessableEntity, "comit"},
		{"commit_sha in a posted analysis", strings.Replace(good, `"commit":`, `"commit_sha":"x","commit":`, 1), http.StatusUnprocessableEntity, "commit_sha"},
		{"no project", strings.Replace(good, `"project":"fleet-core"`, `"project":""`, 1), http.StatusUnprocessableEntity, "project"},
		{"wrong type", strings.Replace(good, `"analyzed_files":2`, `"analyzed_files":"many"`, 1), http.StatusUnprocessableEntity, "analyzed_files"},
		{"delta out of range", strings.Replace(good, `"delta":5`, `"delta":105`, 1), http.StatusUnprocessableEntity, "dimensions[0].metrics[0].delta"},
		{"nested unknown field", strings.Replace(good, `"budget":"vehicle_budget"`, `"budget":"vehicle_budget","colour":"red"`, 1), http.StatusUnprocessableEntity, "dimensions[0].metrics[0].colour"},
		{"unknown field in a request", `{"commit_sha":"HEAD","branch":"main"}`, http.StatusUnprocessableEntity, "branch"},
		{"a field of an analysis in a request", `{"commit_sha":"HEAD","baseline":"main","violations":[]}`, http.StatusUnprocessableEntity, "violations"},
		{"null", `null`, http.StatusBadRequest, ""},
		{"no commit_sha", `{"baseline":"main"}`, http.StatusUnprocessableEntity, "commit_sha"},
		{"no repository configured", `{"commit_sha":"HEAD","baseline":"main"}`, http.StatusUnprocessableEntity, "project"},
		{"control character", `{"commit_sha":"HEAD\u0000"}`, http.StatusUnprocessableEntity, "commit_sha"},
		{"too long", `{"commit_sha":"` + strings.Repeat("a", 300) + `"}`, http.StatusUnprocessableEntity, "commit_sha"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, e := vs.postAnalysis(t, vs.URL, tt.body)
			if status != tt.status || e.Error.Field != tt.field {
				t.Errorf("%d %+v, want %d naming %q", status, e.Error, tt.status, tt.field)
			}
		})
	}
	t.Run("nothing stored", func(t *testing.T) {
		ps, err := vs.store.Projects(context.Background())
		if err != nil || len(ps) != 0 {
			t.Errorf("projects %v, %v", ps, err)
		}
	})
	for _, tt := range []struct{ path, field string }{
		{"/api/v1/budget/violations?state=closed", "state"},
		{"/api/v1/budget/history?project=fleet-core&from=yesterday", "from"},
	} {
		vs.postAnalysis(t, vs.URL, good)
		status, raw, _ := do(t, vs.token, http.MethodGet, vs.URL+tt.path, "")
		var e apiError
		json.Unmarshal(raw, &e)
		if status != http.StatusUnprocessableEntity || e.Error.Field != tt.field {
			t.Errorf("%s: %d %+v", tt.path, status, e.Error)
		}
	}
	if status, _, _ := do(t, vs.token, http.MethodGet, vs.URL+"/api/v1/budget/status?project=nope", ""); status != http.StatusNotFound {
		t.Errorf("unknown project: %d", status)
	}
}

func TestAnalyzeIdempotent(t *testing.T) {
	vs := newVariantServer(t)
	body := fleetDoc(t, "c1", "b0", 600)
	s1, a1, _ := vs.postAnalysis(t, vs.URL, body, "Idempotency-Key", "k1")
	status, raw, h := do(t, vs.token, http.MethodPost, vs.URL+"/api/v1/budget/analyze", body, "Idempotency-Key", "k1")
	var a2 answer
	json.Unmarshal(raw, &a2)
	if s1 != http.StatusCreated || status != http.StatusCreated || h.Get("Idempotent-Replayed") != "true" || a2.AnalysisID != a1.AnalysisID {
		t.Errorf("retry: %d %d replayed %q ids %d %d", s1, status, h.Get("Idempotent-Replayed"), a1.AnalysisID, a2.AnalysisID)
	}
	if n := vs.ccb.calls.Load(); n != 1 {
		t.Errorf("%d CCB requests, want 1", n)
	}
	if st, _, e := vs.postAnalysis(t, vs.URL, fleetDoc(t, "c2", "b0", 600), "Idempotency-Key", "k1"); st != http.StatusUnprocessableEntity || e.Error.Field != "Idempotency-Key" {
		t.Errorf("reused key: %d %+v", st, e)
	}
	as, _ := vs.store.RecentAnalyses(context.Background(), "fleet-core", 10)
	if len(as) != 1 {
		t.Errorf("%d analyses stored, want 1", len(as))
	}
}

// TestAnalyzeConcurrent posts analyses in parallel: every one is stored,
// each failing change opens exactly one violation and one CCB request.
func TestAnalyzeConcurrent(t *testing.T) {
	vs := newVariantServer(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			truck := 200
			if i%2 == 1 {
				truck = 600 + i // fails
			}
			// Half again post the same failing commit twice.
			commit := fmt.Sprintf("c%d", i)
			req, _ := http.NewRequest(http.MethodPost, vs.URL+"/api/v1/budget/analyze", strings.NewReader(fleetDoc(t, commit, "base", truck)))
			req.Header.Set("Authorization", "Bearer "+vs.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				errs <- resp.Status
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	ctx := context.Background()
	as, err := vs.store.RecentAnalyses(ctx, "fleet-core", 100)
	if err != nil || len(as) != n {
		t.Fatalf("%d analyses, %v; want %d", len(as), err, n)
	}
	open, err := vs.store.Violations(ctx, app.ViolationFilter{Project: "fleet-core", State: variant.ViolationOpen})
	if err != nil || len(open) != n/2 {
		t.Errorf("%d open violations, %v; want %d", len(open), err, n/2)
	}
	if c := vs.ccb.calls.Load(); c != n/2 {
		t.Errorf("%d CCB requests, want %d", c, n/2)
	}
}

// testRepo builds a real git repository: main with a policy, core code and
// the truck's; tag v1.0; and the branches given as name -> truck lines.
func testRepo(t *testing.T, branches map[string]int) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(path string, lines int, pkg string) {
		var b strings.Builder
		b.WriteString("package " + pkg + "\n")
		for i := 1; i < lines; i++ {
			fmt.Fprintf(&b, "var v%d = %d\n", i, i)
		}
		p := filepath.Join(dir, path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(dir, ".budgetgate.yaml"), []byte(fleetPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	write("core/a.go", 9500, "core")
	write("vehicles/truck/t.go", 400, "truck")
	git("add", "-A")
	git("commit", "-q", "-m", "main")
	git("tag", "v1.0")
	for name, truck := range branches {
		git("checkout", "-q", "-b", name, "main")
		write("vehicles/truck/t.go", truck, "truck")
		git("commit", "-q", "-am", name)
	}
	git("checkout", "-q", "main")
	return dir
}

// TestAnalyzeConfiguredRepository is form (b): the server analyses a
// revision of a repository it is configured with; the README's quick start
// curl (no project, a revision and main) works with one repository.
func TestAnalyzeConfiguredRepository(t *testing.T) {
	repo := testRepo(t, map[string]int{"abc123": 600, "small": 450})
	vs := newVariantServer(t)
	if err := vs.store.AddRepository(context.Background(), "fleet-core", repo); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		body       string
		status     int
		field      string
		analysis   string
		onBaseline bool
		truckDelta float64
	}{
		{"main itself", `{"project":"fleet-core","commit_sha":"main","baseline":"main"}`, 201, "", variant.AnalysisWarn, true, 4.04},
		{"HEAD without a baseline", `{"commit_sha":"HEAD"}`, 201, "", variant.AnalysisWarn, true, 4.04},
		{"the README's quick start", `{"commit_sha":"abc123","baseline":"main"}`, 201, "", variant.AnalysisBlocked, false, 5.94},
		{"a change that warns", `{"commit_sha":"small","baseline":"main"}`, 201, "", variant.AnalysisWarn, false, 4.52},
		{"unknown revision", `{"commit_sha":"nope123","baseline":"main"}`, 422, "commit_sha", "", false, 0},
		{"unknown baseline", `{"commit_sha":"HEAD","baseline":"nope"}`, 422, "baseline", "", false, 0},
		{"unconfigured project", `{"project":"other","commit_sha":"HEAD"}`, 422, "project", "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs.tick()
			status, a, e := vs.postAnalysis(t, vs.URL, tt.body)
			if status != tt.status || e.Error.Field != tt.field {
				t.Fatalf("%d %+v, want %d naming %q", status, e.Error, tt.status, tt.field)
			}
			if status != 201 {
				if strings.Contains(e.Error.Message, repo) {
					t.Errorf("the error shows the server's path: %s", e.Error.Message)
				}
				return
			}
			if a.Status != tt.analysis || a.OnBaseline != tt.onBaseline || a.Project != "fleet-core" || a.Source != app.SourceServer || len(a.CommitSHA) != 40 {
				t.Errorf("answer %s on_baseline %v project %s source %s commit %s", a.Status, a.OnBaseline, a.Project, a.Source, a.CommitSHA)
			}
			if len(a.Dimensions) != 1 || a.Dimensions[0].Metrics[0].Delta != tt.truckDelta {
				t.Errorf("dimensions %+v, want truck lines at %v", a.Dimensions, tt.truckDelta)
			}
			if tt.analysis == variant.AnalysisBlocked && (a.CCBRequest == nil || len(a.Violations) != 1 || a.Violations[0].Variant != "truck") {
				t.Errorf("blocked without its request or violation: %+v %+v", a.CCBRequest, a.Violations)
			}
		})
	}
	t.Run("status needs no project", func(t *testing.T) {
		var st struct {
			Status string `json:"status"`
		}
		if code := vs.getJSON(t, vs.URL+"/api/v1/budget/status", &st); code != http.StatusOK || st.Status != variant.AnalysisWarn {
			t.Errorf("%d %+v", code, st)
		}
	})
}

func (vs *variantServer) page(t *testing.T, url string) (*goquery.Document, int) {
	t.Helper()
	resp, err := vs.viewer.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc, resp.StatusCode
}

func TestVariantPages(t *testing.T) {
	vs := newVariantServer(t)
	// Baseline history: the truck grows towards its hard limit, then a
	// change fails.
	for i, truck := range []int{200, 250, 300, 350, 400} {
		vs.tick()
		vs.postAnalysis(t, vs.URL, fleetDoc(t, fmt.Sprintf("b%d", i), "", truck))
	}
	vs.tick()
	vs.postAnalysis(t, vs.URL, fleetDoc(t, "c1", "b4", 600))

	t.Run("project", func(t *testing.T) {
		doc, status := vs.page(t, vs.URL+"/projects/fleet-core")
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		dim := doc.Find(`[data-testid="dimension-vehicle"]`)
		if dim.Length() != 1 {
			t.Fatal("no vehicle section")
		}
		plot := dim.Find(`svg.chart:not(.sample)`)
		if got := plot.Find(`line.limit-hard`).Length(); got != 1 {
			t.Errorf("%d hard limit lines", got)
		}
		if got := plot.Find(`line.limit-soft`).Length(); got != 1 {
			t.Errorf("%d soft limit lines", got)
		}
		if got := plot.Find(`g.projection title`).Text(); !strings.Contains(got, "projection") {
			t.Errorf("projection series %q", got)
		}
		// Lines are told apart without colour: each its own dash pattern
		// (class), its name at its end, and the same pattern in the legend.
		classes := map[string]bool{}
		plot.Find(`g.series`).Each(func(_ int, g *goquery.Selection) {
			class, _ := g.Attr("class")
			if classes[class] {
				t.Errorf("two series share the style %q", class)
			}
			classes[class] = true
			if g.Find(`text.end-label`).Text() == "" {
				t.Errorf("series %q has no label at its end", g.Find("title").Text())
			}
		})
		if len(classes) < 2 {
			t.Errorf("%d series drawn, want the metrics and the projection", len(classes))
		}
		if got := dim.Find(`figcaption svg.sample`).Length(); got != len(classes)+2 {
			t.Errorf("%d legend samples, want one per series and limit (%d)", got, len(classes)+2)
		}
		// 400 of 9,900 lines: 4.04%, warn; five points rising 0.5 pp an hour.
		row := dim.Find(`[data-testid="metric-lines_of_code"]`)
		if d := row.Find(`[data-testid="delta"]`).Text(); d != "4.04%" {
			t.Errorf("lines delta %q", d)
		}
		if s := row.Find(`[data-testid="status"]`).Text(); !strings.Contains(s, "warn") {
			t.Errorf("lines status %q", s)
		}
		if got := dim.Find(`[data-testid="variant-truck"] [data-testid="cell-lines_of_code"]`).Text(); !strings.Contains(got, "4.04%") || !strings.Contains(got, "400 / 9500 core") {
			t.Errorf("truck cell %q", got)
		}
		if got := dim.Find(`[data-testid="projections"]`).Text(); !strings.Contains(got, "projected to cross its hard limit of 5%") {
			t.Errorf("projections %q", got)
		}
		if got := doc.Find(`[data-testid="violations"] tbody tr`).Length(); got != 1 {
			t.Errorf("%d open violations shown, want 1", got)
		}
		if doc.Find(`script`).Length() != 0 {
			t.Error("the page has script")
		}
	})

	t.Run("violations filter", func(t *testing.T) {
		for _, tt := range []struct {
			query string
			rows  int
		}{{"", 1}, {"?state=open", 1}, {"?state=resolved", 0}, {"?state=open&project=fleet-core", 1}} {
			doc, status := vs.page(t, vs.URL+"/violations"+tt.query)
			if status != http.StatusOK {
				t.Fatalf("%s: %d", tt.query, status)
			}
			if got := doc.Find(`[data-testid="violations"] tbody tr`).Length(); got != tt.rows {
				t.Errorf("%s: %d rows, want %d", tt.query, got, tt.rows)
			}
			if doc.Find(`form[method="get"] select[name="state"]`).Length() != 1 {
				t.Errorf("%s: no filter form", tt.query)
			}
		}
		if _, status := vs.page(t, vs.URL+"/violations?state=bogus"); status != http.StatusUnprocessableEntity {
			t.Errorf("bad state: %d", status)
		}
	})

	t.Run("compliance", func(t *testing.T) {
		doc, status := vs.page(t, vs.URL+"/projects/fleet-core/compliance")
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		if got := doc.Find(`[data-testid="history"] tbody tr`).Length(); got != 5 {
			t.Errorf("%d history rows, want 5", got)
		}
		if href, _ := doc.Find(`a[download]`).Attr("href"); href != "/projects/fleet-core/compliance.csv" {
			t.Errorf("download link %q", href)
		}
	})

	t.Run("overview", func(t *testing.T) {
		doc, status := vs.page(t, vs.URL+"/")
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		row := doc.Find(`[data-testid="project-fleet-core"]`)
		if got := row.Find(`[data-testid="compliance"]`).Text(); !strings.Contains(got, "50.0%") {
			t.Errorf("compliance %q", got)
		}
		if got := row.Find(`[data-testid="dimension-vehicle"]`).Text(); !strings.Contains(got, "4.04%") || !strings.Contains(got, "warn") {
			t.Errorf("vehicle figure %q", got)
		}
	})

	t.Run("unknown project", func(t *testing.T) {
		if _, status := vs.page(t, vs.URL+"/projects/nope"); status != http.StatusNotFound {
			t.Errorf("status %d", status)
		}
	})
}
