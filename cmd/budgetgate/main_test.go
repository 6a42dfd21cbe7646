package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// binary is the budgetgate binary built once for the tests that run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "budgetgate-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "budgetgate")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building budgetgate: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running budgetgate binary.
type server struct {
	URL string
	cmd *exec.Cmd
	log *bytes.Buffer
}

var listening = regexp.MustCompile(`msg="budgetgate listening" addr=(\S+)`)

// startServer runs `budgetgate serve` on a free port and waits until it listens.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, log: &bytes.Buffer{}}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start:\n%s", s.log)
	}
	return s
}

func (s *server) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// runCLI runs the binary and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestBinaryEndToEnd starts the real binary on a temporary database with the
// seed's policy, posts SLI data, reads the status and asks the gate.
func TestBinaryEndToEnd(t *testing.T) {
	dir := t.TempDir()
	policies := filepath.Join(dir, "policies")
	os.Mkdir(policies, 0o755)
	seed, err := os.ReadFile("../../demo/policies/api-service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(policies, "api-service.yaml"), seed, 0o644)
	srv := startServer(t, "--db", filepath.Join(dir, "bg.db"), "--policies", policies)

	// No data yet: the gate fails closed.
	code, out := runCLI(t, "gate", "--server", srv.URL, "--service", "api-service", "--version", "1.0.0", "--risk", "low", "--tests", "--rollback-plan")
	if code != exitBlocked || !strings.Contains(out, "No SLI data for api-service in the last 30d") {
		t.Fatalf("gate without data: exit %d\n%s", code, out)
	}

	// Six hours of healthy traffic, one event a minute.
	now := time.Now().UTC()
	var events []string
	for i := 0; i < 360; i++ {
		at := now.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339)
		events = append(events, fmt.Sprintf(`{"time":%q,"good":9999,"total":10000}`, at))
	}
	if status, body := srv.do(t, "POST", "/api/v1/services/api-service/sli", `{"events":[`+strings.Join(events, ",")+`]}`); status != 202 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	status, body := srv.do(t, "GET", "/api/v1/services/api-service/status", "")
	var m struct {
		Status       string  `json:"status"`
		TotalEvents  int64   `json:"total_events"`
		RemainingPct float64 `json:"remaining_pct"`
	}
	if err := json.Unmarshal(body, &m); err != nil || status != 200 {
		t.Fatalf("status: %d %s", status, body)
	}
	if m.TotalEvents != 3_600_000 {
		t.Fatalf("total_events = %d, want 3600000", m.TotalEvents)
	}

	code, out = runCLI(t, "gate", "--server", srv.URL, "--service", "api-service", "--version", "1.0.1", "--risk", "low", "--tests", "--rollback-plan")
	if code != exitOK || !strings.Contains(out, "APPROVED") {
		t.Fatalf("gate with a healthy budget: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "gate", "--server", srv.URL, "--service", "api-service", "--version", "1.0.2", "--type", "rollback")
	if code != exitOK || !strings.Contains(out, "Exception: rollback releases always allowed") {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "gate", "--server", srv.URL, "--service", "nope", "--version", "1")
	if code != exitError || !strings.Contains(out, "404") {
		t.Fatalf("unknown service: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "gate", "--server", "http://127.0.0.1:1", "--service", "api-service", "--version", "1")
	if code != exitError {
		t.Fatalf("unreachable server: exit %d\n%s", code, out)
	}
	if status, body := srv.do(t, "GET", "/services/api-service", ""); status != 200 || !bytes.Contains(body, []byte("1.0.1")) {
		t.Fatalf("service page: %d, want the decision listed", status)
	}
}

func TestPolicyCheck(t *testing.T) {
	code, out := runCLI(t, "policy", "check", "../../demo/policies/api-service.yaml")
	if code != exitOK || !strings.Contains(out, "sha256:") {
		t.Fatalf("seed policy: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("service: api\nslo_target: 99.9\nwindow: 30d\nsfot_limit: 3\n"), 0o644)
	code, out = runCLI(t, "policy", "check", bad)
	if code != exitError || !strings.Contains(out, "4:1") {
		t.Fatalf("unknown key: exit %d\n%s; want exit 2 naming line 4 column 1", code, out)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"gate", "--help"}} {
		code, out := runCLI(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage: budgetgate") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if code, _ := runCLI(t, "frobnicate"); code != exitError {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}
