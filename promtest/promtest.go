// Package promtest runs a real Prometheus for tests: on loopback, over a
// TSDB filled with promtool from a history the test writes, optionally
// scraping exporters the test runs. Tests skip where Prometheus is not
// installed, except under CI=true, where that is a failure.
package promtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Binaries are the programs the harness needs: Debian's prometheus package
// brings both.
var Binaries = []string{"prometheus", "promtool"}

// Missing names the first binary not on PATH, or "".
func Missing() string {
	for _, b := range Binaries {
		if _, err := exec.LookPath(b); err != nil {
			return b
		}
	}
	return ""
}

// Need skips tb where Prometheus is missing, or fails it under CI=true.
func Need(tb testing.TB) {
	tb.Helper()
	if b := Missing(); b != "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not installed (CI installs Debian's prometheus package)", b)
		}
		tb.Skipf("%s is not installed", b)
	}
}

// Options describe the server to start.
type Options struct {
	// History writes the OpenMetrics samples to load into the TSDB before
	// the server starts; nil starts with an empty TSDB.
	History func(w io.Writer) error
	// Targets are host:port addresses scraped every ScrapeInterval.
	Targets        []string
	ScrapeInterval time.Duration
}

// Server is a running Prometheus.
type Server struct {
	URL  string
	Dir  string
	cmd  *exec.Cmd
	done chan error
}

// Start fills a TSDB in a new directory under dir and starts Prometheus
// over it on a free loopback port; it returns once the server is ready.
func Start(dir string, o Options) (*Server, error) {
	if b := Missing(); b != "" {
		return nil, fmt.Errorf("%s is not installed", b)
	}
	dir, err := os.MkdirTemp(dir, "prometheus-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if o.History != nil {
		if err := createBlocks(dir, data, o.History); err != nil {
			return nil, err
		}
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config(o)), 0o600); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("prometheus",
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=400d",
		"--web.listen-address="+addr,
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting prometheus: %w", err)
	}
	s := &Server{URL: "http://" + addr, Dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logFile.Close() }()
	if err := s.waitReady(30 * time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; its log ends:\n%s", err, tail(filepath.Join(dir, "prometheus.log")))
	}
	return s, nil
}

// StartT is Start for one test, stopped when it ends.
func StartT(tb testing.TB, o Options) *Server {
	tb.Helper()
	Need(tb)
	s, err := Start(tb.TempDir(), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

func config(o Options) string {
	interval := o.ScrapeInterval
	if interval <= 0 {
		interval = 15 * time.Second
	}
	var b strings.Builder
	secs := max(1, int(interval/time.Second))
	fmt.Fprintf(&b, "global:\n  scrape_interval: %ds\n  evaluation_interval: %ds\n", secs, secs)
	if len(o.Targets) > 0 {
		fmt.Fprintf(&b, "scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets: [%s]\n", strings.Join(o.Targets, ", "))
	}
	return b.String()
}

// createBlocks writes the history to a file and has promtool turn it into
// TSDB blocks: the way Prometheus documents backfilling.
func createBlocks(dir, data string, history func(io.Writer) error) error {
	path := filepath.Join(dir, "history.om")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = history(w)
	if err == nil {
		_, err = io.WriteString(w, "# EOF\n")
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the history: %w", err)
	}
	out, err := exec.Command("promtool", "tsdb", "create-blocks-from", "openmetrics",
		"--max-block-duration=240h", path, data).CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %w: %s", err, out)
	}
	return os.Remove(path)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("prometheus exited: %v", err)
		default:
		}
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("prometheus was not ready within " + limit.String())
}

// CPU is the processor time the server has used so far (user and system),
// read from /proc; zero where that is not available.
func (s *Server) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces), from field 3.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is the kernel's USER_HZ, 100 on every Linux port that Debian
// ships.
const clockTicks = 100

// Stop ends the server and waits for it.
func (s *Server) Stop() error {
	if s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.done <- nil // later calls return at once
	return nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// Main runs a test package with one shared server in *srv, stopped after the
// tests. Where Prometheus is missing the tests run with *srv nil (each calls
// Need) unless CI=true, where the package fails at once.
func Main(m *testing.M, srv **Server, o Options) int {
	if b := Missing(); b != "" {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "%s is not installed (CI installs Debian's prometheus package)\n", b)
			return 1
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "promtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	s, err := Start(dir, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Stop()
	*srv = s
	return m.Run()
}

// Ctx is a context for a test's queries.
func Ctx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}
