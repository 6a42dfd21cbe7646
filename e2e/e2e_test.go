// Package e2e drives the real budgetgate binary with a real browser:
// Debian's chromium through chromedp, signing in through the development
// identity provider, as a CCB member would. The tests skip, saying so, only
// when chromium is not installed.
package e2e

import (
	"bufio"
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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

var (
	binary   string // the budgetgate binary built for the run
	baseURL  string // where the server listens
	ciToken  string // the demo CI token it printed
	chromium string // the browser, "" when not installed
	skipWhy  string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	chromium = os.Getenv("BUDGETGATE_CHROMIUM")
	if chromium == "" {
		chromium, _ = exec.LookPath("chromium")
	}
	if chromium == "" {
		skipWhy = "chromium is not installed (apt-get install -y chromium); browser tests skipped"
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "budgetgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "budgetgate")
	build := exec.Command("go", "build", "-o", binary, "github.com/budgetgate/budgetgate/cmd/budgetgate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building budgetgate:", err)
		return 2
	}
	stop, err := startServer(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting budgetgate:", err)
		return 2
	}
	code := m.Run()
	stop()
	return code
}

var (
	listening = regexp.MustCompile(`msg="budgetgate listening" addr=(\S+)`)
	tokenLine = regexp.MustCompile(`export BUDGETGATE_TOKEN=(\S+)`)
)

// startServer starts `serve --addr 127.0.0.1:0 --dev-idp --demo` and reads
// its address from the log and the CI token from its output.
func startServer(dir string) (func(), error) {
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "e2e.db"), "--dev-idp", "--demo")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	}
	found := make(chan string, 2)
	scan := func(r io.Reader, re *regexp.Regexp, echo bool) {
		s := bufio.NewScanner(r)
		for s.Scan() {
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				found <- m[0]
			}
			if echo && os.Getenv("BUDGETGATE_E2E_LOG") != "" {
				fmt.Fprintln(os.Stderr, s.Text())
			}
		}
	}
	go scan(stdout, tokenLine, false)
	go scan(stderr, listening, true)
	deadline := time.After(3 * time.Minute)
	for baseURL == "" || ciToken == "" {
		select {
		case line := <-found:
			if m := listening.FindStringSubmatch(line); m != nil {
				baseURL = "http://" + m[1]
			} else if m := tokenLine.FindStringSubmatch(line); m != nil {
				ciToken = m[1]
			}
		case <-deadline:
			stop()
			return nil, fmt.Errorf("no address or token within 3 minutes (the demo data is seeded first; a loaded machine takes longer)")
		}
	}
	return stop, nil
}

// newBrowser starts a fresh headless chromium (its own profile, so its own
// cookies) and returns a context for it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserFor(t, 90*time.Second)
}

// newBrowserFor is newBrowser for a test that needs the browser for longer
// than a journey does (one that visits every page).
func newBrowserFor(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser now, without a deadline (a deadline on the first
	// run would bound the browser's whole life).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var (
		s   string
		err error
	)
	// A page still settling after a redirect can replace the node between
	// the query and the read ("No node with given id"); read it afresh then.
	for range 3 {
		if s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel))); err == nil || !strings.Contains(err.Error(), "No node") {
			break
		}
	}
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func testid(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

// signIn goes to path, is sent to sign in, picks the demo user on the
// provider's chooser, and lands back on path.
func signIn(t *testing.T, ctx context.Context, subject, path string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(baseURL+path),
		chromedp.WaitVisible(testid("login-"+subject)),
		chromedp.Click(testid("login-"+subject)),
		chromedp.WaitVisible(testid("who")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != baseURL+path {
		t.Fatalf("after sign-in the browser is at %s, want %s", loc, baseURL+path)
	}
}

// screenshot saves the page into BUDGETGATE_SCREENSHOTS (default a temp dir).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("BUDGETGATE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// api calls the server with the demo CI token.
func api(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, baseURL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ciToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

type request struct {
	Status string `json:"status"`
	Votes  []struct {
		Decision string `json:"decision"`
	} `json:"votes"`
}

// gateRun is a `budgetgate gate --request-exception --wait` running in the
// background, as a CI job would.
type gateRun struct {
	id   int64
	done chan struct{}
	code int
	out  bytes.Buffer
	mu   sync.Mutex
}

var requestLine = regexp.MustCompile(`CCB request (\d+) is pending`)

func startGate(t *testing.T, version, reason string) *gateRun {
	t.Helper()
	cmd := exec.Command(binary, "gate", "--server", baseURL, "--service", "ledger", "--version", version,
		"--request-exception", reason, "--wait", "2m")
	cmd.Env = append(os.Environ(), "BUDGETGATE_TOKEN="+ciToken)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &gateRun{done: make(chan struct{})}
	ids := make(chan int64, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			g.mu.Lock()
			g.out.WriteString(s.Text() + "\n")
			g.mu.Unlock()
			if m := requestLine.FindStringSubmatch(s.Text()); m != nil {
				var id int64
				fmt.Sscan(m[1], &id)
				ids <- id
			}
		}
		cmd.Wait()
		g.code = cmd.ProcessState.ExitCode()
		close(g.done)
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case g.id = <-ids:
	case <-g.done:
		t.Fatalf("gate ended (exit %d) without opening a request:\n%s", g.code, g.output())
	case <-time.After(30 * time.Second):
		t.Fatal("gate opened no request within 30s")
	}
	return g
}

func (g *gateRun) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

func (g *gateRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-g.done:
		return g.code
	case <-time.After(60 * time.Second):
		t.Fatalf("gate --wait still running 60s after the decision:\n%s", g.output())
		return -1
	}
}

func vote(t *testing.T, ctx context.Context, decision, comment string) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(testid("vote-form")),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="decision"][value=%q]`, decision))),
	}
	if comment != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS("#comment"), comment))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(`[data-testid="vote-form"] button[type="submit"]`)))
	do(t, ctx, steps...)
}

func TestApprovalUnblocksWaitingGate(t *testing.T) {
	ctx := newBrowser(t)
	g := startGate(t, "7.0.1", "Month-end close needs the rounding fix; rollback is a config flag.")

	signIn(t, ctx, "ccb-alice", "/ccb")
	row := fmt.Sprintf("request-%d", g.id)
	do(t, ctx, chromedp.WaitVisible(testid(row)))
	if s := text(t, ctx, `[data-testid="pending"] [data-testid="`+row+`"]`); !strings.Contains(s, "ledger 7.0.1") || !strings.Contains(s, "Denied") {
		t.Errorf("queue row: %q", s)
	}
	screenshot(t, ctx, "ccb-queue.png")

	do(t, ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/ccb/%d"]`, g.id))),
		chromedp.WaitVisible(testid("evidence")),
	)
	if s := text(t, ctx, `[data-testid="reason"]`); !strings.Contains(s, "Month-end close") {
		t.Errorf("reason on the request page: %q", s)
	}
	screenshot(t, ctx, "ccb-request.png")

	vote(t, ctx, "approve", "Watch the reconciliation job after deploy.")
	do(t, ctx, chromedp.WaitVisible(testid("conditions")))
	if s := text(t, ctx, `[data-testid="status-line"]`); !strings.Contains(s, "Approved by Alice Chen") {
		t.Errorf("status after approval: %q", s)
	}
	screenshot(t, ctx, "ccb-approved.png")
	// The same page at phone width.
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	screenshot(t, ctx, "ccb-approved-phone.png")
	do(t, ctx, chromedp.EmulateReset())

	if code := g.wait(t); code != 0 {
		t.Fatalf("gate --wait exited %d, want 0:\n%s", code, g.output())
	}
	do(t, ctx, chromedp.Navigate(baseURL+"/audit?subject="+fmt.Sprintf("exception/%d", g.id)), chromedp.WaitVisible(testid("audit")))
	if s := text(t, ctx, `[data-testid="audit"]`); !strings.Contains(s, "exception.approved") || !strings.Contains(s, "exception.vote") || !strings.Contains(s, "exception.open") {
		t.Errorf("audit log for the request:\n%s", s)
	}
	screenshot(t, ctx, "audit.png")
	want := fmt.Sprintf("APPROVED: CCB exception %d approved by Alice Chen", g.id)
	if out := g.output(); !strings.Contains(out, want) || !strings.Contains(out, "CCB (Alice Chen): Watch the reconciliation job after deploy.") {
		t.Errorf("gate output lacks %q:\n%s", want, out)
	}
}

func TestRejectionFailsWaitingGate(t *testing.T) {
	ctx := newBrowser(t)
	g := startGate(t, "7.1.0", "Please let the schema change through.")
	path := fmt.Sprintf("/ccb/%d", g.id)
	signIn(t, ctx, "ccb-bruno", path)

	// Rejecting needs a comment: the page says so and keeps the choice.
	vote(t, ctx, "reject", "")
	do(t, ctx, chromedp.WaitVisible(testid("vote-error")))
	if s := text(t, ctx, `[data-testid="vote-error"]`); !strings.Contains(s, "required to reject") {
		t.Errorf("error for a rejection without comment: %q", s)
	}
	vote(t, ctx, "reject", "The migration has no rollback; split it first.")
	do(t, ctx, chromedp.WaitVisible(testid("votes")))
	if s := text(t, ctx, `[data-testid="status-line"]`); !strings.Contains(s, "Rejected by Bruno Diaz") {
		t.Errorf("status after rejection: %q", s)
	}
	if code := g.wait(t); code != 1 {
		t.Fatalf("gate --wait exited %d after a rejection, want 1:\n%s", code, g.output())
	}
	if out := g.output(); !strings.Contains(out, "was rejected by Bruno Diaz: The migration has no rollback") {
		t.Errorf("gate output:\n%s", out)
	}
}

func deniedDecision(t *testing.T, version string) int64 {
	t.Helper()
	var dec struct {
		ID       int64 `json:"decision_id"`
		Approved bool  `json:"approved"`
	}
	if code := api(t, "POST", "/api/v1/releases/evaluate", fmt.Sprintf(`{"service":"ledger","version":%q}`, version), &dec); code != 200 || dec.Approved {
		t.Fatalf("evaluate: %d %+v", code, dec)
	}
	return dec.ID
}

func TestOwnRequestCannotBeVotedOn(t *testing.T) {
	ctx := newBrowser(t)
	id := deniedDecision(t, "7.2.0")
	signIn(t, ctx, "ccb-bruno", "/ccb")
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#decision_id"), fmt.Sprint(id)),
		chromedp.SendKeys(chromedp.CSS("#reason"), "My own hotfix."),
		chromedp.Click(chromedp.CSS(`[data-testid="new-request"] button[type="submit"]`)),
		chromedp.WaitVisible(testid("vote-blocked")),
	)
	if s := text(t, ctx, `[data-testid="vote-blocked"]`); !strings.Contains(s, "so you cannot vote on it") {
		t.Errorf("own request: %q", s)
	}
	// Even a hand-made form is refused by the server.
	submitForged(t, ctx, "approve")
	do(t, ctx, chromedp.WaitVisible(testid("vote-error")))
	if s := text(t, ctx, `[data-testid="vote-error"]`); !strings.Contains(s, "so you cannot vote on it") {
		t.Errorf("forged own vote: %q", s)
	}
}

// submitForged builds a vote form on the current request page (with the
// session's real CSRF token) and submits it, as someone editing the page
// would.
func submitForged(t *testing.T, ctx context.Context, decision string) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const f = document.createElement('form');
		f.method = 'post';
		f.action = location.pathname + '/votes';
		for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], ['decision', %q]]) {
			const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
		}
		document.body.appendChild(f);
		f.submit();
		return true;
	})()`, decision)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
		t.Fatal(err)
	}
}

func TestViewerVoteRefused(t *testing.T) {
	ctx := newBrowser(t)
	g := startGate(t, "7.3.0", "Viewer test.")
	path := fmt.Sprintf("/ccb/%d", g.id)
	signIn(t, ctx, "dev-rita", path)
	do(t, ctx, chromedp.WaitVisible(testid("vote-blocked")))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=vote-form]').length`)); n != 0 {
		t.Error("a viewer is shown the vote form")
	}
	submitForged(t, ctx, "approve")
	do(t, ctx, chromedp.WaitVisible(testid("vote-error")))
	if s := text(t, ctx, `[data-testid="vote-error"]`); !strings.Contains(s, "only CCB members vote") {
		t.Errorf("viewer's vote: %q", s)
	}
	var r request
	api(t, "GET", "/api/v1/exceptions/"+fmt.Sprint(g.id), "", &r)
	if r.Status != "pending" || len(r.Votes) != 0 {
		t.Errorf("request after the viewer's vote: %+v", r)
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	ctx := newBrowser(t)
	g := startGate(t, "7.4.0", "Cross-site test.")
	signIn(t, ctx, "ccb-alice", fmt.Sprintf("/ccb/%d", g.id))
	// Another site (localhost is not the same site as 127.0.0.1) with a
	// form that posts an approval to budgetgate.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>win a prize</title>
			<form method="post" action="%s/ccb/%d/votes"><input type="hidden" name="decision" value="approve">
			<button id="go" type="submit">Claim</button></form>`, baseURL, g.id)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	do(t, ctx,
		chromedp.Navigate(evilURL),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	)
	if s := text(t, ctx, "h1"); !strings.HasPrefix(s, "401") && !strings.HasPrefix(s, "403") {
		t.Errorf("cross-site post answered %q", s)
	}
	var r request
	api(t, "GET", fmt.Sprintf("/api/v1/exceptions/%d", g.id), "", &r)
	if r.Status != "pending" || len(r.Votes) != 0 {
		t.Errorf("request after a cross-site post: %+v", r)
	}
}

func TestLogoutMakesTheOldCookieUseless(t *testing.T) {
	ctx := newBrowser(t)
	signIn(t, ctx, "ccb-alice", "/ccb")
	cookies, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{baseURL}})
		return res.Cookies, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies {
		if c.Name == "budgetgate_session" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax {
		t.Fatalf("session cookie: %+v", session)
	}
	do(t, ctx,
		chromedp.Click(testid("logout")),
		chromedp.WaitVisible(testid("signed-out")),
	)
	// Replay the cookie the browser had.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", baseURL+"/ccb", nil)
	req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("old cookie after logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The browser itself is signed out too.
	do(t, ctx, chromedp.Navigate(baseURL+"/ccb"), chromedp.WaitVisible(testid("login-ccb-alice")))
}
