package web

import (
	"net/http"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/labstack/echo/v4"
)

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
	"POST /api/v1/services/:service/sli":           budgetgate.ScopeIngest,
	"POST /api/v1/services/:service/slos/:slo/sli": budgetgate.ScopeIngest,
	"POST /api/v1/releases/evaluate":               budgetgate.ScopeGate,
	"POST /api/v1/exceptions":                      budgetgate.ScopeGate,
	"POST /api/v1/exceptions/:id/cancel":           budgetgate.ScopeGate,
	"PUT /api/v1/exceptions/:id/plan":              budgetgate.ScopeGate,
	"POST /api/v1/budget/analyze":                  budgetgate.ScopeIngest,
	"PUT /api/v1/services/:service/policy":         budgetgate.ScopePolicy,
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
