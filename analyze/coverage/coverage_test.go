package coverage

import (
	"maps"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, report, format string
		want                 map[string]map[int]bool
	}{
		{"lcov", "TN:\nSF:/ci/repo/src/a.c\nDA:1,3\nDA:2,0\nDA:4,0\nend_of_record\nSF:/ci/repo/src/b.c\nDA:7,1\nend_of_record\n", "lcov",
			map[string]map[int]bool{"/ci/repo/src/a.c": {1: true, 2: false, 4: false}, "/ci/repo/src/b.c": {7: true}}},
		{"go", "mode: set\nexample.com/m/p/a.go:3.20,5.2 2 1\nexample.com/m/p/a.go:7.20,8.3 1 0\nexample.com/m/p/a.go:5.2,5.10 1 0\n", "go",
			map[string]map[int]bool{"example.com/m/p/a.go": {3: true, 4: true, 5: true, 7: false, 8: false}}},
		{"cobertura", `<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.5" version="1.9">
  <sources><source>/ci/repo</source></sources>
  <packages><package name="pkg"><classes>
    <class name="a.py" filename="pkg/a.py" line-rate="0.5">
      <methods><method name="f"><lines><line number="2" hits="0"/></lines></method></methods>
      <lines><line number="1" hits="1"/><line number="2" hits="0"/><line number="3" hits="2" branch="true"/></lines>
    </class>
  </classes></package></packages>
</coverage>`, "cobertura", map[string]map[int]bool{"pkg/a.py": {1: true, 2: false, 3: true}}},
		{"jacoco", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="app">
  <package name="com/acme/fleet">
    <class name="com/acme/fleet/Truck" sourcefilename="Truck.java"><method name="go" desc="()V" line="5"/></class>
    <sourcefile name="Truck.java">
      <line nr="3" mi="0" ci="3" mb="0" cb="0"/>
      <line nr="5" mi="4" ci="0" mb="0" cb="0"/>
      <line nr="6" mi="0" ci="0" mb="0" cb="0"/>
      <counter type="LINE" missed="1" covered="1"/>
    </sourcefile>
  </package>
</report>`, "jacoco", map[string]map[int]bool{"com/acme/fleet/Truck.java": {3: true, 5: false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.report))
			if err != nil {
				t.Fatal(err)
			}
			if r.Format != tc.format {
				t.Errorf("format %s, want %s", r.Format, tc.format)
			}
			if !maps.EqualFunc(r.Files, tc.want, maps.Equal) {
				t.Errorf("files %v, want %v", r.Files, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ report, want string }{
		{"hello\n", "not a coverage report"},
		{"<html></html>", "neither Cobertura"},
		{"SF:a.c\nDA:x,1\n", "line 2: DA:x,1 is not line,count"},
		{"TN:\nDA:1,1\n", "line 2: DA: before any SF:"},
		{"mode: set\na.go:3.1 1 1\n", "line 2:"},
		{"mode: set\na.go:5.1,3.1 1 1\n", "line 2:"},
		{"<coverage><class filename=\"a\"><lines><line number=\"x\" hits=\"1\"/></lines></class></coverage>", "no line number"},
		{"<coverage><class", "coverage XML"},
	} {
		_, err := Parse([]byte(tc.report))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.report, err, tc.want)
		}
	}
}

func TestIndex(t *testing.T) {
	x := NewIndex([]string{"core/a.go", "vehicles/truck/a.go", "src/main/java/com/acme/fleet/Truck.java", "b.c"})
	for report, want := range map[string]string{
		"example.com/fleet/core/a.go":  "core/a.go",
		"/ci/repo/vehicles/truck/a.go": "vehicles/truck/a.go",
		"com/acme/fleet/Truck.java":    "src/main/java/com/acme/fleet/Truck.java",
		"a.go":                         "", // two files end so
		"./b.c":                        "b.c",
		"C:\\ci\\repo\\b.c":            "b.c",
		"example.com/fleet/other/x.go": "",
	} {
		if got := x.Find(report); got != want {
			t.Errorf("Find(%q) = %q, want %q", report, got, want)
		}
	}
}

// FuzzParse holds the parsers to never panicking on any input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"TN:\nSF:a\nDA:1,1\nend_of_record\n", "mode: set\na.go:1.1,2.2 1 1\n", "<coverage><class filename=\"a\"><lines><line number=\"1\" hits=\"1\"/></lines></class></coverage>",
		"<report><package name=\"p\"><sourcefile name=\"A.java\"><line nr=\"1\" mi=\"0\" ci=\"1\"/></sourcefile></package></report>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		for _, ls := range r.Files {
			for l := range ls {
				if l < 1 {
					t.Fatalf("line %d", l)
				}
			}
		}
	})
}
