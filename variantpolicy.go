package budgetgate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Built-in variant metrics (SPEC 4.2). Code metrics count non-test files, test
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

// VariantPolicy is a repository's .budgetgate.yaml (SPEC 4.1), validated.
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
	// variantinfile.go).
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
// SPEC 4.2, or by the policy's tests patterns.
func (p *VariantPolicy) IsTest(path string) bool {
	return IsDefaultTestPath(path) || matchAny(p.Tests, path)
}

// IsDefaultTestPath applies the default test-file rules of SPEC 4.2.
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

// ParseVariantPolicy parses and validates a .budgetgate.yaml. Errors are
// *Error with Field "filename:line:col".
func ParseVariantPolicy(filename string, data []byte) (*VariantPolicy, error) {
	root, err := yamlDocument(filename, data)
	if err != nil {
		return nil, err
	}
	pp := &variantParser{file: filename}
	p, err := pp.parse(root)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	p.Version = "sha256:" + hex.EncodeToString(sum[:])
	p.Source = bytes.Clone(data)
	return p, nil
}

type variantParser struct {
	file string
}

func (pp *variantParser) at(n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", pp.file, n.Line, n.Column)
}

func (pp *variantParser) errf(n *yaml.Node, format string, args ...any) error {
	return FieldErrorf(pp.at(n), format, args...)
}

// mapping returns the key/value pairs of a mapping node, refusing repeats.
func (pp *variantParser) mapping(n *yaml.Node, what string) ([][2]*yaml.Node, error) {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		return nil, pp.errf(n, "%s must be a mapping", what)
	}
	seen := map[string]bool{}
	var kv [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, pp.errf(k, "keys of %s must be strings", what)
		}
		if k.Value == "<<" {
			return nil, pp.errf(k, "merge keys are not supported")
		}
		if seen[k.Value] {
			return nil, pp.errf(k, "%q is given twice", k.Value)
		}
		seen[k.Value] = true
		kv = append(kv, [2]*yaml.Node{k, v})
	}
	return kv, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func (pp *variantParser) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return "", pp.errf(n, "%s must be a string", what)
	}
	return n.Value, nil
}

func (pp *variantParser) number(n *yaml.Node, what string) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, pp.errf(n, "%s must be a number", what)
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, pp.errf(n, "%s must be a finite number", what)
	}
	return f, nil
}

func (pp *variantParser) boolean(n *yaml.Node, what string) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, pp.errf(n, "%s must be true or false", what)
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, pp.errf(n, "%s must be true or false", what)
	}
	return b, nil
}

// strings accepts a list of strings, or one string as a list of one.
func (pp *variantParser) stringList(n *yaml.Node, what string) ([]string, []*yaml.Node, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return []string{n.Value}, []*yaml.Node{n}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nil, pp.errf(n, "%s must be a list of strings", what)
	}
	var out []string
	var nodes []*yaml.Node
	for _, c := range n.Content {
		c = resolveAlias(c)
		s, err := pp.str(c, what+" entries")
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
		nodes = append(nodes, c)
	}
	return out, nodes, nil
}

func (pp *variantParser) globs(n *yaml.Node, what string, variant variantRule) ([]*Glob, error) {
	ss, nodes, err := pp.stringList(n, what)
	if err != nil {
		return nil, err
	}
	var gs []*Glob
	for i, s := range ss {
		g, err := CompileGlob(s)
		if err != nil {
			return nil, pp.errf(nodes[i], "%s: %s", what, ErrorMessage(err))
		}
		switch {
		case variant == variantRequired && !g.HasVariant():
			return nil, pp.errf(nodes[i], "variant pattern %q must contain {variant}, or name the variants explicitly", s)
		case variant == variantForbidden && g.HasVariant():
			return nil, pp.errf(nodes[i], "%s: {variant} is only allowed in a dimension's variant patterns", what)
		}
		gs = append(gs, g)
	}
	return gs, nil
}

type variantRule int

const (
	variantForbidden variantRule = iota
	variantRequired
)

var identRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (pp *variantParser) parse(root *yaml.Node) (*VariantPolicy, error) {
	top, err := pp.mapping(root, "the policy")
	if err != nil {
		return nil, err
	}
	p := &VariantPolicy{ReleaseTags: DefaultReleaseTags, Metrics: map[string]Metric{}}
	budgets := map[string][2]*yaml.Node{} // by dimension name
	var dimsNode, metricsNode, testBudget *yaml.Node
	for _, kv := range top {
		k, v := kv[0], kv[1]
		switch key := k.Value; key {
		case "project":
			if p.Project, err = pp.str(v, "project"); err != nil {
				return nil, err
			}
		case "baseline":
			if p.Baseline, err = pp.str(v, "baseline"); err != nil {
				return nil, err
			}
		case "release_tags":
			if p.ReleaseTags, err = pp.str(v, "release_tags"); err != nil {
				return nil, err
			}
			if p.ReleaseTags == "" {
				return nil, pp.errf(v, "release_tags must not be empty")
			}
		case "exclude":
			if p.Exclude, err = pp.globs(v, "exclude", variantForbidden); err != nil {
				return nil, err
			}
		case "tests":
			if p.Tests, err = pp.globs(v, "tests", variantForbidden); err != nil {
				return nil, err
			}
		case "languages":
			names, nodes, err := pp.stringList(v, "languages")
			if err != nil {
				return nil, err
			}
			p.Languages = names
			for _, n := range nodes {
				p.LanguagesAt = append(p.LanguagesAt, pp.at(n))
			}
		case "dimensions":
			dimsNode = v
		case "metrics":
			metricsNode = v
		case TestBudgetName:
			testBudget = v
		default:
			if dim, ok := strings.CutSuffix(key, "_budget"); ok && dim != "" {
				budgets[dim] = kv
				continue
			}
			return nil, pp.errf(k, "unknown key %q (want project, baseline, release_tags, exclude, tests, languages, dimensions, metrics, test_budget or <dimension>_budget)", key)
		}
	}
	if metricsNode != nil {
		if err := pp.parseMetrics(p, metricsNode); err != nil {
			return nil, err
		}
	}
	if dimsNode != nil {
		if err := pp.parseDimensions(p, dimsNode); err != nil {
			return nil, err
		}
	}
	// Budgets in file order, so the first error is the first in the file.
	for _, kv := range top {
		dim, ok := strings.CutSuffix(kv[0].Value, "_budget")
		if !ok || kv[0].Value == TestBudgetName {
			continue
		}
		if _, ok := budgets[dim]; !ok {
			continue
		}
		d := p.Dimension(dim)
		if d == nil {
			return nil, pp.errf(kv[0], "%s names no dimension: there is no dimension %q", kv[0].Value, dim)
		}
		if d.Budget, err = pp.parseBudget(p, kv[0].Value, kv[1], false); err != nil {
			return nil, err
		}
	}
	if testBudget != nil {
		if p.TestBudget, err = pp.parseBudget(p, TestBudgetName, testBudget, true); err != nil {
			return nil, err
		}
		for _, d := range p.Dimensions {
			if d.Budget == nil {
				continue
			}
			for _, m := range d.Budget.Metrics {
				if slices.Contains(p.TestBudget.Metrics, m) {
					return nil, FieldErrorf(pp.at(testBudget), "metric %s is in both %s and test_budget: a metric is measured against one budget per dimension", m, d.Budget.Name)
				}
			}
		}
	}
	return p, nil
}

func (pp *variantParser) parseMetrics(p *VariantPolicy, n *yaml.Node) error {
	kvs, err := pp.mapping(n, "metrics")
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		name := kv[0].Value
		if IsBuiltinMetric(name) {
			return pp.errf(kv[0], "metric %s is built in and cannot be redefined", name)
		}
		if !identRE.MatchString(name) {
			return pp.errf(kv[0], "metric name %q must be letters, digits, '_', '-' or '.'", name)
		}
		defn, err := pp.mapping(kv[1], "metric "+name)
		if err != nil {
			return err
		}
		if len(defn) != 1 {
			return pp.errf(kv[1], "metric %s must have exactly one of files, dirs, bytes or reported", name)
		}
		k, v := defn[0][0], defn[0][1]
		m := Metric{Name: name, Kind: k.Value}
		switch k.Value {
		case MetricFiles, MetricDirs, MetricBytes:
			if m.Patterns, err = pp.globs(v, name+"."+k.Value, variantForbidden); err != nil {
				return err
			}
			if len(m.Patterns) == 0 {
				return pp.errf(v, "metric %s needs at least one pattern", name)
			}
		case MetricReported:
			b, err := pp.boolean(v, name+".reported")
			if err != nil {
				return err
			}
			if !b {
				return pp.errf(v, "metric %s: reported must be true", name)
			}
		default:
			return pp.errf(k, "unknown key %q in metric %s (want files, dirs, bytes or reported)", k.Value, name)
		}
		p.Metrics[name] = m
	}
	return nil
}

func (pp *variantParser) parseDimensions(p *VariantPolicy, n *yaml.Node) error {
	kvs, err := pp.mapping(n, "dimensions")
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		name := kv[0].Value
		if !identRE.MatchString(name) {
			return pp.errf(kv[0], "dimension name %q must be letters, digits, '_', '-' or '.'", name)
		}
		if name == "test" {
			return pp.errf(kv[0], "dimension name test is reserved: test_budget applies to every dimension")
		}
		d := &Dimension{Name: name}
		fields, err := pp.mapping(kv[1], "dimension "+name)
		if err != nil {
			return err
		}
		var variants *yaml.Node
		for _, f := range fields {
			if ok, err := pp.parseInFileKey(d, f[0], f[1]); ok {
				if err != nil {
					return err
				}
				continue
			}
			if f[0].Value != "variants" {
				return pp.errf(f[0], "unknown key %q in dimension %s (want variants, conditions or build_constraints)", f[0].Value, name)
			}
			variants = f[1]
		}
		if variants == nil {
			if d.InFile() {
				p.Dimensions = append(p.Dimensions, d)
				continue
			}
			return pp.errf(kv[0], "dimension %s has no variants (nor conditions or build_constraints)", name)
		}
		if variants.Kind == yaml.MappingNode {
			named, err := pp.mapping(variants, name+".variants")
			if err != nil {
				return err
			}
			for _, nv := range named {
				if !identRE.MatchString(nv[0].Value) {
					return pp.errf(nv[0], "variant name %q must be letters, digits, '_', '-' or '.'", nv[0].Value)
				}
				gs, err := pp.globs(nv[1], name+".variants."+nv[0].Value, variantForbidden)
				if err != nil {
					return err
				}
				d.Named = append(d.Named, NamedVariant{Name: nv[0].Value, Patterns: gs})
			}
		} else {
			if d.Patterns, err = pp.globs(variants, name+".variants", variantRequired); err != nil {
				return err
			}
		}
		if len(d.Patterns) == 0 && len(d.Named) == 0 {
			return pp.errf(variants, "dimension %s has no variants", name)
		}
		p.Dimensions = append(p.Dimensions, d)
	}
	return nil
}

func (pp *variantParser) parseBudget(p *VariantPolicy, name string, n *yaml.Node, isTest bool) (*VariantBudget, error) {
	kvs, err := pp.mapping(n, name)
	if err != nil {
		return nil, err
	}
	b := &VariantBudget{Name: name}
	var hardNode, softNode, metricsNode *yaml.Node
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "hard_limit":
			hardNode = v
			b.HardLimit, err = pp.number(v, name+".hard_limit")
		case "soft_limit":
			softNode = v
			b.SoftLimit, err = pp.number(v, name+".soft_limit")
		case "trend_limit":
			b.TrendLimit, err = pp.number(v, name+".trend_limit")
			b.HasTrend = true
			if err == nil && b.TrendLimit < 0 {
				err = pp.errf(v, "%s.trend_limit must not be negative", name)
			}
		case "exclusions":
			b.Exclusions, err = pp.globs(v, name+".exclusions", variantForbidden)
		case "metrics":
			metricsNode = v
		default:
			err = pp.errf(k, "unknown key %q in %s (want hard_limit, soft_limit, trend_limit, exclusions, metrics)", k.Value, name)
		}
		if err != nil {
			return nil, err
		}
	}
	if hardNode == nil {
		return nil, pp.errf(n, "%s needs hard_limit", name)
	}
	for _, lim := range []struct {
		n *yaml.Node
		v float64
	}{{hardNode, b.HardLimit}, {softNode, b.SoftLimit}} {
		if lim.n != nil && (lim.v < 0 || lim.v > 100) {
			return nil, pp.errf(lim.n, "limits are percentages: %v is not within 0..100", lim.v)
		}
	}
	if softNode == nil {
		b.SoftLimit = b.HardLimit
	} else if b.SoftLimit > b.HardLimit {
		return nil, pp.errf(softNode, "%s.soft_limit %v is above hard_limit %v", name, b.SoftLimit, b.HardLimit)
	}
	if metricsNode == nil {
		return nil, pp.errf(n, "%s needs metrics", name)
	}
	ms, nodes, err := pp.stringList(metricsNode, name+".metrics")
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, pp.errf(metricsNode, "%s.metrics is empty", name)
	}
	for i, m := range ms {
		_, custom := p.Metrics[m]
		if !IsBuiltinMetric(m) && !custom {
			return nil, pp.errf(nodes[i], "unknown metric %q (built in: %s; or define it under metrics)", m, strings.Join(append(slices.Clone(CodeMetrics), TestMetrics...), ", "))
		}
		if slices.Contains(ms[:i], m) {
			return nil, pp.errf(nodes[i], "metric %s is listed twice", m)
		}
	}
	b.Metrics = ms
	return b, nil
}

// Glob is a compiled gitignore-style pattern (SPEC 4.2). A pattern with no
// slash but a trailing one matches a name at any depth; otherwise it is
// anchored at the repository root. "**" crosses directories, "*", "?" and
// "[...]" match within one segment, and "{variant}" matches a non-empty part
// of one segment and names the variant. A pattern that matches a directory
// matches everything under it; a trailing slash matches directories only.
type Glob struct {
	Text       string
	segs       []globSeg
	dirOnly    bool
	hasVariant bool
}

type segKind uint8

const (
	segLiteral    segKind = iota // plain text: compared with ==
	segSuffix                    // "*" + literal, as "*.go"
	segStar                      // "*": any one segment
	segDoubleStar                // "**"
	segPattern                   // anything else: tokens
)

type globSeg struct {
	kind segKind
	lit  string
	toks []globTok
}

type tokKind uint8

const (
	tokLiteral tokKind = iota
	tokStar
	tokAny   // ?
	tokClass // [...]
	tokVariant
)

type globTok struct {
	kind   tokKind
	lit    string
	negate bool
	ranges []rune // pairs lo, hi
}

// CompileGlob compiles a pattern; errors are EINVALID *Error.
func CompileGlob(pattern string) (*Glob, error) {
	g := &Glob{Text: pattern}
	p := strings.TrimPrefix(pattern, "./")
	if p == "" || p == "/" {
		return nil, Errorf(EINVALID, "empty pattern")
	}
	if strings.HasSuffix(p, "/") {
		g.dirOnly = true
		p = strings.TrimRight(p, "/")
	}
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil, Errorf(EINVALID, "pattern %q matches nothing", pattern)
	}
	if !anchored {
		g.segs = append(g.segs, globSeg{kind: segDoubleStar})
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			return nil, Errorf(EINVALID, "pattern %q has an empty path segment", pattern)
		}
		seg, err := compileSeg(s)
		if err != nil {
			return nil, Errorf(EINVALID, "pattern %q: %s", pattern, ErrorMessage(err))
		}
		for _, t := range seg.toks {
			if t.kind == tokVariant {
				if g.hasVariant {
					return nil, Errorf(EINVALID, "pattern %q has {variant} twice", pattern)
				}
				g.hasVariant = true
			}
		}
		// "a/**/**/b" is "a/**/b".
		if seg.kind == segDoubleStar && len(g.segs) > 0 && g.segs[len(g.segs)-1].kind == segDoubleStar {
			continue
		}
		g.segs = append(g.segs, seg)
	}
	return g, nil
}

// MustCompileGlob is CompileGlob for patterns known to be valid.
func MustCompileGlob(pattern string) *Glob {
	g, err := CompileGlob(pattern)
	if err != nil {
		panic(err)
	}
	return g
}

func compileSeg(s string) (globSeg, error) {
	if s == "**" {
		return globSeg{kind: segDoubleStar}, nil
	}
	var toks []globTok
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, globTok{kind: tokLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 == len(s) {
				return globSeg{}, Errorf(EINVALID, "trailing backslash")
			}
			i++
			lit.WriteByte(s[i])
		case '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, globTok{kind: tokStar})
			}
		case '?':
			flush()
			toks = append(toks, globTok{kind: tokAny})
		case '[':
			flush()
			t, n, err := compileClass(s[i:])
			if err != nil {
				return globSeg{}, err
			}
			toks = append(toks, t)
			i += n - 1
		case '{':
			if !strings.HasPrefix(s[i:], "{variant}") {
				return globSeg{}, Errorf(EINVALID, "only {variant} may be written in braces")
			}
			flush()
			if len(toks) > 0 && toks[len(toks)-1].kind == tokVariant {
				return globSeg{}, Errorf(EINVALID, "{variant} twice")
			}
			toks = append(toks, globTok{kind: tokVariant})
			i += len("{variant}") - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	switch {
	case len(toks) == 1 && toks[0].kind == tokLiteral:
		return globSeg{kind: segLiteral, lit: toks[0].lit}, nil
	case len(toks) == 1 && toks[0].kind == tokStar:
		return globSeg{kind: segStar}, nil
	case len(toks) == 2 && toks[0].kind == tokStar && toks[1].kind == tokLiteral:
		return globSeg{kind: segSuffix, lit: toks[1].lit}, nil
	}
	return globSeg{kind: segPattern, toks: toks}, nil
}

// compileClass compiles "[...]" at the start of s, returning its length.
func compileClass(s string) (globTok, int, error) {
	t := globTok{kind: tokClass}
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		t.negate = true
		i++
	}
	first := true
	for i < len(s) {
		if s[i] == ']' && !first {
			if len(t.ranges) == 0 {
				return t, 0, Errorf(EINVALID, "empty character class")
			}
			return t, i + 1, nil
		}
		first = false
		lo, n := decodeClassRune(s[i:])
		i += n
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi, n = decodeClassRune(s[i+1:])
			i += 1 + n
		}
		if hi < lo {
			return t, 0, Errorf(EINVALID, "character range %c-%c is reversed", lo, hi)
		}
		t.ranges = append(t.ranges, lo, hi)
	}
	return t, 0, Errorf(EINVALID, "unclosed character class")
}

func decodeClassRune(s string) (rune, int) {
	if s[0] == '\\' && len(s) > 1 {
		r, n := firstRune(s[1:])
		return r, n + 1
	}
	return firstRune(s)
}

func firstRune(s string) (rune, int) {
	if s == "" {
		return 0, 1
	}
	// An invalid byte (git allows any in a file name) is one RuneError of
	// width 1: len(string(RuneError)) would be 3 and step past the end.
	return utf8.DecodeRuneInString(s)
}

// HasVariant reports whether the pattern has a {variant} placeholder.
func (g *Glob) HasVariant() bool { return g.hasVariant }

// String returns the pattern as written.
func (g *Glob) String() string { return g.Text }

// Match reports whether the file at p (slash-separated, relative to the
// root) matches, itself or through a directory above it, and the variant
// name captured, if the pattern has one.
func (g *Glob) Match(p string) (variant string, ok bool) {
	return g.match(p, false)
}

// MatchDir is Match for a directory: a directory-only pattern can match it
// itself.
func (g *Glob) MatchDir(p string) (variant string, ok bool) {
	return g.match(p, true)
}

// The matcher is linear in pattern and path length (their product at worst):
// it never backtracks. Both levels, segments against path names and tokens
// against the bytes of one name, are solved by a table of "the rest of the
// pattern from here matches the rest of the input from there", filled from
// the end. Where a pattern has {variant}, the capture is read by walking that
// table from the start, taking at each choice what a backtracking matcher
// would have tried first: "**" as few names as it can, "*" as many bytes as it
// can, {variant} as few. So "*_{variant}.go" on "a_b_truck.go" names "truck".
func (g *Glob) match(p string, isDir bool) (string, bool) {
	var nameBuf [32]string
	names := splitNames(p, nameBuf[:0])
	m, n := len(g.segs), len(names)
	// The names before the first "**" have one place each: most paths fail
	// there, before any table is built.
	fixed := 0
	for fixed < m && g.segs[fixed].kind != segDoubleStar {
		if fixed >= n || !g.segs[fixed].matchName(names[fixed]) {
			return "", false
		}
		fixed++
	}
	// With no "**" but perhaps a trailing one, that is the whole answer.
	if fixed >= m-1 {
		if fixed == m && n == m && g.dirOnly && !isDir || fixed == m-1 && n == fixed {
			return "", false
		}
		return g.fixedVariant(names[:fixed]), true
	}
	var tableBuf [256]bool
	ok := boolTable(tableBuf[:0], (m+1)*(n+1))
	row := func(i int) []bool { return ok[i*(n+1) : (i+1)*(n+1)] }
	// Once the pattern is used up it matched the whole path, or a directory
	// above it; a directory-only pattern on a file needs the latter.
	last := row(m)
	for j := range last {
		last[j] = j < n || !(g.dirOnly && !isDir)
	}
	for i := m - 1; i >= 0; i-- {
		cur, next := row(i), row(i+1)
		// Only ok[0][0] is needed of the first row.
		hi := n
		if i == 0 {
			hi = 0
		}
		seg := &g.segs[i]
		if seg.kind == segDoubleStar {
			// "**" consumes zero or more names but leaves at least one: a
			// trailing "**" matches everything inside, not the directory itself.
			any := false
			for j := n - 1; j >= 0; j-- {
				any = any || i == m-1 || next[j]
				if j <= hi {
					cur[j] = any
				}
			}
			continue
		}
		for j := 0; j <= hi && j < n; j++ {
			cur[j] = next[j+1] && seg.matchName(names[j])
		}
	}
	if !ok[0] {
		return "", false
	}
	if !g.hasVariant {
		return "", true
	}
	for i, j := 0, 0; i < m && j < n; i++ {
		seg := &g.segs[i]
		if seg.kind == segDoubleStar {
			next := row(i + 1)
			for i+1 < m && !next[j] {
				j++
			}
			continue
		}
		if v := seg.variant(names[j]); v != "" {
			return v, true
		}
		j++
	}
	return "", true
}

// fixedVariant is the variant named by a pattern whose segments matched
// names one to one.
func (g *Glob) fixedVariant(names []string) string {
	if g.hasVariant {
		for i, name := range names {
			if v := g.segs[i].variant(name); v != "" {
				return v
			}
		}
	}
	return ""
}

// splitNames splits a slash-separated path into its names; a trailing slash
// ends the path rather than starting an empty name.
func splitNames(p string, out []string) []string {
	for p != "" {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(out, p)
		}
		out = append(out, p[:i])
		p = p[i+1:]
	}
	return out
}

// boolTable returns n false values, in buf where it is large enough.
func boolTable(buf []bool, n int) []bool {
	if n <= cap(buf) {
		return buf[:n]
	}
	return make([]bool, n)
}

// matchName reports whether one path name matches the segment.
func (seg *globSeg) matchName(name string) bool {
	switch seg.kind {
	case segLiteral:
		return name == seg.lit
	case segSuffix:
		return strings.HasSuffix(name, seg.lit)
	case segStar:
		return true
	}
	var buf [256]bool
	return tokTable(seg.toks, name, buf[:0])[0]
}

// variant returns the name {variant} captures in a segment known to match.
func (seg *globSeg) variant(name string) string {
	if seg.kind != segPattern {
		return ""
	}
	var buf [256]bool
	can := tokTable(seg.toks, name, buf[:0])
	l := len(name) + 1
	i := 0
	for t, tok := range seg.toks {
		next := can[(t+1)*l : (t+2)*l]
		switch tok.kind {
		case tokLiteral:
			i += len(tok.lit)
		case tokAny, tokClass:
			_, w := firstRune(name[i:])
			i += w
		case tokStar:
			k := len(name)
			for !next[k] {
				k--
			}
			i = k
		case tokVariant:
			k := i + 1
			for !next[k] {
				k++
			}
			return name[i:k]
		}
	}
	return ""
}

// tokTable fills, for tokens toks and a name s, the table whose entry
// [t*(len(s)+1)+i] says whether toks[t:] matches s[i:]. Each token costs one
// pass over s (a literal, its length per position).
func tokTable(toks []globTok, s string, buf []bool) []bool {
	l := len(s) + 1
	can := boolTable(buf, (len(toks)+1)*l)
	can[len(toks)*l+len(s)] = true
	for t := len(toks) - 1; t >= 0; t-- {
		cur, next := can[t*l:(t+1)*l], can[(t+1)*l:(t+2)*l]
		tok := &toks[t]
		switch tok.kind {
		case tokLiteral:
			for i := 0; i+len(tok.lit) <= len(s); i++ {
				cur[i] = next[i+len(tok.lit)] && s[i:i+len(tok.lit)] == tok.lit
			}
		case tokAny, tokClass:
			for i := 0; i < len(s); i++ {
				r, w := firstRune(s[i:])
				cur[i] = next[i+w] && (tok.kind == tokAny || tok.matchRune(r))
			}
		case tokStar:
			any := false
			for i := len(s); i >= 0; i-- {
				any = any || next[i]
				cur[i] = any
			}
		case tokVariant:
			// One byte or more.
			any := false
			for i := len(s) - 1; i >= 0; i-- {
				any = any || next[i+1]
				cur[i] = any
			}
		}
	}
	return can
}

func (t globTok) matchRune(r rune) bool {
	in := false
	for i := 0; i+1 < len(t.ranges); i += 2 {
		if t.ranges[i] <= r && r <= t.ranges[i+1] {
			in = true
			break
		}
	}
	return in != t.negate
}
