package lang

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// The Go scanner counts lines and, in deep mode, what gocyclo and go/ast would
// give: complexity is 1 per FuncDecl plus every if, for, case (case clauses
// and select comm clauses; default has its own keyword), && and ||, which are
// all keywords or operators that mean nothing else in Go, so counting tokens
// outside strings, runes and comments is exact. Function declarations are
// found with Go's own semicolon rule: a func outside all brackets that starts
// a statement. Type specs are the type declarations, each spec of a
// parenthesized group counting.
//
// Outside braces the scanner sees every token ("precise" mode), so that the
// semicolon rule can be applied. Inside braces, where nearly all bytes are,
// it does not tokenize: if, for, case, else and type can only start a
// statement, and a statement starts a line or follows {, }, ; or :, so the
// scanner only reads the first word after those, and otherwise stops at
// nothing but braces, &, |, quotes, slashes and newlines.

// Byte classes of the Go scanner.
const (
	gcOther uint8 = iota
	gcNL
	gcSlash
	gcDQuote
	gcSQuote
	gcBQuote
	gcIdent
	gcDigit
	gcAmp
	gcPipe
	gcOpen
	gcClose
	gcSemi
	gcColon
	gcPunct
)

var goClass = func() (t [256]uint8) {
	for b := 0; b < 256; b++ {
		switch {
		case b == '\n':
			t[b] = gcNL
		case b == '/':
			t[b] = gcSlash
		case b == '"':
			t[b] = gcDQuote
		case b == '\'':
			t[b] = gcSQuote
		case b == '`':
			t[b] = gcBQuote
		case b >= '0' && b <= '9':
			t[b] = gcDigit
		case isIdent[b]:
			t[b] = gcIdent
		case b == '&':
			t[b] = gcAmp
		case b == '|':
			t[b] = gcPipe
		case b == '(' || b == '[' || b == '{':
			t[b] = gcOpen
		case b == ')' || b == ']' || b == '}':
			t[b] = gcClose
		case b == ';':
			t[b] = gcSemi
		case b == ':':
			t[b] = gcColon
		case b > ' ' && b < 0x7f:
			t[b] = gcPunct
		}
	}
	return t
}()

// Stop sets: the bytes at which each mode's skip loop halts.
var (
	goStopLines   [256]bool // newline, comments, literals
	goStopFast    [256]bool // + braces, &, |, ; and :
	goStopPrecise [256]bool // every byte that is not white space
)

func init() {
	for b := 0; b < 256; b++ {
		cl := goClass[b]
		goStopLines[b] = cl == gcNL || cl == gcSlash || cl == gcDQuote || cl == gcSQuote || cl == gcBQuote
		goStopFast[b] = goStopLines[b] || cl == gcAmp || cl == gcPipe || b == '{' || b == '}' || cl == gcSemi || cl == gcColon
		goStopPrecise[b] = cl != gcOther
	}
}

// isGoKeywordPrefix reports whether a word starting with b0 b1 may be one of
// the keywords that matter at the start of a statement: if, for, case, else,
// type. Most words are not, and are not read.
func isGoKeywordPrefix(b0, b1 byte) bool {
	switch uint16(b0)<<8 | uint16(b1) {
	case 'i'<<8 | 'f', 'f'<<8 | 'o', 'c'<<8 | 'a', 'e'<<8 | 'l', 't'<<8 | 'y':
		return true
	}
	return false
}

// Scanner states that outlive a line.
const (
	stCode uint8 = iota
	stBlock
	stRaw
)

// goTop is the state of precise mode, outside braces.
type goTop struct {
	parens int  // ( and [ depth
	semi   bool // the last token would get a semicolon inserted after it
	nl     bool // a newline came after the last token
	start  bool // the last token was ; or there was none: a statement starts
}

// stmtStart reports whether the next token starts a statement, by Go's
// semicolon insertion rule.
func (t *goTop) stmtStart() bool { return t.start || t.nl && t.semi }

// token records a token; semi says whether a semicolon would follow it.
func (t *goTop) token(semi bool) { t.semi, t.nl, t.start = semi, false, false }

// goLines is a measureGo pass.
type goLines struct {
	src    []byte
	c      *Counts
	top    goTop
	braces int
	state  uint8
	deep   bool
	tests  bool
}

func measureGo(src []byte, deep, tests bool, split *Split) Counts {
	var c Counts
	s := goLines{src: src, c: &c, top: goTop{start: true}, deep: deep, tests: tests}
	ll := newLineLoop(src, contRule{on: true, join: true}, true, &c, split)
	for more := ll.first(); more; more = ll.next(s.scanLine(ll.pos)) {
	}
	return c
}

// scanLine scans one line from pos: it returns where the line ends and
// whether it holds code. The token switch stays in one loop, with the
// scanner's position, brace depth and stop table in locals: it is the hot
// path of every analysis (see docs/PERFORMANCE.md). What runs once per line
// or only outside function bodies is in the functions below it.
func (s *goLines) scanLine(pos int) (int, bool) {
	src, c, deep := s.src, s.c, s.deep
	braces, state := s.braces, s.state
	stop := s.stops(braces)
	top := &s.top
	n := len(src)
	hasCode := false
	stmt := braces > 0 // in a body, a line's first word may be a keyword
	if state == stCode && src[pos] != '/' {
		// The common case: a line that starts with code.
		hasCode = true
		if stmt && deep && pos+1 < n && isGoKeywordPrefix(src[pos], src[pos+1]) {
			stmt = false
			pos = goStatementKeyword(c, src, pos, &stmt)
		}
	}
line:
	for {
		if state != stCode {
			var open bool
			if state == stRaw {
				hasCode, stmt = true, false // a raw string ends an expression
			}
			if pos, open = s.resume(pos, state); open {
				break line
			}
			state = stCode
		}
		if !hasCode {
			// A line that starts with a comment, or goes on after one.
			var more bool
			if pos, more = skipBlanks(src, pos); !more {
				break line
			}
			switch commentAt(src, pos) {
			case lineComment:
				pos = lineEnd(src, pos)
				break line
			case blockComment:
				pos += 2
				state = stBlock
				continue line
			}
			hasCode = true
		}
		for {
			for stmt && deep {
				// The first word of a statement in a body.
				stmt = false
				for pos < n && (src[pos] == ' ' || src[pos] == '\t') {
					pos++
				}
				if pos+1 < n && isGoKeywordPrefix(src[pos], src[pos+1]) {
					pos = goStatementKeyword(c, src, pos, &stmt)
				}
			}
			for pos < n && !stop[src[pos]] {
				pos++
			}
			if pos == n || src[pos] == '\n' {
				break line
			}
			if src[pos] == ':' {
				// The commonest stop in a body, mostly :=.
				pos++
				if pos < n && src[pos] == '=' {
					pos++
				} else {
					stmt = braces > 0 // after a label or a case
				}
				top.token(false)
				continue
			}
			switch goClass[src[pos]] {
			case gcSlash:
				switch commentAt(src, pos) {
				case lineComment:
					pos = lineEnd(src, pos)
					break line
				case blockComment:
					pos += 2
					state = stBlock
					continue line
				}
				pos++
				top.token(false)
			case gcDQuote:
				pos = skipQuoted(src, pos+1, '"')
				top.token(true)
			case gcSQuote:
				pos = skipQuoted(src, pos+1, '\'')
				top.token(true)
			case gcBQuote:
				var closed bool
				if pos, closed = skipRawString(src, pos+1); !closed {
					state = stRaw
					break line
				}
				top.token(true)
			case gcAmp, gcPipe:
				pos = goLogical(c, src, pos)
				top.token(false)
			case gcOpen:
				braces = s.open(src[pos], braces)
				stmt = stmt || src[pos] == '{'
				pos++
				stop = s.stops(braces)
			case gcClose:
				braces = s.close(src[pos], braces)
				stmt = stmt || braces > 0 && src[pos] == '}' // } else if
				pos++
				stop = s.stops(braces)
			case gcSemi:
				pos++
				stmt = braces > 0
				top.token(false)
				top.start = true
			case gcIdent, gcDigit, gcPunct:
				// Only reached outside braces.
				pos = s.topToken(pos)
			default:
				pos++
			}
		}
	}
	if pos < n {
		top.nl = true // the newline ends the line
	}
	s.braces, s.state = braces, state
	return pos, hasCode
}

// stops is the stop table for a brace depth: without deep mode braces are
// not stops and stay at 0; inside braces only what counts in a body stops.
func (s *goLines) stops(braces int) *[256]bool {
	switch {
	case s.deep && braces > 0:
		return &goStopFast
	case s.deep:
		return &goStopPrecise
	}
	return &goStopLines
}

// resume goes on with the comment or raw string (state) that an earlier
// line left open; open reports that it goes on past this line too.
func (s *goLines) resume(pos int, state uint8) (next int, open bool) {
	var closed bool
	if state == stBlock {
		pos, closed = skipBlockComment(s.src, pos)
		return pos, !closed
	}
	if pos, closed = skipRawString(s.src, pos); closed {
		s.top.token(true)
	}
	return pos, !closed
}

// goLogical reads & or | at pos, counting && and || as decisions.
func goLogical(c *Counts, src []byte, pos int) int {
	b := src[pos]
	pos++
	if pos < len(src) && src[pos] == b {
		c.Complexity++
		pos++
	}
	return pos
}

// open records an opening bracket b and returns the new brace depth.
func (s *goLines) open(b byte, braces int) int {
	if b == '{' {
		braces++
	} else if braces == 0 {
		s.top.parens++
	}
	s.top.token(false)
	return braces
}

// close records a closing bracket b and returns the new brace depth.
func (s *goLines) close(b byte, braces int) int {
	if b == '}' {
		if braces > 0 {
			braces--
		}
	} else if braces == 0 && s.top.parens > 0 {
		s.top.parens--
	}
	s.top.token(true)
	return braces
}

// topToken reads a word, a number or an operator outside braces, where
// declarations are counted.
func (s *goLines) topToken(pos int) int {
	src, n, top := s.src, len(s.src), &s.top
	switch goClass[src[pos]] {
	case gcIdent:
		start := pos
		pos++
		for pos < n && isIdent[src[pos]] {
			pos++
		}
		top.ident(s.c, src[start:pos], src, pos, s.tests)
		return pos
	case gcDigit:
		top.token(true)
		return skipGoNumber(src, pos)
	}
	b := src[pos]
	pos++
	semi := false
	if (b == '+' || b == '-') && pos < n && src[pos] == b {
		pos++
		semi = true // ++ and -- end statements
	}
	top.token(semi)
	return pos
}

// Comment starts, for commentAt.
const (
	noComment = iota
	lineComment
	blockComment
)

// commentAt says whether a // or /* comment starts at pos.
func commentAt(src []byte, pos int) int {
	if pos+1 < len(src) && src[pos] == '/' {
		switch src[pos+1] {
		case '/':
			return lineComment
		case '*':
			return blockComment
		}
	}
	return noComment
}

// skipBlockComment scans a /* */ comment (not nested) from pos: it returns
// the position after its */ and true, or of the newline or end and false
// while the comment goes on.
func skipBlockComment(src []byte, pos int) (int, bool) {
	for n := len(src); pos < n; pos++ {
		switch src[pos] {
		case '*':
			if pos+1 < n && src[pos+1] == '/' {
				return pos + 2, true
			}
		case '\n':
			return pos, false
		}
	}
	return pos, false
}

// skipRawString scans a raw string from pos, after its opening backquote:
// it returns the position after the closing one and true, or of the newline
// or end and false while the string goes on.
func skipRawString(src []byte, pos int) (int, bool) {
	for n := len(src); pos < n; pos++ {
		switch src[pos] {
		case '`':
			return pos + 1, true
		case '\n':
			return pos, false
		}
	}
	return pos, false
}

// goStatementKeyword reads the word at pos, which starts a statement in a
// body, and counts it if it is if, for or case, or the types of a type
// declaration. After else, *stmt is set: an if may follow. It returns the
// position after the word.
func goStatementKeyword(c *Counts, src []byte, pos int, stmt *bool) int {
	start := pos
	for pos < len(src) && isIdent[src[pos]] {
		pos++
	}
	switch string(src[start:pos]) {
	case "if", "for", "case":
		c.Complexity++
	case "else":
		*stmt = true
	case "type":
		c.Classes += goTypeSpecs(src, pos)
	}
	return pos
}

// ident handles an identifier outside braces.
func (t *goTop) ident(c *Counts, id, src []byte, pos int, tests bool) {
	start := t.stmtStart()
	semi := true
	switch string(id) {
	case "func":
		if start && t.parens == 0 {
			c.Functions++
			c.Complexity++
			if tests && isGoTestFunc(src, pos) {
				c.TestCases++
			}
		}
		semi = false
	case "type":
		if start {
			c.Classes += goTypeSpecs(src, pos)
		}
		semi = false
	case "if", "for", "case":
		c.Complexity++ // not valid outside braces, but counted as gocyclo would
		semi = false
	case "break", "continue", "fallthrough", "return":
	case "chan", "const", "default", "defer", "else", "go", "goto", "import",
		"interface", "map", "package", "range", "select", "struct", "switch", "var":
		semi = false
	}
	t.token(semi)
}

// goTypeSpecs counts the type specs of the declaration whose "type" keyword
// ends at pos: one, or the specs of a parenthesized group, each starting a
// statement in the group by the semicolon rule.
func goTypeSpecs(src []byte, pos int) int {
	lx := goMiniLexer{src: src, pos: pos}
	if string(lx.next()) != "(" {
		return 1
	}
	specs, depth := 0, 1
	start, semi := true, false
	for {
		tok, isNL := lx.scan()
		switch {
		case isNL:
			if depth == 1 && semi {
				start = true
			}
			continue
		case tok == nil:
			return specs // unterminated group
		}
		semi = false
		switch tok[0] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				return specs
			}
			semi = true
		case ';':
			if depth == 1 {
				start = true
			}
			continue
		case '"', '\'', '`':
			semi = true
		default:
			if isIdent[tok[0]] {
				if depth == 1 && start {
					specs++
				}
				semi = !isGoKeyword(tok) || string(tok) == "return"
			}
		}
		start = false
	}
}

// isGoKeyword reports whether id is one of Go's keywords.
func isGoKeyword(id []byte) bool {
	switch string(id) {
	case "break", "case", "chan", "const", "continue", "default", "defer", "else",
		"fallthrough", "for", "func", "go", "goto", "if", "import", "interface",
		"map", "package", "range", "return", "select", "struct", "switch", "type", "var":
		return true
	}
	return false
}

// skipQuoted skips an interpreted string or rune literal whose opening quote
// is before pos. It stops after the closing quote or at the end of the line,
// where an unterminated literal ends.
func skipQuoted(src []byte, pos int, quote byte) int {
	n := len(src)
	for pos < n {
		b := src[pos]
		if b == quote {
			return pos + 1
		}
		if b == '\n' {
			return pos
		}
		pos++
		if b == '\\' && pos < n && src[pos] != '\n' {
			pos++
		}
	}
	return pos
}

// skipGoNumber skips a number literal, exponent signs included, so that
// "1." or "1e+5" end as one token.
func skipGoNumber(src []byte, pos int) int {
	n := len(src)
	for pos < n {
		b := src[pos]
		switch {
		case isIdent[b] || b == '.':
			pos++
		case (b == '+' || b == '-') && (src[pos-1]|0x20 == 'e' || src[pos-1]|0x20 == 'p'):
			pos++
		default:
			return pos
		}
	}
	return pos
}

// lineEnd returns the index of the newline ending the line that holds pos,
// or len(src).
func lineEnd(src []byte, pos int) int {
	if i := bytes.IndexByte(src[pos:], '\n'); i >= 0 {
		return pos + i
	}
	return len(src)
}

// isGoTestFunc reports whether the function declared after the "func" keyword
// ending at pos is a test case the way go test sees one: TestXxx(t *testing.T)
// or FuzzXxx(f *testing.F) with no receiver, type parameters or results, or an
// ExampleXxx() with no parameters or results and a body. Like go test, it
// accepts *T for any package name (or none) in front of T.
func isGoTestFunc(src []byte, pos int) bool {
	lx := goMiniLexer{src: src, pos: pos}
	name := lx.next()
	var arg string
	switch {
	case isTestName(name, "Test"):
		arg = "T"
	case isTestName(name, "Fuzz"):
		arg = "F"
	case isTestName(name, "Example"):
		arg = ""
	default:
		return false
	}
	if string(lx.next()) != "(" {
		return false // receiver names are not test names; '[' is type parameters
	}
	tok := lx.next()
	if arg != "" {
		if len(tok) > 0 && isIdent[tok[0]] {
			tok = lx.next() // the parameter's name
		}
		if string(tok) != "*" {
			return false
		}
		typ := lx.next()
		tok = lx.next()
		if string(tok) == "." {
			typ = lx.next()
			tok = lx.next()
		}
		if string(typ) != arg {
			return false
		}
		if string(tok) == "," {
			tok = lx.next()
		}
	}
	if string(tok) != ")" {
		return false
	}
	after := lx.nextOnLine()
	if arg == "" {
		return string(after) == "{" // examples need a body
	}
	return after == nil || string(after) == "{" || string(after) == ";"
}

// isTestName is go test's rule: name is prefix, or prefix followed by a rune
// that is not a lower-case letter.
func isTestName(name []byte, prefix string) bool {
	if !bytes.HasPrefix(name, []byte(prefix)) {
		return false
	}
	if len(name) == len(prefix) {
		return true
	}
	r, _ := utf8.DecodeRune(name[len(prefix):])
	return !unicode.IsLower(r)
}

// goMiniLexer reads the few tokens of a function signature.
type goMiniLexer struct {
	src []byte
	pos int
}

// next returns the next token, skipping white space, newlines and comments;
// nil at the end.
func (lx *goMiniLexer) next() []byte {
	for {
		tok, isNL := lx.scan()
		if !isNL {
			return tok
		}
	}
}

// nextOnLine returns the next token if it is on the current line, else nil.
func (lx *goMiniLexer) nextOnLine() []byte {
	tok, isNL := lx.scan()
	if isNL {
		return nil
	}
	return tok
}

func (lx *goMiniLexer) scan() (tok []byte, isNL bool) {
	src, n := lx.src, len(lx.src)
	for lx.pos < n {
		b := src[lx.pos]
		switch {
		case isSpace[b]:
			lx.pos++
		case b == '\n':
			lx.pos++
			return nil, true
		case b == '/' && lx.pos+1 < n && src[lx.pos+1] == '/':
			lx.pos = lineEnd(src, lx.pos)
		case b == '/' && lx.pos+1 < n && src[lx.pos+1] == '*':
			end := bytes.Index(src[lx.pos+2:], []byte("*/"))
			if end < 0 {
				lx.pos = n
				return nil, false
			}
			comment := src[lx.pos : lx.pos+2+end+2]
			lx.pos += len(comment)
			if bytes.IndexByte(comment, '\n') >= 0 {
				return nil, true
			}
		case isIdent[b]:
			start := lx.pos
			for lx.pos < n && isIdent[src[lx.pos]] {
				lx.pos++
			}
			return src[start:lx.pos], false
		case b == '"' || b == '\'':
			start := lx.pos
			lx.pos = skipQuoted(src, lx.pos+1, b)
			return src[start:lx.pos], false
		case b == '`':
			start := lx.pos
			if end := bytes.IndexByte(src[lx.pos+1:], '`'); end >= 0 {
				lx.pos += end + 2
			} else {
				lx.pos = n
			}
			return src[start:lx.pos], false
		default:
			lx.pos++
			return src[lx.pos-1 : lx.pos], false
		}
	}
	return nil, false
}
