package variant

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const truckPolicy = `project: fleet-core
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code]}
`

func mustPolicy(t *testing.T, src string) *VariantPolicy {
	t.Helper()
	p, err := ParseVariantPolicy("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func code(path string, lines int) FileFacts {
	return FileFacts{Path: path, Code: true, Lines: lines, Size: int64(lines * 10)}
}

// TestWorkedExample is docs/BUDGET_MATH.md, Variant deltas: core 9,500 lines, truck 500 warns at
// 5.00%; truck 600 fails at 5.94%.
func TestWorkedExample(t *testing.T) {
	p := mustPolicy(t, truckPolicy)
	tests := []struct {
		truck    int
		delta    float64
		status   string
		analysis string
	}{
		{500, 5.00, VariantWarn, AnalysisWarn},
		{600, 5.94, VariantFail, AnalysisBlocked},
		{290, 2.96, VariantPass, AnalysisPass},
		{0, 0, VariantPass, AnalysisPass},
	}
	for _, tt := range tests {
		t.Run(strings.Repeat("x", tt.truck/100), func(t *testing.T) {
			in := &AnalysisInput{Commit: "abc", Files: []FileFacts{code("core/a.go", 9000), code("core/b.go", 500)}}
			if tt.truck > 0 {
				in.Files = append(in.Files, code("vehicles/truck/t.go", tt.truck))
			}
			a := p.Analyze(in)
			if a.Status != tt.analysis {
				t.Errorf("analysis status %s, want %s", a.Status, tt.analysis)
			}
			m := a.Dimensions[0].Metrics[0]
			if m.Delta != tt.delta || m.Status != tt.status {
				t.Errorf("delta %v %s, want %v %s", m.Delta, m.Status, tt.delta, tt.status)
			}
			if tt.truck > 0 {
				vm := a.Dimensions[0].Variants[0].Metrics[MetricLinesOfCode]
				if vm.Value != float64(tt.truck) || vm.Core != 9500 {
					t.Errorf("value %v core %v", vm.Value, vm.Core)
				}
				if m.Variant != "truck" {
					t.Errorf("worst variant %q", m.Variant)
				}
			}
			if wantViolations := tt.status == VariantFail; wantViolations != (len(a.Violations) == 1) {
				t.Errorf("violations %+v", a.Violations)
			}
		})
	}
}

func TestAnalyzeUniverseAndShare(t *testing.T) {
	p := mustPolicy(t, `exclude: ["gen/**"]
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**", "**/*_{variant}.go"]
vehicle_budget:
  hard_limit: 50
  soft_limit: 40
  exclusions: ["configs/vehicles/"]
  metrics: [lines_of_code, function_count]
`)
	in := &AnalysisInput{Files: []FileFacts{
		code("core/a.go", 800),
		code("vehicles/truck/a.go", 100),
		code("vehicles/bus/a.go", 50),
		code("vehicles/bus/x_truck.go", 50),                                    // both: counts for each
		{Path: "vehicles/truck/a_test.go", Test: true, Code: true, Lines: 999}, // tests are not code metrics
		code("configs/vehicles/truck.go", 999),                                 // budget exclusion
		code("gen/big.go", 999),                                                // policy exclude
		{Path: "vehicles/truck/logo.png", Skip: SkipBinary, Size: 5000},
		{Path: "README.md", Lines: 40},
	}}
	a := p.Analyze(in)
	if a.AnalyzedFiles != 7 || a.SkippedFiles != 2 || a.Skipped[SkipExcluded] != 1 || a.Skipped[SkipBinary] != 1 {
		t.Errorf("analysed %d skipped %d %v", a.AnalyzedFiles, a.SkippedFiles, a.Skipped)
	}
	d := a.Dimensions[0]
	var loc MetricResult
	for _, m := range d.Metrics {
		if m.Name == MetricLinesOfCode {
			loc = m
		}
	}
	// truck: 150 of core 800 + 150 = 15.79%; bus 100 / 900 = 11.11%.
	if loc.Variant != "truck" || loc.Delta != 15.79 {
		t.Errorf("figure %v %s", loc.Delta, loc.Variant)
	}
	// Share: the union of variants (200) over the universe (1000).
	if loc.Share != 20 {
		t.Errorf("share %v", loc.Share)
	}
	if len(d.Overlaps) != 1 || d.Overlaps[0].Path != "vehicles/bus/x_truck.go" || strings.Join(d.Overlaps[0].Variants, ",") != "bus,truck" {
		t.Errorf("overlaps %+v", d.Overlaps)
	}
	var names []string
	for _, v := range d.Variants {
		names = append(names, v.Name)
	}
	if strings.Join(names, ",") != "bus,truck" {
		t.Errorf("variants %v", names)
	}
	if d.Variants[1].Files != 4 {
		t.Errorf("truck files %d", d.Variants[1].Files)
	}
}

func TestStatusRoundingAndOrder(t *testing.T) {
	p := mustPolicy(t, truckPolicy)
	tests := []struct {
		core, truck int
		delta       float64
		status      string
	}{
		{94996, 5004, 5.00, VariantWarn}, // 5.004% rounds to 5.00: not over 5.0
		{94994, 5006, 5.01, VariantFail}, // 5.006% rounds to 5.01
		{97000, 3004, 3.00, VariantPass}, // 3.004%: not over the soft limit
	}
	for _, tt := range tests {
		a := p.Analyze(&AnalysisInput{Files: []FileFacts{code("core.go", tt.core), code("vehicles/t/f.go", tt.truck)}})
		if m := a.Dimensions[0].Metrics[0]; m.Delta != tt.delta || m.Status != tt.status {
			t.Errorf("core %d truck %d: %v %s, want %v %s", tt.core, tt.truck, m.Delta, m.Status, tt.delta, tt.status)
		}
	}

	two := mustPolicy(t, `dimensions:
  a: {variants: ["a/{variant}/**"]}
  b: {variants: ["b/{variant}/**"]}
a_budget: {hard_limit: 5.0, soft_limit: 3.0, metrics: [lines_of_code]}
b_budget: {hard_limit: 5.0, soft_limit: 3.0, metrics: [lines_of_code]}
`)
	a := two.Analyze(&AnalysisInput{Files: []FileFacts{code("core.go", 10000), code("b/y/f.go", 1000)}})
	if a.Dimensions[0].Name != "b" || a.Dimensions[0].Status != VariantFail || a.Dimensions[1].Status != VariantPass {
		t.Errorf("dimensions not worst first: %+v", a.Dimensions)
	}
}

func TestCompareBaselineTrend(t *testing.T) {
	p := mustPolicy(t, truckPolicy)
	base := p.Analyze(&AnalysisInput{Commit: "base", Files: []FileFacts{code("core.go", 9800), code("vehicles/truck/t.go", 200)}})
	tests := []struct {
		name       string
		truck, bus int
		status     string
		change     float64
	}{
		// 2.00% -> 2.44%: +0.44 pp, within trend 0.5.
		{"small growth", 245, 0, VariantPass, 0.44},
		// 2.00% -> 2.97%: +0.97 pp: trend_fail though under the soft limit.
		{"fast growth", 300, 0, VariantTrendFail, 0.97},
		// A new variant had 0 at the baseline: bus 1.0% is +1.0 pp.
		{"new variant", 200, 100, VariantTrendFail, 0},
		{"shrink", 100, 0, VariantPass, -0.99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := []FileFacts{code("core.go", 9800), code("vehicles/truck/t.go", tt.truck)}
			if tt.bus > 0 {
				files = append(files, code("vehicles/bus/b.go", tt.bus))
			}
			a := p.Analyze(&AnalysisInput{Commit: "head", Files: files})
			a.CompareBaseline(base, nil, "main")
			m := a.Dimensions[0].Metrics[0]
			if m.Status != tt.status {
				t.Errorf("status %s, want %s", m.Status, tt.status)
			}
			if m.BaselineDelta == nil || *m.BaselineDelta != 2 {
				t.Errorf("baseline delta %v", m.BaselineDelta)
			}
			truck := a.Dimensions[0].Variants[slices.IndexFunc(a.Dimensions[0].Variants, func(v VariantResult) bool { return v.Name == "truck" })]
			if got := *truck.Metrics[MetricLinesOfCode].ChangePP; got != tt.change {
				t.Errorf("truck change %v, want %v", got, tt.change)
			}
			if a.TrendRef != "main" || a.BaselineCommit != "base" {
				t.Errorf("trend ref %q baseline commit %q", a.TrendRef, a.BaselineCommit)
			}
			if (tt.status == VariantTrendFail) != (a.Status == AnalysisBlocked) {
				t.Errorf("analysis %s", a.Status)
			}
		})
	}
}

func TestCompareBaselineWithoutData(t *testing.T) {
	p := mustPolicy(t, `dimensions:
  vehicle: {variants: ["vehicles/{variant}/**"]}
vehicle_budget: {hard_limit: 50, soft_limit: 40, trend_limit: 0.5, metrics: [lines_of_code]}
test_budget: {hard_limit: 50, soft_limit: 40, trend_limit: 0.5, metrics: [test_execution_time]}
`)
	test := func(path string, secs float64) FileFacts {
		return FileFacts{Path: path, Test: true, Code: true, Lines: 1, TestTime: secs}
	}
	// The baseline has no variant yet, and no JUnit times.
	base := p.Analyze(&AnalysisInput{Files: []FileFacts{code("core.go", 1000), test("core_test.go", 0)}})
	head := p.Analyze(&AnalysisInput{Files: []FileFacts{code("core.go", 1000), code("vehicles/truck/t.go", 10), test("core_test.go", 9), test("vehicles/truck/t_test.go", 1)}})
	head.CompareBaseline(base, nil, "main")
	got := map[string]MetricResult{}
	for _, m := range head.Dimensions[0].Metrics {
		got[m.Name] = m
	}
	// A new variant from nothing: +0.99 pp is a trend failure.
	if m := got[MetricLinesOfCode]; m.Status != VariantTrendFail || *m.ChangePP != 0.99 {
		t.Errorf("lines_of_code %+v", m)
	}
	// No times at the baseline: no change to speak of, and no trend failure.
	if m := got[MetricTestExecutionTime]; m.Status != VariantPass || m.ChangePP != nil || m.BaselineDelta != nil || m.Delta != 10 {
		t.Errorf("test_execution_time %+v", m)
	}
}

func TestCompareTrendAgainstRelease(t *testing.T) {
	p := mustPolicy(t, truckPolicy)
	release := p.Analyze(&AnalysisInput{Commit: "v1", Files: []FileFacts{code("core.go", 9800), code("vehicles/truck/t.go", 100)}})
	base := p.Analyze(&AnalysisInput{Commit: "base", Files: []FileFacts{code("core.go", 9800), code("vehicles/truck/t.go", 200)}})
	head := p.Analyze(&AnalysisInput{Commit: "head", Files: []FileFacts{code("core.go", 9800), code("vehicles/truck/t.go", 210)}})
	head.CompareBaseline(base, release, "v1")
	m := head.Dimensions[0].Metrics[0]
	// Against the baseline +0.1 pp, against the release 2.10 - 1.01 = +1.09 pp.
	if *m.ChangePP != 0.1 || m.Status != VariantTrendFail || *m.TrendDelta != 1.01 || head.TrendRef != "v1" {
		t.Errorf("%+v change %v trend delta %v", m, *m.ChangePP, *m.TrendDelta)
	}
	if len(head.Violations) != 1 || head.Violations[0].Limit != 0.5 || *head.Violations[0].ChangePP != 1.09 {
		t.Errorf("violations %+v", head.Violations)
	}
}

func TestCustomMetrics(t *testing.T) {
	p := mustPolicy(t, `dimensions:
  sector:
    variants:
      mining: ["sectors/mining/**", "adapters/mining*"]
      ports: ["sectors/ports/**"]
sector_budget:
  hard_limit: 50
  metrics: [policy_rules, integration_adapters]
test_budget:
  hard_limit: 50
  metrics: [test_case_count, test_data_volume, infrastructure_cost]
metrics:
  policy_rules: {files: ["**/*.rego"]}
  integration_adapters: {dirs: ["adapters/*"]}
  test_data_volume: {bytes: ["testdata/**"]}
  infrastructure_cost: {reported: true}
`)
	in := &AnalysisInput{
		Files: []FileFacts{
			{Path: "policies/a.rego", Skip: SkipUnknown},
			{Path: "policies/b.rego", Skip: SkipUnknown},
			{Path: "sectors/mining/m.rego", Skip: SkipUnknown},
			{Path: "adapters/can/a.go", Code: true, Lines: 1},
			{Path: "adapters/can/b.go", Code: true, Lines: 1},
			{Path: "adapters/mining-ore/a.go", Code: true, Lines: 1},
			{Path: "testdata/core.bin", Skip: SkipBinary, Size: 300},
			{Path: "sectors/ports/testdata/p.bin", Skip: SkipBinary, Size: 100},
			{Path: "sectors/ports/x_test.go", Test: true, Code: true, TestCases: 3},
			{Path: "core_test.go", Test: true, Code: true, TestCases: 9},
		},
		Reported: map[string]map[string]ReportedValues{"infrastructure_cost": {"sector": {Core: 900, Variants: map[string]float64{"mining": 100, "rail": 300}}}},
	}
	a := p.Analyze(in)
	vals := map[string]VariantMetric{}
	for _, v := range a.Dimensions[0].Variants {
		for m, vm := range v.Metrics {
			vals[v.Name+"."+m] = vm
		}
	}
	tests := []struct {
		key         string
		value, core float64
		delta       float64
	}{
		{"mining.policy_rules", 1, 2, 33.33},
		{"ports.policy_rules", 0, 2, 0},
		{"mining.integration_adapters", 1, 1, 50},
		{"ports.test_case_count", 3, 9, 25},
		{"ports.test_data_volume", 0, 300, 0}, // testdata/** is anchored at the root
		{"mining.infrastructure_cost", 100, 900, 10},
		{"rail.infrastructure_cost", 300, 900, 25}, // reported, though no file is rail's
	}
	for _, tt := range tests {
		got := vals[tt.key]
		if got.Value != tt.value || got.Core != tt.core || got.Delta != tt.delta {
			t.Errorf("%s = %+v, want value %v core %v delta %v", tt.key, got, tt.value, tt.core, tt.delta)
		}
	}
}

func TestRecommendations(t *testing.T) {
	p := mustPolicy(t, truckPolicy)
	in := &AnalysisInput{Files: []FileFacts{
		code("core.go", 9000),
		code("vehicles/truck/big.go", 400), code("vehicles/truck/small.go", 100),
		code("vehicles/bus/a.go", 200),
	}}
	a := p.Analyze(in)
	if got := a.NeedsRecommendations(); len(got) != 1 || got[0] != "vehicle" {
		t.Fatalf("needs %v", got)
	}
	dups := map[string][]Duplicate{"vehicle": {{Lines: 80, Locations: []CodeLocation{
		{Path: "vehicles/truck/big.go", StartLine: 10, EndLine: 95},
		{Path: "vehicles/bus/a.go", StartLine: 1, EndLine: 84},
	}}}}
	a.Recommend(p, in, dups)
	recs := a.Dimensions[0].Recommendations
	if len(recs) != 3 {
		t.Fatalf("recommendations %+v", recs)
	}
	// truck: 500 of 9,000 + 500 = 5.26% fails. Moving big.go into core:
	// 100 / 9,500 = 1.05%.
	first := recs[0]
	if first.Kind != RecommendMoveToCore || first.Locations[0].Path != "vehicles/truck/big.go" || first.Before != 5.26 || first.After != 1.05 || first.Saves != 4.21 {
		t.Errorf("first %+v", first)
	}
	// Then bus is the worst: 200 / 9,600 = 2.08%.
	if first.DimAfter != 2.08 {
		t.Errorf("dimension after %v", first.DimAfter)
	}
	// One shared copy of the 80 lines: core 9,080; truck 420 -> 4.42%.
	dd := recs[2]
	if dd.Kind != RecommendDeduplicate || strings.Join(dd.Variants, ",") != "bus,truck" || dd.Before != 5.26 || dd.After != 4.42 || dd.Saves != 0.84 {
		t.Errorf("dedup %+v", dd)
	}
}

func TestAnalysisJSON(t *testing.T) {
	p := mustPolicy(t, truckPolicy)
	a := p.Analyze(&AnalysisInput{Project: "", Commit: "abc123", Baseline: "main", Files: []FileFacts{code("core.go", 9500), code("vehicles/truck/t.go", 600)}})
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"project", "commit", "baseline", "status", "analyzed_files", "skipped_files", "dimensions", "violations"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %s in %s", k, data)
		}
	}
	if doc["project"] != "fleet-core" || doc["status"] != "blocked" {
		t.Errorf("project %v status %v", doc["project"], doc["status"])
	}
	dim := doc["dimensions"].([]any)[0].(map[string]any)
	metric := dim["metrics"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "status", "delta", "variant", "share", "baseline_delta", "change_pp", "hard_limit", "soft_limit", "trend_limit"} {
		if _, ok := metric[k]; !ok {
			t.Errorf("metric lacks %s", k)
		}
	}
	v := dim["variants"].([]any)[0].(map[string]any)
	lm := v["metrics"].(map[string]any)["lines_of_code"].(map[string]any)
	if v["name"] != "truck" || v["files"] != 1.0 || lm["value"] != 600.0 || lm["core"] != 9500.0 || lm["delta"] != 5.94 {
		t.Errorf("variant %v", v)
	}
	var back Analysis
	if err := json.Unmarshal(data, &back); err != nil || back.Dimensions[0].Metrics[0].Delta != 5.94 {
		t.Errorf("round trip: %v", err)
	}
}
