package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate/variant"
)

// failuresFirst orders violations for a reader: failures of a hard limit
// before failures of a trend, each kind as the analysis ordered it (worst
// first).
func failuresFirst(vs []variant.Violation) []variant.Violation {
	out := slices.Clone(vs)
	slices.SortStableFunc(out, func(x, y variant.Violation) int {
		return cmp.Compare(variant.StatusRank(x.Status), variant.StatusRank(y.Status))
	})
	return out
}

// violationFigures are what a violation measured, the limit it broke and
// its change against the baseline. A trend failure measures a change in
// percentage points against its trend limit, never a level beside it.
func violationFigures(v variant.Violation) (measured, lim, change string) {
	if v.Status == variant.VariantTrendFail {
		return pp(v.ChangePP) + " change", "trend: at most " + fmt.Sprintf("%+.2f pp", v.Limit), "level " + pct(v.Delta)
	}
	return pct(v.Delta), "hard " + pct(v.Limit), pp(v.ChangePP)
}

// fileMoves says what moving a file into core does to each metric it
// weighs on.
func fileMoves(f variant.FileOver) string {
	parts := make([]string, len(f.Moves))
	for i, m := range f.Moves {
		parts[i] = fmt.Sprintf("%s %s (%s -> %s)", m.Metric, strconv.FormatFloat(m.Value, 'f', -1, 64), pct(m.Before), pct(m.After))
	}
	return strings.Join(parts, ", ")
}

func metricCount(a *variant.Analysis) int {
	n := 0
	for _, d := range a.Dimensions {
		n += len(d.Metrics)
	}
	return n
}

// writeFileList writes files as a markdown list, each once.
func writeFileList(w io.Writer, files []variant.FileOver) {
	for _, f := range files {
		fmt.Fprintf(w, "- `%s` (%s/%s): %s\n", f.Path, f.Dimension, strings.Join(f.Variants, ", "), strings.ReplaceAll(fileMoves(f), "|", "\\|"))
	}
}
