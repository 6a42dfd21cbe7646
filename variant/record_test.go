package variant

import "testing"

// TestOnBaseline: which posted analyses count as the baseline branch's.
func TestOnBaseline(t *testing.T) {
	tests := []struct {
		name string
		a    Analysis
		want bool
	}{
		{"compared with nothing", Analysis{Commit: "c1", Baseline: "main"}, true},
		{"compared with itself", Analysis{Commit: "c1", Baseline: "main", BaselineCommit: "c1"}, true},
		{"main against its last release", Analysis{Commit: "c1", Baseline: "v1.3", BaselineCommit: "t1", TrendRef: "v1.3"}, true},
		{"a change against main, with a release", Analysis{Commit: "c1", Baseline: "main", BaselineCommit: "m1", TrendRef: "v1.3"}, false},
		{"a change against main, no release", Analysis{Commit: "c1", Baseline: "main", BaselineCommit: "m1", TrendRef: "main"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.OfBaseline(); got != tt.want {
				t.Errorf("OfBaseline = %v, want %v", got, tt.want)
			}
		})
	}
}
