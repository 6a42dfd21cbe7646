package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/budgetgate/budgetgate/variant"
	"github.com/budgetgate/budgetgate/views"
)

// coverageCell writes a line coverage: its percentage, or that nothing of it
// was measured.
func coverageCell(c *variant.LineCoverage) string {
	switch {
	case c == nil:
		return "-"
	case c.Covered+c.Uncovered == 0 && c.Unmeasured == 0:
		return "-"
	case c.Covered+c.Uncovered == 0:
		return "unmeasured"
	}
	s := views.CoveragePercent(c)
	if c.Unmeasured > 0 {
		s += fmt.Sprintf(" (%d lines unmeasured)", c.Unmeasured)
	}
	return s
}

// coverageLine is a dimension's coverage: core's, then each variant's.
func coverageLine(d variant.DimensionResult) string {
	parts := []string{"core " + coverageCell(d.CoreCoverage)}
	for _, v := range d.Variants {
		parts = append(parts, v.Name+" "+coverageCell(v.Coverage))
	}
	return strings.Join(parts, ", ")
}

func unmeasuredNote(a *variant.Analysis) string {
	return fmt.Sprintf("%d code files (%d lines) are in no coverage report: unmeasured, not uncovered", a.Unmeasured.Files, a.Unmeasured.Lines)
}

// writeCoverageTable prints line coverage per dimension, when reports were read.
func writeCoverageTable(w io.Writer, a *variant.Analysis) {
	if a.Unmeasured == nil {
		return
	}
	fmt.Fprintf(w, "\nLine coverage (%s):\n", unmeasuredNote(a))
	for _, d := range a.Dimensions {
		fmt.Fprintf(w, "  %s: %s\n", d.Name, coverageLine(d))
	}
}

// writeCoverageMarkdown is writeCoverageTable for a pull-request comment.
func writeCoverageMarkdown(w io.Writer, a *variant.Analysis) {
	if a.Unmeasured == nil {
		return
	}
	fmt.Fprintf(w, "\n### Line coverage\n\n%s.\n\n| Dimension | Core | Variants |\n|---|---:|---|\n", strings.ToUpper(unmeasuredNote(a)[:1])+unmeasuredNote(a)[1:])
	for _, d := range a.Dimensions {
		var vs []string
		for _, v := range d.Variants {
			vs = append(vs, v.Name+" "+coverageCell(v.Coverage))
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", d.Name, coverageCell(d.CoreCoverage), strings.Join(vs, ", "))
	}
}
