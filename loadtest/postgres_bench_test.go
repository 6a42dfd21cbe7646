package loadtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// BenchmarkServerPostgres is the PostgreSQL scenario of docs/PERFORMANCE.md:
// two instances on one database, SLI ingest spread over both beside plain
// batched inserts of the same rows into PostgreSQL, then release
// evaluations from 50 concurrent clients spread over both.
func BenchmarkServerPostgres(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	services := benchServices()
	bin, policies := buildBinary(b, dir), writePolicies(dir, services)
	dsn := pgtest.DSN(b)
	first, _, pid1 := startServe(b, bin, dsn, policies)
	second, token, pid2 := startServe(b, bin, dsn, policies) // the development token is replaced at each start: the newest serves both
	client := NewClient(first, token, 50)
	end := time.Now().UTC().Truncate(time.Minute)

	events := services * minutesPerService
	b.ResetTimer()
	ingest, err := client.Run(ctx, 8, ingestJobs(services, end, first, second))
	if err != nil {
		b.Fatal(err)
	}
	ingestRate := float64(events) / ingest.Elapsed.Seconds()

	t0 := time.Now()
	if err := plainInsertPostgres(ctx, pgtest.DSN(b), plainRows(services, end), 1000); err != nil {
		b.Fatal(err)
	}
	plainRate := float64(events) / time.Since(t0).Seconds()

	eval, err := client.Run(ctx, 50, evalJobs(services, 5000, first, second))
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ingestRate, "ingest_events/s")
	b.ReportMetric(plainRate, "plain_insert_rows/s")
	b.ReportMetric(ingestRate/plainRate, "ingest/plain")
	b.ReportMetric(ms(eval.Quantile(0.5)), "eval_p50_ms")
	b.ReportMetric(ms(eval.Quantile(0.99)), "eval_p99_ms")
	b.ReportMetric(max(peakRSSMB(pid1), peakRSSMB(pid2)), "server_peak_MB")
}

// plainInsertPostgres is plainInsert for PostgreSQL: the same rows into a
// bare table, in transactions of batch rows with multi-row INSERTs, on one
// connection.
func plainInsertPostgres(ctx context.Context, dsn string, rows [][4]int64, batch int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE plain (service_id BIGINT, t BIGINT, good BIGINT, total BIGINT)`); err != nil {
		return err
	}
	for len(rows) > 0 {
		n := min(batch, len(rows))
		var q strings.Builder
		q.WriteString("INSERT INTO plain VALUES ")
		args := make([]any, 0, 4*n)
		for i, r := range rows[:n] {
			if i > 0 {
				q.WriteByte(',')
			}
			fmt.Fprintf(&q, "($%d,$%d,$%d,$%d)", 4*i+1, 4*i+2, 4*i+3, 4*i+4)
			args = append(args, r[0], r[1], r[2], r[3])
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			tx.Rollback(ctx)
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// BenchmarkServerManyServices is the ten-times-the-services scenario of
// docs/PERFORMANCE.md on SQLite: 2,000 services with a day of per-minute
// data each, then the overview page and the server's peak memory.
func BenchmarkServerManyServices(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	const services = 2000
	url, token, pid := startBinary(b, dir, services)
	client := NewClient(url, token, 8)
	end := time.Now().UTC().Truncate(time.Minute)
	jobs := make([]Job, 0, services*2)
	for s := 0; s < services; s++ {
		path := fmt.Sprintf("/api/v1/services/svc-%03d/sli", s)
		jobs = append(jobs, Job{Method: "POST", Path: path, Body: SLIBatch(end, 720), Status: 202},
			Job{Method: "POST", Path: path, Body: SLIBatch(end.Add(-720*time.Minute), 720), Status: 202})
	}
	b.ResetTimer()
	if _, err := client.Run(ctx, 8, jobs); err != nil {
		b.Fatal(err)
	}
	if err := client.SignInDev(ctx, "sre-sam"); err != nil {
		b.Fatal(err)
	}
	pages := make([]Job, 50)
	for i := range pages {
		pages[i] = Job{Method: "GET", Path: "/", Status: 200}
	}
	overview, err := client.Run(ctx, 1, pages)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(overview.Quantile(0.95).Microseconds())/1000, "overview_p95_ms")
	b.ReportMetric(peakRSSMB(pid), "server_peak_MB")
}
