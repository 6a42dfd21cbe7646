package handlers

import (
	"testing"
)

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"truck": "truck", "=cmd()": "'=cmd()", "+1": "'+1", "-x": "'-x", "@a": "'@a", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
