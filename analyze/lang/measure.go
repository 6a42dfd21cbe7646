package lang

import "bytes"

// Want says which counters Measure computes. Line counts come from every
// scan; the other counters need a deeper scan, so a caller that wants lines
// alone gets the cheapest pass.
type Want uint8

const (
	WantLines      Want = 1 << iota // code, comment and blank lines
	WantComplexity                  // cyclomatic complexity (needs the function count, so fills Functions too)
	WantStructure                   // functions and classes
	WantTests                       // test cases, in test files

	WantAll = WantLines | WantComplexity | WantStructure | WantTests
)

// Counts are the per-file counters. Fields that were not asked for are zero,
// except that line counts are always filled and Functions comes with
// Complexity.
type Counts struct {
	Code, Comment, Blank int // lines; they add up to CountLines(src)
	Complexity           int // 1 per function plus decision points, over the file
	Functions            int
	Classes              int // classes, structs, interfaces, enums, type declarations
	TestCases            int
}

// Add adds o to c, field by field.
func (c *Counts) Add(o Counts) {
	c.Code += o.Code
	c.Comment += o.Comment
	c.Blank += o.Blank
	c.Complexity += o.Complexity
	c.Functions += o.Functions
	c.Classes += o.Classes
	c.TestCases += o.TestCases
}

// Measure counts src, written in l. A nil l is measured as plain text. isTest
// says whether the file is a test file; test cases are only counted in test
// files. Measure computes only what want asks for (see Want), so that lines
// alone are as cheap as possible.
func Measure(l *Language, src []byte, isTest bool, want Want) Counts {
	return measure(l, src, isTest, want, nil)
}

// MeasureSplit is Measure that also attributes the counts line by line to
// split's buckets (see Split). Only the C-like, Go and Python scanners
// attribute line by line; for other languages every count goes to the
// bucket of the first line.
func MeasureSplit(l *Language, src []byte, isTest bool, want Want, split *Split) Counts {
	c := measure(l, src, isTest, want, split)
	if l == nil || (l.kind != scanC && l.kind != scanGo && l.kind != scanPython) {
		split.add(0, c)
	}
	for i := range split.Counts {
		mask(&split.Counts[i], want)
	}
	return c
}

func measure(l *Language, src []byte, isTest bool, want Want, split *Split) Counts {
	if bom := skipBOM(src); bom > 0 {
		src = src[bom:]
		if len(src) == 0 {
			return Counts{Blank: 1} // the mark alone makes an empty line
		}
	}
	if l == nil {
		return measurePlain(src)
	}
	deep := want&(WantComplexity|WantStructure|WantTests) != 0
	tests := isTest && want&WantTests != 0
	var c Counts
	switch l.kind {
	case scanGo:
		c = measureGo(src, deep, tests, split)
	case scanC:
		c = measureC(l.c, src, deep, tests, split)
	case scanPython:
		c = measurePython(src, deep, tests, split)
	case scanShell:
		c = measureShell(src, deep)
	case scanHash:
		c = measureHash(l.hash, src, deep)
	case scanAsm:
		c = measureAsm(src)
	case scanSQL:
		c = measureSQL(src)
	case scanMarkup:
		c = measureMarkup(src)
	case scanBatch:
		c = measureBatch(src)
	default:
		c = measurePlain(src)
	}
	if l.script {
		scriptFirstLine(&c, src)
		if split != nil && len(split.Counts) > 0 {
			scriptFirstLine(&split.Counts[split.bucket(0)], src)
		}
	}
	mask(&c, want)
	return c
}

// mask clears the counters want did not ask for.
func mask(c *Counts, want Want) {
	if want&WantComplexity == 0 {
		c.Complexity = 0
	}
	if want&(WantComplexity|WantStructure) == 0 {
		c.Functions = 0
	}
	if want&WantStructure == 0 {
		c.Classes = 0
	}
}

// CountLines is the number of lines in src as Measure counts them: a last
// line without a newline still counts.
func CountLines(src []byte) int {
	n := bytes.Count(src, nl)
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return n
}

var nl = []byte{'\n'}

// scriptFirstLine counts a #! line as code rather than comment, as cloc does
// for scripting languages (it is the first non-blank line: a #! is only
// honoured at the very start of the file, so it is the first line).
func scriptFirstLine(c *Counts, src []byte) {
	if bytes.HasPrefix(src, []byte("#!")) && c.Comment > 0 {
		c.Comment--
		c.Code++
	}
}

// measurePlain counts prose and data: a line is blank or code.
func measurePlain(src []byte) Counts {
	var c Counts
	forEachLine(src, func(line []byte) {
		if isBlank(line) {
			c.Blank++
		} else {
			c.Code++
		}
	})
	return c
}

// forEachLine calls f with each line of src, without its newline. It serves
// the scanners of rarely measured languages; the hot ones inline their loops.
func forEachLine(src []byte, f func(line []byte)) {
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			f(src)
			return
		}
		f(src[:i])
		src = src[i+1:]
	}
}

// isBlank reports whether line holds only white space, as Perl's \s sees it.
func isBlank(line []byte) bool {
	for _, b := range line {
		if !isSpace[b] {
			return false
		}
	}
	return true
}

// trimLeftSpace drops leading white space.
func trimLeftSpace(line []byte) []byte {
	i := 0
	for i < len(line) && isSpace[line[i]] {
		i++
	}
	return line[i:]
}

// isSpace is white space within a line: what Perl's \s matches, minus the
// newline, which the scanners treat apart.
var isSpace = [256]bool{' ': true, '\t': true, '\r': true, '\v': true, '\f': true}

// isIdent is a byte of an identifier or a number. Bytes of multi-byte UTF-8
// sequences count as letters, which is what every language here allows in
// identifiers (and harmless elsewhere, since they never form a keyword).
var isIdent = func() (t [256]bool) {
	for b := 0; b < 256; b++ {
		t[b] = b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
	}
	return t
}()

// skipBOM returns the length of a UTF-8 byte order mark at the start of src,
// which cloc drops, or 0.
func skipBOM(src []byte) int {
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		return 3
	}
	return 0
}

// contRule follows cloc on the line after a line that ends with a backslash,
// in the languages where cloc knows backslash continuation: such a line is
// never blank (a blank one is code after a code line, else comment), and,
// where cloc removes comments from the lines joined at the backslash (the
// C++ comment pass), a comment line after a code line is code. Both come from
// cloc treating the continued line as part of the one before.
type contRule struct {
	on, join         bool
	prevBS, prevCode bool
}

// blank counts a whitespace-only line.
func (r *contRule) blank(c *Counts) {
	if r.prevBS {
		if r.prevCode {
			c.Code++
		} else {
			c.Comment++
		}
		r.prevBS = false
		return
	}
	c.Blank++
}

// line counts a line that is not whitespace-only; joinable says whether a
// comment line would be pulled into a continued code line before it.
func (r *contRule) line(c *Counts, hasCode, joinable bool, line []byte) {
	if !hasCode && joinable && r.join && r.prevBS && r.prevCode {
		hasCode = true
	}
	if hasCode {
		c.Code++
	} else {
		c.Comment++
	}
	if r.on {
		r.prevCode, r.prevBS = hasCode, endsWithBackslash(line)
	}
}
