package analyze

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/budgetgate/budgetgate/variant"
)

// TestCoverageFromGoTest runs go test -coverprofile on a module the test
// writes, and reads coverage per variant from the profile: the truck's code
// is never run, core's is, and a C file no report mentions is unmeasured.
func TestCoverageFromGoTest(t *testing.T) {
	r := newRepo(t)
	r.write(PolicyFile, `project: fleet
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
vehicle_budget: {hard_limit: 100, soft_limit: 100, metrics: [lines_of_code, uncovered_lines_of_code]}
`)
	r.write("go.mod", "module example.com/fleet\n\ngo 1.21\n")
	r.write("core/core.go", "package core\n\nfunc Brake(x int) int {\n\tif x > 0 {\n\t\treturn x\n\t}\n\treturn 0\n}\n")
	r.write("core/core_test.go", "package core\n\nimport \"testing\"\n\nfunc TestBrake(t *testing.T) {\n\tif Brake(1) != 1 || Brake(0) != 0 {\n\t\tt.Fatal()\n\t}\n}\n")
	r.write("vehicles/truck/cab.go", "package truck\n\nfunc Cab(x int) int {\n\tif x > 1 {\n\t\treturn 2\n\t}\n\treturn 3\n}\n")
	r.write("native/io.c", "int io(void) { return 0; }\n")
	r.commit("fleet")
	profile := filepath.Join(t.TempDir(), "cover.out")
	cmd := exec.Command("go", "test", "-coverprofile="+profile, "-coverpkg=./...", "./...")
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	a := run(t, Options{Dir: r.dir, NoCache: true, BaselineSet: true, Coverage: []string{profile}}).Analysis
	d := dimension(t, a, "vehicle")
	if c := d.CoreCoverage; c == nil || c.Percent != 100 || c.Uncovered != 0 || c.Unmeasured != 1 {
		t.Errorf("core coverage %+v, want 100%% with the C file's line unmeasured", c)
	}
	truck := d.Variants[0]
	if c := truck.Coverage; truck.Name != "truck" || c == nil || c.Covered != 0 || c.Uncovered == 0 || c.Percent != 0 {
		t.Errorf("truck coverage %+v", c)
	}
	if vm := variantMetric(t, d, "truck", variant.MetricUncoveredLines); vm.Value != float64(truck.Coverage.Uncovered) || vm.Core != 0 {
		t.Errorf("uncovered_lines_of_code %+v", vm)
	}
	if a.Unmeasured == nil || a.Unmeasured.Files != 1 || a.Unmeasured.Lines != 1 {
		t.Errorf("unmeasured %+v, want the C file", a.Unmeasured)
	}
	// A report the analyzer cannot read is an error naming it.
	bad := filepath.Join(t.TempDir(), "bad.out")
	os.WriteFile(bad, []byte("not a report\n"), 0o644)
	if _, err := Run(t.Context(), Options{Dir: r.dir, NoCache: true, BaselineSet: true, Coverage: []string{bad}}); err == nil {
		t.Error("an unreadable report was accepted")
	}
}

// TestCoverageInsideFiles splits a shared C file's coverage by its
// conditionals: the CAN block's lines are CAN's.
func TestCoverageInsideFiles(t *testing.T) {
	r := inFileRepo(t)
	lcov := filepath.Join(t.TempDir(), "lcov.info")
	// core/main.c: line 1 ran; CAN's lines 4-6 did not, line 5 did.
	os.WriteFile(lcov, []byte("TN:\nSF:"+r.dir+"/core/main.c\nDA:1,4\nDA:4,0\nDA:5,1\nDA:6,0\nDA:9,2\nend_of_record\n"), 0o644)
	a := run(t, Options{Dir: r.dir, NoCache: true, BaselineSet: true, Coverage: []string{lcov}}).Analysis
	port := dimension(t, a, "port")
	var can *variant.LineCoverage
	for _, v := range port.Variants {
		if v.Name == "CAN" {
			can = v.Coverage
		}
	}
	if can == nil || can.Covered != 1 || can.Uncovered != 2 || can.Percent != 33.33 {
		t.Errorf("CAN coverage %+v", can)
	}
	if c := port.CoreCoverage; c.Covered != 2 || c.Uncovered != 0 {
		t.Errorf("core coverage %+v", c)
	}
}
