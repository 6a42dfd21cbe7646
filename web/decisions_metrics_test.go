package web

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
)

// TestMetricsReleaseDecisions: /metrics counts the release decisions made,
// by service and outcome, each once however often it is replayed, and
// shows every service with zeros before its first decision, so that the
// alert on a gate refusing everything (deploy/prometheus) sees the first
// one as an increase.
func TestMetricsReleaseDecisions(t *testing.T) {
	clock := func() time.Time { return metricsEpoch }
	ts := newTestServerWith(t, clock, func(hh *Handlers, s *db.DB) {
		counts := &handlers.DecisionCounts{}
		hh.API.Decisions = counts
		hh.Metrics = &handlers.Metrics{Store: s, Now: clock, Decisions: counts}
	})
	ctx := context.Background()
	for _, service := range []string{"api-service", "quiet"} {
		p, err := errorbudget.ParsePolicy(service+".yaml", []byte("service: "+service+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Store.SavePolicy(ctx, p, "test", budgetgate.SystemActor); err != nil {
			t.Fatal(err)
		}
	}
	token, _, err := ts.Store.CreateToken(ctx, "test", budgetgate.TokenScopes, budgetgate.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	// api-service is healthy (the worked example: 75% left); ledger has no
	// data, which its policy denies.
	at := metricsEpoch.Add(-90 * time.Minute).Format(time.RFC3339)
	if status, body, _ := do(t, token, "POST", ts.URL+"/api/v1/services/api-service/sli", `{"events":[{"time":"`+at+`","good":999750,"total":1000000}]}`); status != 202 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	for _, r := range []struct {
		body, key string
	}{
		{`{"service":"api-service","version":"1.0.0","risk_level":"low"}`, ""},
		{`{"service":"api-service","version":"1.0.1","risk_level":"low"}`, "k1"},
		{`{"service":"api-service","version":"1.0.1","risk_level":"low"}`, "k1"}, // a replay
		{`{"service":"ledger","version":"2.0.0","risk_level":"low"}`, ""},
	} {
		var header []string
		if r.key != "" {
			header = []string{"Idempotency-Key", r.key}
		}
		if status, body, _ := do(t, token, "POST", ts.URL+"/api/v1/releases/evaluate", r.body, header...); status != 200 {
			t.Fatalf("evaluate %s: %d %s", r.body, status, body)
		}
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	x := parseExposition(t, string(raw))
	if x.types["budgetgate_release_decisions_total"] != "counter" {
		t.Errorf("budgetgate_release_decisions_total is a %q, want a counter", x.types["budgetgate_release_decisions_total"])
	}
	for _, tt := range []struct {
		service, decision string
		want              float64
	}{
		{"api-service", "approved", 2},
		{"api-service", "denied", 0},
		{"ledger", "denied", 1},
		{"ledger", "approved", 0},
		{"quiet", "approved", 0},
		{"quiet", "denied", 0},
	} {
		t.Run(tt.service+" "+tt.decision, func(t *testing.T) {
			if got := x.value(t, "budgetgate_release_decisions_total", "service", tt.service, "decision", tt.decision); got != tt.want {
				t.Errorf("%v, want %v", got, tt.want)
			}
		})
	}
}
