package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
)

// exposition is a parsed Prometheus text exposition: each sample by its
// series, written name{label="value",...} with labels sorted, and each
// family's type.
type exposition struct {
	samples map[string]float64
	types   map[string]string
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parseExposition parses the text format strictly: HELP and TYPE once per
// family and before its samples, a family's samples together, label
// values quoted and escaped, values that parse as floats.
func parseExposition(t *testing.T, text string) exposition {
	t.Helper()
	x := exposition{samples: map[string]float64{}, types: map[string]string{}}
	helped := map[string]bool{}
	done := map[string]bool{} // families whose samples have ended
	current := ""
	familyOf := func(name string) string {
		if _, ok := x.types[name]; ok {
			return name
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && x.types[base] == "histogram" {
				return base
			}
		}
		return ""
	}
	if !strings.HasSuffix(text, "\n") {
		t.Fatalf("exposition does not end with a newline")
	}
	for n, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("line %d %q: %s", n+1, line, fmt.Sprintf(format, args...))
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kind, rest, _ := strings.Cut(rest, " ")
			name, arg, _ := strings.Cut(rest, " ")
			if !metricName.MatchString(name) {
				fail("bad metric name")
			}
			switch kind {
			case "HELP":
				if helped[name] {
					fail("second HELP")
				}
				helped[name] = true
			case "TYPE":
				if _, dup := x.types[name]; dup {
					fail("second TYPE")
				}
				if !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, arg) {
					fail("unknown type %q", arg)
				}
				x.types[name] = arg
			default:
				fail("unknown comment")
			}
			continue
		}
		name, rest, hasLabels := strings.Cut(line, "{")
		var labels []string
		var value string
		if hasLabels {
			// Labels: name="value" pairs, the value with \\, \" and \n escapes.
			for {
				eq := strings.Index(rest, `="`)
				if eq < 0 {
					fail("label without a value")
				}
				ln := strings.TrimPrefix(rest[:eq], ",")
				if !labelName.MatchString(ln) {
					fail("bad label name %q", ln)
				}
				rest = rest[eq+2:]
				var v strings.Builder
				i := 0
				for ; i < len(rest) && rest[i] != '"'; i++ {
					if rest[i] == '\\' {
						i++
						if i == len(rest) {
							fail("unterminated escape")
						}
						switch rest[i] {
						case '\\', '"':
							v.WriteByte(rest[i])
						case 'n':
							v.WriteByte('\n')
						default:
							fail("bad escape")
						}
						continue
					}
					v.WriteByte(rest[i])
				}
				if i == len(rest) {
					fail("unterminated label value")
				}
				labels = append(labels, ln+"="+strconv.Quote(v.String()))
				rest = rest[i+1:]
				if after, ok := strings.CutPrefix(rest, "} "); ok {
					value = after
					break
				}
				if !strings.HasPrefix(rest, ",") {
					fail("want , or } after a label")
				}
			}
		} else {
			name, value, _ = strings.Cut(line, " ")
		}
		if !metricName.MatchString(name) {
			fail("bad metric name")
		}
		family := familyOf(name)
		if family == "" {
			fail("sample before its TYPE")
		}
		if family != current {
			if done[family] {
				fail("family %s's samples are not together", family)
			}
			if current != "" {
				done[current] = true
			}
			current = family
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			fail("value: %v", err)
		}
		slices.Sort(labels)
		key := name + "{" + strings.Join(labels, ",") + "}"
		if _, dup := x.samples[key]; dup {
			fail("series written twice")
		}
		x.samples[key] = v
	}
	for name := range x.types {
		if !helped[name] {
			t.Errorf("family %s has no HELP", name)
		}
	}
	return x
}

// series writes a series key as parseExposition does; labels in name,
// value pairs.
func series(name string, labels ...string) string {
	var ls []string
	for i := 0; i+1 < len(labels); i += 2 {
		ls = append(ls, labels[i]+"="+strconv.Quote(labels[i+1]))
	}
	slices.Sort(ls)
	return name + "{" + strings.Join(ls, ",") + "}"
}

func (x exposition) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := x.samples[series(name, labels...)]
	if !ok {
		t.Fatalf("no series %s", series(name, labels...))
	}
	return v
}

var metricsEpoch = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// newMetricsServer serves the real routes with /metrics in the given mode,
// over a store with the worked example (see docs/BUDGET_MATH.md, Error budget) for api-service,
// the variant handlers, and a token with every scope.
func newMetricsServer(t *testing.T, mode string) (url, token string, store *db.DB) {
	t.Helper()
	clock := func() time.Time { return metricsEpoch }
	var h Handlers
	ts := newTestServerWith(t, clock, func(hh *Handlers, s *db.DB) {
		hh.Variants = &handlers.Variants{Store: s, Analyses: &app.Analyses{Store: s, Cover: &fakeCover{upTo: map[string]float64{}}, CCB: &fakeCCB{}, PublicURL: "http://127.0.0.1"}, PublicURL: "http://127.0.0.1", Now: clock}
		hh.Metrics = &handlers.Metrics{Store: s, Now: clock}
		h = *hh
	})
	store, url = ts.Store, ts.URL
	if mode != MetricsPublic {
		// The same handlers behind a server whose /metrics is in mode.
		srv := httptest.NewServer(New(Config{PublicURL: ts.URL, RequestTimeout: 10 * time.Second, BodyLimit: handlers.MaxBodyBytes,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: mode}, h))
		t.Cleanup(srv.Close)
		url = srv.URL
	}
	ctx := context.Background()
	p, err := errorbudget.ParsePolicy("api-service.yaml", []byte("service: api-service\nslo_target: 99.9\nwindow: 30d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SavePolicy(ctx, p, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	token, _, err = store.CreateToken(ctx, "test", budgetgate.TokenScopes, budgetgate.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	return url, token, store
}

func TestMetricsExposition(t *testing.T) {
	url, token, _ := newMetricsServer(t, MetricsPublic)

	// the worked example of docs/BUDGET_MATH.md, Error budget: a million events, 250 bad, 90 minutes ago.
	at := metricsEpoch.Add(-90 * time.Minute).Format(time.RFC3339)
	if status, body, _ := do(t, token, "POST", url+"/api/v1/services/api-service/sli", `{"events":[{"time":"`+at+`","good":999750,"total":1000000}]}`); status != 202 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	// the worked example of docs/BUDGET_MATH.md, Variant deltas on the baseline branch: truck 500 of 10,000 lines.
	if status, body, _ := do(t, token, "POST", url+"/api/v1/budget/analyze", fleetDoc(t, "c1", "", 500)); status != 200 && status != 201 {
		t.Fatalf("analysis: %d %s", status, body)
	}
	for range 3 {
		if status, _, _ := do(t, "", "GET", url+"/health", ""); status != 200 {
			t.Fatalf("health: %d", status)
		}
	}
	do(t, "", "GET", url+"/api/v1/services", "")                              // 401: no token
	do(t, token, "GET", url+"/api/v1/no/such/12345", "")                      // 404 under the API's catch-all
	if resp, err := browser(t).Get(url + "/no/such/page/12345"); err == nil { // to sign-in, labelled unmatched, not by its path
		resp.Body.Close()
	}
	do(t, token, "GET", url+"/api/v1/decisions/999", "") // 404 on a route

	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != handlers.ExpositionContentType {
		t.Fatalf("GET /metrics: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	x := parseExposition(t, string(raw))

	tests := []struct {
		name   string
		series []string // name, then label pairs
		want   float64
	}{
		{"remaining", []string{"budgetgate_service_budget_remaining_percent", "service", "api-service", "slo", "default"}, 75},
		{"consumed", []string{"budgetgate_service_budget_consumed_percent", "service", "api-service", "slo", "default"}, 25},
		{"target", []string{"budgetgate_service_slo_target_percent", "service", "api-service", "slo", "default"}, 99.9},
		{"events", []string{"budgetgate_service_window_events", "service", "api-service", "slo", "default"}, 1e6},
		{"bad events", []string{"budgetgate_service_window_bad_events", "service", "api-service", "slo", "default"}, 250},
		{"burn 6h", []string{"budgetgate_service_burn_rate", "service", "api-service", "slo", "default", "window", "6h"}, 0.25},
		{"burn 1h: nothing in the last hour", []string{"budgetgate_service_burn_rate", "service", "api-service", "slo", "default", "window", "1h"}, 0},
		{"status healthy", []string{"budgetgate_service_status", "service", "api-service", "slo", "default", "status", "healthy"}, 1},
		{"status not warning", []string{"budgetgate_service_status", "service", "api-service", "slo", "default", "status", "warning"}, 0},
		{"no data", []string{"budgetgate_service_status", "service", "ledger", "slo", "default", "status", "no_data"}, 1},
		{"ticket alert", []string{"budgetgate_service_alert_firing", "service", "api-service", "slo", "default", "alert", "ticket", "severity", "ticket"}, 0},
		{"project warns", []string{"budgetgate_project_status", "project", "fleet-core", "status", "warn"}, 1},
		{"project not blocked", []string{"budgetgate_project_status", "project", "fleet-core", "status", "blocked"}, 0},
		{"compliance: one of two figures within soft", []string{"budgetgate_project_compliance_percent", "project", "fleet-core"}, 50},
		{"open violations", []string{"budgetgate_project_violations", "project", "fleet-core", "state", "open"}, 0},
		{"truck lines", []string{"budgetgate_variant_delta_percent", "project", "fleet-core", "dimension", "vehicle", "variant", "truck", "metric", "lines_of_code"}, 5},
		{"truck functions", []string{"budgetgate_variant_delta_percent", "project", "fleet-core", "dimension", "vehicle", "variant", "truck", "metric", "function_count"}, 0.99}, // 100 x 1/101, to two decimals
		{"dimension figure", []string{"budgetgate_dimension_delta_percent", "project", "fleet-core", "dimension", "vehicle", "metric", "lines_of_code"}, 5},
		{"hard limit", []string{"budgetgate_dimension_hard_limit_percent", "project", "fleet-core", "dimension", "vehicle", "metric", "lines_of_code"}, 5},
		{"soft limit", []string{"budgetgate_dimension_soft_limit_percent", "project", "fleet-core", "dimension", "vehicle", "metric", "lines_of_code"}, 3},
		{"outbox", []string{"budgetgate_notifications", "state", "pending"}, 0},
		{"storage not full", []string{"budgetgate_storage_full"}, 0},
		{"health requests", []string{"budgetgate_http_requests_total", "method", "GET", "route", "/health", "code", "200"}, 3},
		{"unauthorised", []string{"budgetgate_http_requests_total", "method", "GET", "route", "/api/v1/services", "code", "401"}, 1},
		{"not found, by route", []string{"budgetgate_http_requests_total", "method", "GET", "route", "/api/v1/decisions/:id", "code", "404"}, 1},
		{"unmatched", []string{"budgetgate_http_requests_total", "method", "GET", "route", "unmatched", "code", "303"}, 1},
		{"unknown API path", []string{"budgetgate_http_requests_total", "method", "GET", "route", "unmatched", "code", "404"}, 1},
		{"ingest", []string{"budgetgate_http_requests_total", "method", "POST", "route", "/api/v1/services/:service/sli", "code", "202"}, 1},
		{"health latencies", []string{"budgetgate_http_request_duration_seconds_count", "method", "GET", "route", "/health"}, 3},
		{"health latencies +Inf", []string{"budgetgate_http_request_duration_seconds_bucket", "method", "GET", "route", "/health", "le", "+Inf"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := x.value(t, tt.series[0], tt.series[1:]...); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("%s = %v, want %v", series(tt.series[0], tt.series[1:]...), got, tt.want)
			}
		})
	}
	for key := range x.samples {
		if strings.Contains(key, "12345") {
			t.Errorf("a raw path became a label: %s", key)
		}
	}
	if got := x.value(t, "budgetgate_db_size_bytes"); got < 4096 {
		t.Errorf("db size %v", got)
	}
	for name, kind := range map[string]string{"budgetgate_http_requests_total": "counter", "budgetgate_http_request_duration_seconds": "histogram", "budgetgate_service_burn_rate": "gauge"} {
		if x.types[name] != kind {
			t.Errorf("%s is a %q, want %s", name, x.types[name], kind)
		}
	}
	// Buckets are cumulative.
	prev := 0.0
	for _, le := range latencyBuckets {
		v := x.value(t, "budgetgate_http_request_duration_seconds_bucket", "method", "POST", "route", "/api/v1/services/:service/sli", "le", strconv.FormatFloat(le, 'g', -1, 64))
		if v < prev {
			t.Errorf("bucket le=%v holds %v, less than the one before (%v)", le, v, prev)
		}
		prev = v
	}
}

func TestMetricsModes(t *testing.T) {
	for _, tt := range []struct {
		mode                 string
		anonymous, withToken int
	}{
		{MetricsToken, 401, 200},
		{MetricsOff, 404, 404},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			url, token, _ := newMetricsServer(t, tt.mode)
			if status, body, _ := do(t, "", "GET", url+"/metrics", ""); status != tt.anonymous {
				t.Errorf("without a token: %d %s, want %d", status, body, tt.anonymous)
			}
			status, body, _ := do(t, token, "GET", url+"/metrics", "")
			if status != tt.withToken {
				t.Errorf("with a token: %d, want %d", status, tt.withToken)
			}
			if status == 200 {
				parseExposition(t, string(body))
			}
		})
	}
}
