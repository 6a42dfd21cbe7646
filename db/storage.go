package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
)

// storageFullMessage is what a write refused for lack of space answers.
const storageFullMessage = "storage is full; nothing was stored"

func errStorageFull() error {
	return &budgetgate.Error{Code: budgetgate.EUNAVAILABLE, Message: storageFullMessage}
}

func isStorageFull(err error) bool {
	return err != nil && budgetgate.ErrorCode(err) == budgetgate.EUNAVAILABLE && budgetgate.ErrorMessage(err) == storageFullMessage
}

// noteWrites records what a committed group says about free space: a write
// refused for lack of it marks the storage full, and one that went through
// (with none refused beside it) marks it usable again. Ready reports the
// mark, so that a load balancer stops sending writes to a full instance.
func (d *DB) noteWrites(full, wrote bool) {
	switch {
	case full:
		d.full.Store(true)
	case wrote:
		d.full.Store(false)
	}
}

// Room that counts as space come back: enough for a large ingest.
const (
	minFreeBytes = 8 << 20
	minFreePages = 64
)

// StorageFull reports whether the last write that needed space found none
// and none has succeeded since. While it is so, it looks whether space has
// come back (the volume has room again, and the --max-db-pages cap, if
// any, too) and clears the mark if it has: a server taken out of rotation
// for being full must be able to come back without a write.
func (d *DB) StorageFull(ctx context.Context) bool {
	if !d.full.Load() {
		return false
	}
	if d.dl != sqliteDialect {
		// PostgreSQL's disk is its server's, shared by every instance:
		// taking one instance out of rotation frees nothing. Each write
		// that finds no space is still refused (503).
		return false
	}
	if free, ok := freeBytes(filepath.Dir(d.Path)); !ok || free < minFreeBytes {
		return true
	}
	if limit := d.maxPages.Load(); limit > 0 {
		st, err := d.Storage(ctx)
		if err != nil || limit-st.Pages < minFreePages {
			return true
		}
	}
	d.full.CompareAndSwap(true, false)
	return false
}

// storageReady is Ready's view of free space.
func (d *DB) storageReady(ctx context.Context) error {
	if d.StorageFull(ctx) {
		return budgetgate.Errorf(budgetgate.EUNAVAILABLE, "storage full: the last write found no space; free some (or raise --max-db-pages and restart)")
	}
	return nil
}

// SetMaxPages caps the database file at n pages (PRAGMA max_page_count on
// the one write connection), so that operators and tests can bound it below
// the disk; a write past the cap fails as on a full disk. n <= 0 lifts the
// cap. SQLite never sets the cap below the current size; the cap in force is
// returned.
func (d *DB) SetMaxPages(ctx context.Context, n int64) (int64, error) {
	if d.dl != sqliteDialect {
		return 0, errors.New("db: --max-db-pages caps a SQLite file; PostgreSQL's size is bounded on its server")
	}
	if n <= 0 {
		n = 0xfffffffe // SQLite's largest page count
	}
	var got int64
	// PRAGMA takes no bound parameters; n is an integer.
	if err := d.write.QueryRowContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil {
		return 0, mapErr(err)
	}
	if n == 0xfffffffe {
		d.maxPages.Store(0)
	} else {
		d.maxPages.Store(got)
	}
	return got, nil
}

// Storage reads the database's page figures.
func (d *DB) Storage(ctx context.Context) (app.StorageStats, error) {
	var s app.StorageStats
	if d.dl != sqliteDialect {
		var err error
		s.PageSize, s.Pages, err = d.pgStorage(ctx)
		return s, err
	}
	for q, dst := range map[string]*int64{"PRAGMA page_size": &s.PageSize, "PRAGMA page_count": &s.Pages, "PRAGMA freelist_count": &s.FreePages} {
		if err := d.read.QueryRowContext(ctx, q).Scan(dst); err != nil {
			return s, mapErr(err)
		}
	}
	return s, nil
}

// OutboxDepth counts notifications by delivery state.
func (d *DB) OutboxDepth(ctx context.Context) (map[string]int, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT state, COUNT(*) FROM notifications GROUP BY state`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("db: counting notifications: %w", err)
		}
		out[state] = n
	}
	return out, rows.Err()
}
