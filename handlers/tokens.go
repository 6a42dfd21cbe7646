package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
)

// TokenStore manages API tokens.
type TokenStore interface {
	CreateOwnedToken(ctx context.Context, name string, scopes []string, owner budgetgate.Actor) (string, *budgetgate.Token, error)
	Tokens(ctx context.Context) ([]*budgetgate.Token, error)
	RevokeToken(ctx context.Context, id int64, by budgetgate.Actor) error
}

// TokenPages serves the admin's /tokens page. The web layer lets only
// admins in.
type TokenPages struct {
	Store TokenStore
}

func (h *TokenPages) render(c echo.Context, status int, v views.TokensView) error {
	list, err := h.Store.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	v.Page, v.Tokens = PageOf(c, "API tokens", "tokens"), list
	return Render(c, status, views.Tokens(v))
}

// List handles GET /tokens.
func (h *TokenPages) List(c echo.Context) error {
	return h.render(c, http.StatusOK, views.TokensView{Form: views.TokenForm{Scopes: []string{budgetgate.ScopeRead}}})
}

// Create handles POST /tokens: the new token is shown in the answer, once;
// it is not a redirect, so the secret never lands in a URL or history. It
// belongs to the admin who made it.
func (h *TokenPages) Create(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		return budgetgate.Errorf(budgetgate.EBADREQUEST, "unreadable form")
	}
	form := views.TokenForm{Name: strings.TrimSpace(c.FormValue("name")), Scopes: c.Request().Form["scopes"]}
	scopes, err := budgetgate.ParseScopes(strings.Join(form.Scopes, ","))
	if err == nil {
		var secret string
		var tok *budgetgate.Token
		if secret, tok, err = h.Store.CreateOwnedToken(c.Request().Context(), form.Name, scopes, Actor(c)); err == nil {
			return h.render(c, http.StatusOK, views.TokensView{NewSecret: secret, NewToken: tok, Form: views.TokenForm{Scopes: []string{budgetgate.ScopeRead}}})
		}
	}
	status, msg, ok := formError(err)
	if !ok {
		return err
	}
	return h.render(c, status, views.TokensView{Form: form, Error: msg})
}

// Revoke handles POST /tokens/:id/revoke.
func (h *TokenPages) Revoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return budgetgate.Errorf(budgetgate.ENOTFOUND, "no token %q", c.Param("id"))
	}
	if err := h.Store.RevokeToken(c.Request().Context(), id, Actor(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/tokens")
}
