package variant

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"regexp"
	"slices"
	"strconv"
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

func (pp *variantParser) at(n *yaml.Node) string { return policyfile.At(pp.file, n) }

func (pp *variantParser) errf(n *yaml.Node, format string, args ...any) error {
	return policyfile.ErrorAt(pp.file, n, format, args...)
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
			return nil, pp.errf(nodes[i], "%s: %s", what, budgetgate.ErrorMessage(err))
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
					return nil, budgetgate.FieldErrorf(pp.at(testBudget), "metric %s is in both %s and test_budget: a metric is measured against one budget per dimension", m, d.Budget.Name)
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
