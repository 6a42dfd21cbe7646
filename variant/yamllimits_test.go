package variant

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/policyfile"
)

// fill repeats unit up to n bytes, after head and before tail.
func fill(head, unit, tail string, n int) string {
	return head + strings.Repeat(unit, (n-len(head)-len(tail))/len(unit)) + tail
}

// billionLaughs nests levels of aliases, each level width times the one
// below: width^levels nodes once expanded, from a few hundred bytes.
func billionLaughs(levels, width int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), width), ", "))
	}
	return b.String()
}

func TestYAMLLimits(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name, doc, want, at string
	}{
		{"1 MiB of nested empty lists, block", fill("", "- []\n", "", mib), "more than 100000 nodes", ":"},
		{"1 MiB of nested empty lists, flow", fill("[", "[],", "]", mib), "more than 100000 nodes", ":1:"},
		{"deep flow nesting", fill("", "[", "", 100_000), "nested more than 64 levels", ":1:65"},
		{"over 1 MiB", fill("project: x\n# ", "x", "\n", mib+1), "at most 1048576 bytes", ""},
		{"billion laughs, 10 by 11", billionLaughs(11, 10), "more than 100 aliases", ":"},
		{"billion laughs, doubling", billionLaughs(30, 2), "aliases expanded has more than 100000 nodes", ":1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.doc)
			for _, parse := range []func(string, []byte) error{
				func(f string, d []byte) error { _, err := errorbudget.ParsePolicy(f, d); return err },
				func(f string, d []byte) error { _, err := ParseVariantPolicy(f, d); return err },
			} {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				start := time.Now()
				err := parse("p.yaml", data)
				took := time.Since(start)
				runtime.ReadMemStats(&after)
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "p.yaml"+tt.at) {
					t.Fatalf("got %v, want an error naming p.yaml%s and saying %q", err, tt.at, tt.want)
				}
				if code := budgetgate.ErrorCode(err); code != budgetgate.EINVALID {
					t.Errorf("error code %q, want %q", code, budgetgate.EINVALID)
				}
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 50<<20 {
					t.Errorf("refusing it allocated %d MB", alloc>>20)
				}
				if took > time.Second {
					t.Errorf("refusing it took %v", took)
				}
			}
		})
	}
}

// TestYAMLLimitsKeepRealPolicies: the policies shipped with the demo and
// the example of docs load under the limits, and a policy well inside the
// node limit (a thousand named variants) still does.
func TestYAMLLimitsKeepRealPolicies(t *testing.T) {
	files, _ := filepath.Glob("../demo/policies/*.yaml")
	if len(files) == 0 {
		t.Fatal("no demo policies found")
	}
	for _, f := range files {
		src, err := policyfile.ReadPolicyFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := errorbudget.ParsePolicy(filepath.Base(f), src); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := ParseVariantPolicy(".budgetgate.yaml", []byte(specPolicy)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("project: big\ndimensions:\n  vehicle:\n    variants:\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "      v%d: [\"vehicles/v%d/**\", \"**/*_v%d.go\"]\n", i, i, i)
	}
	if _, err := ParseVariantPolicy(".budgetgate.yaml", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
}

func TestReadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(fill("", "#", "\n", policyfile.MaxPolicyBytes+10)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{big, "larger than 1048576 bytes"},
		{dir, "not a regular file"},
		{"/dev/zero", "not a regular file"},
		{filepath.Join(dir, "missing.yaml"), "no such file"},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			_, err := policyfile.ReadPolicyFile(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("got %v, want an error naming %s and saying %q", err, tt.path, tt.want)
			}
		})
	}
}
