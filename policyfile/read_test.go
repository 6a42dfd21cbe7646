package policyfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadRegularFile: the one bounded read of a policy file, for the
// server and the CLI's --policy (links followed) and for a file inside an
// analysed tree (links refused).
func TestReadRegularFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte("service: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxPolicyBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		path   string
		follow bool
		want   string // "" reads the file
	}{
		{"a regular file", file, false, ""},
		{"a link, followed", link, true, ""},
		{"a link, refused", link, false, "is a symbolic link"},
		{"a directory", dir, true, "not a regular file"},
		{"a device", "/dev/zero", true, "not a regular file"},
		{"too large", big, true, "larger than"},
		{"missing", filepath.Join(dir, "none.yaml"), true, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, err := ReadRegularFile(tt.path, tt.follow)
			switch {
			case tt.want == "" && (err != nil || string(data) != "service: a\n"):
				t.Errorf("%q, %v; want the file", data, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("%v; want an error saying %q", err, tt.want)
			case tt.name == "missing" && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("%v; want fs.ErrNotExist", err)
			}
		})
	}
}
