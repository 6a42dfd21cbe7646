// Package web is budgetgate's HTTP server: Echo, its middleware in a
// deliberate order, the routes, and the one place where errors become HTTP
// statuses.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/budgetgate/budgetgate/static"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Config is what the server needs to know beyond its handlers.
type Config struct {
	PublicURL      string        // base URL users reach the server at
	RequestTimeout time.Duration // per request context deadline
	BodyLimit      int64         // bytes
	Log            *slog.Logger
	Metrics        string       // who may read /metrics: MetricsPublic (default), MetricsToken or MetricsOff
	RateLogin      Rate         // per client address on /login and /auth/callback; zero: none
	RateIngest     Rate         // per client address on the ingest routes; zero: none
	TrustedProxies []*net.IPNet // whose X-Forwarded-For names the client; none: the peer does
}

// Handlers are the request handlers the routes dispatch to.
type Handlers struct {
	API          *handlers.API
	Pages        *handlers.Pages
	Variants     *handlers.Variants     // nil: no variant-budget API
	VariantPages *handlers.VariantPages // nil: no variant-budget pages
	Ready        func(ctx context.Context) error
	Metrics      *handlers.Metrics // nil: no /metrics

	Auth   *Auth // sign-in, sessions, CSRF and API tokens; required
	CCB    *handlers.CCB
	Audit  *handlers.AuditPages
	Tokens *handlers.TokenPages
}

// New returns the configured Echo instance.
func New(cfg Config, h Handlers) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(cfg.Log)
	e.IPExtractor = ipExtractor(cfg.TrustedProxies) // the peer unless proxies are trusted (ratelimit.go)

	e.Use(middleware.Recover())
	e.Use(middleware.RequestID())
	reqs := newRequestMetrics()
	e.Use(reqs.middleware)
	e.Use(requestLogger(cfg.Log))
	e.Use(secureHeaders(strings.HasPrefix(cfg.PublicURL, "https://")))
	e.Use(methodNotAllowed)
	e.Use(middleware.BodyLimit(fmt.Sprintf("%dB", cfg.BodyLimit)))
	e.Use(middleware.ContextTimeout(cfg.RequestTimeout))
	e.Use(h.Auth.Sessions, h.Auth.CSRF)
	e.Use(rateLimits(cfg)...)

	e.GET("/health", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/ready", func(c echo.Context) error {
		if err := h.Ready(c.Request().Context()); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	metricsRoute(e, h, reqs, cfg.Metrics, h.Auth.RequireToken)
	e.StaticFS("/static", static.FS)

	api := routes{e: e, prefix: "/api/v1", mw: []echo.MiddlewareFunc{h.Auth.RequireToken}}
	api.POST("/services/:service/sli", h.API.PostSLI)
	api.GET("/services", h.API.ListServices)
	api.GET("/services/:service/status", h.API.ServiceStatus)
	api.POST("/services/:service/slos/:slo/sli", h.API.PostSLOSLI)
	api.GET("/services/:service/slos/:slo/status", h.API.SLOStatus)
	api.PUT("/services/:service/policy", h.API.PutPolicy)
	api.POST("/releases/evaluate", h.API.EvaluateRelease)
	api.GET("/decisions/:id", h.API.GetDecision)

	if v := h.Variants; v != nil {
		api.POST("/budget/analyze", v.PostAnalyze)
		api.GET("/budget/status", v.Status)
		api.GET("/budget/history", v.History)
		api.GET("/budget/violations", v.ListViolations)
		api.GET("/budget/compliance", v.Compliance)
		api.GET("/budget/gate", v.Gate)
	}

	e.GET("/", h.Pages.Overview)
	e.GET("/services/:service", h.Pages.Service)
	e.GET("/services/:service/slos/:slo", h.Pages.SLO)
	e.GET("/policies", h.Pages.Policies)
	e.POST("/policies", h.Pages.SavePolicyForm, RequireRole(budgetgate.RoleSRE))
	identityRoutes(e, api, h)
	if v := h.VariantPages; v != nil {
		e.GET("/projects/:project", v.Project)
		e.GET("/projects/:project/compliance", v.CompliancePage)
		e.GET("/projects/:project/compliance.csv", v.ComplianceCSV)
		e.GET("/violations", v.ViolationsPage)
	}
	return e
}

// Timeouts bound how long a client may hold a connection without making
// progress, so that slow or idle clients cannot tie up the server's
// connections (docs/OPERATIONS.md, "Slow clients").
type Timeouts struct {
	ReadHeader time.Duration // to send the request line and headers
	Read       time.Duration // to send the whole request, headers and body
	Idle       time.Duration // a kept-alive connection waiting for its next request
	// Write bounds the handling of a request and the writing of its answer,
	// from the end of its headers: a client that never reads its answer
	// would otherwise hold the handler and the connection for ever. Set it
	// to the request timeout plus WriteMargin (WriteTimeoutFor).
	Write time.Duration
}

// WriteMargin is what the write deadline leaves, past the request timeout,
// to write the answer.
const WriteMargin = 10 * time.Second

// WriteTimeoutFor is the write deadline of requests that may run for
// request (the request timeout) and take read to arrive.
func WriteTimeoutFor(request, read time.Duration) time.Duration {
	return max(request, read) + WriteMargin
}

// DefaultTimeouts suit requests within the default body limit on an
// ordinary network, with the default request timeout (30 s).
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Idle: 2 * time.Minute,
	Write: WriteTimeoutFor(30*time.Second, 30*time.Second)}

func (t Timeouts) orDefault() Timeouts {
	if t.ReadHeader <= 0 {
		t.ReadHeader = DefaultTimeouts.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = DefaultTimeouts.Read
	}
	if t.Idle <= 0 {
		t.Idle = DefaultTimeouts.Idle
	}
	if t.Write <= 0 {
		t.Write = DefaultTimeouts.Write
	}
	return t
}

// routes registers routes under a prefix with middleware of their own. An
// Echo group with middleware would also claim every path under its prefix
// that it does not serve, and its middleware would answer 401 or 403 where
// the router says 405 or 404.
type routes struct {
	e      *echo.Echo
	prefix string
	mw     []echo.MiddlewareFunc
}

func (r routes) GET(path string, h echo.HandlerFunc)  { r.e.GET(r.prefix+path, h, r.mw...) }
func (r routes) POST(path string, h echo.HandlerFunc) { r.e.POST(r.prefix+path, h, r.mw...) }
func (r routes) PUT(path string, h echo.HandlerFunc)  { r.e.PUT(r.prefix+path, h, r.mw...) }

// Serve serves on ln until ctx is done, then stops taking connections and
// drains in-flight requests for up to grace. A request whose headers or
// body do not arrive within the timeouts is cut off, with or without a
// token: the deadline is the connection's, set before any handler runs; so
// is an answer its client does not read in time.
func Serve(ctx context.Context, e *echo.Echo, ln net.Listener, grace time.Duration, t Timeouts) error {
	t = t.orDefault()
	srv := &http.Server{Handler: e, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, IdleTimeout: t.Idle, WriteTimeout: t.Write}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close() // cut what did not finish in time, before the caller closes the store
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// codeOf maps Echo's own errors (unknown route, body limit) back to ours.
var codeOf = map[int]string{
	http.StatusBadRequest:            budgetgate.EBADREQUEST,
	http.StatusNotFound:              budgetgate.ENOTFOUND,
	http.StatusMethodNotAllowed:      budgetgate.EMETHOD,
	http.StatusRequestEntityTooLarge: budgetgate.ETOOLARGE,
	http.StatusUnauthorized:          budgetgate.EUNAUTHORIZED,
	http.StatusForbidden:             budgetgate.EFORBIDDEN,
	http.StatusServiceUnavailable:    budgetgate.EUNAVAILABLE,
	http.StatusTooManyRequests:       "rate_limited",
}

// toDomain turns any error into a *budgetgate.Error and its HTTP status.
func toDomain(err error) (*budgetgate.Error, int) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, ok := codeOf[he.Code]
		if !ok {
			code = budgetgate.EINTERNAL
		}
		return &budgetgate.Error{Code: code, Message: strings.ToLower(http.StatusText(he.Code))}, he.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &budgetgate.Error{Code: budgetgate.EUNAVAILABLE, Message: "request timed out"}, http.StatusServiceUnavailable
	}
	e := &budgetgate.Error{Code: budgetgate.ErrorCode(err), Message: budgetgate.ErrorMessage(err), Field: budgetgate.ErrorField(err)}
	return e, handlers.StatusOf(e.Code)
}

// errorHandler answers JSON under /api and a page elsewhere, and logs only
// what is our fault.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e, status := toDomain(err)
		// ContextTimeout has cancelled the request's context by the time an
		// error reaches here; the error page must still render.
		c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
		if status >= 500 {
			log.Error("request failed", "err", err, "status", status, "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Request().URL.Path)
		}
		if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "1")
		}
		var werr error
		// Probes (/ready, /metrics) are read by machines: JSON, like the API.
		if strings.HasPrefix(c.Request().URL.Path, "/api/") || c.Request().URL.Path == "/ready" || c.Request().URL.Path == "/metrics" ||
			strings.Contains(c.Request().Header.Get("Accept"), "application/json") {
			body := map[string]string{"code": e.Code, "message": e.Message}
			if e.Field != "" {
				body["field"] = e.Field
			}
			werr = c.JSON(status, map[string]any{"error": body})
		} else {
			// ContextTimeout has cancelled the request's context by now; the
			// error page must render all the same.
			c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
			werr = handlers.Render(c, status, views.ErrorPage(views.ErrorView{Page: handlers.PageOf(c, "Error", ""), Status: status, Message: e.Message, Field: e.Field}))
		}
		if werr != nil {
			log.Error("writing error response", "err", werr)
		}
	}
}

// methodNotAllowed answers 405 with Allow for a path that exists under
// other methods, before sign-in, CSRF or token checks can answer 401, 403
// or 404 for a request that no handler would ever serve.
func methodNotAllowed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string)
		if !ok || allow == "" || c.Request().Method == http.MethodOptions {
			return next(c)
		}
		c.Response().Header().Set(echo.HeaderAllow, allow)
		return &budgetgate.Error{Code: budgetgate.EMETHOD, Message: fmt.Sprintf("%s is not served here; allowed: %s", c.Request().Method, allow)}
	}
}

// requestLogger logs one line per request with its id.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogError: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				// The path, not the URI: query strings carry OAuth codes and states.
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}

// secureHeaders sets the headers of docs/OPERATIONS.md on every response: a CSP that
// allows no inline script and no framing, nosniff, a strict referrer policy,
// and HSTS when served over https.
func secureHeaders(https bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			if https {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}
