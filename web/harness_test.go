package web

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/analyze"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/devidp"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/labstack/echo/v4"
)

// harnessOptions shape a harness; the zero value is the plain test server
// with the variant-budget side wired as serve wires it.
type harnessOptions struct {
	now       func() time.Time // clock of the store and handlers; default time.Now
	publicURL string           // default http:// + the listener
	idp       *fakeIdP         // default: the development provider
	config    func(*Config)    // rate limits, trusted proxies
	rules     *ccb.CCBRules
	ccb       app.CCBRequester // opens the requests of blocked analyses; default the real CCB
	openAPI   bool             // --dev-open-api: API requests without a token act as a developer
	metrics   bool             // serve /metrics (public)
	// analyze runs the analyzer on configured repositories; default analyze.Run
	analyze func(context.Context, analyze.Options) (*analyze.Result, error)
}

// harness is the whole web layer over a temporary database, like
// newTestServer, with what the security tests need besides: the Echo
// instance (for its routes), a token with every scope, and sessions made
// directly in the store for any user.
type harness struct {
	*testServer
	Echo  *echo.Echo
	Token string // every scope
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	if o.now == nil {
		o.now = func() time.Time { return time.Now().UTC() }
	}
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "harness.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	store.Now = o.now
	p, err := errorbudget.ParsePolicy("ledger.yaml", []byte("service: ledger\nslo_target: 99.9\nwindow: 30d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SavePolicy(ctx, p, "ledger.yaml", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	issuer, clientID, secret := "", "budgetgate", "client-secret"
	if o.idp != nil {
		issuer, clientID, secret = o.idp.URL, o.idp.ClientID, o.idp.Secret
	} else {
		idp, err := devidp.Start("127.0.0.1:0", devidp.DemoUsers)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idp.Close() })
		issuer, clientID, secret = idp.Issuer, idp.ClientID, idp.ClientSecret
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	public := base
	if o.publicURL != "" {
		public = o.publicURL
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth, err := NewAuth(ctx, AuthConfig{
		Issuer: issuer, ClientID: clientID, ClientSecret: secret,
		RoleGroups: budgetgate.DefaultRoleGroups, PublicURL: public, SessionKey: []byte(strings.Repeat("s", 32)),
		Limits: app.SessionLimits{Idle: 8 * time.Hour, Absolute: 24 * time.Hour}, Log: log, OpenAPI: o.openAPI,
	}, store)
	if err != nil {
		t.Fatal(err)
	}
	rules := ccb.DefaultCCBRules()
	if o.rules != nil {
		rules = *o.rules
	}
	notify := app.CCBNotify{BaseURL: public}
	ccbVariants := &app.CCBVariants{Store: store, Rules: rules, Notify: notify, Now: o.now}
	vpages := &handlers.VariantPages{Store: store, Now: o.now}
	var requester app.CCBRequester = ccbVariants
	if o.ccb != nil {
		requester = o.ccb
	}
	h := Handlers{
		API:   &handlers.API{Store: store, Releases: app.NewReleases(store, o.now), Now: o.now, Retention: errorbudget.DefaultRetention},
		Pages: &handlers.Pages{Store: store, Now: o.now, Retention: errorbudget.DefaultRetention, Projects: vpages.ProjectSummaries},
		Variants: &handlers.Variants{Store: store, Analyses: &app.Analyses{Store: store, Cover: ccbVariants, CCB: requester, PublicURL: public, Log: log,
			Repositories: app.Repositories{Analyze: o.analyze, Now: o.now}}, PublicURL: public, Now: o.now},
		VariantPages: vpages,
		Ready:        store.Ready,
		Auth:         auth,
		CCB:          &handlers.CCB{Store: store, Board: &app.Board{Store: store, Rules: rules, Notify: notify}, Now: o.now, VariantSubject: ccbVariants.VariantSubject},
		Audit:        &handlers.AuditPages{Store: store},
		Tokens:       &handlers.TokenPages{Store: store},
	}
	if o.metrics {
		h.Metrics = &handlers.Metrics{Store: store, Now: o.now}
	}
	cfg := Config{PublicURL: public, RequestTimeout: 10 * time.Second, BodyLimit: handlers.MaxBodyBytes, Log: log}
	if o.config != nil {
		o.config(&cfg)
	}
	e := New(cfg, h)
	srv.Config.Handler = e
	srv.Start()
	t.Cleanup(srv.Close)
	token, _, err := store.CreateToken(ctx, "harness", budgetgate.TokenScopes, budgetgate.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{testServer: &testServer{URL: base, Store: store, Auth: auth}, Echo: e, Token: token}
}

// agent is a browser signed in as one user, with a session made in the
// store (as the callback makes one) and its cookie sealed by the server's
// own cookie store.
type agent struct {
	h      *harness
	User   budgetgate.User
	Cookie *http.Cookie
	CSRF   string
}

// member returns a user with the given roles under a test issuer.
func member(subject string, roles ...budgetgate.Role) budgetgate.User {
	return budgetgate.User{Issuer: "https://idp.test", Subject: subject, Name: "User " + subject,
		Roles: append([]budgetgate.Role{budgetgate.RoleViewer}, roles...)}
}

func (h *harness) agent(t testing.TB, u budgetgate.User) *agent {
	t.Helper()
	s, err := h.Store.Login(context.Background(), u, "")
	if err != nil {
		t.Fatal(err)
	}
	return &agent{h: h, User: s.User, Cookie: h.sealSession(t, s.ID), CSRF: s.CSRF}
}

// sealSession returns the session cookie that carries id.
func (h *harness) sealSession(t testing.TB, id string) *http.Cookie {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	sess, _ := h.Auth.sessionCookies.New(req, h.Auth.sessionName)
	sess.Values["id"] = id
	if err := sess.Save(req, rec); err != nil {
		t.Fatal(err)
	}
	return rec.Result().Cookies()[0]
}

// do sends a request as the agent (no redirects followed) and returns the
// answer and its body.
func (a *agent) do(t testing.TB, method, path, contentType string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.h.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.Cookie != nil {
		req.AddCookie(a.Cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (a *agent) get(t testing.TB, path string) (*http.Response, string) {
	t.Helper()
	return a.do(t, http.MethodGet, path, "", nil)
}

// post posts a form with the agent's CSRF token, unless form sets "csrf".
func (a *agent) post(t testing.TB, path string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	if _, ok := form["csrf"]; !ok {
		form = cloneValues(form)
		form.Set("csrf", a.CSRF)
	}
	return a.do(t, http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), header...)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

var noRedirects = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// api calls the API with a bearer token.
func (h *harness) api(t testing.TB, token, method, path, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// volatile are columns that record use rather than content: reading with a
// token or a session may touch them.
var volatile = map[string]bool{"last_seen": true, "last_used_at": true}

// fingerprint summarises every table of the database: its row count and a
// hash of its rows (volatile columns left out), so that a test can tell
// that a series of refused requests stored nothing at all.
func fingerprint(t testing.TB, store *db.DB) map[string]string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+store.Path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string]string{}
	for _, table := range tables {
		rows, err := conn.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, c := range cols {
				if !volatile[c] {
					fmt.Fprintf(&b, "%s=%v;", c, vals[i])
				}
			}
			lines = append(lines, b.String())
		}
		rows.Close()
		slices.Sort(lines)
		sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		out[table] = fmt.Sprintf("%d rows %s", len(lines), hex.EncodeToString(sum[:8]))
	}
	return out
}

// sameData fails the test with the tables that changed between two
// fingerprints.
func sameData(t testing.TB, before, after map[string]string) {
	t.Helper()
	for table, b := range before {
		if a := after[table]; a != b {
			t.Errorf("table %s changed: %s -> %s", table, b, a)
		}
	}
	for table := range after {
		if _, ok := before[table]; !ok {
			t.Errorf("table %s appeared", table)
		}
	}
}
