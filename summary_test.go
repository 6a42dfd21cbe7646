package budgetgate

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSummarize(t *testing.T) {
	items := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", s, i)
		}
		return out
	}
	tests := []struct {
		name  string
		items []string
		limit int
		want  string
	}{
		{"nothing", nil, 10, ""},
		{"all fit", items(3, "v"), 100, "v0; v1; v2"},
		{"exactly fits", items(3, "v"), len("v0; v1; v2"), "v0; v1; v2"},
		{"the tail keeps its room", items(8, "v"), 24, "v0; v1; v2; and 5 more"},
		{"the tail keeps its room, one less", items(8, "v"), 21, "v0; v1; and 6 more"},
		{"one too long", []string{strings.Repeat("x", 50)}, 10, "1 items"},
		{"worst first stays first", []string{"worst", "bbbbbb", "cccccc", "dddddd"}, 19, "worst; and 3 more"},
		{"characters, not bytes", []string{"éééé", "éééé"}, 10, "éééé; éééé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.items, tt.limit)
			if got != tt.want {
				t.Errorf("Summarize = %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.limit {
				t.Errorf("%d characters, limit %d", n, tt.limit)
			}
		})
	}
	t.Run("never over the limit", func(t *testing.T) {
		for n := 0; n < 300; n += 7 {
			for limit := 5; limit < 400; limit += 13 {
				if got := Summarize(items(n, "violation/"), limit); utf8.RuneCountInString(got) > limit {
					t.Fatalf("%d items, limit %d: %d characters", n, limit, utf8.RuneCountInString(got))
				}
			}
		}
	})
}
