package budgetgate

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
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
		return FieldErrorf(field, "required")
	case len(s) > MaxNameLength:
		return FieldErrorf(field, "at most %d characters", MaxNameLength)
	case strings.ContainsFunc(s, unicode.IsControl):
		return FieldErrorf(field, "must not contain control characters")
	}
	return nil
}

func checkPercent(field string, x float64) error {
	if err := CheckNumber(field, x); err != nil {
		return err
	}
	if x < 0 || x > 100 {
		return FieldErrorf(field, "must be between 0 and 100, got %g", x)
	}
	return nil
}

// Validate checks an analysis posted by a client (`budgetgate analyze
// --post`): names present and bounded, figures finite, deltas percentages,
// lists within their limits. Fields are named as in the JSON document.
func (a *Analysis) Validate() error {
	if !ValidProjectName(a.Project) {
		if a.Project == "" {
			return FieldErrorf("project", "required")
		}
		return FieldErrorf("project", "%q is not a project name (letters, digits, '.', '_' and '-', at most 100)", a.Project)
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
		return FieldErrorf("status", "required")
	default:
		return FieldErrorf("status", "want pass, warn or blocked, got %q", a.Status)
	}
	if err := CheckCount("analyzed_files", int64(a.AnalyzedFiles)); err != nil {
		return err
	}
	if err := CheckCount("skipped_files", int64(a.SkippedFiles)); err != nil {
		return err
	}
	if a.Dimensions == nil {
		return FieldErrorf("dimensions", "required")
	}
	if len(a.Dimensions) > MaxAnalysisDimensions {
		return &Error{Code: ETOOLARGE, Field: "dimensions", Message: fmt.Sprintf("%d dimensions; at most %d", len(a.Dimensions), MaxAnalysisDimensions)}
	}
	if len(a.Violations) > MaxAnalysisViolations {
		return &Error{Code: ETOOLARGE, Field: "violations", Message: fmt.Sprintf("%d violations; at most %d", len(a.Violations), MaxAnalysisViolations)}
	}
	figures := 0
	for i := range a.Dimensions {
		for _, v := range a.Dimensions[i].Variants {
			figures += len(v.Metrics)
		}
	}
	if figures > MaxAnalysisFigures {
		return &Error{Code: ETOOLARGE, Field: "dimensions", Message: fmt.Sprintf("%d variant figures (a variant's metrics, over every dimension); at most %d", figures, MaxAnalysisFigures)}
	}
	seen := map[string]bool{}
	for i := range a.Dimensions {
		if err := a.Dimensions[i].validate(fmt.Sprintf("dimensions[%d]", i)); err != nil {
			return err
		}
		if seen[a.Dimensions[i].Name] {
			return FieldErrorf(fmt.Sprintf("dimensions[%d].name", i), "dimension %q is given twice", a.Dimensions[i].Name)
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
		return &Error{Code: ETOOLARGE, Field: at + ".metrics", Message: fmt.Sprintf("%d metrics; at most %d", len(d.Metrics), MaxDimensionMetrics)}
	}
	if len(d.Variants) > MaxDimensionVariants {
		return &Error{Code: ETOOLARGE, Field: at + ".variants", Message: fmt.Sprintf("%d variants; at most %d", len(d.Variants), MaxDimensionVariants)}
	}
	metrics := map[string]bool{}
	for i, m := range d.Metrics {
		f := fmt.Sprintf("%s.metrics[%d]", at, i)
		if err := CheckName(f+".name", m.Name); err != nil {
			return err
		}
		if metrics[m.Name] {
			return FieldErrorf(f+".name", "metric %q is given twice", m.Name)
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
			return FieldErrorf(f+".soft_limit", "%g is above the hard limit %g", m.SoftLimit, m.HardLimit)
		}
		if err := CheckNumber(f+".total", m.Total); err != nil {
			return err
		}
		for name, p := range map[string]*float64{"baseline_delta": m.BaselineDelta, "change_pp": m.ChangePP, "trend_delta": m.TrendDelta, "trend_limit": m.TrendLimit} {
			if p != nil {
				if err := CheckNumber(f+"."+name, *p); err != nil {
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
			return FieldErrorf(f+".name", "variant %q is given twice", v.Name)
		}
		variants[v.Name] = true
		if len(v.Metrics) > MaxDimensionMetrics {
			return &Error{Code: ETOOLARGE, Field: f + ".metrics", Message: fmt.Sprintf("%d metrics; at most %d", len(v.Metrics), MaxDimensionMetrics)}
		}
		for name, vm := range v.Metrics {
			mf := f + ".metrics." + name
			if !metrics[name] {
				return FieldErrorf(mf, "metric %q is not among the dimension's metrics", name)
			}
			if err := checkPercent(mf+".delta", vm.Delta); err != nil {
				return err
			}
			for field, x := range map[string]float64{"value": vm.Value, "core": vm.Core} {
				if err := CheckNumber(mf+"."+field, x); err != nil {
					return err
				}
			}
			for field, p := range map[string]*float64{"baseline_delta": vm.BaselineDelta, "change_pp": vm.ChangePP, "trend_change_pp": vm.TrendChangePP} {
				if p != nil {
					if err := CheckNumber(mf+"."+field, *p); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// Reevaluate derives every status and the violations again from the figures
// and limits the analysis carries, so that what the server stores and gates
// on does not depend on the statuses a client wrote.
func (a *Analysis) Reevaluate() {
	for di := range a.Dimensions {
		dr := &a.Dimensions[di]
		for _, mr := range dr.Metrics {
			for vi := range dr.Variants {
				vm, ok := dr.Variants[vi].Metrics[mr.Name]
				if !ok {
					continue
				}
				vm.Status = limitStatus(mr.HardLimit, mr.SoftLimit, Round2(vm.Delta))
				if vm.Status != VariantFail && mr.TrendLimit != nil && vm.TrendChangePP != nil && Round2(*vm.TrendChangePP) > *mr.TrendLimit {
					vm.Status = VariantTrendFail
				}
				dr.Variants[vi].Metrics[mr.Name] = vm
			}
		}
	}
	a.finish()
}

// WithinSoft says whether a delta is within a soft limit, compared rounded
// to two decimals as every status is (SPEC 4.3).
func WithinSoft(delta, softLimit float64) bool { return Round2(delta) <= softLimit }

// HoldTo keeps a change to the limits of its project's baseline: each
// (dimension, metric) limit the baseline also has is the stricter of the
// two, and the statuses are derived again. A change cannot loosen its own
// budget on the server any more than in the analyzer (SPEC 4.1); the
// baseline's own analyses are how a reviewed policy change takes effect.
func (a *Analysis) HoldTo(baseline *Analysis) {
	if baseline == nil {
		return
	}
	type key struct{ dimension, metric string }
	ref := map[key]MetricResult{}
	for _, d := range baseline.Dimensions {
		for _, m := range d.Metrics {
			ref[key{d.Name, m.Name}] = m
		}
	}
	for di := range a.Dimensions {
		d := &a.Dimensions[di]
		for mi := range d.Metrics {
			m := &d.Metrics[mi]
			r, ok := ref[key{d.Name, m.Name}]
			if !ok {
				continue
			}
			m.HardLimit, m.SoftLimit = min(m.HardLimit, r.HardLimit), min(m.SoftLimit, r.SoftLimit)
			if r.TrendLimit != nil && (m.TrendLimit == nil || *r.TrendLimit < *m.TrendLimit) {
				limit := *r.TrendLimit
				m.TrendLimit = &limit
			}
		}
	}
	a.Reevaluate()
}

// StatusWith is the analysis's status once exceptions are taken into
// account: covered[i] says whether an approved exception covers
// a.Violations[i] up to its measured value. A blocked analysis whose every
// violation is covered is excepted; anything else keeps its status.
func (a *Analysis) StatusWith(covered []bool) string {
	if a.Status != AnalysisBlocked || len(a.Violations) == 0 || len(covered) != len(a.Violations) {
		return a.Status
	}
	for _, c := range covered {
		if !c {
			return AnalysisBlocked
		}
	}
	return AnalysisExcepted
}

// Compliance is the share of (dimension, metric) pairs within their soft
// limits (SPEC 4.5).
type Compliance struct {
	Score  float64 `json:"score"` // percent, two decimals
	Within int     `json:"within"`
	Pairs  int     `json:"pairs"`
}

// ComplianceOf scores an analysis: the percentage of its (dimension,
// metric) figures at or under their soft limit. An analysis with no
// figures breaks no limit: 100.
func ComplianceOf(a *Analysis) Compliance {
	var c Compliance
	for _, dr := range a.Dimensions {
		for _, mr := range dr.Metrics {
			c.Pairs++
			if WithinSoft(mr.Delta, mr.SoftLimit) {
				c.Within++
			}
		}
	}
	c.Score = 100
	if c.Pairs > 0 {
		c.Score = Round2(100 * float64(c.Within) / float64(c.Pairs))
	}
	return c
}

// TrendPoint is a figure at a moment: a dimension's delta for one metric
// at one baseline analysis.
type TrendPoint struct {
	Time  time.Time
	Value float64
}

// Projection is a least-squares line through recent figures and where it
// meets a limit.
type Projection struct {
	Points      int        `json:"points"`
	SlopePerDay float64    `json:"slope_per_day"` // percentage points a day
	Fitted      float64    `json:"fitted"`        // the line's value at the last point
	Limit       float64    `json:"limit"`
	Crosses     *time.Time `json:"crosses_at"` // when the line reaches the limit; nil if it never does
	Over        bool       `json:"over"`       // the line is above the limit at the last point already
}

// MinProjectionPoints is how many figures a projection needs.
const MinProjectionPoints = 3

// maxProjectionDays bounds how far ahead a crossing is reported.
const maxProjectionDays = 10 * 365

// ProjectCrossing fits a line (least squares, time in days) through
// points and says when it reaches limit. It is false when there are fewer
// than MinProjectionPoints points or they all share one moment. A flat or
// falling line under the limit never crosses it; a line already over it
// reports the moment it went over, which may be before the last point.
func ProjectCrossing(points []TrendPoint, limit float64) (Projection, bool) {
	if len(points) < MinProjectionPoints {
		return Projection{}, false
	}
	pts := slices.Clone(points)
	slices.SortStableFunc(pts, func(x, y TrendPoint) int { return x.Time.Compare(y.Time) })
	t0 := pts[0].Time
	day := func(t time.Time) float64 { return t.Sub(t0).Hours() / 24 }
	var sx, sy float64
	for _, p := range pts {
		sx += day(p.Time)
		sy += p.Value
	}
	n := float64(len(pts))
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for _, p := range pts {
		dx := day(p.Time) - mx
		sxy += dx * (p.Value - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return Projection{}, false
	}
	slope := sxy / sxx
	last := pts[len(pts)-1].Time
	pr := Projection{Points: len(pts), SlopePerDay: slope, Limit: limit}
	pr.Fitted = my + slope*(day(last)-mx)
	pr.Over = pr.Fitted > limit
	if slope == 0 {
		return pr, true
	}
	if !pr.Over && slope < 0 {
		return pr, true
	}
	if pr.Over && slope < 0 {
		// Falling but still over: it went over before any point we have.
		return pr, true
	}
	x := mx + (limit-my)/slope // days after t0 where the line meets the limit
	if x-day(last) > maxProjectionDays {
		return pr, true // so slow it says nothing
	}
	at := t0.Add(time.Duration(x * 24 * float64(time.Hour)))
	pr.Crosses = &at
	return pr, true
}
