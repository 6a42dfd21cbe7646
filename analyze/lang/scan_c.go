package lang

// String kinds that can span lines, for the stStr state of measureC.
const (
	skDQ       uint8 = iota // "...", escapes; spans lines in Rust or after a backslash-newline
	skSQ                    // '...' as a string (JavaScript), after a backslash-newline
	skTriple                // """..."""
	skTripleSQ              // '''...'''
	skHash                  // r#"..."# (Rust), #"..."# (Swift): a quote and n hashes close it
	skCppRaw                // R"delim(...)delim"
	skVerbatim              // @"..." (C#): "" is a quote
	skTemplate              // `...${...}...` (JavaScript)
	skQuotedID              // `...` quoted identifier, one line
)

// Scanner state that outlives a line, besides stCode, stBlock and stRaw.
const stStr uint8 = 10

// maxTemplateNesting bounds the ${ inside template literals that are tracked;
// deeper nesting is not seen in real code and is read approximately.
const maxTemplateNesting = 16

// cScan is the state of one measureC pass.
type cScan struct {
	syn          *cSyntax
	src          []byte
	state        uint8
	commentDepth int    // open /* in a nesting language
	strKind      uint8  // kind of the open string in stStr
	hashes       int    // skHash: hashes that close the string
	delim        []byte // skCppRaw: the delimiter, a slice of src
	braces       int    // { minus } outside strings, for template literals
	tmpl         [maxTemplateNesting]int
	tmplN        int
	noRegex      int // no regular expression starts before this offset
}

// cLines is a measureC pass: the string and comment state, and in deep
// mode the structure counters.
type cLines struct {
	cScan
	st   cStruct
	deep bool
	stop *[256]bool
}

func measureC(syn *cSyntax, src []byte, deep, tests bool, split *Split) Counts {
	var c Counts
	s := cLines{cScan: cScan{syn: syn, src: src}, deep: deep, stop: &syn.stopLines}
	if deep {
		s.st.init(syn.dialect, tests)
		s.stop = &syn.stopDeep
	}
	ll := newLineLoop(src, contRule{on: syn.eol, join: syn.eol}, true, &c, split)
	ll.held = &s.st.n
	for more := ll.first(); more; more = ll.next(s.scanLine(ll.pos)) {
	}
	if deep {
		s.st.finish(&c)
	}
	return c
}

// scanLine scans one line from pos: it returns where the line ends and
// whether it holds code. The loop finds the next stop with the table and
// hands each token class to a function of its own; each says where the
// token ends and whether the line is over (a comment or string that goes
// on past it, or a line comment).
func (s *cLines) scanLine(pos int) (int, bool) {
	src, stop := s.src, s.stop
	n := len(src)
	lineStart := pos
	hasCode := false
	var done bool
line:
	for {
		if s.state != stCode {
			hasCode = hasCode || s.state == stStr
			if pos, done = s.resume(pos); done {
				break line
			}
		}
		if !hasCode {
			var kind int
			switch pos, kind = s.leading(pos); kind {
			case blankLine, lineComment:
				break line
			case blockComment:
				continue line
			}
			hasCode = true
		}
		for {
			for pos < n && !stop[src[pos]] {
				pos++
			}
			if pos == n {
				break line
			}
			switch b := src[pos]; {
			case isIdent[b]:
				pos = s.word(pos)
			case b == '\n':
				break line
			case b == '/':
				var kind int
				if pos, kind = s.slash(pos); kind == lineComment {
					break line
				} else if kind == blockComment {
					continue line
				}
			case b == '"', b == '\'', b == '`':
				if pos, done = s.quote(pos); done {
					break line
				}
			case b == '{' || b == '}':
				if pos, done = s.brace(pos); done {
					break line
				}
			default:
				pos++
				pos += s.st.punct(src, pos-1)
			}
		}
	}
	if s.deep && s.st.preproc && !endsWithBackslash(src[lineStart:pos]) {
		s.st.preproc = false
	}
	return pos, hasCode
}

// blankLine is what leading says of a line with nothing left on it.
const blankLine = -1

// skipBlanks skips the blanks from pos; more is false when nothing but the
// line's end is left. Every scanner asks it where a line may be blank.
func skipBlanks(src []byte, pos int) (next int, more bool) {
	for pos < len(src) && isSpace[src[pos]] {
		pos++
	}
	return pos, pos < len(src) && src[pos] != '\n'
}

// resume goes on with the comment or string that an earlier line left
// open; done reports that it goes on past this line too.
func (s *cLines) resume(pos int) (next int, done bool) {
	var closed bool
	if s.state == stBlock {
		pos, closed = s.skipBlock(pos)
		return pos, !closed
	}
	if pos, closed = s.skipString(pos); closed {
		s.stringEnded()
	}
	return pos, !closed
}

// stringEnded counts a string that closed on this line as a value.
func (s *cLines) stringEnded() {
	if s.deep && s.state == stCode {
		s.st.value()
	}
}

// leading skips the blanks before the first token of a line and says what
// starts there: nothing (blankLine), a comment (its kind; a line comment is
// skipped to the end of the line, a block comment opened), or code
// (noComment).
func (s *cLines) leading(pos int) (int, int) {
	src := s.src
	pos, more := skipBlanks(src, pos)
	if !more {
		return pos, blankLine
	}
	if next, kind := s.comment(pos); kind != noComment {
		return next, kind
	}
	if s.deep && s.syn.preproc && src[pos] == '#' {
		s.st.preproc = true
	}
	return pos, noComment
}

// comment says whether a comment starts at pos, and returns where the line
// ends (a line comment) or where the block comment's text starts, with the
// block opened.
func (s *cLines) comment(pos int) (int, int) {
	src := s.src
	if src[pos] != '/' || pos+1 >= len(src) {
		return pos, noComment
	}
	if src[pos+1] == '/' && !s.syn.noLine {
		return lineEnd(src, pos), lineComment
	}
	if src[pos+1] == '*' {
		s.state, s.commentDepth = stBlock, 1
		return pos + 2, blockComment
	}
	return pos, noComment
}

// word reads a word or a number at pos; only deep mode stops at them.
func (s *cLines) word(pos int) int {
	src, n := s.src, len(s.src)
	b := src[pos]
	start := pos
	pos++
	for pos < n && isIdent[src[pos]] {
		pos++
	}
	if b >= '0' && b <= '9' {
		s.st.value()
		return skipNumberTail(src, pos)
	}
	s.st.ident(src[start:pos])
	return pos
}

// slash reads a / at pos: a comment (its kind, as comment says), a regular
// expression where one may start, or a division.
func (s *cLines) slash(pos int) (int, int) {
	if next, kind := s.comment(pos); kind != noComment {
		return next, kind
	}
	if s.syn.regex && pos >= s.noRegex && s.regexAllowed(pos) {
		if end := skipRegex(s.src, pos+1); end > 0 {
			if s.deep {
				s.st.value()
			}
			return end, noComment
		}
		// No regex closes on this line: the other slashes of the line are
		// divisions too.
		s.noRegex = lineEnd(s.src, pos)
	}
	pos++
	if s.deep {
		pos += s.st.punct(s.src, pos-1)
	}
	return pos, noComment
}

// quote reads a string, a character literal or a quoted identifier at pos,
// or the quote as punctuation in a language where it opens none; done
// reports a string that goes on past this line.
func (s *cLines) quote(pos int) (next int, done bool) {
	switch s.src[pos] {
	case '"':
		pos = s.openDQ(pos)
		if s.state == stStr {
			return pos, true
		}
		if s.deep {
			s.st.value()
		}
		return pos, false
	case '\'':
		if s.syn.quote == sqNone {
			break
		}
		pos, isLit := s.openSQ(pos)
		if s.state == stStr {
			return pos, true
		}
		if s.deep {
			if isLit {
				s.st.value()
			} else {
				s.st.punctByte('\'')
			}
		}
		return pos, false
	case '`':
		if s.syn.backtick == btNone {
			break
		}
		s.state, s.strKind = stStr, skQuotedID
		if s.syn.backtick == btTemplate {
			s.strKind = skTemplate
		}
		return s.openedString(pos + 1)
	}
	return pos + 1 + s.st.punct(s.src, pos), false
}

// openedString scans the string just opened (s.state is stStr) from pos.
func (s *cLines) openedString(pos int) (next int, done bool) {
	pos, closed := s.skipString(pos)
	if closed {
		s.stringEnded()
	}
	return pos, !closed
}

// brace reads { or } at pos, tracking the depth at which a template
// literal's ${ closes and the literal goes on.
func (s *cLines) brace(pos int) (next int, done bool) {
	b := s.src[pos]
	pos++
	if b == '{' {
		s.braces++
	} else {
		s.braces--
		if s.tmplN > 0 && s.braces == s.tmpl[s.tmplN-1] {
			s.tmplN--
			s.state, s.strKind = stStr, skTemplate
			return s.openedString(pos)
		}
	}
	if s.deep {
		s.st.punctByte(b)
	}
	return pos, false
}

// endsWithBackslash reports whether a line continues on the next one.
func endsWithBackslash(line []byte) bool {
	i := len(line) - 1
	for i >= 0 && line[i] == '\r' {
		i--
	}
	return i >= 0 && line[i] == '\\'
}

// skipNumberTail extends a number after its identifier-like part across a
// decimal point and an exponent sign ("1.5e+3").
func skipNumberTail(src []byte, pos int) int {
	n := len(src)
	for pos < n {
		b := src[pos]
		switch {
		case isIdent[b]:
			pos++
		case b == '.' && pos+1 < n && src[pos+1] >= '0' && src[pos+1] <= '9':
			pos++
		case (b == '+' || b == '-') && (src[pos-1]|0x20 == 'e' || src[pos-1]|0x20 == 'p') && pos+1 < n && src[pos+1] >= '0' && src[pos+1] <= '9':
			pos++
		default:
			return pos
		}
	}
	return pos
}

// skipBlock skips a block comment from pos. It returns the position after the
// comment and true, or the position of the newline (or end) and false while
// the comment goes on.
func (s *cScan) skipBlock(pos int) (int, bool) {
	src, n := s.src, len(s.src)
	for pos < n {
		switch src[pos] {
		case '\n':
			return pos, false
		case '*':
			if pos+1 < n && src[pos+1] == '/' {
				pos += 2
				s.commentDepth--
				if s.commentDepth == 0 || !s.syn.nested {
					s.state = stCode
					return pos, true
				}
				continue
			}
		case '/':
			if s.syn.nested && pos+1 < n && src[pos+1] == '*' {
				s.commentDepth++
				pos += 2
				continue
			}
		}
		pos++
	}
	return pos, false
}

// openDQ reads the string that starts with the " at pos, choosing its kind
// from what stands before and after the quote. If the string runs past the
// line, the scanner is left in stStr.
func (s *cScan) openDQ(pos int) int {
	src, syn := s.src, s.syn
	n := len(src)
	s.state, s.strKind = stStr, skDQ
	switch {
	case syn.triple && pos+2 < n && src[pos+1] == '"' && src[pos+2] == '"':
		s.strKind = skTriple
		pos += 3
	case syn.rustRaw && s.rustRawHashes(pos) >= 0:
		s.strKind, s.hashes = skHash, s.rustRawHashes(pos)
		pos++
	case syn.swiftRaw && pos > 0 && src[pos-1] == '#':
		h := 0
		for pos-1-h >= 0 && src[pos-1-h] == '#' {
			h++
		}
		s.strKind, s.hashes = skHash, h
		pos++
	case syn.cppRaw && s.cppRawDelim(pos):
		s.strKind = skCppRaw
		pos += len(s.delim) + 2
	case syn.csVerbatim && pos > 0 && (src[pos-1] == '@' || pos > 1 && src[pos-1] == '$' && src[pos-2] == '@'):
		s.strKind = skVerbatim
		pos++
	default:
		pos++
	}
	pos, _ = s.skipString(pos)
	return pos
}

// rustRawHashes returns the number of hashes of the Rust raw string whose
// opening quote is at pos (r"", r#""#, br##""##), or -1 if it is not one.
func (s *cScan) rustRawHashes(pos int) int {
	src := s.src
	j := pos - 1
	for j >= 0 && src[j] == '#' {
		j--
	}
	if j < 0 || src[j] != 'r' {
		return -1
	}
	if j > 0 && isIdent[src[j-1]] && !(src[j-1] == 'b' && (j == 1 || !isIdent[src[j-2]])) {
		return -1
	}
	return pos - 1 - j
}

// cppRawDelim recognises R"delim( at pos and stores delim.
func (s *cScan) cppRawDelim(pos int) bool {
	src := s.src
	if pos == 0 || src[pos-1] != 'R' {
		return false
	}
	// The prefix is R, LR, uR, UR or u8R.
	start := pos - 1
	for start > 0 && isIdent[src[start-1]] {
		start--
	}
	switch string(src[start : pos-1]) {
	case "", "L", "u", "U", "u8":
	default:
		return false
	}
	for i := pos + 1; i < len(src) && i <= pos+17; i++ {
		switch src[i] {
		case '(':
			s.delim = src[pos+1 : i]
			return true
		case ' ', ')', '\\', '\t', '\v', '\f', '\n', '\r', '"':
			return false
		}
	}
	return false
}

// openSQ reads what starts with the ' at pos: a string, a character literal,
// or, in Rust and Scala, a lifetime or symbol (then isLit is false and only
// the quote is consumed). C++ digit separators (1'000) are skipped.
func (s *cScan) openSQ(pos int) (next int, isLit bool) {
	src, syn := s.src, s.syn
	n := len(src)
	switch syn.quote {
	case sqString:
		if syn.tripleSQ && pos+2 < n && src[pos+1] == '\'' && src[pos+2] == '\'' {
			s.state, s.strKind = stStr, skTripleSQ
			next, _ = s.skipString(pos + 3)
			return next, true
		}
		s.state, s.strKind = stStr, skSQ
		next, _ = s.skipString(pos + 1)
		return next, true
	case sqChar:
		if syn.digitSep && pos > 0 && src[pos-1] >= '0' && src[pos-1] <= '9' {
			return pos + 1, false
		}
		return skipQuoted(src, pos+1, '\''), true
	case sqLifetime:
		if pos+1 < n && src[pos+1] == '\\' {
			return skipQuoted(src, pos+1, '\''), true
		}
		// One character, possibly several bytes, then the closing quote.
		i := pos + 1
		if i < n && src[i] >= 0x80 {
			i++
			for i < n && src[i]&0xC0 == 0x80 {
				i++
			}
		} else {
			i++
		}
		if i < n && src[i] == '\'' && src[pos+1] != '\n' {
			return i + 1, true
		}
		return pos + 1, false
	}
	return pos + 1, false
}

// skipString scans the open string (s.strKind) from pos. It returns the
// position after the string and true once it is closed (then s.state is
// stCode), or the position of the newline or end and false while it is open.
// A template literal's ${ also returns true, with s.state stCode.
func (s *cScan) skipString(pos int) (int, bool) {
	switch s.strKind {
	case skDQ, skSQ:
		return s.skipQuotedString(pos)
	case skTriple, skTripleSQ:
		return s.skipTripleString(pos)
	case skHash:
		return s.skipHashString(pos)
	case skCppRaw:
		return s.skipCppRawString(pos)
	case skVerbatim:
		return s.skipVerbatimString(pos)
	case skTemplate:
		return s.skipTemplateString(pos)
	case skQuotedID:
		return s.skipQuotedIdent(pos)
	}
	s.state = stCode
	return pos, true
}

// skipQuotedString scans "..." or, as a string, '...': a newline ends it
// unless escaped or the language allows multi-line strings; see skipString.
func (s *cScan) skipQuotedString(pos int) (int, bool) {
	src, n := s.src, len(s.src)
	quote := byte('"')
	if s.strKind == skSQ {
		quote = '\''
	}
	for pos < n {
		b := src[pos]
		switch b {
		case quote:
			s.state = stCode
			return pos + 1, true
		case '\\':
			if pos+1 < n && src[pos+1] == '\n' {
				return pos + 1, false // an escaped newline continues the string
			}
			pos += 2
			continue
		case '\n':
			if s.strKind == skDQ && s.syn.dqMultiline {
				return pos, false
			}
			// An unterminated string ends with its line.
			s.state = stCode
			return pos, true
		}
		pos++
	}
	if pos > n {
		pos = n
	}
	return pos, false
}

// skipTripleString scans a string in three double or three single quotes;
// see skipString.
func (s *cScan) skipTripleString(pos int) (int, bool) {
	src, n := s.src, len(s.src)
	quote := byte('"')
	if s.strKind == skTripleSQ {
		quote = '\''
	}
	for pos < n {
		b := src[pos]
		switch {
		case b == quote && pos+2 < n && src[pos+1] == quote && src[pos+2] == quote:
			pos += 3
			for pos < n && src[pos] == quote { // """"" ends at the last three
				pos++
			}
			s.state = stCode
			return pos, true
		case b == '\\' && !s.syn.tripleRaw && pos+1 < n && src[pos+1] != '\n':
			pos += 2
			continue
		case b == '\n':
			return pos, false
		}
		pos++
	}
	return pos, false
}

// skipHashString scans a raw string closed by a quote and s.hashes hashes;
// see skipString.
func (s *cScan) skipHashString(pos int) (int, bool) {
	src, n := s.src, len(s.src)
	for pos < n {
		b := src[pos]
		if b == '\n' {
			return pos, false
		}
		pos++
		if b == '"' {
			h := 0
			for h < s.hashes && pos+h < n && src[pos+h] == '#' {
				h++
			}
			if h == s.hashes {
				s.state = stCode
				return pos + h, true
			}
		}
	}
	return pos, false
}

// skipCppRawString scans C++ R"delim(...)delim"; see skipString.
func (s *cScan) skipCppRawString(pos int) (int, bool) {
	src, n := s.src, len(s.src)
	d := len(s.delim)
	for pos < n {
		b := src[pos]
		if b == '\n' {
			return pos, false
		}
		pos++
		if b == ')' && pos+d < n && src[pos+d] == '"' && string(src[pos:pos+d]) == string(s.delim) {
			s.state = stCode
			return pos + d + 1, true
		}
	}
	return pos, false
}

// skipVerbatimString scans C# @"...", where "" is a quote; see skipString.
func (s *cScan) skipVerbatimString(pos int) (int, bool) {
	src, n := s.src, len(s.src)
	for pos < n {
		b := src[pos]
		if b == '\n' {
			return pos, false
		}
		pos++
		if b == '"' {
			if pos < n && src[pos] == '"' {
				pos++
				continue
			}
			s.state = stCode
			return pos, true
		}
	}
	return pos, false
}

// skipTemplateString scans a template literal up to its end or its next ${;
// see skipString.
func (s *cScan) skipTemplateString(pos int) (int, bool) {
	src, n := s.src, len(s.src)
	for pos < n {
		b := src[pos]
		switch b {
		case '`':
			s.state = stCode
			return pos + 1, true
		case '\\':
			if pos+1 < n && src[pos+1] != '\n' {
				pos += 2
				continue
			}
		case '$':
			if pos+1 < n && src[pos+1] == '{' {
				if s.tmplN < maxTemplateNesting {
					s.tmpl[s.tmplN] = s.braces
					s.tmplN++
				}
				s.braces++
				s.state = stCode
				return pos + 2, true
			}
		case '\n':
			return pos, false
		}
		pos++
	}
	return pos, false
}

// skipQuotedIdent scans a `quoted identifier`, which ends with its line;
// see skipString.
func (s *cScan) skipQuotedIdent(pos int) (int, bool) {
	src, n := s.src, len(s.src)
	for pos < n {
		switch src[pos] {
		case '`':
			s.state = stCode
			return pos + 1, true
		case '\n':
			s.state = stCode
			return pos, true
		}
		pos++
	}
	s.state = stCode
	return pos, true
}

// regexAllowed reports whether a / at pos starts a regular expression
// literal rather than a division: it does unless it follows a value (a name
// that is not a keyword, a number, a closing bracket or a string).
func (s *cScan) regexAllowed(pos int) bool {
	src := s.src
	i := pos - 1
	for i >= 0 && isSpace[src[i]] {
		i--
	}
	if i < 0 || src[i] == '\n' {
		return true
	}
	b := src[i]
	switch {
	case b == ')' || b == ']' || b == '}' || b == '"' || b == '\'' || b == '`':
		return false
	case isIdent[b]:
		end := i + 1
		for i >= 0 && isIdent[src[i]] {
			i--
		}
		switch string(src[i+1 : end]) {
		case "return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
			"throw", "case", "do", "else", "yield", "await":
			return true
		}
		return false
	}
	return true
}

// skipRegex finds the end of a regular expression literal whose body starts
// at pos, on the same line. It returns the position after the closing slash,
// or 0 if there is none (then the slash was a division after all).
func skipRegex(src []byte, pos int) int {
	n := len(src)
	inClass := false
	if pos < n && (src[pos] == '/' || src[pos] == '*') {
		return 0
	}
	for pos < n {
		switch src[pos] {
		case '\\':
			pos++
			if pos < n && src[pos] == '\n' {
				return 0
			}
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '/':
			if !inClass {
				return pos + 1
			}
		case '\n':
			return 0
		}
		pos++
	}
	return 0
}
