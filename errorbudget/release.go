package errorbudget

import (
	"regexp"
	"slices"

	"github.com/budgetgate/budgetgate"
)

var serviceName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidServiceName reports whether s is a well-formed service name.
func ValidServiceName(s string) bool { return serviceName.MatchString(s) }

// Validate fills the reference gate's defaults (risk medium, type feature) and checks
// the release, naming the field at fault.
func (r *Release) Validate() error {
	if r.RiskLevel == "" {
		r.RiskLevel = "medium"
	}
	if r.ReleaseType == "" {
		r.ReleaseType = "feature"
	}
	switch {
	case r.Service == "":
		return budgetgate.FieldErrorf("service", "required")
	case !ValidServiceName(r.Service):
		return budgetgate.FieldErrorf("service", "must match [a-z0-9][a-z0-9._-]{0,62}")
	case r.Version == "":
		return budgetgate.FieldErrorf("version", "required")
	case len(r.Version) > 200:
		return budgetgate.FieldErrorf("version", "at most 200 characters")
	case len(r.CommitSHA) > 200:
		return budgetgate.FieldErrorf("commit_sha", "at most 200 characters")
	case len(r.RequestedBy) > 200:
		return budgetgate.FieldErrorf("requested_by", "at most 200 characters")
	case !slices.Contains(RiskLevels, r.RiskLevel):
		return budgetgate.FieldErrorf("risk_level", "must be one of low, medium, high")
	case !slices.Contains(ReleaseTypes, r.ReleaseType):
		return budgetgate.FieldErrorf("release_type", "must be one of feature, bugfix, security, critical_security_fix, slo_improvement, rollback")
	}
	return nil
}
