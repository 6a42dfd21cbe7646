package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// ingest stores one event per minute, n minutes starting at minute first
// before now, each with the given total, through the group committer.
func ingest(ctx context.Context, d *DB, service string, now time.Time, first, n int, total int64) error {
	events := make([]errorbudget.SLIEvent, n)
	for i := range events {
		events[i] = errorbudget.SLIEvent{Time: now.Add(-time.Duration(first+i) * time.Minute), Good: total, Total: total}
	}
	_, _, err := d.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
		return app.Reply{}, tx.AddSLI(ctx, service, "default", events)
	})
	return err
}

// TestStorageFull fills a database capped with SetMaxPages from several
// writers at once, so that refused and accepted writes share commits: every
// acknowledged write is stored whole, no refused one leaves a trace, Ready
// reports the full storage until a write succeeds once space is back.
func TestStorageFull(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	d := openAt(t, sqliteBackend, now)
	ctx := context.Background()
	p := testPolicy(t, d, "api", 99.9, "30d")
	st, err := d.Storage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	limit := st.Pages + 20
	if got, err := d.SetMaxPages(ctx, limit); err != nil || got != limit {
		t.Fatalf("SetMaxPages(%d) = %d, %v", limit, got, err)
	}

	const writers, perWriter, batch = 4, 200, 60
	var mu sync.Mutex
	var acked, refused int64
	var other []error
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				// Distinct minutes, so that every write needs new rows; the
				// total names the write, so that a half-stored one would show.
				first := (w*perWriter + i) * batch
				err := ingest(ctx, d, p.Service, now, first, batch, 1)
				mu.Lock()
				switch {
				case err == nil:
					acked += batch
				case isStorageFull(err):
					refused++
				default:
					other = append(other, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("writes failed other than for space: %v", other)
	}
	if refused == 0 {
		t.Fatalf("%d pages held %d events without refusing a write; the cap did not bite", limit, acked)
	}
	t.Logf("%d events acknowledged in %d pages, %d writes refused", acked, limit, refused)
	if err := d.Ready(ctx); budgetgate.ErrorCode(err) != budgetgate.EUNAVAILABLE || !strings.Contains(budgetgate.ErrorMessage(err), "storage full") {
		t.Fatalf("Ready on a full database = %v, want unavailable: storage full", err)
	}
	if !d.StorageFull(ctx) {
		t.Fatal("StorageFull() = false after a refused write")
	}
	// Counts are read straight from the table (not the cache) and from the
	// rollups, which the same write fills: all must agree with what was acknowledged.
	for _, table := range []string{"sli_minute", "sli_hour", "sli_day"} {
		var sum int64
		if err := d.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(total), 0) FROM `+table).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if sum != acked {
			t.Errorf("%s holds %d events; %d were acknowledged", table, sum, acked)
		}
	}

	// Room again: Ready sees it without waiting for a write (a server out
	// of rotation gets none), and writes go through.
	if _, err := d.SetMaxPages(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := d.Ready(ctx); err != nil {
		t.Fatalf("Ready once the cap is lifted: %v", err)
	}
	if err := ingest(ctx, d, p.Service, now, writers*perWriter*batch, batch, 1); err != nil {
		t.Fatalf("write after raising the cap: %v", err)
	}

	// A write that succeeds clears the mark too, whatever the volume says.
	if _, err := d.SetMaxPages(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// New minutes until the free pages inside the file are used up too.
	for i := 1; ; i++ {
		err := ingest(ctx, d, p.Service, now, writers*perWriter*batch+i*batch, batch, 1)
		if isStorageFull(err) {
			break
		}
		if err != nil || i == 1000 {
			t.Fatalf("write %d at a cap of the current size: %v, want storage full", i, err)
		}
	}
	if err := d.Ready(ctx); err == nil {
		t.Fatal("Ready with no room under the cap")
	}
	// Adding to minutes that have rows needs no new page.
	if err := ingest(ctx, d, p.Service, now, 0, batch, 1); err != nil {
		t.Fatalf("write into existing rows: %v", err)
	}
	if d.StorageFull(ctx) {
		t.Fatal("still marked full after a write succeeded")
	}
}

// TestBackupWhileWriting copies the database while writers keep committing
// and checks that the copy is whole and is a prefix: it holds every write
// acknowledged before the backup began, none that began after it ended, and
// never half of one.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	d := openAt(t, sqliteBackend, now)
	p := testPolicy(t, d, "api", 99.9, "30d")
	dir := t.TempDir()

	// Each write k stores k events at minute k and one decision whose
	// version is k, in one transaction.
	var mu sync.Mutex
	acked := map[int]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var next int
	var nextMu sync.Mutex
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				nextMu.Lock()
				next++
				k := next
				nextMu.Unlock()
				err := d.writeTx(ctx, func(tx *Tx) error {
					ev := []errorbudget.SLIEvent{{Time: now.Add(-time.Duration(k) * time.Minute), Good: int64(k), Total: int64(k)}}
					if err := tx.AddSLI(ctx, p.Service, "default", ev); err != nil {
						return err
					}
					dec := errorbudget.Decision{Release: errorbudget.Release{Service: p.Service, Version: fmt.Sprint(k)}, PolicyVersion: p.Version, DecidedAt: now}
					return tx.InsertDecision(ctx, &dec)
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[k] = true
				mu.Unlock()
			}
		}()
	}
	waitFor := func(n int) {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
		}
		t.Fatalf("fewer than %d writes in 20s", n)
	}
	waitFor(200)
	mu.Lock()
	before := map[int]bool{}
	for k := range acked {
		before[k] = true
	}
	mu.Unlock()

	out := filepath.Join(dir, "copy.db")
	res, err := Backup(ctx, d.Path, out, false)
	if err != nil {
		t.Fatal(err)
	}
	nextMu.Lock()
	startedBy := next // every write numbered above this began after the backup ended
	nextMu.Unlock()
	waitFor(len(before) + 50) // keep writing past the copy
	close(stop)
	wg.Wait()

	if res.Bytes == 0 || res.Migrations == 0 {
		t.Errorf("backup result %+v", res)
	}
	if err := IntegrityCheck(ctx, out); err != nil {
		t.Fatal(err)
	}
	cp, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	inCopy := map[int]bool{}
	rows, err := cp.Query(`SELECT version FROM decisions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		inCopy[v] = true
	}
	rows.Close()
	var wantSum int64
	for k := range inCopy {
		wantSum += int64(k)
		if k > startedBy {
			t.Errorf("write %d began after the backup ended but is in the copy", k)
		}
	}
	for k := range before {
		if !inCopy[k] {
			t.Errorf("write %d was acknowledged before the backup began but is missing", k)
		}
	}
	// The events of exactly the copied decisions, in every rollup.
	for _, table := range []string{"sli_minute", "sli_hour", "sli_day"} {
		var sum int64
		if err := cp.QueryRow(`SELECT COALESCE(SUM(total), 0) FROM ` + table).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if sum != wantSum {
			t.Errorf("copy's %s sums to %d; its decisions say %d", table, sum, wantSum)
		}
	}
	t.Logf("copy holds %d writes (%d acknowledged before it began, %d begun by its end)", len(inCopy), len(before), startedBy)

	// An existing file is kept unless overwrite is asked for.
	old, _ := os.ReadFile(out)
	if _, err := Backup(ctx, d.Path, out, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("backup over an existing file: %v, want a refusal naming --force", err)
	}
	if now, _ := os.ReadFile(out); string(now) != string(old) {
		t.Fatal("a refused backup changed the existing file")
	}
	if _, err := Backup(ctx, d.Path, out, true); err != nil {
		t.Fatalf("backup with overwrite: %v", err)
	}
	if _, err := Backup(ctx, d.Path, d.Path, true); err == nil {
		t.Fatal("backup onto the database itself was allowed")
	}
	if _, err := Backup(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db"), false); err == nil {
		t.Fatal("backup of a missing database succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("backup created the database it was asked to copy")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// Both backends report their size for /metrics; the SQLite-only controls
// say what to use instead on PostgreSQL.
func TestStorageFigures(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d := openAt(t, b, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
		ctx := context.Background()
		st, err := d.Storage(ctx)
		if err != nil || st.PageSize <= 0 || st.Pages <= 0 {
			t.Fatalf("Storage = %+v, %v", st, err)
		}
		if d.StorageFull(ctx) {
			t.Error("a fresh database reported full")
		}
		if b.name != postgresBackend.name {
			return
		}
		if _, err := d.SetMaxPages(ctx, st.Pages+10); err == nil || !strings.Contains(err.Error(), "SQLite") {
			t.Errorf("SetMaxPages on PostgreSQL: %v", err)
		}
		if _, err := Backup(ctx, b.fresh(t), filepath.Join(t.TempDir(), "out.db"), false); err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Errorf("Backup of PostgreSQL: %v", err)
		}
	})
}
