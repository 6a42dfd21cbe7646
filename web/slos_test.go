package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
)

const checkoutPolicy = `service: checkout
slos:
  - {name: availability, objective: 99.9, window: 30d}
  - {name: latency, objective: 99, window: 28d}
  - {name: freshness, objective: 95, window: 7d}
`

func sliBody(ago time.Duration, good, total int) string {
	b, _ := json.Marshal(map[string]any{"events": []map[string]any{{"time": rfc3339(-ago), "good": good, "total": total}}})
	return string(b)
}

// The SLO routes take and answer each SLO's counts; the service routes
// keep working, a service with several SLOs being its worst one.
func TestSeveralSLOsOverTheAPI(t *testing.T) {
	srv, token := newBudgetServer(t)
	base := srv.URL + "/api/v1/services/"
	if status, body, _ := do(t, token, "PUT", base+"checkout/policy", checkoutPolicy); status != 200 {
		t.Fatalf("policy: %d %s", status, body)
	}
	posts := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"availability", "checkout/slos/availability/sli", sliBody(time.Hour, 999_750, 1_000_000), 202, ""},
		{"latency", "checkout/slos/latency/sli", sliBody(time.Hour, 9_920, 10_000), 202, ""},
		{"freshness", "checkout/slos/freshness/sli", sliBody(time.Hour, 990, 1000), 202, ""},
		{"service route with several SLOs", "checkout/sli", sliBody(time.Hour, 1, 1), 422, "slo"},
		{"unknown SLO", "checkout/slos/errors/sli", sliBody(time.Hour, 1, 1), 404, ""},
		{"unknown service", "nope/slos/availability/sli", sliBody(time.Hour, 1, 1), 404, ""},
		{"bad counts on an SLO route", "checkout/slos/latency/sli", sliBody(time.Hour, 2, 1), 422, "events[0].good"},
		{"single-SLO service route unchanged", "api-service/sli", sliBody(time.Hour, 999_750, 1_000_000), 202, ""},
		{"single-SLO service by its SLO's name", "api-service/slos/default/sli", sliBody(time.Hour, 1000, 1000), 202, ""},
	}
	for _, p := range posts {
		t.Run(p.name, func(t *testing.T) {
			status, body, _ := do(t, token, "POST", base+p.path, p.body)
			var e apiError
			json.Unmarshal(body, &e)
			if status != p.status || e.Error.Field != p.field {
				t.Fatalf("%d %s; want %d naming %q", status, body, p.status, p.field)
			}
		})
	}

	var sm errorbudget.ServiceMetrics
	_, body, _ := do(t, token, "GET", base+"checkout/status", "")
	if err := json.Unmarshal(body, &sm); err != nil {
		t.Fatal(err)
	}
	if sm.SLO != "latency" || sm.Status != errorbudget.StatusWarning || sm.RemainingPct != 20 || sm.Window != "28d" || len(sm.SLOs) != 3 {
		t.Fatalf("checkout status: %s", body)
	}
	var one errorbudget.Metrics
	status, body, _ := do(t, token, "GET", base+"checkout/slos/availability/status", "")
	if json.Unmarshal(body, &one); status != 200 || one.SLO != "availability" || one.RemainingPct != 75 || one.TotalEvents != 1_000_000 {
		t.Fatalf("availability status: %d %s", status, body)
	}
	if status, _, _ := do(t, token, "GET", base+"checkout/slos/errors/status", ""); status != 404 {
		t.Errorf("unknown SLO status: %d", status)
	}

	// The seed's single SLO answers as it always has, plus its name and slos.
	_, body, _ = do(t, token, "GET", base+"api-service/status", "")
	var single map[string]any
	json.Unmarshal(body, &single)
	for _, k := range []string{"service", "slo_target", "window", "status", "remaining_pct", "consumed_pct", "burn_rate", "burn_rates",
		"total_events", "bad_events", "allowed_bad_events", "projected_exhaustion", "alerts", "computed_at"} {
		if _, ok := single[k]; !ok {
			t.Errorf("service status lacks %s: %s", k, body)
		}
	}
	if single["slo"] != "default" || len(single["slos"].([]any)) != 1 {
		t.Errorf("single SLO: %s", body)
	}

	// The gate judges checkout by latency, with the reference gate's words.
	status, body, _ = do(t, token, "POST", srv.URL+"/api/v1/releases/evaluate",
		`{"service":"checkout","version":"2.0.0","risk_level":"medium","has_tests":true,"has_rollback_plan":true}`)
	var dec errorbudget.Decision
	if json.Unmarshal(body, &dec); status != 200 || dec.Approved || dec.Reason != "Medium risk releases not allowed when budget status is warning" ||
		dec.Metrics.SLO != "latency" || len(dec.SLOs) != 3 {
		t.Fatalf("evaluate: %d %s", status, body)
	}
	_, body, _ = do(t, token, "GET", srv.URL+"/api/v1/decisions/"+jsonNumber(dec.ID), "")
	var stored errorbudget.Decision
	if json.Unmarshal(body, &stored); stored.Metrics.SLO != "latency" || len(stored.SLOs) != 3 || stored.SLOs[0].SLO != "availability" {
		t.Errorf("stored decision: %s", body)
	}
	if !strings.Contains(string(body), `"slos":[`) {
		t.Errorf("stored decision without slos: %s", body)
	}
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Every SLO has its page and its series; the service page lists them and
// the overview shows the service once, by its worst SLO.
func TestSeveralSLOsOnPagesAndMetrics(t *testing.T) {
	h, viewer := numbersHarness(t)
	if status, body, _ := h.api(t, h.Token, "PUT", "/api/v1/services/checkout/policy", `service: checkout
slos:
  - {name: availability, objective: 99.9, window: 30d}
  - {name: latency, objective: 99, window: 28d}
  - name: freshness
    objective: 95
    window: 7d
    description: orders visible in search
    sli:
      prometheus:
        bad: sum(rate(search_stale_orders_total[{{.window}}]))
        total: sum(rate(search_orders_total[{{.window}}]))
        max_staleness: 15m
`); status != 200 {
		t.Fatalf("policy: %d %s", status, body)
	}
	for slo, counts := range map[string][2]int{"availability": {999_750, 1_000_000}, "latency": {9_920, 10_000}} {
		if status, body, _ := h.api(t, h.Token, "POST", "/api/v1/services/checkout/slos/"+slo+"/sli", sliBody(time.Hour, counts[0], counts[1])); status != 202 {
			t.Fatalf("%s: %d %s", slo, status, body)
		}
	}
	// freshness is pulled: counts posted to it would add to what its source says.
	if status, body, _ := h.api(t, h.Token, "POST", "/api/v1/services/checkout/slos/freshness/sli", sliBody(time.Hour, 100, 100)); status != 422 || !strings.Contains(body, `"field":"slo"`) {
		t.Errorf("counts posted to a pulled SLO: %d %s, want 422 naming slo", status, body)
	}

	_, page := viewer.get(t, "/services/checkout")
	for _, want := range []string{`data-testid="slos"`, `data-testid="slo-availability"`, `data-testid="slo-freshness"`,
		`href="/services/checkout/slos/latency"`, "decides the gate (worst SLO)"} {
		// freshness has no data, which blocks the gate under on_no_data: deny.
		if !strings.Contains(page, want) {
			t.Errorf("service page lacks %s", want)
		}
	}
	if strings.Count(page, "decides the gate") != 1 {
		t.Error("more than one SLO decides the gate")
	}
	pages := []struct {
		path   string
		status int
		want   []string
	}{
		{"/services/checkout/slos/latency", 200, []string{"checkout / latency", `<a href="/services/checkout/slos/freshness">freshness</a> is worse and decides the gate of checkout`, "99% over 28d", "20.0%", "/api/v1/services/checkout/slos/latency/sli"}},
		{"/services/checkout/slos/availability", 200, []string{`<a href="/services/checkout/slos/freshness">freshness</a> is worse and decides the gate of checkout`, "75.0%"}},
		{"/services/checkout/slos/freshness", 200, []string{"its status and its release gate follow this SLO", "orders visible in search", "no data", "sum(rate(search_stale_orders_total[{{.window}}]))", "Stale after"}},
		{"/services/ledger/slos/default", 200, []string{"ledger / default", "its status and its release gate follow this SLO"}},
		{"/services/checkout/slos/errors", 404, nil},
		{"/services/nope/slos/latency", 404, nil},
	}
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			resp, body := viewer.get(t, p.path)
			if resp.StatusCode != p.status {
				t.Fatalf("%d, want %d", resp.StatusCode, p.status)
			}
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %q", w)
				}
			}
		})
	}

	_, overview := viewer.get(t, "/")
	if strings.Count(overview, `data-testid="service-checkout"`) != 1 || !strings.Contains(overview, "freshness: 95% / 7d") {
		t.Errorf("overview: checkout shown %d times, or not by its worst SLO (freshness, without data)", strings.Count(overview, `data-testid="service-checkout"`))
	}

	x := exposed(t, h)
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"budgetgate_service_budget_remaining_percent", "service", "checkout", "slo", "latency"}, 20},
		{[]string{"budgetgate_service_budget_remaining_percent", "service", "checkout", "slo", "availability"}, 75},
		{[]string{"budgetgate_service_slo_target_percent", "service", "checkout", "slo", "freshness"}, 95},
		{[]string{"budgetgate_service_status", "service", "checkout", "slo", "latency", "status", "warning"}, 1},
		{[]string{"budgetgate_service_status", "service", "checkout", "slo", "freshness", "status", "no_data"}, 1},
		{[]string{"budgetgate_service_alert_firing", "service", "checkout", "slo", "latency", "alert", "page_fast", "severity", "page"}, 0},
		{[]string{"budgetgate_service_status", "service", "ledger", "slo", "default", "status", "no_data"}, 1},
	} {
		if got := x.value(t, c.labels[0], c.labels[1:]...); got != c.want {
			t.Errorf("%v = %v, want %v", c.labels, got, c.want)
		}
	}
}
