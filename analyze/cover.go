package analyze

import (
	"fmt"
	"os"
	"slices"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/analyze/coverage"
	"github.com/budgetgate/budgetgate/variant"
)

// applyCoverage reads the run's coverage reports and gives each file they
// mention its covered and uncovered lines; the others stay unmeasured.
func (an *analyzer) applyCoverage(in *variant.AnalysisInput) error {
	var paths []string
	at := map[string]int{}
	for i, f := range in.Files {
		paths = append(paths, f.Path)
		at[f.Path] = i
	}
	x := coverage.NewIndex(paths)
	lines := map[string]map[int]bool{} // tree path -> line -> ran
	unplaced := 0
	for _, name := range an.opts.Coverage {
		data, err := os.ReadFile(name)
		if err != nil {
			return budgetgate.Errorf(budgetgate.EINVALID, "--coverage: %v", err)
		}
		r, err := coverage.Parse(data)
		if err != nil {
			return budgetgate.Errorf(budgetgate.EINVALID, "--coverage %s: %v", name, err)
		}
		for file, ls := range r.Files {
			p := x.Find(file)
			if p == "" {
				unplaced++
				continue
			}
			if lines[p] == nil {
				lines[p] = map[int]bool{}
			}
			for l, ran := range ls {
				lines[p][l] = lines[p][l] || ran
			}
		}
	}
	for p, ls := range lines {
		c := &variant.FileCoverage{}
		for l, ran := range ls {
			if ran {
				c.Covered = append(c.Covered, l)
			} else {
				c.Uncovered = append(c.Uncovered, l)
			}
		}
		slices.Sort(c.Covered)
		slices.Sort(c.Uncovered)
		in.Files[at[p]].Coverage = c
	}
	in.Coverage = true
	if unplaced > 0 {
		an.res.Warnings = append(an.res.Warnings, fmt.Sprintf("%d files of the coverage reports are not in the tree and are not counted", unplaced))
	}
	return nil
}
