// Package variant owns variant budgets: the variant policy, the analysis of
// a repository's facts into deltas, statuses and trends, compliance,
// projections and recommendations. It does no I/O.
package variant

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sort"
)

// Variant statuses per (dimension, metric), most severe first (see docs/BUDGET_MATH.md, Variant statuses and trends).
const (
	VariantFail      = "fail"
	VariantTrendFail = "trend_fail"
	VariantWarn      = "warn"
	VariantPass      = "pass"
)

// Analysis statuses.
const (
	AnalysisPass     = "pass"
	AnalysisWarn     = "warn"
	AnalysisBlocked  = "blocked"
	AnalysisExcepted = "excepted" // set by the server when exceptions cover every violation
)

// Skip reasons. Vendored, ignored and excluded files are not analysed at all;
// binary, generated and unknown files count for no code metric but are still
// seen by custom files, dirs and bytes metrics (test data is often binary).
const (
	SkipBinary    = "binary"
	SkipGenerated = "generated"
	SkipVendored  = "vendored"
	SkipIgnored   = "ignored"
	SkipExcluded  = "excluded"
	SkipUnknown   = "unknown" // no language recognised
)

// FileFacts is what the analyzer measured in one file.
type FileFacts struct {
	Path string
	Size int64
	Test bool   // a test file (VariantPolicy.IsTest)
	Code bool   // counts for code metrics: a programming language, or one the policy names
	Skip string // "" or SkipBinary, SkipGenerated, SkipUnknown

	Lines, Complexity, Functions, Classes, TestCases int
	TestTime                                         float64 // seconds, from JUnit reports

	BuildTags []string      // Go: the tags the file can only be built with
	InFile    []InFileCode  // code that dimensions' conditions give to variants
	Coverage  *FileCoverage // nil when no coverage report mentions the file
	Deps      []Dependency  // what the file imports
}

// ReportedValues are the values of a reported metric in one dimension.
type ReportedValues struct {
	Core     float64            `json:"core"`
	Variants map[string]float64 `json:"variants"`
}

// AnalysisInput is everything an analysis is computed from.
type AnalysisInput struct {
	Project  string
	Commit   string
	Baseline string
	Files    []FileFacts
	// Skipped counts files the analyzer left out before measuring (vendored,
	// ignored), by reason.
	Skipped map[string]int
	// Reported holds reported metrics: metric -> dimension -> values.
	Reported map[string]map[string]ReportedValues
	// Coverage says coverage reports were read: FileFacts.Coverage is set
	// for the files they mention.
	Coverage bool
}

// Analysis is the result of analysing one commit, as `budgetgate analyze
// --format json` prints it and the server stores it (see docs/API.md, CLI). Deltas, shares
// and changes are percentages rounded to two decimals, the precision limits
// are compared at.
type Analysis struct {
	Project        string            `json:"project"`
	Commit         string            `json:"commit"`
	Baseline       string            `json:"baseline"`
	BaselineCommit string            `json:"baseline_commit,omitempty"`
	TrendRef       string            `json:"trend_ref,omitempty"` // what trend limits compare with: a release tag or the baseline
	PolicyVersion  string            `json:"policy_version,omitempty"`
	Status         string            `json:"status"`
	AnalyzedFiles  int               `json:"analyzed_files"`
	SkippedFiles   int               `json:"skipped_files"`
	Skipped        map[string]int    `json:"skipped"`
	Dimensions     []DimensionResult `json:"dimensions"`
	Violations     []Violation       `json:"violations"`
	Unmeasured     *Unmeasured       `json:"unmeasured,omitempty"` // with coverage reports: code no report mentions
}

// Unmeasured is the code of files no coverage report mentions.
type Unmeasured struct {
	Files int `json:"files"`
	Lines int `json:"lines_of_code"`
}

// DimensionResult is one dimension of an analysis.
type DimensionResult struct {
	Name            string           `json:"name"`
	Status          string           `json:"status"`
	Metrics         []MetricResult   `json:"metrics"`
	Variants        []VariantResult  `json:"variants"`
	Overlaps        []Overlap        `json:"overlaps,omitempty"`
	InFile          []SharedFileCode `json:"in_file,omitempty"` // variant code inside shared files
	CoreCoverage    *LineCoverage    `json:"core_coverage,omitempty"`
	Recommendations []Recommendation `json:"recommendations,omitempty"`
}

// MetricResult is the figure of one (dimension, metric): the worst variant's
// delta, and the status over all variants.
type MetricResult struct {
	Name          string   `json:"name"`
	Budget        string   `json:"budget"` // the budget block it is checked against
	Status        string   `json:"status"`
	Delta         float64  `json:"delta"`
	Variant       string   `json:"variant"`
	Share         float64  `json:"share"` // 100 x m(all variants) / m(universe)
	Total         float64  `json:"total"` // m(universe)
	BaselineDelta *float64 `json:"baseline_delta"`
	ChangePP      *float64 `json:"change_pp"`
	TrendDelta    *float64 `json:"trend_delta,omitempty"` // the figure at TrendRef, when that is not the baseline
	HardLimit     float64  `json:"hard_limit"`
	SoftLimit     float64  `json:"soft_limit"`
	TrendLimit    *float64 `json:"trend_limit"`
}

// VariantResult is one variant of a dimension.
type VariantResult struct {
	Name     string                   `json:"name"`
	Files    int                      `json:"files"`
	Metrics  map[string]VariantMetric `json:"metrics"`
	Coverage *LineCoverage            `json:"coverage,omitempty"`
	// Dependencies are the variant's own: imported by its code, not core's.
	Dependencies []string `json:"dependencies,omitempty"`
}

// VariantMetric is one metric of one variant: value is m(V(d,v)), core is m(Core_d).
type VariantMetric struct {
	Value         float64  `json:"value"`
	Core          float64  `json:"core"`
	Delta         float64  `json:"delta"`
	Status        string   `json:"status"`
	BaselineDelta *float64 `json:"baseline_delta,omitempty"`
	ChangePP      *float64 `json:"change_pp,omitempty"`
	TrendChangePP *float64 `json:"trend_change_pp,omitempty"`
}

// Overlap is a file that two or more variants of one dimension match; it
// counts for each of them.
type Overlap struct {
	Path     string   `json:"path"`
	Variants []string `json:"variants"`
}

// Violation is a (dimension, variant, metric) that failed (see docs/BUDGET_MATH.md, Compliance and projection).
type Violation struct {
	Dimension string   `json:"dimension"`
	Variant   string   `json:"variant"`
	Metric    string   `json:"metric"`
	Status    string   `json:"status"` // fail or trend_fail
	Value     float64  `json:"value"`
	Delta     float64  `json:"delta"`
	Limit     float64  `json:"limit"` // the hard limit, or the trend limit for trend_fail
	ChangePP  *float64 `json:"change_pp,omitempty"`
}

// StatusRank orders statuses, most severe first; unknown ones sort last.
func StatusRank(s string) int {
	switch s {
	case VariantFail, AnalysisBlocked:
		return 0
	case VariantTrendFail:
		return 1
	case VariantWarn: // = AnalysisWarn
		return 2
	case VariantPass: // = AnalysisPass
		return 3
	}
	return 4
}

func worse(a, b string) string {
	if StatusRank(b) < StatusRank(a) {
		return b
	}
	return a
}

// Round2 rounds to two decimals, the precision deltas are reported and
// compared at.
func Round2(x float64) float64 { return math.Round(x*100) / 100 }

// Delta is 100 x variant / (core + variant), 0 when both are 0.
func Delta(core, variant float64) float64 {
	if core+variant == 0 {
		return 0
	}
	return 100 * variant / (core + variant)
}

// limitStatus applies hard and soft limits to a rounded delta.
func limitStatus(hard, soft, delta float64) string {
	switch {
	case delta > hard:
		return VariantFail
	case delta > soft:
		return VariantWarn
	}
	return VariantPass
}

// countsFor reports whether file f counts for metric m under budget b: code
// metrics count non-test files and test metrics test files, except that
// under test_budget every built-in metric counts test files (the test
// budget is about test code). Custom metrics count what their patterns match.
func countsFor(b *VariantBudget, m string, f *FileFacts) bool {
	switch {
	case slices.Contains(CodeMetrics, m):
		if b.Name == TestBudgetName {
			return f.Test && f.Skip == "" && f.Code
		}
		return !f.Test && f.Skip == "" && f.Code
	case m == MetricTestCaseCount:
		return f.Test
	case m == MetricTestExecutionTime:
		return f.Test
	}
	return true
}

// fileValue is m(f) for built-in and per-file custom metrics.
func fileValue(p *VariantPolicy, m string, f *FileFacts) float64 {
	switch m {
	case MetricLinesOfCode:
		return float64(f.Lines)
	case MetricCyclomaticComplexity:
		return float64(f.Complexity)
	case MetricFunctionCount:
		return float64(f.Functions)
	case MetricClassCount:
		return float64(f.Classes)
	case MetricTestCaseCount:
		return float64(f.TestCases)
	case MetricTestExecutionTime:
		return f.TestTime
	case MetricUncoveredLines:
		if f.Coverage == nil {
			return 0
		}
		return float64(len(f.Coverage.Uncovered))
	}
	cm := p.Metrics[m]
	switch cm.Kind {
	case MetricFiles:
		if matchAny(cm.Patterns, f.Path) {
			return 1
		}
	case MetricBytes:
		if matchAny(cm.Patterns, f.Path) {
			return float64(f.Size)
		}
	}
	return 0
}

// sums are the totals of one metric over one dimension and budget.
type sums struct {
	core     float64
	variants map[string]float64
	union    float64 // m(union of V(d,*))
	universe float64
	own      map[string][]string // dependencies: each variant's own, by name
}

// dirOf returns the directory a dirs metric counts for path: the shortest
// directory above it that a pattern matches.
func dirOf(cm Metric, p string) (string, bool) {
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		dir := p[:i]
		for _, g := range cm.Patterns {
			if _, ok := g.MatchDir(dir); ok {
				return dir, true
			}
		}
	}
	return "", false
}

// Analyze computes deltas and statuses for every dimension of the policy
// (see docs/BUDGET_MATH.md, Variant deltas). Baseline and trend come later, from CompareBaseline.
func (p *VariantPolicy) Analyze(in *AnalysisInput) *Analysis {
	a, _ := p.AnalyzeContext(context.Background(), in)
	return a
}

// AnalyzeContext is Analyze, ending with ctx's error once ctx is done.
// Matching every file against every pattern is the long part of an
// analysis, and it must end when its caller gives up (a signal, a
// deadline): the loops over files check ctx on each file, since one file
// against thousands of patterns takes milliseconds.
func (p *VariantPolicy) AnalyzeContext(ctx context.Context, in *AnalysisInput) (*Analysis, error) {
	a := &Analysis{
		Project:       cmp.Or(in.Project, p.Project),
		Commit:        in.Commit,
		Baseline:      cmp.Or(in.Baseline, p.Baseline),
		PolicyVersion: p.Version,
		Skipped:       map[string]int{},
		Dimensions:    []DimensionResult{},
		Violations:    []Violation{},
	}
	for r, n := range in.Skipped {
		a.Skipped[r] += n
	}
	var files []*FileFacts
	for i := range in.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := &in.Files[i]
		if p.Excluded(f.Path) {
			a.Skipped[SkipExcluded]++
			continue
		}
		if f.Skip != "" {
			a.Skipped[f.Skip]++
		} else {
			a.AnalyzedFiles++
		}
		files = append(files, f)
	}
	for _, n := range a.Skipped {
		a.SkippedFiles += n
	}
	for _, d := range p.Dimensions {
		dr, err := p.analyzeDimension(ctx, d, files, in.Reported)
		if err != nil {
			return nil, err
		}
		if in.Coverage {
			d.coverage(&dr, files)
		}
		a.Dimensions = append(a.Dimensions, dr)
	}
	if in.Coverage {
		a.Unmeasured = &Unmeasured{}
		a.Unmeasured.Files, a.Unmeasured.Lines = unmeasured(files)
	}
	a.finish()
	return a, nil
}

func (p *VariantPolicy) analyzeDimension(ctx context.Context, d *Dimension, files []*FileFacts, reported map[string]map[string]ReportedValues) (DimensionResult, error) {
	dr := DimensionResult{Name: d.Name, Status: VariantPass, Metrics: []MetricResult{}, Variants: []VariantResult{}}
	member := make([][]string, len(files))
	fileCount := map[string]int{}
	var names []string
	for _, nv := range d.Named {
		names = append(names, nv.Name)
	}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return dr, err
		}
		vs := d.fileVariants(f)
		member[i] = vs
		for _, v := range d.inFileVariants(f, vs) {
			// Only files that are analysed name variants: a generated
			// zz_gen.go does not make "gen" a vehicle.
			if f.Skip == "" && !slices.Contains(names, v) {
				names = append(names, v)
			}
			fileCount[v]++
		}
		if len(vs) > 1 {
			dr.Overlaps = append(dr.Overlaps, Overlap{Path: f.Path, Variants: vs})
		}
	}
	// Variants CI reports values for exist even without files.
	for _, b := range p.Budgets(d) {
		for _, m := range b.Metrics {
			for v := range reported[m][d.Name].Variants {
				if !slices.Contains(names, v) {
					names = append(names, v)
				}
			}
		}
	}
	if len(d.Named) == 0 {
		sort.Strings(names)
	}
	dr.InFile = inFileResults(d, files)
	for _, v := range names {
		dr.Variants = append(dr.Variants, VariantResult{Name: v, Files: fileCount[v], Metrics: map[string]VariantMetric{}})
	}
	for _, b := range p.Budgets(d) {
		excluded := make([]bool, len(files))
		for i, f := range files {
			if err := ctx.Err(); err != nil {
				return dr, err
			}
			excluded[i] = matchAny(b.Exclusions, f.Path)
		}
		for _, m := range b.Metrics {
			s, err := p.sum(ctx, d, b, m, files, member, excluded, reported[m][d.Name])
			if err != nil {
				return dr, err
			}
			mr := MetricResult{Name: m, Budget: b.Name, Status: VariantPass, HardLimit: b.HardLimit, SoftLimit: b.SoftLimit}
			if b.HasTrend {
				mr.TrendLimit = ptr(b.TrendLimit)
			}
			mr.Total = roundValue(s.universe)
			if s.universe > 0 {
				mr.Share = Round2(100 * s.union / s.universe)
			}
			for i := range dr.Variants {
				vr := &dr.Variants[i]
				if own, ok := s.own[vr.Name]; ok {
					vr.Dependencies = own
				}
				val := s.variants[vr.Name]
				vm := VariantMetric{Value: roundValue(val), Core: roundValue(s.core), Delta: Round2(Delta(s.core, val))}
				vm.Status = limitStatus(mr.HardLimit, mr.SoftLimit, vm.Delta)
				vr.Metrics[m] = vm
				if mr.Variant == "" || vm.Delta > mr.Delta {
					mr.Delta, mr.Variant = vm.Delta, vr.Name
				}
			}
			dr.Metrics = append(dr.Metrics, mr)
		}
	}
	return dr, nil
}

func ptr(x float64) *float64 { return &x }

// roundValue keeps metric values readable: times in seconds to milliseconds.
func roundValue(x float64) float64 { return math.Round(x*1000) / 1000 }

func (p *VariantPolicy) sum(ctx context.Context, d *Dimension, b *VariantBudget, m string, files []*FileFacts, member [][]string, excluded []bool, rep ReportedValues) (sums, error) {
	s := sums{variants: map[string]float64{}}
	cm, custom := p.Metrics[m]
	switch {
	case custom && cm.Kind == MetricReported:
		s.core = rep.Core
		for v, x := range rep.Variants {
			s.variants[v] = x
			s.union += x
		}
		s.universe = s.core + s.union
		return s, nil
	case m == MetricDependencies:
		s, own := d.sumDependencies(b, files, member, excluded)
		s.own = own
		return s, nil
	case custom && cm.Kind == MetricDirs:
		seen := map[string]bool{}
		for i, f := range files {
			if err := ctx.Err(); err != nil {
				return s, err
			}
			if excluded[i] {
				continue
			}
			dir, ok := dirOf(cm, f.Path)
			if !ok || seen[dir] {
				continue
			}
			seen[dir] = true
			s.universe++
			vs := d.Variants(dir, false)
			if len(vs) == 0 {
				s.core++
				continue
			}
			s.union++
			for _, v := range vs {
				s.variants[v]++
			}
		}
		return s, nil
	}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		if excluded[i] || !countsFor(b, m, f) {
			continue
		}
		x := fileValue(p, m, f)
		if x == 0 {
			continue
		}
		s.universe += x
		for _, seg := range d.segments(f, m, x, member[i]) {
			if len(seg.variants) == 0 && !seg.shared {
				s.core += seg.value
				continue
			}
			s.union += seg.value
			for _, v := range seg.variants {
				s.variants[v] += seg.value
			}
		}
	}
	return s, nil
}

// finish derives dimension and analysis statuses and the violations, and
// orders dimensions worst first.
func (a *Analysis) finish() {
	a.Violations = []Violation{}
	a.Status = AnalysisPass
	for di := range a.Dimensions {
		dr := &a.Dimensions[di]
		dr.Status = VariantPass
		for mi := range dr.Metrics {
			mr := &dr.Metrics[mi]
			mr.Status = VariantPass
			for _, vr := range dr.Variants {
				vm, ok := vr.Metrics[mr.Name]
				if !ok {
					continue
				}
				mr.Status = worse(mr.Status, vm.Status)
				switch vm.Status {
				case VariantFail:
					a.Violations = append(a.Violations, Violation{Dimension: dr.Name, Variant: vr.Name, Metric: mr.Name, Status: vm.Status, Value: vm.Value, Delta: vm.Delta, Limit: mr.HardLimit, ChangePP: vm.ChangePP})
				case VariantTrendFail:
					a.Violations = append(a.Violations, Violation{Dimension: dr.Name, Variant: vr.Name, Metric: mr.Name, Status: vm.Status, Value: vm.Value, Delta: vm.Delta, Limit: *mr.TrendLimit, ChangePP: vm.TrendChangePP})
				}
			}
			dr.Status = worse(dr.Status, mr.Status)
		}
		slices.SortStableFunc(dr.Metrics, func(x, y MetricResult) int {
			return cmp.Or(cmp.Compare(StatusRank(x.Status), StatusRank(y.Status)), cmp.Compare(y.Delta, x.Delta))
		})
		switch dr.Status {
		case VariantFail, VariantTrendFail:
			a.Status = AnalysisBlocked
		case VariantWarn:
			if a.Status == AnalysisPass {
				a.Status = AnalysisWarn
			}
		}
	}
	slices.SortStableFunc(a.Dimensions, func(x, y DimensionResult) int {
		return cmp.Compare(StatusRank(x.Status), StatusRank(y.Status))
	})
	slices.SortStableFunc(a.Violations, func(x, y Violation) int {
		return cmp.Or(cmp.Compare(StatusRank(x.Status), StatusRank(y.Status)), cmp.Compare(y.Delta, x.Delta))
	})
}

// CompareBaseline sets, for every (dimension, metric) and variant, the delta
// at the baseline and the change in percentage points, and applies trend
// limits against trend (the analysis of the last release), or against the
// baseline when trend is nil. A variant the reference lacks had delta 0 there.
func (a *Analysis) CompareBaseline(base, trend *Analysis, trendRef string) {
	if base == nil {
		return
	}
	a.BaselineCommit = base.Commit
	if a.Baseline == "" {
		a.Baseline = base.Commit
	}
	if trend == nil {
		trend = base
		trendRef = cmp.Or(trendRef, a.Baseline)
	}
	a.TrendRef = trendRef
	for di := range a.Dimensions {
		dr := &a.Dimensions[di]
		bd, td := base.dimension(dr.Name), trend.dimension(dr.Name)
		for mi := range dr.Metrics {
			mr := &dr.Metrics[mi]
			// A reference without any data for the metric (no JUnit report
			// or reported values for the baseline) says nothing about change.
			baseOK, trendOK := bd.hasData(mr.Name), td.hasData(mr.Name)
			mr.BaselineDelta, mr.ChangePP, mr.TrendDelta = nil, nil, nil
			if baseOK {
				mr.BaselineDelta = ptr(bd.metric(mr.Name).Delta)
				mr.ChangePP = ptr(Round2(mr.Delta - *mr.BaselineDelta))
			}
			if trend != base && trendOK {
				mr.TrendDelta = ptr(td.metric(mr.Name).Delta)
			}
			for vi := range dr.Variants {
				vm, ok := dr.Variants[vi].Metrics[mr.Name]
				if !ok {
					continue
				}
				name := dr.Variants[vi].Name
				vm.BaselineDelta, vm.ChangePP, vm.TrendChangePP = nil, nil, nil
				if baseOK {
					vm.BaselineDelta = ptr(bd.variantDelta(name, mr.Name))
					vm.ChangePP = ptr(Round2(vm.Delta - *vm.BaselineDelta))
				}
				vm.Status = limitStatus(mr.HardLimit, mr.SoftLimit, vm.Delta)
				if trendOK {
					vm.TrendChangePP = ptr(Round2(vm.Delta - td.variantDelta(name, mr.Name)))
					if mr.TrendLimit != nil && vm.Status != VariantFail && *vm.TrendChangePP > *mr.TrendLimit {
						vm.Status = VariantTrendFail
					}
				}
				dr.Variants[vi].Metrics[mr.Name] = vm
			}
		}
	}
	a.finish()
}

// hasData reports whether the metric was measured at all: no JUnit
// report or reported values give a total of 0.
func (d *DimensionResult) hasData(metric string) bool {
	m := d.metric(metric)
	return m != nil && m.Total != 0
}

func (a *Analysis) dimension(name string) *DimensionResult {
	for i := range a.Dimensions {
		if a.Dimensions[i].Name == name {
			return &a.Dimensions[i]
		}
	}
	return nil
}

func (d *DimensionResult) metric(name string) *MetricResult {
	if d == nil {
		return nil
	}
	for i := range d.Metrics {
		if d.Metrics[i].Name == name {
			return &d.Metrics[i]
		}
	}
	return nil
}

func (d *DimensionResult) variantDelta(variant, metric string) float64 {
	if d == nil {
		return 0
	}
	for _, v := range d.Variants {
		if v.Name == variant {
			return v.Metrics[metric].Delta
		}
	}
	return 0
}
