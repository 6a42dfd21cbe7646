package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// blockedRepo makes a git repository whose truck variant has 600 lines
// beside 9,500 of core: 5.94%, over the hard limit of 5%.
func blockedRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, lines int) {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		var b strings.Builder
		b.WriteString("package p\n")
		for i := 1; i < lines; i++ {
			fmt.Fprintf(&b, "var v%d = %d\n", i, i)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("core/core.go", 9500)
	write("vehicles/truck/truck.go", 600)
	os.WriteFile(filepath.Join(dir, ".budgetgate.yaml"), []byte(`project: e2e-fleet
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
vehicle_budget:
  hard_limit: 5.0
  soft_limit: 3.0
  metrics: [lines_of_code]
`), 0o644)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"-c", "user.name=ci", "-c", "user.email=ci@example.test", "commit", "-q", "-m", "truck grows"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

var ccbRequestURL = regexp.MustCompile(`CCB request: \S+/ccb/(\d+)`)

// TestApprovalUnblocksWaitingAnalyze: CI posts a blocked analysis and waits;
// the requester adds the refactoring plan; a CCB member approves in the
// browser; the waiting analyze exits 0.
func TestApprovalUnblocksWaitingAnalyze(t *testing.T) {
	ctx := newBrowser(t)
	cmd := exec.Command(binary, "analyze", blockedRepo(t), "--post", baseURL, "--wait", "2m", "--format", "json")
	cmd.Env = append(os.Environ(), "BUDGETGATE_TOKEN="+ciToken)
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	ids := make(chan string, 1)
	var log bytes.Buffer
	done := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := ccbRequestURL.FindStringSubmatch(sc.Text()); m != nil {
				ids <- m[1]
			}
		}
		cmd.Wait()
		done <- cmd.ProcessState.ExitCode()
	}()
	var id string
	select {
	case id = <-ids:
	case code := <-done:
		t.Fatalf("analyze ended (exit %d) without a CCB request:\n%s", code, log.String())
	case <-time.After(60 * time.Second):
		t.Fatal("no CCB request within 60s")
	}

	// The board cannot approve a variant exception without a plan.
	plan := `{"steps":["Move the truck brake model into core behind a capability flag"],"target_date":"` + time.Now().AddDate(0, 2, 0).Format("2006-01-02") + `"}`
	if status := api(t, "PUT", "/api/v1/exceptions/"+id+"/plan", plan, nil); status != 200 {
		t.Fatalf("adding the plan: %d", status)
	}

	signIn(t, ctx, "ccb-bruno", "/ccb/"+id)
	if s := text(t, ctx, `[data-testid="evidence"]`); !strings.Contains(s, "truck") {
		t.Errorf("evidence does not show the truck variant:\n%s", s)
	}
	screenshot(t, ctx, "ccb-variant-request.png")
	vote(t, ctx, "approve", "")
	do(t, ctx, chromedp.WaitVisible(testid("status-line")))

	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("analyze --wait exited %d after approval, want 0:\n%s", code, log.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("analyze --wait still waiting 60s after approval:\n%s", log.String())
	}
	// The violation it covers is excepted at once.
	var list struct {
		Violations []struct {
			State string `json:"state"`
		} `json:"violations"`
	}
	if status := api(t, "GET", "/api/v1/budget/violations?project=e2e-fleet", "", &list); status != 200 || len(list.Violations) == 0 || list.Violations[0].State != "excepted" {
		t.Errorf("violations after approval: %d %+v, want the truck violation excepted", status, list.Violations)
	}
	// The project page follows the plan: the delta it was granted, the
	// delta now, the target.
	do(t, ctx, chromedp.Navigate(baseURL+"/projects/e2e-fleet"), chromedp.WaitVisible(testid("plans")))
	if s := text(t, ctx, `[data-testid="plans"]`); !strings.Contains(s, "5.94%") || !strings.Contains(s, "in progress") {
		t.Errorf("plan progress on the project page:\n%s", s)
	}
	screenshot(t, ctx, "project.png")
	// The same change posted again is now excepted, up to what it measured.
	var ans struct {
		Status string `json:"status"`
	}
	out, err := exec.Command(binary, "analyze", blockedRepo(t), "--format", "json").Output()
	if err != nil && len(out) == 0 {
		t.Fatal(err)
	}
	if status := api(t, "POST", "/api/v1/budget/analyze", string(out), &ans); status != 201 || ans.Status != "excepted" {
		t.Fatalf("re-posted analysis: %d %q, want 201 excepted", status, ans.Status)
	}
}
