package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/variant"
)

// lerp goes from a to b as step goes from 0 to demoCommits-1.
func lerp(a, b float64, step int) int {
	t := float64(step) / float64(demoCommits-1)
	return int(math.Round(a + (b-a)*t))
}

// goSource is a Go file of funcs small functions (six code lines each,
// one decision) and types structs.
func goSource(pkg, prefix string, funcs, types int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// Package %s is part of the fleet-core demo.\npackage %s\n\n", pkg, pkg)
	for i := 0; i < types; i++ {
		fmt.Fprintf(&b, "// %sT%d is a record.\ntype %sT%d struct {\n\tID   int\n\tName string\n}\n\n", prefix, i, prefix, i)
	}
	for i := 0; i < funcs; i++ {
		fmt.Fprintf(&b, "func %s%d(x int) int {\n\tif x > %d {\n\t\treturn x - %d\n\t}\n\treturn x + %d\n}\n\n", prefix, i, i, i, i+1)
	}
	return b.String()
}

// goTest is a Go test file with n tests of prefix's functions.
func goTest(pkg, prefix string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n\nimport \"testing\"\n\n", pkg)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "func Test%s%d(t *testing.T) {\n\tif %s%d(%d) < 0 {\n\t\tt.Fatal(\"negative\")\n\t}\n}\n\n", strings.ToUpper(prefix[:1])+prefix[1:], i, prefix, i, i)
	}
	return b.String()
}

// convertSource is copied between the bus and the van: a duplicate the
// analyzer recommends moving into core.
func convertSource(pkg string) string {
	return "package " + pkg + `

// Convert turns a speed in km/h into m/s, clamped to the vehicle's range.
func Convert(kmh float64, limit float64) float64 {
	ms := kmh / 3.6
	if ms < 0 {
		ms = 0
	}
	if ms > limit {
		ms = limit
	}
	if ms != ms {
		ms = 0
	}
	return ms
}

// Distance is how far the vehicle goes in seconds at kmh.
func Distance(kmh float64, seconds float64, limit float64) float64 {
	return Convert(kmh, limit) * seconds
}
`
}

// fleetTree is the demo repository's tree at a step of main: core code
// grows steadily, and the truck's own code a little faster, so that the
// vehicle budget warns and its projection heads for the hard limit. With
// change, the truck gets an autonomy stack of its own that breaks it.
func fleetTree(step int, change bool) map[string]string {
	files := map[string]string{
		".budgetgate.yaml": fleetPolicy,
		"README.md":        "# fleet-core\n\nDemo repository for budgetgate's variant budgets.\n",
		"go.mod":           "module example.com/fleet-core\n\ngo 1.22\n",
	}
	coreFuncs := lerp(95, 150, step)
	for i, name := range []string{"planner", "telemetry", "fleet", "routing", "maps", "safety", "scheduler", "diagnostics"} {
		files["core/"+name+"/"+name+".go"] = goSource(name, name, coreFuncs+7*i, 5)
		files["core/"+name+"/"+name+"_test.go"] = goTest(name, name, lerp(10, 16, step))
		files["testdata/"+name+".json"] = fmt.Sprintf("{\"cases\": [%s0]}\n", strings.Repeat("1, ", 600+step*20))
	}
	truck := lerp(18, 62, step)
	files["vehicles/truck/truck.go"] = goSource("truck", "truck", truck/2, 1)
	files["vehicles/truck/payload.go"] = goSource("truck", "payload", truck-truck/2, 0)
	files["vehicles/truck/truck_test.go"] = goTest("truck", "truck", 4)
	files["vehicles/truck/testdata/route.json"] = fmt.Sprintf("{\"route\": [%s0]}\n", strings.Repeat("7, ", 300))
	if change {
		files["vehicles/truck/autonomy.go"] = goSource("truck", "autonomy", 40, 1)
	}
	files["vehicles/bus/bus.go"] = goSource("bus", "bus", lerp(10, 18, step), 1)
	files["vehicles/bus/convert.go"] = convertSource("bus")
	files["vehicles/van/van.go"] = goSource("van", "van", 6, 0)
	files["vehicles/van/convert.go"] = convertSource("van")
	files["configs/vehicles/truck.yaml"] = "axles: 3\nmax_payload_kg: 24000\n"
	files["platform/linux/linux.go"] = goSource("linux", "linux", 12, 0)
	files["platform/qnx/qnx.go"] = goSource("qnx", "qnx", lerp(16, 22, step), 0)
	for i := 0; i < 80; i++ {
		files[fmt.Sprintf("policies/rule%02d.rego", i)] = fmt.Sprintf("package fleet.rule%d\n\ndeny[msg] { input.speed > %d; msg := \"too fast\" }\n", i, 80+i)
	}
	for i := 0; i < 40; i++ {
		files[fmt.Sprintf("ui/components/Widget%02d.tsx", i)] = fmt.Sprintf("export function Widget%d() {\n  return <div>%d</div>;\n}\n", i, i)
		files[fmt.Sprintf("adapters/adapter%02d/adapter.go", i)] = goSource("adapter", fmt.Sprintf("adapter%d_", i), 2, 0)
	}
	for i := 0; i < 30; i++ {
		files[fmt.Sprintf("workflows/flow%02d.yaml", i)] = fmt.Sprintf("name: flow%d\nsteps: [check, dispatch]\n", i)
	}
	files["sectors/mining/policies/blast_zone.rego"] = "package mining\n\ndeny[msg] { input.zone == \"blast\"; msg := \"blast zone\" }\n"
	files["sectors/mining/ui/components/HaulMap.tsx"] = "export function HaulMap() {\n  return <div>haul</div>;\n}\n"
	files["sectors/mining/adapters/dispatch/adapter.go"] = goSource("dispatch", "dispatch", 3, 0)
	files["sectors/ports/workflows/berth.yaml"] = "name: berth\nsteps: [moor, unload]\n"
	files["sectors/ports/policies/cranes.rego"] = "package ports\n\ndeny[msg] { input.wind > 20; msg := \"wind\" }\n"
	return files
}

// syntheticProject is a demo project whose history is computed from
// made-up file figures rather than a repository: three months of baseline
// analyses with the shape a real project's trends have.
type syntheticProject struct {
	name   string
	policy string
	steps  int
	// files gives the tree's figures at step i of steps.
	files func(i, steps int, rng *rand.Rand) []variant.FileFacts
}

var syntheticProjects = []syntheticProject{
	{
		// The QNX port grows faster than the core: it crosses the hard
		// limit about three weeks before now and stays over: an open
		// violation, and a blocked deployment gate.
		name: "telematics-gateway",
		policy: `project: telematics-gateway
baseline: main
dimensions:
  platform:
    variants: ["platform/{variant}/**"]
  vehicle:
    variants: ["vehicles/{variant}/**"]
platform_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code, function_count]}
vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code]}
test_budget: {hard_limit: 25.0, soft_limit: 20.0, trend_limit: 2.0, metrics: [test_case_count]}
`,
		steps: 40,
		files: func(i, steps int, rng *rand.Rand) []variant.FileFacts {
			t := float64(i) / float64(steps-1)
			core := 20000 + 4000*t
			share := func(from, to float64) float64 { // lines for a delta going from..to percent
				d := (from + (to-from)*t + rng.Float64()*0.08) / 100
				return core * d / (1 - d)
			}
			return []variant.FileFacts{
				{Path: "core/gateway.go", Code: true, Lines: int(core), Functions: int(core / 9)},
				{Path: "platform/qnx/port.go", Code: true, Lines: int(share(3.1, 5.5)), Functions: int(share(2.8, 5.2) / 9)},
				{Path: "platform/linux/port.go", Code: true, Lines: int(share(2.0, 2.1)), Functions: int(share(1.9, 2.0) / 9)},
				{Path: "platform/android/port.go", Code: true, Lines: int(share(0.8, 2.4)), Functions: int(share(0.8, 2.2) / 9)},
				{Path: "vehicles/truck/can.go", Code: true, Lines: int(share(1.4, 1.6))},
				{Path: "vehicles/bus/can.go", Code: true, Lines: int(share(0.9, 1.0))},
				{Path: "core/gateway_test.go", Test: true, Code: true, TestCases: 400 + int(80*t)},
				{Path: "platform/qnx/port_test.go", Test: true, Code: true, TestCases: 40 + int(10*t)},
				{Path: "platform/linux/port_test.go", Test: true, Code: true, TestCases: 25},
			}
		},
	},
	{
		// The mining overlay is being folded back into core: it warns at
		// first and is within every limit by now.
		name: "ops-portal",
		policy: `project: ops-portal
baseline: main
dimensions:
  sector:
    variants:
      mining: ["sectors/mining/**"]
      ports: ["sectors/ports/**"]
      agriculture: ["sectors/agriculture/**"]
sector_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code, cyclomatic_complexity]}
`,
		steps: 34,
		files: func(i, steps int, rng *rand.Rand) []variant.FileFacts {
			t := float64(i) / float64(steps-1)
			core := 12000 + 1500*t
			share := func(from, to float64) float64 {
				d := (from + (to-from)*t + rng.Float64()*0.06) / 100
				return core * d / (1 - d)
			}
			return []variant.FileFacts{
				{Path: "src/portal.ts", Code: true, Lines: int(core), Complexity: int(core / 6)},
				{Path: "sectors/mining/overlay.ts", Code: true, Lines: int(share(3.8, 2.2)), Complexity: int(share(3.4, 2.0) / 6)},
				{Path: "sectors/ports/overlay.ts", Code: true, Lines: int(share(1.5, 1.7)), Complexity: int(share(1.4, 1.5) / 6)},
				{Path: "sectors/agriculture/overlay.ts", Code: true, Lines: int(share(0.5, 0.9)), Complexity: int(share(0.4, 0.8) / 6)},
			}
		},
	},
}

// seedSynthetic stores a synthetic project's baseline history: each step
// analysed by the domain and compared with the step before, at its moment
// over the last 90 days.
func seedSynthetic(ctx context.Context, d *db.DB, sp syntheticProject, now time.Time) error {
	done, err := hasAnalyses(ctx, d, sp.name)
	if err != nil || done {
		return err
	}
	p, err := variant.ParseVariantPolicy(".budgetgate.yaml", []byte(sp.policy))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(len(sp.name)), 11))
	restore := d.Now
	defer func() { d.Now = restore }()
	actor := budgetgate.Actor{Issuer: "demo", Subject: "ci", Name: "ci"}
	start := now.Add(-demoSpan)
	var prev *variant.Analysis
	for i := 0; i < sp.steps; i++ {
		at := start.Add(time.Duration(i+1) * demoSpan / time.Duration(sp.steps+1))
		in := &variant.AnalysisInput{Commit: fmt.Sprintf("%016x%016x%08x", rng.Uint64(), rng.Uint64(), rng.Uint32()), Baseline: "main", Files: sp.files(i, sp.steps, rng)}
		a := p.Analyze(in)
		if prev != nil {
			a.CompareBaseline(prev, nil, "")
			a.Baseline = "main"
		}
		a.Recommend(p, in, nil)
		d.Now = func() time.Time { return at }
		if err := saveDemo(ctx, d, a, true, app.SourceCI, actor); err != nil {
			return err
		}
		prev = a
	}
	return nil
}
