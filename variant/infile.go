package variant

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Variants inside files (docs/DECISIONS.md, "Variants inside files"): a
// dimension's conditions name C and C++ macros whose conditionals hold a
// variant's code, and build_constraints makes the tags a Go file can only
// be built with its variants.

// Condition is one of a dimension's macro patterns: Prefix, then {variant},
// which takes the rest of the macro name.
type Condition struct {
	Pattern string
	Prefix  string
}

// ConditionVariant returns the variant macro names under d's conditions: the
// rest of the name after the longest matching prefix (MICROPY_PY_{variant}
// makes MICROPY_PY_SSL_FINALISER the variant SSL_FINALISER).
func (d *Dimension) ConditionVariant(macro string) (string, bool) {
	best := -1
	for i, c := range d.Conditions {
		if len(macro) > len(c.Prefix) && strings.HasPrefix(macro, c.Prefix) && (best < 0 || len(c.Prefix) > len(d.Conditions[best].Prefix)) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return macro[len(d.Conditions[best].Prefix):], true
}

// InFile reports whether d finds variants inside files.
func (d *Dimension) InFile() bool { return len(d.Conditions) > 0 || d.BuildConstraints }

// InFileCode is code of a shared file that a dimension's conditions give to
// variants: what undefining the variants' macros removes, measured line by
// line, with the blocks it sits in.
type InFileCode struct {
	Dimension string `json:"dimension"`
	// Variants are the variants whose macros alone remove the code (more
	// than one for #if defined(A) && defined(B)); none when only undefining
	// several variants' macros together removes it (#if defined(A) ||
	// defined(B)): then it counts in the dimension's share, for no variant.
	Variants   []string       `json:"variants"`
	Lines      int            `json:"lines_of_code"`
	Complexity int            `json:"cyclomatic_complexity"`
	Functions  int            `json:"function_count"`
	Classes    int            `json:"class_count"`
	Blocks     []CodeLocation `json:"blocks,omitempty"`
}

// value is the code metric m of c.
func (c *InFileCode) value(m string) float64 {
	switch m {
	case MetricLinesOfCode:
		return float64(c.Lines)
	case MetricCyclomaticComplexity:
		return float64(c.Complexity)
	case MetricFunctionCount:
		return float64(c.Functions)
	case MetricClassCount:
		return float64(c.Classes)
	}
	return 0
}

// fileVariants are the variants of d the whole file f belongs to: by path,
// and by its build constraint when d reads them.
func (d *Dimension) fileVariants(f *FileFacts) []string {
	vs := d.Variants(f.Path, f.Test)
	if d.BuildConstraints {
		for _, t := range f.BuildTags {
			if !slices.Contains(vs, t) {
				vs = append(vs, t)
			}
		}
	}
	return vs
}

// inFileVariants are fileVs and the variants d's conditions find inside f.
func (d *Dimension) inFileVariants(f *FileFacts, fileVs []string) []string {
	out := fileVs
	for _, c := range f.InFile {
		if c.Dimension != d.Name {
			continue
		}
		for _, v := range c.Variants {
			if !slices.Contains(out, v) {
				out = append(slices.Clip(out), v)
			}
		}
	}
	return out
}

// segment is part of a file's value for one metric, and whom it belongs to.
type segment struct {
	value    float64
	variants []string
	shared   bool // counts in the dimension's share for no variant
}

// segments splits f's value x of metric m in dimension d: the code its
// conditions give to variants, and the rest, which belongs to the file's
// own variants (or to core).
func (d *Dimension) segments(f *FileFacts, m string, x float64, fileVs []string) []segment {
	var out []segment
	if slices.Contains(CodeMetrics, m) || m == metricCoveredLines {
		for i := range f.InFile {
			c := &f.InFile[i]
			if c.Dimension != d.Name {
				continue
			}
			v := c.value(m)
			if m == MetricUncoveredLines || m == metricCoveredLines {
				v = c.coverageValue(f, m)
			}
			if v == 0 {
				continue
			}
			x -= v
			vs := slices.Clone(fileVs)
			for _, cv := range c.Variants {
				if !slices.Contains(vs, cv) {
					vs = append(vs, cv)
				}
			}
			out = append(out, segment{value: v, variants: vs, shared: len(vs) == 0})
		}
	}
	if x != 0 || len(out) == 0 {
		out = append(out, segment{value: x, variants: fileVs})
	}
	return out
}

// conditionPattern is a macro name prefix followed by {variant}.
var conditionPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\{variant\}$`)

// parseInFileKey reads a dimension key about variants inside files; ok is
// false for any other key.
func (pp *variantParser) parseInFileKey(d *Dimension, k, v *yaml.Node) (ok bool, err error) {
	switch k.Value {
	case "conditions":
		ss, nodes, err := pp.Strings(v, d.Name+".conditions")
		if err != nil {
			return true, err
		}
		for i, s := range ss {
			if !conditionPattern.MatchString(s) {
				return true, pp.Errorf(nodes[i], "%s.conditions: %q must be a macro name prefix followed by {variant} (CONFIG_{variant})", d.Name, s)
			}
			d.Conditions = append(d.Conditions, Condition{Pattern: s, Prefix: strings.TrimSuffix(s, "{variant}")})
		}
		return true, nil
	case "build_constraints":
		d.BuildConstraints, err = pp.Bool(v, d.Name+".build_constraints")
		return true, err
	}
	return false, nil
}

// SharedFileCode is variant code inside one shared file, as an analysis
// lists it beside the variants' own files.
type SharedFileCode struct {
	Path string `json:"path"`
	InFileCode
}

// inFileResults lists the code d's conditions find in files that are not
// themselves d's variants' files, biggest first, at most maxInFileListed.
func inFileResults(d *Dimension, files []*FileFacts) []SharedFileCode {
	var out []SharedFileCode
	for _, f := range files {
		if f.Test || len(d.fileVariants(f)) > 0 {
			continue
		}
		for _, c := range f.InFile {
			if c.Dimension == d.Name {
				out = append(out, SharedFileCode{Path: f.Path, InFileCode: c})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b SharedFileCode) int {
		return cmp.Or(cmp.Compare(b.Lines, a.Lines), cmp.Compare(a.Path, b.Path))
	})
	return out[:min(len(out), maxInFileListed)]
}

// maxInFileListed bounds the shared-file parts an analysis lists per
// dimension (the biggest), so that an analysis of a large product line stays
// within what the server accepts; the figures count them all.
const maxInFileListed = 1000

// RecommendMoveConditional: a variant's conditional blocks inside a shared
// file, to move into a file of the variant's own, so that the shared file
// holds core code alone.
const RecommendMoveConditional = "move_conditional_to_variant_file"

// recommendConditional recommends moving each variant's conditional blocks
// out of the shared files that hold most of them, for the variants over a
// limit. The variant's delta does not change (the blocks are already its
// code); the shared file loses Value lines.
func recommendConditional(dr *DimensionResult) []Recommendation {
	var out []Recommendation
	for _, vr := range dr.Variants {
		vm, ok := vr.Metrics[MetricLinesOfCode]
		if !ok || vm.Status == VariantPass {
			continue
		}
		n := 0
		for _, c := range dr.InFile {
			if n == maxFileRecommendation || len(c.Variants) != 1 || c.Variants[0] != vr.Name || c.Lines == 0 {
				continue
			}
			n++
			locs := make([]CodeLocation, len(c.Blocks))
			for i, b := range c.Blocks {
				locs[i] = CodeLocation{Path: c.Path, StartLine: b.StartLine, EndLine: b.EndLine}
			}
			out = append(out, Recommendation{
				Kind: RecommendMoveConditional, Metric: MetricLinesOfCode, Variants: []string{vr.Name},
				Locations: locs, Value: float64(c.Lines), Before: vm.Delta, After: vm.Delta,
				DimAfter: dr.metric(MetricLinesOfCode).Delta,
			})
		}
	}
	return out
}
