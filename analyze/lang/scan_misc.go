package lang

import "bytes"

// measureAsm follows cloc's reading of assembly, which has to serve every
// assembler: a line whose first character is #, ;, @, |, ! or -- is a
// comment (so in Go assembly #include and #define lines count as comments, as
// cloc counts them), as is a line starting with * in the first column;
// // and /* */ comments work as in C. Go assembly's TEXT directives count as
// functions.
func measureAsm(src []byte) Counts {
	var c Counts
	inBlock := false
	cont := contRule{on: true, join: true}
	forEachLine(src, func(line []byte) {
		text := trimLeftSpace(line)
		if len(text) == 0 {
			cont.blank(&c)
			return
		}
		if !inBlock {
			marker := false
			switch text[0] {
			case '#', ';', '@', '|', '!':
				marker = true
			case '-':
				marker = len(text) > 1 && text[1] == '-'
			case '*':
				marker = line[0] == '*' && !(len(line) > 1 && line[1] == '/')
			}
			if marker {
				cont.line(&c, false, false, line)
				return
			}
		}
		var hasCode bool
		hasCode, inBlock = scanCLine(text, inBlock)
		cont.line(&c, hasCode, true, line)
		if hasCode && bytes.HasPrefix(text, []byte("TEXT")) && len(text) > 4 && isSpace[text[4]] {
			c.Functions++
		}
	})
	c.Complexity = c.Functions
	return c
}

// scanCLine reads one line with // and /* */ comments and "..." strings,
// starting inside a block comment if inBlock. It reports whether the line has
// code, and whether a block comment is open at its end.
func scanCLine(line []byte, inBlock bool) (hasCode, open bool) {
	n := len(line)
	for pos := 0; pos < n; {
		if inBlock {
			i := bytes.Index(line[pos:], []byte("*/"))
			if i < 0 {
				return hasCode, true
			}
			pos += i + 2
			inBlock = false
			continue
		}
		b := line[pos]
		switch {
		case b == '/' && pos+1 < n && line[pos+1] == '/':
			return hasCode, false
		case b == '/' && pos+1 < n && line[pos+1] == '*':
			inBlock = true
			pos += 2
		case b == '"':
			hasCode = true
			pos = skipQuoted(line, pos+1, '"')
		case isSpace[b]:
			pos++
		default:
			hasCode = true
			pos++
			for pos < n && line[pos] != '/' && line[pos] != '"' {
				pos++
			}
		}
	}
	return hasCode, inBlock
}

// measureSQL reads -- line comments and /* */ block comments, with
// single-quoted strings (a doubled quote stands for a quote) and "..."
// identifiers.
func measureSQL(src []byte) Counts {
	var c Counts
	inBlock := false
	forEachLine(src, func(line []byte) {
		if isBlank(line) {
			c.Blank++
			return
		}
		hasCode := false
		n := len(line)
		for pos := 0; pos < n; {
			if inBlock {
				i := bytes.Index(line[pos:], []byte("*/"))
				if i < 0 {
					pos = n
					break
				}
				pos += i + 2
				inBlock = false
				continue
			}
			b := line[pos]
			switch {
			case b == '-' && pos+1 < n && line[pos+1] == '-':
				pos = n
			case b == '/' && pos+1 < n && line[pos+1] == '*':
				inBlock = true
				pos += 2
			case b == '\'' || b == '"':
				hasCode = true
				pos++
				for pos < n && line[pos] != b {
					pos++
				}
				pos++
			default:
				if !isSpace[b] {
					hasCode = true
				}
				pos++
			}
		}
		if hasCode {
			c.Code++
		} else {
			c.Comment++
		}
	})
	return c
}

// measureMarkup reads <!-- --> comments (HTML, XML, SVG, Markdown).
func measureMarkup(src []byte) Counts {
	var c Counts
	inComment := false
	forEachLine(src, func(line []byte) {
		if isBlank(line) {
			c.Blank++
			return
		}
		hasCode := false
		for len(line) > 0 {
			if inComment {
				i := bytes.Index(line, []byte("-->"))
				if i < 0 {
					break
				}
				line = line[i+3:]
				inComment = false
				continue
			}
			i := bytes.Index(line, []byte("<!--"))
			if i < 0 {
				hasCode = hasCode || !isBlank(line)
				break
			}
			hasCode = hasCode || !isBlank(line[:i])
			line = line[i+4:]
			inComment = true
		}
		if hasCode {
			c.Code++
		} else {
			c.Comment++
		}
	})
	return c
}

// measureBatch reads DOS batch files: REM and :: lines are comments.
func measureBatch(src []byte) Counts {
	var c Counts
	forEachLine(src, func(line []byte) {
		text := trimLeftSpace(line)
		if len(text) == 0 {
			c.Blank++
			return
		}
		text = bytes.TrimPrefix(text, []byte("@"))
		switch {
		case bytes.HasPrefix(text, []byte("::")),
			len(text) >= 3 && bytes.EqualFold(text[:3], []byte("rem")) && (len(text) == 3 || isSpace[text[3]]):
			c.Comment++
		default:
			c.Code++
		}
	})
	return c
}
