package variant

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/policyfile"
	"gopkg.in/yaml.v3"
)

// ParseVariantPolicy parses and validates a .budgetgate.yaml. Errors are
// *Error with Field "filename:line:col".
func ParseVariantPolicy(filename string, data []byte) (*VariantPolicy, error) {
	root, err := policyfile.Document(filename, data)
	if err != nil {
		return nil, err
	}
	pp := &variantParser{Reader: policyfile.Reader{File: filename}}
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
	policyfile.Reader
}

// number reads a finite number: a variant limit is a percentage.
func (pp *variantParser) number(n *yaml.Node, what string) (float64, error) {
	f, _, err := pp.Number(n, what)
	if err == nil && math.IsInf(f, 0) {
		return 0, pp.Errorf(n, "%s must be a finite number", what)
	}
	return f, err
}

func (pp *variantParser) globs(n *yaml.Node, what string, variant variantRule) ([]*Glob, error) {
	ss, nodes, err := pp.Strings(n, what)
	if err != nil {
		return nil, err
	}
	var gs []*Glob
	for i, s := range ss {
		g, err := CompileGlob(s)
		if err != nil {
			return nil, pp.Errorf(nodes[i], "%s: %s", what, budgetgate.ErrorMessage(err))
		}
		switch {
		case variant == variantRequired && !g.HasVariant():
			return nil, pp.Errorf(nodes[i], "variant pattern %q must contain {variant}, or name the variants explicitly", s)
		case variant == variantForbidden && g.HasVariant():
			return nil, pp.Errorf(nodes[i], "%s: {variant} is only allowed in a dimension's variant patterns", what)
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

// The keys each mapping of a variant policy knows, for messages.
var (
	topKeys       = []string{"project", "baseline", "release_tags", "exclude", "tests", "languages", "dimensions", "metrics", TestBudgetName, "<dimension>_budget"}
	metricKinds   = []string{MetricFiles, MetricDirs, MetricBytes, MetricReported}
	dimensionKeys = []string{"variants", "conditions", "build_constraints"}
	budgetKeys    = []string{"hard_limit", "soft_limit", "trend_limit", "exclusions", "metrics"}
)

var identRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (pp *variantParser) parse(root *yaml.Node) (*VariantPolicy, error) {
	top, err := pp.Mapping(root, "", nil)
	if err != nil {
		return nil, err
	}
	p := &VariantPolicy{ReleaseTags: DefaultReleaseTags, Metrics: map[string]Metric{}}
	budgets := map[string]policyfile.Entry{} // by dimension name
	var dimsNode, metricsNode, testBudget *yaml.Node
	for _, kv := range top {
		k, v := kv.Key, kv.Value
		switch key := k.Value; key {
		case "project":
			if p.Project, err = pp.String(v, "project"); err != nil {
				return nil, err
			}
		case "baseline":
			if p.Baseline, err = pp.String(v, "baseline"); err != nil {
				return nil, err
			}
		case "release_tags":
			if p.ReleaseTags, err = pp.String(v, "release_tags"); err != nil {
				return nil, err
			}
			if p.ReleaseTags == "" {
				return nil, pp.Errorf(v, "release_tags must not be empty")
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
			names, nodes, err := pp.Strings(v, "languages")
			if err != nil {
				return nil, err
			}
			p.Languages = names
			for _, n := range nodes {
				p.LanguagesAt = append(p.LanguagesAt, pp.At(n))
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
			return nil, pp.UnknownKey(k, "", topKeys)
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
		dim, ok := strings.CutSuffix(kv.Key.Value, "_budget")
		if !ok || kv.Key.Value == TestBudgetName {
			continue
		}
		if _, ok := budgets[dim]; !ok {
			continue
		}
		d := p.Dimension(dim)
		if d == nil {
			return nil, pp.Errorf(kv.Key, "%s names no dimension: there is no dimension %q", kv.Key.Value, dim)
		}
		if d.Budget, err = pp.parseBudget(p, kv.Key.Value, kv.Value, false); err != nil {
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
					return nil, budgetgate.FieldErrorf(pp.At(testBudget), "metric %s is in both %s and test_budget: a metric is measured against one budget per dimension", m, d.Budget.Name)
				}
			}
		}
	}
	return p, nil
}

func (pp *variantParser) parseMetrics(p *VariantPolicy, n *yaml.Node) error {
	kvs, err := pp.Mapping(n, "metrics", nil)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		name := kv.Key.Value
		if IsBuiltinMetric(name) {
			return pp.Errorf(kv.Key, "metric %s is built in and cannot be redefined", name)
		}
		if !identRE.MatchString(name) {
			return pp.Errorf(kv.Key, "metric name %q must be letters, digits, '_', '-' or '.'", name)
		}
		defn, err := pp.Mapping(kv.Value, "metric "+name, nil)
		if err != nil {
			return err
		}
		if len(defn) != 1 {
			return pp.Errorf(kv.Value, "metric %s must have exactly one of files, dirs, bytes or reported", name)
		}
		k, v := defn[0].Key, defn[0].Value
		m := Metric{Name: name, Kind: k.Value}
		switch k.Value {
		case MetricFiles, MetricDirs, MetricBytes:
			if m.Patterns, err = pp.globs(v, name+"."+k.Value, variantForbidden); err != nil {
				return err
			}
			if len(m.Patterns) == 0 {
				return pp.Errorf(v, "metric %s needs at least one pattern", name)
			}
		case MetricReported:
			b, err := pp.Bool(v, name+".reported")
			if err != nil {
				return err
			}
			if !b {
				return pp.Errorf(v, "metric %s: reported must be true", name)
			}
		default:
			return pp.UnknownKey(k, "metric "+name, metricKinds)
		}
		p.Metrics[name] = m
	}
	return nil
}

func (pp *variantParser) parseDimensions(p *VariantPolicy, n *yaml.Node) error {
	kvs, err := pp.Mapping(n, "dimensions", nil)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		name := kv.Key.Value
		if !identRE.MatchString(name) {
			return pp.Errorf(kv.Key, "dimension name %q must be letters, digits, '_', '-' or '.'", name)
		}
		if name == "test" {
			return pp.Errorf(kv.Key, "dimension name test is reserved: test_budget applies to every dimension")
		}
		d := &Dimension{Name: name}
		fields, err := pp.Mapping(kv.Value, "dimension "+name, nil)
		if err != nil {
			return err
		}
		var variants *yaml.Node
		for _, f := range fields {
			if ok, err := pp.parseInFileKey(d, f.Key, f.Value); ok {
				if err != nil {
					return err
				}
				continue
			}
			if f.Key.Value != "variants" {
				return pp.UnknownKey(f.Key, "dimension "+name, dimensionKeys)
			}
			variants = f.Value
		}
		if variants == nil {
			if d.InFile() {
				p.Dimensions = append(p.Dimensions, d)
				continue
			}
			return pp.Errorf(kv.Key, "dimension %s has no variants (nor conditions or build_constraints)", name)
		}
		if variants.Kind == yaml.MappingNode {
			named, err := pp.Mapping(variants, name+".variants", nil)
			if err != nil {
				return err
			}
			for _, nv := range named {
				if !identRE.MatchString(nv.Key.Value) {
					return pp.Errorf(nv.Key, "variant name %q must be letters, digits, '_', '-' or '.'", nv.Key.Value)
				}
				gs, err := pp.globs(nv.Value, name+".variants."+nv.Key.Value, variantForbidden)
				if err != nil {
					return err
				}
				d.Named = append(d.Named, NamedVariant{Name: nv.Key.Value, Patterns: gs})
			}
		} else {
			if d.Patterns, err = pp.globs(variants, name+".variants", variantRequired); err != nil {
				return err
			}
		}
		if len(d.Patterns) == 0 && len(d.Named) == 0 {
			return pp.Errorf(variants, "dimension %s has no variants", name)
		}
		p.Dimensions = append(p.Dimensions, d)
	}
	return nil
}

func (pp *variantParser) parseBudget(p *VariantPolicy, name string, n *yaml.Node, isTest bool) (*VariantBudget, error) {
	kvs, err := pp.Mapping(n, name, nil)
	if err != nil {
		return nil, err
	}
	b := &VariantBudget{Name: name}
	var hardNode, softNode, metricsNode *yaml.Node
	for _, kv := range kvs {
		k, v := kv.Key, kv.Value
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
				err = pp.Errorf(v, "%s.trend_limit must not be negative", name)
			}
		case "exclusions":
			b.Exclusions, err = pp.globs(v, name+".exclusions", variantForbidden)
		case "metrics":
			metricsNode = v
		default:
			err = pp.UnknownKey(k, name, budgetKeys)
		}
		if err != nil {
			return nil, err
		}
	}
	if hardNode == nil {
		return nil, pp.Errorf(n, "%s needs hard_limit", name)
	}
	for _, lim := range []struct {
		n *yaml.Node
		v float64
	}{{hardNode, b.HardLimit}, {softNode, b.SoftLimit}} {
		if lim.n != nil && (lim.v < 0 || lim.v > 100) {
			return nil, pp.Errorf(lim.n, "limits are percentages: %v is not within 0..100", lim.v)
		}
	}
	if softNode == nil {
		b.SoftLimit = b.HardLimit
	} else if b.SoftLimit > b.HardLimit {
		return nil, pp.Errorf(softNode, "%s.soft_limit %v is above hard_limit %v", name, b.SoftLimit, b.HardLimit)
	}
	if metricsNode == nil {
		return nil, pp.Errorf(n, "%s needs metrics", name)
	}
	ms, nodes, err := pp.Strings(metricsNode, name+".metrics")
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, pp.Errorf(metricsNode, "%s.metrics is empty", name)
	}
	for i, m := range ms {
		_, custom := p.Metrics[m]
		if !IsBuiltinMetric(m) && !custom {
			return nil, pp.Errorf(nodes[i], "unknown metric %q (built in: %s; or define it under metrics)", m, strings.Join(append(slices.Clone(CodeMetrics), TestMetrics...), ", "))
		}
		if slices.Contains(ms[:i], m) {
			return nil, pp.Errorf(nodes[i], "metric %s is listed twice", m)
		}
	}
	b.Metrics = ms
	return b, nil
}
