package variant

import (
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
)

// specPolicy is the policy of docs/POLICY.md, Variant policy, with the budget blocks of docs/POLICY.md.
const specPolicy = `project: fleet-core
baseline: main
exclude: ["vendor/**", "third_party/**"]
tests: ["**/*_test.go", "**/test_*.py", "tests/**", "testing/**"]  # added to per-language defaults
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**", "**/*_{variant}.go"]   # {variant} names the variant
  sector:
    variants:                                                  # or named explicitly
      mining: ["sectors/mining/**"]
      ports: ["sectors/ports/**"]
  platform:
    variants: ["platform/{variant}/**"]
vehicle_budget:
  hard_limit: 5.0          # Maximum 5% code delta
  soft_limit: 3.0          # Warning at 3% delta
  trend_limit: 0.5         # Max 0.5% growth per release

  exclusions:
    - "configs/vehicles/"   # Vehicle profiles excluded
    - "testing/vehicle/"    # Vehicle-specific tests excluded

  metrics:
    - lines_of_code
    - cyclomatic_complexity
    - function_count
    - class_count
sector_budget:
  hard_limit: 5.0          # Maximum 5% code delta
  soft_limit: 3.0          # Warning at 3% delta
  trend_limit: 0.5         # Max 0.5% growth per release

  exclusions:
    - "configs/sectors/"    # Sector overlays excluded
    - "ui/sector-themes/"   # Sector UI themes excluded

  metrics:
    - policy_rules
    - ui_components
    - workflow_definitions
    - integration_adapters
platform_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code]}
test_budget:
  hard_limit: 25.0         # Maximum 25% test delta
  soft_limit: 20.0         # Warning at 20% delta
  trend_limit: 2.0         # Max 2% growth per release

  metrics:
    - test_execution_time
    - test_case_count
    - test_data_volume
    - infrastructure_cost
metrics:                        # custom metrics that budgets name
  policy_rules: {files: ["policies/**/*.rego"]}     # number of files
  ui_components: {files: ["ui/components/**/*.tsx"]}
  workflow_definitions: {files: ["workflows/**/*.y*ml"]}
  integration_adapters: {dirs: ["adapters/*"]}      # number of directories
  test_data_volume: {bytes: ["testdata/**", "**/fixtures/**"]}
  infrastructure_cost: {reported: true}             # posted by CI per variant
`

func TestParseVariantPolicySpec(t *testing.T) {
	p, err := ParseVariantPolicy(".budgetgate.yaml", []byte(specPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if p.Project != "fleet-core" || p.Baseline != "main" || p.ReleaseTags != DefaultReleaseTags {
		t.Errorf("project %q baseline %q release_tags %q", p.Project, p.Baseline, p.ReleaseTags)
	}
	var names []string
	for _, d := range p.Dimensions {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "vehicle,sector,platform" {
		t.Errorf("dimensions %s", got)
	}
	v := p.Dimension("vehicle")
	if v.Budget == nil || v.Budget.HardLimit != 5 || v.Budget.SoftLimit != 3 || !v.Budget.HasTrend || v.Budget.TrendLimit != 0.5 {
		t.Fatalf("vehicle budget %+v", v.Budget)
	}
	if len(v.Budget.Exclusions) != 2 || len(v.Budget.Metrics) != 4 {
		t.Errorf("vehicle exclusions %d metrics %v", len(v.Budget.Exclusions), v.Budget.Metrics)
	}
	s := p.Dimension("sector")
	if len(s.Named) != 2 || s.Named[0].Name != "mining" || s.Named[1].Name != "ports" {
		t.Errorf("sector variants %+v", s.Named)
	}
	if p.TestBudget == nil || p.TestBudget.HardLimit != 25 || p.TestBudget.SoftLimit != 20 {
		t.Errorf("test budget %+v", p.TestBudget)
	}
	if got := len(p.Budgets(v)); got != 2 {
		t.Errorf("vehicle has %d budgets, want its own and test_budget", got)
	}
	for name, kind := range map[string]string{"policy_rules": MetricFiles, "integration_adapters": MetricDirs, "test_data_volume": MetricBytes, "infrastructure_cost": MetricReported} {
		if p.Metrics[name].Kind != kind {
			t.Errorf("metric %s kind %q, want %q", name, p.Metrics[name].Kind, kind)
		}
	}
	if !strings.HasPrefix(p.Version, "sha256:") {
		t.Errorf("version %q", p.Version)
	}
}

func TestParseVariantPolicyErrors(t *testing.T) {
	const dims = "dimensions:\n  vehicle:\n    variants: [\"vehicles/{variant}/**\"]\n"
	tests := []struct {
		name, yaml, field, msg string
	}{
		{"misspelt soft limit", dims + "vehicle_budget:\n  hard_limit: 5\n  sfot_limit: 3\n  metrics: [lines_of_code]\n", "p.yaml:6:3", `unknown key "sfot_limit"`},
		{"unknown top key", "projet: x\n", "p.yaml:1:1", `unknown key "projet"`},
		{"unknown metric", dims + "vehicle_budget:\n  hard_limit: 5\n  metrics: [lines_of_code, lines_of_cod]\n", "p.yaml:6:28", `unknown metric "lines_of_cod"`},
		{"budget names no dimension", dims + "truck_budget:\n  hard_limit: 5\n  metrics: [lines_of_code]\n", "p.yaml:4:1", "names no dimension"},
		{"soft above hard", dims + "vehicle_budget:\n  hard_limit: 3\n  soft_limit: 5\n  metrics: [lines_of_code]\n", "p.yaml:6:15", "above hard_limit"},
		{"limit not a number", dims + "vehicle_budget:\n  hard_limit: five\n  metrics: [lines_of_code]\n", "p.yaml:5:15", "must be a number"},
		{"limit out of range", dims + "vehicle_budget:\n  hard_limit: 120\n  metrics: [lines_of_code]\n", "p.yaml:5:15", "within 0..100"},
		{"no hard limit", dims + "vehicle_budget:\n  soft_limit: 3\n  metrics: [lines_of_code]\n", "p.yaml:5:3", "needs hard_limit"},
		{"metrics not a list", dims + "vehicle_budget:\n  hard_limit: 5\n  metrics: {a: 1}\n", "p.yaml:6:12", "list of strings"},
		{"pattern without variant", "dimensions:\n  vehicle:\n    variants: [\"vehicles/**\"]\n", "p.yaml:3:16", "must contain {variant}"},
		{"variant in exclude", "exclude: [\"a/{variant}\"]\n", "p.yaml:1:11", "only allowed"},
		{"bad brace", "exclude: [\"a/{x,y}\"]\n", "p.yaml:1:11", "braces"},
		{"unknown dimension key", "dimensions:\n  vehicle:\n    variant: [\"v/{variant}\"]\n", "p.yaml:3:5", `unknown key "variant"`},
		{"custom metric two kinds", "metrics:\n  m: {files: [\"a\"], bytes: [\"b\"]}\n", "p.yaml:2:6", "exactly one"},
		{"custom metric unknown kind", "metrics:\n  m: {lines: [\"a\"]}\n", "p.yaml:2:7", `unknown key "lines"`},
		{"custom metric redefines built-in", "metrics:\n  lines_of_code: {files: [\"a\"]}\n", "p.yaml:2:3", "built in"},
		{"repeated key", "project: a\nproject: b\n", "p.yaml:2:1", "given twice"},
		{"project not a string", "project: [a]\n", "p.yaml:1:10", "must be a string"},
		{"yaml syntax", "project: [a\n", "p.yaml:", "invalid YAML"},
		{"not a mapping", "- a\n", "p.yaml:1:1", "must be a mapping"},
		{"alias", "project: &p a\nbaseline: *p\n", "p.yaml:2:11", "aliases are not supported"},
		{"alias of a mapping", "dimensions:\n  d: &v {variants: [\"v/{variant}\"]}\n  e: *v\n", "p.yaml:3:6", "aliases are not supported"},
		{"merge key", "dimensions:\n  d:\n    <<: {variants: [\"v/{variant}\"]}\n", "p.yaml:3:5", "merge keys are not supported"},
		{"unknown key names the known ones", dims + "vehicle_budget:\n  sfot_limit: 3\n", "p.yaml:5:3", `unknown key "sfot_limit" in vehicle_budget (known keys: hard_limit, soft_limit, trend_limit, exclusions, metrics)`},
		{"string too long", "project: " + strings.Repeat("x", 4001) + "\n", "p.yaml:1:10", "at most 4000 characters"},
		{"infinite limit", dims + "vehicle_budget:\n  hard_limit: .inf\n  metrics: [lines_of_code]\n", "p.yaml:5:15", "finite number"},
		{"empty", "", "p.yaml:1:1", "empty"},
		{"reported false", "metrics:\n  m: {reported: false}\n", "p.yaml:2:17", "must be true"},
		{"metric in both budgets", dims + "vehicle_budget: {hard_limit: 5, metrics: [test_case_count]}\ntest_budget: {hard_limit: 25, metrics: [test_case_count]}\n", "p.yaml:5:14", "in both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseVariantPolicy("p.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if budgetgate.ErrorCode(err) != budgetgate.EINVALID {
				t.Errorf("code %q", budgetgate.ErrorCode(err))
			}
			if f := budgetgate.ErrorField(err); !strings.HasPrefix(f, tt.field) {
				t.Errorf("field %q, want %q", f, tt.field)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		match         bool
		variant       string
	}{
		{"vehicles/{variant}/**", "vehicles/truck/brake.go", true, "truck"},
		{"vehicles/{variant}/**", "vehicles/truck/a/b/c.go", true, "truck"},
		{"vehicles/{variant}/**", "vehicles/truck", false, ""},
		{"vehicles/{variant}/**", "x/vehicles/truck/a.go", false, ""},
		{"**/*_{variant}.go", "pkg/brake_truck.go", true, "truck"},
		{"**/*_{variant}.go", "brake_truck.go", true, "truck"},
		{"**/*_{variant}.go", "pkg/fleet_manager_bus.go", true, "bus"},
		{"**/*_{variant}.go", "pkg/brake.go", false, ""},
		{"**/*_{variant}.go", "pkg/_.go", false, ""},
		{"platform/{variant}/**", "platform/linux/x.c", true, "linux"},
		{"{variant}.cfg", "conf/truck.cfg", true, "truck"},
		{"vendor/**", "vendor/a/b.go", true, ""},
		{"vendor/**", "src/vendor/a.go", false, ""},
		{"vendor/", "src/vendor/a.go", true, ""},
		{"vendor/", "src/vendor", false, ""},
		{"configs/vehicles/", "configs/vehicles/truck.yaml", true, ""},
		{"configs/vehicles/", "configs/vehicles.yaml", false, ""},
		{"configs/vehicles/", "a/configs/vehicles/x", false, ""},
		{"*.go", "a/b/c.go", true, ""},
		{"*.go", "a/b/c.go.txt", false, ""},
		{"/build", "build/x", true, ""},
		{"/build", "src/build/x", false, ""},
		{"a/**/b", "a/b", true, ""},
		{"a/**/b", "a/x/y/b", true, ""},
		{"a/**/b", "a/x/y/c", false, ""},
		{"workflows/**/*.y*ml", "workflows/ci/deploy.yaml", true, ""},
		{"workflows/**/*.y*ml", "workflows/deploy.yml", true, ""},
		{"policies/**/*.rego", "policies/p.rego", true, ""},
		{"file?.txt", "file1.txt", true, ""},
		{"file?.txt", "file10.txt", false, ""},
		{"[abc]*.go", "b.go", true, ""},
		{"[!abc]*.go", "b.go", false, ""},
		{"[a-c]x", "dir/cx", true, ""},
		{`\*.go`, "*.go", true, ""},
		{"adapters/*", "adapters/can/x.go", true, ""},
		{"**/fixtures/**", "tests/fixtures/a.bin", true, ""},
		{"testing/**", "testing/vehicle/a_test.go", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			g, err := CompileGlob(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := g.Match(tt.path)
			if ok != tt.match || v != tt.variant {
				t.Errorf("Match = %q, %v; want %q, %v", v, ok, tt.variant, tt.match)
			}
		})
	}
}

func TestGlobMatchDir(t *testing.T) {
	g := MustCompileGlob("build/")
	if _, ok := g.MatchDir("build"); !ok {
		t.Error("build/ does not match the directory build")
	}
	if _, ok := g.Match("build"); ok {
		t.Error("build/ matches a file called build")
	}
}

func TestCompileGlobErrors(t *testing.T) {
	for _, p := range []string{"", "/", "a//b", "[abc", "[]", "a\\", "{variant}/{variant}", "{variant}{variant}", "a{variant}b{variant}", "{other}", "[z-a]"} {
		t.Run(p, func(t *testing.T) {
			if _, err := CompileGlob(p); err == nil {
				t.Errorf("CompileGlob(%q) gave no error", p)
			}
		})
	}
}

func TestIsTest(t *testing.T) {
	p, err := ParseVariantPolicy("p", []byte(`tests: ["qa/**"]`))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{
		"a/b_test.go":                  true,
		"a/b.go":                       false,
		"test_x.py":                    true,
		"x_test.py":                    true,
		"conftest.py":                  true,
		"x.py":                         false,
		"web/a.test.ts":                true,
		"web/a.spec.js":                true,
		"web/__tests__/a.js":           true,
		"web/a.ts":                     false,
		"src/test/java/A.java":         true,
		"src/main/java/A.java":         false,
		"tests/helpers.c":              true,
		"lib/test/x.rb":                true,
		"testdata/x.go":                false,
		"qa/run.sh":                    true,
		"vehicles/truck/brake_test.go": true,
	}
	for path, want := range tests {
		if got := p.IsTest(path); got != want {
			t.Errorf("IsTest(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestDimensionVariants(t *testing.T) {
	p, err := ParseVariantPolicy("p", []byte(specPolicy))
	if err != nil {
		t.Fatal(err)
	}
	v := p.Dimension("vehicle")
	tests := []struct {
		path   string
		isTest bool
		want   string
	}{
		{"vehicles/truck/brake.go", false, "truck"},
		{"pkg/brake_bus.go", false, "bus"},
		{"pkg/brake_bus_test.go", true, "bus"}, // the test of a bus file is bus
		{"pkg/brake_test.go", true, ""},        // and not a variant called "test"
		{"vehicles/truck/x_bus.go", false, "truck,bus"},
		{"core/engine.go", false, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(v.Variants(tt.path, tt.isTest), ","); got != tt.want {
			t.Errorf("Variants(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	if got := strings.Join(p.Dimension("sector").Variants("sectors/ports/crane.go", false), ","); got != "ports" {
		t.Errorf("named variant: %q", got)
	}
}

func FuzzParseVariantPolicy(f *testing.F) {
	f.Add([]byte(specPolicy))
	f.Add([]byte("dimensions:\n  v:\n    variants: [\"x/{variant}/**\"]\nv_budget: {hard_limit: 5, soft_limit: 3, metrics: [lines_of_code]}\n"))
	f.Add([]byte("vehicle_budget:\n  sfot_limit: 3\n"))
	f.Add([]byte("metrics: {a: {dirs: ['[a-']}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseVariantPolicy("f.yaml", data)
		if err != nil {
			if budgetgate.ErrorCode(err) != budgetgate.EINVALID || !strings.HasPrefix(budgetgate.ErrorField(err), "f.yaml:") {
				t.Fatalf("error without code or position: %#v", err)
			}
			return
		}
		for _, d := range p.Dimensions {
			for _, b := range p.Budgets(d) {
				if b.SoftLimit > b.HardLimit || len(b.Metrics) == 0 {
					t.Fatalf("invalid budget accepted: %+v", b)
				}
			}
			d.Variants("a/b/c_d.go", false)
		}
	})
}
