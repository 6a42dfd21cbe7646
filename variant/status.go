package variant

// Reevaluate derives every status and the violations again from the figures
// and limits the analysis carries, so that what the server stores and gates
// on does not depend on the statuses a client wrote.
func (a *Analysis) Reevaluate() {
	for di := range a.Dimensions {
		dr := &a.Dimensions[di]
		for _, mr := range dr.Metrics {
			for vi := range dr.Variants {
				vm, ok := dr.Variants[vi].Metrics[mr.Name]
				if !ok {
					continue
				}
				vm.Status = limitStatus(mr.HardLimit, mr.SoftLimit, Round2(vm.Delta))
				if vm.Status != VariantFail && mr.TrendLimit != nil && vm.TrendChangePP != nil && Round2(*vm.TrendChangePP) > *mr.TrendLimit {
					vm.Status = VariantTrendFail
				}
				dr.Variants[vi].Metrics[mr.Name] = vm
			}
		}
	}
	a.finish()
}

// WithinSoft says whether a delta is within a soft limit, compared rounded
// to two decimals as every status is (see docs/BUDGET_MATH.md, Variant deltas).
func WithinSoft(delta, softLimit float64) bool { return Round2(delta) <= softLimit }

// HoldTo keeps a change to the limits of its project's baseline: each
// (dimension, metric) limit the baseline also has is the stricter of the
// two, and the statuses are derived again. A change cannot loosen its own
// budget on the server any more than in the analyzer (see docs/POLICY.md, Variant policy); the
// baseline's own analyses are how a reviewed policy change takes effect.
func (a *Analysis) HoldTo(baseline *Analysis) {
	if baseline == nil {
		return
	}
	type key struct{ dimension, metric string }
	ref := map[key]MetricResult{}
	for _, d := range baseline.Dimensions {
		for _, m := range d.Metrics {
			ref[key{d.Name, m.Name}] = m
		}
	}
	for di := range a.Dimensions {
		d := &a.Dimensions[di]
		for mi := range d.Metrics {
			m := &d.Metrics[mi]
			r, ok := ref[key{d.Name, m.Name}]
			if !ok {
				continue
			}
			m.HardLimit, m.SoftLimit = min(m.HardLimit, r.HardLimit), min(m.SoftLimit, r.SoftLimit)
			if r.TrendLimit != nil && (m.TrendLimit == nil || *r.TrendLimit < *m.TrendLimit) {
				limit := *r.TrendLimit
				m.TrendLimit = &limit
			}
		}
	}
	a.Reevaluate()
}

// StatusWith is the analysis's status once exceptions are taken into
// account: covered[i] says whether an approved exception covers
// a.Violations[i] up to its measured value. A blocked analysis whose every
// violation is covered is excepted; anything else keeps its status.
func (a *Analysis) StatusWith(covered []bool) string {
	if a.Status != AnalysisBlocked || len(a.Violations) == 0 || len(covered) != len(a.Violations) {
		return a.Status
	}
	for _, c := range covered {
		if !c {
			return AnalysisBlocked
		}
	}
	return AnalysisExcepted
}
