package faults

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/db"
)

// runBackup runs `budgetgate backup` and returns its exit code and output.
func runBackup(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"backup"}, args...)...).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestBackupWhileServing backs the database up with the CLI while the
// server takes writes: the copy passes an integrity check and holds a
// prefix of the writes (every one acknowledged before the backup began,
// whole requests only). A second backup refuses to overwrite without
// --force; with it, taken once the writes stop, the copy restores into a
// server that holds exactly what was acknowledged.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bg.db")
	policies := policyDir(t)
	srv := startServer(t, "--db", dbPath, "--policies", policies)

	const eventsPer, total = 100, 10
	const perRequest = eventsPer * total
	var mu sync.Mutex
	var acked, sent int64
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Go(func() {
			httpc := client(1)
			for i := 0; ctx.Err() == nil; i++ {
				mu.Lock()
				sent++
				mu.Unlock()
				status, b, err := srv.call(ctx, httpc, "POST", "/api/v1/services/api-service/sli", sliBody(eventsPer, total, (w*100+i%100)*10))
				if ctx.Err() != nil {
					return
				}
				if err != nil || status != 202 {
					t.Errorf("ingest: %d %s %v", status, b, err)
					return
				}
				mu.Lock()
				acked++
				mu.Unlock()
			}
		})
	}
	counts := func() (int64, int64) { mu.Lock(); defer mu.Unlock(); return acked, sent }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if a, _ := counts(); a >= 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fewer than 30 ingests in 30s")
		}
	}

	out := filepath.Join(dir, "backup.db")
	ackedBefore, _ := counts()
	code, msg := runBackup(t, "--db", dbPath, out)
	_, sentAfter := counts()
	if code != 0 || !strings.Contains(msg, "integrity ok") {
		t.Fatalf("backup: exit %d\n%s", code, msg)
	}
	if err := db.IntegrityCheck(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	got := copiedEvents(t, out)
	if got%perRequest != 0 || got < ackedBefore*perRequest || got > sentAfter*perRequest {
		t.Errorf("the copy holds %d events; want whole requests of %d, at least the %d acknowledged before the backup, at most the %d sent by its end",
			got, perRequest, ackedBefore, sentAfter)
	}

	before, _ := os.ReadFile(out)
	if code, msg := runBackup(t, "--db", dbPath, out); code != 2 || !strings.Contains(msg, "--force") {
		t.Errorf("backup onto an existing file: exit %d\n%s\nwant 2 and a hint at --force", code, msg)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("a refused backup changed the existing file")
	}

	stop()
	wg.Wait()
	final, _ := counts()
	if code, msg := runBackup(t, out, "--force", "--db", dbPath); code != 0 {
		t.Fatalf("backup --force: exit %d\n%s", code, msg)
	}
	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("server exited %d", code)
	}

	// Restore: a server on the copy has everything acknowledged. The
	// requests cancelled when the load stopped may have been stored too.
	restored := startServer(t, "--db", out, "--policies", policies)
	_, sentFinal := counts()
	if got := restored.totalEvents(t); got%perRequest != 0 || got < final*perRequest || got > sentFinal*perRequest {
		t.Errorf("the restored server holds %d events; %d requests of %d were acknowledged, %d sent", got, final, perRequest, sentFinal)
	}
	t.Logf("first copy: %d events (%d requests acknowledged before, %d sent by its end); %d acknowledged in all", got, ackedBefore, sentAfter, final)

	if out, err := exec.Command(binary, "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "backup") {
		t.Errorf("budgetgate --help does not list backup: %v\n%s", err, out)
	}
	if code, msg := runBackup(t, "--help"); code != 0 || !strings.Contains(msg, "Usage: budgetgate backup") || !strings.Contains(msg, "-force") {
		t.Errorf("backup --help: exit %d\n%s", code, msg)
	}
	if code, msg := runBackup(t, "--db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")); code != 2 || !strings.Contains(msg, "missing.db") {
		t.Errorf("backup of a missing database: exit %d\n%s", code, msg)
	}
}

// copiedEvents sums the minute rollup of a database file.
func copiedEvents(t *testing.T, path string) int64 {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRow(`SELECT COALESCE(SUM(total), 0) FROM sli_minute`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
