package lang

import (
	"strings"
	"testing"
)

// TestMeasureSplitAddsUp holds every scanner's split to its totals: the
// buckets add up to what Measure counts, whatever the lines' buckets.
func TestMeasureSplitAddsUp(t *testing.T) {
	src := []byte(strings.Join(fuzzSeeds, "\n") + "\nfunc TestX(t *testing.T) { if a && b { type ( A int ) } }\n" +
		"class A { void f() { if (x) {} } }\ndef test_f():\n  if x: pass\n")
	lines := CountLines(src)
	for _, l := range Languages() {
		split := &Split{Line: make([]int32, lines), Counts: make([]Counts, 3)}
		for i := range split.Line {
			split.Line[i] = int32(i % 3)
		}
		total := MeasureSplit(l, src, true, WantAll, split)
		var sum Counts
		for _, c := range split.Counts {
			sum.Add(c)
		}
		if sum != total || total != Measure(l, src, true, WantAll) {
			t.Errorf("%s: buckets add up to %+v, total %+v", l, sum, total)
		}
	}
}

// TestMeasureSplitC attributes a C function, its decisions and its lines
// to the bucket of the lines it is on.
func TestMeasureSplitC(t *testing.T) {
	src := []byte(`int core(void) { return 0; }
#ifdef CONFIG_CAN
/* the CAN driver */
static int can_send(int x) {
	if (x > 0 && x < 8) {
		return 1;
	}

	return 0;
}
#endif
struct s { int a; };
`)
	split := &Split{Line: []int32{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, Counts: make([]Counts, 2)}
	MeasureSplit(ByName("C"), src, false, WantAll, split)
	want := []Counts{
		{Code: 2, Complexity: 1, Functions: 1, Classes: 1},
		{Code: 8, Comment: 1, Blank: 1, Complexity: 3, Functions: 1},
	}
	for i, w := range want {
		if split.Counts[i] != w {
			t.Errorf("bucket %d: %+v, want %+v", i, split.Counts[i], w)
		}
	}
}
