package handlers

import (
	"math"
	"testing"
)

func TestExpositionEscapesAndFormats(t *testing.T) {
	tests := []struct {
		name   string
		value  float64
		labels []string
		want   string
	}{
		{"no labels", 75, nil, "m 75\n"},
		{"fraction", 0.25, []string{"window", "6h"}, `m{window="6h"} 0.25` + "\n"},
		{"large", 1e6, nil, "m 1e+06\n"},
		{"quote, backslash and newline", 1, []string{"project", "a\"b\\c\nd"}, `m{project="a\"b\\c\nd"} 1` + "\n"},
		{"two labels", 0, []string{"service", "api", "status", "healthy"}, `m{service="api",status="healthy"} 0` + "\n"},
		{"infinity", math.Inf(1), nil, "m +Inf\n"},
		{"minus infinity", math.Inf(-1), nil, "m -Inf\n"},
		{"not a number", math.NaN(), nil, "m NaN\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x Exposition
			x.Family("m", "gauge", "help")
			x.Sample("", tt.value, tt.labels...)
			want := "# HELP m help\n# TYPE m gauge\n" + tt.want
			if got := string(x.Bytes()); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	var x Exposition
	x.Family("h", "histogram", "a\\b\nc")
	x.Sample("_count", 3)
	if got, want := string(x.Bytes()), "# HELP h a\\\\b\\nc\n# TYPE h histogram\nh_count 3\n"; got != want {
		t.Errorf("help and suffix: got %q, want %q", got, want)
	}
}
