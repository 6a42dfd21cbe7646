package ccb

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/variant"
)

// RefactoringPlan is how a variant exception's growth will be paid back.
type RefactoringPlan struct {
	Steps      []string `json:"steps"`
	TargetDate string   `json:"target_date"` // YYYY-MM-DD
}

// Validate checks the plan: at least one step and a target date after today.
func (p *RefactoringPlan) Validate(now time.Time) error {
	if len(p.Steps) == 0 {
		return budgetgate.FieldErrorf("refactoring_plan.steps", "at least one step is required")
	}
	if len(p.Steps) > MaxPlanSteps {
		return budgetgate.FieldErrorf("refactoring_plan.steps", "at most %d steps", MaxPlanSteps)
	}
	for i, s := range p.Steps {
		if strings.TrimSpace(s) == "" {
			return budgetgate.FieldErrorf(fmt.Sprintf("refactoring_plan.steps[%d]", i), "empty step")
		}
		if utf8.RuneCountInString(s) > MaxPlanStepLen {
			return budgetgate.FieldErrorf(fmt.Sprintf("refactoring_plan.steps[%d]", i), "at most %d characters", MaxPlanStepLen)
		}
	}
	d, err := time.Parse(time.DateOnly, p.TargetDate)
	if err != nil {
		return budgetgate.FieldErrorf("refactoring_plan.target_date", "want a date as YYYY-MM-DD, got %q", p.TargetDate)
	}
	if !d.After(now) {
		return budgetgate.FieldErrorf("refactoring_plan.target_date", "must be in the future")
	}
	return nil
}

// PlanProgress is how far a variant exception's refactoring plan has come
// for one (dimension, variant, metric) it covers.
type PlanProgress struct {
	ExceptionID   int64
	Status        ExceptionStatus
	Dimension     string
	Variant       string
	Metric        string
	DeltaApproved float64  // what the exception allowed: the delta when it was asked for
	DeltaNow      *float64 // on the latest baseline analysis; nil if not measured there
	SoftLimit     float64
	Target        string // the plan's target date, YYYY-MM-DD
	Steps         []string
	Done          bool // back within the soft limit
	Overdue       bool // past the target date and not done
}

// Progress reports, for each (dimension, variant, metric) the exception
// covers, the delta it allowed beside the delta on latest (the project's
// latest baseline analysis, or nil) and whether the plan is done or
// overdue. An exception without a plan has no progress to show.
func (e *Exception) Progress(latest *variant.Analysis, now time.Time) []PlanProgress {
	if e.Kind != ExceptionVariant || e.Plan == nil {
		return nil
	}
	covers := e.Subject.Limits()
	target, _ := time.Parse(time.DateOnly, e.Plan.TargetDate)
	var out []PlanProgress
	for _, c := range covers {
		p := PlanProgress{ExceptionID: e.ID, Status: e.Status, Dimension: c.Dimension, Variant: c.Variant, Metric: c.Metric,
			DeltaApproved: c.Value, Target: e.Plan.TargetDate, Steps: e.Plan.Steps}
		if latest != nil {
			for _, d := range latest.Dimensions {
				if d.Name != c.Dimension {
					continue
				}
				for _, m := range d.Metrics {
					if m.Name == c.Metric {
						p.SoftLimit = m.SoftLimit
					}
				}
				for _, v := range d.Variants {
					if vm, ok := v.Metrics[c.Metric]; ok && v.Name == c.Variant {
						delta := vm.Delta
						p.DeltaNow = &delta
					}
				}
			}
		}
		p.Done = p.DeltaNow != nil && variant.WithinSoft(*p.DeltaNow, p.SoftLimit)
		// The target day is the last day of the plan.
		p.Overdue = !p.Done && !target.IsZero() && now.After(target.AddDate(0, 0, 1))
		out = append(out, p)
	}
	return out
}
