package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/db"
)

// TestPolicyDirectoryReloadsOnSIGHUP: the policy directory's files are the
// operator's. A file lowering the objective takes effect on SIGHUP without
// review, and the audit log says it came from the policy directory, at
// start and on SIGHUP.
func TestPolicyDirectoryReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bg.db")
	policies := filepath.Join(dir, "policies")
	os.Mkdir(policies, 0o755)
	file := filepath.Join(policies, "api.yaml")
	os.WriteFile(file, []byte("service: api\nslo_target: 99.9\nwindow: 30d\n"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--policies", policies)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	out, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			cmd.Wait()
		}
	}
	defer stop()
	var url string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			url = "http://" + m[1]
			break
		}
	}
	if url == "" {
		t.Fatal("server did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	code, token := runCLI(t, "token", "create", "--db", dbPath, "--name", "ci", "--scopes", "read")
	if code != exitOK {
		t.Fatalf("token create: exit %d %s", code, token)
	}
	s := &server{URL: url, Token: strings.TrimSpace(token)}
	target := func() float64 {
		status, body := s.do(t, "GET", "/api/v1/services/api/status", "")
		var m struct {
			SLOTarget float64 `json:"slo_target"`
		}
		if err := json.Unmarshal(body, &m); err != nil || status != 200 {
			t.Fatalf("status: %d %s", status, body)
		}
		return m.SLOTarget
	}
	if got := target(); got != 99.9 {
		t.Fatalf("at start: objective %v, want 99.9", got)
	}

	os.WriteFile(file, []byte("service: api\nslo_target: 99.0\nwindow: 30d\n"), 0o644)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for target() != 99.0 {
		if time.Now().After(deadline) {
			t.Fatal("the lowered objective of the policy file did not take effect on SIGHUP")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()

	store, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	entries, err := store.AuditLog(context.Background(), app.AuditFilter{Subject: "api"})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range entries {
		trail = append(trail, e.Action+" by "+e.Actor.Name)
	}
	want := []string{"policy.load by policy directory, reloaded on SIGHUP", "policy.load by policy directory, loaded at start"}
	if strings.Join(trail, "; ") != strings.Join(want, "; ") {
		t.Errorf("audit log, newest first: %q, want %q", trail, want)
	}
	changes, err := store.PolicyChanges(context.Background(), app.PolicyChangeFilter{Service: "api"})
	if err != nil || len(changes) != 0 {
		t.Errorf("a policy file made a change wait for review: %+v %v", changes, err)
	}
}
