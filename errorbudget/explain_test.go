package errorbudget

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestStatusReason checks that every status names the bound that set it,
// with the figure that met it, for the default thresholds at 99.9% over
// 30 days (1,000,000 events allow 1,000 bad; in the 1h window, 100,000
// events with 1,599 bad burn at 15.99).
func TestStatusReason(t *testing.T) {
	p := DefaultPolicy("auth")
	tests := []struct {
		name            string
		bad, burn1hBad  int64
		want            string
		wantTotalEvents int64
	}{
		{"burn alone sets critical", 300, 1599, "critical: 1h burn rate 15.99x >= 5x", 1_000_000},
		{"both bounds of critical", 950, 600, "critical: budget remaining 5.0% < 10% and 1h burn rate 6.00x >= 5x", 1_000_000},
		{"remaining alone sets warning", 830, 50, "warning: budget remaining 17.0% < 25%", 1_000_000},
		{"healthy keeps both bounds", 220, 30, "healthy: budget remaining 78.0% >= 50% and 1h burn rate 0.30x < 1.5x", 1_000_000},
		{"overspent", 1150, 150, "exhausted: budget remaining -15.0% <= 0%", 1_000_000},
		// 49.96% would round to 50.0%, which does not read as below 50%.
		{"a figure at the boundary keeps its decimals", 5004, 0, "attention: budget remaining 49.96% < 50%", 10_000_000},
		{"no events", 0, 0, "no data: no events in the last 30d", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := WindowCounts{
				Window:      Counts{Good: tt.wantTotalEvents - tt.bad, Total: tt.wantTotalEvents},
				BurnWindows: map[string]Counts{},
			}
			if tt.wantTotalEvents > 0 {
				c.BurnWindows["1h"] = Counts{Good: 100_000 - tt.burn1hBad, Total: 100_000}
			}
			m := ComputeMetrics(p, &p.SLOs[0], c, testNow)
			if m.StatusReason != tt.want {
				t.Errorf("status %s: reason %q, want %q", m.Status, m.StatusReason, tt.want)
			}
		})
	}
}

// TestStatusReasonFollowsPolicy: a policy's own bounds and burn window
// appear in the reason, not the defaults.
func TestStatusReasonFollowsPolicy(t *testing.T) {
	p := mustParse(t, `service: search
burn_rate_window: 6h
policy:
  gates:
    critical:
      criteria: ["budget_remaining < 15%", "burn_rate >= 8x"]
`)
	c := WindowCounts{
		Window:      Counts{Good: 1_000_000 - 880, Total: 1_000_000},
		BurnWindows: map[string]Counts{"6h": {Good: 99_900, Total: 100_000}},
	}
	m := ComputeMetrics(p, &p.SLOs[0], c, testNow)
	if want := "critical: budget remaining 12.0% < 15%"; m.StatusReason != want {
		t.Errorf("reason %q, want %q", m.StatusReason, want)
	}
	if m.BurnRateWindow != "6h" || m.ForecastWindow != "6h" {
		t.Errorf("windows: burn %q forecast %q", m.BurnRateWindow, m.ForecastWindow)
	}
}

// TestNoDataIsNotOK: windows without events are listed, and an alert over
// such a window says no data rather than ok.
func TestNoDataIsNotOK(t *testing.T) {
	p := DefaultPolicy("svc")
	tests := []struct {
		name        string
		c           WindowCounts
		wantNoData  []string
		wantAlertND map[string]bool
	}{
		{"nothing at all", WindowCounts{BurnWindows: map[string]Counts{}},
			[]string{"5m", "30m", "1h", "6h", "24h", "72h"},
			map[string]bool{"page_fast": true, "page_slow": true, "ticket": true}},
		{"quiet last hour", WindowCounts{Window: Counts{Good: 990, Total: 1000}, BurnWindows: map[string]Counts{
			"6h": {Good: 99, Total: 100}, "24h": {Good: 99, Total: 100}, "72h": {Good: 99, Total: 100}}},
			[]string{"5m", "30m", "1h"},
			map[string]bool{"page_fast": true, "page_slow": true, "ticket": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ComputeMetrics(p, &p.SLOs[0], tt.c, testNow)
			if !slices.Equal(m.NoDataWindows, tt.wantNoData) {
				t.Errorf("no-data windows %v, want %v", m.NoDataWindows, tt.wantNoData)
			}
			for _, a := range m.Alerts {
				if a.NoData != tt.wantAlertND[a.Name] {
					t.Errorf("alert %s: no_data %v, want %v", a.Name, a.NoData, tt.wantAlertND[a.Name])
				}
			}
		})
	}
}

func TestCriteriaJoin(t *testing.T) {
	for s, want := range map[Status]string{StatusHealthy: "AND", StatusAttention: "OR", StatusCritical: "OR"} {
		if got := CriteriaJoin(s); got != want {
			t.Errorf("%s: %s, want %s", s, got, want)
		}
	}
}

// TestEscalationMessage: the roles notified read words, not policy keys.
func TestEscalationMessage(t *testing.T) {
	m := Metrics{Service: "search", RemainingPct: 17.0005, Status: StatusWarning}
	tests := []struct {
		e     Escalation
		title string
		want  string
	}{
		{Escalation{Name: "budget_25pct", ThresholdPct: 25, Action: "review_pending_releases"}, "budget below 25%",
			"search: error budget below 25% (17.0% remaining, status warning). Action: review pending releases."},
		{Escalation{Name: "budget_12.5pct", ThresholdPct: 12.5, Action: "freeze"}, "budget below 12.5%",
			"search: error budget below 12.5% (17.0% remaining, status warning). Action: freeze."},
		{Escalation{Name: ExhaustedEscalation, Action: "feature_freeze_and_postmortem"}, "budget exhausted",
			"search: error budget exhausted (17.0% remaining, status warning). Action: feature freeze and postmortem."},
	}
	for _, tt := range tests {
		t.Run(tt.e.Name, func(t *testing.T) {
			if got := tt.e.Title(); got != tt.title {
				t.Errorf("title %q, want %q", got, tt.title)
			}
			if got := tt.e.Message("search", m); got != tt.want {
				t.Errorf("message %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBurnRateOf(t *testing.T) {
	p := &DefaultPolicy("svc").SLOs[0] // 99.9%: 0.1% of events may fail
	tests := []struct {
		c         Counts
		want      float64
		errorRate float64
	}{
		{Counts{Good: 60_000 - 120, Total: 60_000}, 2, 0.2},
		{Counts{Good: 1000, Total: 1000}, 0, 0},
		{Counts{Good: 0, Total: 10}, 1000, 100},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.c), func(t *testing.T) {
			if got := p.BurnRateOf(tt.c); !near(got, tt.want) {
				t.Errorf("burn %v, want %v", got, tt.want)
			}
			if got := p.ErrorRatePct(tt.want); !near(got, tt.errorRate) {
				t.Errorf("error rate %v%%, want %v%%", got, tt.errorRate)
			}
		})
	}
	if got := p.BurnRateOf(Counts{}); !math.IsNaN(got) {
		t.Errorf("an empty interval burns %v, want NaN (no data)", got)
	}
}
