// Package buildtag says which build tags a Go file can only be built with:
// the tags its build constraint (the //go:build line, or the _GOOS, _GOARCH
// and _GOOS_GOARCH file name suffixes) requires whatever the other tags are.
// The analyzer makes each such tag a variant of a dimension that has
// build_constraints: true.
package buildtag

import (
	"bytes"
	"fmt"
	"go/build/constraint"
	"path"
	"slices"
	"strings"
)

// Constraint returns the file's build constraint: the file name's and the
// header's together, or nil if it has none. line is the (1-based) line of a
// constraint that cannot be parsed, for the error.
func Constraint(name string, src []byte) (constraint.Expr, error) {
	x := nameConstraint(path.Base(name))
	h, err := headerConstraint(src)
	if err != nil {
		return nil, err
	}
	switch {
	case x == nil:
		return h, nil
	case h == nil:
		return x, nil
	}
	return &constraint.AndExpr{X: x, Y: h}, nil
}

// Required returns, sorted, the tags without which x cannot be satisfied:
// linux for linux && amd64 (and amd64), none for linux || darwin or for
// !windows.
func Required(x constraint.Expr) []string {
	if x == nil {
		return nil
	}
	var out []string
	for _, t := range Tags(x) {
		if !satisfiable(x, map[string]bool{t: false}) {
			out = append(out, t)
		}
	}
	return out
}

// Tags returns the distinct tags x reads, sorted.
func Tags(x constraint.Expr) []string {
	var out []string
	var walk func(constraint.Expr)
	walk = func(x constraint.Expr) {
		switch x := x.(type) {
		case *constraint.AndExpr:
			walk(x.X)
			walk(x.Y)
		case *constraint.OrExpr:
			walk(x.X)
			walk(x.Y)
		case *constraint.NotExpr:
			walk(x.X)
		case *constraint.TagExpr:
			if !slices.Contains(out, x.Tag) {
				out = append(out, x.Tag)
			}
		}
	}
	walk(x)
	slices.Sort(out)
	return out
}

// satisfiable reports whether some setting of the tags not in set makes x
// true: it evaluates x with what is set, and splits on a tag it does not
// know only while the answer is open.
func satisfiable(x constraint.Expr, set map[string]bool) bool {
	switch eval(x, set) {
	case yes:
		return true
	case no:
		return false
	}
	t := firstUnset(x, set)
	for _, v := range []bool{true, false} {
		set[t] = v
		ok := satisfiable(x, set)
		delete(set, t)
		if ok {
			return true
		}
	}
	return false
}

type tri uint8

const (
	open tri = iota
	yes
	no
)

func eval(x constraint.Expr, set map[string]bool) tri {
	switch x := x.(type) {
	case *constraint.AndExpr:
		a, b := eval(x.X, set), eval(x.Y, set)
		switch {
		case a == no || b == no:
			return no
		case a == yes && b == yes:
			return yes
		}
	case *constraint.OrExpr:
		a, b := eval(x.X, set), eval(x.Y, set)
		switch {
		case a == yes || b == yes:
			return yes
		case a == no && b == no:
			return no
		}
	case *constraint.NotExpr:
		switch eval(x.X, set) {
		case yes:
			return no
		case no:
			return yes
		}
	case *constraint.TagExpr:
		if v, ok := set[x.Tag]; ok {
			if v {
				return yes
			}
			return no
		}
	}
	return open
}

func firstUnset(x constraint.Expr, set map[string]bool) string {
	for _, t := range Tags(x) {
		if _, ok := set[t]; !ok {
			return t
		}
	}
	return ""
}

// headerConstraint reads the //go:build line of the file's header (the
// comments and blank lines before the package clause), or else its // +build
// lines, as the go command does.
func headerConstraint(src []byte) (constraint.Expr, error) {
	var plus constraint.Expr
	inBlock := false
	for n, rest := 1, src; len(rest) > 0; n++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		t := strings.TrimSpace(string(line))
		if inBlock {
			if i := strings.Index(t, "*/"); i >= 0 {
				inBlock = false
				if strings.TrimSpace(t[i+2:]) != "" {
					break
				}
			}
			continue
		}
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "/*"):
			inBlock = !strings.Contains(t[2:], "*/")
			continue
		case !strings.HasPrefix(t, "//"):
			return plus, nil
		case constraint.IsGoBuild(t):
			x, err := constraint.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			return x, nil
		case constraint.IsPlusBuild(t):
			x, err := constraint.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			if plus == nil {
				plus = x
			} else {
				plus = &constraint.AndExpr{X: plus, Y: x}
			}
		}
	}
	return plus, nil
}

// nameConstraint is the constraint a file name implies, as go/build reads
// it: name_GOOS_GOARCH.go, name_GOOS.go or name_GOARCH.go, before _test.
func nameConstraint(name string) constraint.Expr {
	name, _, _ = strings.Cut(name, ".")
	i := strings.Index(name, "_")
	if i < 0 {
		return nil
	}
	l := strings.Split(name[i:], "_")
	if n := len(l); n > 0 && l[n-1] == "test" {
		l = l[:n-1]
	}
	n := len(l)
	if n >= 2 && knownOS[l[n-2]] && knownArch[l[n-1]] {
		return &constraint.AndExpr{X: &constraint.TagExpr{Tag: l[n-2]}, Y: &constraint.TagExpr{Tag: l[n-1]}}
	}
	if n >= 1 && (knownOS[l[n-1]] || knownArch[l[n-1]]) {
		return &constraint.TagExpr{Tag: l[n-1]}
	}
	return nil
}

// The GOOS and GOARCH values go/build knows in file names.
var (
	knownOS   = set("aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris wasip1 windows zos")
	knownArch = set("386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm")
)

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
