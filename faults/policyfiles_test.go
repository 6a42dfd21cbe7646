package faults

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostilePolicyFilesRefused starts the server on a policy directory
// holding a file that never ends (a FIFO nobody writes, a link to
// /dev/zero), one over 1 MiB and one of a hundred thousand nested lists: it
// must refuse to start at once (exit 2) naming the file, instead of
// blocking, or reading and parsing without end.
func TestHostilePolicyFilesRefused(t *testing.T) {
	tests := []struct {
		name string
		make func(path string) error
		want string
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is not a regular file"},
		{"link to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "is not a regular file"},
		{"over 1 MiB", func(p string) error {
			return os.WriteFile(p, []byte("service: big\n#"+strings.Repeat("x", 1<<20)+"\n"), 0o644)
		}, "larger than 1048576 bytes"},
		{"nested lists", func(p string) error {
			return os.WriteFile(p, []byte(strings.Repeat("- []\n", 210_000)[:1<<20-10]), 0o644)
		}, "more than 100000 nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := policyDir(t)
			bad := filepath.Join(dir, "hostile.yaml")
			if err := tt.make(bad); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			p, err := launch(t, "--db", filepath.Join(t.TempDir(), "bg.db"), "--policies", dir)
			if err == nil {
				t.Fatal("the server started on a hostile policy directory")
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("refusing took %v", took)
			}
			if p.exitCode != 2 || !strings.Contains(p.log.String(), "hostile.yaml") || !strings.Contains(p.log.String(), tt.want) {
				t.Errorf("exit %d, want 2 naming hostile.yaml and saying %q:\n%s", p.exitCode, tt.want, p.log)
			}
		})
	}
}
