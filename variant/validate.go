package variant

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/budgetgate/budgetgate"
)

// Limits on a posted analysis, so that one request cannot make the server
// store or render something unbounded, and the largest allowed analysis is
// answered well within the request timeout (docs/PERFORMANCE.md measures
// it). The figures are what a variant carries per metric; violations are
// derived from them, so they are bounded alike.
const (
	MaxAnalysisDimensions = 64
	MaxDimensionMetrics   = 64
	MaxDimensionVariants  = 2000
	// MaxAnalysisFigures bounds the (variant, metric) figures of all
	// dimensions together: 2,000 variants of 10 metrics.
	MaxAnalysisFigures    = 20000
	MaxAnalysisViolations = MaxAnalysisFigures
	MaxNameLength         = 200
)

// projectRE is what a project name may be: it appears in URLs and file names.
var projectRE = identRE

// ValidProjectName reports whether name can name a project.
func ValidProjectName(name string) bool {
	return name != "" && len(name) <= 100 && projectRE.MatchString(name)
}

// CheckName refuses an empty, overlong or control-character name.
func CheckName(field, s string) error {
	switch {
	case s == "":
		return budgetgate.FieldErrorf(field, "required")
	case len(s) > MaxNameLength:
		return budgetgate.FieldErrorf(field, "at most %d characters", MaxNameLength)
	case strings.ContainsFunc(s, unicode.IsControl):
		return budgetgate.FieldErrorf(field, "must not contain control characters")
	}
	return nil
}

func checkPercent(field string, x float64) error {
	if err := budgetgate.CheckNumber(field, x); err != nil {
		return err
	}
	if x < 0 || x > 100 {
		return budgetgate.FieldErrorf(field, "must be between 0 and 100, got %g", x)
	}
	return nil
}

// Validate checks an analysis posted by a client (`budgetgate analyze
// --post`): names present and bounded, figures finite, deltas percentages,
// lists within their limits. Fields are named as in the JSON document.
func (a *Analysis) Validate() error {
	if !ValidProjectName(a.Project) {
		if a.Project == "" {
			return budgetgate.FieldErrorf("project", "required")
		}
		return budgetgate.FieldErrorf("project", "%q is not a project name (letters, digits, '.', '_' and '-', at most 100)", a.Project)
	}
	if err := CheckName("commit", a.Commit); err != nil {
		return err
	}
	for field, s := range map[string]string{"baseline": a.Baseline, "baseline_commit": a.BaselineCommit, "trend_ref": a.TrendRef, "policy_version": a.PolicyVersion} {
		if s != "" {
			if err := CheckName(field, s); err != nil {
				return err
			}
		}
	}
	switch a.Status {
	case AnalysisPass, AnalysisWarn, AnalysisBlocked:
	case "":
		return budgetgate.FieldErrorf("status", "required")
	default:
		return budgetgate.FieldErrorf("status", "want pass, warn or blocked, got %q", a.Status)
	}
	if err := budgetgate.CheckCount("analyzed_files", int64(a.AnalyzedFiles)); err != nil {
		return err
	}
	if err := budgetgate.CheckCount("skipped_files", int64(a.SkippedFiles)); err != nil {
		return err
	}
	if a.Dimensions == nil {
		return budgetgate.FieldErrorf("dimensions", "required")
	}
	if len(a.Dimensions) > MaxAnalysisDimensions {
		return &budgetgate.Error{Code: budgetgate.ETOOLARGE, Field: "dimensions", Message: fmt.Sprintf("%d dimensions; at most %d", len(a.Dimensions), MaxAnalysisDimensions)}
	}
	if len(a.Violations) > MaxAnalysisViolations {
		return &budgetgate.Error{Code: budgetgate.ETOOLARGE, Field: "violations", Message: fmt.Sprintf("%d violations; at most %d", len(a.Violations), MaxAnalysisViolations)}
	}
	figures := 0
	for i := range a.Dimensions {
		for _, v := range a.Dimensions[i].Variants {
			figures += len(v.Metrics)
		}
	}
	if figures > MaxAnalysisFigures {
		return &budgetgate.Error{Code: budgetgate.ETOOLARGE, Field: "dimensions", Message: fmt.Sprintf("%d variant figures (a variant's metrics, over every dimension); at most %d", figures, MaxAnalysisFigures)}
	}
	seen := map[string]bool{}
	for i := range a.Dimensions {
		if err := a.Dimensions[i].validate(fmt.Sprintf("dimensions[%d]", i)); err != nil {
			return err
		}
		if seen[a.Dimensions[i].Name] {
			return budgetgate.FieldErrorf(fmt.Sprintf("dimensions[%d].name", i), "dimension %q is given twice", a.Dimensions[i].Name)
		}
		seen[a.Dimensions[i].Name] = true
	}
	return nil
}

func (d *DimensionResult) validate(at string) error {
	if err := CheckName(at+".name", d.Name); err != nil {
		return err
	}
	if len(d.Metrics) > MaxDimensionMetrics {
		return &budgetgate.Error{Code: budgetgate.ETOOLARGE, Field: at + ".metrics", Message: fmt.Sprintf("%d metrics; at most %d", len(d.Metrics), MaxDimensionMetrics)}
	}
	if len(d.Variants) > MaxDimensionVariants {
		return &budgetgate.Error{Code: budgetgate.ETOOLARGE, Field: at + ".variants", Message: fmt.Sprintf("%d variants; at most %d", len(d.Variants), MaxDimensionVariants)}
	}
	metrics := map[string]bool{}
	for i, m := range d.Metrics {
		f := fmt.Sprintf("%s.metrics[%d]", at, i)
		if err := CheckName(f+".name", m.Name); err != nil {
			return err
		}
		if metrics[m.Name] {
			return budgetgate.FieldErrorf(f+".name", "metric %q is given twice", m.Name)
		}
		metrics[m.Name] = true
		for _, c := range []struct {
			name string
			x    float64
		}{{"delta", m.Delta}, {"share", m.Share}, {"hard_limit", m.HardLimit}, {"soft_limit", m.SoftLimit}} {
			if err := checkPercent(f+"."+c.name, c.x); err != nil {
				return err
			}
		}
		if m.SoftLimit > m.HardLimit {
			return budgetgate.FieldErrorf(f+".soft_limit", "%g is above the hard limit %g", m.SoftLimit, m.HardLimit)
		}
		if err := budgetgate.CheckNumber(f+".total", m.Total); err != nil {
			return err
		}
		for name, p := range map[string]*float64{"baseline_delta": m.BaselineDelta, "change_pp": m.ChangePP, "trend_delta": m.TrendDelta, "trend_limit": m.TrendLimit} {
			if p != nil {
				if err := budgetgate.CheckNumber(f+"."+name, *p); err != nil {
					return err
				}
			}
		}
	}
	variants := map[string]bool{}
	for i, v := range d.Variants {
		f := fmt.Sprintf("%s.variants[%d]", at, i)
		if err := CheckName(f+".name", v.Name); err != nil {
			return err
		}
		if variants[v.Name] {
			return budgetgate.FieldErrorf(f+".name", "variant %q is given twice", v.Name)
		}
		variants[v.Name] = true
		if len(v.Metrics) > MaxDimensionMetrics {
			return &budgetgate.Error{Code: budgetgate.ETOOLARGE, Field: f + ".metrics", Message: fmt.Sprintf("%d metrics; at most %d", len(v.Metrics), MaxDimensionMetrics)}
		}
		for name, vm := range v.Metrics {
			mf := f + ".metrics." + name
			if !metrics[name] {
				return budgetgate.FieldErrorf(mf, "metric %q is not among the dimension's metrics", name)
			}
			if err := checkPercent(mf+".delta", vm.Delta); err != nil {
				return err
			}
			for field, x := range map[string]float64{"value": vm.Value, "core": vm.Core} {
				if err := budgetgate.CheckNumber(mf+"."+field, x); err != nil {
					return err
				}
			}
			for field, p := range map[string]*float64{"baseline_delta": vm.BaselineDelta, "change_pp": vm.ChangePP, "trend_change_pp": vm.TrendChangePP} {
				if p != nil {
					if err := budgetgate.CheckNumber(mf+"."+field, *p); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
