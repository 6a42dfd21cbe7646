package variant

import (
	"cmp"
	"slices"
)

// FileOver is one variant file the analysis recommends moving into core,
// with what it carries of each metric: the files that put a variant over
// its budget, each named once however many metrics it weighs on.
type FileOver struct {
	Path      string
	Dimension string
	Variants  []string
	Failing   bool // one of its variants fails (or fails a trend) on a metric it carries
	Moves     []FileMove
}

// FileMove is what moving a file into core would do to one metric.
type FileMove struct {
	Metric string
	Value  float64 // the metric's amount in the file
	Before float64 // the variant's delta now
	After  float64 // and with the file in core
	Saves  float64 // percentage points
}

// FilesOver groups the analysis's move-to-core recommendations by file:
// files that weigh on a failing (dimension, variant, metric) first, then by
// the most any move of theirs saves, then by path.
func (a *Analysis) FilesOver() []FileOver {
	failing := map[[3]string]bool{}
	for _, v := range a.Violations {
		failing[[3]string{v.Dimension, v.Variant, v.Metric}] = true
	}
	var out []FileOver
	index := map[[2]string]int{}
	for _, d := range a.Dimensions {
		for _, r := range d.Recommendations {
			if r.Kind != RecommendMoveToCore || len(r.Locations) == 0 {
				continue
			}
			k := [2]string{d.Name, r.Locations[0].Path}
			i, ok := index[k]
			if !ok {
				i = len(out)
				index[k] = i
				out = append(out, FileOver{Path: k[1], Dimension: d.Name})
			}
			f := &out[i]
			for _, v := range r.Variants {
				if !slices.Contains(f.Variants, v) {
					f.Variants = append(f.Variants, v)
				}
				f.Failing = f.Failing || failing[[3]string{d.Name, v, r.Metric}]
			}
			f.Moves = append(f.Moves, FileMove{Metric: r.Metric, Value: r.Value, Before: r.Before, After: r.After, Saves: r.Saves})
		}
	}
	for i := range out {
		slices.SortStableFunc(out[i].Moves, func(x, y FileMove) int { return cmp.Compare(y.Saves, x.Saves) })
	}
	slices.SortStableFunc(out, func(x, y FileOver) int {
		if x.Failing != y.Failing {
			if x.Failing {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(y.Moves[0].Saves, x.Moves[0].Saves), cmp.Compare(x.Path, y.Path))
	})
	return out
}

// SplitFailing parts files into those that weigh on a failing metric and
// the others, each in its order.
func SplitFailing(files []FileOver) (failing, others []FileOver) {
	for _, f := range files {
		if f.Failing {
			failing = append(failing, f)
		} else {
			others = append(others, f)
		}
	}
	return failing, others
}
