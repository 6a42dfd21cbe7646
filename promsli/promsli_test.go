package promsli_test

import (
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/promsli"
	"github.com/budgetgate/budgetgate/promtest"
)

// historyEnd is where the shared server's 31 days of history end.
var historyEnd = time.Now().UTC().Truncate(time.Minute)

var prom *promtest.Server

func TestMain(m *testing.M) {
	code := promtest.Main(m, &prom, promtest.Options{History: promtest.History(
		historyEnd.Add(-31*24*time.Hour), historyEnd, time.Minute, knownErrors(historyEnd)...)})
	stopBenchServer()
	os.Exit(code)
}

// between is a rate that is on inside [from, to) and base elsewhere.
func between(base, on float64, from, to time.Time) func(time.Time) float64 {
	return func(t time.Time) float64 {
		if !t.Before(from) && t.Before(to) {
			return on
		}
		return base
	}
}

// knownErrors is a month of counters with known errors: a checkout service
// failing 0.05% of 20 requests a second, 10% for three hours twenty days
// ago and 1% for the last five hours, restarting (counters back to zero)
// twelve days ago; its latency, slow for an hour three days ago; and a
// batch service with a trickle of jobs, one in two hundred failing.
func knownErrors(end time.Time) []promtest.Counter {
	day := 24 * time.Hour
	restart := []time.Time{end.Add(-12 * day)}
	incident := end.Add(-20 * day)
	return []promtest.Counter{
		{Series: `http_requests_total{job="checkout",code="200"}`, Rate: func(time.Time) float64 { return 20 }, Resets: restart},
		{Series: `http_requests_total{job="checkout",code="500"}`, Resets: restart, Rate: func(t time.Time) float64 {
			switch {
			case !t.Before(incident) && t.Before(incident.Add(3*time.Hour)):
				return 2
			case !t.Before(end.Add(-5 * time.Hour)):
				return 0.2
			}
			return 0.01
		}},
		{Series: `http_request_duration_seconds_bucket{job="checkout",le="0.3"}`, Rate: between(19.95, 15, end.Add(-3*day), end.Add(-3*day+time.Hour))},
		{Series: `http_request_duration_seconds_count{job="checkout"}`, Rate: func(time.Time) float64 { return 20.01 }},
		{Series: `jobs_total{job="batch"}`, Rate: func(time.Time) float64 { return 0.02 }},
		{Series: `jobs_failed_total{job="batch"}`, Rate: func(time.Time) float64 { return 0.0001 }},
	}
}

// pulledCase is an SLO with the increase() queries that Prometheus's own
// figures come from.
type pulledCase struct {
	slo       promsli.SLO
	objective float64
	window    string
	// increases of bad (or good) and total events over a window "[W]".
	badIncrease, goodIncrease, totalIncrease string
}

func cases() []pulledCase {
	return []pulledCase{
		{
			slo: promsli.SLO{Service: "checkout", Name: "availability",
				Bad:   `sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))`,
				Total: `sum(rate(http_requests_total{job="checkout"}[{{.window}}]))`},
			objective: 99.9, window: "30d",
			badIncrease:   `sum(increase(http_requests_total{job="checkout",code=~"5.."}[W]))`,
			totalIncrease: `sum(increase(http_requests_total{job="checkout"}[W]))`,
		},
		{
			slo: promsli.SLO{Service: "checkout-latency", Name: "latency",
				Good:  `sum(rate(http_request_duration_seconds_bucket{job="checkout",le="0.3"}[{{.window}}]))`,
				Total: `sum(rate(http_request_duration_seconds_count{job="checkout"}[{{.window}}]))`},
			objective: 99, window: "28d",
			goodIncrease:  `sum(increase(http_request_duration_seconds_bucket{job="checkout",le="0.3"}[W]))`,
			totalIncrease: `sum(increase(http_request_duration_seconds_count{job="checkout"}[W]))`,
		},
		{
			slo: promsli.SLO{Service: "batch", Name: "success",
				Bad:   `sum(rate(jobs_failed_total{job="batch"}[{{.window}}]))`,
				Total: `sum(rate(jobs_total{job="batch"}[{{.window}}]))`},
			objective: 99, window: "7d",
			badIncrease:   `sum(increase(jobs_failed_total{job="batch"}[W]))`,
			totalIncrease: `sum(increase(jobs_total{job="batch"}[W]))`,
		},
	}
}

// openStore is a real store with a policy for each case's service, whose
// SLO pulls the case's queries; it returns the SLOs as the server reads
// them from the policies.
func openStore(t testing.TB, now time.Time, cs []pulledCase) (*db.DB, []promsli.SLO) {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "budgetgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	d.Now = func() time.Time { return now }
	var slos []promsli.SLO
	for _, c := range cs {
		p := savePolicy(t, d, policyYAML(c.slo, c.objective, c.window))
		slos = append(slos, promsli.FromPolicies(map[string]*errorbudget.Policy{p.Service: p})...)
	}
	return d, slos
}

// policyYAML is a policy of one SLO pulled with s's queries.
func policyYAML(s promsli.SLO, objective float64, window string) string {
	kind, query := "bad", s.Bad
	if s.Good != "" {
		kind, query = "good", s.Good
	}
	return "service: " + s.Service + "\nslos:\n  - name: " + s.Name +
		"\n    objective: " + model.SampleValue(objective).String() + "\n    window: " + window +
		"\n    sli:\n      prometheus:\n        " + kind + ": '" + query + "'\n        total: '" + s.Total + "'\n"
}

// savePolicy stores a policy written in YAML.
func savePolicy(t testing.TB, d *db.DB, src string) *errorbudget.Policy {
	t.Helper()
	p, err := errorbudget.ParsePolicy("policy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SavePolicy(context.Background(), p, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	return p
}

func newPuller(t testing.TB, url string, store promsli.Store, now *time.Time, slos []promsli.SLO) *promsli.Puller {
	t.Helper()
	p, err := promsli.New(promsli.Config{Source: promsli.Source{URL: url}, Now: func() time.Time { return *now }, Log: quiet}, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetSLOs(slos); err != nil {
		t.Fatal(err)
	}
	return p
}

// instant is Prometheus's own answer to a scalar query at t.
func instant(t *testing.T, url, query string, at time.Time) float64 {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	v, _, _, err := v1.NewAPI(c).Query(promtest.Ctx(t), query, at)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	vec, ok := v.(model.Vector)
	if !ok || len(vec) != 1 {
		t.Fatalf("%s: want one sample, got %v", query, v)
	}
	return float64(vec[0].Value)
}

// TestBackfillAgreesWithPrometheus backfills each SLO's window from the
// server's month of history and compares every figure with Prometheus's own
// sum(increase(...[W])): remaining budget within one percentage point,
// event counts within 0.5%, burn rates within 5% (or one event).
func TestBackfillAgreesWithPrometheus(t *testing.T) {
	promtest.Need(t)
	now := historyEnd.Add(2 * time.Minute)
	cs := cases()
	d, slos := openStore(t, now, cs)
	p := newPuller(t, prom.URL, d, &now, slos)
	p.Sync(promtest.Ctx(t))

	for _, c := range cs {
		t.Run(c.slo.Key(), func(t *testing.T) {
			pr, ok := p.ProgressOf(c.slo.Service, c.slo.Name)
			if !ok || pr.Error != "" {
				t.Fatalf("progress %+v: want no error", pr)
			}
			if pr.Pulled != pr.ToPull || pr.ToPull == 0 {
				t.Errorf("pulled %d of %d intervals, want all", pr.Pulled, pr.ToPull)
			}
			if want := now.Add(-time.Minute); !pr.Newest.Equal(want) {
				t.Errorf("newest = %s, want %s", pr.Newest, want)
			}
			if got := pr.State(now); got != promsli.StateFollowing {
				t.Errorf("state = %s, want %s", got, promsli.StateFollowing)
			}
			m, _, err := d.ServiceMetrics(context.Background(), c.slo.Service, now)
			if err != nil {
				t.Fatal(err)
			}
			total, bad := increases(t, c, c.window, now)
			allowed := (1 - c.objective/100) * total
			wantRemaining := 100 - 100*bad/allowed
			t.Logf("%d intervals pulled; total %d (Prometheus %.0f), bad %d (%.0f), remaining %.2f%% (%.2f%%)", pr.ToPull, m.TotalEvents, total, m.BadEvents, bad, m.RemainingPct, wantRemaining)
			if math.Abs(m.RemainingPct-wantRemaining) > 1 {
				t.Errorf("remaining = %.3f%%, Prometheus says %.3f%%: more than 1 percentage point apart", m.RemainingPct, wantRemaining)
			}
			if rel(float64(m.TotalEvents), total) > 0.005 {
				t.Errorf("total events = %d, Prometheus says %.0f", m.TotalEvents, total)
			}
			for _, w := range []string{"1h", "6h", "24h", "72h"} {
				total, bad := increases(t, c, w, now)
				want := bad / total / (1 - c.objective/100)
				// Stored counts are whole events: a trickle may be one off.
				oneEvent := 1.5 / total / (1 - c.objective/100)
				if got := m.BurnRates[w]; math.Abs(got-want) > max(0.05*want, oneEvent) {
					t.Errorf("burn rate %s = %.3f, Prometheus says %.3f", w, got, want)
				}
			}
		})
	}
}

// increases asks Prometheus for the SLO's total and bad events over window at now.
func increases(t *testing.T, c pulledCase, window string, now time.Time) (total, bad float64) {
	q := func(s string) string { return strings.ReplaceAll(s, "[W]", "["+window+"]") }
	total = instant(t, prom.URL, q(c.totalIncrease), now)
	if c.badIncrease != "" {
		return total, instant(t, prom.URL, q(c.badIncrease), now)
	}
	return total, total - instant(t, prom.URL, q(c.goodIncrease), now)
}

func rel(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// quiet drops the puller's warnings: the tests read its progress instead.
var quiet = slog.New(slog.DiscardHandler)
