package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowTree writes a working tree whose policy is allowed (well under the
// YAML limits) but makes matching long: thousands of many-star exclude
// patterns, each tried on every one of thousands of files.
func slowTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var p strings.Builder
	p.WriteString("project: slow\nexclude:\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&p, "  - \"**/a*a*a*a*a*a*a*a*a*b%d/**\"\n", i)
	}
	p.WriteString("dimensions:\n  vehicle:\n    variants: [\"vehicles/{variant}/**\"]\n")
	p.WriteString("vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, metrics: [lines_of_code]}\n")
	files := map[string]string{".budgetgate.yaml": p.String()}
	for i := 0; i < 3000; i++ {
		files[fmt.Sprintf("vehicles/v%d/aaaaaaaaaaaaaaaaaaaaaaaa/aaaaaaaaaaaaaaaaaaaa%d.go", i%10, i)] = "package p\n"
	}
	for name, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestAnalyzeStopsOnSignal runs the real binary on a long analysis and
// sends it SIGTERM, then SIGINT: it must exit within a second, with exit
// code 2 and a message saying why.
func TestAnalyzeStopsOnSignal(t *testing.T) {
	dir := slowTree(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(binary, "analyze", dir, "--no-cache")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Long enough to be matching, not still starting.
			select {
			case err := <-done:
				t.Fatalf("the analysis ended before the signal (%v): it is not long enough to test\n%s", err, stderr.String())
			case <-time.After(2 * time.Second):
			}
			cmd.Process.Signal(sig)
			sent := time.Now()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 5s after %v", sig)
			}
			if took := time.Since(sent); took > time.Second {
				t.Errorf("exited %v after %v, want within a second", took, sig)
			}
			if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), "stopped by a signal") {
				t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
			}
		})
	}
}
