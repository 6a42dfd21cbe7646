package handlers

import (
	"testing"

	"github.com/budgetgate/budgetgate/variant"
)

// TestOnBaseline: which posted analyses count as the baseline branch's.
func TestOnBaseline(t *testing.T) {
	tests := []struct {
		name string
		a    variant.Analysis
		want bool
	}{
		{"compared with nothing", variant.Analysis{Commit: "c1", Baseline: "main"}, true},
		{"compared with itself", variant.Analysis{Commit: "c1", Baseline: "main", BaselineCommit: "c1"}, true},
		{"main against its last release", variant.Analysis{Commit: "c1", Baseline: "v1.3", BaselineCommit: "t1", TrendRef: "v1.3"}, true},
		{"a change against main, with a release", variant.Analysis{Commit: "c1", Baseline: "main", BaselineCommit: "m1", TrendRef: "v1.3"}, false},
		{"a change against main, no release", variant.Analysis{Commit: "c1", Baseline: "main", BaselineCommit: "m1", TrendRef: "main"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := onBaseline(&tt.a); got != tt.want {
				t.Errorf("onBaseline = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"truck": "truck", "=cmd()": "'=cmd()", "+1": "'+1", "-x": "'-x", "@a": "'@a", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
