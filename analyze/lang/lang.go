// Package lang owns the language rules of the repository analyzer: which
// language a file is written in, and the per-file counters (code, comment and
// blank lines, cyclomatic complexity, functions, classes, test cases).
//
// The counters are byte scanners that make one pass over a file without
// regular expressions or allocation, because the analyzer runs them over
// whole source trees and its speed is measured against plain reading.
//
// Line counts follow cloc, the reference line counter (docs/POLICY.md)
// (and the tests hold them to it, within 1% per language, on Go's own tree):
// a whitespace-only line is blank wherever it is, even inside a comment or a
// string; a line with any code is code; Python triple-quoted strings count as
// comments; a #! line counts as code; a line starting with # is a shell
// comment even inside a heredoc (scc counts it so too); in assembly, lines
// starting with #, ;, @, |, ! or -- are comments; a line after one that ends
// with a backslash is never blank. Where cloc is plainly wrong, the scanners
// are right instead:
//
//   - cloc's comment removal does not read strings, so "/*" in a string
//     opens a comment for it and "http://" ends a line; here strings, raw
//     strings, character literals, template literals and regular expression
//     literals are read, and markers inside them are text.
//   - cloc does not nest comments; Rust, Swift, Kotlin, Scala and Dart
//     comments nest here.
//   - cloc drops every Python line that contains /* or */ (a side effect of
//     how it removes docstrings); here such a line is code.
//   - when a // comment after code ends with a backslash, cloc joins the
//     next line to it, losing that line's code; here lines stay apart.
package lang

import (
	"bytes"
	"path"
	"strings"
)

// scanKind selects the scanner that measures a language.
type scanKind uint8

const (
	scanPlain  scanKind = iota // no comments: every non-blank line is code
	scanGo                     // Go, exact complexity and structure
	scanC                      // C-like syntax, see cSyntax
	scanPython                 // Python
	scanShell                  // sh, bash, zsh
	scanHash                   // '#' line comments (Makefile, CMake, Perl, Ruby, YAML...)
	scanAsm                    // assembly, cloc's conventions
	scanSQL                    // -- and /* */ comments
	scanMarkup                 // <!-- --> comments (HTML, XML, SVG, Markdown)
	scanBatch                  // DOS batch files: REM and :: lines
)

// Language is a set of rules for one language. Languages are shared values;
// compare them by pointer or by Name.
type Language struct {
	// Name is the language's display name, also accepted by ByName.
	Name string

	code   bool
	kind   scanKind
	c      *cSyntax    // scanC only
	hash   *hashSyntax // scanHash only
	script bool        // a first line starting with #! is code, as cloc counts it
}

// IsCode reports whether the language is a programming language (build
// scripts such as Makefiles and CMake included) rather than prose or data.
func (l *Language) IsCode() bool { return l != nil && l.code }

func (l *Language) String() string {
	if l == nil {
		return "unknown"
	}
	return l.Name
}

// The languages. Names follow cloc's where they are readable, so that counts
// can be set beside cloc's.
var (
	langGo         = &Language{Name: "Go", code: true, kind: scanGo}
	langC          = &Language{Name: "C", code: true, kind: scanC, c: syntaxC}
	langCpp        = &Language{Name: "C++", code: true, kind: scanC, c: syntaxCpp}
	langCHeader    = &Language{Name: "C/C++ Header", code: true, kind: scanC, c: syntaxCpp}
	langCSharp     = &Language{Name: "C#", code: true, kind: scanC, c: syntaxCSharp}
	langJava       = &Language{Name: "Java", code: true, kind: scanC, c: syntaxJava}
	langKotlin     = &Language{Name: "Kotlin", code: true, kind: scanC, c: syntaxKotlin}
	langScala      = &Language{Name: "Scala", code: true, kind: scanC, c: syntaxScala}
	langSwift      = &Language{Name: "Swift", code: true, kind: scanC, c: syntaxSwift}
	langDart       = &Language{Name: "Dart", code: true, kind: scanC, c: syntaxDart}
	langJS         = &Language{Name: "JavaScript", code: true, kind: scanC, c: syntaxJS}
	langTS         = &Language{Name: "TypeScript", code: true, kind: scanC, c: syntaxTS}
	langRust       = &Language{Name: "Rust", code: true, kind: scanC, c: syntaxRust}
	langProto      = &Language{Name: "Protocol Buffers", code: true, kind: scanC, c: syntaxProto}
	langCSS        = &Language{Name: "CSS", code: true, kind: scanC, c: syntaxCSS}
	langPython     = &Language{Name: "Python", code: true, kind: scanPython, script: true}
	langShell      = &Language{Name: "Shell", code: true, kind: scanShell, script: true}
	langMake       = &Language{Name: "Makefile", code: true, kind: scanHash, hash: hashMake}
	langCMake      = &Language{Name: "CMake", code: true, kind: scanHash, hash: hashCMake}
	langDockerfile = &Language{Name: "Dockerfile", code: true, kind: scanHash, hash: hashPlain}
	langPerl       = &Language{Name: "Perl", code: true, kind: scanHash, hash: hashPerl, script: true}
	langRuby       = &Language{Name: "Ruby", code: true, kind: scanHash, hash: hashRuby, script: true}
	langAwk        = &Language{Name: "awk", code: true, kind: scanHash, hash: hashAwk, script: true}
	langAsm        = &Language{Name: "Assembly", code: true, kind: scanAsm}
	langSQL        = &Language{Name: "SQL", code: true, kind: scanSQL}
	langHTML       = &Language{Name: "HTML", code: true, kind: scanMarkup}
	langBatch      = &Language{Name: "DOS Batch", code: true, kind: scanBatch}

	langMarkdown = &Language{Name: "Markdown", kind: scanMarkup}
	langRST      = &Language{Name: "reStructuredText", kind: scanPlain}
	langText     = &Language{Name: "Text", kind: scanPlain}
	langJSON     = &Language{Name: "JSON", kind: scanPlain}
	langYAML     = &Language{Name: "YAML", kind: scanHash, hash: hashPlain}
	langTOML     = &Language{Name: "TOML", kind: scanHash, hash: hashPlain}
	langCSV      = &Language{Name: "CSV", kind: scanPlain}
	langXML      = &Language{Name: "XML", kind: scanMarkup}
	langSVG      = &Language{Name: "SVG", kind: scanMarkup}
)

var allLanguages = []*Language{
	langGo, langC, langCpp, langCHeader, langCSharp, langJava, langKotlin,
	langScala, langSwift, langDart, langJS, langTS, langRust, langProto, langCSS,
	langPython, langShell, langMake, langCMake, langDockerfile, langPerl, langRuby,
	langAwk, langAsm, langSQL, langHTML, langBatch,
	langMarkdown, langRST, langText, langJSON, langYAML, langTOML, langCSV, langXML, langSVG,
}

// byExt maps a file extension (with its dot) to a language. Extensions are
// matched as written first, then lower-cased, so that ".C" (C++) and ".S"
// (assembly) keep their meaning while ".GO" still finds Go.
var byExt = map[string]*Language{
	".go":         langGo,
	".c":          langC,
	".C":          langCpp,
	".cc":         langCpp,
	".cpp":        langCpp,
	".cxx":        langCpp,
	".c++":        langCpp,
	".cp":         langCpp,
	".ino":        langCpp,
	".h":          langCHeader,
	".H":          langCHeader,
	".hh":         langCHeader,
	".hpp":        langCHeader,
	".hxx":        langCHeader,
	".h++":        langCHeader,
	".inl":        langCHeader,
	".cs":         langCSharp,
	".java":       langJava,
	".kt":         langKotlin,
	".kts":        langKotlin,
	".scala":      langScala,
	".sc":         langScala,
	".swift":      langSwift,
	".dart":       langDart,
	".js":         langJS,
	".mjs":        langJS,
	".cjs":        langJS,
	".jsx":        langJS,
	".ts":         langTS,
	".mts":        langTS,
	".cts":        langTS,
	".tsx":        langTS,
	".rs":         langRust,
	".proto":      langProto,
	".css":        langCSS,
	".py":         langPython,
	".pyw":        langPython,
	".pyi":        langPython,
	".sh":         langShell,
	".bash":       langShell,
	".zsh":        langShell,
	".ksh":        langShell,
	".mk":         langMake,
	".mak":        langMake,
	".make":       langMake,
	".cmake":      langCMake,
	".dockerfile": langDockerfile,
	".pl":         langPerl,
	".pm":         langPerl,
	".rb":         langRuby,
	".rake":       langRuby,
	".awk":        langAwk,
	".s":          langAsm,
	".S":          langAsm,
	".asm":        langAsm,
	".sql":        langSQL,
	".html":       langHTML,
	".htm":        langHTML,
	".xhtml":      langHTML,
	".bat":        langBatch,
	".cmd":        langBatch,

	".md":       langMarkdown,
	".markdown": langMarkdown,
	".rst":      langRST,
	".txt":      langText,
	".text":     langText,
	".json":     langJSON,
	".yaml":     langYAML,
	".yml":      langYAML,
	".toml":     langTOML,
	".csv":      langCSV,
	".xml":      langXML,
	".svg":      langSVG,
}

// byFileName maps whole file names, which win over extensions
// (CMakeLists.txt is CMake, not text).
var byFileName = map[string]*Language{
	"Makefile":       langMake,
	"makefile":       langMake,
	"GNUmakefile":    langMake,
	"Gnumakefile":    langMake,
	"gnumakefile":    langMake,
	"CMakeLists.txt": langCMake,
	"cmakelists.txt": langCMake,
	"Dockerfile":     langDockerfile,
	"dockerfile":     langDockerfile,
	"Containerfile":  langDockerfile,
	"Rakefile":       langRuby,
	"rakefile":       langRuby,
	"Gemfile":        langRuby,
}

// byInterpreter maps the program named by a #! line to a language.
var byInterpreter = map[string]*Language{
	"sh":     langShell,
	"bash":   langShell,
	"zsh":    langShell,
	"dash":   langShell,
	"ksh":    langShell,
	"ash":    langShell,
	"python": langPython,
	"perl":   langPerl,
	"ruby":   langRuby,
	"node":   langJS,
	"nodejs": langJS,
	"awk":    langAwk,
	"gawk":   langAwk,
	"make":   langMake,
}

var byName = func() map[string]*Language {
	m := make(map[string]*Language, len(allLanguages))
	for _, l := range allLanguages {
		m[strings.ToLower(l.Name)] = l
	}
	return m
}()

// ByName returns the language with the given name, ignoring case, or nil.
func ByName(name string) *Language {
	return byName[strings.ToLower(name)]
}

// Detect finds the language of a file by its extension, its file name
// (Makefile, CMakeLists.txt, Dockerfile...) and, for files without a known
// extension, the #! line at the start of head (the first bytes of the file).
// It returns nil for files it does not know.
func Detect(filePath string, head []byte) *Language {
	base := path.Base(strings.ReplaceAll(filePath, "\\", "/"))
	if l := byFileName[base]; l != nil {
		return l
	}
	if strings.HasPrefix(base, "Dockerfile.") || strings.HasPrefix(base, "Containerfile.") {
		return langDockerfile
	}
	if ext := path.Ext(base); ext != "" && ext != base {
		if l := byExt[ext]; l != nil {
			return l
		}
		if l := byExt[strings.ToLower(ext)]; l != nil {
			return l
		}
	}
	return detectShebang(head)
}

// detectShebang reads "#!/usr/bin/env -S python3 -u" or "#!/bin/sh -e" and
// maps the interpreter's base name, without version digits, to a language.
func detectShebang(head []byte) *Language {
	if !bytes.HasPrefix(head, []byte("#!")) {
		return nil
	}
	line := head[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return nil
	}
	prog := path.Base(fields[0])
	if prog == "env" {
		prog = ""
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "-") || strings.Contains(f, "=") {
				continue // env options and VAR=value assignments
			}
			prog = path.Base(f)
			break
		}
	}
	// python3.12, perl5 and the like.
	prog = strings.TrimRight(prog, "0123456789.")
	return byInterpreter[prog]
}

// IsBinary reports whether a file looks binary: a NUL byte in its first 8000
// bytes, the test git uses.
func IsBinary(head []byte) bool {
	if len(head) > 8000 {
		head = head[:8000]
	}
	return bytes.IndexByte(head, 0) >= 0
}

// generatedScanLimit bounds how far into head IsGenerated looks, so that a
// marker quoted deep inside a generator's own source is not taken for one.
const generatedScanLimit = 4096

// IsGenerated reports whether head (the first bytes of a file) marks the file
// as generated: a comment line "Code generated ... DO NOT EDIT." (the Go
// convention, accepted after any common comment marker) or "Generated by ...
// DO NOT EDIT" (protoc's), or a comment line carrying "@generated" or
// "<auto-generated", near the top of the file.
func IsGenerated(head []byte) bool {
	if len(head) > generatedScanLimit {
		head = head[:generatedScanLimit]
	}
	// Every marker holds one of these; most files hold none, and a
	// substring search is far cheaper than walking the lines.
	if !bytes.Contains(head, []byte("DO NOT EDIT")) && !bytes.Contains(head, []byte("@generated")) &&
		!bytes.Contains(head, []byte("<auto-generated")) {
		return false
	}
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimSpace(line)
		body, ok := trimCommentMarker(line)
		if !ok {
			continue
		}
		if (bytes.HasPrefix(body, []byte("Code generated ")) || bytes.HasPrefix(body, []byte("Generated by "))) &&
			bytes.Contains(body, []byte("DO NOT EDIT")) {
			return true
		}
		if bytes.Contains(body, []byte("@generated")) || bytes.Contains(body, []byte("<auto-generated")) {
			return true
		}
	}
	return false
}

// trimCommentMarker strips a leading comment marker and the spaces after it.
func trimCommentMarker(line []byte) ([]byte, bool) {
	for _, m := range []string{"//", "/*", "#", "--", ";", "*", "<!--", "%", "'"} {
		if bytes.HasPrefix(line, []byte(m)) {
			return bytes.TrimLeft(line[len(m):], " \t/*#!"), true
		}
	}
	return nil, false
}
