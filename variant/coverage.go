package variant

import "slices"

// Coverage per variant (docs/DECISIONS.md, "Coverage per variant"): line
// coverage reports say which code lines ran; a variant's coverage is its
// code's, beside core's, and files no report mentions are unmeasured.

// MetricUncoveredLines counts code lines the coverage reports mark as not
// executed.
const MetricUncoveredLines = "uncovered_lines_of_code"

// FileCoverage is what the coverage reports say of one file: the lines they
// mark executable, executed or not.
type FileCoverage struct {
	Covered, Uncovered []int // 1-based line numbers, sorted
}

// LineCoverage is the line coverage of a set of code: lines that ran, that
// did not, and code lines of files no report mentions.
type LineCoverage struct {
	Covered    int     `json:"covered_lines"`
	Uncovered  int     `json:"uncovered_lines"`
	Unmeasured int     `json:"unmeasured_lines"`
	Percent    float64 `json:"percent"` // 100 x covered / (covered + uncovered), of the measured lines
}

func (c *LineCoverage) finish() {
	if n := c.Covered + c.Uncovered; n > 0 {
		c.Percent = Round2(100 * float64(c.Covered) / float64(n))
	}
}

// linesIn counts the lines of ls inside blocks.
func linesIn(ls []int, blocks []CodeLocation) int {
	n := 0
	for _, b := range blocks {
		i, _ := slices.BinarySearch(ls, b.StartLine)
		for ; i < len(ls) && ls[i] <= b.EndLine; i++ {
			n++
		}
	}
	return n
}

// coverage adds line coverage to a dimension's result: core's, and each
// variant's, over the code files (not tests) of files. Code inside shared
// files counts for the variants its conditions give it to.
func (d *Dimension) coverage(dr *DimensionResult, files []*FileFacts) {
	core := &LineCoverage{}
	byVariant := map[string]*LineCoverage{}
	add := func(seg segment, f func(c *LineCoverage, n int)) {
		if seg.shared {
			return
		}
		if len(seg.variants) == 0 {
			f(core, int(seg.value))
			return
		}
		for _, v := range seg.variants {
			if byVariant[v] == nil {
				byVariant[v] = &LineCoverage{}
			}
			f(byVariant[v], int(seg.value))
		}
	}
	for _, f := range files {
		if f.Test || f.Skip != "" || !f.Code {
			continue
		}
		vs := d.fileVariants(f)
		if f.Coverage == nil {
			for _, seg := range d.segments(f, MetricLinesOfCode, float64(f.Lines), vs) {
				add(seg, func(c *LineCoverage, n int) { c.Unmeasured += n })
			}
			continue
		}
		for _, seg := range d.segments(f, metricCoveredLines, float64(len(f.Coverage.Covered)), vs) {
			add(seg, func(c *LineCoverage, n int) { c.Covered += n })
		}
		for _, seg := range d.segments(f, MetricUncoveredLines, float64(len(f.Coverage.Uncovered)), vs) {
			add(seg, func(c *LineCoverage, n int) { c.Uncovered += n })
		}
	}
	core.finish()
	dr.CoreCoverage = core
	for i := range dr.Variants {
		c := byVariant[dr.Variants[i].Name]
		if c == nil {
			c = &LineCoverage{}
		}
		c.finish()
		dr.Variants[i].Coverage = c
	}
}

// metricCoveredLines splits covered lines like a metric, for coverage.
const metricCoveredLines = "covered_lines"

// coverageValue is the covered or uncovered lines of f inside c's blocks.
func (c *InFileCode) coverageValue(f *FileFacts, m string) float64 {
	if f.Coverage == nil {
		return 0
	}
	if m == metricCoveredLines {
		return float64(linesIn(f.Coverage.Covered, c.Blocks))
	}
	return float64(linesIn(f.Coverage.Uncovered, c.Blocks))
}

// unmeasured sums the code lines of code files no coverage report mentions.
func unmeasured(files []*FileFacts) (n, lines int) {
	for _, f := range files {
		if !f.Test && f.Skip == "" && f.Code && f.Coverage == nil {
			n++
			lines += f.Lines
		}
	}
	return n, lines
}
