package views

import (
	"strings"
	"testing"
)

func diffText(lines []DiffLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(string(l.Op) + l.Text + "\n")
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"one line changed", "service: search\nslo_target: 99.5\nwindow: 28d\n", "service: search\nslo_target: 99.0\nwindow: 28d\n",
			" service: search\n-slo_target: 99.5\n+slo_target: 99.0\n window: 28d\n"},
		{"line added at the end", "a\nb\n", "a\nb\nc\n", " a\n b\n+c\n"},
		{"line removed at the start", "a\nb\n", "b\n", "-a\n b\n"},
		{"from nothing", "", "a\n", "+a\n"},
		{"a missing final newline is no change", "a\nb", "a\nb\n", ""},
		{"far context left out", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
			"…6 unchanged lines left out\n 7\n 8\n 9\n-10\n+ten\n"},
		{"two changes apart", "a\n1\n2\n3\n4\n5\n6\n7\n8\nb\n", "A\n1\n2\n3\n4\n5\n6\n7\n8\nB\n",
			"-a\n+A\n 1\n 2\n 3\n…2 unchanged lines left out\n 6\n 7\n 8\n-b\n+B\n"},
		{"CRLF against LF is no change", "a\r\nb\r\n", "a\nb\n", ""},
		{"moved line", "x\ny\nz\n", "y\nz\nx\n", "-x\n y\n z\n+x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diffText(LineDiff(tt.a, tt.b)); got != tt.want {
				t.Errorf("LineDiff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestLineDiffLargeTexts: two large texts with nothing in common are
// diffed without the quadratic table, and still correctly.
func TestLineDiffLargeTexts(t *testing.T) {
	a := strings.Repeat("a\n", 3000)
	b := strings.Repeat("b\n", 3000)
	lines := LineDiff(a, b)
	var del, add int
	for _, l := range lines {
		switch l.Op {
		case '-':
			del++
		case '+':
			add++
		}
	}
	if del != 3000 || add != 3000 {
		t.Errorf("removed %d, added %d; want 3000 each", del, add)
	}
}
