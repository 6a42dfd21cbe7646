package handlers

import "testing"

func TestSafeNextStaysOnSite(t *testing.T) {
	tests := []struct{ next, want string }{
		{"https://evil.test/", "/"},
		{"//evil.test/", "/"},
		{"/\\evil.test", "/"},
		{"/\t/evil.test", "/"},
		{"", "/"},
		{"ccb", "/"},
		{"/ccb/4?x=1", "/ccb/4?x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			if got := safeNext(tt.next); got != tt.want {
				t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
			}
		})
	}
}
