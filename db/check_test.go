package db

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFullCheckUnlessClosedCleanly follows one file through opens and
// closes: the full integrity check runs on a new file, after a crash (no
// close), when the file changed since its clean close, and when asked; a
// file exactly as the last clean close left it opens without it.
func TestFullCheckUnlessClosedCleanly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bg.db")
	open := func(o Options) *DB {
		t.Helper()
		d, err := OpenWith(ctx, path, o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	steps := []struct {
		name string
		prep func(t *testing.T) // before opening
		opts Options
		full bool
		shut bool // close cleanly afterwards
	}{
		{"new file", nil, Options{}, true, true},
		{"after a clean close", nil, Options{}, false, true},
		{"asked for", nil, Options{FullCheck: true}, true, false},
		{"after a crash", nil, Options{}, true, true},
		{"changed since its clean close", func(t *testing.T) {
			later := time.Now().Add(time.Minute)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}, Options{}, true, true},
		{"marker unreadable as a stamp", func(t *testing.T) {
			if err := os.WriteFile(markerPath(path), []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, Options{}, true, true},
		{"clean again", nil, Options{}, false, true},
	}
	var crashed []*DB
	t.Cleanup(func() {
		for _, d := range crashed {
			d.healthy = false // closed only to free the file, as a crash would leave it
			d.Close()
		}
	})
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.prep != nil {
				st.prep(t)
			}
			d := open(st.opts)
			if d.FullyChecked != st.full {
				t.Errorf("full check %v, want %v", d.FullyChecked, st.full)
			}
			if _, err := os.Stat(markerPath(path)); err == nil {
				t.Error("the clean-close marker is still there while the database is open")
			}
			if !st.shut {
				crashed = append(crashed, d)
				d.healthy = false
				d.Close()
				return
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenNamesPathAndCause: a path that cannot be a database file is
// refused with the path and the cause.
func TestOpenNamesPathAndCause(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, cause string }{
		{dir, "is a directory"},
		{filepath.Join(file, "bg.db"), "not a directory"},
		{file, "not a usable SQLite database"},
	} {
		_, err := Open(context.Background(), tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.cause) {
			t.Errorf("Open(%s) = %v; want the path and %q", tc.path, err, tc.cause)
		}
	}
}
