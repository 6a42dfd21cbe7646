package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchServices is how many services the server benchmark loads (docs/PERFORMANCE.md: 200).
func benchServices() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_SERVICES")); err == nil && n > 0 {
		return n
	}
	return 200
}

const minutesPerService = 30 * 24 * 60

// buildBinary builds budgetgate into dir.
func buildBinary(b *testing.B, dir string) string {
	bin := filepath.Join(dir, "budgetgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/budgetgate").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// writePolicies writes one policy per service into dir/policies.
func writePolicies(dir string, services int) string {
	policies := filepath.Join(dir, "policies")
	os.Mkdir(policies, 0o755)
	for i := 0; i < services; i++ {
		src := fmt.Sprintf("service: svc-%03d\nslo_target: 99.9\nwindow: 30d\n", i)
		os.WriteFile(filepath.Join(policies, fmt.Sprintf("svc-%03d.yaml", i)), []byte(src), 0o644)
	}
	return policies
}

// startBinary builds and starts budgetgate serve with one policy per service,
// and returns its URL, an API token and its process id.
func startBinary(b *testing.B, dir string, services int) (string, string, int) {
	return startServe(b, buildBinary(b, dir), filepath.Join(dir, "bench.db"), writePolicies(dir, services))
}

// startServe starts bin serve on database dbArg with the policies, and
// returns its URL, the development token it made and its process id.
func startServe(b *testing.B, bin, dbArg, policies string) (string, string, int) {
	// The development provider makes a CI token for the load to use. The
	// benchmark measures the server, not the ingest limit: one address here
	// posts what a whole fleet of collectors would.
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dbArg, "--policies", policies, "--dev-idp", "--rate-ingest", "off")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	addr := regexp.MustCompile(`msg="budgetgate listening" addr=(\S+)`)
	token := regexp.MustCompile(`export BUDGETGATE_TOKEN=(\S+)`)
	sc := bufio.NewScanner(out)
	var tok string
	for sc.Scan() {
		if m := token.FindStringSubmatch(sc.Text()); m != nil {
			tok = m[1]
		}
		if m := addr.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return "http://" + m[1], tok, cmd.Process.Pid
		}
	}
	b.Fatal("server did not start")
	return "", "", 0
}

// peakRSSMB reads the process's peak resident memory.
func peakRSSMB(pid int) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// BenchmarkServer is the server scenario of docs/PERFORMANCE.md, in one run: load 200
// services with 30 days of per-minute data through the API in batches of
// 1,000 (beside plain batched inserts of the same rows into SQLite), then
// release evaluations from 50 concurrent clients, then the pages.
func BenchmarkServer(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	services := benchServices()
	url, token, pid := startBinary(b, dir, services)
	client := NewClient(url, token, 50)
	end := time.Now().UTC().Truncate(time.Minute)

	// Ingest.
	jobs := ingestJobs(services, end, url)
	events := services * minutesPerService
	b.ResetTimer()
	ingest, err := client.Run(ctx, 8, jobs)
	if err != nil {
		b.Fatal(err)
	}
	ingestRate := float64(events) / ingest.Elapsed.Seconds()

	// The same rows, inserted plainly.
	rows := plainRows(services, end)
	t0 := time.Now()
	if err := plainInsert(ctx, filepath.Join(dir, "plain.db"), rows, 1000); err != nil {
		b.Fatal(err)
	}
	plainRate := float64(events) / time.Since(t0).Seconds()

	// Release evaluation at 50 concurrent clients.
	eval, err := client.Run(ctx, 50, evalJobs(services, 5000, url))
	if err != nil {
		b.Fatal(err)
	}

	// Release evaluation again, while ingest runs at 100,000 events/s.
	evalIngest, ingestDuring := evalWhileIngesting(b, client, services, end, url)

	// Pages, one client at a time as a person would.
	if err := client.SignInDev(ctx, "sre-sam"); err != nil {
		b.Fatal(err)
	}
	page := func(path string) Result {
		jobs := make([]Job, 100)
		for i := range jobs {
			jobs[i] = Job{Method: "GET", Path: path, Status: 200}
		}
		r, err := client.Run(ctx, 1, jobs)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	overview, service := page("/"), page(fmt.Sprintf("/services/svc-%03d", services/2))
	b.StopTimer()

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ingestRate, "ingest_events/s")
	b.ReportMetric(plainRate, "plain_insert_rows/s")
	b.ReportMetric(ingestRate/plainRate, "ingest/plain")
	b.ReportMetric(ms(eval.Quantile(0.5)), "eval_p50_ms")
	b.ReportMetric(ms(eval.Quantile(0.99)), "eval_p99_ms")
	b.ReportMetric(ms(evalIngest.Quantile(0.99)), "eval_p99_under_ingest_ms")
	b.ReportMetric(ingestDuring, "ingest_during_eval_events/s")
	b.ReportMetric(ms(overview.Quantile(0.95)), "overview_p95_ms")
	b.ReportMetric(ms(service.Quantile(0.95)), "service_p95_ms")
	b.ReportMetric(peakRSSMB(pid), "server_peak_MB")
}

// ingestJobs are 30 days of per-minute data for each service, in batches
// of 1,000, spread over the servers' base URLs in turn.
func ingestJobs(services int, end time.Time, urls ...string) []Job {
	var jobs []Job
	for s := 0; s < services; s++ {
		for k := 0; k < minutesPerService/1000+1; k++ {
			n := min(1000, minutesPerService-k*1000)
			if n <= 0 {
				break
			}
			batchEnd := end.Add(-time.Duration(k*1000) * time.Minute)
			jobs = append(jobs, Job{URL: urls[len(jobs)%len(urls)], Method: "POST", Path: fmt.Sprintf("/api/v1/services/svc-%03d/sli", s), Body: SLIBatch(batchEnd, n), Status: 202})
		}
	}
	return jobs
}

// plainRows are the rows ingestJobs stores, as (service, minute, good, total).
func plainRows(services int, end time.Time) [][4]int64 {
	rows := make([][4]int64, 0, services*minutesPerService)
	for s := 0; s < services; s++ {
		for m := 0; m < minutesPerService; m++ {
			rows = append(rows, [4]int64{int64(s), end.Unix() - int64(m*60), 1000, 1000})
		}
	}
	return rows
}

// evalJobs are n release evaluations over the services, spread over the
// servers' base URLs in turn.
func evalJobs(services, n int, urls ...string) []Job {
	jobs := make([]Job, 0, n)
	for i := 0; i < n; i++ {
		body := fmt.Sprintf(`{"service":"svc-%03d","version":"1.%d","risk_level":"low","has_tests":true,"has_rollback_plan":true}`, i%services, i)
		jobs = append(jobs, Job{URL: urls[i%len(urls)], Method: "POST", Path: "/api/v1/releases/evaluate", Body: []byte(body), Status: 200})
	}
	return jobs
}

// evalWhileIngesting runs release evaluations at 50 clients while another
// client posts a batch of 1,000 events every 10 ms (100,000 events/s if the
// server keeps up), and returns the evaluations and the ingest rate reached.
func evalWhileIngesting(b *testing.B, client *Client, services int, end time.Time, urls ...string) (Result, float64) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ingester := NewClient(client.URL, client.Token, 8)
	batches := make([][]byte, 10)
	for i := range batches {
		batches[i] = SLIBatch(end.Add(-time.Duration(i*1000)*time.Minute), 1000)
	}
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	sem := make(chan struct{}, 8)
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				continue // the server is behind: this tick's batch is not sent
			}
			wg.Go(func() {
				defer func() { <-sem }()
				path := fmt.Sprintf("/api/v1/services/svc-%03d/sli", i%services)
				if err := ingester.DoAt(ctx, urls[i%len(urls)], "POST", path, batches[i%len(batches)], 202); err == nil {
					sent.Add(1000)
				} else if ctx.Err() == nil {
					b.Error(err)
				}
			})
		}
	})
	eval, err := client.Run(ctx, 50, evalJobs(services, 5000, urls...))
	rate := float64(sent.Load()) / time.Since(start).Seconds()
	stop()
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	return eval, rate
}
