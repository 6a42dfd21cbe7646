package analyze

import (
	"slices"
	"testing"
)

// TestDependencies counts what each variant imports that core does not,
// an #include inside a variant's conditional included.
func TestDependencies(t *testing.T) {
	r := newRepo(t)
	r.write(PolicyFile, `project: fw
dimensions:
  port:
    variants: ["ports/{variant}/**"]
    conditions: ["CONFIG_{variant}"]
port_budget: {hard_limit: 100, soft_limit: 100, metrics: [dependencies]}
`)
	r.write("core/main.c", "#include <stdio.h>\n#include <string.h>\n#ifdef CONFIG_CAN\n#include <linux/can.h>\n#include <stdio.h>\n#endif\n#include \"local.h\"\nint x;\n")
	r.write("ports/stm32/board.c", "#include <stdio.h>\n#include <stm32f4xx.h>\n#include <hal.h>\nint y;\n")
	r.write("ports/esp32/board.c", "#include <string.h>\nint z;\n")
	r.write("core/tool.py", "import os\nfrom collections import abc\n")
	r.write("core/tool_test.py", "import pytest\n") // a test: no code dependency
	r.commit("fw")
	a := run(t, Options{Dir: r.dir, NoCache: true, BaselineSet: true}).Analysis
	d := dimension(t, a, "port")
	for _, tc := range []struct {
		variant string
		value   float64
		own     []string
	}{
		{"CAN", 1, []string{"linux/can.h"}},
		{"stm32", 2, []string{"hal.h", "stm32f4xx.h"}},
		{"esp32", 0, nil},
	} {
		vm := variantMetric(t, d, tc.variant, "dependencies")
		// Core: stdio.h, string.h, os, collections.
		if vm.Value != tc.value || vm.Core != 4 {
			t.Errorf("%s: value %v core %v, want %v and 4", tc.variant, vm.Value, vm.Core, tc.value)
		}
		for _, v := range d.Variants {
			if v.Name == tc.variant && !slices.Equal(v.Dependencies, tc.own) {
				t.Errorf("%s's own dependencies %v, want %v", tc.variant, v.Dependencies, tc.own)
			}
		}
	}
}
