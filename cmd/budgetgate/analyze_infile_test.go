package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate/variant"
)

// canRepo has a shared driver file whose CAN code sits in #ifdef CONFIG_CAN.
func canRepo(t *testing.T) string {
	return repoWith(t, map[string]string{
		".budgetgate.yaml": `project: fw
dimensions:
  bus:
    conditions: ["CONFIG_{variant}"]
bus_budget: {hard_limit: 50, soft_limit: 10, metrics: [lines_of_code, dependencies]}
`,
		"drivers/can.c": "int core(void) { return 0; }\nint more;\nint again;\n#ifdef CONFIG_CAN\nint can_send(int x) {\n\treturn x;\n}\n#endif\n",
		"drivers/usb.c": "#include <stdio.h>\n#ifdef CONFIG_USB\n#include <libusb.h>\n#endif\n",
	})
}

func TestAnalyzeShowsVariantCodeInSharedFiles(t *testing.T) {
	dir := canRepo(t)
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{"table", []string{
			"variant code in 2 shared file parts:",
			"drivers/can.c: CAN, 5 lines (lines 4-8)",
			"USB depends alone on: libusb.h",
			"move the conditional blocks of CAN in drivers/can.c (lines 4-8) into a variant file: the shared file loses 5 lines (CAN stays at 55.56%)",
		}},
		{"markdown", []string{
			"bus: variant code in shared files (2)",
			"| `drivers/can.c` | CAN | 5 | 4-8 |",
			"move the conditional blocks of CAN in drivers/can.c",
			"- **USB**: `libusb.h`",
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			_, out, stderr := runAnalyzeCmd(t, dir, "--format", tc.format)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, stderr)
				}
			}
		})
	}
	_, out, _ := runAnalyzeCmd(t, dir, "--format", "json")
	var a variant.Analysis
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Dimensions) != 1 || len(a.Dimensions[0].InFile) != 2 || a.Dimensions[0].InFile[0].Path != "drivers/can.c" || a.Dimensions[0].InFile[0].Lines != 5 {
		t.Errorf("JSON in_file: %+v", a.Dimensions)
	}
}

func TestAnalyzeCoverage(t *testing.T) {
	dir := canRepo(t)
	lcov := filepath.Join(t.TempDir(), "lcov.info")
	// core() ran; CAN's can_send (lines 5-7) did not.
	os.WriteFile(lcov, []byte("SF:drivers/can.c\nDA:1,1\nDA:5,0\nDA:6,0\nend_of_record\n"), 0o644)
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{"table", []string{
			"Line coverage (1 code files (4 lines) are in no coverage report: unmeasured, not uncovered):",
			"bus: core 100.00% (1 lines unmeasured), CAN 0.00%, USB unmeasured",
		}},
		{"markdown", []string{"### Line coverage", "| bus | 100.00% (1 lines unmeasured) | CAN 0.00%, USB unmeasured |"}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			_, out, stderr := runAnalyzeCmd(t, dir, "--format", tc.format, "--coverage", lcov)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, stderr)
				}
			}
		})
	}
	if code, _, stderr := runAnalyzeCmd(t, dir, "--coverage", filepath.Join(t.TempDir(), "missing")); code != 2 || !strings.Contains(stderr, "--coverage") {
		t.Errorf("missing report: exit %d, %s", code, stderr)
	}
}
