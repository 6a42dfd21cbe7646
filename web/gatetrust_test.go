package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/analysistest"
	"github.com/budgetgate/budgetgate/analyze"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/budgetgate/budgetgate/variant"
)

// syntheticAnalysis is analysistest.Synthetic of project fleet-core.
func syntheticAnalysis(commit string, dims, variants, metrics, failing int) *variant.Analysis {
	return analysistest.Synthetic("fleet-core", commit, dims, variants, metrics, failing)
}

func docJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// failingCCB cannot open any request, as when the CCB side refuses the
// request or its storage fails.
type failingCCB struct{}

func (failingCCB) OpenForAnalysis(context.Context, app.Tx, string, string, int64, *variant.Analysis, budgetgate.Actor) (int64, string, error) {
	return 0, "", errors.New("the board's store is unavailable")
}

// variantGate asks the deployment gate of fleet-core.
func variantGate(t *testing.T, h *harness) app.GateAnswer {
	t.Helper()
	status, raw, _ := h.api(t, h.Token, "GET", "/api/v1/budget/gate?project=fleet-core", "")
	var g app.GateAnswer
	if err := json.Unmarshal([]byte(raw), &g); status != http.StatusOK || err != nil {
		t.Fatalf("gate: %d %s", status, raw)
	}
	return g
}

// TestNoPassByFailure tries every way a posted analysis can be refused or
// cut short, against a gate that is open (a clean baseline) or closed (a
// blocked one), and checks that afterwards the deployment gate is where it
// was or closed, never opened; a refused analysis stores nothing.
func TestNoPassByFailure(t *testing.T) {
	clean := fleetDoc(t, "b1", "", 200)
	withField := func(doc, field string) string { return strings.Replace(doc, `{`, `{`+field+`,`, 1) }
	tooMany := func(dims, variants, metrics int) func(t *testing.T) string {
		return func(t *testing.T) string { return docJSON(t, syntheticAnalysis("b1", dims, variants, metrics, 0)) }
	}
	tests := []struct {
		name       string
		closed     bool // the gate before: closed by a blocked baseline, else open after a clean one
		ccb        app.CCBRequester
		noBaseline bool // post with a token without the baseline scope
		body       func(t *testing.T) string
		status     int
		wantClosed bool // the gate after must be closed (else: as before)
	}{
		{name: "a baseline with 150 violations: its generated request reason is summarised",
			body:   func(t *testing.T) string { return docJSON(t, syntheticAnalysis("b1", 1, 200, 1, 150)) },
			status: 201, wantClosed: true},
		{name: "a blocked baseline whose request cannot be opened is stored as blocked", ccb: failingCCB{},
			body: func(t *testing.T) string { return fleetDoc(t, "b1", "", 600) }, status: 201, wantClosed: true},
		{name: "a clean analysis claiming the baseline from a token without the scope", closed: true, noBaseline: true,
			body: func(*testing.T) string { return clean }, status: 201},
		{name: "a clean analysis naming the baseline as its branch without the scope", closed: true, noBaseline: true,
			body: func(*testing.T) string { return withField(clean, `"branch":"main"`) }, status: 201},
		{name: "a clean analysis saying on_baseline without the scope", closed: true, noBaseline: true,
			body: func(*testing.T) string { return withField(clean, `"on_baseline":true`) }, status: 201},
		{name: "malformed", closed: true, body: func(*testing.T) string { return clean[:len(clean)/2] }, status: 400},
		{name: "a figure out of range", closed: true,
			body: func(*testing.T) string { return strings.Replace(clean, `"hard_limit":5`, `"hard_limit":-5`, 1) }, status: 422},
		{name: "over the body limit", closed: true,
			body: func(*testing.T) string {
				return withField(clean, `"skipped":{"x":1}`+strings.Repeat(" ", handlers.MaxBodyBytes))
			}, status: 413},
		{name: "too many dimensions", closed: true, body: tooMany(variant.MaxAnalysisDimensions+1, 1, 1), status: 413},
		{name: "too many variants", closed: true, body: tooMany(1, variant.MaxDimensionVariants+1, 1), status: 413},
		{name: "too many metrics", closed: true, body: tooMany(1, 1, variant.MaxDimensionMetrics+1), status: 413},
		{name: "too many figures", closed: true, body: tooMany(2, variant.MaxDimensionVariants, variant.MaxAnalysisFigures/(2*variant.MaxDimensionVariants)+1), status: 413},
		{name: "too many violations listed", closed: true, body: func(t *testing.T) string {
			a := syntheticAnalysis("b1", 1, 1, 1, 0)
			a.Violations = make([]variant.Violation, variant.MaxAnalysisViolations+1)
			return docJSON(t, a)
		}, status: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{ccb: tt.ccb})
			setup := clean
			if tt.closed {
				setup = fleetDoc(t, "b0", "", 600)
			}
			if status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", setup); status != 201 {
				t.Fatalf("setup: %d %s", status, raw)
			}
			before := variantGate(t, h)
			if before.Allowed == tt.closed {
				t.Fatalf("setup: gate allowed %v", before.Allowed)
			}
			token := h.Token
			if tt.noBaseline {
				var err error
				if token, _, err = h.Store.CreateToken(context.Background(), "pr", []string{budgetgate.ScopeIngest, budgetgate.ScopeRead}, budgetgate.SystemActor); err != nil {
					t.Fatal(err)
				}
			}
			analyses, _ := h.Store.RecentAnalyses(context.Background(), "fleet-core", 10)
			status, raw, _ := h.api(t, token, "POST", "/api/v1/budget/analyze", tt.body(t))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", status, tt.status, raw)
			}
			after := variantGate(t, h)
			if after.Allowed && (tt.closed || tt.wantClosed) {
				t.Fatalf("the gate opened: %s", after.Reason)
			}
			stored, _ := h.Store.RecentAnalyses(context.Background(), "fleet-core", 10)
			if status/100 != 2 {
				if len(stored) != len(analyses) {
					t.Errorf("a refused analysis was stored: %d analyses, were %d", len(stored), len(analyses))
				}
				return
			}
			var ans struct {
				Status          string `json:"status"`
				OnBaseline      bool   `json:"on_baseline"`
				Note            string `json:"note"`
				CCBRequest      *app.CCBLink
				CCBRequestError string `json:"ccb_request_error"`
			}
			json.Unmarshal([]byte(raw), &ans)
			if tt.noBaseline && (ans.OnBaseline || !strings.Contains(ans.Note, "baseline scope")) {
				t.Errorf("on_baseline %v, note %q: want a change analysis that says why", ans.OnBaseline, ans.Note)
			}
			if tt.ccb != nil && (ans.Status != variant.AnalysisBlocked || ans.CCBRequestError == "") {
				t.Errorf("status %s, ccb_request_error %q: want blocked, and why it has no request", ans.Status, ans.CCBRequestError)
			}
		})
	}
}

// TestGeneratedReasonFitsTheLimit: the request a blocked analysis opens by
// itself names its worst violations first, as many as a person's reason
// may hold, and how many more.
func TestGeneratedReasonFitsTheLimit(t *testing.T) {
	for _, n := range []int{1, 100, 150, 2000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			a := syntheticAnalysis(strings.Repeat("c", variant.MaxNameLength), 1, n, 1, n)
			// The worst violation is the one named first.
			a.Dimensions[0].Variants[n-1].Metrics["metric00"] = variant.VariantMetric{Value: 40, Core: 60, Delta: 40}
			a.Reevaluate()
			status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", docJSON(t, a))
			var ans struct {
				Status      string `json:"status"`
				ExceptionID *int64 `json:"exception_id"`
			}
			if json.Unmarshal([]byte(raw), &ans); status != 201 || ans.ExceptionID == nil {
				t.Fatalf("%d %.300s", status, raw)
			}
			status, raw, _ = h.api(t, h.Token, "GET", fmt.Sprintf("/api/v1/exceptions/%d", *ans.ExceptionID), "")
			var e ccb.Exception
			if err := json.Unmarshal([]byte(raw), &e); status != 200 || err != nil {
				t.Fatalf("%d %.300s", status, raw)
			}
			if got := utf8.RuneCountInString(e.Reason); got > ccb.MaxReasonChars {
				t.Errorf("reason of %d characters", got)
			}
			first := fmt.Sprintf("variant%04d metric00 40.00%%", n-1)
			if !strings.Contains(e.Reason, ": dimension00/"+first) {
				t.Errorf("the worst violation is not named first: %.200s", e.Reason)
			}
			if more := strings.Contains(e.Reason, "more."); more != (n > 20) {
				t.Errorf("%d violations, reason ends %q", n, e.Reason[max(0, len(e.Reason)-40):])
			}
			if len(e.Subject.Covers) != n {
				t.Errorf("the request covers %d violations, want all %d", len(e.Subject.Covers), n)
			}
		})
	}
}

// TestReleaseEvaluationRefusals: a release evaluation that is refused is
// never an approval, and leaves the gate's next answer as it was.
func TestReleaseEvaluationRefusals(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const eval = "/api/v1/releases/evaluate"
	decide := func() bool {
		t.Helper()
		status, raw, _ := h.api(t, h.Token, "POST", eval, `{"service":"ledger","version":"1.0.0"}`)
		var dec errorbudget.Decision
		if err := json.Unmarshal([]byte(raw), &dec); status != 200 || err != nil {
			t.Fatalf("evaluate: %d %s", status, raw)
		}
		return dec.Approved
	}
	before := decide()
	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{"malformed", `{"service":"ledger",`, 400},
		{"not an object", `["ledger"]`, 400},
		{"unknown field", `{"service":"ledger","version":"1","approved":true}`, 422},
		{"wrong type", `{"service":"ledger","version":"1","risk_level":1}`, 422},
		{"unknown service", `{"service":"nope","version":"1"}`, 404},
		{"too large", `{"service":"ledger","version":"1","requested_by":"` + strings.Repeat("x", handlers.MaxBodyBytes) + `"}`, 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, raw, _ := h.api(t, h.Token, "POST", eval, tt.body)
			if status != tt.status || strings.Contains(raw, `"approved":true`) {
				t.Errorf("%d %.200s, want %d and no approval", status, raw, tt.status)
			}
			if decide() != before {
				t.Errorf("the gate's answer changed after a refused evaluation")
			}
		})
	}
}

// TestBaselineOfAChangedCommit: a change's violation at a commit that the
// baseline's CI then posts as the baseline (merged as it was) is the
// baseline's, and closes the deployment gate.
func TestBaselineOfAChangedCommit(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pr, _, err := h.Store.CreateToken(context.Background(), "pr", []string{budgetgate.ScopeIngest, budgetgate.ScopeRead}, budgetgate.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		token, body string
	}{
		{h.Token, fleetDoc(t, "b0", "", 200)}, // the baseline, clean
		{pr, fleetDoc(t, "c1", "b0", 600)},    // a change that fails
		{h.Token, fleetDoc(t, "c1", "", 600)}, // merged as it was: the baseline's CI posts it
		{pr, fleetDoc(t, "c2", "c1", 200)},    // a later change that fixes it does not resolve it
		{pr, fleetDoc(t, "c1", "b0", 200)},    // nor does the same commit posted again as a change
	} {
		if status, raw, _ := h.api(t, step.token, "POST", "/api/v1/budget/analyze", step.body); status != 201 {
			t.Fatalf("%d %s", status, raw)
		}
	}
	if g := variantGate(t, h); g.Allowed || len(g.Blocking) != 1 || g.Blocking[0].Commit != "c1" {
		t.Errorf("gate allowed %v, blocking %+v: want closed by c1's violation", g.Allowed, g.Blocking)
	}
}

// TestServerDecidesBaseline: for a configured repository only a commit
// reachable from the baseline branch's tip, and not behind the project's
// latest baseline, is recorded as a baseline analysis, whatever the request names as its baseline and whatever the
// branch's own policy says; a change cannot open a closed gate nor close
// an open one.
func TestServerDecidesBaseline(t *testing.T) {
	repo := testRepo(t, map[string]int{"feature": 600, "fixed": 200})
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	first := git("rev-parse", "main")
	// A branch whose own policy names itself the baseline.
	git("checkout", "-q", "-b", "self-named", "feature")
	if err := os.WriteFile(filepath.Join(repo, ".budgetgate.yaml"), []byte(strings.Replace(fleetPolicy, "baseline: main", "baseline: self-named", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-q", "-am", "self-named baseline")
	// Main then grows the truck past its hard limit: the gate closes.
	git("checkout", "-q", "main")
	if err := os.WriteFile(filepath.Join(repo, "vehicles/truck/t.go"), []byte("package truck\n"+strings.Repeat("var x = 1\n", 650)), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-q", "-am", "main grows")

	h := newHarness(t, harnessOptions{})
	if err := h.Store.AddRepository(context.Background(), "fleet-core", repo); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		body       string
		onBaseline bool
		allowed    bool
	}{
		{"an older commit of main is the baseline's", `{"commit_sha":"` + first + `"}`, true, true},
		{"a failing branch compared with itself is a change", `{"commit_sha":"feature","baseline":"feature"}`, false, true},
		{"a branch whose policy names itself is a change", `{"commit_sha":"self-named","baseline":"self-named"}`, false, true},
		{"main's tip, compared with a branch of the client's choice, is the baseline's", `{"commit_sha":"main","baseline":"fixed"}`, true, false},
		{"a clean branch compared with itself does not open the gate", `{"commit_sha":"fixed","baseline":"fixed"}`, false, false},
		{"nor compared with nothing", `{"commit_sha":"fixed"}`, false, false},
		{"the older commit of main named again, after main has grown, is a change", `{"commit_sha":"` + first + `"}`, false, false},
		{"main's tip named again is still the baseline's", `{"commit_sha":"main"}`, true, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", s.body)
			var ans struct {
				OnBaseline     bool   `json:"on_baseline"`
				BaselineCommit string `json:"baseline_commit"`
			}
			if err := json.Unmarshal([]byte(raw), &ans); status != 201 || err != nil {
				t.Fatalf("%d %.300s", status, raw)
			}
			if ans.OnBaseline != s.onBaseline {
				t.Errorf("on_baseline %v, want %v", ans.OnBaseline, s.onBaseline)
			}
			if g := variantGate(t, h); g.Allowed != s.allowed {
				t.Errorf("gate allowed %v (%s), want %v", g.Allowed, g.Reason, s.allowed)
			}
		})
	}
}

// TestBaselineAnalysedAsChecked: the commit the server found on the
// baseline branch is the one it analyses, even when a push moves the
// branch between the check and the analysis.
func TestBaselineAnalysedAsChecked(t *testing.T) {
	repo := testRepo(t, map[string]int{"feature": 600})
	rev := func(name string) string {
		out, err := exec.Command("git", "-C", repo, "rev-parse", name).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	checked := rev("main")
	h := newHarness(t, harnessOptions{analyze: func(ctx context.Context, opts analyze.Options) (*analyze.Result, error) {
		// A push lands between the check and the analysis: main now
		// points at the failing feature.
		if out, err := exec.Command("git", "-C", repo, "update-ref", "refs/heads/main", rev("feature")).CombinedOutput(); err != nil {
			t.Errorf("update-ref: %v %s", err, out)
		}
		return analyze.Run(ctx, opts)
	}})
	if err := h.Store.AddRepository(context.Background(), "fleet-core", repo); err != nil {
		t.Fatal(err)
	}
	status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", `{"commit_sha":"main"}`)
	var ans struct {
		CommitSHA  string `json:"commit_sha"`
		OnBaseline bool   `json:"on_baseline"`
	}
	if err := json.Unmarshal([]byte(raw), &ans); status != 201 || err != nil {
		t.Fatalf("%d %.300s", status, raw)
	}
	if ans.CommitSHA != checked || !ans.OnBaseline {
		t.Errorf("commit %s on_baseline %v, want %s (main when checked) on the baseline", ans.CommitSHA, ans.OnBaseline, checked)
	}
}

// TestPostedBaselineOfConfiguredRepository: a posted analysis of a project
// the server has a repository for is recorded as the baseline, even with
// the baseline scope, only when its commit passes the server's own check.
func TestPostedBaselineOfConfiguredRepository(t *testing.T) {
	repo := testRepo(t, nil)
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=Dev", "-c", "user.email=dev@example.com"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	first := git("rev-parse", "main")
	if err := os.WriteFile(filepath.Join(repo, "vehicles/truck/t.go"), []byte("package truck\n"+strings.Repeat("var x = 1\n", 650)), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-q", "-am", "main grows")
	tip := git("rev-parse", "main")
	h := newHarness(t, harnessOptions{})
	if err := h.Store.AddRepository(context.Background(), "fleet-core", repo); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		body       string
		onBaseline bool
		note       bool
		allowed    bool
	}{
		{"the server analyses main's tip: the gate closes", `{"commit_sha":"main"}`, true, false, false},
		{"an older commit of main, posted clean, is a change", fleetDoc(t, first, "", 200), false, true, false},
		{"a commit the repository does not have is a change", fleetDoc(t, strings.Repeat("ab", 20), "", 200), false, true, false},
		{"a branch name instead of a commit id is a change", fleetDoc(t, "main", "", 200), false, true, false},
		{"main's tip, posted by the baseline's CI, is the baseline", fleetDoc(t, tip, "", 200), true, false, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", s.body)
			var ans struct {
				OnBaseline bool   `json:"on_baseline"`
				Note       string `json:"note"`
			}
			if err := json.Unmarshal([]byte(raw), &ans); status != 201 || err != nil {
				t.Fatalf("%d %.300s", status, raw)
			}
			if ans.OnBaseline != s.onBaseline || (ans.Note != "") != s.note {
				t.Errorf("on_baseline %v, note %q; want %v, a note %v", ans.OnBaseline, ans.Note, s.onBaseline, s.note)
			}
			if g := variantGate(t, h); g.Allowed != s.allowed {
				t.Errorf("gate allowed %v (%s), want %v", g.Allowed, g.Reason, s.allowed)
			}
		})
	}
}

// TestStaleBaselineBranchRefused: when the server's repository has fetched
// origin/main past its own main, which commits are on the baseline cannot
// be told: analyses and posted baselines of the project are refused with
// 503, nothing is stored, and the gate stays closed.
func TestStaleBaselineBranchRefused(t *testing.T) {
	repo := testRepo(t, map[string]int{"feature": 200})
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	h := newHarness(t, harnessOptions{})
	if err := h.Store.AddRepository(context.Background(), "fleet-core", repo); err != nil {
		t.Fatal(err)
	}
	// The baseline, blocked: the gate closes.
	if status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", fleetDoc(t, git("rev-parse", "main"), "", 600)); status != 201 {
		t.Fatalf("%d %s", status, raw)
	}
	git("update-ref", "refs/remotes/origin/main", "main")
	if status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", `{"commit_sha":"feature"}`); status != 201 {
		t.Fatalf("origin/main equal to main: %d %s", status, raw)
	}
	// origin/main moves on to a clean commit that the local main lacks.
	git("update-ref", "refs/remotes/origin/main", "feature")
	for _, body := range []string{`{"commit_sha":"main"}`, `{"commit_sha":"feature"}`, fleetDoc(t, git("rev-parse", "main"), "", 200)} {
		status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", body)
		if status != http.StatusServiceUnavailable || !strings.Contains(raw, "origin/main") {
			t.Errorf("%.60s: %d %s; want 503 naming origin/main", body, status, raw)
		}
	}
	if g := variantGate(t, h); g.Allowed {
		t.Errorf("gate allowed (%s), want closed", g.Reason)
	}
}

// TestTokensPageOffersBaseline: the admin's /tokens page offers the
// baseline scope, and a token made there with it holds it.
func TestTokensPageOffersBaseline(t *testing.T) {
	s := newTestServer(t)
	ada := s.signIn(t, "admin-ada")
	_, page := get(t, ada, s.URL+"/tokens")
	if !strings.Contains(page, `name="scopes" value="baseline"`) {
		t.Fatal("the /tokens form has no baseline scope")
	}
	resp, _ := postForm(t, ada, s.URL+"/tokens", url.Values{"csrf": {csrfOf(t, page)}, "name": {"ci-main"}, "scopes": {"ingest", "baseline"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	list, err := s.Store.Tokens(context.Background())
	if err != nil || len(list) == 0 || !list[0].Allows(budgetgate.ScopeBaseline) || list[0].Allows(budgetgate.ScopeRead) {
		t.Errorf("tokens %+v, %v: want ci-main with ingest and baseline", list, err)
	}
}
