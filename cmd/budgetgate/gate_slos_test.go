package main

import (
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// The Budget line reads as it always has for a service with one SLO, and
// names the deciding SLO of a service with several.
func TestPrintDecisionNamesTheDecidingSLO(t *testing.T) {
	latency := errorbudget.Metrics{SLO: "latency", Status: errorbudget.StatusWarning, RemainingPct: 20, BurnRate: 1.5}
	single := errorbudget.Metrics{SLO: errorbudget.DefaultSLO, Status: errorbudget.StatusHealthy, RemainingPct: 75, BurnRate: 0.4}
	tests := []struct {
		name string
		dec  errorbudget.Decision
		want string
	}{
		{"one SLO", errorbudget.Decision{ID: 1, Reason: "r", Metrics: single, SLOs: []errorbudget.Metrics{single}, PolicyVersion: "sha256:x"},
			"Budget: healthy, 75.0% remaining, burn rate 0.40x (decision 1, policy sha256:x)\n"},
		{"three SLOs", errorbudget.Decision{ID: 2, Reason: "r", Metrics: latency, SLOs: []errorbudget.Metrics{{SLO: "availability"}, latency, {SLO: "freshness"}}, PolicyVersion: "sha256:y"},
			"Budget (worst of 3 SLOs: latency): warning, 20.0% remaining, burn rate 1.50x (decision 2, policy sha256:y)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			printDecision(&out, &tt.dec)
			if !strings.HasSuffix(out.String(), tt.want) {
				t.Errorf("printed\n%s\nwant it to end with\n%s", out.String(), tt.want)
			}
		})
	}
}
