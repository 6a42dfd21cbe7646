package lang

// cSyntax describes a language with C-like comments and strings. One scanner
// (measureC) serves them all; the flags say which literal forms exist, and the
// dialect selects the rules for functions, classes and decision points.
type cSyntax struct {
	dialect     uint8
	noLine      bool  // no // comments (CSS)
	nested      bool  // /* */ comments nest (Rust, Swift, Kotlin, Scala, Dart)
	quote       uint8 // how ' reads: see sq* constants
	backtick    uint8 // how ` reads: see bt* constants
	triple      bool  // """ strings that may span lines
	tripleSQ    bool  // ''' strings too (Dart)
	tripleRaw   bool  // no escapes in """ strings (Kotlin, Scala, C#)
	dqMultiline bool  // "..." may span lines (Rust)
	rustRaw     bool  // r"...", r#"..."#, br"..."
	cppRaw      bool  // R"delim(...)delim"
	csVerbatim  bool  // @"..." with "" for a quote
	swiftRaw    bool  // #"..."#
	regex       bool  // /.../ regular expression literals (JavaScript)
	preproc     bool  // lines starting with # are preprocessor directives
	digitSep    bool  // ' separates digits in numbers (C++14)
	eol         bool  // cloc knows backslash continuation (see contRule)
	stopLines   [256]bool
	stopDeep    [256]bool
}

// How a single quote reads.
const (
	sqNone     uint8 = iota // punctuation (Swift)
	sqChar                  // character literal on one line (C, Java, C#, Kotlin)
	sqString                // string, like " (JavaScript, Python-like)
	sqLifetime              // character literal, or a lifetime/symbol when not closed right away (Rust, Scala)
)

// How a backtick reads.
const (
	btNone     uint8 = iota
	btQuoted         // quoted identifier on one line (Kotlin, Swift, Scala)
	btTemplate       // template literal with ${...} (JavaScript, TypeScript)
)

// Dialects: the rules for structure and complexity.
const (
	dC uint8 = iota
	dCpp
	dJava
	dCSharp
	dKotlin
	dScala
	dSwift
	dDart
	dJS
	dTS
	dRust
	dProto
	dCSS
)

func newCSyntax(s cSyntax) *cSyntax {
	stop := func(t *[256]bool, b byte) { t[b] = true }
	for _, b := range []byte{'\n', '/', '"'} {
		stop(&s.stopLines, b)
	}
	if s.quote != sqNone {
		stop(&s.stopLines, '\'')
	}
	if s.backtick != btNone {
		stop(&s.stopLines, '`')
	}
	if s.backtick == btTemplate {
		// Braces close ${...} in template literals.
		stop(&s.stopLines, '{')
		stop(&s.stopLines, '}')
	}
	for b := 0; b < 256; b++ {
		s.stopDeep[b] = s.stopLines[b] || !isSpace[b] && b > ' ' && b != 0x7f
	}
	return &s
}

var (
	syntaxC      = newCSyntax(cSyntax{dialect: dC, quote: sqChar, preproc: true, eol: true})
	syntaxCpp    = newCSyntax(cSyntax{dialect: dCpp, quote: sqChar, preproc: true, cppRaw: true, digitSep: true, eol: true})
	syntaxCSharp = newCSyntax(cSyntax{dialect: dCSharp, quote: sqChar, preproc: true, csVerbatim: true, triple: true, tripleRaw: true, eol: true})
	syntaxJava   = newCSyntax(cSyntax{dialect: dJava, quote: sqChar, triple: true})
	syntaxKotlin = newCSyntax(cSyntax{dialect: dKotlin, quote: sqChar, nested: true, triple: true, tripleRaw: true, backtick: btQuoted})
	syntaxScala  = newCSyntax(cSyntax{dialect: dScala, quote: sqLifetime, nested: true, triple: true, tripleRaw: true, backtick: btQuoted})
	syntaxSwift  = newCSyntax(cSyntax{dialect: dSwift, nested: true, triple: true, swiftRaw: true, backtick: btQuoted, eol: true})
	syntaxDart   = newCSyntax(cSyntax{dialect: dDart, quote: sqString, nested: true, triple: true, tripleSQ: true, eol: true})
	syntaxJS     = newCSyntax(cSyntax{dialect: dJS, quote: sqString, backtick: btTemplate, regex: true, eol: true})
	syntaxTS     = newCSyntax(cSyntax{dialect: dTS, quote: sqString, backtick: btTemplate, regex: true, eol: true})
	syntaxRust   = newCSyntax(cSyntax{dialect: dRust, quote: sqLifetime, nested: true, dqMultiline: true, rustRaw: true})
	syntaxProto  = newCSyntax(cSyntax{dialect: dProto, quote: sqString})
	syntaxCSS    = newCSyntax(cSyntax{dialect: dCSS, quote: sqString, noLine: true})
)
