package faults

import (
	"bytes"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestCorruptDatabaseRefused starts the server on damaged database files:
// it must refuse to start (exit 2) with a message that names the file and
// says what to do, and leave the file as it was.
func TestCorruptDatabaseRefused(t *testing.T) {
	// A real database to damage: migrated, with policies and some data.
	good := filepath.Join(t.TempDir(), "good.db")
	srv := startServer(t, "--db", good, "--policies", policyDir(t))
	srv.mustCall(t, "POST", "/api/v1/services/api-service/sli", sliBody(500, 10, 0), 202)
	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("server exited %d after SIGTERM", code)
	}
	healthy, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(healthy) < 20*4096 {
		t.Fatalf("the database is only %d bytes; too small to damage in the middle", len(healthy))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}

	tests := []struct {
		name    string
		content func() []byte
	}{
		{"not a database at all", func() []byte { return garbage(64 << 10) }},
		{"text file", func() []byte { return []byte("service: api-service\nslo_target: 99.9\n") }},
		{"truncated", func() []byte { return bytes.Clone(healthy[:len(healthy)/3]) }},
		{"pages overwritten", func() []byte {
			// Keep the header page; every other page becomes noise.
			b := bytes.Clone(healthy)
			copy(b[4096:], garbage(len(b)-4096))
			return b
		}},
		{"header damaged", func() []byte {
			b := bytes.Clone(healthy)
			copy(b[:100], garbage(100))
			return b
		}},
		{"index inconsistent with its table", func() []byte { return breakIndex(t, healthy) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "damaged.db")
			content := tt.content()
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := launch(t, "--db", path)
			if err == nil {
				p.signal(t, syscall.SIGTERM)
				p.wait(t, 30*time.Second)
				t.Fatalf("the server started on a damaged database:\n%s", p.log)
			}
			if p.exitCode != 2 {
				t.Errorf("exit %d, want 2", p.exitCode)
			}
			out := p.log.String()
			if !strings.Contains(out, path) {
				t.Errorf("the message does not name %s:\n%s", path, out)
			}
			if !strings.Contains(out, "restore it from a backup") {
				t.Errorf("the message does not say what to do:\n%s", out)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, content) {
				t.Error("the refused file was changed")
			}
		})
	}
}

// brokenIndex is the index breakIndex damages: its entries no longer match
// the rows of its table, which every page-level check (quick_check) passes.
const brokenIndex = "policy_history_service"

// breakIndex returns a copy of a database whose index brokenIndex is
// declared over other columns than its entries were built from.
func breakIndex(t *testing.T, content []byte) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.db")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	damageIndex(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// damageIndex rewrites brokenIndex's definition in place and checks that
// quick_check still passes the file while integrity_check does not.
func damageIndex(t *testing.T, path string) {
	t.Helper()
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	for _, q := range []string{
		"PRAGMA writable_schema = ON",
		"UPDATE sqlite_master SET sql = 'CREATE INDEX " + brokenIndex + " ON policy_history(activated_by, version)' WHERE name = '" + brokenIndex + "'",
		"PRAGMA writable_schema = OFF",
	} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	conn, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var quick, full string
	if err := conn.QueryRow("PRAGMA quick_check").Scan(&quick); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&full); err != nil {
		t.Fatal(err)
	}
	if quick != "ok" || full == "ok" {
		t.Fatalf("the damage is not the one meant: quick_check %q, integrity_check %q", quick, full)
	}
}

// TestBrokenIndexRefusedAfterCleanShutdown damages an index in place in a
// database budgetgate closed cleanly: the file changed since, so the full
// check runs and the server refuses it, naming the file and the index.
func TestBrokenIndexRefusedAfterCleanShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bg.db")
	for i := range 2 { // a clean restart starts without the full check
		srv := startServer(t, "--db", path, "--policies", policyDir(t))
		srv.signal(t, syscall.SIGTERM)
		if code := srv.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("start %d: server exited %d after SIGTERM", i, code)
		}
	}
	damageIndex(t, path)
	p, err := launch(t, "--db", path)
	if err == nil {
		p.signal(t, syscall.SIGTERM)
		p.wait(t, 30*time.Second)
		t.Fatalf("the server started on a database with a broken index:\n%s", p.log)
	}
	out := p.log.String()
	if p.exitCode != 2 || !strings.Contains(out, path) || !strings.Contains(out, brokenIndex) {
		t.Fatalf("exit %d; want 2 and a message naming %s and the index %s:\n%s", p.exitCode, path, brokenIndex, out)
	}
}

// TestBrokenIndexRefusedWithRestoredStamp damages an index in a database
// budgetgate closed cleanly, then puts back its modification time and the
// clean-close marker, as a copy with cp -p or rsync -a would: the file's
// status-change time still differs, so the full check runs and the server
// refuses it.
func TestBrokenIndexRefusedWithRestoredStamp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bg.db")
	for i := range 2 {
		srv := startServer(t, "--db", path, "--policies", policyDir(t))
		srv.signal(t, syscall.SIGTERM)
		if code := srv.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("start %d: server exited %d after SIGTERM", i, code)
		}
	}
	marker, err := os.ReadFile(path + "-clean")
	if err != nil {
		t.Fatalf("no clean-close marker after a clean shutdown: %v", err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	damageIndex(t, path)
	if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-clean", marker, 0o600); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(path); err != nil || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the damage changed the file's size or time (%v): the test needs both kept", err)
	}
	p, err := launch(t, "--db", path)
	if err == nil {
		p.signal(t, syscall.SIGTERM)
		p.wait(t, 30*time.Second)
		t.Fatalf("the server started on a database with a broken index and a restored stamp:\n%s", p.log)
	}
	if out := p.log.String(); p.exitCode != 2 || !strings.Contains(out, brokenIndex) {
		t.Fatalf("exit %d; want 2 and a message naming the index %s:\n%s", p.exitCode, brokenIndex, out)
	}
}

// TestUnusableDatabasePath points --db at what cannot be a database file:
// the message names the path and the cause, and the server exits 2.
func TestUnusableDatabasePath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "ro.db")
	if err := os.WriteFile(readOnly, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, cause string
		skip              bool
	}{
		{"a directory", dir, "is a directory", false},
		{"below a regular file", filepath.Join(file, "bg.db"), "not a directory", false},
		// Permissions do not bind root.
		{"read-only file", readOnly, "permission denied", os.Geteuid() == 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("running as root")
			}
			p, err := launch(t, "--db", tt.path)
			if err == nil {
				p.signal(t, syscall.SIGTERM)
				p.wait(t, 30*time.Second)
				t.Fatalf("the server started on %s", tt.path)
			}
			out := p.log.String()
			if p.exitCode != 2 || !strings.Contains(out, tt.path) || !strings.Contains(out, tt.cause) {
				t.Fatalf("exit %d; want 2 and a message naming %s and %q:\n%s", p.exitCode, tt.path, tt.cause, out)
			}
		})
	}
}
