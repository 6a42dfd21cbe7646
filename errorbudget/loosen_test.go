package errorbudget

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// loosenBase is a policy whose every rule the cases below change one at a
// time: {{target}}, {{warning}} (the warning gate's extra lines), {{crit}}
// (critical's criteria), {{wcrit}} (warning's), {{extra}} (top-level lines) and {{exc}}
// (exceptions).
const loosenBase = `service: search
slo_target: {{target}}
window: 28d
{{extra}}
policy:
  gates:
    healthy:
      criteria: [budget_remaining >= 50%, burn_rate < 1.5x]
    attention:
      criteria: [budget_remaining >= 25% AND < 50%, burn_rate >= 1.5x AND < 2.0x]
    warning:
      criteria: [{{wcrit}}]
{{warning}}
    critical:
      criteria: [{{crit}}]
    exhausted:
      criteria: [budget_remaining <= 0%]
  exceptions:
{{exc}}
`

type policyKnobs struct {
	target, warning, wcrit, crit, extra, exc string
}

func (k policyKnobs) build(t *testing.T) *Policy {
	t.Helper()
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	src := strings.NewReplacer(
		"{{target}}", or(k.target, "99.5"),
		"{{warning}}", or(k.warning, "      min_budget_pct: 10\n      max_burn_rate: 3.0\n      allowed_risk_levels: [low]\n      allowed_release_types: [bugfix]"),
		"{{wcrit}}", or(k.wcrit, "budget_remaining >= 10% AND < 25%, burn_rate >= 2.0x AND < 5.0x"),
		"{{crit}}", or(k.crit, "budget_remaining < 10%, burn_rate >= 5.0x"),
		"{{extra}}", or(k.extra, "on_no_data: deny"),
		"{{exc}}", or(k.exc, "    - {type: rollback, override: always_allow}"),
	).Replace(loosenBase)
	return mustParse(t, src)
}

func TestLoosenings(t *testing.T) {
	tests := []struct {
		name string
		next policyKnobs
		want []string // empty: takes effect at once
	}{
		{"same policy", policyKnobs{}, nil},
		{"description only", policyKnobs{extra: "on_no_data: deny\ndescription: reworded"}, nil},
		{"objective lowered (99.5 to 99.0)", policyKnobs{target: "99.0"}, []string{"objective lowered from 99.5% to 99.0%"}},
		{"objective raised", policyKnobs{target: "99.9"}, nil},
		{"min_budget_pct lowered", policyKnobs{warning: "      min_budget_pct: 5\n      max_burn_rate: 3.0\n      allowed_risk_levels: [low]\n      allowed_release_types: [bugfix]"},
			[]string{"warning: min_budget_pct lowered from 10 to 5"}},
		{"min_budget_pct raised", policyKnobs{warning: "      min_budget_pct: 15\n      max_burn_rate: 3.0\n      allowed_risk_levels: [low]\n      allowed_release_types: [bugfix]"}, nil},
		{"max_burn_rate raised", policyKnobs{warning: "      min_budget_pct: 10\n      max_burn_rate: 4.5\n      allowed_risk_levels: [low]\n      allowed_release_types: [bugfix]"},
			[]string{"warning: max_burn_rate raised from 3.0 to 4.5"}},
		{"max_burn_rate lowered", policyKnobs{warning: "      min_budget_pct: 10\n      max_burn_rate: 2.5\n      allowed_risk_levels: [low]\n      allowed_release_types: [bugfix]"}, nil},
		{"risk level added", policyKnobs{warning: "      min_budget_pct: 10\n      max_burn_rate: 3.0\n      allowed_risk_levels: [low, medium]\n      allowed_release_types: [bugfix]"},
			[]string{"warning: allowed_risk_levels adds medium"}},
		{"risk level removed", policyKnobs{warning: "      min_budget_pct: 10\n      max_burn_rate: 3.0\n      allowed_risk_levels: []\n      allowed_release_types: [bugfix]"}, nil},
		{"release type added", policyKnobs{warning: "      min_budget_pct: 10\n      max_burn_rate: 3.0\n      allowed_risk_levels: [low]\n      allowed_release_types: [bugfix, feature]"},
			[]string{"warning: allowed_release_types adds feature"}},
		{"release type removed", policyKnobs{warning: "      min_budget_pct: 10\n      max_burn_rate: 3.0\n      allowed_risk_levels: [low]\n      allowed_release_types: []"}, nil},
		{"critical reached later by budget (< 10% to < 5%)", policyKnobs{crit: "budget_remaining < 5%, burn_rate >= 5.0x", wcrit: "budget_remaining >= 5% AND < 25%, burn_rate >= 2.0x AND < 5.0x"},
			[]string{"critical is harder to reach: budget_remaining < 10% becomes budget_remaining < 5%"}},
		{"critical reached sooner by budget (< 10% to < 15%)", policyKnobs{crit: "budget_remaining < 15%, burn_rate >= 5.0x", wcrit: "budget_remaining >= 15% AND < 25%, burn_rate >= 2.0x AND < 5.0x"}, nil},
		{"critical at 10% inclusive is easier", policyKnobs{crit: "budget_remaining <= 10%, burn_rate >= 5.0x", wcrit: "budget_remaining > 10% AND < 25%, burn_rate >= 2.0x AND < 5.0x"}, nil},
		{"critical reached later by burn (5x to 8x)", policyKnobs{crit: "budget_remaining < 10%, burn_rate >= 8.0x", wcrit: "budget_remaining >= 10% AND < 25%, burn_rate >= 2.0x AND < 8.0x"},
			[]string{"critical is harder to reach: burn_rate >= 5.0x becomes burn_rate >= 8.0x"}},
		{"critical at 5x exclusive is harder", policyKnobs{crit: "budget_remaining < 10%, burn_rate > 5.0x", wcrit: "budget_remaining >= 10% AND < 25%, burn_rate >= 2.0x AND <= 5.0x"},
			[]string{"critical is harder to reach: burn_rate >= 5.0x becomes burn_rate > 5.0x"}},
		{"new always-allowed exception", policyKnobs{exc: "    - {type: rollback, override: always_allow}\n    - {type: bugfix, override: always_allow}"},
			[]string{"new exception: bugfix releases always allowed"}},
		{"exception added beside the old one", policyKnobs{exc: "    - {type: slo_improvement, override: always_allow}\n    - {type: rollback, override: always_allow}"},
			[]string{"new exception: slo_improvement releases always allowed"}},
		{"exception removed", policyKnobs{exc: "    []"}, nil},
		{"on_no_data allow", policyKnobs{extra: "on_no_data: allow"}, []string{"on_no_data changed to allow: releases pass without SLI data"}},
		{"several at once, in a stable order", policyKnobs{target: "99", extra: "on_no_data: allow"},
			[]string{"objective lowered from 99.5% to 99.0%", "on_no_data changed to allow: releases pass without SLI data"}},
	}
	prev := policyKnobs{}.build(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Loosenings(prev, tt.next.build(t))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Loosenings = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestSLOLoosenings: with several SLOs, each is compared with the one of
// the same name; one removed loosens, one added does not.
func TestSLOLoosenings(t *testing.T) {
	const slos = `service: checkout
slos:
  - {name: availability, objective: 99.9, window: 30d}
  - {name: latency, objective: %s, window: 28d}
%s`
	build := func(latency, more string) *Policy {
		return mustParse(t, fmt.Sprintf(slos, latency, more))
	}
	// pulled is a freshness SLO pulled from Prometheus with the bad query
	// and max_staleness ("" for the server's default) given.
	pulled := func(bad, staleness string) string {
		s := "  - name: freshness\n    objective: 95\n    window: 7d\n    sli:\n      prometheus:\n        bad: " + bad + "\n        total: sum(rate(all[{{.window}}]))\n"
		if staleness != "" {
			s += "        max_staleness: " + staleness + "\n"
		}
		return s
	}
	tests := []struct {
		name string
		prev *Policy
		next *Policy
		want []string
	}{
		{"unchanged", build("99", ""), build("99", ""), nil},
		{"one objective lowered", build("99", ""), build("98.5", ""), []string{"SLO latency: objective lowered from 99.0% to 98.5%"}},
		{"one objective raised", build("99", ""), build("99.5", ""), nil},
		{"an SLO added", build("99", ""), build("99", "  - {name: freshness, objective: 95, window: 7d}\n"), nil},
		{"an SLO removed", build("99", "  - {name: freshness, objective: 95, window: 7d}\n"), build("99", ""), []string{"SLO freshness removed"}},
		{"from one objective to named SLOs", mustParse(t, "service: checkout\nslo_target: 99.9\n"), build("99", ""), []string{"SLO default removed"}},
		{"a posted SLO becomes pulled", build("99", ""), build("99", pulled("sum(rate(bad[{{.window}}]))", "")), nil},
		{"a pulled SLO becomes posted", build("99", pulled("sum(rate(bad[{{.window}}]))", "")), build("99", "  - {name: freshness, objective: 95, window: 7d}\n"),
			[]string{"SLO freshness: SLI no longer pulled from Prometheus (its counts could then be posted)"}},
		{"its bad query changed", build("99", pulled("sum(rate(bad[{{.window}}]))", "")), build("99", pulled("vector(0)", "")), []string{"SLO freshness: SLI queries or source changed"}},
		{"max_staleness raised", build("99", pulled("sum(rate(bad[{{.window}}]))", "10m")), build("99", pulled("sum(rate(bad[{{.window}}]))", "720h")),
			[]string{"SLO freshness: max_staleness changed from 10m to 720h"}},
		{"max_staleness lowered", build("99", pulled("sum(rate(bad[{{.window}}]))", "10m")), build("99", pulled("sum(rate(bad[{{.window}}]))", "5m")), nil},
		{"max_staleness back to the server's default", build("99", pulled("sum(rate(bad[{{.window}}]))", "5m")), build("99", pulled("sum(rate(bad[{{.window}}]))", "")),
			[]string{"SLO freshness: max_staleness changed from 5m to the server's default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Loosenings(tt.prev, tt.next); !slices.Equal(got, tt.want) {
				t.Errorf("Loosenings = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestTighteningBackIsNotLoosening: undoing a loosening change is a
// tightening one, and a first policy loosens nothing.
func TestTighteningBackIsNotLoosening(t *testing.T) {
	strict := policyKnobs{}.build(t)
	loose := policyKnobs{target: "99.0", extra: "on_no_data: allow"}.build(t)
	if got := Loosenings(loose, strict); len(got) != 0 {
		t.Errorf("back to the stricter policy: %q, want none", got)
	}
	if got := Loosenings(nil, loose); len(got) != 0 {
		t.Errorf("first policy: %q, want none", got)
	}
}

func TestEntryCovers(t *testing.T) {
	th := func(op string, v float64) *Threshold { return &Threshold{Op: op, Value: v} }
	tests := []struct {
		name       string
		next, prev *Threshold
		want       bool
	}{
		{"nothing before", th("<", 5), nil, true},
		{"bound dropped", nil, th("<", 10), false},
		{"upper: higher covers", th("<", 12), th("<", 10), true},
		{"upper: lower does not", th("<", 8), th("<", 10), false},
		{"upper: inclusive covers strict", th("<=", 10), th("<", 10), true},
		{"upper: strict loses the value", th("<", 10), th("<=", 10), false},
		{"lower: lower covers", th(">=", 4), th(">=", 5), true},
		{"lower: higher does not", th(">=", 6), th(">=", 5), false},
		{"lower: strict loses the value", th(">", 5), th(">=", 5), false},
		{"lower: same strict", th(">", 5), th(">", 5), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := entryCovers(tt.next, tt.prev); got != tt.want {
				t.Errorf("entryCovers = %v, want %v", got, tt.want)
			}
		})
	}
}
