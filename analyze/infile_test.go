package analyze

import (
	"slices"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate/variant"
)

const inFilePolicy = `project: fw
dimensions:
  port:
    variants: ["ports/{variant}/**"]
    conditions: ["CONFIG_{variant}"]
  platform:
    build_constraints: true
port_budget: {hard_limit: 50, soft_limit: 40, metrics: [lines_of_code, cyclomatic_complexity, function_count, dependencies]}
platform_budget: {hard_limit: 50, soft_limit: 40, metrics: [lines_of_code]}
`

// sharedC has core code, a CAN driver inside #ifdef CONFIG_CAN (whose #else
// is core), and a bus function that CAN and USB share.
const sharedC = `int core(void) { return 0; }
#ifdef CONFIG_CAN
#include <linux/can.h>
static int can_send(int x) {
	if (x > 0) return 1;
	return 0;
}
#else
int can_stub(void) { return 0; }
#endif
#if defined(CONFIG_CAN) || defined(CONFIG_USB)
int bus(void) { return 1; }
#endif
int tail;
`

func inFileRepo(t *testing.T) *testRepo {
	r := newRepo(t)
	r.write(PolicyFile, inFilePolicy)
	r.write("core/main.c", sharedC)
	r.write("ports/stm32/board.c", strings.Repeat("int x;\n", 10))
	r.write("core/a.go", goFile(5, "a"))
	r.write("core/a_linux.go", goFile(4, "l"))
	r.write("core/b.go", "//go:build linux || darwin\n\n"+goFile(3, "b"))
	r.write("core/c.go", "//go:build windows && amd64\n\n"+goFile(2, "c"))
	r.commit("fw")
	return r
}

func dimension(t *testing.T, a *variant.Analysis, name string) variant.DimensionResult {
	t.Helper()
	for _, d := range a.Dimensions {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no dimension %s", name)
	return variant.DimensionResult{}
}

func variantMetric(t *testing.T, d variant.DimensionResult, name, metric string) variant.VariantMetric {
	t.Helper()
	for _, v := range d.Variants {
		if v.Name == name {
			return v.Metrics[metric]
		}
	}
	t.Fatalf("dimension %s has no variant %s (%v)", d.Name, name, d.Variants)
	return variant.VariantMetric{}
}

// TestVariantsInsideFiles attributes C conditionals line by line and Go
// files by their build constraints.
func TestVariantsInsideFiles(t *testing.T) {
	r := inFileRepo(t)
	a := run(t, Options{Dir: r.dir, BaselineSet: true}).Analysis
	port := dimension(t, a, "port")
	for _, tc := range []struct {
		variant, metric string
		value, core     float64
	}{
		// CAN: #ifdef, the four lines of can_send, #else and #endif. Core:
		// core(), can_stub() and tail; bus() is the dimension's, no one's.
		// The Go files (14 lines) are core too.
		{"CAN", "lines_of_code", 8, 17},
		{"CAN", "cyclomatic_complexity", 2, 2},
		{"CAN", "function_count", 1, 2},
		{"stm32", "lines_of_code", 10, 17},
	} {
		t.Run(tc.variant+"/"+tc.metric, func(t *testing.T) {
			vm := variantMetric(t, port, tc.variant, tc.metric)
			if vm.Value != tc.value || vm.Core != tc.core {
				t.Errorf("value %v core %v, want %v and %v", vm.Value, vm.Core, tc.value, tc.core)
			}
		})
	}
	for _, m := range port.Metrics {
		if m.Name == "lines_of_code" && (m.Total != 38 || m.Share != variant.Round2(100*21.0/38)) {
			t.Errorf("lines_of_code total %v share %v, want 38 and %.2f", m.Total, m.Share, 100*21.0/38)
		}
	}
	if len(port.Variants) != 2 {
		t.Errorf("variants %v, want CAN and stm32 (USB has no code of its own)", port.Variants)
	}
	// The shared file's variant code is listed with its blocks.
	var can *variant.SharedFileCode
	for i, c := range port.InFile {
		if c.Path == "core/main.c" && slices.Equal(c.Variants, []string{"CAN"}) {
			can = &port.InFile[i]
		}
	}
	if can == nil || can.Lines != 8 || !slices.Equal(can.Blocks, []variant.CodeLocation{{StartLine: 2, EndLine: 8}, {StartLine: 10, EndLine: 10}}) {
		t.Errorf("in-file code of CAN: %+v (all: %+v)", can, port.InFile)
	}

	platform := dimension(t, a, "platform")
	for _, tc := range []struct {
		variant     string
		value, core float64
	}{{"linux", 4, 32}, {"windows", 2, 32}, {"amd64", 2, 32}} { // core: 8 Go lines, 24 C
		if vm := variantMetric(t, platform, tc.variant, "lines_of_code"); vm.Value != tc.value || vm.Core != tc.core {
			t.Errorf("%s: value %v core %v, want %v and %v", tc.variant, vm.Value, vm.Core, tc.value, tc.core)
		}
	}
	if len(platform.Variants) != 3 {
		t.Errorf("platform variants %v: linux || darwin makes neither a variant", platform.Variants)
	}
}

// TestInFileCache measures each content once, and again when the
// conditions change.
func TestInFileCache(t *testing.T) {
	r := inFileRepo(t)
	cache := t.TempDir() + "/cache"
	first := run(t, Options{Dir: r.dir, CachePath: cache, BaselineSet: true})
	second := run(t, Options{Dir: r.dir, CachePath: cache, BaselineSet: true})
	if second.Stats.Measured != 0 {
		t.Errorf("second run measured %d files", second.Stats.Measured)
	}
	a, b := dimension(t, first.Analysis, "port"), dimension(t, second.Analysis, "port")
	if variantMetric(t, a, "CAN", "lines_of_code") != variantMetric(t, b, "CAN", "lines_of_code") || len(b.InFile) != len(a.InFile) {
		t.Errorf("cached figures differ: %+v then %+v", a, b)
	}
	if variantMetric(t, dimension(t, second.Analysis, "platform"), "linux", "lines_of_code").Value != 4 {
		t.Error("build tags lost in the cache")
	}
	if vm := variantMetric(t, b, "CAN", "dependencies"); vm.Value != 1 {
		t.Errorf("CAN's #include lost in the cache: %+v", vm)
	}
	r.write(PolicyFile, strings.Replace(inFilePolicy, `["CONFIG_{variant}"]`, `["CONFIG_{variant}", "HAVE_{variant}"]`, 1))
	third := run(t, Options{Dir: r.dir, CachePath: cache, BaselineSet: true})
	if third.Stats.Measured == 0 {
		t.Error("new conditions, yet nothing measured")
	}
}

// TestBrokenCondition names the file and line of an #if that cannot be
// parsed, when it reads a variant's macro.
func TestBrokenCondition(t *testing.T) {
	r := inFileRepo(t)
	r.write("core/bad.c", "int a;\n#if (defined(CONFIG_CAN)\nint b;\n#endif\n")
	r.write("core/other.c", "#if (FOO\nint b;\n#endif\nint CONFIG_x;\n") // no variant macro in the condition: undecided
	_, err := Run(t.Context(), Options{Dir: r.dir, NoCache: true, BaselineSet: true})
	if err == nil || !strings.Contains(err.Error(), "core/bad.c:2:") {
		t.Fatalf("err = %v, want one naming core/bad.c:2", err)
	}
	r.remove("core/bad.c")
	r.write("core/unbalanced.c", "int CONFIG_a;\n#endif\n")
	_, err = Run(t.Context(), Options{Dir: r.dir, NoCache: true, BaselineSet: true})
	if err == nil || !strings.Contains(err.Error(), "core/unbalanced.c:2: #endif without #if") {
		t.Fatalf("err = %v, want one naming core/unbalanced.c:2", err)
	}
}
