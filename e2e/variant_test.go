package e2e

import (
	"bufio"
	"bytes"
	"context"
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

// count is how many elements match sel on the current page.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		t.Fatalf("counting %s: %v", sel, err)
	}
	return n
}

// mustContain fails unless the text of sel holds every want.
func mustContain(t *testing.T, ctx context.Context, sel string, want ...string) {
	t.Helper()
	s := text(t, ctx, sel)
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", sel, w, s)
		}
	}
}

// TestVariantRequestJourney: CI posts a blocked analysis and waits; a CCB
// member finds a request that cannot be approved yet and says why; the
// requester (whose token CI used) adds the refactoring plan in the
// browser; the member approves; the waiting analyze exits 0; the member
// then revokes the exception and the same change is blocked again.
func TestVariantRequestJourney(t *testing.T) {
	cmd := exec.Command(binary, "analyze", blockedRepo(t), "--post", baseURL, "--wait", "3m", "--format", "markdown")
	cmd.Env = append(os.Environ(), "BUDGETGATE_TOKEN="+ciToken)
	stderr, _ := cmd.StderrPipe()
	var comment bytes.Buffer
	cmd.Stdout = &comment
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
	path := "/ccb/" + id
	// Each browser has a deadline of its own: one a phase, so that a slow
	// machine does not run the whole journey against one.
	member := newBrowser(t)

	// The member reads a decision-ready page, but no Approve: the plan is missing.
	signIn(t, member, "ccb-alice", path)
	mustContain(t, member, `[data-testid="violations"]`, "vehicle / truck", "lines of code", "5.94%", "hard", "over 5.00%", "600 in truck beside 9500 in core")
	mustContain(t, member, `[data-testid="files"]`, "vehicles/truck/truck.go")
	mustContain(t, member, `[data-testid="requester"]`, "Rita Patel")
	mustContain(t, member, `[data-testid="approve-blocked"]`, "no refactoring plan", "Rita Patel")
	mustContain(t, member, `[data-testid="may-vote"]`, "Alice Chen")
	mustContain(t, member, "h1", "e2e-fleet vehicle/truck: 1 metric over budget at")
	if s := text(t, member, "main"); strings.Contains(s, "token demo-ci") || strings.Contains(s, "Have rollback ready") {
		t.Errorf("the request page names the token or a release condition:\n%s", s)
	}
	if n := count(t, member, `[data-testid="approve"]`); n != 0 {
		t.Error("Approve is offered before the request has a plan")
	}
	for _, link := range []string{"project-link", "commit-link", "analysis-link"} {
		if n := count(t, member, fmt.Sprintf(`[data-testid=%q][href^="/projects/e2e-fleet"]`, link)); n != 1 {
			t.Errorf("%s does not link the project page", link)
		}
	}
	screenshot(t, member, "ccb-variant-request-without-plan.png")
	do(t, member, chromedp.Navigate(baseURL+"/ccb"), chromedp.WaitVisible(testid("pending")))
	mustContain(t, member, fmt.Sprintf(`[data-testid="request-%s"]`, id), "awaiting your vote")

	// The requester adds the plan in the browser.
	requester := newBrowser(t)
	signIn(t, requester, "dev-rita", path)
	target := time.Now().AddDate(0, 2, 0).Format("2006-01-02")
	do(t, requester,
		chromedp.WaitVisible(testid("edit-form")),
		chromedp.SetValue(chromedp.CSS("#plan_steps"), "Move the truck brake model into core behind a capability flag\nDelete the truck copy of the shared helpers"),
		chromedp.SetValue(chromedp.CSS("#plan_target"), target),
		chromedp.Click(testid("save-edit")),
		chromedp.WaitVisible(testid("plan")),
	)
	mustContain(t, requester, `[data-testid="plan"]`, "capability flag", "shared helpers")
	mustContain(t, requester, "#plan-h", target)
	screenshot(t, requester, "ccb-variant-request-requester.png")
	do(t, requester, chromedp.Navigate(baseURL+"/ccb"), chromedp.WaitVisible(testid("pending")))
	mustContain(t, requester, fmt.Sprintf(`[data-testid="request-%s"]`, id), "yours")

	// Now the member can approve.
	member = newBrowser(t)
	signIn(t, member, "ccb-alice", path)
	do(t, member, chromedp.WaitVisible(testid("approve")))
	screenshot(t, member, "ccb-variant-request.png")
	vote(t, member, "approve", "")
	do(t, member, chromedp.WaitVisible(testid("revoke-form")))
	if s := text(t, member, `[data-testid="conditions"]`); strings.Contains(s, "rollback") || !strings.Contains(s, "Refactoring plan done by "+target) {
		t.Errorf("conditions of the variant exception:\n%s", s)
	}
	screenshot(t, member, "ccb-variant-request-approved.png")

	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("analyze --wait exited %d after approval, want 0:\n%s", code, log.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("analyze --wait still waiting 60s after approval:\n%s", log.String())
	}
	// CI's log is short and links the request; so does the comment.
	if l := log.String(); strings.Contains(l, "{") || !strings.Contains(l, "FAIL") || !strings.Contains(l, "approved") {
		t.Errorf("analyze's stderr:\n%s", l)
	}
	if !strings.Contains(comment.String(), "**CCB request:** "+baseURL+path) {
		t.Errorf("the markdown comment lacks the request's link:\n%s", comment.String())
	}
	// The violation it covers is excepted at once.
	if s := violationStates(t); len(s) == 0 || s[0] != "excepted" {
		t.Errorf("violations after approval: %v, want the truck violation excepted", s)
	}
	// The project page follows the plan: the delta it was granted, the
	// delta now, the target.
	member = newBrowser(t)
	signIn(t, member, "ccb-alice", "/projects/e2e-fleet")
	do(t, member, chromedp.WaitVisible(testid("plans")))
	if s := text(t, member, `[data-testid="plans"]`); !strings.Contains(s, "5.94%") || !strings.Contains(s, "in progress") {
		t.Errorf("plan progress on the project page:\n%s", s)
	}
	screenshot(t, member, "project.png")
	// The same change posted again is now excepted, up to what it measured.
	if got := repost(t); got != "excepted" {
		t.Fatalf("re-posted analysis: %q, want excepted", got)
	}

	// A member ends the exception early: the gate closes again.
	do(t, member,
		chromedp.Navigate(baseURL+path),
		chromedp.WaitVisible(testid("revoke-form")),
		chromedp.SendKeys(chromedp.CSS("#revoke_reason"), "The truck launch moved to next year."),
		chromedp.Click(testid("revoke")),
		chromedp.WaitVisible(testid("revoked")),
	)
	mustContain(t, member, `[data-testid="revoked"]`, "Alice Chen", "The truck launch moved to next year.")
	if s := violationStates(t); len(s) == 0 || s[0] != "open" {
		t.Errorf("violations after the revocation: %v, want open", s)
	}
	if got := repost(t); got != "blocked" {
		t.Errorf("re-posted analysis after the revocation: %q, want blocked", got)
	}
}

// violationStates are the states of e2e-fleet's violations, newest first.
func violationStates(t *testing.T) []string {
	t.Helper()
	var list struct {
		Violations []struct {
			State string `json:"state"`
		} `json:"violations"`
	}
	if status := api(t, "GET", "/api/v1/budget/violations?project=e2e-fleet", "", &list); status != 200 {
		t.Fatalf("violations: %d", status)
	}
	var out []string
	for _, v := range list.Violations {
		out = append(out, v.State)
	}
	return out
}

// repost analyses the blocked repository again and posts it as CI would,
// returning the server's status.
func repost(t *testing.T) string {
	t.Helper()
	var ans struct {
		Status string `json:"status"`
	}
	out, err := exec.Command(binary, "analyze", blockedRepo(t), "--format", "json").Output()
	if err != nil && len(out) == 0 {
		t.Fatal(err)
	}
	if status := api(t, "POST", "/api/v1/budget/analyze", string(out), &ans); status != 201 && status != 200 {
		t.Fatalf("re-posting: %d", status)
	}
	return ans.Status
}

// TestDemoRequestAndBlockedProject: the README's blocked change (branch
// abc123 of the demo repository) makes a request whose trend failure reads
// as a change against its trend limit; and a blocked project goes to the
// CCB from its page, as its developer would take it.
func TestDemoRequestAndBlockedProject(t *testing.T) {
	var ans struct {
		Status     string `json:"status"`
		CCBRequest struct {
			ID int64 `json:"id"`
		} `json:"ccb_request"`
	}
	if status := api(t, "POST", "/api/v1/budget/analyze", `{"project":"fleet-core","commit_sha":"abc123","baseline":"main"}`, &ans); status != 201 || ans.Status != "blocked" || ans.CCBRequest.ID == 0 {
		t.Fatalf("the README's analysis: %d %+v, want 201 blocked with a CCB request", status, ans)
	}
	member := newBrowser(t)
	signIn(t, member, "ccb-bruno", fmt.Sprintf("/ccb/%d", ans.CCBRequest.ID))
	mustContain(t, member, "h1", "fleet-core vehicle/truck: 4 metrics over budget at")
	mustContain(t, member, `[data-testid="violation-truck-class_count"]`, "trend", "pp since", "a change", "under its hard limit")
	mustContain(t, member, `[data-testid="violation-truck-cyclomatic_complexity"]`, "6.24%", "hard", "over 5.00%", "pp (")
	mustContain(t, member, `[data-testid="branch"]`, "compared with the baseline branch main at")
	mustContain(t, member, `[data-testid="reason"]`, "grew +", "trend limit +0.50 pp")
	if n := count(t, member, `[data-testid="files"] tbody tr`); n == 0 {
		t.Error("no file is named as putting the truck over")
	}
	if s := text(t, member, `[data-testid="files"]`); strings.Count(s, "vehicles/truck/autonomy.go") != 1 {
		t.Errorf("autonomy.go is not named exactly once:\n%s", s)
	}
	screenshot(t, member, "ccb-fleet-core-request.png")
	// At phone width the request still reads without scrolling sideways.
	do(t, member, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(testid("violations")))
	if w, err := chromedp.Run(member, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		t.Errorf("the request page is %d px wide at 390 px (%v)", w, err)
	}
	screenshot(t, member, "ccb-fleet-core-request-390.png")

	developer := newBrowser(t)
	signIn(t, developer, "dev-rita", "/projects/telematics-gateway")
	do(t, developer, chromedp.WaitVisible(testid("ask-board-telematics-gateway")))
	screenshot(t, developer, "project-blocked-ask-board.png")
	do(t, developer,
		chromedp.SendKeys(chromedp.CSS("#ask-reason-telematics-gateway"), "The gateway's sector overlay ships with the port pilot; it folds into core next quarter."),
		chromedp.Click(testid("ask-board")),
		chromedp.WaitVisible(testid("status-line")),
	)
	mustContain(t, developer, "h1", "telematics-gateway")
	mustContain(t, developer, `[data-testid="requester"]`, "Rita Patel")
	mustContain(t, developer, `[data-testid="reason"]`, "port pilot")
	if n := count(t, developer, `[data-testid="edit-form"]`); n != 1 {
		t.Error("the requester is not offered the form to add the plan")
	}
	// /violations offers the same, and now names the request waiting.
	do(t, developer, chromedp.Navigate(baseURL+"/violations"), chromedp.WaitVisible(testid("ask-board-telematics-gateway")))
	mustContain(t, developer, `[data-testid="ask-board-telematics-gateway"]`, "Already waiting for the board")
}
