// Package deps finds what a source file imports: Go import paths, C and C++
// system headers (#include <...>), Python top-level modules, JavaScript and
// TypeScript packages, Java packages, Rust crates. Relative imports are the
// project's own modules, not dependencies.
package deps

import (
	"bytes"
	"strings"
)

// Dep is one import and the (0-based) line it is on.
type Dep struct {
	Name string
	Line int
}

// Extract returns the dependencies of src, written in the language called
// lang (the analyzer's language names), in order of appearance, repeats
// included; nil for other languages.
func Extract(lang string, src []byte) []Dep {
	var f func(line string) []string
	switch lang {
	case "Go":
		return goImports(src)
	case "C", "C++", "C/C++ Header":
		if !bytes.Contains(src, []byte("include")) {
			return nil
		}
		f = cInclude
	case "Python":
		f = pythonImport
	case "JavaScript", "TypeScript":
		if !bytes.Contains(src, []byte("import")) && !bytes.Contains(src, []byte("require")) {
			return nil
		}
		f = jsImport
	case "Java":
		f = javaImport
	case "Rust":
		f = rustUse
	default:
		return nil
	}
	var out []Dep
	for n, rest := 0, src; len(rest) > 0; n++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		t := bytes.TrimSpace(line)
		if len(t) == 0 || !mayImport(t) {
			continue
		}
		for _, name := range f(string(t)) {
			if name != "" {
				out = append(out, Dep{Name: name, Line: n})
			}
		}
	}
	return out
}

// mayImport is a cheap test that a trimmed line can hold an import.
func mayImport(t []byte) bool {
	switch t[0] {
	case '#', 'i', 'f', 'u', 'e', 'p': // #include, import, from, use, export, extern, pub use
		return true
	}
	return bytes.Contains(t, []byte("require("))
}

// cInclude reads #include <name>.
func cInclude(line string) []string {
	rest, ok := strings.CutPrefix(line, "#")
	if !ok {
		return nil
	}
	rest, ok = strings.CutPrefix(strings.TrimSpace(rest), "include")
	if !ok {
		return nil
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "<") {
		return nil
	}
	name, _, ok := strings.Cut(rest[1:], ">")
	if !ok {
		return nil
	}
	return []string{strings.TrimSpace(name)}
}

// pythonImport reads import a.b, c and from a.b import c: the top-level
// modules; from . (relative) is the project's own.
func pythonImport(line string) []string {
	line, _, _ = strings.Cut(line, "#")
	if rest, ok := strings.CutPrefix(line, "from "); ok {
		mod, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if strings.HasPrefix(mod, ".") {
			return nil
		}
		return []string{root(mod, ".")}
	}
	rest, ok := strings.CutPrefix(line, "import ")
	if !ok {
		return nil
	}
	var out []string
	for _, part := range strings.Split(rest, ",") {
		mod, _, _ := strings.Cut(strings.TrimSpace(part), " ")
		if mod != "" && mod != "(" {
			out = append(out, root(strings.Trim(mod, "()"), "."))
		}
	}
	return out
}

func root(name, sep string) string {
	r, _, _ := strings.Cut(name, sep)
	return r
}

// jsImport reads import ... from 'x', import 'x', require('x') and
// import('x'): the package (@scope/name or name); relative paths are the
// project's own.
func jsImport(line string) []string {
	var out []string
	for _, marker := range []string{"from ", "import ", "require(", "import("} {
		for rest := line; ; {
			i := strings.Index(rest, marker)
			if i < 0 {
				break
			}
			rest = strings.TrimSpace(rest[i+len(marker):])
			if len(rest) < 2 || (rest[0] != '\'' && rest[0] != '"' && rest[0] != '`') {
				continue
			}
			spec, _, ok := strings.Cut(rest[1:], rest[:1])
			if !ok || spec == "" || strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") {
				continue
			}
			out = append(out, jsPackage(spec))
		}
	}
	return dedupe(out)
}

func jsPackage(spec string) string {
	parts := strings.SplitN(spec, "/", 3)
	if strings.HasPrefix(spec, "@") && len(parts) >= 2 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

func dedupe(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// javaImport reads import a.b.C; and import static a.b.C.m;: the package.
func javaImport(line string) []string {
	rest, ok := strings.CutPrefix(line, "import ")
	if !ok {
		return nil
	}
	rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), ";"))
	static := false
	if r, ok := strings.CutPrefix(rest, "static "); ok {
		rest, static = strings.TrimSpace(r), true
	}
	parts := strings.Split(rest, ".")
	// Drop the class (and the member of a static import, or the *).
	drop := 1
	if static {
		drop = 2
	}
	if len(parts) <= drop {
		return nil
	}
	// Classes start with a capital: a.b.Outer.Inner is package a.b.
	pkg := parts[:len(parts)-drop]
	for i, p := range pkg {
		if p != "" && p[0] >= 'A' && p[0] <= 'Z' {
			pkg = pkg[:i]
			break
		}
	}
	if len(pkg) == 0 {
		return nil
	}
	return []string{strings.Join(pkg, ".")}
}

// rustUse reads use a::b and extern crate a: the crate; crate, self and
// super are the project's own.
func rustUse(line string) []string {
	var rest string
	if r, ok := strings.CutPrefix(line, "extern crate "); ok {
		rest = r
	} else {
		r, ok := strings.CutPrefix(strings.TrimPrefix(line, "pub "), "use ")
		if !ok {
			return nil
		}
		rest = r
	}
	rest = strings.TrimPrefix(strings.TrimSpace(rest), "::")
	name := rest
	if i := strings.IndexAny(rest, ":;{ "); i >= 0 {
		name = rest[:i]
	}
	switch name {
	case "", "crate", "self", "super", "std", "core", "alloc":
		if name == "std" || name == "core" || name == "alloc" {
			return []string{name}
		}
		return nil
	}
	return []string{name}
}

// goImports reads the import declarations of a Go file, which all come
// before its other declarations.
func goImports(src []byte) []Dep {
	var out []Dep
	inBlock := false
	for n, rest := 0, src; len(rest) > 0; n++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		t := bytes.TrimSpace(line)
		switch {
		case inBlock:
			if bytes.HasPrefix(t, []byte(")")) {
				inBlock = false
				continue
			}
			if p := goPath(t); p != "" {
				out = append(out, Dep{Name: p, Line: n})
			}
		case bytes.HasPrefix(t, []byte("import")):
			r := bytes.TrimSpace(t[len("import"):])
			if bytes.HasPrefix(r, []byte("(")) {
				inBlock = true
				r = bytes.TrimSpace(r[1:])
				if i := bytes.IndexByte(r, ')'); i >= 0 {
					inBlock = false
					r = r[:i]
				}
			}
			if p := goPath(r); p != "" {
				out = append(out, Dep{Name: p, Line: n})
			}
		case bytes.HasPrefix(t, []byte("func ")), bytes.HasPrefix(t, []byte("type ")),
			bytes.HasPrefix(t, []byte("var ")), bytes.HasPrefix(t, []byte("const ")):
			return out
		}
	}
	return out
}

// goPath reads the quoted path of an import spec (name "path" // comment).
func goPath(spec []byte) string {
	i := bytes.IndexAny(spec, "\"`")
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(spec[i+1:], spec[i])
	if j < 0 {
		return ""
	}
	return string(spec[i+1 : i+1+j])
}
