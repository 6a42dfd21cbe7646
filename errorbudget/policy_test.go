package errorbudget

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
)

func seedPolicyBytes(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/error_budget_policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := ParsePolicy("policy.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParsePolicy: %v\n%s", err, src)
	}
	return p
}

func TestParsePolicySeed(t *testing.T) {
	data := seedPolicyBytes(t)
	p, err := ParsePolicy("error_budget_policy.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.SLOs[0]; len(p.SLOs) != 1 || p.Service != "api-service" || s.Name != DefaultSLO || s.Objective != 99.9 || s.WindowText != "30d" || s.Window != 30*24*time.Hour {
		t.Errorf("service/SLOs = %q %+v", p.Service, p.SLOs)
	}
	if p.BurnWindowText != "1h" || p.BurnRateWindow != time.Hour || p.OnNoData != "deny" {
		t.Errorf("burn window %q %v, on_no_data %q", p.BurnWindowText, p.BurnRateWindow, p.OnNoData)
	}
	if !strings.HasPrefix(p.Description, "This error budget policy governs release decisions") || p.Description != p.PolicyDescription {
		t.Errorf("description = %q", p.Description)
	}
	if len(p.Objectives) != 3 || p.Objectives[1] != "Balance reliability with feature velocity" {
		t.Errorf("objectives = %q", p.Objectives)
	}
	if !slices.Equal(p.Source, data) {
		t.Error("Source is not the file as given")
	}

	type gateWant struct {
		criteria  []string
		rem, burn *Threshold
		min, max  Number
		risks     []string
		pace      string
		reqs      []string
		actions   int
	}
	inf := math.Inf(1)
	wants := map[Status]gateWant{
		StatusHealthy: {[]string{"budget_remaining >= 50%", "burn_rate < 1.5x"}, nil, nil,
			Number{50, true}, Number{1.5, false}, []string{"low", "medium", "high"}, "normal", nil, 0},
		StatusAttention: {[]string{"budget_remaining >= 25% AND < 50%", "burn_rate >= 1.5x AND < 2.0x"}, &Threshold{"<", 50}, &Threshold{">=", 1.5},
			Number{25, true}, Number{2.0, false}, []string{"low", "medium"}, "cautious",
			[]string{"Enhanced monitoring for 24h post-deploy", "Rollback plan documented"}, 0},
		StatusWarning: {[]string{"budget_remaining >= 10% AND < 25%", "burn_rate >= 2.0x AND < 5.0x"}, &Threshold{"<", 25}, &Threshold{">=", 2},
			Number{10, true}, Number{3.0, false}, []string{"low"}, "minimal",
			[]string{"SRE approval required", "Canary deployment mandatory", "Automated rollback enabled"}, 0},
		StatusCritical: {[]string{"budget_remaining < 10%", "burn_rate >= 5.0x"}, &Threshold{"<", 10}, &Threshold{">=", 5},
			Number{0, true}, Number{inf, false}, []string{}, "frozen", nil, 3},
		StatusExhausted: {[]string{"budget_remaining <= 0%"}, &Threshold{"<=", 0}, nil,
			Number{0, true}, Number{inf, false}, []string{}, "locked", nil, 4},
	}
	for s, w := range wants {
		t.Run(string(s), func(t *testing.T) {
			g := p.Gates[s]
			if g == nil {
				t.Fatal("gate missing")
			}
			var texts []string
			for _, c := range g.Criteria {
				texts = append(texts, c.Text)
			}
			if !slices.Equal(texts, w.criteria) {
				t.Errorf("criteria = %q, want %q", texts, w.criteria)
			}
			if !reflect.DeepEqual(g.EnterRemaining, w.rem) || !reflect.DeepEqual(g.EnterBurn, w.burn) {
				t.Errorf("entry bounds = %v %v, want %v %v", g.EnterRemaining, g.EnterBurn, w.rem, w.burn)
			}
			if g.MinBudgetPct != w.min || g.MaxBurnRate != w.max {
				t.Errorf("min/max = %v/%v, want %v/%v", g.MinBudgetPct, g.MaxBurnRate, w.min, w.max)
			}
			if !slices.Equal(g.AllowedRiskLevels, w.risks) || len(g.AllowedReleaseTypes) != 0 {
				t.Errorf("risk levels %q, release types %q", g.AllowedRiskLevels, g.AllowedReleaseTypes)
			}
			if g.DeploymentPace != w.pace || !slices.Equal(g.AdditionalRequirements, w.reqs) || len(g.Actions) != w.actions {
				t.Errorf("pace %q, requirements %q, %d actions", g.DeploymentPace, g.AdditionalRequirements, len(g.Actions))
			}
			if len(g.AllowedReleases) == 0 {
				t.Error("allowed_releases lost")
			}
		})
	}

	wantExc := map[string]ExceptionRule{
		"critical_security_fix": {"critical_security_fix", "always_allow", []string{"Security team approval", "Accelerated testing"}},
		"slo_improvement":       {"slo_improvement", "always_allow", []string{"Demonstrated SLO improvement", "Minimal blast radius"}},
		"rollback":              {"rollback", "always_allow", []string{"Incident in progress", "Rollback to known good state"}},
	}
	if !reflect.DeepEqual(p.Exceptions, wantExc) {
		t.Errorf("exceptions = %+v", p.Exceptions)
	}
	wantEsc := []Escalation{
		{"budget_25pct", 25, []string{"team_lead", "sre_oncall"}, "review_pending_releases"},
		{"budget_10pct", 10, []string{"team_lead", "sre_oncall", "engineering_manager"}, "defer_non_critical_releases"},
		{"budget_exhausted", 0, []string{"team_lead", "sre_oncall", "engineering_manager", "vp_engineering"}, "feature_freeze_and_postmortem"},
	}
	if !reflect.DeepEqual(p.Escalations, wantEsc) {
		t.Errorf("escalations = %+v", p.Escalations)
	}
	wantRev := []Review{
		{"weekly", "budget_status_review", 7 * 24 * time.Hour},
		{"monthly", "policy_effectiveness_review", 30 * 24 * time.Hour},
		{"quarterly", "slo_target_adjustment_review", 91 * 24 * time.Hour},
	}
	if !reflect.DeepEqual(p.Reviews, wantRev) {
		t.Errorf("reviews = %+v", p.Reviews)
	}
	if !strings.HasPrefix(p.Version, "sha256:") || len(p.Version) != len("sha256:")+64 {
		t.Errorf("version = %q", p.Version)
	}
}

// The reference gate's criteria are exactly the thresholds of docs/BUDGET_MATH.md, Status, so the reference gate policy
// and the default one must classify every figure alike.
func TestStatusOf(t *testing.T) {
	seed, err := ParsePolicy("seed.yaml", seedPolicyBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		remaining, burn float64
		want            Status
	}{
		{100, 0, StatusHealthy},
		{50, 1.49, StatusHealthy},
		{49.999, 0, StatusAttention},
		{50, 1.5, StatusAttention},
		{25, 1.99, StatusAttention},
		{24.999, 0, StatusWarning},
		{80, 2, StatusWarning},
		{10, 4.99, StatusWarning},
		{9.999, 0, StatusCritical},
		{80, 5, StatusCritical},
		{0.001, 1000, StatusCritical},
		{0, 0, StatusExhausted},
		{-20, 0, StatusExhausted},
		{-20, 50, StatusExhausted},
	}
	for _, p := range []*Policy{DefaultPolicy("svc"), seed} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%v/%v", p.Service, tt.remaining, tt.burn), func(t *testing.T) {
				if got := p.StatusOf(tt.remaining, tt.burn); got != tt.want {
					t.Errorf("StatusOf(%v, %v) = %s, want %s", tt.remaining, tt.burn, got, tt.want)
				}
			})
		}
	}
}

// Thresholds come from the criteria, with their operators; a bound the
// criteria leave out keeps its default.
func TestStatusOfCustomCriteria(t *testing.T) {
	p := mustParse(t, `
service: strict
policy:
  gates:
    healthy:
      criteria: ["budget_remaining > 60%", "burn_rate <= 1x"]
    attention:
      criteria: ["budget_remaining > 30% AND <= 60%", "burn_rate > 1x AND <= 2x"]
    warning:
      criteria: ["budget_remaining <= 30%", "burn_rate > 2x"]
    critical:
      criteria: ["budget_remaining < 5%"]
`)
	tests := []struct {
		remaining, burn float64
		want            Status
	}{
		{60.01, 1, StatusHealthy},
		{60, 0, StatusAttention},
		{70, 1.01, StatusAttention},
		{30.001, 2, StatusAttention},
		{30.001, 2.001, StatusWarning},
		{30, 0, StatusWarning},
		{9, 0, StatusWarning},
		{4.9, 0, StatusCritical},
		{70, 5, StatusCritical}, // critical's burn bound is the default >= 5
		{0, 0, StatusExhausted},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%v", tt.remaining, tt.burn), func(t *testing.T) {
			if got := p.StatusOf(tt.remaining, tt.burn); got != tt.want {
				t.Errorf("StatusOf(%v, %v) = %s, want %s", tt.remaining, tt.burn, got, tt.want)
			}
		})
	}
}

func TestParsePolicyErrors(t *testing.T) {
	seed := string(seedPolicyBytes(t))
	seedLines := strings.Split(seed, "\n")
	lineOf := func(s string) int {
		t.Helper()
		i := slices.Index(seedLines, s)
		if i < 0 {
			t.Fatalf("seed has no line %q", s)
		}
		return i + 1
	}
	// insertAfter puts extra after the reference gate line after (1-based numbers).
	insertAfter := func(after int, extra string) string {
		out := slices.Concat(seedLines[:after], []string{extra}, seedLines[after:])
		return strings.Join(out, "\n")
	}
	replace := func(old, new string) string {
		if !strings.Contains(seed, old) {
			t.Fatalf("seed has no %q", old)
		}
		return strings.Replace(seed, old, new, 1)
	}
	pace := lineOf("      deployment_pace: minimal")
	warnBurn := lineOf("        - burn_rate >= 2.0x AND < 5.0x")
	warnRem := lineOf("        - budget_remaining >= 10% AND < 25%")
	attRem := lineOf("        - budget_remaining >= 25% AND < 50%")

	tests := []struct {
		name, src, field, msg string
	}{
		{"unknown gate key", insertAfter(pace, "      sfot_limit: 3.0"),
			fmt.Sprintf("policy.yaml:%d:7", pace+1), `unknown key "sfot_limit" in gates.warning`},
		{"bad criterion in seed", replace("burn_rate >= 2.0x AND < 5.0x", "burn_rate >= 2.0x OR < 5.0x"),
			fmt.Sprintf("policy.yaml:%d:11", warnBurn), "cannot parse criterion"},
		{"non-monotonic thresholds", replace("budget_remaining >= 10% AND < 25%", "budget_remaining >= 10% AND < 55%"),
			fmt.Sprintf("policy.yaml:%d:11", warnRem), "must fall with severity"},
		{"gap between states", replace("budget_remaining >= 25% AND < 50%", "budget_remaining >= 30% AND < 50%"),
			fmt.Sprintf("policy.yaml:%d:11", attRem), "does not meet warning's budget_remaining < 25%"},
		{"unknown top-level key", "service: svc\nslo_target: 99.9\nwindw: 30d\n",
			"policy.yaml:3:1", `unknown key "windw" at top level`},
		{"unknown policy key", "service: svc\npolicy:\n  gate: {}\n",
			"policy.yaml:3:3", `unknown key "gate" in policy`},
		{"unknown state", "service: svc\npolicy:\n  gates:\n    degraded: {}\n",
			"policy.yaml:4:5", `unknown key "degraded" in gates`},
		{"unknown metric", "service: svc\npolicy:\n  gates:\n    warning:\n      criteria: ['budget_left < 5%']\n",
			"policy.yaml:5:18", `unknown metric "budget_left"`},
		{"wrong unit", "service: svc\npolicy:\n  gates:\n    warning:\n      criteria:\n        - burn_rate >= 2%\n",
			"policy.yaml:6:11", "measured in x"},
		{"equality criterion", "service: svc\npolicy:\n  gates:\n    exhausted:\n      criteria:\n        - budget_remaining == 0%\n",
			"policy.yaml:6:11", "not a threshold"},
		{"empty interval", "service: svc\npolicy:\n  gates:\n    warning:\n      criteria:\n        - budget_remaining >= 25% AND < 10%\n",
			"policy.yaml:6:11", "matches nothing"},
		{"repeated bound", "service: svc\npolicy:\n  gates:\n    warning:\n      criteria:\n        - budget_remaining < 25%\n        - budget_remaining <= 20%\n",
			"policy.yaml:7:11", "repeats the bound"},
		{"healthy upper bound", "service: svc\npolicy:\n  gates:\n    healthy:\n      criteria: [budget_remaining < 90%]\n",
			"policy.yaml:5:18", "healthy is what no other state claims"},
		{"exhausted lower bound", "service: svc\npolicy:\n  gates:\n    exhausted:\n      criteria: [budget_remaining > -10% AND <= 0%]\n",
			"policy.yaml:5:18", "nothing is more severe"},
		{"burn ceiling without successor", "service: svc\npolicy:\n  gates:\n    critical:\n      criteria: [burn_rate >= 5x AND < 100x]\n",
			"policy.yaml:5:18", "no more severe state"},
		{"criteria not a list", "service: svc\npolicy:\n  gates:\n    warning:\n      criteria: burn_rate >= 2x\n",
			"policy.yaml:5:17", "must be a list"},
		{"number as string", "service: svc\nslo_target: high\n", "policy.yaml:2:13", "slo_target must be a number, not a string"},
		{"list as string", "service: svc\npolicy:\n  gates:\n    healthy:\n      allowed_risk_levels: low\n",
			"policy.yaml:5:28", "must be a list of strings"},
		{"risk level typo", "service: svc\npolicy:\n  gates:\n    healthy:\n      allowed_risk_levels: [low, meduim]\n",
			"policy.yaml:5:34", `unknown value "meduim"`},
		{"release type typo", "service: svc\npolicy:\n  gates:\n    warning:\n      allowed_release_types:\n        - bugfx\n",
			"policy.yaml:6:11", `unknown value "bugfx"`},
		{"negative max burn", "service: svc\npolicy:\n  gates:\n    warning:\n      max_burn_rate: -1\n",
			"policy.yaml:5:22", "must not be negative"},
		{"infinite min budget", "service: svc\npolicy:\n  gates:\n    warning:\n      min_budget_pct: .inf\n",
			"policy.yaml:5:23", "must be finite"},
		{"nan max burn", "service: svc\npolicy:\n  gates:\n    warning:\n      max_burn_rate: .nan\n",
			"policy.yaml:5:22", "NaN"},
		{"missing service", "slo_target: 99.9\n", "policy.yaml:1:1", "service is required"},
		{"bad service", "service: API_Service\n", "policy.yaml:1:10", "must match"},
		{"service as list", "service: [a]\n", "policy.yaml:1:10", "service must be a string"},
		{"slo_target 100", "service: svc\nslo_target: 100\n", "policy.yaml:2:13", "between 0 and 100"},
		{"slo_target 0", "service: svc\nslo_target: 0\n", "policy.yaml:2:13", "between 0 and 100"},
		{"window unit", "service: svc\nwindow: 30x\n", "policy.yaml:2:9", "days or weeks"},
		{"window zero", "service: svc\nwindow: 0d\n", "policy.yaml:2:9", "days or weeks"},
		{"window huge", "service: svc\nwindow: 99999d\n", "policy.yaml:2:9", "longer than"},
		{"burn window", "service: svc\nburn_rate_window: 2h\n", "policy.yaml:2:19", "must be one of 5m, 30m, 1h, 6h, 24h, 72h"},
		{"on_no_data value", "service: svc\npolicy:\n  on_no_data: maybe\n", "policy.yaml:3:15", `on_no_data must be "deny" or "allow"`},
		{"setting twice", "service: svc\non_no_data: allow\npolicy:\n  on_no_data: deny\n", "policy.yaml:4:3", "given both at top level (line 2) and in policy"},
		{"exception map value", "service: svc\npolicy:\n  exceptions:\n    rollback: yes\n", "policy.yaml:4:15", "must be true or false"},
		{"exception map type", "service: svc\npolicy:\n  exceptions:\n    rolback: true\n", "policy.yaml:4:5", `unknown release type "rolback"`},
		{"exception list type", "service: svc\npolicy:\n  exceptions:\n    - type: hotfix\n", "policy.yaml:4:13", `unknown release type "hotfix"`},
		{"exception without type", "service: svc\npolicy:\n  exceptions:\n    - requirements: [a]\n", "policy.yaml:4:7", "type is required"},
		{"exception override", "service: svc\npolicy:\n  exceptions:\n    - type: rollback\n      override: sometimes\n", "policy.yaml:5:17", `must be "always_allow"`},
		{"exception twice", "service: svc\npolicy:\n  exceptions:\n    - type: critical_security_fix\n    - type: critical_security_vulnerability\n", "policy.yaml:5:13", "given twice"},
		{"exceptions scalar", "service: svc\npolicy:\n  exceptions: all\n", "policy.yaml:3:15", "list or a mapping"},
		{"escalation name", "service: svc\npolicy:\n  escalation:\n    budget_half:\n      notify: [a]\n", "policy.yaml:4:5", `unknown key "budget_half" in escalation`},
		{"escalation over 100", "service: svc\npolicy:\n  escalation:\n    budget_150pct:\n      notify: [a]\n", "policy.yaml:4:5", "at most 100"},
		{"escalation no notify", "service: svc\npolicy:\n  escalation:\n    budget_25pct:\n      action: x\n", "policy.yaml:4:5", "notify is required"},
		{"escalation unknown key", "service: svc\npolicy:\n  escalation:\n    budget_25pct:\n      notify: [a]\n      notfy: [b]\n", "policy.yaml:6:7", `unknown key "notfy" in escalation.budget_25pct`},
		{"escalation same threshold", "service: svc\npolicy:\n  escalation:\n    budget_25pct: {notify: [a]}\n    budget_25.0pct: {notify: [a]}\n", "policy.yaml:5:5", "same threshold"},
		{"review cadence", "service: svc\npolicy:\n  review_cadence:\n    daily: standup\n", "policy.yaml:4:5", `unknown key "daily" in review_cadence`},
		{"duplicate key", "service: a\nservice: b\n", "policy.yaml:2:1", `key "service" given twice`},
		{"alias", "service: &s a\npolicy:\n  description: *s\n", "policy.yaml:3:16", "aliases are not supported"},
		{"merge key", "service: svc\npolicy:\n  gates:\n    warning:\n      <<: {min_budget_pct: 5}\n", "policy.yaml:5:7", `unknown key "<<"`},
		{"two documents", "service: a\n---\nservice: b\n", "policy.yaml:2:1", "second"},
		{"not a mapping", "- a\n- b\n", "policy.yaml:1:1", "must be a mapping, not a list"},
		{"empty", "", "policy.yaml:1:1", "empty policy file"},
		{"only comments", "# nothing here\n", "policy.yaml:1:1", "empty policy file"},
		{"syntax", "service: a\npolicy: [\n", "policy.yaml:2", "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy("policy.yaml", []byte(tt.src))
			var e *budgetgate.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Code != budgetgate.EINVALID || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("got %s %q %q, want invalid %q containing %q", e.Code, e.Field, e.Message, tt.field, tt.msg)
			}
		})
	}
}

// An equivalent of the reference gate policy written differently: other key order,
// flow style, comments, quoting, an explicit default. It must get the same
// version; a real change must not.
const seedRewritten = `# same policy, other layout
window: "30d"
slo_target: 99.9   # percent
service: 'api-service'
policy:
  review_cadence: {quarterly: slo_target_adjustment_review, monthly: policy_effectiveness_review, weekly: budget_status_review}
  escalation:
    budget_exhausted: {action: feature_freeze_and_postmortem, notify: [team_lead, sre_oncall, engineering_manager, vp_engineering]}
    budget_10pct: {notify: [team_lead, sre_oncall, engineering_manager], action: defer_non_critical_releases}
    budget_25pct: {notify: [team_lead, sre_oncall], action: review_pending_releases}
  exceptions:
    - {type: rollback, requirements: [Incident in progress, Rollback to known good state]}
    - type: slo_improvement
      requirements: [Demonstrated SLO improvement, Minimal blast radius]
    - {override: always_allow, type: critical_security_vulnerability, requirements: [Security team approval, Accelerated testing]}
  gates:
    exhausted:
      deployment_pace: locked
      criteria: ["budget_remaining<=0%"]
      actions: [Complete deployment freeze, Incident declared, Executive escalation, Post-mortem required]
      allowed_releases: [Emergency fixes only, Rollbacks]
    critical:
      criteria: ["budget_remaining  <  10%", "burn_rate >= 5.0x"]
      allowed_releases: [Critical bug fixes only, Reliability improvements only, Rollbacks]
      deployment_pace: frozen
      actions: [Feature freeze in effect, All hands on reliability, Daily status updates]
      max_burn_rate: .inf
    warning:
      criteria: ["budget_remaining >= 10% and < 25%", "burn_rate >= 2.0x AND burn_rate < 5.0x"]
      allowed_releases: [Low risk features only, Bug fixes, Reliability improvements]
      deployment_pace: minimal
      additional_requirements: [SRE approval required, Canary deployment mandatory, Automated rollback enabled]
    attention:
      additional_requirements: [Enhanced monitoring for 24h post-deploy, Rollback plan documented]
      deployment_pace: cautious
      criteria: ["budget_remaining >= 25% AND < 50%", "burn_rate >= 1.5x AND < 2.0x"]
      allowed_releases: [Low and medium risk features, All bug fixes, Critical maintenance]
    healthy:
      criteria: [budget_remaining >= 50%, burn_rate < 1.5x]
      allowed_releases: [All feature releases, All bug fixes, Routine maintenance]
      deployment_pace: normal
      min_budget_pct: 50
      allowed_risk_levels: [low, medium, high]
  objectives: [Maintain 99.9% availability over 30-day rolling window, Balance reliability with feature velocity, Make data-driven decisions about risk]
  description: "This error budget policy governs release decisions and reliability priorities\nfor the API service based on SLO performance and error budget consumption.\n"
`

func TestPolicyVersion(t *testing.T) {
	seed, err := ParsePolicy("seed.yaml", seedPolicyBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := mustParse(t, seedRewritten); got.Version != seed.Version {
		t.Errorf("rewritten seed: version %s, want %s\ncanonical:\n%s\nseed canonical:\n%s", got.Version, seed.Version, got.Canonical(), seed.Canonical())
	}
	if got := mustParse(t, "service: svc\n"); got.Version != DefaultPolicy("svc").Version {
		t.Errorf("minimal file and DefaultPolicy differ:\n%s\n%s", got.Canonical(), DefaultPolicy("svc").Canonical())
	}
	changes := []struct{ old, new string }{
		{"deployment_pace: normal", "deployment_pace: brisk"},
		{"slo_target: 99.9", "slo_target: 99.95"},
		{"window: 30d", "window: 28d"},
		{"- Accelerated testing", "- Fast testing"},
		{"deployment_pace: normal", "deployment_pace: normal\n      min_budget_pct: 50.0"}, // prints as 50.0
		{"    budget_exhausted:", "    budget_5pct:\n      notify: [x]\n    budget_exhausted:"},
	}
	for _, c := range changes {
		t.Run(c.new, func(t *testing.T) {
			src := strings.Replace(string(seedPolicyBytes(t)), c.old, c.new, 1)
			if src == string(seedPolicyBytes(t)) {
				t.Fatalf("seed has no %q", c.old)
			}
			if got := mustParse(t, src); got.Version == seed.Version {
				t.Errorf("version did not change")
			}
		})
	}
}

// Canonical is itself a policy file that parses to the same version.
func TestCanonicalRoundTrip(t *testing.T) {
	srcs := map[string]string{
		"seed":    string(seedPolicyBytes(t)),
		"minimal": "service: svc\n",
		"odd strings": `service: odd.svc-1
slo_target: 95
window: 4w
description: "top: level"
burn_rate_window: 6h
on_no_data: allow
policy:
  description: "  leading spaces, 'quotes', \"double\", # not a comment"
  objectives: ["yes", "50", "null", "- dash", "multi\nline\n", "ünïcode ✓", ""]
  gates:
    warning:
      min_budget_pct: 12.5
      max_burn_rate: 1e+16
      allowed_risk_levels: []
      allowed_release_types: [bugfix, security]
      additional_requirements: ["true", "0x10"]
    critical:
      min_budget_pct: -5
      max_burn_rate: 7
  exceptions: {rollback: true, slo_improvement: false}
  escalation:
    budget_2.5pct: {notify: ["@oncall"]}
  review_cadence: {monthly: "x: y"}
`,
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			p := mustParse(t, src)
			q, err := ParsePolicy("canonical.yaml", p.Canonical())
			if err != nil {
				t.Fatalf("canonical form does not parse: %v\n%s", err, p.Canonical())
			}
			if q.Version != p.Version {
				t.Errorf("version %s after round trip, want %s\n%s\n---\n%s", q.Version, p.Version, p.Canonical(), q.Canonical())
			}
			q.Source, p.Source = nil, nil
			if !reflect.DeepEqual(p, q) {
				t.Errorf("round trip changed the policy:\n%+v\n%+v", p, q)
			}
		})
	}
}

func TestParsePolicyDefaultsAndForms(t *testing.T) {
	p := mustParse(t, `service: svc
slo_target: 99
window: 7d
burn_rate_window: 5m
policy:
  on_no_data: allow
  gates:
    healthy:
      min_budget_pct: 30.0
      max_burn_rate: 2
    warning:
      allowed_release_types: [bugfix]
  exceptions:
    critical_security_vulnerability: true
    rollback: false
`)
	if s := p.SLOs[0]; s.Objective != 99 || s.Window != 7*24*time.Hour || p.BurnRateWindow != 5*time.Minute || p.OnNoData != "allow" {
		t.Errorf("settings: %v %v %v %q", s.Objective, s.Window, p.BurnRateWindow, p.OnNoData)
	}
	h := p.Gates[StatusHealthy]
	if h.MinBudgetPct != (Number{30, false}) || h.MaxBurnRate != (Number{2, true}) {
		t.Errorf("healthy numbers %#v %#v", h.MinBudgetPct, h.MaxBurnRate)
	}
	if h.MinBudgetPct.String() != "30.0" || h.MaxBurnRate.String() != "2" {
		t.Errorf("healthy numbers print as %s %s", h.MinBudgetPct, h.MaxBurnRate)
	}
	if !slices.Equal(h.AllowedRiskLevels, []string{"low", "medium", "high"}) {
		t.Errorf("healthy risk levels not defaulted: %q", h.AllowedRiskLevels)
	}
	w := p.Gates[StatusWarning]
	if w.MinBudgetPct != (Number{10, true}) || w.MaxBurnRate != (Number{3, false}) || !slices.Equal(w.AllowedReleaseTypes, []string{"bugfix"}) {
		t.Errorf("warning gate %+v", w)
	}
	if len(w.Criteria) != 2 || w.Criteria[0].Text != "budget_remaining >= 10% AND < 25%" {
		t.Errorf("warning criteria not defaulted: %+v", w.Criteria)
	}
	want := map[string]ExceptionRule{"critical_security_fix": {Type: "critical_security_fix", Override: "always_allow"}}
	if !reflect.DeepEqual(p.Exceptions, want) {
		t.Errorf("exceptions = %+v", p.Exceptions)
	}

	d := DefaultPolicy("svc")
	want = map[string]ExceptionRule{
		"critical_security_fix": {Type: "critical_security_fix", Override: "always_allow"},
		"slo_improvement":       {Type: "slo_improvement", Override: "always_allow"},
		"rollback":              {Type: "rollback", Override: "always_allow"},
	}
	if !reflect.DeepEqual(d.Exceptions, want) {
		t.Errorf("default exceptions = %+v", d.Exceptions)
	}
	if n := mustParse(t, "service: svc\npolicy:\n  exceptions: []\n"); len(n.Exceptions) != 0 {
		t.Errorf("an empty exceptions list should leave none, got %+v", n.Exceptions)
	}
}

func TestParseCriterion(t *testing.T) {
	tests := []struct {
		in, text, metric string
		bounds           []Threshold
	}{
		{"budget_remaining >= 50%", "budget_remaining >= 50%", "budget_remaining", []Threshold{{">=", 50}}},
		{"burn_rate < 1.5x", "burn_rate < 1.5x", "burn_rate", []Threshold{{"<", 1.5}}},
		{"budget_remaining >= 25% AND < 50%", "budget_remaining >= 25% AND < 50%", "budget_remaining", []Threshold{{">=", 25}, {"<", 50}}},
		{"budget_remaining <= 0%", "budget_remaining <= 0%", "budget_remaining", []Threshold{{"<=", 0}}},
		{"burn_rate >= 2.0x AND < 5.0x", "burn_rate >= 2.0x AND < 5.0x", "burn_rate", []Threshold{{">=", 2}, {"<", 5}}},
		{"  burn_rate>=2X and burn_rate<5 ", "burn_rate >= 2x AND < 5x", "burn_rate", []Threshold{{">=", 2}, {"<", 5}}},
		{"budget_remaining < 50% AND > -10%", "budget_remaining < 50% AND > -10%", "budget_remaining", []Threshold{{"<", 50}, {">", -10}}},
		{"budget_remaining > .5", "budget_remaining > .5%", "budget_remaining", []Threshold{{">", 0.5}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseCriterion(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if c.Text != tt.text || c.Metric != tt.metric || !slices.Equal(c.Bounds, tt.bounds) {
				t.Errorf("got %+v", c)
			}
		})
	}
	bad := []string{"", "budget_remaining", "budget_remaining >= ", "budget_remaining >= 50% OR < 60%",
		"burn_rate >= 1x AND >= 2x", "burn_rate < -1x", "burn_rate >= 1x AND budget_remaining < 5%",
		"errors < 5", "budget_remaining = 0%", "budget_remaining >= 50x", "budget_remaining >= 5e1%"}
	for _, s := range bad {
		t.Run("bad "+s, func(t *testing.T) {
			if c, err := ParseCriterion(s); err == nil {
				t.Errorf("ParseCriterion(%q) = %+v, want error", s, c)
			}
		})
	}
}

func TestReviewDue(t *testing.T) {
	last := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		cadence string
		now     time.Time
		want    bool
	}{
		{"weekly", last.AddDate(0, 0, 7).Add(-time.Second), false},
		{"weekly", last.AddDate(0, 0, 7), true},
		{"monthly", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false}, // 31 Jan + 1 month = 3 Mar
		{"monthly", time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC), true},
		{"quarterly", time.Date(2026, 4, 30, 9, 0, 0, 0, time.UTC), false},
		{"quarterly", time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.cadence+tt.now.Format(time.DateOnly), func(t *testing.T) {
			r := Review{Cadence: tt.cadence, Name: "x"}
			if got := r.Due(last, tt.now); got != tt.want {
				t.Errorf("Due = %v, want %v (next %v)", got, tt.want, r.Next(last))
			}
		})
	}
	if !(Review{Cadence: "weekly"}).Due(time.Time{}, last) {
		t.Error("a review never held should be due")
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(seedPolicyBytes(f))
	f.Add([]byte(seedRewritten))
	f.Add([]byte("service: svc\n"))
	f.Add([]byte("service: svc\npolicy:\n  exceptions: {rollback: true}\n  gates:\n    warning: {criteria: [burn_rate > 3x], max_burn_rate: 1e+16}\n"))
	f.Add([]byte("service: &a svc\npolicy: *a\n"))
	f.Add([]byte(checkoutSLOs))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy("fuzz.yaml", data)
		if err != nil {
			var e *budgetgate.Error
			if !errors.As(err, &e) || e.Code != budgetgate.EINVALID || !strings.HasPrefix(e.Field, "fuzz.yaml") {
				t.Fatalf("error %v (%T) is not an EINVALID *Error naming the file", err, err)
			}
			return
		}
		q, err := ParsePolicy("canonical.yaml", p.Canonical())
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, p.Canonical())
		}
		if q.Version != p.Version {
			t.Fatalf("version changed on re-parse\n%s\n---\n%s", p.Canonical(), q.Canonical())
		}
	})
}

// A gate without criteria shows the criteria it effectively has: the reference gate's
// strings for an unchanged policy, and bounds that follow a neighbour's
// change otherwise.
func TestEffectiveCriteria(t *testing.T) {
	texts := func(p *Policy, s Status) []string {
		var out []string
		for _, c := range p.Gates[s].Criteria {
			out = append(out, c.Text)
		}
		return out
	}
	seed, err := ParsePolicy("seed.yaml", seedPolicyBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultPolicy("svc")
	for _, s := range GateStatuses {
		if got, want := texts(def, s), texts(seed, s); !slices.Equal(got, want) {
			t.Errorf("default %s criteria %q, seed has %q", s, got, want)
		}
	}
	p := mustParse(t, "service: svc\npolicy:\n  gates:\n    warning:\n      criteria: [burn_rate > 3x]\n")
	want := map[Status][]string{
		StatusAttention: {"budget_remaining >= 25% AND < 50%", "burn_rate >= 1.5x AND <= 3.0x"},
		StatusWarning:   {"burn_rate > 3x"},
		StatusCritical:  {"budget_remaining < 10%", "burn_rate >= 5.0x"},
	}
	for s, w := range want {
		if got := texts(p, s); !slices.Equal(got, w) {
			t.Errorf("%s criteria %q, want %q", s, got, w)
		}
	}
	if got := p.StatusOf(80, 3); got != StatusAttention {
		t.Errorf("StatusOf(80, 3) = %s, want attention", got)
	}
}
