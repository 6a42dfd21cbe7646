package promsli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/promsli"
	"github.com/budgetgate/budgetgate/promtest"
)

// exporter serves two counters growing with wall time: 900 good and 100
// failed requests a second.
func exporter(t *testing.T) *httptest.Server {
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := time.Since(start).Seconds()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE live_requests_total counter\nlive_requests_total{code=\"200\"} %f\nlive_requests_total{code=\"500\"} %f\n", 900*s, 100*s)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestLiveScrapeThenOutage follows a Prometheus that scrapes an exporter the
// test runs, then stops that Prometheus: the pull fails with the transport's
// error, and once the newest data is older than max_staleness the SLO is
// stale and the gate denies.
func TestLiveScrapeThenOutage(t *testing.T) {
	promtest.Need(t)
	exp := exporter(t)
	live := promtest.StartT(t, promtest.Options{Targets: []string{strings.TrimPrefix(exp.URL, "http://")}, ScrapeInterval: time.Second})
	// The puller's clock runs ahead, so that the minute now running counts
	// as ready: the test need not wait for a minute to end.
	var ahead atomic.Int64
	ahead.Store(int64(promsli.Delay + promsli.Step))
	clock := func() time.Time { return time.Now().UTC().Add(time.Duration(ahead.Load())) }

	d, slos := openStore(t, clock(), []pulledCase{{slo: promsli.SLO{Service: "live", Name: "availability",
		Bad:   `sum(rate(live_requests_total{code=~"5.."}[{{.window}}]))`,
		Total: `sum(rate(live_requests_total[{{.window}}]))`}, objective: 99.9, window: "7d"}})
	s := slos[0]
	p, err := promsli.New(promsli.Config{Source: promsli.Source{URL: live.URL}, Now: clock, Log: quiet}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetSLOs(slos); err != nil {
		t.Fatal(err)
	}
	ctx := promtest.Ctx(t)

	// Wait for a few scrapes, so that rate() has samples, then pull.
	waitForSamples(t, live.URL, `live_requests_total{code="500"}`, 4)
	p.Sync(ctx)
	if pr, _ := p.ProgressOf(s.Service, s.Name); pr.Newest.IsZero() || pr.Error != "" {
		t.Fatalf("nothing pulled: %+v", pr)
	}
	m, pol, err := d.ServiceMetrics(ctx, s.Service, clock())
	if err != nil {
		t.Fatal(err)
	}
	if m.TotalEvents == 0 || rel(float64(m.BadEvents)/float64(m.TotalEvents), 0.1) > 0.1 {
		t.Errorf("pulled %d events, %d bad: want about 10%% bad", m.TotalEvents, m.BadEvents)
	}
	before, _ := p.ProgressOf(s.Service, s.Name)

	live.Stop()
	ahead.Add(int64(promsli.Step))
	p.Sync(ctx)
	pr, _ := p.ProgressOf(s.Service, s.Name)
	if pr.Error == "" || !pr.Newest.Equal(before.Newest) {
		t.Errorf("after the outage: error %q, newest %s (was %s)", pr.Error, pr.Newest, before.Newest)
	}
	ahead.Add(int64(promsli.DefaultMaxStaleness))
	now := clock()
	if err := p.MarkStale(ctx, &m, pol, now); err != nil {
		t.Fatal(err)
	}
	dec := errorbudget.EvaluateRelease(pol, m, errorbudget.Release{Service: "live", RiskLevel: "low"})
	want := "SLI data for live/availability is stale: newest " + before.Newest.Format(time.RFC3339)
	if m.Status != errorbudget.StatusStale || dec.Approved || dec.Reason != want {
		t.Errorf("status %s, gate approved %v %q; want stale, denied %q", m.Status, dec.Approved, dec.Reason, want)
	}
	if pr, _ := p.ProgressOf(s.Service, s.Name); pr.State(now) != promsli.StateStale {
		t.Errorf("state %s, want stale", pr.State(now))
	}
}

// waitForSamples waits until Prometheus holds n samples of series.
func waitForSamples(t *testing.T, url, series string, n int) {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf("count_over_time(%s[1m])", series)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		v, _, _, err := v1.NewAPI(c).Query(promtest.Ctx(t), q, time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 && int(vec[0].Value) >= n {
			return
		}
	}
	t.Fatalf("Prometheus did not scrape %d samples of %s within 30s", n, series)
}
