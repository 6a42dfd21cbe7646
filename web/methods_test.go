package web

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
)

// TestWrongMethodIs405: a path served under other methods answers 405 with
// Allow, whoever asks (nobody, a token, a signed-in admin), before sign-in,
// CSRF or token checks can answer for it.
func TestWrongMethodIs405(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	admin := h.agent(t, member("admin", budgetgate.RoleAdmin, budgetgate.RoleCCB, budgetgate.RoleSRE))
	nobody := &agent{h: h}
	tests := []struct {
		method, path, allow string
	}{
		{"DELETE", "/api/v1/services", "GET"},
		{"GET", "/api/v1/services/ledger/sli", "POST"},
		{"POST", "/api/v1/services/ledger/status", "GET"},
		{"POST", "/api/v1/services/ledger/policy", "PUT"},
		{"PUT", "/api/v1/releases/evaluate", "POST"},
		{"DELETE", "/api/v1/decisions/1", "GET"},
		{"PUT", "/api/v1/exceptions", "GET, POST"},
		{"GET", "/api/v1/exceptions/1/cancel", "POST"},
		{"POST", "/api/v1/exceptions/1/plan", "PUT"},
		{"GET", "/api/v1/budget/analyze", "POST"},
		{"POST", "/api/v1/budget/gate", "GET"},
		{"POST", "/", "GET"},
		{"POST", "/services/ledger", "GET"},
		{"DELETE", "/policies", "GET, POST"},
		{"PUT", "/ccb", "GET, POST"},
		{"DELETE", "/ccb/1", "GET"},
		{"GET", "/ccb/1/votes", "POST"},
		{"GET", "/ccb/1/cancel", "POST"},
		{"POST", "/audit", "GET"},
		{"DELETE", "/tokens", "GET, POST"},
		{"GET", "/tokens/1/revoke", "POST"},
		{"POST", "/login", "GET"},
		{"POST", "/auth/callback", "GET"},
		{"GET", "/logout", "POST"},
		{"POST", "/health", "GET"},
		{"POST", "/ready", "GET"},
		{"POST", "/violations", "GET"},
		{"POST", "/projects/fleet-core", "GET"},
	}
	for _, who := range []struct {
		name   string
		a      *agent
		header []string
	}{
		{"nobody", nobody, nil},
		{"token", nobody, []string{"Authorization", "Bearer " + h.Token}},
		{"admin", admin, []string{"X-CSRF-Token", admin.CSRF}},
	} {
		for _, tt := range tests {
			t.Run(who.name+" "+tt.method+" "+tt.path, func(t *testing.T) {
				resp, body := who.a.do(t, tt.method, tt.path, "application/json", strings.NewReader("{}"), who.header...)
				if resp.StatusCode != http.StatusMethodNotAllowed {
					t.Fatalf("%d %.200s; want 405", resp.StatusCode, body)
				}
				if got := allowSet(resp.Header.Get("Allow")); got != allowSet(tt.allow) {
					t.Errorf("Allow %q; want %q", resp.Header.Get("Allow"), tt.allow)
				}
			})
		}
	}
}

// allowSet normalises an Allow header for comparison: HEAD and OPTIONS,
// which some routers add, are left out, and the order does not matter.
func allowSet(s string) string {
	var out []string
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if m != "" && m != "OPTIONS" && m != "HEAD" {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
