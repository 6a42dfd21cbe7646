package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// BackupResult describes a finished backup.
type BackupResult struct {
	Path       string // where the copy is
	Bytes      int64
	Migrations int // migrations the copy has applied
}

// Backup writes a consistent copy of the database file src to dst, while a
// server may be reading and writing src. The copy is made with VACUUM INTO
// on a read-only connection of its own: it reads one snapshot (one read
// transaction on the WAL), so it holds every write committed before it began
// and none after, and writers are never blocked. The copy is written beside
// dst, checked with PRAGMA integrity_check, synced, and only then put in
// place, so that dst is either the old file or a whole, checked backup.
// Without overwrite an existing dst is refused.
func Backup(ctx context.Context, src, dst string, overwrite bool) (*BackupResult, error) {
	if IsPostgres(src) {
		return nil, fmt.Errorf("backup: %s is a PostgreSQL database: back it up with pg_dump (docs/OPERATIONS.md, PostgreSQL backups)", Redact(src))
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("backup: database %s: %w", src, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("backup: database %s is not a regular file", src)
	}
	if dt, err := os.Stat(dst); err == nil {
		if os.SameFile(st, dt) {
			return nil, fmt.Errorf("backup: %s is the database itself", dst)
		}
		if !overwrite {
			return nil, fmt.Errorf("backup: %s exists; pass --force to replace it", dst)
		}
		if !dt.Mode().IsRegular() {
			return nil, fmt.Errorf("backup: %s is not a regular file", dst)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("backup: %w", err)
	}

	suffix := make([]byte, 6)
	rand.Read(suffix)
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-"+hex.EncodeToString(suffix))
	defer os.Remove(tmp) // gone already when the backup succeeded

	// mode=ro: the backup must never create, migrate or write the database
	// it copies (a wrong --db would otherwise leave an empty one behind).
	dsn := "file:" + (&url.URL{Path: src}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(5000)"
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: opening %s to back it up: %w", src, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return nil, fmt.Errorf("backup: copying %s: %w", src, err)
	}
	conn.Close()

	res := &BackupResult{Path: dst}
	if res.Migrations, err = checkCopy(ctx, tmp); err != nil {
		return nil, fmt.Errorf("backup: the copy of %s: %w", src, err)
	}
	if err := syncFile(tmp); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if overwrite {
		err = os.Rename(tmp, dst)
	} else {
		// A hard link fails if dst appeared meanwhile, where a rename
		// would silently replace it.
		if err = os.Link(tmp, dst); err == nil {
			os.Remove(tmp)
		} else if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("backup: %s exists; pass --force to replace it", dst)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(filepath.Dir(dst)); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if st, err := os.Stat(dst); err == nil {
		res.Bytes = st.Size()
	}
	return res, nil
}

// checkCopy runs a full integrity check on a database file and returns how
// many migrations it has applied.
func checkCopy(ctx context.Context, path string) (int, error) {
	if err := IntegrityCheck(ctx, path); err != nil {
		return 0, err
	}
	conn, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return 0, fmt.Errorf("db: opening the copy %s: %w", path, err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return 0, fmt.Errorf("not a budgetgate database: %w", err)
	}
	return n, nil
}

// IntegrityCheck runs PRAGMA integrity_check on the database file at path,
// read-only, and returns an error listing what it found unless it is "ok".
func IntegrityCheck(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("db: integrity check: %w", err)
	}
	conn, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("db: integrity check of %s: %w", path, err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("%s is not a usable SQLite database: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("db: integrity check of %s: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s is not a usable SQLite database: %w", path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s failed its integrity check: %v", path, problems)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("db: syncing %s: %w", path, err)
	}
	defer f.Close()
	return f.Sync()
}
