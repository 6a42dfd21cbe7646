package ifdef

import (
	"errors"
	"fmt"
	"strconv"
)

// An expression of an #if or #elif line. The parser reads the whole C
// preprocessor grammar, so that a line that is not a valid expression is an
// error; evaluation follows unifdef, which evaluates a smaller grammar
// (!, &&, ||, ==, !=, <, >, <=, >=, parentheses, defined, identifiers and
// plain integers) and leaves any line with something else undecided.
type expr struct {
	op     op
	name   string // opIdent, opDefined, opCall
	val    int64  // opNum
	x, y   *expr
	simple bool // the expression stays within unifdef's grammar
}

type op uint8

const (
	opNum op = iota
	opIdent
	opDefined
	opCall    // a function-like macro or __has_include(...): undecided
	opOther   // a literal unifdef does not read (character, suffixed number)
	opNot     // !
	opUnary   // ~ - +
	opOr      // ||
	opAnd     // &&
	opEq      // ==
	opNe      // !=
	opLt      // <
	opGt      // >
	opLe      // <=
	opGe      // >=
	opBinary  // | ^ & << >> + - * / %
	opTernary // ?:
)

// value is a tri-state result: known, or undecided.
type value struct {
	n     int64
	known bool
}

// eval evaluates e with the macros undef says are undefined; every other
// macro is undecided. Like unifdef, a condition that reads no macro at all
// (#if 0, #if 1) is left undecided, so that only what macros decide is
// dropped; one that does is decided wherever its value does not depend on
// the undecided macros (#if FOO || 1 is true).
func (e *expr) eval(undef func(string) bool) value {
	if !e.simple {
		return value{}
	}
	ev := evaluator{undef: undef}
	v := ev.eval(e)
	if !ev.readMacro || ev.bad {
		return value{}
	}
	return v
}

type evaluator struct {
	undef     func(string) bool
	readMacro bool
	bad       bool // an undefined macro called with arguments: unifdef gives up
}

func (ev *evaluator) eval(e *expr) value {
	switch e.op {
	case opNum:
		return value{n: e.val, known: true}
	case opIdent, opDefined:
		ev.readMacro = true
		if ev.undef(e.name) {
			return value{n: 0, known: true}
		}
		return value{}
	case opCall:
		ev.readMacro = true
		ev.bad = ev.bad || ev.undef(e.name)
		return value{}
	case opNot:
		x := ev.eval(e.x)
		return value{n: b2i(x.n == 0), known: x.known}
	case opOr:
		x, y := ev.eval(e.x), ev.eval(e.y)
		switch {
		case x.known && x.n != 0, y.known && y.n != 0:
			return value{n: 1, known: true}
		case x.known && y.known:
			return value{n: 0, known: true}
		}
		return value{}
	case opAnd:
		x, y := ev.eval(e.x), ev.eval(e.y)
		switch {
		case x.known && x.n == 0, y.known && y.n == 0:
			return value{n: 0, known: true}
		case x.known && y.known:
			return value{n: 1, known: true}
		}
		return value{}
	case opEq, opNe, opLt, opGt, opLe, opGe:
		x, y := ev.eval(e.x), ev.eval(e.y)
		if !x.known || !y.known {
			return value{}
		}
		var r bool
		switch e.op {
		case opEq:
			r = x.n == y.n
		case opNe:
			r = x.n != y.n
		case opLt:
			r = x.n < y.n
		case opGt:
			r = x.n > y.n
		case opLe:
			r = x.n <= y.n
		case opGe:
			r = x.n >= y.n
		}
		return value{n: b2i(r), known: true}
	}
	return value{}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// idents calls f with every macro name e reads.
func (e *expr) idents(f func(string)) {
	if e == nil {
		return
	}
	switch e.op {
	case opIdent, opDefined, opCall:
		f(e.name)
	}
	e.x.idents(f)
	e.y.idents(f)
}

// errSyntax is wrapped by every parse error.
var errSyntax = errors.New("cannot parse the condition")

// parseExpr parses the text of an #if or #elif line (comments removed).
func parseExpr(text []byte) (*expr, error) {
	p := &parser{lx: lexer{src: text}}
	p.next()
	if p.tok.kind == tEOF {
		return nil, fmt.Errorf("%w: the condition is empty", errSyntax)
	}
	e, err := p.cond()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, fmt.Errorf("%w: unexpected %q", errSyntax, p.tok.text)
	}
	return e, nil
}

// maxDepth bounds nesting, so that a hostile line cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	lx    lexer
	tok   token
	depth int
}

func (p *parser) next() { p.tok = p.lx.next() }

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errSyntax}, args...)...)
}

func (p *parser) unexpected() error {
	if p.tok.kind == tEOF {
		return p.errf("the condition ends too early")
	}
	return p.errf("unexpected %q", p.tok.text)
}

func (p *parser) cond() (*expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf("nested too deeply")
	}
	c, err := p.binary(0)
	if err != nil || !p.isOp("?") {
		return c, err
	}
	p.next()
	x, err := p.cond()
	if err != nil {
		return nil, err
	}
	if !p.isOp(":") {
		return nil, p.unexpected()
	}
	p.next()
	y, err := p.cond()
	if err != nil {
		return nil, err
	}
	return &expr{op: opTernary, x: x, y: &expr{op: opTernary, x: c, y: y}}, nil
}

// levels are the binary operators by precedence, loosest first.
var levels = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<", ">", "<=", ">="},
	{"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

var binaryOps = map[string]op{
	"||": opOr, "&&": opAnd, "==": opEq, "!=": opNe, "<": opLt, ">": opGt, "<=": opLe, ">=": opGe,
}

func (p *parser) binary(level int) (*expr, error) {
	if level == len(levels) {
		return p.unary()
	}
	x, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tOp && contains(levels[level], p.tok.text) {
		o, ok := binaryOps[p.tok.text]
		if !ok {
			o = opBinary
		}
		p.next()
		y, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		x = &expr{op: o, x: x, y: y, simple: ok && x.simple && y.simple}
	}
	return x, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) isOp(s string) bool { return p.tok.kind == tOp && p.tok.text == s }

func (p *parser) unary() (*expr, error) {
	if p.tok.kind == tOp {
		switch p.tok.text {
		case "!", "~", "-", "+":
			o := opUnary
			if p.tok.text == "!" {
				o = opNot
			}
			p.next()
			p.depth++
			defer func() { p.depth-- }()
			if p.depth > maxDepth {
				return nil, p.errf("nested too deeply")
			}
			x, err := p.unary()
			if err != nil {
				return nil, err
			}
			return &expr{op: o, x: x, simple: o == opNot && x.simple}, nil
		case "(":
			p.next()
			x, err := p.cond()
			if err != nil {
				return nil, err
			}
			if !p.isOp(")") {
				return nil, p.unexpected()
			}
			p.next()
			return x, nil
		}
	}
	return p.primary()
}

func (p *parser) primary() (*expr, error) {
	t := p.tok
	switch t.kind {
	case tNumber:
		p.next()
		// unifdef reads numbers with strtol: decimal, octal and hex without
		// a suffix.
		if n, err := strconv.ParseInt(t.text, 0, 64); err == nil && !hasUnderscore(t.text) {
			return &expr{op: opNum, val: n, simple: true}, nil
		}
		return &expr{op: opOther}, nil
	case tChar:
		p.next()
		return &expr{op: opOther}, nil
	case tIdent:
		p.next()
		if t.text == "defined" {
			return p.defined()
		}
		if p.isOp("(") {
			if err := p.skipArgs(); err != nil {
				return nil, err
			}
			return &expr{op: opCall, name: t.text, simple: true}, nil
		}
		return &expr{op: opIdent, name: t.text, simple: true}, nil
	}
	return nil, p.unexpected()
}

func hasUnderscore(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			return true
		}
	}
	return false
}

// defined reads what follows the defined operator: NAME or (NAME).
func (p *parser) defined() (*expr, error) {
	paren := p.isOp("(")
	if paren {
		p.next()
	}
	if p.tok.kind != tIdent {
		return nil, p.errf("defined needs a macro name")
	}
	e := &expr{op: opDefined, name: p.tok.text, simple: true}
	p.next()
	if paren {
		if !p.isOp(")") {
			return nil, p.unexpected()
		}
		p.next()
	}
	return e, nil
}

// skipArgs skips a macro call's parenthesized arguments, whatever they hold
// (__has_include(<sys/x.h>) among them).
func (p *parser) skipArgs() error {
	depth := 0
	for {
		switch {
		case p.tok.kind == tEOF:
			return p.errf("unbalanced parentheses")
		case p.isOp("("):
			depth++
		case p.isOp(")"):
			depth--
		}
		p.next()
		if depth == 0 {
			return nil
		}
	}
}
