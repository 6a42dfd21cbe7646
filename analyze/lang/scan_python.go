package lang

import "bytes"

// Python lines follow cloc, which turns every triple-quoted string into a
// comment (it means docstrings, but cannot tell them apart): the lines inside
// a triple-quoted string are comment lines, and the lines holding its quotes
// are comment lines unless code stands beside them. Single-quoted strings are
// code, and # starts a comment outside strings.
//
// Complexity counts if, elif, for, while, except, and, or (comprehension if
// and for included) plus one per def; functions are defs, classes are class
// statements, and test cases are defs whose name starts with "test", the
// prefix pytest and unittest collect.

var pyStop = [256]bool{'\n': true, '#': true, '"': true, '\'': true, '\\': true}

var pyStopDeep = func() (t [256]bool) {
	t = pyStop
	for b := 0; b < 256; b++ {
		if isIdent[b] && !(b >= '0' && b <= '9') {
			t[b] = true
		}
	}
	return t
}()

// Python states beyond stCode.
const (
	stPyTriple uint8 = 20 + iota // in a triple-quoted string (a comment for lines)
	stPyString                   // in a single-quoted string continued with a backslash
)

// pyLines is a measurePython pass.
type pyLines struct {
	src        []byte
	c          *Counts
	stop       *[256]bool
	state      uint8
	quote      byte // the quote of the open string
	pendingDef bool // def seen, waiting for the name
	tests      bool
}

func measurePython(src []byte, deep, tests bool, split *Split) Counts {
	var c Counts
	s := pyLines{src: src, c: &c, stop: &pyStop, tests: tests}
	if deep {
		s.stop = &pyStopDeep
	}
	ll := newLineLoop(src, contRule{on: true}, false, &c, split)
	for more := ll.first(); more; more = ll.next(s.scanLine(ll.pos)) {
	}
	return c
}

func (s *pyLines) scanLine(pos int) (int, bool) {
	src, c, stop, tests := s.src, s.c, s.stop, s.tests
	state, quote, pendingDef := s.state, s.quote, s.pendingDef
	n := len(src)
	hasCode := false
line:
	for {
		switch state {
		case stPyTriple:
			end, closed := skipPyTriple(src, pos, quote)
			pos = end
			if !closed {
				break line
			}
			state = stCode
		case stPyString:
			hasCode = true
			end, closed := skipPyString(src, pos, quote)
			pos = end
			if !closed {
				break line
			}
			state = stCode
		}
		if !hasCode {
			var more bool
			if pos, more = skipBlanks(src, pos); !more {
				break line
			}
			if b := src[pos]; b != '#' && b != '"' && b != '\'' {
				hasCode = true
			}
		}
		for {
			for pos < n && !stop[src[pos]] {
				pos++
			}
			if pos == n {
				break line
			}
			b := src[pos]
			switch b {
			case '\n':
				break line
			case '#':
				pos = lineEnd(src, pos)
				break line
			case '"', '\'':
				pendingDef = false
				if pos+2 < n && src[pos+1] == b && src[pos+2] == b {
					quote, state = b, stPyTriple
					end, closed := skipPyTriple(src, pos+3, b)
					pos = end
					if !closed {
						break line
					}
					state = stCode
					continue line
				}
				hasCode = true
				quote = b
				end, closed := skipPyString(src, pos+1, b)
				pos = end
				if !closed {
					state = stPyString
					break line
				}
			case '\\':
				pos++
				if pos < n && src[pos] != '\n' {
					pos++
				}
			default:
				// An identifier (deep mode only).
				start := pos
				for pos < n && isIdent[src[pos]] {
					pos++
				}
				id := src[start:pos]
				if pendingDef {
					pendingDef = false
					if tests && bytes.HasPrefix(id, []byte("test")) {
						c.TestCases++
					}
				}
				switch string(id) {
				case "if", "elif", "for", "while", "except", "and", "or":
					c.Complexity++
				case "def":
					c.Functions++
					c.Complexity++
					pendingDef = true
				case "class":
					c.Classes++
				}
			}
		}
	}
	s.state, s.quote, s.pendingDef = state, quote, pendingDef
	return pos, hasCode
}

// skipPyTriple scans a triple-quoted string body from pos. It returns the
// position after the closing quotes and true, or the newline (or end) and
// false while the string goes on.
func skipPyTriple(src []byte, pos int, quote byte) (int, bool) {
	n := len(src)
	for pos < n {
		b := src[pos]
		switch {
		case b == quote && pos+2 < n && src[pos+1] == quote && src[pos+2] == quote:
			return pos + 3, true
		case b == '\\' && pos+1 < n && src[pos+1] != '\n':
			pos += 2
			continue
		case b == '\n':
			return pos, false
		}
		pos++
	}
	return pos, false
}

// skipPyString scans a single-quoted string body from pos: closed at the
// quote, continued by a backslash-newline, ended (unterminated) by a newline.
func skipPyString(src []byte, pos int, quote byte) (int, bool) {
	n := len(src)
	for pos < n {
		b := src[pos]
		switch b {
		case quote:
			return pos + 1, true
		case '\\':
			if pos+1 < n && src[pos+1] == '\n' {
				return pos + 1, false
			}
			pos += 2
			continue
		case '\n':
			return pos, true
		}
		pos++
	}
	if pos > n {
		pos = n
	}
	return pos, true
}
