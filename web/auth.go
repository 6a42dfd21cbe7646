package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
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
	Limits       app.SessionLimits
	Log          *slog.Logger
	// OpenAPI lets API requests without a token through as a developer
	// with every scope: development only (serve allows it with the
	// loopback-only development provider), for the README's quick start.
	OpenAPI bool
}

// AuthStore is what authentication needs from storage.
type AuthStore interface {
	Login(ctx context.Context, u budgetgate.User, replaces string) (*app.Session, error)
	Session(ctx context.Context, id string, lim app.SessionLimits) (*app.Session, error)
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
// probes, but nobody can sign in: scripts started with docs/API.md, CLI
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
		// Session cookies go without Secure only on plain-http localhost (see docs/OPERATIONS.md).
		return nil, fmt.Errorf("auth: public URL %s is plain http away from localhost: serve over https, or behind a TLS proxy with --url https://...", cfg.PublicURL)
	}
	a.oauth = oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: provider.Endpoint(),
		RedirectURL: strings.TrimSuffix(cfg.PublicURL, "/") + "/auth/callback", Scopes: cfg.Scopes,
	}
	a.verifier = provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})
	return a, nil
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

func signInError(format string, args ...any) error {
	return &budgetgate.Error{Code: budgetgate.EUNAUTHORIZED, Message: "sign-in failed: " + fmt.Sprintf(format, args...) + ". Start again from /login."}
}

// SignInConfigured reports whether an identity provider is configured.
func (a *Auth) SignInConfigured() bool { return a.verifier != nil }

// StartSignIn starts the authorisation-code flow: it keeps state, nonce and
// PKCE verifier (and next, where to go afterwards) in a short-lived cookie
// and returns the identity provider's address to send the browser to.
func (a *Auth) StartSignIn(c echo.Context, next string) (string, error) {
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	flow, _ := a.flowCookies.New(c.Request(), a.flowName)
	flow.Values["state"], flow.Values["nonce"], flow.Values["verifier"], flow.Values["next"] = state, nonce, verifier, next
	if err := flow.Save(c.Request(), c.Response()); err != nil {
		return "", fmt.Errorf("save the sign-in flow cookie: %w", err)
	}
	return a.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// FinishSignIn completes the flow the identity provider sent the browser
// back from: it checks state against the flow cookie (then clears it, so it
// cannot be replayed), redeems the code with the PKCE verifier, verifies
// the ID token (signature, issuer, audience, expiry) and its nonce, and
// maps groups to roles. It returns the user and where they were going.
func (a *Auth) FinishSignIn(c echo.Context) (budgetgate.User, string, error) {
	r := c.Request()
	flow, err := a.flowCookies.Get(r, a.flowName)
	state, _ := flow.Values["state"].(string)
	nonce, _ := flow.Values["nonce"].(string)
	verifier, _ := flow.Values["verifier"].(string)
	next, _ := flow.Values["next"].(string)
	a.clearCookie(c, a.flowCookies, a.flowName)
	if err != nil || state == "" || nonce == "" || verifier == "" {
		return budgetgate.User{}, "", signInError("the sign-in took too long or the browser did not keep its cookie")
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(c.QueryParam("state"))) != 1 {
		return budgetgate.User{}, "", signInError("the state does not match this browser's sign-in")
	}
	if e := c.QueryParam("error"); e != "" {
		return budgetgate.User{}, "", signInError("the identity provider answered %s: %s", e, c.QueryParam("error_description"))
	}
	u, err := a.redeem(r.Context(), c.QueryParam("code"), verifier, nonce)
	return u, next, err
}

// redeem exchanges the code for an ID token, verifies it and its nonce,
// and reads the user from its claims.
func (a *Auth) redeem(ctx context.Context, code, verifier, nonce string) (budgetgate.User, error) {
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		a.cfg.Log.Warn("OIDC code exchange failed", "err", err)
		return budgetgate.User{}, signInError("the identity provider did not accept the code")
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return budgetgate.User{}, signInError("the identity provider sent no ID token")
	}
	idt, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		a.cfg.Log.Warn("ID token refused", "err", err)
		return budgetgate.User{}, signInError("the ID token did not verify")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return budgetgate.User{}, signInError("the ID token's nonce does not match this sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return budgetgate.User{}, signInError("the ID token's claims are unreadable")
	}
	str := func(k string) string { s, _ := claims[k].(string); return s }
	return budgetgate.User{
		Issuer: idt.Issuer, Subject: idt.Subject, Email: str("email"), Username: str("preferred_username"),
		Name:  budgetgate.DisplayName(str("name"), str("preferred_username"), str("email"), idt.Subject),
		Roles: budgetgate.RolesFromGroups(groupsClaim(claims[a.cfg.GroupsClaim]), a.cfg.RoleGroups),
	}, nil
}
