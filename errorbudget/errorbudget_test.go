package errorbudget

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
)

var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// the worked example of docs/BUDGET_MATH.md, Error budget.
func TestComputeMetricsWorkedExample(t *testing.T) {
	p := DefaultPolicy("api-service")
	c := WindowCounts{
		Window: Counts{Good: 1_000_000 - 250, Total: 1_000_000},
		BurnWindows: map[string]Counts{
			"1h":  {Good: 9_980, Total: 10_000}, // 0.2% errors: burn 2
			"6h":  {Good: 59_970, Total: 60_000},
			"72h": {Good: 719_712, Total: 720_000},
		},
	}
	m := ComputeMetrics(p, &p.SLOs[0], c, testNow)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"allowed_bad", m.AllowedBadEvents, 1000},
		{"consumed", m.ConsumedPct, 25},
		{"remaining", m.RemainingPct, 75},
		{"burn_rate", m.BurnRate, 2},
		{"burn 1h", m.BurnRates["1h"], 2},
		{"burn 6h", m.BurnRates["6h"], 0.5},
		{"burn 72h", m.BurnRates["72h"], 0.4},
		{"burn 5m", m.BurnRates["5m"], 0},
	}
	// Exact: the budget math is done in rationals (see ComputeMetrics).
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	if m.TotalEvents != 1_000_000 || m.BadEvents != 250 || m.Service != "api-service" || m.SLOTarget != 99.9 || m.Window != "30d" {
		t.Errorf("counts/identity: %+v", m)
	}
	if len(m.BurnRates) != len(BurnWindows) {
		t.Errorf("burn_rates has %d windows, want %d", len(m.BurnRates), len(BurnWindows))
	}
	// Remaining 75 is healthy by budget, but a burn of 2 in the gate's 1h
	// window is warning.
	if m.Status != StatusWarning {
		t.Errorf("status = %s, want warning", m.Status)
	}
	// 75% of 30 days at burn 0.5 lasts 45 days.
	if m.ProjectedExhaustion == nil || !m.ProjectedExhaustion.Equal(testNow.Add(45*24*time.Hour)) {
		t.Errorf("projected exhaustion = %v, want %v", m.ProjectedExhaustion, testNow.Add(45*24*time.Hour))
	}
	if !m.ComputedAt.Equal(testNow) {
		t.Errorf("computed_at = %v", m.ComputedAt)
	}

	// The gate's burn rate follows burn_rate_window.
	p6 := mustParse(t, "service: api-service\nburn_rate_window: 6h\n")
	if m6 := ComputeMetrics(p6, &p6.SLOs[0], c, testNow); !near(m6.BurnRate, 0.5) || m6.Status != StatusHealthy {
		t.Errorf("with burn_rate_window 6h: burn %v status %s, want 0.5 healthy", m6.BurnRate, m6.Status)
	}
}

func TestComputeMetricsStatus(t *testing.T) {
	p := DefaultPolicy("svc")
	tests := []struct {
		bad  int64 // of 1,000,000 at 99.9%: 10 bad events are 1% of the budget
		want Status
	}{
		{0, StatusHealthy},
		{500, StatusHealthy},    // 50% left
		{501, StatusAttention},  // 49.9%
		{750, StatusAttention},  // 25%
		{751, StatusWarning},    // 24.9%
		{900, StatusWarning},    // 10%
		{901, StatusCritical},   // 9.9%
		{999, StatusCritical},   // 0.1%
		{1000, StatusExhausted}, // 0%
		{1500, StatusExhausted}, // -50%
	}
	// Counts near the int64 limit must not overflow.
	huge := ComputeMetrics(p, &p.SLOs[0], WindowCounts{Window: Counts{Good: 9e18 - 9e15, Total: 9e18}}, testNow)
	if huge.RemainingPct != 0 || huge.Status != StatusExhausted {
		t.Errorf("huge counts: remaining %v status %s", huge.RemainingPct, huge.Status)
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.bad), func(t *testing.T) {
			m := ComputeMetrics(p, &p.SLOs[0], WindowCounts{Window: Counts{Good: 1_000_000 - tt.bad, Total: 1_000_000}}, testNow)
			if m.Status != tt.want {
				t.Errorf("bad %d: remaining %v status %s, want %s", tt.bad, m.RemainingPct, m.Status, tt.want)
			}
		})
	}
}

func TestComputeMetricsNoData(t *testing.T) {
	p := DefaultPolicy("svc")
	m := ComputeMetrics(p, &p.SLOs[0], WindowCounts{BurnWindows: map[string]Counts{}}, testNow)
	if m.Status != StatusNoData || m.RemainingPct != 100 || m.ConsumedPct != 0 || m.ProjectedExhaustion != nil || m.BurnRate != 0 {
		t.Errorf("no data: %+v", m)
	}
	for _, a := range m.Alerts {
		if a.Firing {
			t.Errorf("alert %s fires without data", a.Name)
		}
	}
}

// The SRE Workbook's figures for 99.9% over 30 days with a full budget.
func TestProjectExhaustion(t *testing.T) {
	window := 30 * 24 * time.Hour
	tests := []struct {
		remaining, burn float64
		want            time.Duration
	}{
		{100, 1, 30 * 24 * time.Hour},
		{100, 2, 15 * 24 * time.Hour},
		{100, 10, 3 * 24 * time.Hour},
		{100, 1000, 43*time.Minute + 12*time.Second},
		{50, 2, 7*24*time.Hour + 12*time.Hour},
		{0, 5, 0},
		{-20, 5, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v@%v", tt.remaining, tt.burn), func(t *testing.T) {
			got := ProjectExhaustion(testNow, tt.remaining, window, tt.burn)
			if got == nil || got.Sub(testNow) != tt.want {
				t.Errorf("ProjectExhaustion = %v, want now + %v", got, tt.want)
			}
		})
	}
	if got := ProjectExhaustion(testNow, 100, window, 0); got != nil {
		t.Errorf("burn 0: %v, want nil", got)
	}
	// Beyond what a time.Duration holds (821 years) but before year 9999.
	got := ProjectExhaustion(testNow, 100, window, 0.0001)
	if got == nil || got.Unix() != testNow.Unix()+2_592_000*10_000 {
		t.Errorf("burn 0.0001: %v", got)
	}
	if got := ProjectExhaustion(testNow, 100, window, 1e-12); got != nil {
		t.Errorf("burn 1e-12: %v, want nil (past year 9999)", got)
	}
}

func TestAlerts(t *testing.T) {
	factors := []struct {
		window          time.Duration
		fast, slow, tkt float64
	}{
		{30 * 24 * time.Hour, 14.4, 6, 1},
		{7 * 24 * time.Hour, 3.36, 1.4, 0.7 / 3},
		{28 * 24 * time.Hour, 13.44, 5.6, 14.0 / 15},
		{90 * 24 * time.Hour, 43.2, 18, 3},
	}
	for _, f := range factors {
		t.Run(f.window.String(), func(t *testing.T) {
			as := Alerts(f.window, map[string]float64{})
			if len(as) != 3 {
				t.Fatalf("%d alerts", len(as))
			}
			want := []Alert{
				{"page_fast", "page", "1h", "5m", f.fast, false, false},
				{"page_slow", "page", "6h", "30m", f.slow, false, false},
				{"ticket", "ticket", "72h", "6h", f.tkt, false, false},
			}
			for i, a := range as {
				w := want[i]
				if a.Name != w.Name || a.Severity != w.Severity || a.LongWindow != w.LongWindow || a.ShortWindow != w.ShortWindow || a.Firing || !near(a.Threshold, w.Threshold) {
					t.Errorf("alert %d = %+v, want %+v", i, a, w)
				}
			}
		})
	}
	// For 30 days the factors are exactly the SRE Workbook's.
	as := Alerts(30*24*time.Hour, nil)
	if as[0].Threshold != 14.4 || as[1].Threshold != 6 || as[2].Threshold != 1 {
		t.Errorf("30d factors %v %v %v", as[0].Threshold, as[1].Threshold, as[2].Threshold)
	}

	firing := []struct {
		name  string
		rates map[string]float64
		want  []string
	}{
		{"fast", map[string]float64{"1h": 14.4, "5m": 20}, []string{"page_fast"}},
		{"fast long only", map[string]float64{"1h": 15, "5m": 14.3}, nil},
		{"slow", map[string]float64{"6h": 6, "30m": 6}, []string{"page_slow"}},
		{"slow short low", map[string]float64{"6h": 7, "30m": 5.9, "72h": 1}, []string{"ticket"}},
		{"ticket", map[string]float64{"72h": 1, "6h": 1}, []string{"ticket"}},
		{"all", map[string]float64{"5m": 20, "30m": 20, "1h": 20, "6h": 20, "72h": 20}, []string{"page_fast", "page_slow", "ticket"}},
	}
	for _, f := range firing {
		t.Run(f.name, func(t *testing.T) {
			var got []string
			for _, a := range Alerts(30*24*time.Hour, f.rates) {
				if a.Firing {
					got = append(got, a.Name)
				}
			}
			if !slices.Equal(got, f.want) {
				t.Errorf("firing %q, want %q", got, f.want)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	good := map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "28d": 28 * 24 * time.Hour, "4w": 28 * 24 * time.Hour,
		"7d": 7 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "52w": 364 * 24 * time.Hour,
	}
	for s, want := range good {
		t.Run(s, func(t *testing.T) {
			if got, err := ParseWindow(s); err != nil || got != want {
				t.Errorf("ParseWindow(%q) = %v, %v; want %v", s, got, err, want)
			}
		})
	}
	for _, s := range []string{"", "0d", "-7d", "30", "30h", "1m", "030d", "d", "1.5w", " 30d", "3661d", "9999999999d"} {
		t.Run("bad "+s, func(t *testing.T) {
			if got, err := ParseWindow(s); err == nil {
				t.Errorf("ParseWindow(%q) = %v, want error", s, got)
			} else if budgetgate.ErrorCode(err) != budgetgate.EINVALID {
				t.Errorf("error code %s", budgetgate.ErrorCode(err))
			}
		})
	}
}

func escalationNames(es []Escalation) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

// One notification per crossing, re-armed only once back above (see docs/BUDGET_MATH.md, Escalations and reviews).
func TestEscalate(t *testing.T) {
	p, err := ParsePolicy("seed.yaml", seedPolicyBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		remaining float64
		fire      []string
	}{
		{100, nil},
		{30, nil},
		{24, []string{"budget_25pct"}},
		{20, nil},
		{25, nil}, // at the threshold: not above, so not re-armed
		{24.5, nil},
		{26, nil}, // above: re-armed
		{24.9, []string{"budget_25pct"}},
		{5, []string{"budget_10pct"}},
		{0, []string{"budget_exhausted"}},
		{-5, nil},
		{math.NaN(), nil},
		{0.1, nil}, // above 0 re-arms budget_exhausted only
		{0, []string{"budget_exhausted"}},
		{100, nil},
		{-1, []string{"budget_25pct", "budget_10pct", "budget_exhausted"}},
	}
	state := EscalationState{}
	for i, st := range steps {
		fire, next := p.Escalate(state, st.remaining)
		if got := escalationNames(fire); !slices.Equal(got, st.fire) {
			t.Errorf("step %d (%v): fired %q, want %q", i, st.remaining, got, st.fire)
		}
		state = next
	}

	if fire, _ := p.Escalate(nil, 5); !slices.Equal(escalationNames(fire), []string{"budget_25pct", "budget_10pct"}) {
		t.Errorf("first sight at 5%%: %q", escalationNames(fire))
	}
	before := EscalationState{"budget_25pct": true}
	p.Escalate(before, 100)
	if !before["budget_25pct"] {
		t.Error("Escalate changed the state it was given")
	}

	crossed := []struct {
		prev, now float64
		want      []string
	}{
		{30, 5, []string{"budget_25pct", "budget_10pct"}},
		{5, 30, nil},
		{25, 24.99, []string{"budget_25pct"}},
		{1, 0, []string{"budget_exhausted"}},
		{0, -1, nil},
	}
	for _, c := range crossed {
		if got := escalationNames(p.EscalationsCrossed(c.prev, c.now)); !slices.Equal(got, c.want) {
			t.Errorf("EscalationsCrossed(%v, %v) = %q, want %q", c.prev, c.now, got, c.want)
		}
	}
}
