package analyze

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/variant"
)

const junitReport = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="pytest" file="tests/test_core.py">
    <testcase classname="tests.test_core" name="test_a" time="1.5"/>
    <testcase classname="tests.test_core" name="test_b" time="0.25" file="vehicles/truck/tests/test_cab.py"/>
  </testsuite>
  <testsuite name="java">
    <testcase classname="com.acme.truck.BrakeTest" name="stops" time="2"/>
    <testcase classname="com.acme.Nowhere" name="lost" time="9"/>
  </testsuite>
  <testsuite name="go">
    <testsuite name="nested">
      <testcase classname="example.com/fleet/vehicles/bus" name="TestBus" time="1,000.5">
        <failure message="boom">trace</failure>
      </testcase>
    </testsuite>
  </testsuite>
</testsuites>
`

func TestParseJUnit(t *testing.T) {
	cases, err := ParseJUnit(strings.NewReader(junitReport))
	if err != nil {
		t.Fatal(err)
	}
	want := []JUnitCase{
		{Name: "test_a", Classname: "tests.test_core", File: "tests/test_core.py", Time: 1.5},
		{Name: "test_b", Classname: "tests.test_core", File: "vehicles/truck/tests/test_cab.py", Time: 0.25},
		{Name: "stops", Classname: "com.acme.truck.BrakeTest", Time: 2},
		{Name: "lost", Classname: "com.acme.Nowhere", Time: 9},
		{Name: "TestBus", Classname: "example.com/fleet/vehicles/bus", Time: 1000.5},
	}
	if len(cases) != len(want) {
		t.Fatalf("%d cases: %+v", len(cases), cases)
	}
	for i := range want {
		if cases[i] != want[i] {
			t.Errorf("case %d = %+v, want %+v", i, cases[i], want[i])
		}
	}
}

func TestParseJUnitErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not xml":        "{}",
		"no suites":      "<html></html>",
		"bad time":       `<testsuite><testcase name="a" time="soon"/></testsuite>`,
		"negative time":  `<testsuite><testcase name="a" time="-1"/></testsuite>`,
		"time past 2^53": `<testsuite><testcase name="a" time="1e16"/></testsuite>`,
		"infinite time":  `<testsuite><testcase name="a" time="1e400"/></testsuite>`,
		"unclosed":       `<testsuite><testcase name="a">`,
		"bare testcase":  `<testcase name="a"/>`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseJUnit(strings.NewReader(doc)); budgetgate.ErrorCode(err) != budgetgate.EINVALID {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestJUnitPlacement(t *testing.T) {
	x := newJUnitIndex([]string{
		"src/test/java/com/acme/truck/BrakeTest.java",
		"tests/test_core.py",
		"vehicles/bus/bus_test.go",
		"vehicles/bus/z_test.go",
		"vehicles/truck/tests/test_cab.py",
	})
	tests := []struct {
		c    JUnitCase
		want string
	}{
		{JUnitCase{File: "tests/test_core.py"}, "tests/test_core.py"},
		{JUnitCase{File: "./tests/test_core.py"}, "tests/test_core.py"},
		{JUnitCase{File: "/ci/work/repo/tests/test_core.py"}, "tests/test_core.py"},
		{JUnitCase{Classname: "tests.test_core.TestX"}, "tests/test_core.py"},
		{JUnitCase{Classname: "com.acme.truck.BrakeTest"}, "src/test/java/com/acme/truck/BrakeTest.java"},
		{JUnitCase{Classname: "example.com/fleet/vehicles/bus"}, "vehicles/bus/bus_test.go"},
		{JUnitCase{Classname: "com.acme.Nowhere"}, ""},
		{JUnitCase{}, ""},
	}
	for _, tt := range tests {
		if got := x.place(tt.c); got != tt.want {
			t.Errorf("place(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestJUnitInAnalysis(t *testing.T) {
	r := newRepo(t)
	r.write(PolicyFile, `dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
test_budget: {hard_limit: 25, soft_limit: 20, metrics: [test_execution_time, test_case_count]}
`)
	r.write("tests/test_core.py", "def test_a():\n    pass\n")
	r.write("vehicles/truck/tests/test_cab.py", "def test_b():\n    pass\n")
	r.write("src/test/java/com/acme/truck/BrakeTest.java", "class BrakeTest {}\n")
	r.commit("tests")
	report := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(report, []byte(junitReport), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, Options{Dir: r.dir, Rev: "HEAD", JUnit: []string{report}, BaselineSet: true})
	d := res.Analysis.Dimensions[0]
	if len(d.Variants) != 1 || d.Variants[0].Name != "truck" {
		t.Fatalf("variants %+v", d.Variants)
	}
	time := d.Variants[0].Metrics[variant.MetricTestExecutionTime]
	cases := d.Variants[0].Metrics[variant.MetricTestCaseCount]
	// core: test_a 1.5 s, 1 case; truck: test_b 0.25 s (its file attribute)
	// and BrakeTest 2 s (java, not a variant path): core 3.5 s, 2 cases.
	if time.Value != 0.25 || time.Core != 3.5 {
		t.Errorf("test_execution_time %+v", time)
	}
	if cases.Value != 1 || cases.Core != 2 || cases.Delta != 33.33 {
		t.Errorf("test_case_count %+v", cases)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "2 JUnit test cases") {
		t.Errorf("warnings %v", res.Warnings)
	}
}

// TestJUnitTimesPastExactRefused: each time within bounds, two of them
// together past 2^53 seconds; the analysis is refused rather than carrying
// an inexact sum.
func TestJUnitTimesPastExactRefused(t *testing.T) {
	r := newRepo(t)
	r.write(PolicyFile, `dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
test_budget: {hard_limit: 25, soft_limit: 20, metrics: [test_execution_time]}
`)
	r.write("vehicles/truck/tests/test_cab.py", "def test_b():\n    pass\n")
	r.commit("tests")
	report := filepath.Join(t.TempDir(), "junit.xml")
	doc := `<testsuite><testcase name="a" file="vehicles/truck/tests/test_cab.py" time="5e15"/><testcase name="b" file="vehicles/truck/tests/test_cab.py" time="5e15"/></testsuite>`
	if err := os.WriteFile(report, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Dir: r.dir, Rev: "HEAD", JUnit: []string{report}, BaselineSet: true, NoCache: true})
	if budgetgate.ErrorCode(err) != budgetgate.EINVALID || !strings.Contains(err.Error(), "together") {
		t.Fatalf("err %v; want the sum refused", err)
	}
}

func FuzzJUnit(f *testing.F) {
	f.Add([]byte(junitReport))
	f.Add([]byte(`<testsuite><testcase name="a" time="1e308"/></testsuite>`))
	f.Add([]byte(`<testsuites><testsuite file="x"><testsuite><testcase/></testsuite></testsuite></testsuites>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><testsuite>&a;</testsuite>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := ParseJUnit(strings.NewReader(string(data)))
		if err != nil {
			if budgetgate.ErrorCode(err) == budgetgate.EINTERNAL {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		x := newJUnitIndex([]string{"a/b_test.go", "tests/test_x.py"})
		for _, c := range cases {
			if c.Time < 0 {
				t.Fatalf("negative time %v", c.Time)
			}
			x.place(c)
		}
	})
}
