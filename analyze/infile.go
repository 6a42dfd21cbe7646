package analyze

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/analyze/buildtag"
	"github.com/budgetgate/budgetgate/analyze/deps"
	"github.com/budgetgate/budgetgate/analyze/ifdef"
	"github.com/budgetgate/budgetgate/analyze/lang"
	"github.com/budgetgate/budgetgate/variant"
)

// inFile is what the policy asks about variants inside files: dimensions
// with conditions (C and C++ macros), and whether any dimension reads Go
// build constraints. Its key goes into the cache key of every file, since
// the conditions decide what is measured.
type inFile struct {
	conds     []*variant.Dimension
	buildTags bool
	deps      bool     // a budget counts dependencies
	prefixes  [][]byte // every condition's macro prefix, for a quick look
	key       string
}

func newInFile(p *variant.VariantPolicy) *inFile {
	in := &inFile{}
	var key strings.Builder
	for _, d := range p.Dimensions {
		if d.BuildConstraints {
			in.buildTags = true
		}
		if len(d.Conditions) == 0 {
			continue
		}
		in.conds = append(in.conds, d)
		fmt.Fprintf(&key, "%s:", d.Name)
		for _, c := range d.Conditions {
			fmt.Fprintf(&key, "%s,", c.Pattern)
			in.prefixes = append(in.prefixes, []byte(c.Prefix))
		}
		key.WriteByte(';')
	}
	if in.buildTags {
		key.WriteString("go:build")
	}
	for _, d := range p.Dimensions {
		for _, b := range p.Budgets(d) {
			if slices.Contains(b.Metrics, variant.MetricDependencies) {
				in.deps = true
			}
		}
	}
	if in.deps {
		key.WriteString("deps")
	}
	if key.Len() > 0 {
		sum := sha256.Sum256([]byte(key.String()))
		in.key = hex.EncodeToString(sum[:8])
	}
	return in
}

// isCFamily reports whether l is read for preprocessor conditionals.
func isCFamily(l *lang.Language) bool {
	switch l.String() {
	case "C", "C++", "C/C++ Header":
		return true
	}
	return false
}

// measure adds to m what in asks about one file: its build tags (Go), its
// dependencies, and the code its conditionals give to variants (C and C++).
func (in *inFile) measure(m *measured, p string, l *lang.Language, data []byte, isTest bool, want lang.Want) error {
	if in == nil {
		return nil
	}
	if in.buildTags && l.String() == "Go" {
		// A constraint that does not parse is the go command's business
		// (it refuses to build the file); the file then has no tags here.
		if x, err := buildtag.Constraint(p, data); err == nil {
			m.BuildTags = buildtag.Required(x)
		}
	}
	if in.deps {
		for _, d := range deps.Extract(l.Name, data) {
			m.Deps = append(m.Deps, variant.Dependency{Name: d.Name, Line: d.Line + 1})
		}
	}
	if len(in.conds) == 0 || !isCFamily(l) || !in.mentions(data) {
		return nil
	}
	f, err := ifdef.Scan(data)
	if err != nil {
		return atLine(p, err)
	}
	for _, d := range in.conds {
		code, err := conditionalCode(d, f, l, data, isTest, want)
		if err != nil {
			return atLine(p, err)
		}
		m.InFile = append(m.InFile, code...)
	}
	return nil
}

// atLine names the file and line of a directive that cannot be read.
func atLine(p string, err error) error {
	var e *ifdef.Error
	if errors.As(err, &e) {
		return budgetgate.Errorf(budgetgate.EINVALID, "%s:%d: %v", p, e.Line, e.Err)
	}
	return fmt.Errorf("%s: %w", p, err)
}

// mentions reports whether data holds any condition's prefix at all: most
// files do not, and are not read further.
func (in *inFile) mentions(data []byte) bool {
	for _, p := range in.prefixes {
		if bytes.Contains(data, p) {
			return true
		}
	}
	return false
}

// conditionalCode attributes the lines of a C or C++ file to d's variants:
// a line is v's when undefining the macros that name v removes it, unless
// it goes whatever is undefined (#if FOO || 1); a line only undefining
// several variants' macros together removes is the dimension's, for no
// variant alone. Each group of lines is measured with the file's scanner,
// so that a function inside a variant's conditional counts for it.
func conditionalCode(d *variant.Dimension, f *ifdef.File, l *lang.Language, data []byte, isTest bool, want lang.Want) ([]variant.InFileCode, error) {
	variantOf := map[string]string{}
	var variants []string
	f.Macros(func(name string) {
		if v, ok := d.ConditionVariant(name); ok {
			if _, seen := variantOf[name]; !seen && !slices.Contains(variants, v) {
				variants = append(variants, v)
			}
			variantOf[name] = v
		}
	})
	// A condition that cannot be parsed is an error when it reads a
	// variant's macro: what it guards cannot be attributed.
	if err := f.Check(data, func(name string) bool { _, ok := d.ConditionVariant(name); return ok }); err != nil {
		return nil, err
	}
	if len(variants) == 0 {
		return nil, nil
	}
	slices.Sort(variants)
	n := max(f.Lines, lang.CountLines(data))
	always := make([]bool, n)
	f.Removed(func(string) bool { return false }, markRange(always, nil))
	shared := make([]bool, n)
	f.Removed(func(name string) bool { _, ok := variantOf[name]; return ok }, markRange(shared, always))
	owners := make([][]uint16, n)
	for i, v := range variants {
		f.Removed(func(name string) bool { return variantOf[name] == v }, func(from, to int) {
			for l := from; l <= to && l < n; l++ {
				if !always[l] {
					owners[l] = append(owners[l], uint16(i))
				}
			}
		})
	}
	return measureBuckets(d.Name, variants, owners, shared, l, data, isTest, want), nil
}

// markRange returns a Removed callback that sets the lines of set, except
// those of unless.
func markRange(set, unless []bool) func(from, to int) {
	return func(from, to int) {
		for l := from; l <= to && l < len(set); l++ {
			set[l] = unless == nil || !unless[l]
		}
	}
}

// measureBuckets measures the file once with each line in the bucket of its
// owners (bucket 0: no variant's), and returns the variant buckets.
func measureBuckets(dim string, variants []string, owners [][]uint16, shared []bool, l *lang.Language, data []byte, isTest bool, want lang.Want) []variant.InFileCode {
	bucketOf := map[string]int32{"": 0}
	keys := []string{""}
	split := &lang.Split{Line: make([]int32, len(owners))}
	for i, o := range owners {
		key := ""
		switch {
		case len(o) > 0:
			var b strings.Builder
			for _, v := range o {
				b.WriteString(variants[v])
				b.WriteByte(0)
			}
			key = b.String()
		case shared[i]:
			key = "\x01"
		}
		id, ok := bucketOf[key]
		if !ok {
			id = int32(len(keys))
			bucketOf[key] = id
			keys = append(keys, key)
		}
		split.Line[i] = id
	}
	if len(keys) == 1 {
		return nil
	}
	split.Counts = make([]lang.Counts, len(keys))
	lang.MeasureSplit(l, data, isTest, want|lang.WantLines, split)
	var out []variant.InFileCode
	for id, key := range keys[1:] {
		c := split.Counts[id+1]
		code := variant.InFileCode{Dimension: dim, Variants: []string{}, Lines: c.Code, Complexity: c.Complexity, Functions: c.Functions, Classes: c.Classes}
		if key != "\x01" {
			code.Variants = strings.Split(strings.TrimSuffix(key, "\x00"), "\x00")
		}
		code.Blocks = blocks(split.Line, int32(id+1))
		out = append(out, code)
	}
	return out
}

// blocks are the runs of lines in bucket id, 1-based.
func blocks(lines []int32, id int32) []variant.CodeLocation {
	var out []variant.CodeLocation
	for i := 0; i < len(lines); i++ {
		if lines[i] != id {
			continue
		}
		j := i
		for j+1 < len(lines) && lines[j+1] == id {
			j++
		}
		out = append(out, variant.CodeLocation{StartLine: i + 1, EndLine: j + 1})
		i = j
	}
	return out
}
