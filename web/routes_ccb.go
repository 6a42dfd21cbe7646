package web

import (
	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/labstack/echo/v4"
)

// identityRoutes adds sign-in, the CCB's API and pages, the audit log and
// the admin's token page.
func identityRoutes(e *echo.Echo, api routes, h Handlers) {
	signIn := &handlers.SignIn{Flow: h.Auth}
	e.GET("/login", signIn.Login)
	e.GET("/auth/callback", signIn.Callback)
	e.POST("/logout", signIn.Logout)

	api.POST("/exceptions", h.CCB.PostException)
	api.GET("/exceptions", h.CCB.ListExceptions)
	api.GET("/exceptions/:id", h.CCB.GetException)
	api.POST("/exceptions/:id/cancel", h.CCB.CancelExceptionAPI)
	api.PUT("/exceptions/:id/plan", h.CCB.PutPlan)

	e.GET("/ccb", h.CCB.Queue)
	e.POST("/ccb", h.CCB.NewRequest)
	e.GET("/ccb/:id", h.CCB.Request)
	e.POST("/ccb/:id/votes", h.CCB.Vote)
	e.POST("/ccb/:id/cancel", h.CCB.Cancel)
	e.POST("/ccb/:id/edit", h.CCB.Edit)
	e.POST("/ccb/:id/revoke", h.CCB.Revoke)
	e.GET("/audit", h.Audit.Audit)

	tokens := routes{e: e, prefix: "/tokens", mw: []echo.MiddlewareFunc{RequireRole(budgetgate.RoleAdmin)}}
	tokens.GET("", h.Tokens.List)
	tokens.POST("", h.Tokens.Create)
	tokens.POST("/:id/revoke", h.Tokens.Revoke)
}
