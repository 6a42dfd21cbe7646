package variant

import (
	"cmp"
	"context"
	"slices"
	"sort"
)

// Recommendation kinds.
const (
	RecommendMoveToCore   = "move_to_core" // generalise a variant-only file into core
	RecommendDeduplicate  = "deduplicate"  // code copied across variants: one shared copy in core
	maxFileRecommendation = 3              // per variant and metric
	maxDupRecommendation  = 10             // per dimension
	recommendForStatusMin = VariantWarn    // dimensions at this status or worse get recommendations
	minDuplicateLines     = 6              // shorter copies are not worth a recommendation
	duplicateMetric       = MetricLinesOfCode
)

// Recommendation is a refactoring that would lower a dimension's delta, with
// what it would save, recomputed with the code moved into core.
type Recommendation struct {
	Kind      string         `json:"kind"`
	Metric    string         `json:"metric"`
	Variants  []string       `json:"variants"`
	Locations []CodeLocation `json:"locations"`
	Value     float64        `json:"value"`        // metric amount that leaves each variant
	Before    float64        `json:"delta_before"` // delta of the (worst) variant concerned
	After     float64        `json:"delta_after"`
	Saves     float64        `json:"saves_pp"`
	DimAfter  float64        `json:"dimension_delta_after"` // the dimension's figure afterwards
}

// CodeLocation is a file, or lines of one.
type CodeLocation struct {
	Path      string `json:"path"`
	StartLine int    `json:"start_line,omitempty"`
	EndLine   int    `json:"end_line,omitempty"`
}

// Duplicate is a block of code found in files of two or more variants;
// the analyzer finds them by hashing normalised line windows.
type Duplicate struct {
	Lines     int            // code lines in one copy
	Locations []CodeLocation // one or more per variant
}

// NeedsRecommendations lists the dimensions over their soft limit (or
// failing a trend), the ones Recommend works on.
func (a *Analysis) NeedsRecommendations() []string {
	var out []string
	for _, dr := range a.Dimensions {
		if StatusRank(dr.Status) <= StatusRank(recommendForStatusMin) {
			out = append(out, dr.Name)
		}
	}
	return out
}

// Recommend adds refactoring recommendations to every dimension that needs
// them: the biggest variant-only files of each variant over a limit, and
// code duplicated across variants (dups, by dimension, from the analyzer).
func (a *Analysis) Recommend(p *VariantPolicy, in *AnalysisInput, dups map[string][]Duplicate) {
	a.RecommendContext(context.Background(), p, in, dups)
}

// RecommendContext is Recommend, cut short once ctx is done: its caller
// must then discard the analysis.
func (a *Analysis) RecommendContext(ctx context.Context, p *VariantPolicy, in *AnalysisInput, dups map[string][]Duplicate) {
	for di := range a.Dimensions {
		dr := &a.Dimensions[di]
		d := p.Dimension(dr.Name)
		if d == nil || StatusRank(dr.Status) > StatusRank(recommendForStatusMin) {
			continue
		}
		dr.Recommendations = nil
		for _, mr := range dr.Metrics {
			if mr.Status == VariantPass {
				continue
			}
			dr.Recommendations = append(dr.Recommendations, p.recommendFiles(ctx, d, dr, mr, in)...)
		}
		dr.Recommendations = append(dr.Recommendations, p.recommendDedup(ctx, d, dr, in, dups[d.Name])...)
		dr.Recommendations = append(dr.Recommendations, recommendConditional(dr)...)
		// What brings the dimension's figure down most comes first.
		slices.SortStableFunc(dr.Recommendations, func(x, y Recommendation) int {
			return cmp.Or(cmp.Compare(x.DimAfter, y.DimAfter), cmp.Compare(y.Saves, x.Saves))
		})
	}
}

// moveSums holds a metric's totals over a dimension for what-if moves.
type moveSums struct {
	core     float64
	variants map[string]float64
}

func (s moveSums) figure() float64 {
	worst := 0.0
	for _, x := range s.variants {
		worst = max(worst, Round2(Delta(s.core, x)))
	}
	return worst
}

func (p *VariantPolicy) budgetFor(d *Dimension, name string) *VariantBudget {
	for _, b := range p.Budgets(d) {
		if b.Name == name {
			return b
		}
	}
	return nil
}

type fileMember struct {
	f        *FileFacts
	value    float64
	variants []string
}

// members returns the files that count for (d, b, m) with their variants,
// and the dimension's sums.
func (p *VariantPolicy) members(ctx context.Context, d *Dimension, b *VariantBudget, m string, in *AnalysisInput) ([]fileMember, moveSums) {
	s := moveSums{variants: map[string]float64{}}
	var out []fileMember
	for i := range in.Files {
		if ctx.Err() != nil {
			break
		}
		f := &in.Files[i]
		if p.Excluded(f.Path) || matchAny(b.Exclusions, f.Path) || !countsFor(b, m, f) {
			continue
		}
		x := fileValue(p, m, f)
		vs := d.fileVariants(f)
		for _, seg := range d.segments(f, m, x, vs) {
			if len(seg.variants) == 0 && !seg.shared {
				s.core += seg.value
			}
			for _, v := range seg.variants {
				s.variants[v] += seg.value
			}
		}
		if len(vs) > 0 {
			// Only a variant's own files can move to core whole.
			out = append(out, fileMember{f: f, value: x, variants: vs})
		}
	}
	return out, s
}

func (p *VariantPolicy) recommendFiles(ctx context.Context, d *Dimension, dr *DimensionResult, mr MetricResult, in *AnalysisInput) []Recommendation {
	b := p.budgetFor(d, mr.Budget)
	if b == nil {
		return nil
	}
	if cm, ok := p.Metrics[mr.Name]; ok && (cm.Kind == MetricReported || cm.Kind == MetricDirs) {
		return nil // not a per-file quantity
	}
	files, s := p.members(ctx, d, b, mr.Name, in)
	var out []Recommendation
	for _, vr := range dr.Variants {
		vm := vr.Metrics[mr.Name]
		if vm.Status == VariantPass {
			continue
		}
		var mine []fileMember
		for _, fm := range files {
			if slices.Contains(fm.variants, vr.Name) && fm.value > 0 {
				mine = append(mine, fm)
			}
		}
		slices.SortFunc(mine, func(x, y fileMember) int {
			return cmp.Or(cmp.Compare(y.value, x.value), cmp.Compare(x.f.Path, y.f.Path))
		})
		for _, fm := range mine[:min(len(mine), maxFileRecommendation)] {
			after := moveSums{core: s.core + fm.value, variants: map[string]float64{}}
			for v, x := range s.variants {
				after.variants[v] = x
				if slices.Contains(fm.variants, v) {
					after.variants[v] = x - fm.value
				}
			}
			before := Round2(Delta(s.core, s.variants[vr.Name]))
			newDelta := Round2(Delta(after.core, after.variants[vr.Name]))
			out = append(out, Recommendation{
				Kind: RecommendMoveToCore, Metric: mr.Name, Variants: fm.variants,
				Locations: []CodeLocation{{Path: fm.f.Path}}, Value: roundValue(fm.value),
				Before: before, After: newDelta, Saves: Round2(before - newDelta), DimAfter: after.figure(),
			})
		}
	}
	return out
}

func (p *VariantPolicy) recommendDedup(ctx context.Context, d *Dimension, dr *DimensionResult, in *AnalysisInput, dups []Duplicate) []Recommendation {
	if len(dups) == 0 {
		return nil
	}
	b := d.Budget
	if b == nil {
		b = &VariantBudget{Name: d.Name + "_budget"}
	}
	_, s := p.members(ctx, d, b, duplicateMetric, in)
	var out []Recommendation
	for _, dup := range dups {
		if dup.Lines < minDuplicateLines {
			continue
		}
		// Each variant loses its copies; core gains one.
		lost := map[string]float64{}
		for _, loc := range dup.Locations {
			isTest := p.IsTest(loc.Path)
			for _, v := range d.Variants(loc.Path, isTest) {
				lost[v] += float64(dup.Lines)
			}
		}
		if len(lost) < 2 {
			continue
		}
		after := moveSums{core: s.core + float64(dup.Lines), variants: map[string]float64{}}
		var vs []string
		for v, x := range s.variants {
			after.variants[v] = max(0, x-lost[v])
			if lost[v] > 0 {
				vs = append(vs, v)
			}
		}
		sort.Strings(vs)
		// Report the involved variant with the highest delta now.
		worst := vs[0]
		for _, v := range vs {
			if Delta(s.core, s.variants[v]) > Delta(s.core, s.variants[worst]) {
				worst = v
			}
		}
		before := Round2(Delta(s.core, s.variants[worst]))
		newDelta := Round2(Delta(after.core, after.variants[worst]))
		locs := slices.Clone(dup.Locations)
		slices.SortFunc(locs, func(x, y CodeLocation) int {
			return cmp.Or(cmp.Compare(x.Path, y.Path), cmp.Compare(x.StartLine, y.StartLine))
		})
		out = append(out, Recommendation{
			Kind: RecommendDeduplicate, Metric: duplicateMetric, Variants: vs, Locations: locs,
			Value: float64(dup.Lines), Before: before, After: newDelta, Saves: Round2(before - newDelta), DimAfter: after.figure(),
		})
	}
	slices.SortStableFunc(out, func(x, y Recommendation) int {
		return cmp.Or(cmp.Compare(y.Saves, x.Saves), cmp.Compare(y.Value, x.Value))
	})
	return out[:min(len(out), maxDupRecommendation)]
}
