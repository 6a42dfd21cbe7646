package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

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

// OpenSession opens a new server-side session for u, replacing the
// browser's current one, and sets its cookie.
func (a *Auth) OpenSession(c echo.Context, u budgetgate.User) error {
	r := c.Request()
	s, err := a.store.Login(r.Context(), u, a.sessionID(c))
	if err != nil {
		return err
	}
	sess, _ := a.sessionCookies.New(r, a.sessionName)
	sess.Values["id"] = s.ID
	if err := sess.Save(r, c.Response()); err != nil {
		return fmt.Errorf("save the session cookie: %w", err)
	}
	a.cfg.Log.Info("signed in", "issuer", u.Issuer, "subject", u.Subject, "name", u.Name, "roles", rolesText(u.Roles))
	return nil
}

// EndSession revokes the session on the server, so the old cookie is
// useless even if kept, and clears the cookie.
func (a *Auth) EndSession(c echo.Context, actor budgetgate.Actor) error {
	if id, ok := c.Get(sessionIDKey).(string); ok {
		if err := a.store.Logout(c.Request().Context(), id, actor); err != nil {
			return err
		}
	}
	a.clearCookie(c, a.sessionCookies, a.sessionName)
	return nil
}

func (a *Auth) clearCookie(c echo.Context, store *sessions.CookieStore, name string) {
	s, _ := store.New(c.Request(), name)
	clear(s.Values)
	s.Options = &sessions.Options{Path: "/", MaxAge: -1, Secure: store.Options.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	s.Save(c.Request(), c.Response())
}
