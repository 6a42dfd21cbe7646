package views

import (
	"strconv"
	"strings"
)

// DiffLine is one line of a line diff: Op is ' ' (kept), '-' (removed),
// '+' (added), or '…' for unchanged lines left out.
type DiffLine struct {
	Op   rune
	Text string
}

// Class is the line's CSS class.
func (l DiffLine) Class() string {
	switch l.Op {
	case '+':
		return "diff-add"
	case '-':
		return "diff-del"
	case '…':
		return "diff-skip"
	}
	return "diff-keep"
}

// Marker is what the line starts with, so that a diff reads without colour.
func (l DiffLine) Marker() string {
	switch l.Op {
	case '+', '-':
		return string(l.Op) + " "
	case '…':
		return ""
	}
	return "  "
}

// diffContext is how many unchanged lines are kept around a change.
const diffContext = 3

// maxDiffCells bounds the work of the longest-common-subsequence table:
// past it (two very different large texts) the changed middle is shown as
// removed then added, which is still a correct diff.
const maxDiffCells = 4_000_000

// LineDiff is the line diff from a to b, with unchanged runs beyond
// diffContext lines of a change left out. Equal texts give no lines.
func LineDiff(a, b string) []DiffLine {
	x, y := splitLines(a), splitLines(b)
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	if pre == len(x) && pre == len(y) {
		return nil
	}
	var all []DiffLine
	for _, s := range x[:pre] {
		all = append(all, DiffLine{' ', s})
	}
	all = append(all, middleDiff(x[pre:len(x)-suf], y[pre:len(y)-suf])...)
	for _, s := range x[len(x)-suf:] {
		all = append(all, DiffLine{' ', s})
	}
	return trimContext(all)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r") // a CRLF file differs from its LF twin in no line
	}
	return lines
}

// middleDiff diffs the part that differs by longest common subsequence.
func middleDiff(x, y []string) []DiffLine {
	var out []DiffLine
	if len(x)*len(y) > maxDiffCells {
		for _, s := range x {
			out = append(out, DiffLine{'-', s})
		}
		for _, s := range y {
			out = append(out, DiffLine{'+', s})
		}
		return out
	}
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, DiffLine{' ', x[i]})
			i++
			j++
		case j < len(y) && (i == len(x) || lcs[i][j+1] > lcs[i+1][j]):
			out = append(out, DiffLine{'+', y[j]})
			j++
		default:
			out = append(out, DiffLine{'-', x[i]})
			i++
		}
	}
	return out
}

// trimContext replaces unchanged runs farther than diffContext lines from
// any change with one '…' line saying how many were left out.
func trimContext(all []DiffLine) []DiffLine {
	keep := make([]bool, len(all))
	for i, l := range all {
		if l.Op == ' ' {
			continue
		}
		for k := max(0, i-diffContext); k <= min(len(all)-1, i+diffContext); k++ {
			keep[k] = true
		}
	}
	var out []DiffLine
	for i := 0; i < len(all); {
		if keep[i] {
			out = append(out, all[i])
			i++
			continue
		}
		j := i
		for j < len(all) && !keep[j] {
			j++
		}
		out = append(out, DiffLine{'…', plural(j-i, "unchanged line") + " left out"})
		i = j
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
