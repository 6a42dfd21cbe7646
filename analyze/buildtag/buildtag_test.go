package buildtag

import (
	"go/build/constraint"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"a.go", "//go:build linux\n\npackage a\n", []string{"linux"}},
		{"a.go", "//go:build linux || darwin\n\npackage a\n", nil},
		{"a.go", "//go:build !windows\n\npackage a\n", nil},
		{"a.go", "//go:build linux && (amd64 || arm64)\n\npackage a\n", []string{"linux"}},
		{"a.go", "//go:build (linux || darwin) && !cgo && (linux || !darwin)\n\npackage a\n", []string{"linux"}},
		{"a_linux.go", "package a\n", []string{"linux"}},
		{"a_linux_amd64.go", "package a\n", []string{"amd64", "linux"}},
		{"a_amd64_test.go", "package a\n", []string{"amd64"}},
		{"linux.go", "package a\n", nil},
		{"a_linux.go", "//go:build !cgo\n\npackage a\n", []string{"linux"}},
		{"a.go", "// Copyright\n\n/* block\n */\n\n// +build linux\n// +build amd64\n\npackage a\n", []string{"amd64", "linux"}},
		{"a.go", "package a\n\n//go:build linux\n", nil},
	} {
		t.Run(tc.name+" "+strings.SplitN(tc.src, "\n", 2)[0], func(t *testing.T) {
			x, err := Constraint(tc.name, []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if got := Required(x); !slices.Equal(got, tc.want) {
				t.Errorf("Required = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := Constraint("a.go", []byte("\n//go:build linux &&\n\npackage a\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("broken constraint: %v, want an error on line 2", err)
	}
}

// TestRequiredOnGoroot checks Required against a brute-force evaluation
// over every setting of the tags, for every file of Go's own tree that has
// a build constraint.
func TestRequiredOnGoroot(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("go env GOROOT:", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "src")
	files, withTags := 0, 0
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		x, err := Constraint(p, data)
		if err != nil {
			// testdata holds deliberately broken files; go/build/constraint
			// refuses them too.
			if !strings.Contains(p, "testdata") {
				t.Errorf("%s: %v", p, err)
			}
			return nil
		}
		if x == nil {
			return nil
		}
		withTags++
		if got, want := Required(x), bruteRequired(x); !slices.Equal(got, want) {
			t.Errorf("%s (%s): Required = %v, brute force %v", p, x, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if withTags < 1000 {
		t.Fatalf("only %d of %d files have a constraint: not Go's tree?", withTags, files)
	}
	t.Logf("%d files, %d with a constraint", files, withTags)
}

// bruteRequired tries every setting of x's tags: a tag is required when no
// setting with it false satisfies x.
func bruteRequired(x constraint.Expr) []string {
	tags := Tags(x)
	if len(tags) > 16 {
		panic("too many tags to try")
	}
	satFalse := map[string]bool{}
	for m := 0; m < 1<<len(tags); m++ {
		ok := x.Eval(func(tag string) bool { return m&(1<<slices.Index(tags, tag)) != 0 })
		if !ok {
			continue
		}
		for i, t := range tags {
			if m&(1<<i) == 0 {
				satFalse[t] = true
			}
		}
	}
	var out []string
	for _, t := range tags {
		if !satFalse[t] {
			out = append(out, t)
		}
	}
	return out
}
