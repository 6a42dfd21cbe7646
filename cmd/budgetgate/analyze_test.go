package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/budgetgate/budgetgate/variant"
)

const cliPolicy = `project: fleet-core
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code]}
`

func goFile(n int) string {
	var b strings.Builder
	b.WriteString("package p\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "var v%d = %d\n", i, i)
	}
	return b.String()
}

// fleet makes a repository with core 9,500 lines and truck lines of truck.
func fleet(t *testing.T, truck int) string {
	return repoWith(t, map[string]string{
		".budgetgate.yaml":      cliPolicy,
		"core/a.go":             goFile(9500),
		"vehicles/truck/cab.go": goFile(truck),
	})
}

// repoWith makes a git repository of files, committed.
func repoWith(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"}, {"config", "user.email", "d@example.com"}, {"config", "user.name", "D"},
		{"add", "-A"}, {"commit", "-q", "-m", "fleet"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	return dir
}

func runAnalyzeCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--cache", filepath.Join(t.TempDir(), "cache"))
	code := runAnalyze(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestAnalyzeExitCodes(t *testing.T) {
	warn, fail := fleet(t, 500), fleet(t, 600)
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"warn passes", []string{warn}, 0, "WARN"},
		{"fail blocks", []string{fail}, 1, "BLOCKED"},
		{"path after flags", []string{"--format", "table", fail}, 1, "FAIL"},
		{"revision", []string{fail, "--rev", "HEAD"}, 1, "5.94%"},
		{"bad format", []string{warn, "--format", "xml"}, 2, ""},
		{"unknown flag", []string{warn, "--nope"}, 2, ""},
		{"two paths", []string{warn, fail}, 2, ""},
		{"no such directory", []string{filepath.Join(warn, "missing")}, 2, ""},
		{"no such revision", []string{warn, "--rev", "nope"}, 2, ""},
		{"wait without post", []string{warn, "--wait", "1s"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runAnalyzeCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if !strings.Contains(out, tt.out) {
				t.Errorf("output lacks %q:\n%s", tt.out, out)
			}
		})
	}
}

func TestAnalyzeHelp(t *testing.T) {
	code, _, errOut := runAnalyzeCmd(t, "--help")
	if code != 0 || !strings.Contains(errOut, "Usage: budgetgate analyze") || !strings.Contains(errOut, "--baseline") {
		t.Errorf("exit %d, help:\n%s", code, errOut)
	}
}

func TestAnalyzeBadPolicy(t *testing.T) {
	dir := fleet(t, 500)
	bad := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(bad, []byte("vehicle_budget: {sfot_limit: 3}\n"), 0o644)
	code, _, errOut := runAnalyzeCmd(t, dir, "--policy", bad)
	if code != 2 || !strings.Contains(errOut, "p.yaml:1:") || !strings.Contains(errOut, "names no dimension") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestAnalyzeJSON(t *testing.T) {
	code, out, _ := runAnalyzeCmd(t, fleet(t, 600), "--format", "json")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	var doc struct {
		Project       string `json:"project"`
		Status        string `json:"status"`
		AnalyzedFiles int    `json:"analyzed_files"`
		SkippedFiles  *int   `json:"skipped_files"`
		Dimensions    []struct {
			Name    string `json:"name"`
			Metrics []struct {
				Name      string   `json:"name"`
				Delta     float64  `json:"delta"`
				Variant   string   `json:"variant"`
				HardLimit float64  `json:"hard_limit"`
				ChangePP  *float64 `json:"change_pp"`
			} `json:"metrics"`
			Variants []struct {
				Name    string `json:"name"`
				Metrics map[string]struct {
					Value, Core, Delta float64
				} `json:"metrics"`
			} `json:"variants"`
		} `json:"dimensions"`
		Violations []map[string]any `json:"violations"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Project != "fleet-core" || doc.Status != "blocked" || doc.AnalyzedFiles != 3 || doc.SkippedFiles == nil {
		t.Errorf("%+v", doc)
	}
	m := doc.Dimensions[0].Metrics[0]
	if m.Delta != 5.94 || m.Variant != "truck" || m.HardLimit != 5 {
		t.Errorf("metric %+v", m)
	}
	v := doc.Dimensions[0].Variants[0].Metrics["lines_of_code"]
	if v.Value != 600 || v.Core != 9500 {
		t.Errorf("variant %+v", v)
	}
	if len(doc.Violations) != 1 {
		t.Errorf("violations %v", doc.Violations)
	}
}

func TestAnalyzeMarkdown(t *testing.T) {
	_, out, _ := runAnalyzeCmd(t, fleet(t, 600), "--format", "markdown")
	for _, want := range []string{
		"## Variant budgets: ❌ blocked",
		"### Failing (1)",
		"| ❌ fail vehicle / truck | `lines_of_code` | 5.94% | hard 5.00% |",
		"- `vehicles/truck/cab.go` (vehicle/truck): lines_of_code 600 (5.94% -> 0.00%)",
		"<details><summary>Every figure (1 metrics)</summary>",
		"| vehicle | `lines_of_code` | ❌ fail | 5.94% | truck |",
		"A blocked change needs a refactoring or an approved CCB exception.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

// TestMarkdownFailuresFirstEachFileOnce: the comment leads with what fails
// (not a trend item the analysis happened to list first), names each file
// once however many metrics it weighs on, and links the CCB request.
func TestMarkdownFailuresFirstEachFileOnce(t *testing.T) {
	change := func(x float64) *float64 { return &x }
	move := func(metric, path string, value, before, after float64) variant.Recommendation {
		return variant.Recommendation{Kind: variant.RecommendMoveToCore, Metric: metric, Variants: []string{"truck"},
			Locations: []variant.CodeLocation{{Path: path}}, Value: value, Before: before, After: after, Saves: before - after}
	}
	a := &variant.Analysis{Project: "fleet-core", Commit: "5e9d0f7684f1fc6d309fd6aa228e72a99a47c838", Status: variant.AnalysisBlocked,
		Violations: []variant.Violation{
			{Dimension: "vehicle", Variant: "truck", Metric: "class_count", Status: variant.VariantTrendFail, Delta: 4.76, Limit: 0.5, ChangePP: change(2.32)},
			{Dimension: "vehicle", Variant: "truck", Metric: "cyclomatic_complexity", Status: variant.VariantFail, Delta: 6.24, Limit: 5, ChangePP: change(2.35)},
			{Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Status: variant.VariantFail, Delta: 6.21, Limit: 5, ChangePP: change(2.35)},
		},
		Dimensions: []variant.DimensionResult{{Name: "vehicle", Status: variant.VariantFail, Recommendations: []variant.Recommendation{
			move("class_count", "vehicles/truck/autonomy.go", 1, 4.76, 2.38),
			move("lines_of_code", "vehicles/truck/autonomy.go", 245, 6.21, 3.77),
			move("cyclomatic_complexity", "vehicles/truck/autonomy.go", 80, 6.24, 3.79),
			move("lines_of_code", "vehicles/truck/truck.go", 191, 6.21, 4.30),
		}}},
	}
	tests := []struct {
		name, link string
		want       []string
		not        []string
	}{
		{"with the request's link", "http://gate.example/ccb/3",
			[]string{"**CCB request:** http://gate.example/ccb/3", "| ❌ fail vehicle / truck | `cyclomatic_complexity` | 6.24% | hard 5.00% | +2.35 pp |",
				"| 📈 trend fail vehicle / truck | `class_count` | +2.32 pp change | trend: at most +0.50 pp | level 4.76% |"},
			[]string{"A blocked change needs"}},
		{"without a request", "", []string{"A blocked change needs a refactoring or an approved CCB exception."}, []string{"CCB request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			writeMarkdown(&b, a, tt.link)
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("has %q:\n%s", w, out)
				}
			}
			if fail, trend := strings.Index(out, "`cyclomatic_complexity` | 6.24%"), strings.Index(out, "`class_count` | +2.32"); fail < 0 || trend < fail {
				t.Errorf("the trend item comes before the failure:\n%s", out)
			}
			if n := strings.Count(out, "vehicles/truck/autonomy.go"); n != 1 {
				t.Errorf("autonomy.go named %d times, want once:\n%s", n, out)
			}
		})
	}
}

func TestAnalyzePostAndWait(t *testing.T) {
	dir := fleet(t, 600)
	var polls atomic.Int32
	var decision atomic.Value
	decision.Store("approved")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, `{"error":{"code":"unauthorized"}}`, http.StatusUnauthorized)
			return
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/budget/analyze":
			body, _ := io.ReadAll(r.Body)
			var a map[string]any
			if json.Unmarshal(body, &a) != nil || a["status"] != "blocked" {
				http.Error(w, "bad analysis", http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, `{"status":"blocked","exception_id":42,"ccb_request":{"id":42,"url":"http://ccb/42"}}`)
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/exceptions/42":
			if polls.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				fmt.Fprint(w, `{"status":"pending"}`)
				return
			}
			fmt.Fprintf(w, `{"status":%q}`, decision.Load())
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Setenv("BUDGETGATE_TOKEN", "s3cret")

	code, out, errOut := runAnalyzeCmd(t, dir, "--post", srv.URL, "--wait", "20s", "--format", "markdown")
	if code != 0 || polls.Load() != 2 || !strings.Contains(errOut, "CCB request 42 approved") {
		t.Errorf("approved: exit %d after %d polls: %s", code, polls.Load(), errOut)
	}
	// Short, failures first, with the request's link; never the server's JSON.
	if strings.Contains(errOut, "{") || strings.Count(errOut, "\n") > 8 ||
		!strings.Contains(errOut, "FAIL       vehicle/truck lines_of_code: 5.94%, over hard 5.00%") || !strings.Contains(errOut, "CCB request: http://ccb/42") {
		t.Errorf("stderr of a blocked post:\n%s", errOut)
	}
	if !strings.Contains(out, "**CCB request:** http://ccb/42") {
		t.Errorf("the markdown comment lacks the request's link:\n%s", out)
	}
	polls.Store(0)
	decision.Store("rejected")
	code, _, errOut = runAnalyzeCmd(t, dir, "--post", srv.URL, "--wait", "20s")
	if code != 1 || !strings.Contains(errOut, "rejected") {
		t.Errorf("rejected: exit %d: %s", code, errOut)
	}
	code, _, _ = runAnalyzeCmd(t, dir, "--post", srv.URL)
	if code != 1 {
		t.Errorf("post without wait, blocked: exit %d", code)
	}
	t.Setenv("BUDGETGATE_TOKEN", "wrong")
	if code, _, errOut := runAnalyzeCmd(t, dir, "--post", srv.URL); code != 2 || !strings.Contains(errOut, "401") {
		t.Errorf("bad token: exit %d: %s", code, errOut)
	}
}
