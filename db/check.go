package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// A full integrity check reads every page and every index entry: seconds on
// a database of a few hundred megabytes. It runs at start unless the file is
// exactly as budgetgate left it at its last clean close, which the marker
// beside it records (docs/OPERATIONS.md, "Storage checks at start").

// cleanStamp is what a clean close records of the file: a file changed
// since (by another program, a copy, a restore, a crash mid-write) differs
// in size or modification time, and, where the system tells them, in inode
// or status-change time, which copying tools that keep the modification
// time (cp -p, rsync -a, touch -r) cannot carry over.
type cleanStamp struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mod_time_ns"`
	Inode   uint64 `json:"inode"`
	Ctime   int64  `json:"change_time_ns"`
}

func markerPath(path string) string { return path + "-clean" }

func stampOf(path string) (cleanStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return cleanStamp{}, err
	}
	s := cleanStamp{Size: st.Size(), ModTime: st.ModTime().UnixNano()}
	s.Inode, s.Ctime = fileIdentity(st)
	return s, nil
}

// closedCleanly reports whether the marker of the last clean close matches
// the file, with no write-ahead log left to replay, and removes the marker:
// from now on the file is in use, and a crash must leave no marker.
func closedCleanly(path string) (bool, error) {
	raw, err := os.ReadFile(markerPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("db: reading %s: %w", markerPath(path), err)
	}
	if err := os.Remove(markerPath(path)); err != nil {
		return false, fmt.Errorf("db: removing %s: %w", markerPath(path), err)
	}
	var want cleanStamp
	if json.Unmarshal(raw, &want) != nil {
		return false, nil
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		return false, nil
	}
	got, err := stampOf(path)
	return err == nil && got == want, nil
}

// markClean records, after the last connection closed, that the file is
// consistent as it stands. With a write-ahead log left (another process
// still has the database open), nothing is recorded.
func markClean(path string) error {
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		return nil
	}
	s, err := stampOf(path)
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(s)
	return os.WriteFile(markerPath(path), raw, 0o600)
}

// checkFile names the path and the cause when the file cannot be used at
// all (a directory, no permission, a read-only file system), before SQLite
// would report it as a generic "unable to open".
func checkFile(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // created by the open
	}
	if err != nil {
		return fmt.Errorf("db: cannot use %s: %w", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("db: %s is a directory, not a database file", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("db: cannot open %s for reading and writing (budgetgate must be able to write it): %w", path, err)
	}
	defer f.Close()
	if st.Size() == 0 {
		return nil // an empty file is an empty database
	}
	// SQLite takes a short file of any content for an empty database and
	// would write over it.
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != sqliteMagic {
		return fmt.Errorf("db: %s is not a usable SQLite database (it does not start with the SQLite header); restore it from a backup or move it aside", path)
	}
	return nil
}

// sqliteMagic opens every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// check refuses a file that is not a database or fails the integrity check,
// with the path and the first problem. full is SQLite's integrity_check,
// which also compares every index with its table; otherwise only the schema
// is read, which any file that is not a database fails.
func (d *DB) check(ctx context.Context, full bool) error {
	q := "SELECT 'ok' FROM sqlite_master LIMIT 1"
	if full {
		q = "PRAGMA integrity_check(1)"
	}
	var res string
	err := d.write.QueryRowContext(ctx, q).Scan(&res)
	if !full && errors.Is(err, sql.ErrNoRows) {
		return nil // an empty database
	}
	if err != nil {
		return fmt.Errorf("db: %s is not a usable SQLite database (%v); restore it from a backup or move it aside", d.Path, err)
	}
	if res != "ok" {
		return fmt.Errorf("db: %s failed its integrity check (first problem: %s); restore it from a backup", d.Path, res)
	}
	return nil
}
