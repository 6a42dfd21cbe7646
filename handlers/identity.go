package handlers

import (
	"github.com/budgetgate/budgetgate"
	"github.com/labstack/echo/v4"
)

const (
	userKey = "budgetgate.user"
	csrfKey = "budgetgate.csrf"
)

// SetUser records the signed-in user (and so the actor) of a browser
// request; the web layer's session middleware calls it.
func SetUser(c echo.Context, u budgetgate.User) {
	c.Set(userKey, u)
	SetActor(c, u.Actor())
}

// CurrentUser returns the signed-in user, if any.
func CurrentUser(c echo.Context) (budgetgate.User, bool) {
	u, ok := c.Get(userKey).(budgetgate.User)
	return u, ok
}

// SetCSRF records the session's form token, which every state-changing
// form must carry back.
func SetCSRF(c echo.Context, token string) { c.Set(csrfKey, token) }

// CSRFToken returns the token to put in forms ("" when signed out).
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(csrfKey).(string)
	return s
}
