package lang

// lineLoop is the per-line loop the scanners share: it counts blank lines
// itself, and lets the language's scanner read the others from pos, the
// line's first byte that is not white space, to its end. The continuation
// rule, counting a line as code or comment, and attributing each line's
// counts to a Split are the loop's; a language supplies only its rules:
//
//	ll := newLineLoop(src, cont, joinable, &c, split)
//	for more := ll.first(); more; more = ll.next(s.scanLine(ll.pos)) {
//	}
type lineLoop struct {
	src      []byte
	pos      int // the scanner's position: first non-blank byte of the line
	line     int // 0-based index of the line
	cont     contRule
	joinable bool // a comment line may be pulled into a continued code line
	c        *Counts
	split    *Split
	held     *Counts // counts the scanner adds to c only at the end, or nil
	last     Counts  // the tally at the end of the previous line, for split
}

func newLineLoop(src []byte, cont contRule, joinable bool, c *Counts, split *Split) lineLoop {
	return lineLoop{src: src, cont: cont, joinable: joinable, c: c, split: split}
}

// first moves to the first line that is not blank, counting blank ones on
// the way, and reports whether there is one.
func (l *lineLoop) first() bool {
	return l.skip(0)
}

// next counts the line the scanner read up to pos (its newline or the end
// of the source), as code when hasCode, attributes what was counted on it,
// and then does what first does for the lines after it. Ending a line and
// finding the next in one call keeps the loop's cost per line low.
func (l *lineLoop) next(pos int, hasCode bool) bool {
	l.cont.line(l.c, hasCode, l.joinable, l.src[l.pos:pos])
	if l.split != nil {
		l.attribute()
	}
	l.line++
	if pos >= len(l.src) {
		return false
	}
	return l.skip(pos + 1)
}

// skip moves from pos, the start of a line, to the next line that is not
// blank, counting the blank ones (a line of white space alone at the end of
// the source is one too), and reports whether there is one.
func (l *lineLoop) skip(pos int) bool {
	src, n := l.src, len(l.src)
	for pos < n {
		for pos < n && isSpace[src[pos]] {
			pos++
		}
		if pos < n && src[pos] != '\n' {
			l.pos = pos
			return true
		}
		l.blank()
		pos++ // the newline, or past the end
	}
	return false
}

// blank counts a blank line.
func (l *lineLoop) blank() {
	if l.split == nil {
		l.cont.blank(l.c)
		l.line++
		return
	}
	var d Counts
	l.cont.blank(&d)
	l.c.Add(d)
	l.split.add(l.line, d)
	l.last.Add(d)
	l.line++
}

// attribute gives the line just ended what was counted since the last one.
func (l *lineLoop) attribute() {
	tally := *l.c
	if l.held != nil {
		tally.Add(*l.held)
	}
	l.split.add(l.line, diff(tally, l.last))
	l.last = tally
}

// diff is a minus b, field by field.
func diff(a, b Counts) Counts {
	return Counts{
		Code: a.Code - b.Code, Comment: a.Comment - b.Comment, Blank: a.Blank - b.Blank,
		Complexity: a.Complexity - b.Complexity, Functions: a.Functions - b.Functions,
		Classes: a.Classes - b.Classes, TestCases: a.TestCases - b.TestCases,
	}
}

// Split attributes a file's counts line by line to buckets: Line[i] is the
// bucket of line i (0-based); lines past the end of Line go to bucket 0.
// Counts holds the result, one entry per bucket.
type Split struct {
	Line   []int32
	Counts []Counts
}

func (s *Split) add(line int, d Counts) {
	s.Counts[s.bucket(line)].Add(d)
}

func (s *Split) bucket(line int) int32 {
	if line < len(s.Line) {
		return s.Line[line]
	}
	return 0
}
