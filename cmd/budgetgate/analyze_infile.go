package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate/variant"
	"github.com/budgetgate/budgetgate/views"
)

// maxInFileShown bounds the shared files a table lists per dimension; JSON
// has them all.
const maxInFileShown = 10

// writeInFileTable lists the variant code of a dimension's shared files.
func writeInFileTable(w io.Writer, d variant.DimensionResult) {
	if len(d.InFile) == 0 {
		return
	}
	fmt.Fprintf(w, "  variant code in %d shared file parts:\n", len(d.InFile))
	for _, c := range d.InFile[:min(len(d.InFile), maxInFileShown)] {
		fmt.Fprintf(w, "    %s: %s, %d lines (lines %s)\n", c.Path, views.InFileOwners(c.Variants), c.Lines, views.BlockRanges(c.Blocks))
	}
	if n := len(d.InFile) - maxInFileShown; n > 0 {
		fmt.Fprintf(w, "    ... and %d more (--format json lists them all)\n", n)
	}
}

// writeInFileMarkdown is writeInFileTable for a pull-request comment.
func writeInFileMarkdown(w io.Writer, a *variant.Analysis) {
	for _, d := range a.Dimensions {
		if len(d.InFile) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n<details><summary>%s: variant code in shared files (%d)</summary>\n\n", d.Name, len(d.InFile))
		fmt.Fprintln(w, "| File | Variants | Code lines | Blocks |")
		fmt.Fprintln(w, "|---|---|---:|---|")
		for _, c := range d.InFile[:min(len(d.InFile), 5*maxInFileShown)] {
			fmt.Fprintf(w, "| `%s` | %s | %d | %s |\n", c.Path, views.InFileOwners(c.Variants), c.Lines, views.BlockRanges(c.Blocks))
		}
		fmt.Fprintln(w, "\n</details>")
	}
}

// describeMoveConditional words a RecommendMoveConditional.
func describeMoveConditional(r variant.Recommendation) string {
	return fmt.Sprintf("move the conditional blocks of %s in %s (lines %s) into a variant file: the shared file loses %s lines (%s stays at %s)",
		strings.Join(r.Variants, ", "), r.Locations[0].Path, views.BlockRanges(r.Locations), strconv.FormatFloat(r.Value, 'f', -1, 64), strings.Join(r.Variants, ", "), pct(r.Before))
}

// maxDepsShown bounds the dependency names a table line lists.
const maxDepsShown = 8

// ownDependencies lists a variant's own dependencies, shortened.
func ownDependencies(v variant.VariantResult) string {
	s := strings.Join(v.Dependencies[:min(len(v.Dependencies), maxDepsShown)], ", ")
	if n := len(v.Dependencies) - maxDepsShown; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}

// writeDependenciesTable lists each variant's own dependencies by name.
func writeDependenciesTable(w io.Writer, d variant.DimensionResult) {
	for _, v := range d.Variants {
		if len(v.Dependencies) > 0 {
			fmt.Fprintf(w, "  %s depends alone on: %s\n", v.Name, ownDependencies(v))
		}
	}
}

// writeDependenciesMarkdown is writeDependenciesTable for a pull-request
// comment.
func writeDependenciesMarkdown(w io.Writer, a *variant.Analysis) {
	for _, d := range a.Dimensions {
		var lines []string
		for _, v := range d.Variants {
			if len(v.Dependencies) > 0 {
				lines = append(lines, fmt.Sprintf("- **%s**: `%s`", v.Name, strings.Join(v.Dependencies, "`, `")))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(w, "\n<details><summary>%s: dependencies of one variant alone</summary>\n\n%s\n\n</details>\n", d.Name, strings.Join(lines, "\n"))
		}
	}
}
