package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
)

// The ask-the-board form states the release exception's lifetime as the
// server is configured (--ccb-release-expiry), not a fixed default.
func TestCCBQueueShowsConfiguredExpiry(t *testing.T) {
	tests := []struct {
		name        string
		def, max    time.Duration
		want, wrong string
	}{
		{"the defaults", 24 * time.Hour, 7 * 24 * time.Hour, "(default 24h, at most 7d)", ""},
		{"a longer default", 36 * time.Hour, 7 * 24 * time.Hour, "(default 36h, at most 7d)", "default 24h"},
		{"whole days", 3 * 24 * time.Hour, 14 * 24 * time.Hour, "(default 3d, at most 14d)", "default 24h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := ccb.DefaultCCBRules()
			rules.Expiry[ccb.ExceptionRelease] = ccb.ExpiryLimits{Default: tt.def, Max: tt.max}
			h := newHarness(t, harnessOptions{rules: &rules})
			resp, page := h.agent(t, member("viewer-vic", budgetgate.RoleViewer)).get(t, "/ccb")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /ccb: %d", resp.StatusCode)
			}
			if !strings.Contains(page, tt.want) {
				t.Errorf("the form does not say %q", tt.want)
			}
			if tt.wrong != "" && strings.Contains(page, tt.wrong) {
				t.Errorf("the form still says %q", tt.wrong)
			}
		})
	}
}
