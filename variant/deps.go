package variant

import (
	"slices"
	"sort"
)

// MetricDependencies counts distinct dependencies (docs/DECISIONS.md,
// "Dependencies per variant"): m(V) is what the variant's code imports that
// core's does not, m(Core) what core's imports.
const MetricDependencies = "dependencies"

// Dependency is an import of a file, and its line (1-based), so that an
// import inside a variant's conditional is the variant's.
type Dependency struct {
	Name string `json:"name"`
	Line int    `json:"line"`
}

// maxOwnDependencies bounds the names an analysis lists per variant.
const maxOwnDependencies = 200

// depOwners returns whom the import at line of f belongs to in d: the
// file's variants and the variants whose conditional code holds the line;
// shared when only several variants' macros together remove it.
func (d *Dimension) depOwners(f *FileFacts, line int, fileVs []string) (vs []string, shared bool) {
	vs = fileVs
	for _, c := range f.InFile {
		if c.Dimension != d.Name || !inBlocks(line, c.Blocks) {
			continue
		}
		if len(c.Variants) == 0 && len(fileVs) == 0 {
			return nil, true
		}
		for _, v := range c.Variants {
			if !slices.Contains(vs, v) {
				vs = append(slices.Clip(vs), v)
			}
		}
	}
	return vs, false
}

func inBlocks(line int, blocks []CodeLocation) bool {
	for _, b := range blocks {
		if line >= b.StartLine && line <= b.EndLine {
			return true
		}
	}
	return false
}

// sumDependencies is sum for the dependencies metric: sets, not sums. It
// also returns each variant's own dependencies by name.
func (d *Dimension) sumDependencies(b *VariantBudget, files []*FileFacts, member [][]string, excluded []bool) (sums, map[string][]string) {
	core := map[string]bool{}
	all := map[string]bool{}
	byVariant := map[string]map[string]bool{}
	for i, f := range files {
		if excluded[i] || !countsFor(b, MetricDependencies, f) {
			continue
		}
		for _, dep := range f.Deps {
			all[dep.Name] = true
			vs, shared := d.depOwners(f, dep.Line, member[i])
			switch {
			case shared:
			case len(vs) == 0:
				core[dep.Name] = true
			default:
				for _, v := range vs {
					if byVariant[v] == nil {
						byVariant[v] = map[string]bool{}
					}
					byVariant[v][dep.Name] = true
				}
			}
		}
	}
	s := sums{variants: map[string]float64{}, core: float64(len(core)), universe: float64(len(all))}
	own := map[string][]string{}
	union := map[string]bool{}
	for v, set := range byVariant {
		for name := range set {
			if !core[name] {
				own[v] = append(own[v], name)
				union[name] = true
			}
		}
		sort.Strings(own[v])
		s.variants[v] = float64(len(own[v]))
		own[v] = own[v][:min(len(own[v]), maxOwnDependencies)]
	}
	for name := range all {
		if !core[name] && !union[name] {
			union[name] = true // only shared code imports it
		}
	}
	s.union = float64(len(union))
	return s, own
}
