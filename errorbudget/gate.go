package errorbudget

import (
	"fmt"
	"slices"
	"time"
)

// Release is what CI asks the gate about (see docs/BUDGET_MATH.md, Release gate).
type Release struct {
	Service         string `json:"service"`
	Version         string `json:"version"`
	CommitSHA       string `json:"commit_sha"`
	RiskLevel       string `json:"risk_level"`   // default "medium"
	ReleaseType     string `json:"release_type"` // default "feature"
	HasTests        bool   `json:"has_tests"`
	HasRollbackPlan bool   `json:"has_rollback_plan"`
	RequestedBy     string `json:"requested_by"`
}

// Decision is the gate's answer, as stored and as returned by the API.
type Decision struct {
	ID            int64         `json:"decision_id"`
	Approved      bool          `json:"approved"`
	Reason        string        `json:"reason"`
	Alternative   string        `json:"alternative,omitempty"`
	Conditions    []string      `json:"conditions"`
	Metrics       Metrics       `json:"metrics"` // the worst SLO's figures, which decided
	SLOs          []Metrics     `json:"slos"`    // every SLO's figures
	PolicyVersion string        `json:"policy_version"`
	Exception     *ExceptionRef `json:"exception,omitempty"` // set where a CCB exception applies
	DecidedAt     time.Time     `json:"decided_at"`
	Release       Release       `json:"release"`
}

// ExceptionRef is what a decision cites when an exception let it through.
type ExceptionRef struct {
	ID         int64     `json:"id"`
	ApprovedBy []string  `json:"approved_by"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Release-gate strings that do not depend on the figures, as the reference gate has them.
const (
	AltDeferRisk      = "Defer until budget improves or reduce risk level"
	AltWaitBudget     = "Wait for budget to recover"
	AltReduceBurn     = "Reduce error rate before new releases"
	AltPostSLI        = "Post SLI data before releasing"
	CondMonitor       = "Monitor closely"
	CondRollbackReady = "Have rollback ready"
	CondNoTests       = "WARNING: No tests detected. Strongly recommend adding tests."
	CondRollbackPlan  = "REQUIRED: Must have rollback plan documented"
)

// EvaluateRelease is the reference gate's evaluate_release (see docs/BUDGET_MATH.md, Release gate): the same checks in
// the same order with the same strings, over the policy's gates, applied
// to the service's worst SLO (sm.Metrics). It fills Approved, Reason,
// Alternative, Conditions (never nil), Metrics, SLOs and PolicyVersion; the
// caller sets ID, DecidedAt, Release and any CCB exception.
//
// Where the reference gate has nothing to say, the choices are:
//   - an exception's requirements follow the reference gate's two conditions;
//   - a release type in the gate's allowed_release_types passes the risk
//     check, and when that is why it passed the approval names the type
//     ("Budget policy allows bugfix releases when status is warning"); a
//     release whose risk level passes anyway gets the reference gate's wording;
//   - approvals carry the gate's additional_requirements after the reference gate's
//     conditions;
//   - with no SLI data the release is denied unless on_no_data is allow, in
//     which case it is approved with the reference gate's test and rollback conditions;
//     the message names the SLO (service/slo) when the service has several;
//   - a status with no gate (which ComputeMetrics never produces) is denied.
func EvaluateRelease(p *Policy, sm ServiceMetrics, r Release) Decision {
	m := sm.Metrics
	riskLevel := r.RiskLevel
	if riskLevel == "" {
		riskLevel = "medium"
	}
	releaseType := r.ReleaseType
	if releaseType == "" {
		releaseType = "feature"
	}
	d := Decision{Metrics: m, SLOs: sm.SLOs, PolicyVersion: p.Version, Conditions: []string{}}
	deny := func(reason, alternative string) Decision {
		d.Approved, d.Reason, d.Alternative = false, reason, alternative
		return d
	}

	if rule, ok := p.Exceptions[releaseType]; ok {
		d.Approved = true
		d.Reason = fmt.Sprintf("Exception: %s releases always allowed", releaseType)
		d.Conditions = append(d.Conditions, CondMonitor, CondRollbackReady)
		d.Conditions = append(d.Conditions, rule.Requirements...)
		return d
	}

	// The reference gate's own conditions, attached to every approval that follows.
	var conditions []string
	if !r.HasTests {
		conditions = append(conditions, CondNoTests)
	}
	if !r.HasRollbackPlan {
		conditions = append(conditions, CondRollbackPlan)
	}

	if m.Status == StatusNoData {
		subject, window := p.Subject(m.SLO), p.windowOf(m)
		if p.OnNoData != OnNoDataAllow {
			return deny(fmt.Sprintf("No SLI data for %s in the last %s", subject, window), AltPostSLI)
		}
		d.Approved = true
		d.Reason = fmt.Sprintf("No SLI data for %s in the last %s; policy allows releases without data", subject, window)
		d.Conditions = append(d.Conditions, conditions...)
		return d
	}

	gate := p.Gates[m.Status]
	if gate == nil {
		return deny(fmt.Sprintf("No release gate for budget status %s", m.Status), AltPostSLI)
	}

	subject := riskLevel + " risk"
	if !slices.Contains(gate.AllowedRiskLevels, riskLevel) {
		if !slices.Contains(gate.AllowedReleaseTypes, releaseType) {
			return deny(fmt.Sprintf("%s risk releases not allowed when budget status is %s", pyCapitalize(riskLevel), m.Status), AltDeferRisk)
		}
		subject = releaseType
	}

	// The reference gate compares remaining with a Python int or float and prints
	// both with its own formatting.
	if m.RemainingPct < gate.MinBudgetPct.Value {
		return deny(fmt.Sprintf("Insufficient error budget: %s%% < %s%%", pyFixed1(m.RemainingPct), gate.MinBudgetPct), AltWaitBudget)
	}
	if m.BurnRate > gate.MaxBurnRate.Value {
		return deny(fmt.Sprintf("Burn rate too high: %sx > %sx", pyFixed1(m.BurnRate), gate.MaxBurnRate), AltReduceBurn)
	}

	d.Approved = true
	d.Reason = fmt.Sprintf("Budget policy allows %s releases when status is %s", subject, m.Status)
	d.Conditions = append(d.Conditions, conditions...)
	d.Conditions = append(d.Conditions, gate.AdditionalRequirements...)
	return d
}

// windowOf is the window, as written, of the SLO that the figures m are
// about.
func (p *Policy) windowOf(m Metrics) string {
	if s, err := p.ResolveSLO(m.SLO); err == nil {
		return s.WindowText
	}
	return m.Window
}
