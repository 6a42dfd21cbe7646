package main

import (
	"encoding/json"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/promtest"
)

func TestPrometheusFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		url       string
		headers   map[string]string
		staleness time.Duration
		wantErr   string
	}{
		{name: "defaults", headers: map[string]string{}, staleness: 10 * time.Minute},
		{name: "flags", args: []string{"--prometheus", "http://mimir:9009/prometheus", "--prometheus-header", "X-Scope-OrgID=team-a",
			"--prometheus-header", "X-Extra=a=b,c", "--prometheus-max-staleness", "15m"},
			url: "http://mimir:9009/prometheus", headers: map[string]string{"X-Scope-OrgID": "team-a", "X-Extra": "a=b,c"}, staleness: 15 * time.Minute},
		{name: "environment", env: map[string]string{"BUDGETGATE_PROMETHEUS": "https://prom.internal", "BUDGETGATE_PROMETHEUS_HEADER": "X-Scope-OrgID=t"},
			url: "https://prom.internal", headers: map[string]string{"X-Scope-OrgID": "t"}, staleness: 10 * time.Minute},
		{name: "a header without a value", args: []string{"--prometheus", "http://p", "--prometheus-header", "X-Scope-OrgID"}, wantErr: "want NAME=VALUE"},
		{name: "a header budgetgate sets", args: []string{"--prometheus", "http://p", "--prometheus-header", "Authorization=Bearer x"},
			wantErr: "Authorization is set by budgetgate itself"},
		{name: "not a URL", args: []string{"--prometheus", "prom:9090"}, wantErr: `--prometheus "prom:9090": want an http or https URL`},
		{name: "staleness under a pull", args: []string{"--prometheus-max-staleness", "90s"}, wantErr: "--prometheus-max-staleness: 1m30s is shorter than one pull"},
		{name: "a token without a source", args: []string{"--prometheus-bearer-token-file", "/run/token"}, wantErr: "need --prometheus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out strings.Builder
			fs := newFlags("serve", "serve", io.Discard)
			fs.SetOutput(&out)
			var c prometheusConfig
			c.register(fs)
			_, ok := parseFlags(fs, tt.args)
			var err error
			if ok {
				err = c.validate()
			}
			if tt.wantErr != "" {
				got := out.String()
				if err != nil {
					got += err.Error()
				}
				if !strings.Contains(got, tt.wantErr) {
					t.Fatalf("error %q, want it to contain %q", got, tt.wantErr)
				}
				return
			}
			if !ok || err != nil {
				t.Fatalf("refused: %s %v", out.String(), err)
			}
			if c.url != tt.url || !maps.Equal(c.headers, tt.headers) || c.maxStaleness != tt.staleness {
				t.Errorf("got %q %v %s, want %q %v %s", c.url, c.headers, c.maxStaleness, tt.url, tt.headers, tt.staleness)
			}
		})
	}
}

// TestServePullsFromPrometheus runs the binary against a real Prometheus
// holding a week of a checkout service's counters: the policy's pulled SLO
// is backfilled, its figures agree with Prometheus's own increase(), the
// gate judges by them, and /metrics shows the pull following.
func TestServePullsFromPrometheus(t *testing.T) {
	promtest.Need(t)
	end := time.Now().UTC().Truncate(time.Minute)
	prom := promtest.StartT(t, promtest.Options{History: promtest.History(end.Add(-8*24*time.Hour), end, time.Minute,
		promtest.Counter{Series: `http_requests_total{job="checkout",code="200"}`, Rate: func(time.Time) float64 { return 10 }},
		promtest.Counter{Series: `http_requests_total{job="checkout",code="503"}`, Rate: func(time.Time) float64 { return 0.004 }})})
	dir := t.TempDir()
	policy := `service: checkout
slos:
  - name: availability
    objective: 99.9
    window: 7d
    sli:
      prometheus:
        bad: 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))'
        total: 'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))'
`
	if err := os.WriteFile(filepath.Join(dir, "checkout.yaml"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--db", filepath.Join(t.TempDir(), "bg.db"), "--policies", dir, "--prometheus", prom.URL)

	following := `budgetgate_sli_pull_state{service="checkout",slo="availability",state="following"} 1`
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		_, body := srv.do(t, "GET", "/metrics", "")
		if strings.Contains(string(body), following) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 90s; /metrics has:\n%s", following, grepLines(string(body), "budgetgate_sli_pull"))
		}
	}

	status, body := srv.do(t, "GET", "/api/v1/services/checkout/slos/availability/status", "")
	var m struct {
		Status       string  `json:"status"`
		RemainingPct float64 `json:"remaining_pct"`
		TotalEvents  int64   `json:"total_events"`
	}
	if err := json.Unmarshal(body, &m); status != 200 || err != nil {
		t.Fatalf("status %d %s: %v", status, body, err)
	}
	// 0.004 of 10.004 requests a second fail: 40% of a 0.1% budget spent.
	if math.Abs(m.RemainingPct-60) > 1 || m.Status != "healthy" {
		t.Errorf("remaining %.2f%% (%s), want about 60%% (healthy), as Prometheus's increase() says", m.RemainingPct, m.Status)
	}
	status, body = srv.do(t, "POST", "/api/v1/releases/evaluate", `{"service":"checkout","version":"1.0.0","risk_level":"low","has_tests":true,"has_rollback_plan":true}`)
	if status != 200 || !strings.Contains(string(body), `"approved":true`) || !strings.Contains(string(body), "Budget policy allows low risk releases when status is healthy") {
		t.Errorf("gate: %d %s", status, body)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
