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

	"github.com/budgetgate/budgetgate/pgtest"
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
	code := pgtest.Run(m) // m.Run, then stop the PostgreSQL some tests start
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running budgetgate binary.
type server struct {
	URL   string
	Token string // the development provider's demo CI token
	log   *bytes.Buffer
}

var (
	listening = regexp.MustCompile(`msg="budgetgate listening" addr=(\S+)`)
	demoToken = regexp.MustCompile(`export BUDGETGATE_TOKEN=(\S+)`)
)

// startServer runs `budgetgate serve --dev-idp` on a free port and waits
// until it listens; a server that exits first fails the test at once.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--dev-idp"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // one stream: the log and the token line
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{log: &bytes.Buffer{}}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteString(line + "\n")
			if m := demoToken.FindStringSubmatch(line); m != nil {
				s.Token = m[1]
			}
			if m := listening.FindStringSubmatch(line); m != nil {
				s.URL = "http://" + m[1]
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("server exited before listening:\n%s", s.log)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("server did not start:\n%s", s.log)
	}
	return s
}

func (s *server) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Token)
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
	return runCLIWithToken(t, "", args...)
}

// runCLIWithToken runs the binary with BUDGETGATE_TOKEN set.
func runCLIWithToken(t *testing.T, token string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "BUDGETGATE_TOKEN="+token)
	out, err := cmd.CombinedOutput()
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
// reference api-service policy, posts SLI data, reads the status and asks the gate.
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
	code, out := runCLIWithToken(t, srv.Token, "gate", "--server", srv.URL, "--service", "api-service", "--version", "1.0.0", "--risk", "low", "--tests", "--rollback-plan")
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

	code, out = runCLIWithToken(t, srv.Token, "gate", "--server", srv.URL, "--service", "api-service", "--version", "1.0.1", "--risk", "low", "--tests", "--rollback-plan")
	if code != exitOK || !strings.Contains(out, "APPROVED") {
		t.Fatalf("gate with a healthy budget: exit %d\n%s", code, out)
	}
	code, out = runCLIWithToken(t, srv.Token, "gate", "--server", srv.URL, "--service", "api-service", "--version", "1.0.2", "--type", "rollback")
	if code != exitOK || !strings.Contains(out, "Exception: rollback releases always allowed") {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	code, out = runCLIWithToken(t, srv.Token, "gate", "--server", srv.URL, "--service", "nope", "--version", "1")
	if code != exitError || !strings.Contains(out, "404") {
		t.Fatalf("unknown service: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "gate", "--server", "http://127.0.0.1:1", "--service", "api-service", "--version", "1")
	if code != exitError {
		t.Fatalf("unreachable server: exit %d\n%s", code, out)
	}
	status, body = srv.do(t, "GET", "/api/v1/services", "")
	if status != 200 || !bytes.Contains(body, []byte(`"service":"api-service"`)) {
		t.Fatalf("services: %d %s", status, body)
	}
	// Without a token the API refuses.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/services", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %v %v, want 401", resp.Status, err)
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
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"gate", "--help"}, {"analyze", "--help"},
		{"policy", "--help"}, {"policy", "check", "--help"}, {"token", "--help"}, {"token", "create", "--help"}, {"backup", "--help"}} {
		code, out := runCLI(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage: budgetgate") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if code, _ := runCLI(t, "frobnicate"); code != exitError {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

// TestServeAsScriptsDo starts the server exactly as the deployment of docs/API.md, CLI
// scripts would, with no identity provider: the API answers with a token
// made by `budgetgate token create`, and sign-in says it is not configured.
func TestServeAsScriptsDo(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bg.db")
	policies := filepath.Join(dir, "policies")
	os.Mkdir(policies, 0o755)
	os.WriteFile(filepath.Join(policies, "api.yaml"), []byte("service: api\nslo_target: 99.9\nwindow: 30d\n"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--policies", policies)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	out, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	var url string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			url = "http://" + m[1]
			break
		}
	}
	if url == "" {
		t.Fatal("server did not start without an identity provider")
	}
	go func() {
		for sc.Scan() {
		}
	}()

	code, token := runCLI(t, "token", "create", "--db", dbPath, "--name", "ci", "--scopes", "ingest,gate,read")
	token = strings.TrimSpace(token)
	if code != exitOK || !strings.HasPrefix(token, "bgt_") {
		t.Fatalf("token create: exit %d %q", code, token)
	}
	code, gateOut := runCLIWithToken(t, token, "gate", "--server", url, "--service", "api", "--version", "1", "--type", "rollback")
	if code != exitOK || !strings.Contains(gateOut, "Exception: rollback releases always allowed") {
		t.Fatalf("gate with a CLI-made token: exit %d\n%s", code, gateOut)
	}
	resp, err := http.Get(url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/login without an identity provider: %d, want 503", resp.StatusCode)
	}
}
