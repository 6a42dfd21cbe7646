package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/loadtest"
	"github.com/budgetgate/budgetgate/variant"
)

// BenchmarkEvalHTTP evaluates releases over HTTP from 50 concurrent clients
// against an in-process server: a quick check of the gate's latency without
// the full load of the loadtest package.
func BenchmarkEvalHTTP(b *testing.B) {
	srv, token := newBudgetServer(b)
	c := loadtest.NewClient(srv.URL, token, 50)
	end := time.Now().UTC().Add(-time.Minute)
	if err := c.Do(context.Background(), "POST", "/api/v1/services/api-service/sli", loadtest.SLIBatch(end, 1000), 202); err != nil {
		b.Fatal(err)
	}
	jobs := make([]loadtest.Job, 5000)
	for i := range jobs {
		jobs[i] = loadtest.Job{Method: "POST", Path: "/api/v1/releases/evaluate", Body: []byte(fmt.Sprintf(`{"service":"api-service","version":"1.%d","risk_level":"low"}`, i)), Status: 200}
	}
	b.ResetTimer()
	r, err := c.Run(context.Background(), 50, jobs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(r.Quantile(0.5).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(r.Quantile(0.99).Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(len(jobs))/r.Elapsed.Seconds(), "req/s")
}

// BenchmarkPostLargestAnalysis posts, over HTTP to the real handlers and a
// SQLite file, a baseline analysis whose every figure fails: the most work
// an analysis within the documented limits can ask for (each violation is
// tracked, the CCB request opened, the answer lists them all), then asks
// the deployment gate, which checks every open violation against the
// exceptions. The sizes show the time is linear in the violations: the
// largest is MaxAnalysisFigures.
func BenchmarkPostLargestAnalysis(b *testing.B) {
	for _, variants := range []int{variant.MaxDimensionVariants / 10, variant.MaxDimensionVariants} {
		metrics := variant.MaxAnalysisFigures / variant.MaxDimensionVariants
		b.Run(fmt.Sprintf("violations=%d", variants*metrics), func(b *testing.B) {
			h := newHarness(b, harnessOptions{})
			a := syntheticAnalysis("b1", 1, variants, metrics, variants)
			var post, gate time.Duration
			for i := 0; i < b.N; i++ {
				// A project of its own each time: every violation is new.
				a.Project = fmt.Sprintf("p%d", i)
				body := docJSON(b, a)
				start := time.Now()
				if status, raw, _ := h.api(b, h.Token, "POST", "/api/v1/budget/analyze", body); status != 201 {
					b.Fatalf("%d %.300s", status, raw)
				}
				post += time.Since(start)
				start = time.Now()
				if status, raw, _ := h.api(b, h.Token, "GET", "/api/v1/budget/gate?project="+a.Project, ""); status != 200 || !strings.Contains(raw, `"allowed":false`) {
					b.Fatalf("%d %.300s", status, raw)
				}
				gate += time.Since(start)
			}
			n := float64(b.N)
			b.ReportMetric(float64(post.Milliseconds())/n, "post_ms")
			b.ReportMetric(float64(post.Microseconds())/n/float64(len(a.Violations)), "post_us/violation")
			b.ReportMetric(float64(gate.Milliseconds())/n, "gate_ms")
		})
	}
}
