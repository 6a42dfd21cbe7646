package sloimport

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// FuzzParse: whatever the bytes, Parse does not panic, refuses with an
// invalid-input error that names where, and what it accepts is an SLO
// budgetgate can compute.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(openSLOHead + v1Indicator + v1Objectives))
	f.Add([]byte(slothHead + "    sli:\n      raw:\n        error_ratio_query: x\n"))
	f.Add([]byte("apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: a\n  timeWindows:\n    - {count: 12, unit: Hour}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		format, slos, err := Parse("f.yaml", data)
		if err != nil {
			var e *budgetgate.Error
			if !errors.As(err, &e) || e.Code != budgetgate.EINVALID || !strings.HasPrefix(e.Field, "f.yaml") {
				t.Fatalf("%T %v: want an invalid-input error naming the file", err, err)
			}
			if slos != nil {
				t.Fatalf("an error and %d SLOs", len(slos))
			}
			return
		}
		if format == Native {
			if slos != nil {
				t.Fatalf("native form with %d SLOs", len(slos))
			}
			return
		}
		if len(slos) == 0 {
			t.Fatal("an imported file without SLOs")
		}
		for _, s := range slos {
			if !errorbudget.ValidServiceName(s.Service) || !errorbudget.ValidServiceName(s.Name) {
				t.Fatalf("names %q/%q", s.Service, s.Name)
			}
			if !(s.Objective > 0 && s.Objective < 100) {
				t.Fatalf("objective %v", s.Objective)
			}
			if _, err := errorbudget.ParseWindow(s.Window); err != nil {
				t.Fatalf("window %q: %v", s.Window, err)
			}
			if (s.Good == "") == (s.Bad == "") || s.Total == "" {
				t.Fatalf("queries good %q bad %q total %q", s.Good, s.Bad, s.Total)
			}
			for _, q := range []string{s.Good + s.Bad, s.Total} {
				if !strings.Contains(q, "{{.window}}") {
					t.Fatalf("query %q without {{.window}}", q)
				}
			}
		}
	})
}
