package web

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/budgetgate/budgetgate/handlers"
	"github.com/labstack/echo/v4"
)

// Metrics modes: who may read /metrics.
const (
	MetricsPublic = "public" // anyone, like /health: for a scraper on a trusted network
	MetricsToken  = "token"  // an API token with the read scope (Prometheus: authorization credentials)
	MetricsOff    = "off"    // no /metrics route
)

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: from the gate's 10 ms target up to the request timeout.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// routeKey labels requests by route pattern (never the raw path, whose
// values are unbounded) and method.
type routeKey struct{ method, route string }

type routeStats struct {
	mu      sync.Mutex
	byCode  map[int]uint64
	buckets []uint64 // cumulative counts are summed at exposition
	sum     float64
	count   uint64
}

// requestMetrics counts requests and their latencies per route.
type requestMetrics struct {
	mu     sync.RWMutex
	routes map[routeKey]*routeStats
	// inFlight counts requests being served, which drain after SIGTERM.
	inFlight atomic.Int64
}

func newRequestMetrics() *requestMetrics {
	return &requestMetrics{routes: map[routeKey]*routeStats{}}
}

// middleware records every request once its response is written. It sits
// outside the request logger, which has turned errors into responses by
// then, so the status is the one the client saw.
func (m *requestMetrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m.inFlight.Add(1)
		defer m.inFlight.Add(-1)
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil && !c.Response().Committed {
			_, status = toDomain(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.observe(routeKey{c.Request().Method, route}, status, time.Since(start).Seconds())
		return err
	}
}

func (m *requestMetrics) observe(k routeKey, status int, seconds float64) {
	m.mu.RLock()
	s := m.routes[k]
	m.mu.RUnlock()
	if s == nil {
		m.mu.Lock()
		if s = m.routes[k]; s == nil {
			s = &routeStats{byCode: map[int]uint64{}, buckets: make([]uint64, len(latencyBuckets))}
			m.routes[k] = s
		}
		m.mu.Unlock()
	}
	s.mu.Lock()
	s.byCode[status]++
	if i, _ := slices.BinarySearch(latencyBuckets, seconds); i < len(latencyBuckets) {
		s.buckets[i]++
	}
	s.sum += seconds
	s.count++
	s.mu.Unlock()
}

// expose writes the request families, routes in a stable order.
func (m *requestMetrics) expose(x *handlers.Exposition) {
	type snapshot struct {
		key     routeKey
		codes   []int
		byCode  map[int]uint64
		buckets []uint64
		sum     float64
		count   uint64
	}
	m.mu.RLock()
	snaps := make([]snapshot, 0, len(m.routes))
	for k, s := range m.routes {
		s.mu.Lock()
		snap := snapshot{key: k, byCode: maps.Clone(s.byCode), buckets: slices.Clone(s.buckets), sum: s.sum, count: s.count}
		s.mu.Unlock()
		snap.codes = slices.Sorted(maps.Keys(snap.byCode))
		snaps = append(snaps, snap)
	}
	m.mu.RUnlock()
	slices.SortFunc(snaps, func(a, b snapshot) int {
		return cmp.Or(cmp.Compare(a.key.route, b.key.route), cmp.Compare(a.key.method, b.key.method))
	})

	x.Family("budgetgate_http_requests_total", "counter", "HTTP requests answered, by method, route pattern and status code.")
	for _, s := range snaps {
		for _, code := range s.codes {
			x.Sample("", float64(s.byCode[code]), "method", s.key.method, "route", s.key.route, "code", strconv.Itoa(code))
		}
	}
	x.Family("budgetgate_http_request_duration_seconds", "histogram", "Time to answer HTTP requests, by method and route pattern.")
	for _, s := range snaps {
		var cumulative uint64
		for i, le := range latencyBuckets {
			cumulative += s.buckets[i]
			x.Sample("_bucket", float64(cumulative), "method", s.key.method, "route", s.key.route, "le", strconv.FormatFloat(le, 'g', -1, 64))
		}
		x.Sample("_bucket", float64(s.count), "method", s.key.method, "route", s.key.route, "le", "+Inf")
		x.Sample("_sum", s.sum, "method", s.key.method, "route", s.key.route)
		x.Sample("_count", float64(s.count), "method", s.key.method, "route", s.key.route)
	}
	x.Family("budgetgate_http_requests_in_flight", "gauge", "HTTP requests being answered now.")
	x.Sample("", float64(m.inFlight.Load()))
}

// metricsRoute serves /metrics as the mode says: the store's figures, then
// the request counts.
func metricsRoute(e *echo.Echo, h Handlers, reqs *requestMetrics, mode string, requireToken echo.MiddlewareFunc) {
	if h.Metrics == nil || mode == MetricsOff {
		return
	}
	serve := func(c echo.Context) error {
		var x handlers.Exposition
		if err := h.Metrics.Expose(c.Request().Context(), &x); err != nil {
			return err
		}
		reqs.expose(&x)
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.Blob(http.StatusOK, handlers.ExpositionContentType, x.Bytes())
	}
	if mode == MetricsToken {
		e.GET("/metrics", serve, requireToken)
		return
	}
	e.GET("/metrics", serve)
}
