package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// quickStartRepo is a git repository whose main warns (truck 400 of 9,900
// lines) and whose branch abc123 fails (600), as the README's quick start
// expects a revision of that name.
func quickStartRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	env := append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(path string, lines int) {
		var b strings.Builder
		b.WriteString("package p\n")
		for i := 1; i < lines; i++ {
			fmt.Fprintf(&b, "var v%d = %d\n", i, i)
		}
		p := filepath.Join(dir, path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(b.String()), 0o644)
	}
	git("init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, ".budgetgate.yaml"), []byte(`project: fleet-core
baseline: main
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code]}
`), 0o644)
	write("core/a.go", 9500)
	write("vehicles/truck/t.go", 400)
	git("add", "-A")
	git("commit", "-q", "-m", "main")
	git("checkout", "-q", "-b", "abc123")
	write("vehicles/truck/t.go", 600)
	git("commit", "-q", "-am", "truck")
	git("checkout", "-q", "main")
	return dir
}

// TestVariantQuickStart runs the README's quick start against the binary
// configured with one repository, then the deployment gate.
func TestVariantQuickStart(t *testing.T) {
	repo := quickStartRepo(t)
	t.Setenv("BUDGETGATE_REPO", "fleet-core="+repo)
	srv := startServer(t, "--db", filepath.Join(t.TempDir(), "bg.db"), "--dev-open-api")

	// The README's quick-start curl, as written, without a token (make dev.variant-budget's --dev-open-api):
	// curl -X POST .../api/v1/budget/analyze -H "Content-Type: application/json" -d '{"commit_sha":"abc123","baseline":"main"}'
	resp, err := http.Post(srv.URL+"/api/v1/budget/analyze", "application/json", strings.NewReader(`{"commit_sha":"abc123","baseline":"main"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	status := resp.StatusCode
	var a struct {
		Project    string `json:"project"`
		Status     string `json:"status"`
		OnBaseline bool   `json:"on_baseline"`
		Violations []struct {
			Variant string  `json:"variant"`
			Delta   float64 `json:"delta"`
		} `json:"violations"`
	}
	if err := json.Unmarshal(body, &a); err != nil || status != 201 {
		t.Fatalf("quick start: %d %s", status, body)
	}
	if a.Project != "fleet-core" || a.Status != "blocked" || a.OnBaseline || len(a.Violations) != 1 || a.Violations[0].Delta != 5.94 {
		t.Fatalf("quick start answer %+v", a)
	}
	// curl .../api/v1/budget/status: no baseline analysis yet.
	if status, body := srv.do(t, "GET", "/api/v1/budget/status", ""); status != 404 {
		t.Errorf("status before a baseline analysis: %d %s", status, body)
	}

	tests := []struct {
		name  string
		merge bool   // fast-forward main to abc123 first, as a merge of the change would
		body  string // analysed before the gate is asked; "" for none
		args  []string
		code  int
		out   string
	}{
		{"a failing change does not block deployment", false, "", []string{"--project", "fleet-core"}, exitOK, "ALLOWED"},
		{"main warns: allowed", false, `{"commit_sha":"main","baseline":"main"}`, []string{"--project", "fleet-core"}, exitOK, "ALLOWED"},
		{"the failing branch named as its own baseline is still a change", false, `{"commit_sha":"abc123","baseline":"abc123"}`, []string{"--project", "fleet-core"}, exitOK, "ALLOWED"},
		{"merged into main: blocked", true, `{"commit_sha":"main"}`, []string{"--project", "fleet-core"}, exitBlocked, "vehicle/truck lines_of_code 5.94%"},
		{"json", false, "", []string{"--project", "fleet-core", "--json"}, exitBlocked, `"allowed":false`},
		{"unknown project", false, "", []string{"--project", "nope"}, exitError, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.merge {
				cmd := exec.Command("git", "merge", "-q", "--ff-only", "abc123")
				cmd.Dir = repo
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("git merge: %v\n%s", err, out)
				}
			}
			if tt.body != "" {
				if status, body := srv.do(t, "POST", "/api/v1/budget/analyze", tt.body); status != 201 {
					t.Fatalf("analyze: %d %s", status, body)
				}
			}
			code, out := runCLIWithToken(t, srv.Token, append([]string{"gate", "--server", srv.URL}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.out) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tt.code, tt.out, out)
			}
		})
	}
	if status, body := srv.do(t, "GET", "/api/v1/budget/status", ""); status != 200 || !strings.Contains(string(body), `"status":"blocked"`) {
		t.Errorf("status: %d %s", status, body)
	}
}
