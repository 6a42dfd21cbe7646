package variant

import (
	"strings"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
)

// Glob is a compiled gitignore-style pattern (see docs/POLICY.md, Patterns). A pattern with no
// slash but a trailing one matches a name at any depth; otherwise it is
// anchored at the repository root. "**" crosses directories, "*", "?" and
// "[...]" match within one segment, and "{variant}" matches a non-empty part
// of one segment and names the variant. A pattern that matches a directory
// matches everything under it; a trailing slash matches directories only.
type Glob struct {
	Text       string
	segs       []globSeg
	dirOnly    bool
	hasVariant bool
}

type segKind uint8

const (
	segLiteral    segKind = iota // plain text: compared with ==
	segSuffix                    // "*" + literal, as "*.go"
	segStar                      // "*": any one segment
	segDoubleStar                // "**"
	segPattern                   // anything else: tokens
)

type globSeg struct {
	kind segKind
	lit  string
	toks []globTok
}

type tokKind uint8

const (
	tokLiteral tokKind = iota
	tokStar
	tokAny   // ?
	tokClass // [...]
	tokVariant
)

type globTok struct {
	kind   tokKind
	lit    string
	negate bool
	ranges []rune // pairs lo, hi
}

// CompileGlob compiles a pattern; errors are EINVALID *Error.
func CompileGlob(pattern string) (*Glob, error) {
	g := &Glob{Text: pattern}
	p := strings.TrimPrefix(pattern, "./")
	if p == "" || p == "/" {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "empty pattern")
	}
	if strings.HasSuffix(p, "/") {
		g.dirOnly = true
		p = strings.TrimRight(p, "/")
	}
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "pattern %q matches nothing", pattern)
	}
	if !anchored {
		g.segs = append(g.segs, globSeg{kind: segDoubleStar})
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			return nil, budgetgate.Errorf(budgetgate.EINVALID, "pattern %q has an empty path segment", pattern)
		}
		seg, err := compileSeg(s)
		if err != nil {
			return nil, budgetgate.Errorf(budgetgate.EINVALID, "pattern %q: %s", pattern, budgetgate.ErrorMessage(err))
		}
		for _, t := range seg.toks {
			if t.kind == tokVariant {
				if g.hasVariant {
					return nil, budgetgate.Errorf(budgetgate.EINVALID, "pattern %q has {variant} twice", pattern)
				}
				g.hasVariant = true
			}
		}
		// "a/**/**/b" is "a/**/b".
		if seg.kind == segDoubleStar && len(g.segs) > 0 && g.segs[len(g.segs)-1].kind == segDoubleStar {
			continue
		}
		g.segs = append(g.segs, seg)
	}
	return g, nil
}

// MustCompileGlob is CompileGlob for patterns known to be valid.
func MustCompileGlob(pattern string) *Glob {
	g, err := CompileGlob(pattern)
	if err != nil {
		panic(err)
	}
	return g
}

func compileSeg(s string) (globSeg, error) {
	if s == "**" {
		return globSeg{kind: segDoubleStar}, nil
	}
	var toks []globTok
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, globTok{kind: tokLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 == len(s) {
				return globSeg{}, budgetgate.Errorf(budgetgate.EINVALID, "trailing backslash")
			}
			i++
			lit.WriteByte(s[i])
		case '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, globTok{kind: tokStar})
			}
		case '?':
			flush()
			toks = append(toks, globTok{kind: tokAny})
		case '[':
			flush()
			t, n, err := compileClass(s[i:])
			if err != nil {
				return globSeg{}, err
			}
			toks = append(toks, t)
			i += n - 1
		case '{':
			if !strings.HasPrefix(s[i:], "{variant}") {
				return globSeg{}, budgetgate.Errorf(budgetgate.EINVALID, "only {variant} may be written in braces")
			}
			flush()
			if len(toks) > 0 && toks[len(toks)-1].kind == tokVariant {
				return globSeg{}, budgetgate.Errorf(budgetgate.EINVALID, "{variant} twice")
			}
			toks = append(toks, globTok{kind: tokVariant})
			i += len("{variant}") - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	switch {
	case len(toks) == 1 && toks[0].kind == tokLiteral:
		return globSeg{kind: segLiteral, lit: toks[0].lit}, nil
	case len(toks) == 1 && toks[0].kind == tokStar:
		return globSeg{kind: segStar}, nil
	case len(toks) == 2 && toks[0].kind == tokStar && toks[1].kind == tokLiteral:
		return globSeg{kind: segSuffix, lit: toks[1].lit}, nil
	}
	return globSeg{kind: segPattern, toks: toks}, nil
}

// compileClass compiles "[...]" at the start of s, returning its length.
func compileClass(s string) (globTok, int, error) {
	t := globTok{kind: tokClass}
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		t.negate = true
		i++
	}
	first := true
	for i < len(s) {
		if s[i] == ']' && !first {
			if len(t.ranges) == 0 {
				return t, 0, budgetgate.Errorf(budgetgate.EINVALID, "empty character class")
			}
			return t, i + 1, nil
		}
		first = false
		lo, n := decodeClassRune(s[i:])
		i += n
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi, n = decodeClassRune(s[i+1:])
			i += 1 + n
		}
		if hi < lo {
			return t, 0, budgetgate.Errorf(budgetgate.EINVALID, "character range %c-%c is reversed", lo, hi)
		}
		t.ranges = append(t.ranges, lo, hi)
	}
	return t, 0, budgetgate.Errorf(budgetgate.EINVALID, "unclosed character class")
}

func decodeClassRune(s string) (rune, int) {
	if s[0] == '\\' && len(s) > 1 {
		r, n := firstRune(s[1:])
		return r, n + 1
	}
	return firstRune(s)
}

func firstRune(s string) (rune, int) {
	if s == "" {
		return 0, 1
	}
	// An invalid byte (git allows any in a file name) is one RuneError of
	// width 1: len(string(RuneError)) would be 3 and step past the end.
	return utf8.DecodeRuneInString(s)
}

// HasVariant reports whether the pattern has a {variant} placeholder.
func (g *Glob) HasVariant() bool { return g.hasVariant }

// String returns the pattern as written.
func (g *Glob) String() string { return g.Text }

// Match reports whether the file at p (slash-separated, relative to the
// root) matches, itself or through a directory above it, and the variant
// name captured, if the pattern has one.
func (g *Glob) Match(p string) (variant string, ok bool) {
	return g.match(p, false)
}

// MatchDir is Match for a directory: a directory-only pattern can match it
// itself.
func (g *Glob) MatchDir(p string) (variant string, ok bool) {
	return g.match(p, true)
}

func (g *Glob) match(p string, isDir bool) (string, bool) {
	var variant string
	ok := matchSegs(g.segs, p, g.dirOnly && !isDir, &variant)
	return variant, ok
}

// matchSegs matches segs against the rest of a path. Once the pattern is
// used up, it matched either the whole path or a directory above it; a
// directory-only pattern on a file needs the latter. variant is set on success.
func matchSegs(segs []globSeg, p string, needDir bool, variant *string) bool {
	if len(segs) == 0 {
		if p == "" {
			return !needDir
		}
		return true
	}
	if p == "" {
		return false
	}
	seg := segs[0]
	if seg.kind == segDoubleStar {
		if len(segs) == 1 {
			// A trailing "**" matches everything inside, not the directory itself:
			// p is non-empty here, so there is something inside.
			return true
		}
		for rest := p; ; {
			if matchSegs(segs[1:], rest, needDir, variant) {
				return true
			}
			i := strings.IndexByte(rest, '/')
			if i < 0 {
				return false
			}
			rest = rest[i+1:]
		}
	}
	name, rest := p, ""
	if i := strings.IndexByte(p, '/'); i >= 0 {
		name, rest = p[:i], p[i+1:]
	}
	var v string
	switch seg.kind {
	case segLiteral:
		if name != seg.lit {
			return false
		}
	case segSuffix:
		if !strings.HasSuffix(name, seg.lit) {
			return false
		}
	case segStar:
	default:
		var ok bool
		if v, ok = matchToks(seg.toks, name); !ok {
			return false
		}
	}
	if !matchSegs(segs[1:], rest, needDir, variant) {
		return false
	}
	if v != "" {
		*variant = v
	}
	return true
}

// matchToks matches one segment. "*" is greedy and {variant} takes the
// shortest name that works, so "*_{variant}.go" on "a_b_truck.go" names "truck".
func matchToks(toks []globTok, s string) (string, bool) {
	if len(toks) == 0 {
		return "", s == ""
	}
	t := toks[0]
	switch t.kind {
	case tokLiteral:
		if !strings.HasPrefix(s, t.lit) {
			return "", false
		}
		return matchToks(toks[1:], s[len(t.lit):])
	case tokAny, tokClass:
		if s == "" {
			return "", false
		}
		r, n := firstRune(s)
		if t.kind == tokClass && !t.matchRune(r) {
			return "", false
		}
		return matchToks(toks[1:], s[n:])
	case tokStar:
		for i := len(s); i >= 0; i-- {
			if v, ok := matchToks(toks[1:], s[i:]); ok {
				return v, true
			}
		}
		return "", false
	default: // tokVariant
		for i := 1; i <= len(s); i++ {
			if _, ok := matchToks(toks[1:], s[i:]); ok {
				return s[:i], true
			}
		}
		return "", false
	}
}

func (t globTok) matchRune(r rune) bool {
	in := false
	for i := 0; i+1 < len(t.ranges); i += 2 {
		if t.ranges[i] <= r && r <= t.ranges[i+1] {
			in = true
			break
		}
	}
	return in != t.negate
}
