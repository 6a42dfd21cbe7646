package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/budgetgate/budgetgate/variant"
)

// TestProjectPageShowsVariantCodeInSharedFiles posts an analysis whose
// shared file holds a variant's conditional code, and finds it on the
// project page with its line blocks.
func TestProjectPageShowsVariantCodeInSharedFiles(t *testing.T) {
	vs := newVariantServer(t)
	p, err := variant.ParseVariantPolicy(".budgetgate.yaml", []byte(strings.Replace(fleetPolicy, "/**\"]\n", "/**\"]\n    conditions: [\"CONFIG_{variant}\"]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Analyze(&variant.AnalysisInput{Commit: "c1", Files: []variant.FileFacts{
		{Path: "core/a.go", Code: true, Lines: 9500, Functions: 100, Coverage: &variant.FileCoverage{Covered: []int{1, 2, 3}, Uncovered: []int{4}}},
		{Path: "drivers/can.c", Code: true, Lines: 700, Functions: 10, InFile: []variant.InFileCode{
			{Dimension: "vehicle", Variants: []string{"truck"}, Lines: 200, Functions: 2, Blocks: []variant.CodeLocation{{StartLine: 10, EndLine: 209}}},
		}},
	}, Coverage: true})
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	vs.tick()
	if status, _, e := vs.postAnalysis(t, vs.URL, string(data)); status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("post: %d %+v", status, e)
	}
	doc, status := vs.page(t, vs.URL+"/projects/fleet-core")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	row := doc.Find(`[data-testid="dimension-vehicle"] [data-testid="in-file"] tbody tr`)
	var cells []string
	row.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, td.Text()) })
	if got := strings.Join(cells, " "); got != "drivers/can.c truck 200 10-209" {
		t.Errorf("in-file row %q", got)
	}
	// Coverage: core's from a.go's report; the shared file is unmeasured.
	for name, want := range map[string]string{"core": "75.00%", "truck": "unmeasured"} {
		if got := doc.Find(`[data-testid="coverage-` + name + `"] td`).First().Text(); got != want {
			t.Errorf("%s coverage %q, want %q", name, got, want)
		}
	}
	// 200 of 10,200 lines: the truck's code inside the shared file counts.
	if d := doc.Find(`[data-testid="dimension-vehicle"] [data-testid="metric-lines_of_code"] [data-testid="delta"]`).Text(); d != "1.96%" {
		t.Errorf("delta %q", d)
	}
}
