package errorbudget

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
)

const checkoutSLOs = `service: checkout
slos:
  - name: availability
    objective: 99.9
    window: 30d
    sli:
      prometheus:
        total: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
        bad: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
  - name: latency
    objective: 99
    window: 28d
    description: requests served within 300ms
    sli:
      prometheus:
        url: http://thanos.example:9090
        good: sum(rate(http_request_duration_seconds_bucket{job="checkout",le="0.3"}[{{.window}}]))
        total: sum(rate(http_request_duration_seconds_count{job="checkout"}[{{.window}}]))
        max_staleness: 15m
  - name: freshness
    objective: 95
policy:
  escalation:
    budget_25pct: {notify: [sre]}
`

func TestParseSLOs(t *testing.T) {
	p := mustParse(t, checkoutSLOs)
	if got := p.SLONames(); !slices.Equal(got, []string{"availability", "latency", "freshness"}) {
		t.Fatalf("SLO names %q", got)
	}
	a, l, f := p.SLOs[0], p.SLOs[1], p.SLOs[2]
	if a.Objective != 99.9 || a.Window != 30*24*time.Hour || a.SLI == nil || a.SLI.Prometheus.Bad == "" || a.SLI.Prometheus.Good != "" || a.SLI.Prometheus.URL != "" {
		t.Errorf("availability: %+v %+v", a, a.SLI)
	}
	q := l.SLI.Prometheus
	if l.Objective != 99 || l.WindowText != "28d" || l.Description == "" || q.Good == "" || q.Bad != "" || q.URL != "http://thanos.example:9090" ||
		q.MaxStaleness != 15*time.Minute || !strings.Contains(q.Total, "{{.window}}") {
		t.Errorf("latency: %+v %+v", l, q)
	}
	// An SLO without sli takes posted counts, over the default window.
	if f.SLI != nil || f.WindowText != "30d" || f.Window != 30*24*time.Hour {
		t.Errorf("freshness: %+v", f)
	}
	// The canonical form reads back to the same policy.
	again, err := ParsePolicy("canonical.yaml", p.Canonical())
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%s", err, p.Canonical())
	}
	if again.Version != p.Version || len(again.SLOs) != 3 || *again.SLOs[1].SLI.Prometheus != *q {
		t.Errorf("canonical round trip: %s vs %s\n%s", again.Version, p.Version, p.Canonical())
	}
}

// The reference policy and the top-level form are one SLO named default;
// written as a one-item slos list it is the same policy, with the same
// version, so that moving a file to the list form changes nothing.
func TestSingleSLOForms(t *testing.T) {
	seed, err := ParsePolicy("seed.yaml", seedPolicyBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(seed.SLOs) != 1 || seed.SLOs[0].Name != DefaultSLO || seed.SLOs[0].Objective != 99.9 || seed.SLOs[0].WindowText != "30d" {
		t.Fatalf("seed SLOs %+v", seed.SLOs)
	}
	if c := string(seed.Canonical()); !strings.Contains(c, "slo_target: 99.9\n") || strings.Contains(c, "slos:") {
		t.Errorf("the seed's canonical form left the top-level form:\n%s", c)
	}
	top := mustParse(t, "service: svc\nslo_target: 99.5\nwindow: 7d\n")
	list := mustParse(t, "service: svc\nslos:\n  - name: default\n    objective: 99.5\n    window: 7d\n")
	if top.Version != list.Version {
		t.Errorf("top-level form %s, list form %s: want one version", top.Version, list.Version)
	}
	named := mustParse(t, "service: svc\nslos:\n  - name: availability\n    objective: 99.5\n    window: 7d\n")
	if named.Version == top.Version {
		t.Error("an SLO with another name has the same version")
	}
	if s, err := named.ResolveSLO(""); err != nil || s.Name != "availability" {
		t.Errorf("the only SLO of a service: %v %v", s, err)
	}
}

func TestParseSLOErrors(t *testing.T) {
	const prom = "    sli:\n      prometheus:\n"
	tests := []struct {
		name, src, want string
	}{
		{"both forms", "service: s\nslo_target: 99\nslos:\n  - {name: a, objective: 99}\n", "p.yaml:2:1: slo_target cannot be given with slos"},
		{"window with slos", "service: s\nslos:\n  - {name: a, objective: 99}\nwindow: 7d\n", "p.yaml:4:1: window cannot be given with slos"},
		{"not a list", "service: s\nslos: {name: a}\n", "p.yaml:2:7: slos must be a list"},
		{"empty list", "service: s\nslos: []\n", "p.yaml:2:7: slos must list at least one SLO"},
		{"no name", "service: s\nslos:\n  - objective: 99\n", "p.yaml:3:5: slos[0].name is required"},
		{"bad name", "service: s\nslos:\n  - name: Availability\n    objective: 99\n", `p.yaml:3:11: slos[0].name "Availability" must match`},
		{"duplicate name", "service: s\nslos:\n  - {name: a, objective: 99}\n  - {name: a, objective: 98}\n", `p.yaml:4:5: slos[1].name "a" is already the name of slos[0]`},
		{"no objective", "service: s\nslos:\n  - name: a\n", "p.yaml:3:5: slos[0].objective is required"},
		{"objective out of range", "service: s\nslos:\n  - {name: a, objective: 100}\n", "p.yaml:3:26: slos[0].objective must be a percentage between 0 and 100"},
		{"bad window", "service: s\nslos:\n  - {name: a, objective: 99, window: 30m}\n", "p.yaml:3:38: slos[0].window: window \"30m\" must be"},
		{"unknown key", "service: s\nslos:\n  - {name: a, objective: 99, target: 99}\n", "p.yaml:3:30: unknown key \"target\""},
		{"sli without source", "service: s\nslos:\n  - name: a\n    objective: 99\n    sli: {}\n", "p.yaml:5:10: slos[0].sli must say where the SLI comes from"},
		{"unknown source", "service: s\nslos:\n  - name: a\n    objective: 99\n    sli: {datadog: {}}\n", `p.yaml:5:11: unknown key "datadog"`},
		{"good and bad", "service: s\nslos:\n  - name: a\n    objective: 99\n" + prom + "        good: g\n        bad: b\n        total: t\n", "p.yaml:8:9: slos[0].sli.prometheus: give good or bad, not both"},
		{"neither good nor bad", "service: s\nslos:\n  - name: a\n    objective: 99\n" + prom + "        total: t\n", "p.yaml:7:9: slos[0].sli.prometheus: good or bad is required"},
		{"no total", "service: s\nslos:\n  - name: a\n    objective: 99\n" + prom + "        bad: b\n", "p.yaml:7:9: slos[0].sli.prometheus.total is required"},
		{"empty query", "service: s\nslos:\n  - name: a\n    objective: 99\n" + prom + "        bad: ''\n        total: t\n", "p.yaml:7:14: slos[0].sli.prometheus.bad must be a PromQL query"},
		{"bad url", "service: s\nslos:\n  - name: a\n    objective: 99\n" + prom + "        url: thanos:9090\n        bad: b\n        total: t\n", `p.yaml:7:14: slos[0].sli.prometheus.url "thanos:9090" must be an http or https URL`},
		{"bad staleness", "service: s\nslos:\n  - name: a\n    objective: 99\n" + prom + "        bad: b\n        total: t\n        max_staleness: soon\n", `p.yaml:9:24: slos[0].sli.prometheus.max_staleness "soon" must be a positive duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy("p.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.src)
			}
			if budgetgate.ErrorCode(err) != budgetgate.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q (%s), want it to contain %q", err, budgetgate.ErrorCode(err), tt.want)
			}
		})
	}
}

func TestResolveSLO(t *testing.T) {
	p := mustParse(t, checkoutSLOs)
	if s, err := p.ResolveSLO("latency"); err != nil || s.Name != "latency" {
		t.Errorf("latency: %v %v", s, err)
	}
	_, err := p.ResolveSLO("")
	var e *budgetgate.Error
	if !asError(err, &e) || e.Field != "slo" || e.Code != budgetgate.EINVALID || !strings.Contains(e.Message, "availability, latency, freshness") {
		t.Errorf("no SLO named for a service with three: %v", err)
	}
	if _, err := p.ResolveSLO("errors"); budgetgate.ErrorCode(err) != budgetgate.ENOTFOUND {
		t.Errorf("unknown SLO: %v", err)
	}
	if got := p.Subject("latency"); got != "checkout/latency" {
		t.Errorf("subject %q", got)
	}
	if got := DefaultPolicy("api-service").Subject(DefaultSLO); got != "api-service" {
		t.Errorf("a single SLO's subject %q, want the service", got)
	}
	if err := p.FitsRetention(29 * 24 * time.Hour); err == nil || !strings.Contains(err.Error(), "slos[0].window") {
		t.Errorf("retention shorter than one SLO's window: %v", err)
	}
	if err := p.FitsRetention(30 * 24 * time.Hour); err != nil {
		t.Errorf("retention of the longest window: %v", err)
	}
}

func asError(err error, target **budgetgate.Error) bool {
	e, ok := err.(*budgetgate.Error)
	*target = e
	return ok
}

func slo(name string, s Status, remaining float64) Metrics {
	return Metrics{Service: "checkout", SLO: name, Status: s, RemainingPct: remaining}
}

// The service is its worst SLO: the most severe status, among equals the
// lowest remaining; no data is as severe as on_no_data makes it.
func TestWorstSLO(t *testing.T) {
	deny := mustParse(t, checkoutSLOs)
	allow := mustParse(t, checkoutSLOs+"on_no_data: allow\n")
	tests := []struct {
		name string
		p    *Policy
		ms   []Metrics
		want string
	}{
		{"most severe status", deny, []Metrics{slo("availability", StatusHealthy, 80), slo("latency", StatusWarning, 20), slo("freshness", StatusAttention, 30)}, "latency"},
		{"critical by burn beats lower remaining", deny, []Metrics{slo("availability", StatusCritical, 60), slo("latency", StatusWarning, 11), slo("freshness", StatusWarning, 12)}, "availability"},
		{"lowest remaining among equals", deny, []Metrics{slo("availability", StatusAttention, 45), slo("latency", StatusAttention, 30), slo("freshness", StatusAttention, 40)}, "latency"},
		{"first among full ties", deny, []Metrics{slo("availability", StatusHealthy, 90), slo("latency", StatusHealthy, 90), slo("freshness", StatusHealthy, 95)}, "availability"},
		{"no data blocks when denied", deny, []Metrics{slo("availability", StatusExhausted, -5), slo("latency", StatusNoData, 100), slo("freshness", StatusHealthy, 90)}, "latency"},
		{"no data yields when allowed", allow, []Metrics{slo("availability", StatusHealthy, 90), slo("latency", StatusNoData, 100), slo("freshness", StatusAttention, 40)}, "freshness"},
		{"all without data", allow, []Metrics{slo("availability", StatusNoData, 100), slo("latency", StatusNoData, 100)}, "availability"},
		{"unknown is worst", deny, []Metrics{slo("availability", StatusExhausted, -50), slo("latency", StatusUnknown, 0), slo("freshness", StatusNoData, 100)}, "latency"},
		{"a status this code does not know is worst", allow, []Metrics{slo("availability", StatusExhausted, -50), slo("latency", Status("future"), 100)}, "latency"},
		{"stale data blocks when denied", deny, []Metrics{slo("availability", StatusExhausted, -50), slo("latency", StatusStale, 90)}, "latency"},
		{"stale data yields when allowed", allow, []Metrics{slo("availability", StatusExhausted, -50), slo("latency", StatusStale, 90)}, "availability"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := tt.p.Summarise(tt.ms)
			if sm.SLO != tt.want || len(sm.SLOs) != len(tt.ms) {
				t.Errorf("worst %q of %d, want %q", sm.SLO, len(sm.SLOs), tt.want)
			}
		})
	}
}

// A three-SLO service's release is judged by its worst SLO, with the
// reference gate's strings; the decision carries every SLO.
func TestEvaluateReleaseWorstSLO(t *testing.T) {
	p := mustParse(t, checkoutSLOs)
	figures := func(latency Metrics) []Metrics {
		return []Metrics{slo("availability", StatusHealthy, 80), latency, slo("freshness", StatusAttention, 45)}
	}
	low := Release{Service: "checkout", Version: "1", RiskLevel: "low", HasTests: true, HasRollbackPlan: true}
	medium := low
	medium.RiskLevel = "medium"
	tests := []struct {
		name     string
		latency  Metrics
		r        Release
		approved bool
		reason   string
	}{
		{"worst is warning", slo("latency", StatusWarning, 20), medium, false, "Medium risk releases not allowed when budget status is warning"},
		{"worst allows low risk", slo("latency", StatusWarning, 20), low, true, "Budget policy allows low risk releases when status is warning"},
		{"worst is attention: freshness", slo("latency", StatusHealthy, 70), medium, true, "Budget policy allows medium risk releases when status is attention"},
		{"no data names the SLO", slo("latency", StatusNoData, 100), low, false, "No SLI data for checkout/latency in the last 28d"},
		{"exceptions first", slo("latency", StatusExhausted, -10), Release{ReleaseType: "rollback"}, true, "Exception: rollback releases always allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.latency.Window = "28d"
			d := EvaluateRelease(p, p.Summarise(figures(tt.latency)), tt.r)
			if d.Approved != tt.approved || d.Reason != tt.reason {
				t.Errorf("got %v %q, want %v %q", d.Approved, d.Reason, tt.approved, tt.reason)
			}
			if len(d.SLOs) != 3 || d.SLOs[1].SLO != "latency" {
				t.Errorf("slos %+v", d.SLOs)
			}
		})
	}
}

func TestIngestSLORefusesPulledSLOs(t *testing.T) {
	p := mustParse(t, `service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      prometheus:
        bad: sum(rate(errors_total[{{.window}}]))
        total: sum(rate(requests_total[{{.window}}]))
  - name: latency
    objective: 99
`)
	if s, err := p.IngestSLO("latency"); err != nil || s.Name != "latency" {
		t.Errorf("a posted SLO: %v %v", s, err)
	}
	_, err := p.IngestSLO("availability")
	var e *budgetgate.Error
	if !asError(err, &e) || e.Field != "slo" || e.Code != budgetgate.EINVALID || !strings.Contains(e.Message, "checkout/availability is pulled from Prometheus") {
		t.Errorf("counts posted to a pulled SLO: %v", err)
	}
	if _, err := p.IngestSLO("errors"); budgetgate.ErrorCode(err) != budgetgate.ENOTFOUND {
		t.Errorf("unknown SLO: %v", err)
	}
}
