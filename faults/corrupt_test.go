package faults

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
