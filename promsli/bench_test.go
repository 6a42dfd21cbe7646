package promsli_test

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/promsli"
	"github.com/budgetgate/budgetgate/promtest"
)

// The benchmarks' fleet: benchSLOs SLOs of 30 days over the counters of
// benchServices services, a minute apart, in a Prometheus of their own.
const (
	benchSLOs     = 200
	benchServices = 50
)

// benchProm is the benchmarks' Prometheus, started by the first that
// needs it (loading a month of the fleet takes a minute or two) and
// stopped with the shared one.
var benchProm struct {
	srv *promtest.Server
	dir string
	end time.Time
}

// stopBenchServer stops the benchmarks' Prometheus, if one started.
func stopBenchServer() {
	if benchProm.srv != nil {
		benchProm.srv.Stop()
		os.RemoveAll(benchProm.dir)
	}
}

// benchServer is a Prometheus over 31 days of the fleet's counters, and
// where they end.
func benchServer(b *testing.B) (*promtest.Server, time.Time) {
	b.Helper()
	promtest.Need(b)
	if benchProm.srv != nil {
		return benchProm.srv, benchProm.end
	}
	end := time.Now().UTC().Truncate(time.Minute)
	var counters []promtest.Counter
	for i := range benchServices {
		ok, failed := 10+float64(i), 0.01*float64(1+i%7)
		counters = append(counters,
			promtest.Counter{Series: fmt.Sprintf(`bench_requests_total{service="s%02d",code="200"}`, i), Rate: func(time.Time) float64 { return ok }},
			promtest.Counter{Series: fmt.Sprintf(`bench_requests_total{service="s%02d",code="500"}`, i), Rate: func(time.Time) float64 { return failed }})
	}
	start := time.Now()
	dir, err := os.MkdirTemp("", "promsli-bench-")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := promtest.Start(dir, promtest.Options{History: promtest.History(end.Add(-31*24*time.Hour), end, time.Minute, counters...)})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d series of 31 days a minute apart loaded with promtool and served in %s", len(counters), time.Since(start).Round(time.Second))
	benchProm.srv, benchProm.dir, benchProm.end = srv, dir, end
	return srv, end
}

// benchFleet is a fresh store with a policy per SLO, and the SLOs.
func benchFleet(b *testing.B, now time.Time) (*db.DB, []promsli.SLO) {
	b.Helper()
	cs := make([]pulledCase, benchSLOs)
	for i := range cs {
		series := fmt.Sprintf(`service="s%02d"`, i%benchServices)
		cs[i] = pulledCase{slo: promsli.SLO{Service: fmt.Sprintf("svc-%03d", i), Name: "availability",
			Bad:   `sum(rate(bench_requests_total{` + series + `,code=~"5.."}[{{.window}}]))`,
			Total: `sum(rate(bench_requests_total{` + series + `}[{{.window}}]))`}, objective: 99.9, window: "30d"}
	}
	return openStore(b, now, cs)
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func checkPulled(b *testing.B, p *promsli.Puller) {
	b.Helper()
	for _, pr := range p.Progress() {
		if pr.Error != "" || pr.Pulled != pr.ToPull || pr.Newest.IsZero() {
			b.Fatalf("%s/%s: %+v", pr.Service, pr.SLO, pr)
		}
	}
}

// BenchmarkPrometheusBackfill backfills 200 SLOs of 30 days from a local
// Prometheus into a fresh store (target: under 60 s), with the default
// concurrency. It reports the wall time, budgetgate's CPU and Prometheus's.
func BenchmarkPrometheusBackfill(b *testing.B) {
	srv, end := benchServer(b)
	now := end.Add(2 * time.Minute)
	var wall, cpu, promCPU time.Duration
	for range b.N {
		b.StopTimer()
		d, slos := benchFleet(b, now)
		p := newPuller(b, srv.URL, d, &now, slos)
		cpu0, prom0, t0 := cpuTime(b), srv.CPU(), time.Now()
		b.StartTimer()
		p.Sync(context.Background())
		b.StopTimer()
		wall += time.Since(t0)
		cpu += cpuTime(b) - cpu0
		promCPU += srv.CPU() - prom0
		checkPulled(b, p)
	}
	n := time.Duration(b.N)
	b.ReportMetric((wall / n).Seconds(), "s/backfill")
	b.ReportMetric((cpu / n).Seconds(), "budgetgate-cpu-s/backfill")
	b.ReportMetric((promCPU / n).Seconds(), "prometheus-cpu-s/backfill")
}

// BenchmarkPrometheusFollow follows 200 backfilled SLOs for rounds one
// minute apart, as the server does (target: under 5% of a core). Each
// round's CPU is set beside the minute it stands for.
func BenchmarkPrometheusFollow(b *testing.B) {
	srv, end := benchServer(b)
	const rounds = 30
	now := end.Add(-(rounds + 5) * time.Minute)
	d, slos := benchFleet(b, now)
	p := newPuller(b, srv.URL, d, &now, slos)
	p.Sync(context.Background())
	checkPulled(b, p)
	b.ResetTimer()
	var cpu, promCPU, wall time.Duration
	for range b.N {
		for range rounds {
			now = now.Add(time.Minute)
			cpu0, prom0, t0 := cpuTime(b), srv.CPU(), time.Now()
			p.Sync(context.Background())
			cpu += cpuTime(b) - cpu0
			promCPU += srv.CPU() - prom0
			wall += time.Since(t0)
		}
		checkPulled(b, p)
	}
	minutes := time.Duration(b.N * rounds)
	b.ReportMetric(100*(cpu/minutes).Seconds()/60, "budgetgate-core-%")
	b.ReportMetric(100*(promCPU/minutes).Seconds()/60, "prometheus-core-%")
	b.ReportMetric((wall/minutes).Seconds()*1000, "ms/round")
}
