package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/loadtest"
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
