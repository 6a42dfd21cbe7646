package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyCheckImports: `budgetgate policy check` reads Sloth and OpenSLO
// files as the policies they make under the default rules, and refuses
// what budgetgate does not support naming file, line and column.
func TestPolicyCheckImports(t *testing.T) {
	dir := t.TempDir()
	unsupported := filepath.Join(dir, "timeslices.yaml")
	os.WriteFile(unsupported, []byte("apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: a\nspec:\n  service: b\n  budgetingMethod: Timeslices\n"), 0o644)
	for _, tt := range []struct {
		file string
		code int
		want []string
	}{
		{"../../sloimport/testdata/sloth-getting-started.yml", exitOK, []string{
			"valid sloth, service checkout, version sha256:", "name: requests-availability", "objective: 99.9", "window: 30d",
			"bad: sum(rate(http_request_duration_seconds_count", "min_budget_pct: 50"}},
		{"../../sloimport/testdata/openslo-v1-inline.yml", exitOK, []string{
			"valid openslo, service web-shop, version sha256:", "name: main-page", "objective: 99.5", "window: 28d", "good: sum(rate("}},
		{unsupported, exitError, []string{"timeslices.yaml:7:20", "spec.budgetingMethod Timeslices is not supported"}},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			code, out := runCLI(t, "policy", "check", tt.file)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
