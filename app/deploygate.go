package app

import (
	"context"
	"fmt"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/variant"
)

// GateAnswer is the variant deployment gate's answer.
type GateAnswer struct {
	Project   string                     `json:"project"`
	Allowed   bool                       `json:"allowed"`
	Status    string                     `json:"status"` // pass or blocked
	Reason    string                     `json:"reason"`
	Analysis  *variant.ProjectAnalysis   `json:"analysis"`
	Blocking  []variant.TrackedViolation `json:"blocking"`
	Excepted  []variant.TrackedViolation `json:"excepted"`
	ProjectAt string                     `json:"url"`
}

// Gate answers whether the project's baseline may be deployed: not while
// it has an unresolved violation that no approved exception covers.
func (s *Analyses) Gate(ctx context.Context, project string) (*GateAnswer, error) {
	ans := &GateAnswer{Project: project, Allowed: true, Status: variant.AnalysisPass, ProjectAt: ProjectURL(s.PublicURL, project),
		Blocking: []variant.TrackedViolation{}, Excepted: []variant.TrackedViolation{}}
	if pa, err := s.Store.LatestBaselineAnalysis(ctx, project); err == nil {
		ans.Analysis = pa
	} else if budgetgate.ErrorCode(err) != budgetgate.ENOTFOUND {
		return nil, fmt.Errorf("read the baseline analysis of %s: %w", project, err)
	}
	open, err := s.Store.UnresolvedBaselineViolations(ctx, project)
	if err != nil {
		return nil, fmt.Errorf("read the open violations of %s: %w", project, err)
	}
	covered, err := s.coveredTracked(ctx, project, open)
	if err != nil {
		return nil, err
	}
	for i, o := range open {
		if covered[i] {
			ans.Excepted = append(ans.Excepted, o)
		} else {
			ans.Blocking = append(ans.Blocking, o)
		}
	}
	ans.Reason = gateReason(ans)
	if len(ans.Blocking) > 0 {
		ans.Allowed, ans.Status = false, variant.AnalysisBlocked
	}
	return ans, nil
}

// coveredTracked is Covered for stored violations.
func (s *Analyses) coveredTracked(ctx context.Context, project string, open []variant.TrackedViolation) ([]bool, error) {
	if len(open) == 0 {
		return []bool{}, nil
	}
	figures := make([]variant.Violation, len(open))
	for i := range open {
		figures[i] = open[i].Violation()
	}
	answered, err := s.cover().Covered(ctx, project, figures)
	if err != nil {
		return nil, fmt.Errorf("check the CCB cover of %s's violations: %w", project, err)
	}
	// A violation the cover did not answer for is not covered: fail closed.
	covered := make([]bool, len(open))
	copy(covered, answered)
	return covered, nil
}

func gateReason(ans *GateAnswer) string {
	switch {
	case len(ans.Blocking) > 0:
		return fmt.Sprintf("%d open variant-budget violation(s) on the baseline without an approved exception", len(ans.Blocking))
	case ans.Analysis == nil:
		return "no analysis of the baseline yet: nothing blocks"
	case len(ans.Excepted) > 0:
		return fmt.Sprintf("every open violation (%d) is covered by an approved exception", len(ans.Excepted))
	}
	return "no open variant-budget violation on the baseline"
}
