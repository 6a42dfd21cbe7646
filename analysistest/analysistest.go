// Package analysistest makes analysis documents of any size for tests and
// benchmarks: the shapes the documented limits of a posted analysis are
// about, without a repository to measure.
package analysistest

import (
	"fmt"

	"github.com/budgetgate/budgetgate"
)

// Synthetic is an analysis of project at commit with dims dimensions of
// variants variants and metrics metrics each; the first failing variants of
// every (dimension, metric) are over the hard limit (10% against 5%), the
// others within it (1%). Statuses and violations are derived from the
// figures, as the server derives them again.
func Synthetic(project, commit string, dims, variants, metrics, failing int) *budgetgate.Analysis {
	a := &budgetgate.Analysis{Project: project, Commit: commit, Baseline: "main", Status: budgetgate.AnalysisPass,
		Violations: []budgetgate.Violation{}}
	for d := range dims {
		dr := budgetgate.DimensionResult{Name: fmt.Sprintf("dimension%02d", d), Status: budgetgate.VariantPass}
		for m := range metrics {
			dr.Metrics = append(dr.Metrics, budgetgate.MetricResult{Name: fmt.Sprintf("metric%02d", m), Budget: "budget",
				Status: budgetgate.VariantPass, HardLimit: 5, SoftLimit: 3})
		}
		for v := range variants {
			vr := budgetgate.VariantResult{Name: fmt.Sprintf("variant%04d", v), Files: 1, Metrics: map[string]budgetgate.VariantMetric{}}
			for m := range metrics {
				delta := 1.0
				if v < failing {
					delta = 10
				}
				vr.Metrics[fmt.Sprintf("metric%02d", m)] = budgetgate.VariantMetric{Value: delta, Core: 100 - delta, Delta: delta, Status: budgetgate.VariantPass}
			}
			dr.Variants = append(dr.Variants, vr)
		}
		a.Dimensions = append(a.Dimensions, dr)
	}
	a.Reevaluate()
	return a
}
