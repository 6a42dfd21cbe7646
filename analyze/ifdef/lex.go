package ifdef

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tChar
	tString
	tOp
)

type token struct {
	kind tokKind
	text string
}

// lexer splits a directive's condition into preprocessing tokens.
type lexer struct {
	src []byte
	pos int
}

var twoByteOps = map[string]bool{"||": true, "&&": true, "==": true, "!=": true, "<=": true, ">=": true, "<<": true, ">>": true}

func isIdentByte(b byte) bool {
	return b == '_' || b == '$' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

func (lx *lexer) next() token {
	src := lx.src
	for lx.pos < len(src) && (src[lx.pos] == ' ' || src[lx.pos] == '\t' || src[lx.pos] == '\r' || src[lx.pos] == '\f' || src[lx.pos] == '\v') {
		lx.pos++
	}
	if lx.pos >= len(src) {
		return token{kind: tEOF}
	}
	start := lx.pos
	b := src[start]
	switch {
	case b >= '0' && b <= '9' || b == '.' && start+1 < len(src) && src[start+1] >= '0' && src[start+1] <= '9':
		// A pp-number: digits, letters, dots and signed exponents.
		lx.pos++
		for lx.pos < len(src) {
			c := src[lx.pos]
			if (c == '+' || c == '-') && (src[lx.pos-1]|0x20 == 'e' || src[lx.pos-1]|0x20 == 'p') {
				lx.pos++
				continue
			}
			if !isIdentByte(c) && c != '.' && c != '\'' {
				break
			}
			lx.pos++
		}
		return token{kind: tNumber, text: string(src[start:lx.pos])}
	case isIdentByte(b):
		for lx.pos < len(src) && isIdentByte(src[lx.pos]) {
			lx.pos++
		}
		text := string(src[start:lx.pos])
		// An encoding prefix makes a character or string literal (L'a', u8"x").
		if lx.pos < len(src) && (src[lx.pos] == '\'' || src[lx.pos] == '"') && isPrefix(text) {
			return lx.quoted(start, src[lx.pos])
		}
		return token{kind: tIdent, text: text}
	case b == '\'' || b == '"':
		return lx.quoted(start, b)
	}
	if start+1 < len(src) && twoByteOps[string(src[start:start+2])] {
		lx.pos += 2
	} else {
		lx.pos++
	}
	return token{kind: tOp, text: string(src[start:lx.pos])}
}

func isPrefix(s string) bool { return s == "L" || s == "u" || s == "U" || s == "u8" }

// quoted reads a character or string literal whose quote is at lx.pos; an
// unterminated one runs to the end of the line.
func (lx *lexer) quoted(start int, q byte) token {
	src := lx.src
	lx.pos++
	for lx.pos < len(src) && src[lx.pos] != q {
		if src[lx.pos] == '\\' {
			lx.pos++
		}
		lx.pos++
	}
	lx.pos = min(lx.pos+1, len(src))
	kind := tChar
	if q == '"' {
		kind = tString
	}
	return token{kind: kind, text: string(src[start:lx.pos])}
}
