// Package analysistest makes analysis documents of any size for tests and
// benchmarks: the shapes the documented limits of a posted analysis are
// about, without a repository to measure.
package analysistest

import (
	"fmt"

	"github.com/budgetgate/budgetgate/variant"
)

// Synthetic is an analysis of project at commit with dims dimensions of
// variants variants and metrics metrics each; the first failing variants of
// every (dimension, metric) are over the hard limit (10% against 5%), the
// others within it (1%). Statuses and violations are derived from the
// figures, as the server derives them again.
func Synthetic(project, commit string, dims, variants, metrics, failing int) *variant.Analysis {
	a := &variant.Analysis{Project: project, Commit: commit, Baseline: "main", Status: variant.AnalysisPass,
		Violations: []variant.Violation{}}
	for d := range dims {
		dr := variant.DimensionResult{Name: fmt.Sprintf("dimension%02d", d), Status: variant.VariantPass}
		for m := range metrics {
			dr.Metrics = append(dr.Metrics, variant.MetricResult{Name: fmt.Sprintf("metric%02d", m), Budget: "budget",
				Status: variant.VariantPass, HardLimit: 5, SoftLimit: 3})
		}
		for v := range variants {
			vr := variant.VariantResult{Name: fmt.Sprintf("variant%04d", v), Files: 1, Metrics: map[string]variant.VariantMetric{}}
			for m := range metrics {
				delta := 1.0
				if v < failing {
					delta = 10
				}
				vr.Metrics[fmt.Sprintf("metric%02d", m)] = variant.VariantMetric{Value: delta, Core: 100 - delta, Delta: delta, Status: variant.VariantPass}
			}
			dr.Variants = append(dr.Variants, vr)
		}
		a.Dimensions = append(a.Dimensions, dr)
	}
	a.Reevaluate()
	return a
}
