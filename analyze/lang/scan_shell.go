package lang

import "bytes"

// The shell scanner reads sh, bash and zsh. Lines are counted as cloc and scc
// count them: a line whose first character is # is a comment, even inside a
// heredoc or a multi-line string (counting heredocs as code would differ from
// both by a quarter on Go's own scripts, which embed C in heredocs). The
// token rules do read strings and heredocs: a # starts a comment only at the
// start of a word ($#, ${#x} and ${x#y} are code), and heredoc bodies are
// data. Complexity counts if, elif, while, until and for in command
// position, && and ||, and each case pattern but the catch-all *), plus one
// per function; functions are "name()" and "function name".

// Shell states beyond stCode.
const (
	stShSingle  uint8 = 30 + iota // in '...'
	stShDouble                    // in "..."
	stShBack                      // in `...`
	stShHeredoc                   // in a heredoc body
)

// shWordBreak are the bytes after which a # starts a word, and so a comment
// (not after { or }: "${#x}" is a length).
var shWordBreak = [256]bool{' ': true, '\t': true, '\r': true, '\v': true, '\f': true, '\n': true,
	';': true, '&': true, '|': true, '(': true, ')': true, '<': true, '>': true}

var shStopDeep = func() (t [256]bool) {
	for _, b := range []byte("\n#'\"`\\<") {
		t[b] = true
	}
	for b := 0; b < 256; b++ {
		if isIdent[b] || b == '*' || b == '$' || b == '&' || b == '|' || b == ';' || b == '(' || b == ')' || b == '{' || b == '}' || b == '!' {
			t[b] = true
		}
	}
	return t
}()

// shStruct is the structure state of a deep shell scan.
type shStruct struct {
	cmd            bool // the next word is in command position
	casePattern    bool // inside case ... in, reading a pattern
	caseDepth      int
	patternWords   int    // words in the current pattern
	patternStar    bool   // the pattern is a lone *
	pendingFunc    bool   // "function" seen: its name follows
	pendingIn      bool   // case WORD: "in" follows
	nameParen      int    // 1 after a word in command position; 2 after its "("
	state          uint8  // stCode or a string or heredoc state
	heredoc        []byte // delimiter of the pending or open heredoc
	heredocTabs    bool   // <<- strips leading tabs from the delimiter line
	heredocPending bool   // a heredoc starts on the next line
	decisions      int
	functions      int
}

func measureShell(src []byte, deep bool) Counts {
	var c Counts
	sh := shStruct{cmd: true}
	n := len(src)
	pos := 0
	cont := contRule{on: true}
	for pos < n {
		end := lineEnd(src, pos)
		text := trimLeftSpace(src[pos:end])
		if len(text) == 0 {
			cont.blank(&c)
		} else {
			cont.line(&c, text[0] != '#', false, text)
		}
		if deep {
			sh.line(src, pos, end)
		}
		pos = end + 1
	}
	c.Complexity = sh.decisions + sh.functions
	c.Functions = sh.functions
	return c
}

// line runs the token rules over the line src[pos:end], carrying strings
// and heredocs over to the next line.
func (sh *shStruct) line(src []byte, pos, end int) {
	lineStart := pos
	if sh.state == stShHeredoc {
		if isHeredocEnd(src[pos:end], sh.heredoc, sh.heredocTabs) {
			sh.state = stCode
		}
		return
	}
	for pos < end {
		switch sh.state {
		case stShSingle:
			for pos < end && src[pos] != '\'' {
				pos++
			}
			if pos == end {
				return
			}
			pos++
			sh.state = stCode
			sh.word(false)
		case stShDouble, stShBack:
			q := byte('"')
			if sh.state == stShBack {
				q = '`'
			}
			for pos < end && src[pos] != q {
				if src[pos] == '\\' {
					pos++
				}
				pos++
			}
			if pos >= end {
				return
			}
			pos++
			sh.state = stCode
			sh.word(false)
		}
		for pos < end && !shStopDeep[src[pos]] {
			pos++
		}
		if pos == end {
			break
		}
		b := src[pos]
		switch {
		case b == '#':
			if pos == lineStart || shWordBreak[src[pos-1]] {
				pos = end // a comment
				break
			}
			pos++
		case b == '\'':
			if pos > 0 && src[pos-1] == '$' {
				// $'...' takes backslash escapes.
				pos = skipQuoted(src[:end], pos+1, '\'')
				sh.word(false)
				break
			}
			pos++
			sh.state = stShSingle
		case b == '"':
			pos++
			sh.state = stShDouble
		case b == '`':
			pos++
			sh.state = stShBack
		case b == '\\':
			pos += 2
		case b == '$':
			// A parameter: $name, ${...}, $#; its name is not a word.
			pos++
			if pos < end && src[pos] == '{' {
				for pos < end && src[pos] != '}' {
					pos++
				}
			} else {
				for pos < end && isIdent[src[pos]] {
					pos++
				}
			}
			if pos < end && (src[pos] == '#' || src[pos] == '}') {
				pos++
			}
			sh.word(false)
		case b == '<':
			if delim, tabs, next, ok := heredocStart(src, pos); ok {
				sh.heredoc, sh.heredocTabs, sh.heredocPending = delim, tabs, true
				pos = next
				break
			}
			pos++
			sh.punct('<')
		case isIdent[b] || b == '*':
			start := pos
			for pos < end && (isIdent[src[pos]] || src[pos] == '-' || src[pos] == '.' || src[pos] == '/' || src[pos] == '*' || src[pos] == ':') {
				pos++
			}
			sh.ident(src[start:pos])
		case (b == '&' || b == '|') && pos+1 < end && src[pos+1] == b:
			pos += 2
			sh.decisions++
			sh.punct(';')
		case b == ';' && pos+1 < end && (src[pos+1] == ';' || src[pos+1] == '&'):
			for pos < end && (src[pos] == ';' || src[pos] == '&') {
				pos++
			}
			sh.caseNext()
		default:
			pos++
			sh.punct(b)
		}
	}
	if sh.state == stCode {
		if !endsWithBackslash(src[lineStart:end]) {
			sh.punct('\n')
		}
		if sh.heredocPending {
			sh.heredocPending = false
			sh.state = stShHeredoc
		}
	}
}

// heredocStart recognises <<WORD, <<-WORD, <<'WORD', <<"WORD" and <<\WORD at
// pos. It only accepts a delimiter that a later line closes, so that a << in
// arithmetic ($((1 << n))) is not taken for a heredoc.
func heredocStart(src []byte, pos int) (delim []byte, tabs bool, end int, ok bool) {
	n := len(src)
	if pos+2 >= n || src[pos+1] != '<' || src[pos+2] == '<' {
		return nil, false, 0, false
	}
	if pos > 0 && src[pos-1] == '<' {
		return nil, false, 0, false
	}
	i := pos + 2
	if i < n && src[i] == '-' {
		tabs = true
		i++
	}
	for i < n && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	var quote byte
	if i < n && (src[i] == '\'' || src[i] == '"') {
		quote = src[i]
		i++
	} else if i < n && src[i] == '\\' {
		i++
	}
	start := i
	for i < n && (isIdent[src[i]] || quote != 0 && src[i] != quote && src[i] != '\n') {
		i++
	}
	if i == start || src[start] >= '0' && src[start] <= '9' && quote == 0 {
		return nil, false, 0, false
	}
	delim = src[start:i]
	if quote != 0 {
		if i >= n || src[i] != quote {
			return nil, false, 0, false
		}
		i++
	}
	// The body starts on the next line; a line equal to delim ends it.
	body := lineEnd(src, i)
	for p := body; p < n; {
		e := lineEnd(src, p+1)
		if isHeredocEnd(src[p+1:e], delim, tabs) {
			return delim, tabs, i, true
		}
		p = e
	}
	return nil, false, 0, false
}

// isHeredocEnd reports whether line closes a heredoc with delim.
func isHeredocEnd(line, delim []byte, tabs bool) bool {
	if tabs {
		line = bytes.TrimLeft(line, "\t")
	}
	line = bytes.TrimRight(line, "\r")
	return bytes.Equal(line, delim)
}

// word records a word that is not a keyword (a quoted string, a name).
func (sh *shStruct) word(keyword bool) {
	if sh.casePattern {
		sh.patternWords++
		sh.patternStar = false
		return
	}
	if !keyword {
		sh.cmd = false
	}
	sh.nameParen = 0
}

func (sh *shStruct) ident(id []byte) {
	if sh.pendingFunc {
		sh.pendingFunc = false
		sh.functions++
		sh.nameParen = 0
		sh.cmd = false
		return
	}
	if sh.casePattern {
		if string(id) == "esac" && sh.patternWords == 0 {
			sh.endCase()
			return
		}
		sh.patternWords++
		sh.patternStar = string(id) == "*" && sh.patternWords == 1
		return
	}
	if sh.pendingIn {
		// case WORD in: the word, then "in".
		if string(id) == "in" {
			sh.pendingIn = false
			sh.casePattern, sh.patternWords, sh.patternStar = true, 0, false
		}
		return
	}
	if sh.cmd {
		switch string(id) {
		case "if", "elif", "while", "until", "for":
			sh.decisions++
			sh.cmd = true
			return
		case "then", "do", "else", "!", "time":
			sh.cmd = true
			return
		case "case":
			sh.caseDepth++
			sh.pendingIn = true
			sh.cmd = false
			return
		case "esac":
			sh.endCase()
			return
		case "function":
			sh.pendingFunc = true
			return
		case "fi", "done":
			sh.cmd = false
			return
		}
		sh.cmd = false
		sh.nameParen = 1
		return
	}
	sh.nameParen = 0
}

func (sh *shStruct) endCase() {
	if sh.caseDepth > 0 {
		sh.caseDepth--
	}
	sh.casePattern = false
	sh.cmd = false
}

// caseNext handles ;; ;& ;;& : the next case pattern follows.
func (sh *shStruct) caseNext() {
	if sh.caseDepth > 0 {
		sh.casePattern, sh.patternWords, sh.patternStar = true, 0, false
	}
	sh.cmd = true
}

func (sh *shStruct) punct(b byte) {
	if sh.casePattern {
		switch b {
		case ')':
			if !sh.patternStar || sh.patternWords != 1 {
				sh.decisions++
			}
			sh.casePattern = false
			sh.cmd = true
		case '|':
			sh.patternStar = false
			sh.patternWords++ // a|*) is not the catch-all
		case '\n', '(':
		default:
			sh.patternWords++
		}
		return
	}
	switch b {
	case '(':
		if sh.nameParen == 1 {
			sh.nameParen = 2
			return
		}
		sh.cmd = true
	case ')':
		if sh.nameParen == 2 {
			sh.functions++
			sh.cmd = true
			sh.nameParen = 0
			return
		}
	case ';', '&', '|', '\n', '{', '}', '!':
		sh.cmd = true
	default:
		sh.cmd = false
	}
	sh.nameParen = 0
}
