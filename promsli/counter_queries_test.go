package promsli_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/promsli"
	"github.com/budgetgate/budgetgate/promtest"
	"github.com/budgetgate/budgetgate/sloimport"
)

// counterDocument is the checkout availability SLO of cases() as OpenSLO's
// own examples write it: raw counter sums marked counter: true.
const counterDocument = `apiVersion: openslo/v1
kind: SLO
metadata: {name: availability}
spec:
  service: checkout-counters
  timeWindow: [{duration: 30d, isRolling: true}]
  indicator:
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(http_requests_total{job="checkout",code=~"5.."})'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'sum(http_requests_total{job="checkout"})'}}}
  objectives: [{target: 0.999}]
`

// TestCounterQueriesAgreeWithRates imports counterDocument, backfills its
// SLO from the server's month of history (which holds a restart and an
// incident) beside the same SLO written as sum(rate(...[{{.window}}])),
// and compares their figures within TestBackfillAgreesWithPrometheus's
// tolerances: remaining budget within one percentage point, event counts
// within 0.5%, burn rates within 5%.
func TestCounterQueriesAgreeWithRates(t *testing.T) {
	promtest.Need(t)
	_, imported, err := sloimport.Parse("counters.yaml", []byte(counterDocument))
	if err != nil {
		t.Fatal(err)
	}
	s := imported[0]
	if !strings.Contains(s.Bad, "[{{.window}}:1m]") || !strings.Contains(s.Total, "[{{.window}}:1m]") {
		t.Fatalf("imported queries %q and %q: want rates over a subquery", s.Bad, s.Total)
	}
	rates := cases()[0]
	counters := pulledCase{slo: promsli.SLO{Service: s.Service, Name: s.Name, Bad: s.Bad, Total: s.Total}, objective: s.Objective, window: s.Window}
	if counters.objective != rates.objective || counters.window != rates.window {
		t.Fatalf("imported objective %v over %s; want the rates' %v over %s", counters.objective, counters.window, rates.objective, rates.window)
	}

	now := historyEnd.Add(2 * time.Minute)
	d, slos := openStore(t, now, []pulledCase{rates, counters})
	p := newPuller(t, prom.URL, d, &now, slos)
	p.Sync(promtest.Ctx(t))
	for _, c := range []pulledCase{rates, counters} {
		if pr, ok := p.ProgressOf(c.slo.Service, c.slo.Name); !ok || pr.Error != "" || pr.ToPull == 0 || pr.Pulled != pr.ToPull {
			t.Fatalf("%s: progress %+v: want every interval pulled, no error", c.slo.Key(), pr)
		}
	}
	want, _, err := d.ServiceMetrics(context.Background(), rates.slo.Service, now)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := d.ServiceMetrics(context.Background(), counters.slo.Service, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("counters: total %d, bad %d, remaining %.2f%%; rates: total %d, bad %d, remaining %.2f%%",
		got.TotalEvents, got.BadEvents, got.RemainingPct, want.TotalEvents, want.BadEvents, want.RemainingPct)
	if want.BadEvents == 0 || want.TotalEvents == 0 {
		t.Fatalf("the rates' SLO counted %d bad of %d events: the history should give both", want.BadEvents, want.TotalEvents)
	}
	if math.Abs(got.RemainingPct-want.RemainingPct) > 1 {
		t.Errorf("remaining = %.3f%%, the rates say %.3f%%: more than 1 percentage point apart", got.RemainingPct, want.RemainingPct)
	}
	for _, n := range []struct {
		what      string
		got, want int64
	}{{"total events", got.TotalEvents, want.TotalEvents}, {"bad events", got.BadEvents, want.BadEvents}} {
		if rel(float64(n.got), float64(n.want)) > 0.005 {
			t.Errorf("%s = %d, the rates say %d", n.what, n.got, n.want)
		}
	}
	for _, w := range []string{"1h", "6h", "24h", "72h"} {
		if g, r := got.BurnRates[w], want.BurnRates[w]; r == 0 || math.Abs(g-r) > 0.05*r {
			t.Errorf("burn rate %s = %.3f, the rates say %.3f", w, g, r)
		}
	}
}
