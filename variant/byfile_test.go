package variant

import (
	"reflect"
	"testing"
)

func TestFilesOverNamesEachFileOnceFailingFirst(t *testing.T) {
	move := func(metric, path, v string, value, before, after float64) Recommendation {
		return Recommendation{Kind: RecommendMoveToCore, Metric: metric, Variants: []string{v}, Locations: []CodeLocation{{Path: path}},
			Value: value, Before: before, After: after, Saves: Round2(before - after)}
	}
	a := &Analysis{
		Violations: []Violation{
			{Dimension: "vehicle", Variant: "truck", Metric: MetricCyclomaticComplexity, Status: VariantFail},
			{Dimension: "vehicle", Variant: "truck", Metric: MetricLinesOfCode, Status: VariantFail},
		},
		Dimensions: []DimensionResult{
			{Name: "vehicle", Recommendations: []Recommendation{
				move(MetricClassCount, "vehicles/bus/bus.go", "bus", 1, 2.44, 0), // bus passes: after the truck's files
				move(MetricLinesOfCode, "vehicles/truck/truck.go", "truck", 191, 6.21, 4.30),
				move(MetricLinesOfCode, "vehicles/truck/autonomy.go", "truck", 245, 6.21, 3.77),
				move(MetricCyclomaticComplexity, "vehicles/truck/autonomy.go", "truck", 80, 6.24, 3.79),
				{Kind: RecommendDeduplicate, Metric: MetricLinesOfCode, Variants: []string{"bus", "truck"},
					Locations: []CodeLocation{{Path: "vehicles/bus/bus.go", StartLine: 2, EndLine: 9}}},
			}},
		},
	}
	got := a.FilesOver()
	var paths []string
	for _, f := range got {
		paths = append(paths, f.Path)
	}
	if want := []string{"vehicles/truck/autonomy.go", "vehicles/truck/truck.go", "vehicles/bus/bus.go"}; !reflect.DeepEqual(paths, want) {
		t.Fatalf("files = %q, want %q", paths, want)
	}
	auto := got[0]
	if !auto.Failing || len(auto.Moves) != 2 || auto.Moves[0].Metric != MetricCyclomaticComplexity || auto.Moves[0].Saves != 2.45 {
		t.Errorf("autonomy.go = %+v, want failing, complexity (saves 2.45) before lines (2.44)", auto)
	}
	if got[2].Failing {
		t.Error("bus.go weighs on no failing metric")
	}
}
