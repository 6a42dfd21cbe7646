package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/pgtest"
)

// binary is budgetgate, built once for every test here.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "budgetgate-faults")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "budgetgate")
	if out, err := exec.Command("go", "build", "-o", binary, "../cmd/budgetgate").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building budgetgate: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// policyDir writes a policy directory with the reference gate's service and target.
func policyDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policies")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "service: api-service\nslo_target: 99.9\nwindow: 30d\n"
	if err := os.WriteFile(filepath.Join(dir, "api-service.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// logBuffer is the server's output, written by one goroutine and read by the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	b.buf.WriteString(line + "\n")
	b.mu.Unlock()
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running budgetgate serve.
type proc struct {
	URL, Token string
	cmd        *exec.Cmd
	log        *logBuffer
	exited     chan struct{}
	exitCode   int
}

var (
	listening = regexp.MustCompile(`msg="budgetgate listening" addr=(\S+)`)
	demoToken = regexp.MustCompile(`export BUDGETGATE_TOKEN=(\S+)`)
)

// startServer runs `budgetgate serve` on a free loopback port with the
// development provider (for its token) and waits until it listens.
func startServer(t *testing.T, args ...string) *proc {
	t.Helper()
	p, err := launch(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// launch starts the server and returns once it listens, or with an error
// holding its output if it exits first.
func launch(t *testing.T, args ...string) (*proc, error) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--dev-idp", "--shutdown-grace", "15s", "--rate-ingest", "off"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: &logBuffer{}, exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		listened := false
		for sc.Scan() {
			line := sc.Text()
			p.log.add(line)
			if m := demoToken.FindStringSubmatch(line); m != nil {
				p.Token = m[1]
			}
			if m := listening.FindStringSubmatch(line); m != nil && !listened {
				listened = true
				p.URL = "http://" + m[1]
				close(ready)
			}
		}
		cmd.Wait()
		p.exitCode = cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", p.log)
		}
	})
	select {
	case <-ready:
		return p, nil
	case <-p.exited:
		return p, fmt.Errorf("server exited (%d) before listening:\n%s", p.exitCode, p.log)
	case <-time.After(60 * time.Second):
		return p, fmt.Errorf("server did not start in 60s:\n%s", p.log)
	}
}

// signal sends sig and, for SIGKILL, waits for the process to be gone.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGKILL {
		p.wait(t, 30*time.Second)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.exitCode
	case <-time.After(timeout):
		t.Fatalf("server still running %v after it was told to stop", timeout)
		return -1
	}
}

// client is an HTTP client with a connection pool for n concurrent callers.
func client(n int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 2 * n, MaxIdleConnsPerHost: 2 * n}}
}

// do sends one API request with the server's token and returns the
// response (its body read and closed) and the body.
func (p *proc) do(ctx context.Context, c *http.Client, method, path, body string, header ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.Token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// call is do for callers that need only the status and body.
func (p *proc) call(ctx context.Context, c *http.Client, method, path, body string, header ...string) (int, []byte, error) {
	resp, b, err := p.do(ctx, c, method, path, body, header...)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// mustCall is call that fails the test on a transport error or an
// unexpected status.
func (p *proc) mustCall(t *testing.T, method, path, body string, want int) []byte {
	t.Helper()
	status, b, err := p.call(context.Background(), client(1), method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	return b
}

// totalEvents reads api-service's events in the policy window.
func (p *proc) totalEvents(t *testing.T) int64 {
	t.Helper()
	var m struct {
		TotalEvents int64 `json:"total_events"`
	}
	if err := json.Unmarshal(p.mustCall(t, "GET", "/api/v1/services/api-service/status", "", 200), &m); err != nil {
		t.Fatal(err)
	}
	return m.TotalEvents
}

// sliBody is an ingest of n events, one a minute ending a minute before
// now, each with total events (all good).
func sliBody(n int, total int64, offset int) string {
	now := time.Now().UTC()
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		at := now.Add(-time.Duration(offset+i+1) * time.Minute).Format(time.RFC3339)
		fmt.Fprintf(&b, `{"time":%q,"good":%d,"total":%d}`, at, total, total)
	}
	b.WriteString(`]}`)
	return b.String()
}

// releaseBody asks the gate about version.
func releaseBody(version string) string {
	return fmt.Sprintf(`{"service":"api-service","version":%q,"risk_level":"low","has_tests":true,"has_rollback_plan":true}`, version)
}
