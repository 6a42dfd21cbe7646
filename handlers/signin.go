package handlers

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
)

// SignInFlow is what signing in and out needs from the server's OIDC and
// session machinery (web.Auth).
type SignInFlow interface {
	SignInConfigured() bool
	StartSignIn(c echo.Context, next string) (providerURL string, err error)
	FinishSignIn(c echo.Context) (u budgetgate.User, next string, err error)
	OpenSession(c echo.Context, u budgetgate.User) error
	EndSession(c echo.Context, actor budgetgate.Actor) error
}

// SignIn serves sign-in, the identity provider's callback and sign-out.
type SignIn struct {
	Flow SignInFlow
}

// errNoSignIn answers /login and /auth/callback on a server without an
// identity provider.
var errNoSignIn = budgetgate.Errorf(budgetgate.EUNAVAILABLE, "sign-in is not configured on this server: start it with --oidc-issuer and --oidc-client-id (or --dev-idp for development)")

// Login handles GET /login: it starts the authorisation-code flow. After
// logout it shows a page instead, so that signing out does not sign
// straight back in.
func (h *SignIn) Login(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if c.QueryParam("signed_out") != "" {
		return Render(c, http.StatusOK, views.SignedOut(views.Page{Title: "Signed out"}))
	}
	if _, ok := CurrentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	if !h.Flow.SignInConfigured() {
		return errNoSignIn
	}
	to, err := h.Flow.StartSignIn(c, next)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, to)
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

// Callback handles GET /auth/callback: the identity provider sends the
// browser back here; a verified sign-in opens a new session.
func (h *SignIn) Callback(c echo.Context) error {
	if !h.Flow.SignInConfigured() {
		return errNoSignIn
	}
	u, next, err := h.Flow.FinishSignIn(c)
	if err != nil {
		return err
	}
	if err := h.Flow.OpenSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// Logout handles POST /logout: the session ends on the server, not only in
// this browser.
func (h *SignIn) Logout(c echo.Context) error {
	if err := h.Flow.EndSession(c, Actor(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login?signed_out=1")
}
