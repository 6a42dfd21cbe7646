package lang

import "bytes"

// cStruct finds functions, classes, decision points and test cases in the
// token stream of measureC. The rules are recognisers, not parsers: they look
// at a token or two of context and at the nesting of braces.
//
// Functions: C, C++, Java, C# and Dart take "name ( ... ) [qualifiers] {"
// outside any function body; Kotlin fun, Scala def, Swift func and Rust fn
// are keywords; JavaScript and TypeScript count function, methods in class
// bodies, and arrow functions assigned with =.
type cStruct struct {
	dialect uint8
	tests   bool
	preproc bool // inside a preprocessor directive: structure rules pause

	// n holds what was found so far; Complexity counts each function's 1
	// with the function, so that n is a tally at any point of the file.
	n Counts

	paren     int
	kinds     [64]uint8 // kinds of the open braces, innermost last
	braceN    int
	funcDepth int // open braces that are function bodies

	prev, prev2 uint8  // kinds of the last two tokens
	prevOp      byte   // the last punctuation, or an op* code
	prevOp2     byte   // the one before, when prev2 was punctuation
	prevID      []byte // the last identifier
	prevID2     []byte // the identifier before it

	cand      uint8 // C-like and method candidate: name ( ... ) waiting for {
	candParen int

	pendingClass uint8 // a class keyword waiting for its body
	classParen   int   // paren depth of the pending C/C++ class keyword
	pendingKw    uint8 // a keyword waiting for the next identifier
	record       bool  // Java record header: its parameter list is not a method

	afterAssign bool // JS: the last token was =
	arrowIdent  bool // JS: = name, waiting for =>
	arrowParen  int  // JS: depth of the ( opened right after =, or 0
	arrowAfter  bool // JS: = ( ... ) seen, waiting for =>
	arrowTyped  bool // TS: = ( ... ): type, waiting for =>

	testCall bool // it / test seen, waiting for (
	anno     bool // inside an @annotation name
	attr     bool // inside a Rust #[...] attribute
	implHead bool // Rust: between impl and its {, where for is not a loop
}

// Token kinds.
const (
	tkNone uint8 = iota
	tkIdent
	tkValue
	tkPunct
)

// Codes of two-byte operators, kept in prevOp beside plain punctuation bytes.
const (
	opArrow   byte = 0x80 + iota // =>
	opThin                       // ->
	opScope                      // ::
	opAndOr                      // && ||
	opCompare                    // == != <= >=
)

// Brace kinds.
const (
	bkBlock uint8 = iota
	bkFunc
	bkClass
)

// cand states.
const (
	candNone uint8 = iota
	candParams
	candAfter
)

// pendingClass states.
const (
	pcNone  uint8 = iota
	pcCount       // count the class when its body opens (C, C++)
	pcBody        // already counted; mark its body as a class body
)

// pendingKw values.
const (
	kwNone       uint8 = iota
	kwFunc             // Rust fn, proto rpc: a name makes a function
	kwClass            // a name makes a class (Rust, Swift, Dart, proto, TS interface)
	kwRecord           // Java record
	kwTSType           // TS type: name, then = or <
	kwTSTypeName       // TS type name: = or < makes an alias
	kwSwiftTest        // Swift func: a test* name makes a test case
	kwScalaCase        // Scala case: class or object is not a decision
)

func (st *cStruct) init(dialect uint8, tests bool) {
	st.dialect, st.tests = dialect, tests
}

func (st *cStruct) finish(c *Counts) {
	c.Add(st.n)
}

// function counts a function found (d = 1) or one taken back (d = -1).
func (st *cStruct) function(d int) {
	st.n.Functions += d
	st.n.Complexity += d
}

func (st *cStruct) cLike() bool {
	switch st.dialect {
	case dC, dCpp, dJava, dCSharp, dDart:
		return true
	}
	return false
}

func (st *cStruct) jsLike() bool { return st.dialect == dJS || st.dialect == dTS }

func (st *cStruct) topKind() uint8 {
	if st.braceN == 0 || st.braceN > len(st.kinds) {
		return bkBlock
	}
	return st.kinds[st.braceN-1]
}

func (st *cStruct) push(kind uint8, id []byte) {
	st.prev2, st.prev = st.prev, kind
	st.prevOp2 = st.prevOp
	if kind == tkIdent {
		st.prevID2, st.prevID = st.prevID, id
	}
}

// value records a literal: a string, number or character.
func (st *cStruct) value() {
	if st.preproc {
		return
	}
	st.pendingKw = kwNone
	st.testCall, st.anno = false, false
	st.afterAssign, st.arrowIdent = false, false
	st.push(tkValue, nil)
}

// isDecision reports whether the keyword id is a decision point.
func (st *cStruct) isDecision(id []byte) bool {
	switch st.dialect {
	case dProto, dCSS:
		return false
	case dRust:
		switch string(id) {
		case "if", "while":
			return true
		case "for":
			return !st.implHead
		}
		return false
	case dKotlin:
		switch string(id) {
		case "if", "for", "while", "catch":
			return true
		}
		return false
	case dCSharp:
		if string(id) == "foreach" {
			return true
		}
	case dSwift:
		if string(id) == "guard" {
			return true
		}
	}
	switch string(id) {
	case "if", "for", "while", "case", "catch":
		return true
	}
	return false
}

// notCallee lists names that are followed by ( without being functions.
func notCallee(id []byte) bool {
	switch string(id) {
	case "if", "for", "foreach", "while", "switch", "catch", "return", "sizeof",
		"alignof", "typeof", "decltype", "new", "delete", "throw", "using", "lock",
		"fixed", "synchronized", "assert", "defined", "__attribute__", "__declspec",
		"alignas", "static_assert", "noexcept", "function", "super", "this",
		"await", "yield", "do", "else", "in", "of", "with", "when", "try", "base",
		"nameof", "default", "checked", "unchecked", "_Alignas", "_Static_assert",
		"__asm__", "asm", "__pragma", "_Pragma":
		return true
	}
	return false
}

func (st *cStruct) ident(id []byte) {
	if st.preproc {
		return
	}
	afterDot := st.prev == tkPunct && (st.prevOp == '.' || st.prevOp == opScope || st.prevOp == opThin)

	// A keyword waiting for a name.
	switch st.pendingKw {
	case kwFunc:
		st.function(1)
	case kwClass:
		if st.dialect == dSwift && swiftModifier(id) {
			break // class func, class var: a type member, not a class
		}
		st.n.Classes++
		if st.jsLike() {
			st.pendingClass = pcBody
		}
	case kwRecord:
		st.n.Classes++
		st.pendingClass, st.record = pcBody, true
	case kwTSType:
		st.pendingKw = kwTSTypeName
		st.push(tkIdent, id)
		return
	case kwSwiftTest:
		if st.tests && bytes.HasPrefix(id, []byte("test")) {
			st.n.TestCases++
		}
	case kwScalaCase:
		if string(id) == "class" || string(id) == "object" {
			st.n.Complexity--
		}
	}
	st.pendingKw = kwNone

	if st.anno {
		if st.prev == tkPunct && (st.prevOp == '@' || afterDot) {
			switch string(id) {
			case "Test", "ParameterizedTest", "RepeatedTest":
				if st.tests {
					st.n.TestCases++
				}
			}
		} else {
			st.anno = false
		}
	}
	if st.attr && st.tests && string(id) == "test" && st.prev == tkPunct && (st.prevOp == '[' || st.prevOp == opScope) {
		st.n.TestCases++
	}

	if !afterDot && st.isDecision(id) {
		st.n.Complexity++
	}

	// JavaScript arrow functions: = name =>, = async name =>, = async (
	wasAssign := st.afterAssign
	st.afterAssign, st.arrowIdent = false, false
	if wasAssign {
		if string(id) == "async" {
			st.afterAssign = true
		} else {
			st.arrowIdent = true
		}
	}

	st.testCall = false
	if !afterDot {
		st.keyword(id)
	}
	if st.cand == candAfter && st.pendingClass != pcNone {
		st.cand = candNone
	}
	st.push(tkIdent, id)
}

// keyword applies the declaration rules of the dialect to an identifier
// that does not follow a dot.
func (st *cStruct) keyword(id []byte) {
	switch st.dialect {
	case dC, dCpp:
		switch string(id) {
		case "struct", "class", "union", "enum":
			if st.pendingClass == pcNone {
				st.pendingClass, st.classParen = pcCount, st.paren
			}
		case "TEST", "TEST_F", "TEST_P", "TYPED_TEST", "TYPED_TEST_P":
			if st.tests && st.dialect == dCpp && st.funcDepth == 0 {
				st.testCall = true
			}
		}
	case dJava:
		switch string(id) {
		case "class", "interface", "enum":
			st.n.Classes++
			st.pendingClass = pcBody
		case "record":
			st.pendingKw = kwRecord
		}
	case dCSharp:
		switch string(id) {
		case "class", "struct", "interface", "enum", "record":
			constraint := st.prev == tkPunct && (st.prevOp == ':' || st.prevOp == ',')
			afterRecord := st.prev == tkIdent && string(st.prevID) == "record"
			if !constraint && !afterRecord {
				st.n.Classes++
				st.pendingClass = pcBody
			}
		case "Test", "Fact", "Theory", "TestMethod", "TestCase":
			if st.tests && st.prev == tkPunct && (st.prevOp == '[' || st.prevOp == ',') {
				st.n.TestCases++
			}
		}
	case dKotlin:
		switch string(id) {
		case "class", "interface":
			st.n.Classes++
			st.pendingClass = pcBody
			if string(id) == "interface" && st.prev == tkIdent && string(st.prevID) == "fun" {
				st.function(-1) // fun interface
			}
		case "fun":
			st.function(1)
		}
	case dScala:
		switch string(id) {
		case "class", "trait", "object", "enum":
			st.n.Classes++
			st.pendingClass = pcBody
		case "def":
			st.function(1)
		case "case":
			st.pendingKw = kwScalaCase
		}
	case dSwift:
		switch string(id) {
		case "class", "struct", "enum", "protocol", "actor":
			st.pendingKw = kwClass
		case "func":
			st.function(1)
			st.pendingKw = kwSwiftTest
		}
	case dDart:
		switch string(id) {
		case "class", "mixin", "enum":
			st.pendingKw = kwClass
		case "test", "testWidgets":
			if st.tests {
				st.testCall = true
			}
		}
	case dJS, dTS:
		switch string(id) {
		case "function":
			st.function(1)
		case "class":
			st.n.Classes++
			st.pendingClass = pcBody
		case "interface":
			if st.dialect == dTS {
				st.pendingKw = kwClass
			}
		case "type":
			if st.dialect == dTS {
				st.pendingKw = kwTSType
			}
		case "it", "test":
			if st.tests {
				st.testCall = true
			}
		}
	case dRust:
		switch string(id) {
		case "fn":
			st.pendingKw = kwFunc
		case "struct", "enum", "trait", "type", "union":
			st.pendingKw = kwClass
		case "impl":
			st.implHead = true
		}
	case dProto:
		switch string(id) {
		case "message", "enum", "service":
			st.pendingKw = kwClass
		case "rpc":
			st.pendingKw = kwFunc
		}
	}
}

// punctByte records punctuation that needs no look-ahead.
func (st *cStruct) punctByte(b byte) {
	if st.preproc {
		return
	}
	st.punctOp(b, b)
}

// punct records the punctuation at src[pos] and returns how many more bytes
// it took (for two-byte operators).
func (st *cStruct) punct(src []byte, pos int) int {
	if st.preproc {
		return 0
	}
	b := src[pos]
	var next byte
	if pos+1 < len(src) {
		next = src[pos+1]
	}
	switch b {
	case '&', '|':
		if next == b {
			if st.dialect != dProto && st.dialect != dCSS {
				st.n.Complexity++
			}
			st.punctOp(b, opAndOr)
			return 1
		}
	case '=':
		switch next {
		case '>':
			st.punctOp(b, opArrow)
			return 1
		case '=':
			st.punctOp(b, opCompare)
			return 1
		}
	case '!', '<':
		if next == '=' {
			st.punctOp(b, opCompare)
			return 1
		}
	case '>':
		if next == '=' {
			st.punctOp(b, opCompare)
			return 1
		}
	case '-':
		if next == '>' {
			st.punctOp(b, opThin)
			return 1
		}
	case ':':
		if next == ':' {
			st.punctOp(b, opScope)
			return 1
		}
	case '?':
		if st.isTernary(src, pos) {
			st.n.Complexity++
		}
		if next == '.' || next == '?' || next == ':' {
			st.punctOp(b, b)
			return 1
		}
	}
	st.punctOp(b, b)
	return 0
}

// isTernary decides whether the ? at pos is a conditional operator rather
// than optional chaining (?.), a null-coalescing operator (??), an optional
// member (x?: T), a nullable type (int?) or a generic wildcard (<?>).
func (st *cStruct) isTernary(src []byte, pos int) bool {
	var next byte
	if pos+1 < len(src) {
		next = src[pos+1]
	}
	switch st.dialect {
	case dRust, dProto, dCSS, dScala:
		return false
	case dKotlin:
		return next == ':' // the Elvis operator is Kotlin's conditional
	}
	switch next {
	case '.', '?', ':', ')', ',', '>', ']', ';', '=':
		return false
	}
	var before byte
	for i := pos - 1; i >= 0; i-- {
		if !isSpace[src[i]] {
			before = src[i]
			break
		}
	}
	switch before {
	case '<', ',', '(', 0:
		return false
	}
	switch st.dialect {
	case dCSharp, dSwift, dTS, dDart:
		// int? x: a nullable type has no space before the ?.
		return pos > 0 && (isSpace[src[pos-1]] || src[pos-1] == ')')
	}
	return true
}

// punctOp applies the rules to punctuation b, recorded as op.
func (st *cStruct) punctOp(b, op byte) {
	d := st.dialect
	wasAssign := st.afterAssign
	st.afterAssign = false
	arrowIdent := st.arrowIdent
	st.arrowIdent = false
	switch b {
	case '(':
		if st.testCall {
			st.n.TestCases++
		}
		if st.pendingClass == pcCount && st.paren == st.classParen && !isAttributeKeyword(st.prevID, st.prev) {
			st.pendingClass = pcNone
		}
		st.candidate()
		st.paren++
		if wasAssign {
			st.arrowParen = st.paren
		}
	case ')':
		if st.paren > 0 {
			st.paren--
		}
		if st.pendingClass == pcCount && st.paren < st.classParen {
			st.pendingClass = pcNone
		}
		if st.cand == candParams && st.paren < st.candParen {
			st.cand = candAfter
		}
		if st.arrowParen > 0 && st.paren < st.arrowParen {
			st.arrowParen, st.arrowAfter = 0, true
			st.push(tkPunct, nil)
			st.prevOp = op
			return
		}
		if st.record && st.paren == 0 {
			st.record = false
		}
	case '{':
		kind := bkBlock
		switch {
		case st.cand == candAfter:
			kind = bkFunc
			st.function(1)
			st.funcDepth++
		case st.pendingClass == pcCount:
			st.n.Classes++
			kind = bkClass
		case st.pendingClass == pcBody:
			kind = bkClass
		}
		st.cand, st.pendingClass, st.pendingKw, st.record, st.implHead = candNone, pcNone, kwNone, false, false
		if st.braceN < len(st.kinds) {
			st.kinds[st.braceN] = kind
		}
		st.braceN++
	case '}':
		if st.braceN > 0 {
			if st.topKind() == bkFunc && st.funcDepth > 0 {
				st.funcDepth--
			}
			st.braceN--
		}
		if st.cand == candAfter {
			st.cand = candNone
		}
	case ';':
		if st.pendingClass == pcCount && st.paren > st.classParen {
			break // for (struct x *p = a; ...)
		}
		st.cand, st.pendingClass, st.pendingKw, st.record, st.implHead = candNone, pcNone, kwNone, false, false
	case '=':
		switch op {
		case opArrow:
			switch {
			case d == dRust:
				if !(st.prev == tkIdent && string(st.prevID) == "_") {
					st.n.Complexity++
				}
			case st.jsLike():
				if st.arrowAfter || st.arrowTyped || arrowIdent {
					st.function(1)
				}
			case st.cand == candAfter && (d == dCSharp || d == dDart):
				st.function(1) // expression-bodied member
				st.cand = candNone
			}
			st.arrowAfter, st.arrowTyped = false, false
		case '=':
			if st.pendingKw == kwTSTypeName {
				st.n.Classes++
			}
			st.pendingKw = kwNone
			if st.cand == candAfter && st.cLike() {
				st.cand = candNone
			}
			if st.pendingClass == pcCount && st.paren == st.classParen {
				st.pendingClass = pcNone
			}
			st.afterAssign = true
		}
	case '<':
		if st.pendingKw == kwTSTypeName {
			st.n.Classes++
			st.pendingKw = kwNone
		}
	case ':':
		if st.arrowAfter && op == ':' {
			st.arrowTyped = true // TS: (x): T =>
		}
	case '@':
		st.anno = true
	case '#':
		// Rust attributes: #[test]
	case '[':
		if d == dRust && st.prev == tkPunct && st.prevOp == '#' {
			st.attr = true
		}
	case ']':
		st.attr = false
	case '*':
		// JS generator methods: *name() { } keeps the candidate rules.
	}
	if b != '(' && b != '@' && b != '.' {
		st.testCall = false
	}
	if b != '.' && b != '@' && op != opScope {
		st.anno = false
	}
	st.pendingKw = kwNone // a keyword's name comes right after it
	if st.arrowAfter && b != ')' && b != ':' && op != opArrow && !st.arrowTyped {
		st.arrowAfter = false
	}
	if st.arrowTyped && (b == ';' || b == '{' || b == '}' || b == ',') {
		st.arrowTyped = false
	}
	st.push(tkPunct, nil)
	st.prevOp = op
}

// candidate starts a function candidate at a ( that follows a name.
func (st *cStruct) candidate() {
	if st.prev != tkIdent || st.paren != 0 || st.record || notCallee(st.prevID) {
		return
	}
	if st.prev2 == tkPunct && (st.prevOp2 == '.' || st.prevOp2 == opThin || st.prevOp2 == '@' || st.prevOp2 == '=') {
		return
	}
	if st.prev2 == tkIdent && string(st.prevID2) == "new" {
		return
	}
	switch {
	case st.cLike():
		if st.funcDepth > 0 {
			return
		}
	case st.jsLike():
		if st.topKind() != bkClass || st.braceN > len(st.kinds) {
			return
		}
	default:
		return
	}
	st.cand, st.candParen = candParams, st.paren+1
}

// isAttributeKeyword reports whether the last token names an attribute that
// may stand between struct and its name: struct __attribute__((packed)) s {.
func isAttributeKeyword(id []byte, prev uint8) bool {
	if prev != tkIdent {
		return false
	}
	switch string(id) {
	case "__attribute__", "alignas", "_Alignas", "__declspec":
		return true
	}
	return false
}

// swiftModifier reports whether id, after "class", makes it a modifier.
func swiftModifier(id []byte) bool {
	switch string(id) {
	case "func", "var", "let", "subscript", "init", "static", "final", "override", "open", "private", "public", "internal", "fileprivate":
		return true
	}
	return false
}
