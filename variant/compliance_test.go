package variant

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
)

const twoBudgetPolicy = `project: fleet-core
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code, function_count]}
`

// analysisOf analyses core lines and functions against the truck's.
func analysisOf(t *testing.T, coreLines, truckLines, coreFuncs, truckFuncs int) *Analysis {
	t.Helper()
	p := mustPolicy(t, twoBudgetPolicy)
	return p.Analyze(&AnalysisInput{Commit: "c1", Files: []FileFacts{
		{Path: "core/a.go", Code: true, Lines: coreLines, Functions: coreFuncs},
		{Path: "vehicles/truck/t.go", Code: true, Lines: truckLines, Functions: truckFuncs},
	}})
}

func TestComplianceOf(t *testing.T) {
	tests := []struct {
		name                   string
		coreL, truckL          int
		coreF, truckF          int
		score                  float64
		within, pairs          int
		wantStatus, wantMetric string
	}{
		// the worked example of docs/BUDGET_MATH.md, Variant deltas: 500 of 10,000 lines is 5.00%, over soft 3.0.
		{"lines warn, functions pass", 9500, 500, 100, 2, 50, 1, 2, AnalysisWarn, MetricLinesOfCode},
		{"both within", 9710, 290, 100, 1, 100, 2, 2, AnalysisPass, ""},
		// 600 lines: 5.94%, fail; 10 of 110 functions: 9.09%, fail.
		{"both fail", 9500, 600, 100, 10, 0, 0, 2, AnalysisBlocked, ""},
		// Exactly at the soft limit is within: 3 of 100.
		{"at the soft limit", 97, 3, 97, 3, 100, 2, 2, AnalysisPass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := analysisOf(t, tt.coreL, tt.truckL, tt.coreF, tt.truckF)
			c := ComplianceOf(a)
			if c.Score != tt.score || c.Within != tt.within || c.Pairs != tt.pairs {
				t.Errorf("ComplianceOf = %+v, want score %v within %d of %d", c, tt.score, tt.within, tt.pairs)
			}
			if a.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", a.Status, tt.wantStatus)
			}
		})
	}
	t.Run("no figures", func(t *testing.T) {
		if c := ComplianceOf(&Analysis{}); c.Score != 100 || c.Pairs != 0 {
			t.Errorf("empty analysis: %+v, want 100 of 0", c)
		}
	})
}

func day(n float64) time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n * 24 * float64(time.Hour)))
}

func TestProjectCrossing(t *testing.T) {
	tests := []struct {
		name     string
		points   []TrendPoint
		limit    float64
		ok       bool
		slope    float64
		fitted   float64
		over     bool
		crossDay float64 // -1: no crossing
	}{
		{
			// 1.0, 1.5, 2.0 at days 0, 10, 20: 0.05 pp a day reaches 5.0 on day 80.
			name:   "rising reaches the limit",
			points: []TrendPoint{{day(0), 1}, {day(10), 1.5}, {day(20), 2}},
			limit:  5, ok: true, slope: 0.05, fitted: 2, crossDay: 80,
		},
		{
			// Noise around a line: least squares, not the last two points.
			// x 0,1,2,3 y 1,3,2,4: slope 0.8, intercept 1.3; 5.0 at day 4.625.
			name:   "noisy points",
			points: []TrendPoint{{day(0), 1}, {day(1), 3}, {day(2), 2}, {day(3), 4}},
			limit:  5, ok: true, slope: 0.8, fitted: 3.7, crossDay: 4.625,
		},
		{
			name:   "order of points does not matter",
			points: []TrendPoint{{day(20), 2}, {day(0), 1}, {day(10), 1.5}},
			limit:  5, ok: true, slope: 0.05, fitted: 2, crossDay: 80,
		},
		{
			name:   "flat never crosses",
			points: []TrendPoint{{day(0), 2}, {day(1), 2}, {day(2), 2}},
			limit:  5, ok: true, slope: 0, fitted: 2, crossDay: -1,
		},
		{
			name:   "falling never crosses",
			points: []TrendPoint{{day(0), 4}, {day(1), 3}, {day(2), 2}},
			limit:  5, ok: true, slope: -1, fitted: 2, crossDay: -1,
		},
		{
			// Rising and over already: it went over on day 5 (line 4 + 0.2x).
			name:   "over already, rising",
			points: []TrendPoint{{day(0), 4}, {day(5), 5}, {day(10), 6}},
			limit:  5, ok: true, slope: 0.2, fitted: 6, over: true, crossDay: 5,
		},
		{
			name:   "over and falling",
			points: []TrendPoint{{day(0), 8}, {day(1), 7}, {day(2), 6}},
			limit:  5, ok: true, slope: -1, fitted: 6, over: true, crossDay: -1,
		},
		{
			name:   "so slow it says nothing",
			points: []TrendPoint{{day(0), 1}, {day(1), 1.000001}, {day(2), 1.000002}},
			limit:  5, ok: true, slope: 0.000001, fitted: 1.000002, crossDay: -1,
		},
		{name: "too few points", points: []TrendPoint{{day(0), 1}, {day(1), 2}}, limit: 5, ok: false},
		{name: "one moment", points: []TrendPoint{{day(1), 1}, {day(1), 2}, {day(1), 3}}, limit: 5, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, ok := ProjectCrossing(tt.points, tt.limit)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if math.Abs(pr.SlopePerDay-tt.slope) > 1e-9 || math.Abs(pr.Fitted-tt.fitted) > 1e-9 {
				t.Errorf("slope %v fitted %v, want %v and %v", pr.SlopePerDay, pr.Fitted, tt.slope, tt.fitted)
			}
			if pr.Over != tt.over || pr.Points != len(tt.points) || pr.Limit != tt.limit {
				t.Errorf("over %v points %d limit %v, want %v %d %v", pr.Over, pr.Points, pr.Limit, tt.over, len(tt.points), tt.limit)
			}
			switch {
			case tt.crossDay < 0 && pr.Crosses != nil:
				t.Errorf("crosses at %v, want never", pr.Crosses)
			case tt.crossDay >= 0 && pr.Crosses == nil:
				t.Errorf("no crossing, want day %v", tt.crossDay)
			case tt.crossDay >= 0 && pr.Crosses.Sub(day(tt.crossDay)).Abs() > time.Second:
				t.Errorf("crosses at %v, want %v", pr.Crosses, day(tt.crossDay))
			}
		})
	}
}

func TestStatusWith(t *testing.T) {
	blocked := analysisOf(t, 9500, 600, 100, 10) // two violations
	warn := analysisOf(t, 9500, 500, 100, 2)
	tests := []struct {
		name    string
		a       *Analysis
		covered []bool
		want    string
	}{
		{"every violation covered", blocked, []bool{true, true}, AnalysisExcepted},
		{"one not covered", blocked, []bool{true, false}, AnalysisBlocked},
		{"no cover given", blocked, nil, AnalysisBlocked},
		{"warn stays warn", warn, nil, AnalysisWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.StatusWith(tt.covered); got != tt.want {
				t.Errorf("StatusWith(%v) = %s, want %s", tt.covered, got, tt.want)
			}
		})
	}
}

// TestReevaluate: statuses a client wrote do not count; the figures and
// limits do.
func TestReevaluate(t *testing.T) {
	a := analysisOf(t, 9500, 600, 100, 2) // lines fail at 5.94%
	var posted Analysis
	data, _ := json.Marshal(a)
	if err := json.Unmarshal(data, &posted); err != nil {
		t.Fatal(err)
	}
	posted.Status = AnalysisPass
	posted.Violations = nil
	for i := range posted.Dimensions[0].Metrics {
		posted.Dimensions[0].Metrics[i].Status = VariantPass
	}
	posted.Reevaluate()
	if posted.Status != AnalysisBlocked || len(posted.Violations) != 1 {
		t.Fatalf("status %s with %d violations, want blocked with 1", posted.Status, len(posted.Violations))
	}
	v := posted.Violations[0]
	if v.Dimension != "vehicle" || v.Variant != "truck" || v.Metric != MetricLinesOfCode || v.Value != 600 || v.Limit != 5 {
		t.Errorf("violation %+v", v)
	}
	// A trend over its limit fails by trend.
	change := 0.8
	vm := posted.Dimensions[0].Variants[0].Metrics[MetricFunctionCount]
	vm.TrendChangePP = &change
	posted.Dimensions[0].Variants[0].Metrics[MetricFunctionCount] = vm
	posted.Reevaluate()
	if len(posted.Violations) != 2 || posted.Violations[1].Status != VariantTrendFail || posted.Violations[1].Limit != 0.5 {
		t.Errorf("violations %+v, want a trend_fail against 0.5", posted.Violations)
	}
}

func TestAnalysisValidate(t *testing.T) {
	good := func() *Analysis { return analysisOf(t, 9500, 500, 100, 2) }
	tests := []struct {
		name   string
		change func(a *Analysis)
		field  string
	}{
		{"valid", func(a *Analysis) {}, ""},
		{"no project", func(a *Analysis) { a.Project = "" }, "project"},
		{"bad project", func(a *Analysis) { a.Project = "../etc" }, "project"},
		{"no commit", func(a *Analysis) { a.Commit = "" }, "commit"},
		{"control in baseline", func(a *Analysis) { a.Baseline = "ma\nin" }, "baseline"},
		{"unknown status", func(a *Analysis) { a.Status = "excepted" }, "status"},
		{"no dimensions", func(a *Analysis) { a.Dimensions = nil }, "dimensions"},
		{"negative files", func(a *Analysis) { a.AnalyzedFiles = -1 }, "analyzed_files"},
		{"delta over 100", func(a *Analysis) { a.Dimensions[0].Metrics[0].Delta = 101 }, "dimensions[0].metrics[0].delta"},
		{"soft over hard", func(a *Analysis) { a.Dimensions[0].Metrics[1].SoftLimit = 9 }, "dimensions[0].metrics[1].soft_limit"},
		{"NaN change", func(a *Analysis) { a.Dimensions[0].Metrics[0].ChangePP = new(math.NaN()) }, "dimensions[0].metrics[0].change_pp"},
		{"empty variant name", func(a *Analysis) { a.Dimensions[0].Variants[0].Name = "" }, "dimensions[0].variants[0].name"},
		{"variant metric unknown", func(a *Analysis) {
			a.Dimensions[0].Variants[0].Metrics["class_count"] = VariantMetric{}
		}, "dimensions[0].variants[0].metrics.class_count"},
		{"variant delta negative", func(a *Analysis) {
			vm := a.Dimensions[0].Variants[0].Metrics[MetricLinesOfCode]
			vm.Delta = -1
			a.Dimensions[0].Variants[0].Metrics[MetricLinesOfCode] = vm
		}, "dimensions[0].variants[0].metrics.lines_of_code.delta"},
		{"variant value past 2^53", func(a *Analysis) {
			vm := a.Dimensions[0].Variants[0].Metrics[MetricLinesOfCode]
			vm.Value = 1 << 54
			a.Dimensions[0].Variants[0].Metrics[MetricLinesOfCode] = vm
		}, "dimensions[0].variants[0].metrics.lines_of_code.value"},
		{"variant core below -2^53", func(a *Analysis) {
			vm := a.Dimensions[0].Variants[0].Metrics[MetricLinesOfCode]
			vm.Core = -(1 << 54)
			a.Dimensions[0].Variants[0].Metrics[MetricLinesOfCode] = vm
		}, "dimensions[0].variants[0].metrics.lines_of_code.core"},
		{"metric total past 2^53", func(a *Analysis) { a.Dimensions[0].Metrics[0].Total = 1e300 }, "dimensions[0].metrics[0].total"},
		{"analyzed files past 2^53", func(a *Analysis) { a.AnalyzedFiles = 1<<53 + 1 }, "analyzed_files"},
		{"at 2^53 is allowed", func(a *Analysis) { a.Dimensions[0].Metrics[0].Total = 1 << 53 }, ""},
		{"dimension twice", func(a *Analysis) { a.Dimensions = append(a.Dimensions, a.Dimensions[0]) }, "dimensions[1].name"},
		{"too many dimensions", func(a *Analysis) { a.Dimensions = make([]DimensionResult, MaxAnalysisDimensions+1) }, "dimensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := good()
			tt.change(a)
			err := a.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed, want an error naming %s", tt.field)
			}
			if f := budgetgate.ErrorField(err); f != tt.field {
				t.Errorf("error %q names %q, want %q", err, f, tt.field)
			}
		})
	}
}

func TestHoldToKeepsTheBaselineLimits(t *testing.T) {
	trend := func(v float64) *float64 { return &v }
	doc := func(hard, soft float64, delta float64) *Analysis {
		a := &Analysis{Dimensions: []DimensionResult{{Name: "vehicle",
			Metrics:  []MetricResult{{Name: "lines_of_code", HardLimit: hard, SoftLimit: soft, TrendLimit: trend(0.5)}},
			Variants: []VariantResult{{Name: "truck", Metrics: map[string]VariantMetric{"lines_of_code": {Value: 600, Core: 9500, Delta: delta}}}}}}}
		a.Reevaluate()
		return a
	}
	change := doc(50, 30, 5.94) // a change that wrote itself a looser budget
	if change.Status != AnalysisPass {
		t.Fatalf("with its own limits the change is %s", change.Status)
	}
	change.HoldTo(doc(5, 3, 5.0))
	if change.Status != AnalysisBlocked || change.Dimensions[0].Metrics[0].HardLimit != 5 {
		t.Fatalf("held to the baseline: status %s, hard limit %v; want blocked at 5", change.Status, change.Dimensions[0].Metrics[0].HardLimit)
	}
	strict := doc(4, 2, 4.5) // stricter than the baseline: its own limits stand
	strict.HoldTo(doc(5, 3, 4.0))
	if m := strict.Dimensions[0].Metrics[0]; m.HardLimit != 4 || m.SoftLimit != 2 || strict.Status != AnalysisBlocked {
		t.Fatalf("a stricter change: %+v %s", m, strict.Status)
	}
}

func TestCompareProjections(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	soon, later := day.AddDate(0, 0, 10), day.AddDate(0, 0, 40)
	over := Projection{Over: true}
	crossSoon := Projection{Crosses: &soon}
	crossLater := Projection{Crosses: &later}
	flat := Projection{}
	tests := []struct {
		name string
		a, b Projection
		want int
	}{
		{"over before crossing", over, crossSoon, -1},
		{"crossing before none", crossLater, flat, -1},
		{"sooner crossing first", crossSoon, crossLater, -1},
		{"later crossing after", crossLater, crossSoon, 1},
		{"none after over", flat, over, 1},
		{"two without crossings tie", flat, Projection{Fitted: 9}, 0},
		{"two over tie", over, Projection{Over: true, Fitted: 9}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CompareProjections(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareProjections = %d, want %d", got, tt.want)
			}
		})
	}
}
