package lang

import "bytes"

// hashSyntax describes a language whose comments are lines starting with #
// (cloc counts only whole-line # comments for them; a # after code leaves
// the line a code line anyway). Perl adds POD blocks and __END__, Ruby
// =begin/=end blocks.
type hashSyntax struct {
	dialect uint8
	eol     bool // cloc knows backslash continuation (see contRule)
}

// Hash dialects.
const (
	hPlain uint8 = iota // comments only: Dockerfile, YAML, TOML
	hMake
	hCMake
	hPerl
	hRuby
	hAwk
)

var (
	hashPlain = &hashSyntax{dialect: hPlain}
	hashMake  = &hashSyntax{dialect: hMake, eol: true}
	hashCMake = &hashSyntax{dialect: hCMake, eol: true}
	hashPerl  = &hashSyntax{dialect: hPerl}
	hashRuby  = &hashSyntax{dialect: hRuby, eol: true}
	hashAwk   = &hashSyntax{dialect: hAwk, eol: true}
)

func measureHash(h *hashSyntax, src []byte, deep bool) Counts {
	var c Counts
	var hs hashStruct
	inDoc := false // POD or =begin block
	atEnd := false // after Perl's __END__ or __DATA__
	cont := contRule{on: h.eol}
	forEachLine(src, func(line []byte) {
		text := trimLeftSpace(line)
		switch {
		case len(text) == 0:
			cont.blank(&c)
			return
		case atEnd:
			c.Comment++
		case inDoc:
			c.Comment++
			if h.dialect == hPerl && bytes.HasPrefix(line, []byte("=cut")) ||
				h.dialect == hRuby && bytes.HasPrefix(line, []byte("=end")) {
				inDoc = false
			}
		case h.dialect == hPerl && len(line) > 1 && line[0] == '=' && isLetter(line[1]):
			c.Comment++
			inDoc = !bytes.HasPrefix(line, []byte("=cut"))
		case h.dialect == hRuby && bytes.HasPrefix(line, []byte("=begin")):
			c.Comment++
			inDoc = true
		case h.dialect == hPerl && (bytes.HasPrefix(line, []byte("__END__")) || bytes.HasPrefix(line, []byte("__DATA__"))):
			c.Comment++
			atEnd = true
		case text[0] == '#':
			cont.line(&c, false, false, line)
			return
		default:
			cont.line(&c, true, false, line)
			if deep && h.dialect != hPlain {
				hs.line(h.dialect, text)
			}
			return
		}
		cont.prevBS = false
	})
	c.Complexity = hs.decisions + hs.functions
	c.Functions = hs.functions
	c.Classes = hs.classes
	return c
}

func isLetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

// hashStruct counts decisions, functions and classes, one code line at a
// time; strings and comments are skipped within the line.
type hashStruct struct {
	decisions, functions, classes int
	pending                       uint8 // 1: a function name follows; 2: a class name follows
}

func (hs *hashStruct) line(dialect uint8, text []byte) {
	n := len(text)
	first := true
	for pos := 0; pos < n; {
		b := text[pos]
		switch {
		case b == '#':
			if pos == 0 || isSpace[text[pos-1]] || text[pos-1] == ';' {
				return
			}
			pos++
		case b == '"' || b == '\'' || b == '`':
			if dialect == hMake || dialect == hCMake && b != '"' {
				pos++ // quotes are plain characters in make
				break
			}
			pos = skipQuoted(text, pos+1, b)
			hs.pending = 0
		case b == '$' && dialect != hMake && dialect != hCMake:
			pos++ // $if is a variable in Perl
			for pos < n && isIdent[text[pos]] {
				pos++
			}
		case isIdent[b]:
			start := pos
			for pos < n && isIdent[text[pos]] {
				pos++
			}
			hs.word(dialect, text[start:pos], first, pos < n && text[pos] == '(' || pos+1 < n && text[pos] == ' ' && text[pos+1] == '(')
			first = false
		case (b == '&' || b == '|') && pos+1 < n && text[pos+1] == b:
			if dialect != hMake && dialect != hCMake {
				hs.decisions++
			}
			pos += 2
		case b == '?' && pos > 0 && isSpace[text[pos-1]] && pos+1 < n && isSpace[text[pos+1]]:
			if dialect != hMake && dialect != hCMake {
				hs.decisions++
			}
			pos++
		default:
			if !isSpace[b] {
				hs.pending = 0
			}
			pos++
		}
	}
}

func (hs *hashStruct) word(dialect uint8, w []byte, first, call bool) {
	switch hs.pending {
	case 1:
		hs.functions++
	case 2:
		hs.classes++
	}
	hs.pending = 0
	switch dialect {
	case hMake:
		if first {
			switch string(w) {
			case "ifeq", "ifneq", "ifdef", "ifndef":
				hs.decisions++
			}
		}
	case hCMake:
		if !call {
			return
		}
		// CMake commands ignore case.
		for _, kw := range []string{"if", "elseif", "while", "foreach"} {
			if bytes.EqualFold(w, []byte(kw)) {
				hs.decisions++
			}
		}
		if bytes.EqualFold(w, []byte("function")) || bytes.EqualFold(w, []byte("macro")) {
			hs.functions++
		}
	case hPerl:
		switch string(w) {
		case "if", "elsif", "unless", "while", "until", "for", "foreach", "and", "or":
			hs.decisions++
		case "sub":
			hs.pending = 1
		case "package":
			hs.pending = 2
		}
	case hRuby:
		switch string(w) {
		case "if", "elsif", "unless", "while", "until", "for", "when", "rescue", "and", "or":
			hs.decisions++
		case "def":
			hs.pending = 1
		case "class", "module":
			hs.pending = 2
		}
	case hAwk:
		switch string(w) {
		case "if", "while", "for":
			hs.decisions++
		case "function", "func":
			hs.pending = 1
		}
	}
}
