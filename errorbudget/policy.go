package errorbudget

import (
	"math"
	"regexp"
	"time"
)

// Policy is one service's error-budget policy (see docs/POLICY.md, Error-budget policy), after defaults.
type Policy struct {
	Service string
	// SLOs are the service's objectives, in the file's order; never empty.
	// A file written with slo_target and window at the top level has one,
	// named DefaultSLO.
	SLOs        []SLO
	Description string // top-level description, else policy.description
	Objectives  []string

	// PolicyDescription is policy.description as written; the reference gate puts its
	// prose there rather than at the top level.
	PolicyDescription string

	// Gates holds all five GateStatuses, each filled from the file and the
	// reference gate's defaults.
	Gates map[Status]*Gate

	// Exceptions maps a release type to its rule. critical_security_vulnerability
	// is stored as critical_security_fix.
	Exceptions map[string]ExceptionRule

	Escalations    []Escalation // in decreasing threshold order; budget_exhausted last (ThresholdPct 0)
	Reviews        []Review
	BurnRateWindow time.Duration // default 1h
	BurnWindowText string        // as written: "1h"
	OnNoData       string        // "deny" (default) or "allow"

	Version string // "sha256:" + hex of the canonical form
	Source  []byte // the file as given
}

// SLO is one objective of a service: its own target, window and SLI; the
// policy's gates, exceptions and escalations govern every SLO alike.
type SLO struct {
	Name        string        // [a-z0-9][a-z0-9._-]{0,62}, unique in the service
	Objective   float64       // percent, 0 < x < 100
	Window      time.Duration // rolling window
	WindowText  string        // as written: "30d"
	Description string
	// SLI says where the SLO's counts come from; nil: they are posted to
	// the API.
	SLI *SLISource
}

// SLISource is an SLO's sli block.
type SLISource struct {
	Prometheus *PromQueries
}

// PromQueries are the PromQL queries of an SLO pulled from Prometheus (or
// a store that speaks its query API). Each is a per-second rate in which
// {{.window}} stands for the range; exactly one of Good and Bad is set.
type PromQueries struct {
	URL   string // "" : the server's default source
	Good  string
	Bad   string
	Total string
	// MaxStaleness is how old the newest pulled interval may be before the
	// SLO counts as stale; 0: the server's default.
	MaxStaleness     time.Duration
	MaxStalenessText string // as written: "10m"
}

// Number is a policy number that remembers whether it was written as an
// integer, so that messages print it as Python's str() would (50, 1.5, 2.0, inf).
type Number struct {
	Value float64
	IsInt bool
}

// Threshold is "metric op value" parsed from a criteria string.
type Threshold struct {
	Op    string // "<", "<=", ">", ">=" ("==" is refused by the parser)
	Value float64
}

// Holds reports whether x satisfies the threshold.
func (t Threshold) Holds(x float64) bool {
	switch t.Op {
	case "<":
		return x < t.Value
	case "<=":
		return x <= t.Value
	case ">":
		return x > t.Value
	case ">=":
		return x >= t.Value
	case "==":
		return x == t.Value
	}
	return false
}

func (t Threshold) upper() bool { return t.Op == "<" || t.Op == "<=" }

// Criterion is one parsed criteria string: a metric with one or two bounds
// ("budget_remaining >= 25% AND < 50%").
type Criterion struct {
	Text   string // normalised: single spaces, "AND", the metric's unit
	Metric string // "budget_remaining" or "burn_rate"
	Bounds []Threshold
}

// Gate is what a policy says for one status.
type Gate struct {
	Criteria               []Criterion
	MinBudgetPct           Number
	MaxBurnRate            Number
	AllowedRiskLevels      []string
	AllowedReleaseTypes    []string
	AllowedReleases        []string
	DeploymentPace         string
	AdditionalRequirements []string
	Actions                []string

	// EnterRemaining and EnterBurn are the bounds that put a service in this
	// state (see docs/BUDGET_MATH.md, Error budget): the criteria's upper bound on budget_remaining and
	// lower bound on burn_rate where given, else the reference gate's. Healthy has
	// neither (it is what is left); exhausted has no burn bound by default.
	EnterRemaining *Threshold
	EnterBurn      *Threshold
}

// ExceptionRule lets a release type through whatever the budget.
type ExceptionRule struct {
	Type         string
	Override     string // "always_allow"
	Requirements []string
}

// Escalation notifies roles when remaining budget falls below ThresholdPct.
type Escalation struct {
	Name         string  // "budget_25pct", "budget_exhausted"
	ThresholdPct float64 // 25, 10, 0 for budget_exhausted
	Notify       []string
	Action       string
}

// Review is a named recurring review from review_cadence.
type Review struct {
	Cadence string // "weekly", "monthly", "quarterly"
	Name    string // "budget_status_review"
	Every   time.Duration
}

// Policy defaults, from docs/POLICY.md, Error-budget policy and the reference gate's Python _default_policy.
const (
	// DefaultSLO names the one SLO of a policy written with slo_target and
	// window at the top level (see docs/POLICY.md).
	DefaultSLO            = "default"
	DefaultSLOTarget      = 99.9
	DefaultWindow         = "30d"
	DefaultBurnRateWindow = "1h"
	OnNoDataDeny          = "deny"
	OnNoDataAllow         = "allow"
	OverrideAlwaysAllow   = "always_allow"
	ExhaustedEscalation   = "budget_exhausted"
)

// RiskLevels and ReleaseTypes are the values a release may name (see docs/BUDGET_MATH.md, Release gate).
// Policies are checked against them so that a misspelt level or type cannot
// silently make a rule never match.
var (
	RiskLevels   = []string{"low", "medium", "high"}
	ReleaseTypes = []string{"feature", "bugfix", "security", "critical_security_fix", "slo_improvement", "rollback"}
)

// securityAlias is the reference policy file's name for the Python's critical_security_fix.
const securityAlias = "critical_security_vulnerability"

// gateDefault is one state of the reference gate's Python _default_policy, plus the
// reference policy file's criteria for that state (which give the thresholds of docs/BUDGET_MATH.md, Status).
type gateDefault struct {
	minBudget Number
	maxBurn   Number
	risks     []string
	criteria  []string
}

var gateDefaults = map[Status]gateDefault{
	StatusHealthy:   {Number{50, true}, Number{1.5, false}, []string{"low", "medium", "high"}, []string{"budget_remaining >= 50%", "burn_rate < 1.5x"}},
	StatusAttention: {Number{25, true}, Number{2.0, false}, []string{"low", "medium"}, []string{"budget_remaining >= 25% AND < 50%", "burn_rate >= 1.5x AND < 2.0x"}},
	StatusWarning:   {Number{10, true}, Number{3.0, false}, []string{"low"}, []string{"budget_remaining >= 10% AND < 25%", "burn_rate >= 2.0x AND < 5.0x"}},
	StatusCritical:  {Number{0, true}, Number{math.Inf(1), false}, []string{}, []string{"budget_remaining < 10%", "burn_rate >= 5.0x"}},
	StatusExhausted: {Number{0, true}, Number{math.Inf(1), false}, []string{}, []string{"budget_remaining <= 0%"}},
}

// defaultExceptions is the Python map form {critical_security_fix: True,
// slo_improvement: True, rollback: True}.
var defaultExceptions = []string{"critical_security_fix", "slo_improvement", "rollback"}

// severityOrder lists the gate states from least to most severe: each state's
// lower bounds must meet the entry bounds of the states after it.
var severityOrder = []Status{StatusHealthy, StatusAttention, StatusWarning, StatusCritical, StatusExhausted}

// reviewCadences are the review_cadence keys, in canonical order.
var reviewCadences = []string{"weekly", "monthly", "quarterly"}

var (
	escalationRe = regexp.MustCompile(`^budget_([0-9]+(?:\.[0-9]+)?)pct$`)
)

// cadenceEvery is each cadence's nominal period; Due uses calendar months.
var cadenceEvery = map[string]time.Duration{
	"weekly":    7 * 24 * time.Hour,
	"monthly":   30 * 24 * time.Hour,
	"quarterly": 91 * 24 * time.Hour,
}

// Due reports whether the review is due at now when it was last held at last
// (the zero time: never). Months are calendar months, so a monthly review
// held on 15 March is due from 15 April.
func (r Review) Due(last, now time.Time) bool {
	if last.IsZero() {
		return true
	}
	return !now.Before(r.Next(last))
}

// Next is when a review held at last falls due again.
func (r Review) Next(last time.Time) time.Time {
	switch r.Cadence {
	case "weekly":
		return last.AddDate(0, 0, 7)
	case "monthly":
		return last.AddDate(0, 1, 0)
	case "quarterly":
		return last.AddDate(0, 3, 0)
	}
	return last.Add(r.Every)
}

// StatusOf classifies figures by the policy's thresholds (see docs/BUDGET_MATH.md, Status), most
// severe state first. Callers decide no_data before calling.
func (p *Policy) StatusOf(remainingPct, burnRate float64) Status {
	for _, s := range GateStatuses {
		g := p.Gates[s]
		if g == nil {
			continue
		}
		if g.EnterRemaining != nil && g.EnterRemaining.Holds(remainingPct) ||
			g.EnterBurn != nil && g.EnterBurn.Holds(burnRate) {
			return s
		}
	}
	return StatusHealthy
}
