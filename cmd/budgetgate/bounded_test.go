package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowTree writes a working tree whose policy is allowed (well under the
// YAML limits) but makes matching long: thousands of many-star exclude
// patterns, each tried on every one of thousands of files.
func slowTree(t *testing.T, files int) string {
	t.Helper()
	dir := t.TempDir()
	var p strings.Builder
	p.WriteString("project: slow\nexclude:\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&p, "  - \"**/a*a*a*a*a*a*a*a*a*b%d/**\"\n", i)
	}
	p.WriteString("dimensions:\n  vehicle:\n    variants: [\"vehicles/{variant}/**\"]\n")
	p.WriteString("vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, metrics: [lines_of_code]}\n")
	tree := map[string]string{".budgetgate.yaml": p.String()}
	for i := 0; i < files; i++ {
		tree[fmt.Sprintf("vehicles/v%d/aaaaaaaaaaaaaaaaaaaaaaaa/aaaaaaaaaaaaaaaaaaaa%d.go", i%10, i)] = "package p\n"
	}
	for name, c := range tree {
		full := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestAnalyzeStopsOnSignal runs the real binary on a long analysis and
// sends it SIGTERM, then SIGINT: it must exit within a second, with exit
// code 2 and a message saying why.
func TestAnalyzeStopsOnSignal(t *testing.T) {
	dir := slowTree(t, 3000)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(binary, "analyze", dir, "--no-cache")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Long enough to be matching, not still starting.
			select {
			case err := <-done:
				t.Fatalf("the analysis ended before the signal (%v): it is not long enough to test\n%s", err, stderr.String())
			case <-time.After(2 * time.Second):
			}
			cmd.Process.Signal(sig)
			sent := time.Now()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 5s after %v", sig)
			}
			if took := time.Since(sent); took > time.Second {
				t.Errorf("exited %v after %v, want within a second", took, sig)
			}
			if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), "stopped by a signal") {
				t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
			}
		})
	}
}

// TestServerAnalysisDeadline: an analysis of a configured repository that
// passes the request timeout is cut with 503 and a clear message, nothing is
// stored, and the repository is given back: the next analysis of it, and one
// sent while the slow one ran, are answered.
func TestServerAnalysisDeadline(t *testing.T) {
	// Few files, so that reading them from git is quick; still seconds of
	// matching under the slow policy.
	dir := slowTree(t, 300)
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=D", "GIT_AUTHOR_EMAIL=d@example.com", "GIT_COMMITTER_NAME=D", "GIT_COMMITTER_EMAIL=d@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	slow, err := os.ReadFile(filepath.Join(dir, ".budgetgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".budgetgate.yaml"), []byte(cliPolicy), 0o644)
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "quick policy")
	git("checkout", "-q", "-b", "slow")
	os.WriteFile(filepath.Join(dir, ".budgetgate.yaml"), slow, 0o644)
	git("commit", "-q", "-am", "slow policy")
	git("checkout", "-q", "main")

	srv := startServer(t, "--db", filepath.Join(t.TempDir(), "bg.db"), "--request-timeout", "2s", "--repo", "fleet-core="+dir)
	type answer struct {
		status int
		body   string
		took   time.Duration
	}
	post := func(body string) answer {
		start := time.Now()
		status, b := srv.do(t, "POST", "/api/v1/budget/analyze", body)
		return answer{status, string(b), time.Since(start)}
	}
	slowAnswer := make(chan answer, 1)
	go func() { slowAnswer <- post(`{"commit_sha":"slow"}`) }()
	time.Sleep(300 * time.Millisecond)
	waiting := post(`{"commit_sha":"slow"}`) // waits for the repository, then for its own deadline
	first := <-slowAnswer
	for _, a := range []answer{first, waiting} {
		if a.status != 503 || !strings.Contains(a.body, "did not finish within the request timeout") {
			t.Errorf("slow analysis: %d %s", a.status, a.body)
		}
		if a.took > 4*time.Second {
			t.Errorf("slow analysis answered after %v, with a 2s request timeout", a.took)
		}
	}
	// Nothing was stored: the project has no analysis yet.
	if status, body := srv.do(t, "GET", "/api/v1/budget/status?project=fleet-core", ""); status != 404 {
		t.Errorf("status after the cut analyses: %d %s", status, body)
	}
	if a := post(`{"commit_sha":"main"}`); a.status != 201 || a.took > 2*time.Second {
		t.Errorf("the next analysis of the repository: %d after %v: %s", a.status, a.took, a.body)
	}
}
