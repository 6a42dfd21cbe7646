package main

import "testing"

func TestMetricsModeFlag(t *testing.T) {
	for _, tt := range []struct {
		mode string
		ok   bool
	}{{"public", true}, {"token", true}, {"off", true}, {"", false}, {"Public", false}, {"private", false}} {
		t.Run(tt.mode, func(t *testing.T) {
			err := (&opsConfig{metrics: tt.mode}).validate()
			if (err == nil) != tt.ok {
				t.Errorf("--metrics %q: %v, want ok=%v", tt.mode, err, tt.ok)
			}
		})
	}
}
