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

// startBinary builds and starts budgetgate serve with one policy per service,
// and returns its URL, an API token and its process id.
func startBinary(b *testing.B, dir string, services int) (string, string, int) {
	bin := filepath.Join(dir, "budgetgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/budgetgate").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	policies := filepath.Join(dir, "policies")
	os.Mkdir(policies, 0o755)
	for i := 0; i < services; i++ {
		src := fmt.Sprintf("service: svc-%03d\nslo_target: 99.9\nwindow: 30d\n", i)
		os.WriteFile(filepath.Join(policies, fmt.Sprintf("svc-%03d.yaml", i)), []byte(src), 0o644)
	}
	// The development provider makes a CI token for the load to use. The
	// benchmark measures the server, not the ingest limit: one address here
	// posts what a whole fleet of collectors would.
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "bench.db"), "--policies", policies, "--dev-idp", "--rate-ingest", "off")
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
	var jobs []Job
	for s := 0; s < services; s++ {
		for k := 0; k < minutesPerService/1000+1; k++ {
			n := min(1000, minutesPerService-k*1000)
			if n <= 0 {
				break
			}
			batchEnd := end.Add(-time.Duration(k*1000) * time.Minute)
			jobs = append(jobs, Job{Method: "POST", Path: fmt.Sprintf("/api/v1/services/svc-%03d/sli", s), Body: SLIBatch(batchEnd, n), Status: 202})
		}
	}
	events := services * minutesPerService
	b.ResetTimer()
	ingest, err := client.Run(ctx, 8, jobs)
	if err != nil {
		b.Fatal(err)
	}
	ingestRate := float64(events) / ingest.Elapsed.Seconds()

	// The same rows, inserted plainly.
	rows := make([][4]int64, 0, events)
	for s := 0; s < services; s++ {
		for m := 0; m < minutesPerService; m++ {
			rows = append(rows, [4]int64{int64(s), end.Unix() - int64(m*60), 1000, 1000})
		}
	}
	t0 := time.Now()
	if err := plainInsert(ctx, filepath.Join(dir, "plain.db"), rows, 1000); err != nil {
		b.Fatal(err)
	}
	plainRate := float64(events) / time.Since(t0).Seconds()

	// Release evaluation at 50 concurrent clients.
	jobs = jobs[:0]
	for i := 0; i < 5000; i++ {
		body := fmt.Sprintf(`{"service":"svc-%03d","version":"1.%d","risk_level":"low","has_tests":true,"has_rollback_plan":true}`, i%services, i)
		jobs = append(jobs, Job{Method: "POST", Path: "/api/v1/releases/evaluate", Body: []byte(body), Status: 200})
	}
	eval, err := client.Run(ctx, 50, jobs)
	if err != nil {
		b.Fatal(err)
	}

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
	b.ReportMetric(ms(overview.Quantile(0.95)), "overview_p95_ms")
	b.ReportMetric(ms(service.Quantile(0.95)), "service_p95_ms")
	b.ReportMetric(peakRSSMB(pid), "server_peak_MB")
}
