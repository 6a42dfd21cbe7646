package variant

import (
	"path"
	"slices"
	"strings"
)

// Built-in variant metrics (see docs/POLICY.md, Variant policy). Code metrics count non-test files, test
// metrics count test files.
const (
	MetricLinesOfCode          = "lines_of_code"
	MetricCyclomaticComplexity = "cyclomatic_complexity"
	MetricFunctionCount        = "function_count"
	MetricClassCount           = "class_count"
	MetricTestCaseCount        = "test_case_count"
	MetricTestExecutionTime    = "test_execution_time"
)

// CodeMetrics and TestMetrics list the built-in metrics by the files they count.
var (
	CodeMetrics = []string{MetricLinesOfCode, MetricCyclomaticComplexity, MetricFunctionCount, MetricClassCount, MetricUncoveredLines, MetricDependencies}
	TestMetrics = []string{MetricTestCaseCount, MetricTestExecutionTime}
)

// TestBudgetName is the budget that applies to every dimension's variants.
const TestBudgetName = "test_budget"

// DefaultReleaseTags is the pattern the last release tag is found by when the
// policy does not say (release_tags).
const DefaultReleaseTags = "v*"

// VariantPolicy is a repository's .budgetgate.yaml (see docs/POLICY.md, Variant policy), validated.
type VariantPolicy struct {
	Project  string
	Baseline string // the branch changes are compared against, as written

	Exclude []*Glob // removed from every universe
	Tests   []*Glob // test files, beside the per-language defaults

	// Languages names prose or data languages whose files count as code.
	// The analyzer checks the names; LanguagesAt gives each one's position.
	Languages   []string
	LanguagesAt []string

	// ReleaseTags is the tag pattern (git's --match) that finds the last
	// release for trend limits; DefaultReleaseTags unless the policy says.
	ReleaseTags string

	Dimensions []*Dimension      // in file order
	TestBudget *VariantBudget    // nil if the policy has none
	Metrics    map[string]Metric // custom metrics by name

	Version string // "sha256:" + hex of the file
	Source  []byte
}

// Dimension is one axis of variation: vehicle, sector, platform.
type Dimension struct {
	Name string
	// Patterns holds the pattern form: every pattern has a {variant}
	// placeholder, and the captured names are the variants.
	Patterns []*Glob
	// Named holds the explicit form, in file order.
	Named  []NamedVariant
	Budget *VariantBudget // the dimension's <name>_budget, or nil
	// Conditions and BuildConstraints find variants inside files (see
	// infile.go).
	Conditions       []Condition
	BuildConstraints bool
}

// NamedVariant is a variant given by name with its own patterns.
type NamedVariant struct {
	Name     string
	Patterns []*Glob
}

// VariantBudget is a <dimension>_budget or the test_budget block.
type VariantBudget struct {
	Name       string // "vehicle_budget", "test_budget"
	HardLimit  float64
	SoftLimit  float64 // equals HardLimit when not given
	TrendLimit float64
	HasTrend   bool // trend_limit given
	Exclusions []*Glob
	Metrics    []string
}

// Metric kinds of custom metrics.
const (
	MetricFiles    = "files"    // number of matching files
	MetricDirs     = "dirs"     // number of matching directories that hold analysed files
	MetricBytes    = "bytes"    // total size of matching files
	MetricReported = "reported" // a value per variant, given by CI
)

// Metric is a custom metric. A files, dirs or bytes metric counts every file
// of the universe that its patterns select, test files and code files alike,
// since the patterns already say which files they mean (testdata/** is not a
// test file by the default rules, yet is what test_data_volume measures).
type Metric struct {
	Name     string
	Kind     string // MetricFiles, MetricDirs, MetricBytes, MetricReported
	Patterns []*Glob
}

// IsBuiltinMetric reports whether name is one of the built-in metrics.
func IsBuiltinMetric(name string) bool {
	return slices.Contains(CodeMetrics, name) || slices.Contains(TestMetrics, name)
}

// Budgets returns the budgets that apply to d: its own, then the test budget.
func (p *VariantPolicy) Budgets(d *Dimension) []*VariantBudget {
	var bs []*VariantBudget
	if d.Budget != nil {
		bs = append(bs, d.Budget)
	}
	if p.TestBudget != nil {
		bs = append(bs, p.TestBudget)
	}
	return bs
}

// Dimension returns the dimension called name, or nil.
func (p *VariantPolicy) Dimension(name string) *Dimension {
	for _, d := range p.Dimensions {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Excluded reports whether the policy's exclude patterns remove path.
func (p *VariantPolicy) Excluded(path string) bool { return matchAny(p.Exclude, path) }

// IsTest reports whether path is a test file: by the per-language defaults of
// docs/POLICY.md, Patterns, or by the policy's tests patterns.
func (p *VariantPolicy) IsTest(path string) bool {
	return IsDefaultTestPath(path) || matchAny(p.Tests, path)
}

// IsDefaultTestPath applies the default test-file rules of docs/POLICY.md, Variant policy.
func IsDefaultTestPath(p string) bool {
	base := path.Base(p)
	ext := path.Ext(base)
	switch ext {
	case ".go":
		if strings.HasSuffix(base, "_test.go") {
			return true
		}
	case ".py":
		if strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py") || base == "conftest.py" {
			return true
		}
	case ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts":
		stem := strings.TrimSuffix(base, ext)
		if strings.HasSuffix(stem, ".test") || strings.HasSuffix(stem, ".spec") || strings.Contains("/"+p, "/__tests__/") {
			return true
		}
	}
	if (ext == ".java" || ext == ".kt" || ext == ".kts") && strings.Contains("/"+p, "/src/test/") {
		return true
	}
	dir := "/" + path.Dir(p) + "/"
	return strings.Contains(dir, "/test/") || strings.Contains(dir, "/tests/")
}

// Variants returns the variants of d that path belongs to, in order and
// without repeats. A test file is matched by the path of what it tests
// (brake_truck_test.go as brake_truck.go), so that "**/*_{variant}.go" does
// not name a variant "test".
func (d *Dimension) Variants(p string, isTest bool) []string {
	subject := p
	if isTest {
		subject = testSubject(p)
	}
	var out []string
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, g := range d.Patterns {
		if v, ok := g.Match(subject); ok {
			add(v)
		}
	}
	for _, nv := range d.Named {
		if matchAny(nv.Patterns, subject) {
			add(nv.Name)
		}
	}
	return out
}

// testSubject strips the test marker from a test file's name: x_test.go and
// x_test.py to x.go and x.py, test_x.py to x.py, x.test.ts and x.spec.ts to x.ts.
func testSubject(p string) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	switch {
	case strings.HasSuffix(stem, "_test") && len(stem) > len("_test"):
		stem = strings.TrimSuffix(stem, "_test")
	case strings.HasSuffix(stem, ".test") && len(stem) > len(".test"):
		stem = strings.TrimSuffix(stem, ".test")
	case strings.HasSuffix(stem, ".spec") && len(stem) > len(".spec"):
		stem = strings.TrimSuffix(stem, ".spec")
	case strings.HasPrefix(stem, "test_") && len(stem) > len("test_"):
		stem = strings.TrimPrefix(stem, "test_")
	default:
		return p
	}
	return dir + stem + ext
}

func matchAny(gs []*Glob, p string) bool {
	for _, g := range gs {
		if _, ok := g.Match(p); ok {
			return true
		}
	}
	return false
}
