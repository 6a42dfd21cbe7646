package budgetgate

import "time"

// Release is what CI asks the gate about (SPEC 3).
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
	ID            int64     `json:"decision_id"`
	Approved      bool      `json:"approved"`
	Reason        string    `json:"reason"`
	Alternative   string    `json:"alternative,omitempty"`
	Conditions    []string  `json:"conditions"`
	Metrics       Metrics   `json:"metrics"`
	PolicyVersion string    `json:"policy_version"`
	Exception     any       `json:"exception,omitempty"` // set where a CCB exception applies
	DecidedAt     time.Time `json:"decided_at"`
	Release       Release   `json:"release"`
}
