package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// TestSessionRotatesAtLogin: signing in in a browser that still carries a
// session gives a new session id and revokes the old one on the server, so
// a session id planted or seen before the login is worth nothing after it.
func TestSessionRotatesAtLogin(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	before := h.agent(t, member("rot", budgetgate.RoleCCB))
	if resp, _ := before.get(t, "/ccb"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the first session does not work: %d", resp.StatusCode)
	}
	c := browser(t)
	base, _ := url.Parse(h.URL)
	resp, _ := get(t, c, h.URL+"/login")
	authorize := resp.Header.Get("Location")
	c.Jar.SetCookies(base, []*http.Cookie{before.Cookie}) // the browser still holds the old session
	resp, _ = get(t, c, authorize+"&login_as=ccb-alice")
	resp, _ = get(t, c, resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	var after *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == h.Auth.sessionName {
			after = ck
		}
	}
	if after == nil || after.Value == before.Cookie.Value {
		t.Fatalf("the login kept the session cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := before.get(t, "/ccb"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("the replaced session still works: %d", resp.StatusCode)
	}
	if _, page := (&agent{h: h, Cookie: after}).get(t, "/ccb"); !strings.Contains(page, "Signed in as Alice Chen") {
		t.Error("the new session does not sign Alice in")
	}
}

// TestSessionTimeouts moves the clock: a session ends after 8 hours without
// a request, and 24 hours after sign-in however busy it is.
func TestSessionTimeouts(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	h := newHarness(t, harnessOptions{now: clock})
	busy := h.agent(t, member("busy"))
	idle := h.agent(t, member("idle"))
	steps := []struct {
		advance  time.Duration
		who      *agent
		signedIn bool
	}{
		{7*time.Hour + 59*time.Minute, busy, true}, // 7:59 idle: still in
		{7*time.Hour + 59*time.Minute, busy, true}, // each request restarts the idle clock
		{0, idle, false}, // 15:58 without a request: out
		{7*time.Hour + 59*time.Minute, busy, true}, // 23:57 after sign-in
		{4 * time.Minute, busy, false},             // 24:01: out, however busy
	}
	for i, s := range steps {
		advance(s.advance)
		resp, _ := s.who.get(t, "/ccb")
		in := resp.StatusCode == http.StatusOK
		if in != s.signedIn {
			t.Fatalf("step %d (%s for %s): signed in = %v (%d), want %v", i, clock().Sub(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), s.who.User.Subject, in, resp.StatusCode, s.signedIn)
		}
		if !in && !slices.ContainsFunc(resp.Header.Values("Set-Cookie"), func(c string) bool {
			return strings.HasPrefix(c, h.Auth.sessionName+"=") && strings.Contains(c, "Max-Age=0")
		}) {
			t.Errorf("step %d: an ended session's cookie is not cleared: %v", i, resp.Header.Values("Set-Cookie"))
		}
	}
}

// TestLogoutReplay: after logout the old cookie and form token do nothing,
// not even a second logout.
func TestLogoutReplay(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	a := h.agent(t, member("leaver", budgetgate.RoleAdmin))
	if resp, _ := a.post(t, "/logout", url.Values{}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?signed_out=1" {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"a page", "GET", "/tokens", http.StatusSeeOther},
		{"a second logout", "POST", "/logout", http.StatusUnauthorized},
		{"a form", "POST", "/tokens", http.StatusUnauthorized},
	}
	before := fingerprint(t, h.Store)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			if tt.method == "GET" {
				resp, _ = a.get(t, tt.path)
			} else {
				resp, _ = a.post(t, tt.path, url.Values{"name": {"replayed"}, "scopes": {"read"}})
			}
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s with the old cookie: %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
			}
		})
	}
	sameData(t, before, fingerprint(t, h.Store))
	if es, _ := h.Store.AuditLog(context.Background(), app.AuditFilter{Action: "logout"}); len(es) != 1 {
		t.Errorf("%d logouts audited, want 1", len(es))
	}
}

// TestCSRF posts a vote in every way a forged form could arrive; none is
// stored, and the genuine one is.
func TestCSRF(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	id := openRequest(t, h, "1.0.0")
	voter := h.agent(t, member("csrf-voter", budgetgate.RoleCCB))
	other := h.agent(t, member("csrf-other", budgetgate.RoleCCB))
	path := fmt.Sprintf("/ccb/%d/votes", id)
	vote := url.Values{"decision": {"approve"}, "comment": {"fine"}}
	with := func(csrf string) url.Values { v := cloneValues(vote); v.Set("csrf", csrf); return v }
	tests := []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no form token", with(""), nil},
		{"another session's token", with(other.CSRF), nil},
		{"a token cut short", with(voter.CSRF[:len(voter.CSRF)-1]), nil},
		{"Sec-Fetch-Site cross-site", with(voter.CSRF), []string{"Sec-Fetch-Site", "cross-site"}},
		{"Sec-Fetch-Site same-site", with(voter.CSRF), []string{"Sec-Fetch-Site", "same-site"}},
		{"a foreign Origin", with(voter.CSRF), []string{"Origin", "https://evil.test"}},
		{"an Origin on another port", with(voter.CSRF), []string{"Origin", "http://127.0.0.1:1"}},
		{"the null Origin", with(voter.CSRF), []string{"Origin", "null"}},
	}
	before := fingerprint(t, h.Store)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := voter.post(t, path, tt.form, tt.header...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%d, want 403", resp.StatusCode)
			}
		})
	}
	t.Run("a browser cookie does not reach the API", func(t *testing.T) {
		resp, _ := voter.do(t, "POST", "/api/v1/exceptions", "application/json", strings.NewReader(`{"decision_id":1,"reason":"x"}`))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%d, want 401", resp.StatusCode)
		}
	})
	sameData(t, before, fingerprint(t, h.Store))
	resp, _ := voter.post(t, path, vote, "Origin", h.URL, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the genuine vote: %d", resp.StatusCode)
	}
	resp, _ = voter.do(t, "POST", "/logout", "", nil, "X-CSRF-Token", voter.CSRF)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the token in X-CSRF-Token: %d", resp.StatusCode)
	}
}

// openRequest evaluates a release of ledger (denied: no data) and opens a
// CCB request for it with the harness's token.
func openRequest(t *testing.T, h *harness, version string) int64 {
	t.Helper()
	status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/releases/evaluate", `{"service":"ledger","version":"`+version+`"}`)
	var dec errorbudget.Decision
	if json.Unmarshal([]byte(raw), &dec); status != 200 || dec.Approved {
		t.Fatalf("evaluate: %d %s", status, raw)
	}
	status, raw, _ = h.api(t, h.Token, "POST", "/api/v1/exceptions", fmt.Sprintf(`{"decision_id":%d,"reason":"Month-end close."}`, dec.ID))
	var e struct{ ID int64 }
	if json.Unmarshal([]byte(raw), &e); status != 201 {
		t.Fatalf("open: %d %s", status, raw)
	}
	return e.ID
}

// TestSecretsHashedAtRest: neither an API token nor a session id is in the
// database files (nor their write-ahead log) in clear; only a token's
// prefix is, to tell tokens apart.
func TestSecretsHashedAtRest(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	admin := h.agent(t, member("keeper", budgetgate.RoleAdmin))
	_, page := admin.post(t, "/tokens", url.Values{"name": {"ci"}, "scopes": {"ingest", "read"}})
	m := regexp.MustCompile(`data-testid="new-token">(bgt_[A-Z0-9]+)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no token shown")
	}
	sess, err := h.Store.Login(context.Background(), member("someone"), "")
	if err != nil {
		t.Fatal(err)
	}
	var files []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(h.Store.Path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		files = append(files, b...)
	}
	secrets := map[string]string{
		"the form's token": m[1], "its random part": m[1][len("bgt_"):],
		"the harness token": h.Token, "a session id": sess.ID,
	}
	for what, s := range secrets {
		if bytes.Contains(files, []byte(s)) {
			t.Errorf("%s is stored in clear", what)
		}
	}
	if !bytes.Contains(files, []byte(m[1][:12])) {
		t.Error("the token's prefix is not in the files: the test reads the wrong files")
	}
	if status, _, _ := h.api(t, m[1], "GET", "/api/v1/services", ""); status != http.StatusOK {
		t.Errorf("the token from the form: %d", status)
	}
}

// TestTokenScopes calls every API route with a token of each scope: only
// the scope the route needs gets past authorisation; the others get 403.
// A route missing from the table fails the test, so that a new route is
// given its scope on purpose.
func TestTokenScopes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	want := map[string]string{
		"POST /api/v1/services/:service/sli":             budgetgate.ScopeIngest,
		"POST /api/v1/services/:service/slos/:slo/sli":   budgetgate.ScopeIngest,
		"GET /api/v1/services/:service/slos/:slo/status": budgetgate.ScopeRead,
		"POST /api/v1/budget/analyze":                    budgetgate.ScopeIngest,
		"POST /api/v1/releases/evaluate":                 budgetgate.ScopeGate,
		"POST /api/v1/exceptions":                        budgetgate.ScopeGate,
		"POST /api/v1/exceptions/:id/cancel":             budgetgate.ScopeGate,
		"PUT /api/v1/exceptions/:id/plan":                budgetgate.ScopeGate,
		"PUT /api/v1/services/:service/policy":           budgetgate.ScopePolicy,
		"GET /api/v1/services":                           budgetgate.ScopeRead,
		"GET /api/v1/services/:service/status":           budgetgate.ScopeRead,
		"GET /api/v1/decisions/:id":                      budgetgate.ScopeRead,
		"GET /api/v1/exceptions":                         budgetgate.ScopeRead,
		"GET /api/v1/exceptions/:id":                     budgetgate.ScopeRead,
		"GET /api/v1/budget/status":                      budgetgate.ScopeRead,
		"GET /api/v1/budget/history":                     budgetgate.ScopeRead,
		"GET /api/v1/budget/violations":                  budgetgate.ScopeRead,
		"GET /api/v1/budget/compliance":                  budgetgate.ScopeRead,
		"GET /api/v1/budget/gate":                        budgetgate.ScopeRead,
	}
	tokens := map[string]string{}
	for _, scope := range budgetgate.TokenScopes {
		secret, _, err := h.Store.CreateToken(context.Background(), scope+"-only", []string{scope}, budgetgate.SystemActor)
		if err != nil {
			t.Fatal(err)
		}
		tokens[scope] = secret
	}
	seen := map[string]bool{}
	for _, r := range h.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/") || r.Method == "echo_route_not_found" {
			continue
		}
		route := r.Method + " " + r.Path
		seen[route] = true
		need, ok := want[route]
		if !ok {
			t.Errorf("%s has no scope in this test", route)
			continue
		}
		path := strings.NewReplacer(":service", "ledger", ":id", "987654").Replace(r.Path)
		for _, scope := range budgetgate.TokenScopes {
			status, raw, _ := h.api(t, tokens[scope], r.Method, path, "{}")
			if (status == http.StatusForbidden) == (scope == need) {
				t.Errorf("%s with a %s token: %d %s", route, scope, status, raw)
			}
		}
		if status, _, _ := h.api(t, "", r.Method, path, "{}"); status != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", route, status)
		}
	}
	for route := range want {
		if !seen[route] {
			t.Errorf("%s is not served", route)
		}
	}
}

// TestObjectLevelAuthorisation: who may do what to whose objects, through
// the pages; every refusal leaves the database as it was.
func TestObjectLevelAuthorisation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	requester := h.agent(t, member("requester"))
	board := h.agent(t, member("board", budgetgate.RoleCCB))
	boardRequester := h.agent(t, member("board-requester", budgetgate.RoleCCB))
	sre := h.agent(t, member("sre", budgetgate.RoleSRE))
	admin := h.agent(t, member("admin", budgetgate.RoleAdmin))
	open := func(a *agent, version string) string {
		t.Helper()
		status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/releases/evaluate", `{"service":"ledger","version":"`+version+`"}`)
		var dec errorbudget.Decision
		json.Unmarshal([]byte(raw), &dec)
		resp, _ := a.post(t, "/ccb", url.Values{"decision_id": {fmt.Sprint(dec.ID)}, "reason": {"Needed."}})
		if status != 200 || resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("open: %d %d", status, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	theirs := open(requester, "1.0")
	own := open(boardRequester, "2.0")
	approve := url.Values{"decision": {"approve"}}
	tests := []struct {
		name   string
		who    *agent
		method string
		path   string
		status int
	}{
		{"a viewer cannot vote", requester, "POST", theirs + "/votes", http.StatusForbidden},
		{"an SRE cannot vote", sre, "POST", theirs + "/votes", http.StatusForbidden},
		{"an admin is not on the board", admin, "POST", theirs + "/votes", http.StatusForbidden},
		{"a requester cannot vote on their own request", boardRequester, "POST", own + "/votes", http.StatusForbidden},
		{"a board member cannot withdraw another's request", board, "POST", theirs + "/cancel", http.StatusForbidden},
		{"a requester cannot withdraw another's request", requester, "POST", own + "/cancel", http.StatusForbidden},
		{"a viewer cannot list tokens", requester, "GET", "/tokens", http.StatusForbidden},
		{"a board member cannot make a token", board, "POST", "/tokens", http.StatusForbidden},
		{"an SRE cannot revoke a token", sre, "POST", "/tokens/1/revoke", http.StatusForbidden},
	}
	before := fingerprint(t, h.Store)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			if tt.method == "GET" {
				resp, _ = tt.who.get(t, tt.path)
			} else {
				form := cloneValues(approve)
				form.Set("name", "sneaky")
				form.Set("scopes", "read")
				resp, _ = tt.who.post(t, tt.path, form)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("%d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	sameData(t, before, fingerprint(t, h.Store))
	// What each may do, they can.
	for _, ok := range []struct {
		who  *agent
		path string
	}{{board, own + "/votes"}, {requester, theirs + "/cancel"}, {admin, "/tokens/1/revoke"}} {
		if resp, _ := ok.who.post(t, ok.path, approve); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s by %s: %d", ok.path, ok.who.User.Subject, resp.StatusCode)
		}
	}
}

// xss is markup in every shape a free-text field could smuggle in.
const xss = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`

// TestScriptIsInert puts markup in every free-text field and in reflected
// parameters, and checks each page shows it as text: escaped, never as
// markup; and that no page relies on inline script or style, which the CSP
// forbids.
func TestScriptIsInert(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	yamlQuoted := "'" + strings.ReplaceAll(xss, "'", "''") + "'"
	if status, raw, _ := h.api(t, h.Token, "PUT", "/api/v1/services/ledger/policy", "service: ledger\nslo_target: 99.9\ndescription: "+yamlQuoted+"\n"); status != 200 {
		t.Fatalf("policy: %d %s", status, raw)
	}
	status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/releases/evaluate",
		`{"service":"ledger","version":`+js(xss)+`,"requested_by":`+js(xss)+`,"commit_sha":`+js(xss)+`}`)
	var dec errorbudget.Decision
	if json.Unmarshal([]byte(raw), &dec); status != 200 {
		t.Fatalf("evaluate: %d %s", status, raw)
	}
	status, raw, _ = h.api(t, h.Token, "POST", "/api/v1/exceptions", fmt.Sprintf(`{"decision_id":%d,"reason":%s}`, dec.ID, js(xss)))
	var exc struct{ ID int64 }
	if json.Unmarshal([]byte(raw), &exc); status != 201 {
		t.Fatalf("exception: %d %s", status, raw)
	}
	eve := h.agent(t, budgetgate.User{Issuer: "https://idp.test", Subject: "eve", Name: "Eve " + xss, Roles: []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleCCB}})
	if resp, _ := eve.post(t, fmt.Sprintf("/ccb/%d/votes", exc.ID), url.Values{"decision": {"approve"}, "comment": {xss}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("vote: %d", resp.StatusCode)
	}
	doc := strings.ReplaceAll(fleetDoc(t, "c1", "", 600), `"truck"`, js(xss))
	if status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", doc); status != 201 {
		t.Fatalf("analysis: %d %s", status, raw)
	}
	admin := h.agent(t, member("admin", budgetgate.RoleAdmin))
	h.Store.CreateToken(ctx, "ci", []string{"read"}, budgetgate.SystemActor)

	pages := []struct {
		name   string
		who    *agent
		method string
		path   string
		form   url.Values
	}{
		{"overview", eve, "GET", "/", nil},
		{"service: version and policy description", eve, "GET", "/services/ledger", nil},
		{"queue: reason, requester", eve, "GET", "/ccb", nil},
		{"request: reason, vote comment, voter", eve, "GET", fmt.Sprintf("/ccb/%d", exc.ID), nil},
		{"project: variant names", eve, "GET", "/projects/fleet-core", nil},
		{"violations: variant names", eve, "GET", "/violations", nil},
		{"audit log", eve, "GET", "/audit", nil},
		{"audit filter reflected", eve, "GET", "/audit?actor=" + url.QueryEscape(xss), nil},
		{"new-request form reflected", eve, "GET", "/ccb?decision_id=" + url.QueryEscape(xss), nil},
		// The id arrives percent-encoded and is shown so: nothing to escape.
		{"error page reflects the id", eve, "GET", "/ccb/" + url.PathEscape(xss), nil},
		{"refused token name shown again", admin, "POST", "/tokens", url.Values{"name": {xss}, "scopes": {"read"}}},
		{"refused reason shown again", eve, "POST", "/ccb", url.Values{"decision_id": {xss}, "reason": {xss}}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			var resp *http.Response
			var body string
			if p.method == "GET" {
				resp, body = p.who.get(t, p.path)
			} else {
				resp, body = p.who.post(t, p.path, p.form)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			for _, raw := range []string{"<script>alert", "<img src=x"} {
				if strings.Contains(body, raw) {
					t.Errorf("the page holds %q unescaped", raw)
				}
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") && !strings.Contains(body, url.PathEscape(xss)) {
				t.Errorf("the page does not show the text escaped: %d\n%s", resp.StatusCode, body)
			}
			checkCSPSafe(t, resp, body)
		})
	}
}

// checkCSPSafe fails when a page would need what its CSP forbids: inline
// script, event-handler attributes, inline styles, javascript: URLs.
func checkCSPSafe(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q", csp)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok {
			t.Error("inline <script>")
		}
	})
	doc.Find("style").Each(func(int, *goquery.Selection) { t.Error("inline <style>") })
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case strings.HasPrefix(strings.ToLower(a.Key), "on"):
				t.Errorf("event handler attribute %s=%q", a.Key, a.Val)
			case a.Key == "style":
				t.Errorf("inline style %q", a.Val)
			case (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(v, "javascript:"):
				t.Errorf("javascript: URL in %s", a.Key)
			}
		}
	})
}

// TestSecurityHeaders: every kind of answer carries the headers of docs/OPERATIONS.md,
// and HSTS only under an https public URL.
func TestSecurityHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		t.Run(fmt.Sprintf("https=%v", https), func(t *testing.T) {
			o := harnessOptions{}
			if https {
				o.publicURL = "https://budgetgate.test"
			}
			h := newHarness(t, o)
			viewer := h.agent(t, member("viewer"))
			anon := &agent{h: h}
			answers := []struct {
				name string
				who  *agent
				do   func(a *agent) (*http.Response, string)
			}{
				{"page", viewer, func(a *agent) (*http.Response, string) { return a.get(t, "/") }},
				{"redirect to sign in", anon, func(a *agent) (*http.Response, string) { return a.get(t, "/ccb") }},
				{"sign-in redirect", anon, func(a *agent) (*http.Response, string) { return a.get(t, "/login") }},
				{"page not found", viewer, func(a *agent) (*http.Response, string) { return a.get(t, "/nowhere") }},
				{"static file", anon, func(a *agent) (*http.Response, string) { return a.get(t, "/static/style.css") }},
				{"health", anon, func(a *agent) (*http.Response, string) { return a.get(t, "/health") }},
				{"API answer", anon, func(a *agent) (*http.Response, string) {
					return a.do(t, "GET", "/api/v1/services", "", nil, "Authorization", "Bearer "+h.Token)
				}},
				{"API refusal", anon, func(a *agent) (*http.Response, string) { return a.get(t, "/api/v1/services") }},
				{"body too large", anon, func(a *agent) (*http.Response, string) {
					return a.do(t, "POST", "/api/v1/releases/evaluate", "application/json", strings.NewReader(strings.Repeat(" ", 11<<20)))
				}},
				{"forbidden form", viewer, func(a *agent) (*http.Response, string) {
					return a.post(t, "/ccb/1/votes", url.Values{}, "Sec-Fetch-Site", "cross-site")
				}},
			}
			for _, ans := range answers {
				resp, _ := ans.do(ans.who)
				hd := resp.Header
				csp := hd.Get("Content-Security-Policy")
				switch {
				case !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline"):
					t.Errorf("%s (%d): CSP %q", ans.name, resp.StatusCode, csp)
				case hd.Get("X-Content-Type-Options") != "nosniff":
					t.Errorf("%s: no nosniff", ans.name)
				case hd.Get("Referrer-Policy") == "":
					t.Errorf("%s: no Referrer-Policy", ans.name)
				case (hd.Get("Strict-Transport-Security") != "") != https:
					t.Errorf("%s: HSTS %q under https=%v", ans.name, hd.Get("Strict-Transport-Security"), https)
				}
			}
		})
	}
}

// TestLoginNextStaysOnSite: a signed-in user who follows a sign-in link is
// sent to its ?next= only when a browser would read it as a path here.
func TestLoginNextStaysOnSite(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	a := h.agent(t, member("next"))
	tests := []struct{ next, want string }{
		{"/ccb/3?x=1", "/ccb/3?x=1"},
		{"https://evil.test/", "/"},
		{"//evil.test", "/"},
		{"/\\evil.test", "/"},
		{"/\t/evil.test", "/"}, // browsers drop the tab: //evil.test
		{"/\n/evil.test", "/"},
	}
	for _, tt := range tests {
		resp, _ := a.get(t, "/login?next="+url.QueryEscape(tt.next))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.want {
			t.Errorf("next=%q: %d to %q, want %q", tt.next, resp.StatusCode, resp.Header.Get("Location"), tt.want)
		}
	}
}

// TestOpenAPIRefusesCrossSite: with --dev-open-api a request without a
// token acts as a developer, so a page of another site must not be able
// to make a developer's browser post to it; same-site tools and curl
// (which send neither header) still work.
func TestOpenAPIRefusesCrossSite(t *testing.T) {
	h := newHarness(t, harnessOptions{openAPI: true})
	eval := "/api/v1/releases/evaluate"
	body := `{"service":"ledger","version":"1"}`
	for _, tc := range []struct {
		name   string
		method string
		header []string
		status int
	}{
		{"curl, no browser headers", "POST", nil, http.StatusOK},
		{"same origin", "POST", []string{"Origin", h.URL, "Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"cross-site POST by Origin", "POST", []string{"Origin", "https://evil.test"}, http.StatusForbidden},
		{"cross-site POST by Sec-Fetch-Site", "POST", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"same-site sibling", "POST", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"Origin null", "POST", []string{"Origin", "null"}, http.StatusForbidden},
		{"cross-site GET", "GET", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, b := eval, body
			if tc.method == "GET" {
				path, b = "/api/v1/services", ""
			}
			status, raw, _ := h.api(t, "", tc.method, path, b, tc.header...)
			if status != tc.status {
				t.Errorf("%s %s: %d %s; want %d", tc.method, path, status, raw, tc.status)
			}
		})
	}
}
