// Package ifdef reads the conditional directives of C and C++ sources (#if,
// #ifdef, #ifndef, #elif, #else, #endif) and says which lines undefining a
// set of macros removes, leaving every other macro undecided: what
// `unifdef -U` of those macros drops. The analyzer uses it to attribute
// code inside shared files to the variants whose macros guard it.
package ifdef

import (
	"bytes"
	"errors"
	"fmt"
)

// Error is a directive that cannot be read, with its line (1-based).
type Error struct {
	Line int
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

type kind uint8

const (
	kIf kind = iota
	kElif
	kElse
	kEndif
)

// directive is one conditional directive: its physical lines [line, end]
// (0-based; more than one when continued with backslashes) and condition.
type directive struct {
	kind      kind
	line, end int
	cond      *expr // nil for #else and #endif, and when err is set
	err       error // the condition could not be parsed
}

// File is the conditional structure of one source file.
type File struct {
	Lines int // physical lines
	dirs  []directive
}

// Scan reads src's conditional directives. Directives inside comments are
// not directives. An #elif, #else or #endif without its #if, or an #if
// without #endif, is an error; a condition that cannot be parsed is only
// reported by Check, since a condition none of the macros of interest
// appear in does not matter.
func Scan(src []byte) (*File, error) {
	f := &File{}
	var open []int     // line of each open #if, 1-based
	var sawElse []bool // whether each open #if has had its #else
	inComment := false
	line := 0
	for pos := 0; pos < len(src); line++ {
		end := lineEnd(src, pos)
		start := line
		text := src[pos:end]
		if !inComment {
			if t := bytes.TrimLeft(text, " \t\f\v\r"); len(t) > 0 && t[0] == '#' {
				// A directive: join its continued lines, without comments.
				var buf []byte
				buf, inComment = appendCode(nil, t[1:], false)
				for endsWithBackslash(text) && end < len(src) {
					buf = trimBackslash(buf)
					pos = end + 1
					end = lineEnd(src, pos)
					text = src[pos:end]
					line++
					buf, inComment = appendCode(buf, text, inComment)
				}
				d, ok, err := parseDirective(buf)
				if err != nil {
					return nil, &Error{Line: start + 1, Err: err}
				}
				if ok {
					d.line, d.end = start, line
					if err := structure(d, &open, &sawElse, start+1); err != nil {
						return nil, err
					}
					f.dirs = append(f.dirs, d)
				}
				pos = end + 1
				continue
			}
		}
		inComment = commentOpenAfter(text, inComment)
		pos = end + 1
	}
	f.Lines = line
	if len(open) > 0 {
		return nil, &Error{Line: open[len(open)-1], Err: errors.New("#if without #endif")}
	}
	return f, nil
}

// structure checks that d fits the nesting so far.
func structure(d directive, open *[]int, sawElse *[]bool, line int) error {
	switch d.kind {
	case kIf:
		*open = append(*open, line)
		*sawElse = append(*sawElse, false)
		return nil
	}
	if len(*open) == 0 {
		return &Error{Line: line, Err: fmt.Errorf("%s without #if", d.kind)}
	}
	top := len(*open) - 1
	switch d.kind {
	case kElif, kElse:
		if (*sawElse)[top] {
			return &Error{Line: line, Err: fmt.Errorf("%s after #else", d.kind)}
		}
		(*sawElse)[top] = d.kind == kElse
	case kEndif:
		*open, *sawElse = (*open)[:top], (*sawElse)[:top]
	}
	return nil
}

func (k kind) String() string {
	return [...]string{"#if", "#elif", "#else", "#endif"}[k]
}

func lineEnd(src []byte, pos int) int {
	if i := bytes.IndexByte(src[pos:], '\n'); i >= 0 {
		return pos + i
	}
	return len(src)
}

func endsWithBackslash(line []byte) bool {
	line = bytes.TrimRight(line, "\r")
	return len(line) > 0 && line[len(line)-1] == '\\'
}

func trimBackslash(b []byte) []byte {
	b = bytes.TrimRight(b, " \t\r")
	return bytes.TrimSuffix(b, []byte{'\\'})
}

// commentOpenAfter reports whether a block comment is open at the end of a
// line that is not a directive; see appendCode.
func commentOpenAfter(line []byte, inComment bool) bool {
	// Most lines hold no comment marker and no quote: nothing changes.
	if !inComment && bytes.IndexByte(line, '/') < 0 {
		return false
	}
	if inComment && bytes.IndexByte(line, '*') < 0 {
		return true
	}
	_, inComment = appendCode(nil, line, inComment)
	return inComment
}

// appendCode appends line to buf without its comments (each becomes a
// space), given whether a block comment is open at its start, and returns
// whether one is open at its end. Strings and character literals are read so
// that comment markers inside them are text.
func appendCode(buf, line []byte, inComment bool) ([]byte, bool) {
	for i := 0; i < len(line); i++ {
		b := line[i]
		if inComment {
			if b == '*' && i+1 < len(line) && line[i+1] == '/' {
				inComment = false
				i++
				buf = append(buf, ' ')
			}
			continue
		}
		switch {
		case b == '/' && i+1 < len(line) && line[i+1] == '/':
			return append(buf, ' '), false
		case b == '/' && i+1 < len(line) && line[i+1] == '*':
			inComment = true
			i++
		case b == '"' || b == '\'':
			j := i + 1
			for j < len(line) && line[j] != b {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(line)-1)
			buf = append(buf, line[i:j+1]...)
			i = j
		default:
			buf = append(buf, b)
		}
	}
	return buf, inComment
}

// parseDirective reads the text after a '#'; ok is false for directives
// other than the conditional ones.
func parseDirective(text []byte) (d directive, ok bool, err error) {
	lx := lexer{src: text}
	t := lx.next()
	if t.kind != tIdent {
		return d, false, nil
	}
	rest := text[lx.pos:]
	switch t.text {
	case "if", "elif":
		d.kind = kIf
		if t.text == "elif" {
			d.kind = kElif
		}
		d.cond, d.err = parseExpr(rest)
	case "ifdef", "ifndef", "elifdef", "elifndef":
		d.kind = kIf
		if t.text[0] == 'e' {
			d.kind = kElif
		}
		name := lx.next()
		if name.kind != tIdent {
			return d, false, fmt.Errorf("#%s needs a macro name", t.text)
		}
		d.cond = &expr{op: opDefined, name: name.text, simple: true}
		if t.text == "ifndef" || t.text == "elifndef" {
			d.cond = &expr{op: opNot, x: d.cond, simple: true}
		}
	case "else":
		d.kind = kElse
	case "endif":
		d.kind = kEndif
	default:
		return d, false, nil
	}
	return d, true, nil
}

// Macros calls f with every macro name a condition of the file reads.
func (f *File) Macros(fn func(name string)) {
	for _, d := range f.dirs {
		d.cond.idents(fn)
	}
}

// Check returns, as an *Error, the first condition that cannot be parsed
// and names a macro matters reports true for; nil if there is none.
func (f *File) Check(src []byte, matters func(name string) bool) error {
	for _, d := range f.dirs {
		if d.err == nil {
			continue
		}
		bad := false
		text := lineText(src, d.line, d.end)
		lx := lexer{src: text}
		for t := lx.next(); t.kind != tEOF; t = lx.next() {
			if t.kind == tIdent && matters(t.text) {
				bad = true
				break
			}
		}
		if bad {
			return &Error{Line: d.line + 1, Err: d.err}
		}
	}
	return nil
}

// lineText returns physical lines [from, to] of src (0-based).
func lineText(src []byte, from, to int) []byte {
	pos := 0
	for l := 0; l < from && pos < len(src); l++ {
		pos = lineEnd(src, pos) + 1
	}
	end := pos
	for l := from; l <= to && end < len(src); l++ {
		end = lineEnd(src, end) + 1
	}
	return src[min(pos, len(src)):min(end, len(src))]
}
