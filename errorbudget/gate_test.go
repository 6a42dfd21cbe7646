package errorbudget

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func metricsAt(s Status, remaining, burn float64) Metrics {
	return Metrics{Service: "api-service", Status: s, RemainingPct: remaining, BurnRate: burn}
}

// Every string the reference gate's evaluate_release can produce, and ours beside it.
func TestEvaluateRelease(t *testing.T) {
	def := DefaultPolicy("api-service")
	seed, err := ParsePolicy("seed.yaml", seedPolicyBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	custom := mustParse(t, `service: api-service
policy:
  gates:
    attention:
      min_budget_pct: 25.0
    warning:
      allowed_release_types: [bugfix]
    critical:
      allowed_risk_levels: [low]
      max_burn_rate: 2.5
      min_budget_pct: -10
`)
	allow := mustParse(t, "service: api-service\nwindow: 4w\non_no_data: allow\n")
	both := Release{HasTests: true, HasRollbackPlan: true}

	tests := []struct {
		name        string
		p           *Policy
		m           Metrics
		r           Release
		approved    bool
		reason, alt string
		conditions  []string
	}{
		{"rollback exception", def, metricsAt(StatusExhausted, -40, 12), Release{ReleaseType: "rollback"},
			true, "Exception: rollback releases always allowed", "", []string{"Monitor closely", "Have rollback ready"}},
		{"slo_improvement exception", def, metricsAt(StatusCritical, 3, 0), Release{ReleaseType: "slo_improvement", RiskLevel: "high"},
			true, "Exception: slo_improvement releases always allowed", "", []string{"Monitor closely", "Have rollback ready"}},
		{"security fix exception with seed requirements", seed, metricsAt(StatusExhausted, 0, 0), Release{ReleaseType: "critical_security_fix"},
			true, "Exception: critical_security_fix releases always allowed", "",
			[]string{"Monitor closely", "Have rollback ready", "Security team approval", "Accelerated testing"}},
		{"exception before no data", seed, metricsAt(StatusNoData, 100, 0), Release{ReleaseType: "rollback"},
			true, "Exception: rollback releases always allowed", "",
			[]string{"Monitor closely", "Have rollback ready", "Incident in progress", "Rollback to known good state"}},
		{"security is no exception", def, metricsAt(StatusWarning, 20, 0), Release{ReleaseType: "security", RiskLevel: "high"},
			false, "High risk releases not allowed when budget status is warning", "Defer until budget improves or reduce risk level", []string{}},
		{"default risk is medium", def, metricsAt(StatusWarning, 20, 0), Release{},
			false, "Medium risk releases not allowed when budget status is warning", "Defer until budget improves or reduce risk level", []string{}},
		{"low in critical", def, metricsAt(StatusCritical, 5, 0), Release{RiskLevel: "low"},
			false, "Low risk releases not allowed when budget status is critical", "Defer until budget improves or reduce risk level", []string{}},
		{"capitalised as Python does", def, metricsAt(StatusExhausted, -1, 0), Release{RiskLevel: "hIGH"},
			false, "High risk releases not allowed when budget status is exhausted", "Defer until budget improves or reduce risk level", []string{}},
		{"insufficient budget", def, metricsAt(StatusAttention, 12.345, 0), Release{RiskLevel: "low"},
			false, "Insufficient error budget: 12.3% < 25%", "Wait for budget to recover", []string{}},
		{"insufficient budget rounds half even", def, metricsAt(StatusHealthy, 49.25, 0), Release{RiskLevel: "high"},
			false, "Insufficient error budget: 49.2% < 50%", "Wait for budget to recover", []string{}},
		{"insufficient budget float minimum", custom, metricsAt(StatusAttention, 12.35, 0), Release{RiskLevel: "low"},
			false, "Insufficient error budget: 12.3% < 25.0%", "Wait for budget to recover", []string{}},
		{"burn too high", def, metricsAt(StatusAttention, 40, 2.45), Release{RiskLevel: "medium"},
			false, "Burn rate too high: 2.5x > 2.0x", "Reduce error rate before new releases", []string{}},
		{"burn too high healthy", def, metricsAt(StatusHealthy, 80, 1.55), Release{RiskLevel: "low"},
			false, "Burn rate too high: 1.6x > 1.5x", "Reduce error rate before new releases", []string{}},
		{"burn equal to max passes", def, metricsAt(StatusWarning, 10, 3), Release{RiskLevel: "low", HasTests: true, HasRollbackPlan: true},
			true, "Budget policy allows low risk releases when status is warning", "", []string{}},
		{"burn too high custom", custom, metricsAt(StatusCritical, 5, 7), Release{RiskLevel: "low"},
			false, "Burn rate too high: 7.0x > 2.5x", "Reduce error rate before new releases", []string{}},
		{"approve with seed conditions", def, metricsAt(StatusHealthy, 75, 0.2), Release{RiskLevel: "low"},
			true, "Budget policy allows low risk releases when status is healthy", "",
			[]string{"WARNING: No tests detected. Strongly recommend adding tests.", "REQUIRED: Must have rollback plan documented"}},
		{"approve without conditions", def, metricsAt(StatusHealthy, 75, 0.2), both,
			true, "Budget policy allows medium risk releases when status is healthy", "", []string{}},
		{"approve in critical", custom, metricsAt(StatusCritical, 5, 1), Release{RiskLevel: "low", HasTests: true},
			true, "Budget policy allows low risk releases when status is critical", "", []string{"REQUIRED: Must have rollback plan documented"}},
		{"approve with gate requirements", seed, metricsAt(StatusAttention, 40, 1), Release{RiskLevel: "medium", HasRollbackPlan: true},
			true, "Budget policy allows medium risk releases when status is attention", "",
			[]string{"WARNING: No tests detected. Strongly recommend adding tests.", "Enhanced monitoring for 24h post-deploy", "Rollback plan documented"}},
		{"release type admits", custom, metricsAt(StatusWarning, 15, 1), Release{RiskLevel: "high", ReleaseType: "bugfix", HasTests: true, HasRollbackPlan: true},
			true, "Budget policy allows bugfix releases when status is warning", "", []string{}},
		{"release type with allowed risk keeps seed wording", custom, metricsAt(StatusWarning, 15, 1), Release{RiskLevel: "low", ReleaseType: "bugfix", HasTests: true, HasRollbackPlan: true},
			true, "Budget policy allows low risk releases when status is warning", "", []string{}},
		{"release type still needs budget", custom, metricsAt(StatusWarning, 5, 1), Release{RiskLevel: "high", ReleaseType: "bugfix"},
			false, "Insufficient error budget: 5.0% < 10%", "Wait for budget to recover", []string{}},
		{"other types are not admitted", custom, metricsAt(StatusWarning, 15, 1), Release{RiskLevel: "high", ReleaseType: "feature"},
			false, "High risk releases not allowed when budget status is warning", "Defer until budget improves or reduce risk level", []string{}},
		{"no data", def, metricsAt(StatusNoData, 100, 0), both,
			false, "No SLI data for api-service in the last 30d", "Post SLI data before releasing", []string{}},
		{"no data allowed", allow, metricsAt(StatusNoData, 100, 0), Release{HasTests: true},
			true, "No SLI data for api-service in the last 4w; policy allows releases without data", "", []string{"REQUIRED: Must have rollback plan documented"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := EvaluateRelease(tt.p, ServiceMetrics{Metrics: tt.m}, tt.r)
			if d.Approved != tt.approved || d.Reason != tt.reason || d.Alternative != tt.alt {
				t.Errorf("got %v %q %q\nwant %v %q %q", d.Approved, d.Reason, d.Alternative, tt.approved, tt.reason, tt.alt)
			}
			if d.Conditions == nil || !slices.Equal(d.Conditions, tt.conditions) {
				t.Errorf("conditions %#v, want %q", d.Conditions, tt.conditions)
			}
			if d.PolicyVersion != tt.p.Version || d.Metrics.Status != tt.m.Status || d.Metrics.RemainingPct != tt.m.RemainingPct {
				t.Errorf("policy version %q / metrics %+v not carried", d.PolicyVersion, d.Metrics)
			}
		})
	}
}

// gateCase is one input to the reference gate's Python gate, as the harness in
// testdata/seed_gate.py reads it.
type gateCase struct {
	Status    Status         `json:"status"`
	Remaining float64        `json:"remaining_pct"`
	Burn      float64        `json:"burn_rate"`
	Release   map[string]any `json:"release"`
	release   Release
}

// pyResult is what evaluate_release returns, less its metrics.
type pyResult struct {
	Approved    bool     `json:"approved"`
	Reason      string   `json:"reason"`
	Alternative string   `json:"alternative"`
	Conditions  []string `json:"conditions"`
}

// randomGateCases draws releases and figures that exercise every branch of
// the gate and the awkward corners of Python's number formatting.
func randomGateCases(n int) []gateCase {
	rng := rand.New(rand.NewPCG(2026, 11))
	pick := func(xs []float64) float64 { return xs[rng.IntN(len(xs))] }
	remainingEdges := []float64{100, 50, 49.999999, 49.95, 49.94999, 49.25, 25, 24.95, 24.25, 12.35, 12.25, 10, 9.95, 0.05, 0.04, 0, -0.04, -0.05, -0.25, -49.95}
	burnEdges := []float64{0, 0.05, 1.45, 1.5, 1.5000001, 1.55, 1.95, 2, 2.0000001, 2.05, 2.45, 2.95, 3, 3.0000001, 3.05, 3.25, 14.4, 19.95}
	number := func(lo, hi float64, edges []float64) float64 {
		x := lo + rng.Float64()*(hi-lo)
		switch rng.IntN(5) {
		case 0:
			return pick(edges)
		case 1:
			return math.Round(x*10) / 10
		case 2:
			return math.Round(x*100) / 100 // ties such as 12.25 and 2.45 round in binary
		case 3:
			return math.Round(x*20) / 20 // multiples of 0.05
		}
		return x
	}
	risks := []string{"low", "medium", "high", "", "HIGH", "Medium", "critical", "ßig", "ΣΑΣ"}
	types := []string{"feature", "bugfix", "security", "critical_security_fix", "slo_improvement", "rollback", "", "hotfix"}
	var cases []gateCase
	for range n {
		c := gateCase{
			Status:    GateStatuses[rng.IntN(len(GateStatuses))],
			Remaining: number(-50, 100, remainingEdges),
			Burn:      number(0, 20, burnEdges),
			release: Release{
				RiskLevel:       risks[rng.IntN(len(risks))],
				ReleaseType:     types[rng.IntN(len(types))],
				HasTests:        rng.IntN(2) == 0,
				HasRollbackPlan: rng.IntN(2) == 0,
			},
		}
		if c.Remaining == 0 {
			c.Remaining = 0 // JSON cannot carry -0 to Python as a float
		}
		c.Release = map[string]any{"has_tests": c.release.HasTests, "has_rollback_plan": c.release.HasRollbackPlan}
		if c.release.RiskLevel != "" {
			c.Release["risk_level"] = c.release.RiskLevel
		}
		if c.release.ReleaseType != "" {
			c.Release["release_type"] = c.release.ReleaseType
		}
		cases = append(cases, c)
	}
	return cases
}

// TestEvaluateReleaseMatchesSeedPython runs the reference gate's own
// ErrorBudgetReleaseGate over random releases and requires our answers,
// string for string, with the reference gate's default policy.
func TestEvaluateReleaseMatchesSeedPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	cases := randomGateCases(600)
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "testdata/seed_gate.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed_gate.py: %v\n%s", err, stderr.Bytes())
	}
	var want []pyResult
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(cases) {
		t.Fatalf("python answered %d cases of %d", len(want), len(cases))
	}

	p := DefaultPolicy("api-service")
	approved := 0
	reasons := map[string]bool{}
	for i, c := range cases {
		got := EvaluateRelease(p, ServiceMetrics{Metrics: metricsAt(c.Status, c.Remaining, c.Burn)}, c.release)
		w := want[i]
		if w.Conditions == nil {
			w.Conditions = []string{}
		}
		if got.Approved != w.Approved || got.Reason != w.Reason || got.Alternative != w.Alternative || !slices.Equal(got.Conditions, w.Conditions) {
			t.Errorf("case %d %s remaining=%v burn=%v %+v:\n go: %v %q %q %q\n py: %v %q %q %q", i, c.Status, c.Remaining, c.Burn, c.Release,
				got.Approved, got.Reason, got.Alternative, got.Conditions, w.Approved, w.Reason, w.Alternative, w.Conditions)
		}
		if got.Approved {
			approved++
		}
		reasons[reasonKind(got.Reason)] = true
	}
	// The cases must reach every branch, or the comparison proves little.
	for _, k := range []string{"Exception", "risk", "Insufficient", "Burn", "Budget"} {
		if !reasons[k] {
			t.Errorf("no case reached the %q branch", k)
		}
	}
	t.Logf("%d cases, %d approved", len(cases), approved)
}

func reasonKind(reason string) string {
	for _, k := range []string{"Exception", "Insufficient", "Burn", "Budget"} {
		if len(reason) >= len(k) && reason[:len(k)] == k {
			return k
		}
	}
	return "risk"
}

func ExampleEvaluateRelease() {
	p := DefaultPolicy("api-service")
	m := Metrics{Status: StatusAttention, RemainingPct: 40, BurnRate: 2.4}
	d := EvaluateRelease(p, ServiceMetrics{Metrics: m}, Release{RiskLevel: "medium", HasTests: true, HasRollbackPlan: true})
	fmt.Println(d.Approved, d.Reason)
	// Output: false Burn rate too high: 2.4x > 2.0x
}
