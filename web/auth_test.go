package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/devidp"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
)

// testServer is the whole web layer over a temporary database, signing in
// through the development identity provider.
type testServer struct {
	URL   string
	Store *db.DB
	Auth  *Auth
}

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	return newTestServerWith(t, func() time.Time { return time.Now().UTC() }, nil)
}

// newTestServerWith is newTestServer with a clock for the store and the
// handlers, and a hook to add handlers before the routes are made.
func newTestServerWith(t testing.TB, now func() time.Time, extend func(*Handlers, *db.DB)) *testServer {
	t.Helper()
	return newTestServerFor(t, now, extend, devidp.DemoUsers)
}

// newTestServerFor is newTestServerWith whose identity provider signs in
// the given users.
func newTestServerFor(t testing.TB, now func() time.Time, extend func(*Handlers, *db.DB), users []devidp.User) *testServer {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	store.Now = now
	// A service without SLI data: the gate denies its releases.
	p, err := errorbudget.ParsePolicy("ledger.yaml", []byte("service: ledger\nslo_target: 99.9\nwindow: 30d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SavePolicy(ctx, p, "ledger.yaml", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	idp, err := devidp.Start("127.0.0.1:0", users)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })

	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth, err := NewAuth(ctx, AuthConfig{
		Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RoleGroups: budgetgate.DefaultRoleGroups, PublicURL: base, SessionKey: []byte(strings.Repeat("k", 32)),
		Limits: app.SessionLimits{Idle: 8 * time.Hour, Absolute: 24 * time.Hour}, Log: log,
	}, store)
	if err != nil {
		t.Fatal(err)
	}
	h := Handlers{
		API:   &handlers.API{Store: store, Releases: app.NewReleases(store, now), Now: now, Retention: errorbudget.DefaultRetention},
		Pages: &handlers.Pages{Store: store, Now: now, Retention: errorbudget.DefaultRetention}, Ready: store.Ready, Auth: auth,
		CCB:   &handlers.CCB{Store: store, Board: &app.Board{Store: store, Rules: ccb.DefaultCCBRules(), Notify: app.CCBNotify{BaseURL: base}}, Now: now},
		Audit: &handlers.AuditPages{Store: store}, Tokens: &handlers.TokenPages{Store: store},
	}
	if extend != nil {
		extend(&h, store)
	}
	e := New(Config{PublicURL: base, RequestTimeout: 10 * time.Second, BodyLimit: handlers.MaxBodyBytes, Log: log}, h)
	srv.Config.Handler = e
	srv.Start()
	t.Cleanup(srv.Close)
	return &testServer{URL: base, Store: store, Auth: auth}
}

// browser is a cookie-keeping client that does not follow redirects, so
// that tests see each answer.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn walks the real flow: /login, the provider's chooser, the choice,
// the callback. It returns the browser, signed in as subject.
func (s *testServer) signIn(t *testing.T, subject string) *http.Client {
	t.Helper()
	c := browser(t)
	resp, _ := get(t, c, s.URL+"/login?next=/ccb")
	authorize := resp.Header.Get("Location")
	for _, want := range []string{"code_challenge_method=S256", "nonce=", "state="} {
		if !strings.Contains(authorize, want) {
			t.Fatalf("authorisation URL %s lacks %s", authorize, want)
		}
	}
	resp, body := get(t, c, authorize)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="login-`+subject+`"`) {
		t.Fatalf("chooser: %d %s", resp.StatusCode, body)
	}
	resp, _ = get(t, c, authorize+"&login_as="+subject)
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, s.URL+"/auth/callback?") {
		t.Fatalf("provider redirected to %q", callback)
	}
	resp, body = get(t, c, callback)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ccb" {
		t.Fatalf("callback: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return c
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF field on the page")
	}
	return m[1]
}

func hasTestID(body, id string) bool { return strings.Contains(body, `data-testid="`+id+`"`) }

func TestSignIn(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		subject  string
		name     string
		canVote  bool
		canToken bool
	}{
		{"ccb-alice", "Alice Chen", true, false},
		{"dev-rita", "Rita Patel", false, false},
		{"admin-ada", "Ada Novak", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			c := s.signIn(t, tt.subject)
			_, body := get(t, c, s.URL+"/")
			if !strings.Contains(body, "Signed in as "+tt.name) {
				t.Errorf("overview does not name %s", tt.name)
			}
			if got := strings.Contains(body, `href="/tokens"`); got != tt.canToken {
				t.Errorf("tokens link shown = %v, want %v", got, tt.canToken)
			}
			resp, _ := get(t, c, s.URL+"/tokens")
			if (resp.StatusCode == http.StatusOK) != tt.canToken {
				t.Errorf("/tokens: %d", resp.StatusCode)
			}
		})
	}
	es, _ := s.Store.AuditLog(context.Background(), app.AuditFilter{Action: "login"})
	if len(es) != 3 || !strings.HasPrefix(es[0].Actor.Issuer, "http://127.0.0.1:") || es[0].Actor.Subject != "admin-ada" || !strings.Contains(es[0].Detail, "admin") {
		t.Errorf("login audit: %+v", es)
	}
}

func TestSignInRefusals(t *testing.T) {
	s := newTestServer(t)
	t.Run("state mismatch", func(t *testing.T) {
		c := browser(t)
		resp, _ := get(t, c, s.URL+"/login")
		authorize := resp.Header.Get("Location")
		resp, _ = get(t, c, authorize+"&login_as=ccb-alice")
		forged := strings.Replace(resp.Header.Get("Location"), "state=", "state=X", 1)
		resp, body := get(t, c, forged)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "state") {
			t.Errorf("forged state: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("callback without the flow cookie", func(t *testing.T) {
		c := browser(t)
		resp, _ := get(t, c, s.URL+"/login")
		authorize := resp.Header.Get("Location")
		resp, _ = get(t, c, authorize+"&login_as=ccb-alice")
		other := browser(t) // another browser: an attacker's link
		resp, _ = get(t, other, resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("callback in another browser: %d", resp.StatusCode)
		}
	})
	t.Run("replayed callback", func(t *testing.T) {
		c := browser(t)
		resp, _ := get(t, c, s.URL+"/login")
		resp, _ = get(t, c, resp.Header.Get("Location")+"&login_as=ccb-alice")
		callback := resp.Header.Get("Location")
		if resp, _ := get(t, c, callback); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: %d", resp.StatusCode)
		}
		if resp, _ := get(t, c, callback); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("replayed callback: %d", resp.StatusCode)
		}
	})
}

func TestPagesNeedSignIn(t *testing.T) {
	s := newTestServer(t)
	c := browser(t)
	tests := []struct {
		path   string
		status int
	}{
		{"/", http.StatusSeeOther},
		{"/ccb", http.StatusSeeOther},
		{"/ccb/1", http.StatusSeeOther},
		{"/audit", http.StatusSeeOther},
		{"/tokens", http.StatusSeeOther},
		{"/services/ledger", http.StatusSeeOther},
		{"/health", http.StatusOK},
		{"/ready", http.StatusOK},
		{"/static/style.css", http.StatusOK},
		{"/login?signed_out=1", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, _ := get(t, c, s.URL+tt.path)
			if resp.StatusCode != tt.status {
				t.Errorf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			if tt.status == http.StatusSeeOther && resp.Header.Get("Location") != "/login?next="+url.QueryEscape(tt.path) {
				t.Errorf("redirects to %q", resp.Header.Get("Location"))
			}
		})
	}
	if resp, _ := postForm(t, c, s.URL+"/ccb/1/votes", url.Values{"decision": {"approve"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous vote: %d", resp.StatusCode)
	}
}

func TestAPITokenScopes(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	tokens := map[string]string{}
	for _, scope := range budgetgate.TokenScopes {
		secret, _, err := s.Store.CreateToken(ctx, scope+"-only", []string{scope}, budgetgate.SystemActor)
		if err != nil {
			t.Fatal(err)
		}
		tokens[scope] = secret
	}
	revoked, tok, _ := s.Store.CreateToken(ctx, "old", budgetgate.TokenScopes, budgetgate.SystemActor)
	s.Store.RevokeToken(ctx, tok.ID, budgetgate.SystemActor)
	tokens["revoked"] = revoked

	sli := fmt.Sprintf(`{"events":[{"time":%q,"good":99,"total":100}]}`, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
	tests := []struct {
		name, method, path, body, token string
		status                          int
	}{
		{"no token", "GET", "/api/v1/services", "", "", 401},
		{"a revoked token", "GET", "/api/v1/services", "", "revoked", 401},
		{"a made-up token", "GET", "/api/v1/services", "", "bgt_nope", 401},
		{"read lists services", "GET", "/api/v1/services", "", "read", 200},
		{"gate cannot read", "GET", "/api/v1/services", "", "gate", 403},
		{"ingest posts SLI", "POST", "/api/v1/services/ledger/sli", sli, "ingest", 202},
		{"read cannot post SLI", "POST", "/api/v1/services/ledger/sli", sli, "read", 403},
		{"gate evaluates", "POST", "/api/v1/releases/evaluate", `{"service":"ledger","version":"1.0.0"}`, "gate", 200},
		{"ingest cannot evaluate", "POST", "/api/v1/releases/evaluate", `{"service":"ledger","version":"1.0.0"}`, "ingest", 403},
		{"read cannot ask the board", "POST", "/api/v1/exceptions", `{"decision_id":1,"reason":"x"}`, "read", 403},
		{"read gets a request", "GET", "/api/v1/exceptions/999", "", "read", 404},
		{"health is open", "GET", "/health", "", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.token != "" {
				secret := tokens[tt.token]
				if secret == "" {
					secret = tt.token
				}
				req.Header.Set("Authorization", "Bearer "+secret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, b, tt.status)
			}
			if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// apiJSON calls the API with a token and decodes the answer.
func apiJSON(t *testing.T, method, u, token, body string, out any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, u, resp.StatusCode, raw)
		}
	}
	return resp
}

func TestCCBFlow(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	ci, _, _ := s.Store.CreateToken(ctx, "ci", budgetgate.TokenScopes, budgetgate.SystemActor)
	var dec errorbudget.Decision
	apiJSON(t, "POST", s.URL+"/api/v1/releases/evaluate", ci, `{"service":"ledger","version":"2.0.0","risk_level":"low"}`, &dec)
	if dec.Approved {
		t.Fatalf("the test needs a denied release: %+v", dec)
	}

	// The requester opens a request from the dashboard.
	rita := s.signIn(t, "dev-rita")
	_, queue := get(t, rita, s.URL+"/ccb")
	token := csrfOf(t, queue)
	resp, body := postForm(t, rita, s.URL+"/ccb", url.Values{"csrf": {token}, "decision_id": {fmt.Sprint(dec.ID)}, "reason": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !hasTestID(body, "form-error") {
		t.Errorf("request without a reason: %d", resp.StatusCode)
	}
	resp, _ = postForm(t, rita, s.URL+"/ccb", url.Values{"csrf": {token}, "decision_id": {fmt.Sprint(dec.ID)}, "reason": {"Month-end close needs the rounding fix."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("open request: %d", resp.StatusCode)
	}
	reqURL := s.URL + resp.Header.Get("Location")
	var id int64
	fmt.Sscanf(resp.Header.Get("Location"), "/ccb/%d", &id)

	var pending struct {
		Status string `json:"status"`
	}
	resp = apiJSON(t, "GET", fmt.Sprintf("%s/api/v1/exceptions/%d", s.URL, id), ci, "", &pending)
	if pending.Status != "pending" || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("pending request: %+v, Retry-After %q", pending, resp.Header.Get("Retry-After"))
	}

	vote := func(c *http.Client, decision, comment string, header ...string) (*http.Response, string) {
		_, page := get(t, c, reqURL)
		return postForm(t, c, reqURL+"/votes", url.Values{"csrf": {csrfOf(t, page)}, "decision": {decision}, "comment": {comment}}, header...)
	}
	sam := s.signIn(t, "sre-sam")
	alice := s.signIn(t, "ccb-alice")
	_, alicePage := get(t, alice, reqURL)
	tests := []struct {
		name     string
		c        *http.Client
		decision string
		comment  string
		header   []string
		status   int
		message  string
	}{
		{"a viewer may not vote", rita, "approve", "", nil, http.StatusForbidden, "only CCB members vote"},
		{"an SRE is not on the board", sam, "approve", "", nil, http.StatusForbidden, "only CCB members vote"},
		{"a rejection needs a comment", alice, "reject", "", nil, http.StatusUnprocessableEntity, "comment: required to reject"},
		{"a cross-site post is refused", alice, "approve", "", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, "cross-site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := vote(tt.c, tt.decision, tt.comment, tt.header...)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.message) {
				t.Errorf("%d, want %d with %q in:\n%s", resp.StatusCode, tt.status, tt.message, body)
			}
		})
	}
	t.Run("a vote without the form token is refused", func(t *testing.T) {
		resp, _ := postForm(t, alice, reqURL+"/votes", url.Values{"decision": {"approve"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%d", resp.StatusCode)
		}
		resp, _ = postForm(t, alice, reqURL+"/votes", url.Values{"decision": {"approve"}, "csrf": {csrfOf(t, queue)}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("another session's token: %d", resp.StatusCode)
		}
	})
	t.Run("a board member may not vote on their own request", func(t *testing.T) {
		var other errorbudget.Decision
		apiJSON(t, "POST", s.URL+"/api/v1/releases/evaluate", ci, `{"service":"ledger","version":"2.0.1"}`, &other)
		bruno := s.signIn(t, "ccb-bruno")
		_, queue := get(t, bruno, s.URL+"/ccb")
		resp, _ := postForm(t, bruno, s.URL+"/ccb", url.Values{"csrf": {csrfOf(t, queue)}, "decision_id": {fmt.Sprint(other.ID)}, "reason": {"Mine."}})
		own := s.URL + resp.Header.Get("Location")
		_, page := get(t, bruno, own)
		if hasTestID(page, "vote-form") || !strings.Contains(page, "you cannot vote on it") {
			t.Error("the requester is offered a vote")
		}
		resp, body := postForm(t, bruno, own+"/votes", url.Values{"csrf": {csrfOf(t, page)}, "decision": {"approve"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "you cannot vote on it") {
			t.Errorf("own vote: %d", resp.StatusCode)
		}
	})
	if !hasTestID(alicePage, "vote-form") {
		t.Fatal("a board member sees no vote form")
	}
	resp, _ = postForm(t, alice, reqURL+"/votes", url.Values{"csrf": {csrfOf(t, alicePage)}, "decision": {"approve"}, "comment": {"Watch the close job."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if resp, _ := vote(alice, "approve", ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("vote on a decided request: %d", resp.StatusCode)
	}

	var approved errorbudget.Decision
	apiJSON(t, "POST", s.URL+"/api/v1/releases/evaluate", ci, `{"service":"ledger","version":"2.0.0","risk_level":"low"}`, &approved)
	if want := fmt.Sprintf("CCB exception %d approved by Alice Chen", id); !approved.Approved || approved.Reason != want {
		t.Errorf("release under the exception: %+v", approved)
	}

	_, page := get(t, rita, reqURL)
	for _, id := range []string{"evidence", "votes", "conditions", "vote-blocked"} {
		if !hasTestID(page, id) {
			t.Errorf("request page lacks %s", id)
		}
	}
}

func TestAPIExceptionRequest(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	ci, _, _ := s.Store.CreateToken(ctx, "ci", []string{"gate", "read"}, budgetgate.SystemActor)
	var dec errorbudget.Decision
	apiJSON(t, "POST", s.URL+"/api/v1/releases/evaluate", ci, `{"service":"ledger","version":"5.0.0"}`, &dec)
	tests := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"no decision", `{"reason":"x"}`, 422, "decision_id"},
		{"unknown field", fmt.Sprintf(`{"decision_id":%d,"reason":"x","why":"y"}`, dec.ID), 422, "why"},
		{"reason too long", fmt.Sprintf(`{"decision_id":%d,"reason":%q}`, dec.ID, strings.Repeat("x", 4001)), 422, "reason"},
		{"variant not available yet", `{"analysis_id":3,"reason":"x"}`, 422, "analysis_id"},
		{"opens", fmt.Sprintf(`{"decision_id":%d,"reason":"Needed for the audit.","expiry":"3d"}`, dec.ID), 201, ""},
		{"the same again returns it", fmt.Sprintf(`{"decision_id":%d,"reason":"again"}`, dec.ID), 200, ""},
		{"not both kinds", fmt.Sprintf(`{"decision_id":%d,"analysis_id":3,"reason":"x"}`, dec.ID), 422, "decision_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				ID              int64  `json:"id"`
				Status          string `json:"status"`
				RequestedExpiry string `json:"requested_expiry"`
				Error           struct{ Field string }
			}
			resp := apiJSON(t, "POST", s.URL+"/api/v1/exceptions", ci, tt.body, &out)
			if resp.StatusCode != tt.status || out.Error.Field != tt.field {
				t.Errorf("%d field %q, want %d field %q", resp.StatusCode, out.Error.Field, tt.status, tt.field)
			}
			if tt.status == 201 && (out.Status != "pending" || out.RequestedExpiry != "3d" || resp.Header.Get("Location") != fmt.Sprintf("/api/v1/exceptions/%d", out.ID)) {
				t.Errorf("created %+v, Location %q", out, resp.Header.Get("Location"))
			}
		})
	}
}

func TestCancelAndPlanAPI(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	ci, _, _ := s.Store.CreateToken(ctx, "ci", []string{"gate", "read"}, budgetgate.SystemActor)
	other, _, _ := s.Store.CreateToken(ctx, "other", []string{"gate"}, budgetgate.SystemActor)
	var dec errorbudget.Decision
	apiJSON(t, "POST", s.URL+"/api/v1/releases/evaluate", ci, `{"service":"ledger","version":"6.0.0"}`, &dec)
	var e struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Plan   *struct {
			TargetDate string `json:"target_date"`
		} `json:"refactoring_plan"`
	}
	apiJSON(t, "POST", s.URL+"/api/v1/exceptions", ci, fmt.Sprintf(`{"decision_id":%d,"reason":"x"}`, dec.ID), &e)
	path := fmt.Sprintf("%s/api/v1/exceptions/%d", s.URL, e.ID)
	tests := []struct {
		name, method, path, token, body string
		status                          int
		wantStatus                      string
	}{
		{"a plan with a past date", "PUT", path + "/plan", ci, `{"steps":["split the module"],"target_date":"2001-01-01"}`, 422, ""},
		{"a plan", "PUT", path + "/plan", ci, `{"steps":["split the module"],"target_date":"2099-01-01"}`, 200, "pending"},
		{"another token may not cancel", "POST", path + "/cancel", other, "", 403, ""},
		{"the requesting token cancels", "POST", path + "/cancel", ci, "", 200, "cancelled"},
		{"cancelling twice is a conflict", "POST", path + "/cancel", ci, "", 409, ""},
		{"no plan once cancelled", "PUT", path + "/plan", ci, `{"steps":["x"],"target_date":"2099-01-01"}`, 409, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Status = ""
			resp := apiJSON(t, tt.method, tt.path, tt.token, tt.body, &e)
			if resp.StatusCode != tt.status || (tt.wantStatus != "" && e.Status != tt.wantStatus) {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, e.Status, tt.status, tt.wantStatus)
			}
		})
	}
	if e.Plan == nil || e.Plan.TargetDate != "2099-01-01" {
		t.Errorf("plan after cancel: %+v", e.Plan)
	}
}

func TestLogoutEndsTheSessionOnTheServer(t *testing.T) {
	s := newTestServer(t)
	c := s.signIn(t, "ccb-alice")
	u, _ := url.Parse(s.URL)
	saved := c.Jar.Cookies(u)
	_, page := get(t, c, s.URL+"/")
	resp, _ := postForm(t, c, s.URL+"/logout", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?signed_out=1" {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Someone who kept the old cookie gets nothing with it.
	replay := browser(t)
	replay.Jar.SetCookies(u, saved)
	if resp, _ := get(t, replay, s.URL+"/ccb"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("old cookie after logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if es, _ := s.Store.AuditLog(context.Background(), app.AuditFilter{Action: "logout"}); len(es) != 1 || es[0].Actor.Name != "Alice Chen" {
		t.Errorf("logout audit: %+v", es)
	}
	// GET /logout changes nothing.
	c2 := s.signIn(t, "ccb-alice")
	if resp, _ := get(t, c2, s.URL+"/logout"); resp.StatusCode == http.StatusSeeOther {
		t.Errorf("GET /logout answered %d", resp.StatusCode)
	}
	if resp, _ := get(t, c2, s.URL+"/ccb"); resp.StatusCode != http.StatusOK {
		t.Errorf("session after GET /logout: %d", resp.StatusCode)
	}
}

func TestSessionCookie(t *testing.T) {
	s := newTestServer(t)
	c := browser(t)
	resp, _ := get(t, c, s.URL+"/login")
	resp, _ = get(t, c, resp.Header.Get("Location")+"&login_as=ccb-alice")
	resp, _ = get(t, c, resp.Header.Get("Location"))
	var cookies []string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "budgetgate_session=") {
			cookies = append(cookies, h)
		}
	}
	if len(cookies) != 1 {
		t.Fatalf("session cookies set: %v", resp.Header.Values("Set-Cookie"))
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400"} {
		if !strings.Contains(cookies[0], attr) {
			t.Errorf("session cookie lacks %s: %s", attr, cookies[0])
		}
	}
	if strings.Contains(cookies[0], "Secure") {
		t.Errorf("plain-http localhost cookie marked Secure: %s", cookies[0])
	}
}

func TestTokensPage(t *testing.T) {
	s := newTestServer(t)
	ada := s.signIn(t, "admin-ada")
	_, page := get(t, ada, s.URL+"/tokens")
	resp, body := postForm(t, ada, s.URL+"/tokens", url.Values{"csrf": {csrfOf(t, page)}, "name": {"ci"}, "scopes": {"ingest", "read"}})
	m := regexp.MustCompile(`data-testid="new-token">(bgt_[A-Z0-9]+)<`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	secret := m[1]
	if r := apiJSON(t, "GET", s.URL+"/api/v1/services", secret, "", nil); r.StatusCode != 200 {
		t.Errorf("new token: %d", r.StatusCode)
	}
	_, page = get(t, ada, s.URL+"/tokens")
	if strings.Contains(page, secret) {
		t.Error("the token is shown again")
	}
	list, _ := s.Store.Tokens(context.Background())
	resp, _ = postForm(t, ada, fmt.Sprintf("%s/tokens/%d/revoke", s.URL, list[0].ID), url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if r := apiJSON(t, "GET", s.URL+"/api/v1/services", secret, "", nil); r.StatusCode != 401 {
		t.Errorf("revoked token: %d", r.StatusCode)
	}
	alice := s.signIn(t, "ccb-alice")
	if resp, _ := postForm(t, alice, s.URL+"/tokens", url.Values{"csrf": {csrfOf(t, page)}, "name": {"sneaky"}, "scopes": {"read"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a non-admin creates a token: %d", resp.StatusCode)
	}
	es, _ := s.Store.AuditLog(context.Background(), app.AuditFilter{Actor: "Ada Novak"})
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "token.revoke,token.create,login" {
		t.Errorf("Ada's audit trail: %v", actions)
	}
}

func TestAuditExport(t *testing.T) {
	s := newTestServer(t)
	alice := s.signIn(t, "ccb-alice")
	s.signIn(t, "dev-rita")
	tests := []struct {
		query string
		rows  int // entries expected
	}{
		{"action=login", 2},
		{"action=login&actor=Rita+Patel", 1},
		{"actor=nobody", 0},
		{"action=policy.update", 1},
		{"from=2000-01-01&to=2000-01-02", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			_, body := get(t, alice, s.URL+"/audit?format=csv&"+tt.query)
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil || len(rows) != tt.rows+1 || rows[0][0] != "id" {
				t.Fatalf("CSV: %v %q", err, body)
			}
			var js struct{ Entries []budgetgate.AuditEntry }
			resp, raw := get(t, alice, s.URL+"/audit?format=json&"+tt.query)
			if err := json.Unmarshal([]byte(raw), &js); err != nil || len(js.Entries) != tt.rows || !strings.Contains(resp.Header.Get("Content-Disposition"), ".json") {
				t.Errorf("JSON: %v %s", err, raw)
			}
			_, page := get(t, alice, s.URL+"/audit?"+tt.query)
			if got := strings.Count(page, "<tr>") - 1; tt.rows > 0 && got != tt.rows {
				t.Errorf("page shows %d rows, want %d", got, tt.rows)
			}
		})
	}
	if resp, _ := get(t, alice, s.URL+"/audit?from=yesterday"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad date: %d", resp.StatusCode)
	}
}
