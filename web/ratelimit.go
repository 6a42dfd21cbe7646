package web

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// Rate is how many requests one client address may make per period. The
// whole allowance can be spent at once; it then refills evenly over the
// period. The zero Rate is no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// Off reports whether the rate limits nothing.
func (r Rate) Off() bool { return r.N <= 0 || r.Per <= 0 }

var rateUnits = []struct {
	suffix string
	per    time.Duration
}{{"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}

// String writes the rate the way ParseRate reads it.
func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	for _, u := range rateUnits {
		if r.Per == u.per {
			return fmt.Sprintf("%d/%s", r.N, u.suffix)
		}
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// ParseRate reads a rate as N/s, N/m or N/h ("30/m": thirty a minute), or
// "off" (also "0") for no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Rate{}, nil
	}
	count, unit, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n <= 0 || n > 1_000_000 {
		return Rate{}, fmt.Errorf("want a rate such as 30/m, 100/s or 500/h (at most 1000000 a period), or off; got %q", s)
	}
	for _, u := range rateUnits {
		if unit == u.suffix {
			return Rate{N: n, Per: u.per}, nil
		}
	}
	return Rate{}, fmt.Errorf("rate %q: the period is s, m or h", s)
}

// ParseTrustedProxies reads a comma-separated list of CIDRs or single
// addresses of reverse proxies whose X-Forwarded-For is believed.
func ParseTrustedProxies(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %v", part, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// ipExtractor says where a request's client address comes from, which the
// rate limits key on and anonymous actors are named by. With no trusted
// proxy it is the connection's peer, whatever the headers say. With trusted
// proxies, X-Forwarded-For is read from the right for as long as the hops
// are trusted proxies; Echo's defaults, which also trust loopback, link-local
// and private addresses, are switched off, so that only the networks named
// are believed and a client cannot choose its own address.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// rateLimits returns the configured limits: sign-in (/login and the
// callback, which calls the identity provider) and ingest (every route that
// needs the ingest scope), each per client address.
func rateLimits(cfg Config) []echo.MiddlewareFunc {
	var out []echo.MiddlewareFunc
	if !cfg.RateLogin.Off() {
		out = append(out, rateLimit(cfg.RateLogin, "sign-in", func(method, route string) bool {
			return route == "/login" || route == "/auth/callback"
		}))
	}
	if !cfg.RateIngest.Off() {
		out = append(out, rateLimit(cfg.RateIngest, "ingest", func(method, route string) bool {
			return isAPI(route) && apiScope(method, route) == budgetgate.ScopeIngest
		}))
	}
	return out
}

// rateLimit limits the routes that match to r per client address, with an
// in-memory store: one server holds its own counts. A refused request gets
// 429 with Retry-After: the seconds until one more request is allowed.
func rateLimit(r Rate, what string, match func(method, route string) bool) echo.MiddlewareFunc {
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate:      rate.Limit(float64(r.N) / r.Per.Seconds()),
		Burst:     r.N,
		ExpiresIn: max(3*time.Minute, r.Per), // a client forgotten has refilled anyway
	})
	retryAfter := strconv.Itoa(int(math.Ceil(r.Per.Seconds() / float64(r.N))))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper:             func(c echo.Context) bool { return !match(c.Request().Method, c.Path()) },
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", retryAfter)
			return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("%s rate limit: at most %s per client", what, r))
		},
	})
}
