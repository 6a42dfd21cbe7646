package budgetgate

import "time"

// Policy is one service's error-budget policy (SPEC 2.1), after defaults.
type Policy struct {
	Service     string
	SLOTarget   float64       // percent, 0 < x < 100
	Window      time.Duration // rolling window
	WindowText  string        // as written: "30d"
	Description string
	Objectives  []string

	// Gates holds all five GateStatuses, each filled from the file and the
	// seed's defaults.
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

// Number is a policy number that remembers whether it was written as an
// integer, so that messages print it as Python's str() would (50, 1.5, 2.0, inf).
type Number struct {
	Value float64
	IsInt bool
}

// Threshold is "metric op value" parsed from a criteria string.
type Threshold struct {
	Op    string // "<", "<=", ">", ">=", "=="
	Value float64
}

// Criterion is one parsed criteria string: a metric with one or two bounds
// ("budget_remaining >= 25% AND < 50%").
type Criterion struct {
	Text   string
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
