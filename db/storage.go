package db

import (
	"context"
	"fmt"

	"github.com/budgetgate/budgetgate"
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
// mark, so that a load balancer stops sending writes to a full instance and
// sends them again once space has come back.
func (d *DB) noteWrites(full, wrote bool) {
	switch {
	case full:
		d.full.Store(true)
	case wrote:
		d.full.Store(false)
	}
}

// StorageFull reports whether the last write that needed space found none
// and no write has succeeded since.
func (d *DB) StorageFull() bool { return d.full.Load() }

// storageReady is Ready's view of free space.
func (d *DB) storageReady() error {
	if d.full.Load() {
		return budgetgate.Errorf(budgetgate.EUNAVAILABLE, "storage full: the last write found no space; free some (or raise --max-db-pages) and the next write that succeeds clears this")
	}
	return nil
}

// SetMaxPages caps the database file at n pages (PRAGMA max_page_count on
// the one write connection), so that operators and tests can bound it below
// the disk; a write past the cap fails as on a full disk. n <= 0 lifts the
// cap. SQLite never sets the cap below the current size; the cap in force is
// returned.
func (d *DB) SetMaxPages(ctx context.Context, n int64) (int64, error) {
	if n <= 0 {
		n = 0xfffffffe // SQLite's largest page count
	}
	var got int64
	// PRAGMA takes no bound parameters; n is an integer.
	if err := d.write.QueryRowContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil {
		return 0, mapErr(err)
	}
	return got, nil
}

// StorageStats are the database file's size in pages.
type StorageStats struct {
	PageSize, Pages, FreePages int64
}

// Storage reads the database's page figures.
func (d *DB) Storage(ctx context.Context) (StorageStats, error) {
	var s StorageStats
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
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}
