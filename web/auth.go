package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/budgetgate/budgetgate/views"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"
)

// AuthConfig configures browser sign-in (OIDC) and sessions.
type AuthConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string // default openid profile email groups
	GroupsClaim  string   // ID token claim holding the user's groups; default "groups"
	RoleGroups   budgetgate.RoleGroups
	PublicURL    string // the callback is PublicURL + "/auth/callback"
	SessionKey   []byte // at least 32 bytes; cookie signing and encryption keys derive from it
	Limits       db.SessionLimits
	Log          *slog.Logger
	// OpenAPI lets API requests without a token through as a developer
	// with every scope: development only (serve allows it with the
	// loopback-only development provider), for the seed's quick start.
	OpenAPI bool
}

// AuthStore is what authentication needs from storage.
type AuthStore interface {
	Login(ctx context.Context, u budgetgate.User, replaces string) (*db.Session, error)
	Session(ctx context.Context, id string, lim db.SessionLimits) (*db.Session, error)
	Logout(ctx context.Context, id string, actor budgetgate.Actor) error
	AuthenticateToken(ctx context.Context, secret string) (*budgetgate.Token, error)
}

// Auth signs people in with OIDC (authorisation code with PKCE, state and
// nonce), keeps their sessions on the server, guards forms against CSRF, and
// checks API tokens.
type Auth struct {
	cfg      AuthConfig
	store    AuthStore
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier

	// The cookie carries only a session id (signed and encrypted); what the
	// session may do is looked up on the server at every request.
	sessionCookies *sessions.CookieStore
	flowCookies    *sessions.CookieStore
	sessionName    string
	flowName       string
}

// flowLifetime bounds the time between leaving for the identity provider
// and coming back.
const flowLifetime = 10 * time.Minute

// NewAuth discovers the identity provider and prepares the cookie stores.
//
// Without an issuer the server still answers the API (tokens) and its
// probes, but nobody can sign in: scripts started with SPEC 9's
// `serve --addr --db --policies` alone keep working.
func NewAuth(ctx context.Context, cfg AuthConfig, store AuthStore) (*Auth, error) {
	if (cfg.Issuer == "") != (cfg.ClientID == "") {
		return nil, errors.New("auth: --oidc-issuer and --oidc-client-id go together")
	}
	if len(cfg.SessionKey) < 32 {
		return nil, errors.New("auth: the session key must be at least 32 bytes")
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email", "groups"}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	base, err := url.Parse(cfg.PublicURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("auth: public URL %q is not an absolute URL", cfg.PublicURL)
	}
	secure := base.Scheme == "https"
	a := &Auth{cfg: cfg, store: store, sessionName: "budgetgate_session", flowName: "budgetgate_flow"}
	if secure {
		// __Host- makes the browser refuse the cookie unless it is Secure,
		// for path / and without a Domain: no subdomain can plant one.
		a.sessionName, a.flowName = "__Host-budgetgate", "__Host-budgetgate-flow"
	}
	hashKey, blockKey := deriveKey(cfg.SessionKey, "cookie-hash"), deriveKey(cfg.SessionKey, "cookie-block")
	a.sessionCookies = newCookieStore(hashKey, blockKey, secure, cfg.Limits.Absolute)
	a.flowCookies = newCookieStore(hashKey, blockKey, secure, flowLifetime)
	if cfg.Issuer == "" {
		cfg.Log.Warn("no identity provider configured (--oidc-issuer): the API and probes answer, nobody can sign in to the dashboard")
		return a, nil
	}
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: discovering the OIDC provider %s: %w", cfg.Issuer, err)
	}
	if !secure && !IsLoopbackHost(base.Hostname()) {
		// Session cookies go without Secure only on plain-http localhost (SPEC 6).
		return nil, fmt.Errorf("auth: public URL %s is plain http away from localhost: serve over https, or behind a TLS proxy with --url https://...", cfg.PublicURL)
	}
	a.oauth = oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: provider.Endpoint(),
		RedirectURL: strings.TrimSuffix(cfg.PublicURL, "/") + "/auth/callback", Scopes: cfg.Scopes,
	}
	a.verifier = provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})
	return a, nil
}

// errNoSignIn answers /login and /auth/callback on a server without an
// identity provider.
var errNoSignIn = budgetgate.Errorf(budgetgate.EUNAVAILABLE, "sign-in is not configured on this server: start it with --oidc-issuer and --oidc-client-id (or --dev-idp for development)")

// newCookieStore overrides gorilla's defaults (SameSite None, HttpOnly off,
// a month's lifetime): scripts never read these cookies, other sites never
// send them on a POST, and they live no longer than what they carry.
func newCookieStore(hashKey, blockKey []byte, secure bool, lifetime time.Duration) *sessions.CookieStore {
	s := sessions.NewCookieStore(hashKey, blockKey)
	s.MaxAge(int(lifetime / time.Second)) // also bounds the signed timestamp inside the value
	s.Options = &sessions.Options{Path: "/", MaxAge: int(lifetime / time.Second), Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	return s
}

func deriveKey(secret []byte, label string) []byte {
	sum := sha256.Sum256(append([]byte("budgetgate "+label+"\x00"), secret...))
	return sum[:]
}

// IsLoopbackHost reports whether host names this machine: localhost or a
// loopback address.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publicPath says what is served to anyone: probes, metrics for the
// scraper, assets and the sign-in itself.
func publicPath(p string) bool {
	switch p {
	case "/health", "/ready", "/metrics", "/login", "/auth/callback", "/favicon.ico":
		return true
	}
	return strings.HasPrefix(p, "/static/")
}

func isAPI(p string) bool { return strings.HasPrefix(p, "/api/") }

// Sessions loads the signed-in user from the session cookie and requires
// one for every page but the public ones: a GET is sent to sign in, any
// other method refused. The API authenticates with tokens instead.
func (a *Auth) Sessions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		path := c.Request().URL.Path
		if isAPI(path) || (publicPath(path) && path != "/login") {
			// Probes, assets and the API need no session: spare the lookup.
			// The callback reads the cookie itself, to replace the session.
			return next(c)
		}
		if id := a.sessionID(c); id != "" {
			s, err := a.store.Session(c.Request().Context(), id, a.cfg.Limits)
			switch {
			case err == nil:
				handlers.SetUser(c, s.User)
				handlers.SetCSRF(c, s.CSRF)
				c.Set(sessionIDKey, id)
			case budgetgate.ErrorCode(err) == budgetgate.EUNAUTHORIZED:
				a.clearCookie(c, a.sessionCookies, a.sessionName)
			default:
				return err
			}
		}
		// Pages hold who is signed in: no shared cache may keep them.
		c.Response().Header().Set("Cache-Control", "no-store")
		if _, ok := handlers.CurrentUser(c); ok || path == "/login" {
			return next(c)
		}
		if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return budgetgate.Errorf(budgetgate.EUNAUTHORIZED, "sign in first")
	}
}

const sessionIDKey = "budgetgate.session_id"

func (a *Auth) sessionID(c echo.Context) string {
	s, err := a.sessionCookies.Get(c.Request(), a.sessionName)
	if err != nil {
		return ""
	}
	id, _ := s.Values["id"].(string)
	return id
}

// CSRF refuses a state-changing browser request unless it carries the
// session's form token (field "csrf" or header X-CSRF-Token), compared in
// constant time. A browser that says the request comes from another site
// (Sec-Fetch-Site, or an Origin other than the public URL's) is refused
// before anything else. API requests authenticate with bearer tokens, which
// a browser never sends by itself, so they are exempt.
func (a *Auth) CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if isAPI(r.URL.Path) {
			return next(c)
		}
		if err := a.sameOrigin(r); err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return formReadError(err)
		}
		want := handlers.CSRFToken(c)
		got := c.FormValue("csrf")
		if got == "" {
			got = r.Header.Get("X-CSRF-Token")
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			return budgetgate.Errorf(budgetgate.EFORBIDDEN, "the form is stale or came from another site: reload the page and try again")
		}
		return next(c)
	}
}

// RequireRole refuses a signed-in user without role.
func RequireRole(role budgetgate.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := handlers.CurrentUser(c)
			if !ok {
				return budgetgate.Errorf(budgetgate.EUNAUTHORIZED, "sign in first")
			}
			if !u.Has(role) {
				return budgetgate.Errorf(budgetgate.EFORBIDDEN, "this page is for the %s role; you have %s", role, rolesText(u.Roles))
			}
			return next(c)
		}
	}
}

func rolesText(roles []budgetgate.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// apiScopes says which token scope each API route needs, by method and
// route pattern. Reads need "read"; a write that is not listed is refused,
// so that a new route cannot be reached by accident with any token.
var apiScopes = map[string]string{
	"POST /api/v1/services/:service/sli":   budgetgate.ScopeIngest,
	"POST /api/v1/releases/evaluate":       budgetgate.ScopeGate,
	"POST /api/v1/exceptions":              budgetgate.ScopeGate,
	"POST /api/v1/exceptions/:id/cancel":   budgetgate.ScopeGate,
	"PUT /api/v1/exceptions/:id/plan":      budgetgate.ScopeGate,
	"POST /api/v1/budget/analyze":          budgetgate.ScopeIngest,
	"PUT /api/v1/services/:service/policy": budgetgate.ScopePolicy,
}

func apiScope(method, route string) string {
	if method == http.MethodGet || method == http.MethodHead {
		return budgetgate.ScopeRead
	}
	return apiScopes[method+" "+route]
}

// RequireToken authenticates an API request by its bearer token and checks
// the token's scope for the route: 401 without a valid token, 403 with one
// that lacks the scope. It sets the token as the request's actor.
func (a *Auth) RequireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secret, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if a.cfg.OpenAPI && c.Request().Header.Get("Authorization") == "" {
			// Without a token the browser's word is all there is: a page of
			// another site must not drive the open API from a developer's
			// browser.
			if err := a.sameOrigin(c.Request()); err != nil {
				return budgetgate.Errorf(budgetgate.EFORBIDDEN, "cross-site requests to the open development API are refused")
			}
			dev := budgetgate.Actor{Issuer: budgetgate.TokenIssuer, Subject: "dev-open-api", Name: "developer (open API)"}
			handlers.SetActor(c, dev)
			handlers.SetUser(c, budgetgate.User{Issuer: dev.Issuer, Subject: dev.Subject, Name: dev.Name})
			return next(c)
		}
		if !ok || strings.TrimSpace(secret) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="budgetgate"`)
			return budgetgate.Errorf(budgetgate.EUNAUTHORIZED, "an API token is required: Authorization: Bearer <token> (budgetgate token create)")
		}
		tok, err := a.store.AuthenticateToken(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			if budgetgate.ErrorCode(err) == budgetgate.EUNAUTHORIZED {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="budgetgate", error="invalid_token"`)
			}
			return err
		}
		scope := apiScope(c.Request().Method, c.Path())
		if scope == "" {
			return budgetgate.Errorf(budgetgate.EFORBIDDEN, "no token scope allows %s %s", c.Request().Method, c.Path())
		}
		if !tok.Allows(scope) {
			return budgetgate.Errorf(budgetgate.EFORBIDDEN, "token %q lacks the %s scope this route needs", tok.Name, scope)
		}
		handlers.SetActor(c, tok.Actor())
		handlers.SetScopes(c, tok.Scopes)
		if tok.HasOwner() {
			// A person's token acts as that person on their own requests
			// (opening, cancelling, planning), never with their roles.
			handlers.SetOwner(c, tok.Owner)
			handlers.SetUser(c, budgetgate.User{Issuer: tok.Owner.Issuer, Subject: tok.Owner.Subject, Name: tok.Owner.Name})
		} else {
			handlers.SetUser(c, budgetgate.User{Issuer: budgetgate.TokenIssuer, Subject: tok.Actor().Subject, Name: tok.Actor().Name})
		}
		return next(c)
	}
}

// Login handles GET /login: it starts the authorisation-code flow, keeping
// state, nonce and PKCE verifier in a short-lived cookie. After logout it
// shows a page instead, so that signing out does not sign straight back in.
func (a *Auth) Login(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if c.QueryParam("signed_out") != "" {
		return handlers.Render(c, http.StatusOK, views.SignedOut(views.Page{Title: "Signed out"}))
	}
	if _, ok := handlers.CurrentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	if a.verifier == nil {
		return errNoSignIn
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	flow, _ := a.flowCookies.New(c.Request(), a.flowName)
	flow.Values["state"], flow.Values["nonce"], flow.Values["verifier"], flow.Values["next"] = state, nonce, verifier, next
	if err := flow.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, a.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// safeNext keeps a return address on this site: a path, never a scheme,
// host or protocol-relative "//". Browsers drop tabs and newlines from a
// URL and read a backslash as a slash, so "/\t/evil.test" is "//evil.test"
// to them: an address with either is refused whole.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsRune(next, '\\') || strings.ContainsFunc(next, unicode.IsControl) {
		return "/"
	}
	return next
}

func signInError(format string, args ...any) error {
	return &budgetgate.Error{Code: budgetgate.EUNAUTHORIZED, Message: "sign-in failed: " + fmt.Sprintf(format, args...) + ". Start again from /login."}
}

// Callback handles GET /auth/callback: it checks state against the flow
// cookie (then clears it, so it cannot be replayed), redeems the code with
// the PKCE verifier, verifies the ID token (signature, issuer, audience,
// expiry) and its nonce, maps groups to roles, and opens a new session.
func (a *Auth) Callback(c echo.Context) error {
	if a.verifier == nil {
		return errNoSignIn
	}
	r := c.Request()
	flow, err := a.flowCookies.Get(r, a.flowName)
	state, _ := flow.Values["state"].(string)
	nonce, _ := flow.Values["nonce"].(string)
	verifier, _ := flow.Values["verifier"].(string)
	next, _ := flow.Values["next"].(string)
	a.clearCookie(c, a.flowCookies, a.flowName)
	if err != nil || state == "" || nonce == "" || verifier == "" {
		return signInError("the sign-in took too long or the browser did not keep its cookie")
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(c.QueryParam("state"))) != 1 {
		return signInError("the state does not match this browser's sign-in")
	}
	if e := c.QueryParam("error"); e != "" {
		return signInError("the identity provider answered %s: %s", e, c.QueryParam("error_description"))
	}
	ctx := r.Context()
	tok, err := a.oauth.Exchange(ctx, c.QueryParam("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		a.cfg.Log.Warn("OIDC code exchange failed", "err", err)
		return signInError("the identity provider did not accept the code")
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return signInError("the identity provider sent no ID token")
	}
	idt, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		a.cfg.Log.Warn("ID token refused", "err", err)
		return signInError("the ID token did not verify")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return signInError("the ID token's nonce does not match this sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return signInError("the ID token's claims are unreadable")
	}
	str := func(k string) string { s, _ := claims[k].(string); return s }
	u := budgetgate.User{
		Issuer: idt.Issuer, Subject: idt.Subject, Email: str("email"), Username: str("preferred_username"),
		Name:  budgetgate.DisplayName(str("name"), str("preferred_username"), str("email"), idt.Subject),
		Roles: budgetgate.RolesFromGroups(groupsClaim(claims[a.cfg.GroupsClaim]), a.cfg.RoleGroups),
	}
	s, err := a.store.Login(ctx, u, a.sessionID(c))
	if err != nil {
		return err
	}
	sess, _ := a.sessionCookies.New(r, a.sessionName)
	sess.Values["id"] = s.ID
	if err := sess.Save(r, c.Response()); err != nil {
		return err
	}
	a.cfg.Log.Info("signed in", "issuer", u.Issuer, "subject", u.Subject, "name", u.Name, "roles", rolesText(u.Roles))
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// groupsClaim reads a groups claim sent as a list or as one string.
func groupsClaim(v any) []string {
	switch g := v.(type) {
	case string:
		return strings.Fields(strings.ReplaceAll(g, ",", " "))
	case []any:
		out := make([]string, 0, len(g))
		for _, x := range g {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Logout handles POST /logout: it revokes the session on the server, so the
// old cookie is useless even if kept, and clears it.
func (a *Auth) Logout(c echo.Context) error {
	if id, ok := c.Get(sessionIDKey).(string); ok {
		if err := a.store.Logout(c.Request().Context(), id, handlers.Actor(c)); err != nil {
			return err
		}
	}
	a.clearCookie(c, a.sessionCookies, a.sessionName)
	return c.Redirect(http.StatusSeeOther, "/login?signed_out=1")
}

func (a *Auth) clearCookie(c echo.Context, store *sessions.CookieStore, name string) {
	s, _ := store.New(c.Request(), name)
	clear(s.Values)
	s.Options = &sessions.Options{Path: "/", MaxAge: -1, Secure: store.Options.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	s.Save(c.Request(), c.Response())
}
