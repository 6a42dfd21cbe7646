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

// MaxGlobLen is the longest pattern CompileGlob takes, in bytes: matching
// costs the pattern's length times the path's, and a real pattern is a few
// dozen bytes.
const MaxGlobLen = 1024

// CompileGlob compiles a pattern; errors are budgetgate.EINVALID *Error.
func CompileGlob(pattern string) (*Glob, error) {
	if len(pattern) > MaxGlobLen {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "pattern of %d bytes: at most %d are allowed", len(pattern), MaxGlobLen)
	}
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

// The matcher is linear in pattern and path length (their product at worst):
// it never backtracks. Both levels, segments against path names and tokens
// against the bytes of one name, are solved by a table of "the rest of the
// pattern from here matches the rest of the input from there", filled from
// the end. Where a pattern has {variant}, the capture is read by walking that
// table from the start, taking at each choice what a backtracking matcher
// would have tried first: "**" as few names as it can, "*" as many bytes as it
// can, {variant} as few. So "*_{variant}.go" on "a_b_truck.go" names "truck".
func (g *Glob) match(p string, isDir bool) (string, bool) {
	var nameBuf [32]string
	names := splitNames(p, nameBuf[:0])
	m, n := len(g.segs), len(names)
	// The names before the first "**" have one place each: most paths fail
	// there, before any table is built.
	fixed := 0
	for fixed < m && g.segs[fixed].kind != segDoubleStar {
		if fixed >= n || !g.segs[fixed].matchName(names[fixed]) {
			return "", false
		}
		fixed++
	}
	// With no "**" but perhaps a trailing one, that is the whole answer.
	if fixed >= m-1 {
		if fixed == m && n == m && g.dirOnly && !isDir || fixed == m-1 && n == fixed {
			return "", false
		}
		return g.fixedVariant(names[:fixed]), true
	}
	// Each row of the table needs only the next one: without a capture to
	// read, two rows do, and memory stays linear in the path's length.
	var tableBuf [256]bool
	if !g.hasVariant {
		rows := boolTable(tableBuf[:0], 2*(n+1))
		cur, next := rows[:n+1], rows[n+1:]
		g.lastRow(next, isDir)
		for i := m - 1; i >= 0; i-- {
			clear(cur)
			g.segRow(i, names, cur, next)
			cur, next = next, cur
		}
		return "", next[0]
	}
	ok := boolTable(tableBuf[:0], (m+1)*(n+1))
	row := func(i int) []bool { return ok[i*(n+1) : (i+1)*(n+1)] }
	g.lastRow(row(m), isDir)
	for i := m - 1; i >= 0; i-- {
		g.segRow(i, names, row(i), row(i+1))
	}
	if !ok[0] {
		return "", false
	}
	for i, j := 0, 0; i < m && j < n; i++ {
		seg := &g.segs[i]
		if seg.kind == segDoubleStar {
			next := row(i + 1)
			for i+1 < m && !next[j] {
				j++
			}
			continue
		}
		if v := seg.variant(names[j]); v != "" {
			return v, true
		}
		j++
	}
	return "", true
}

// lastRow fills the table's row past the pattern's end: once the pattern is
// used up it matched the whole path, or a directory above it; a
// directory-only pattern on a file needs the latter.
func (g *Glob) lastRow(last []bool, isDir bool) {
	n := len(last) - 1
	for j := range last {
		last[j] = j < n || !(g.dirOnly && !isDir)
	}
}

// segRow fills row i of the table (segs[i:] matches names[j:]) from row
// i+1, next; cur starts all false.
func (g *Glob) segRow(i int, names []string, cur, next []bool) {
	n := len(names)
	// Only ok[0][0] is needed of the first row.
	hi := n
	if i == 0 {
		hi = 0
	}
	seg := &g.segs[i]
	if seg.kind == segDoubleStar {
		// "**" consumes zero or more names but leaves at least one: a
		// trailing "**" matches everything inside, not the directory itself.
		any := false
		for j := n - 1; j >= 0; j-- {
			any = any || i == len(g.segs)-1 || next[j]
			if j <= hi {
				cur[j] = any
			}
		}
		return
	}
	for j := 0; j <= hi && j < n; j++ {
		cur[j] = next[j+1] && seg.matchName(names[j])
	}
}

// fixedVariant is the variant named by a pattern whose segments matched
// names one to one.
func (g *Glob) fixedVariant(names []string) string {
	if g.hasVariant {
		for i, name := range names {
			if v := g.segs[i].variant(name); v != "" {
				return v
			}
		}
	}
	return ""
}

// splitNames splits a slash-separated path into its names; a trailing slash
// ends the path rather than starting an empty name.
func splitNames(p string, out []string) []string {
	for p != "" {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(out, p)
		}
		out = append(out, p[:i])
		p = p[i+1:]
	}
	return out
}

// boolTable returns n false values, in buf where it is large enough.
func boolTable(buf []bool, n int) []bool {
	if n <= cap(buf) {
		return buf[:n]
	}
	return make([]bool, n)
}

// matchName reports whether one path name matches the segment.
func (seg *globSeg) matchName(name string) bool {
	switch seg.kind {
	case segLiteral:
		return name == seg.lit
	case segSuffix:
		return strings.HasSuffix(name, seg.lit)
	case segStar:
		return true
	}
	return tokMatch(seg.toks, name)
}

// variant returns the name {variant} captures in a segment known to match.
func (seg *globSeg) variant(name string) string {
	if seg.kind != segPattern {
		return ""
	}
	var buf [256]bool
	can := tokTable(seg.toks, name, buf[:0])
	l := len(name) + 1
	i := 0
	for t, tok := range seg.toks {
		next := can[(t+1)*l : (t+2)*l]
		switch tok.kind {
		case tokLiteral:
			i += len(tok.lit)
		case tokAny, tokClass:
			_, w := firstRune(name[i:])
			i += w
		case tokStar:
			k := len(name)
			for !next[k] {
				k--
			}
			i = k
		case tokVariant:
			k := i + 1
			for !next[k] {
				k++
			}
			return name[i:k]
		}
	}
	return ""
}

// tokTable fills, for tokens toks and a name s, the table whose entry
// [t*(len(s)+1)+i] says whether toks[t:] matches s[i:]: what reading the
// {variant} capture needs. Each token costs one pass over s (a literal,
// its length per position).
func tokTable(toks []globTok, s string, buf []bool) []bool {
	l := len(s) + 1
	can := boolTable(buf, (len(toks)+1)*l)
	can[len(toks)*l+len(s)] = true
	for t := len(toks) - 1; t >= 0; t-- {
		toks[t].row(s, can[t*l:(t+1)*l], can[(t+1)*l:(t+2)*l])
	}
	return can
}

// tokMatch tells whether toks match all of s, with two rows of tokTable's
// table: memory linear in the name's length, whatever the pattern's.
func tokMatch(toks []globTok, s string) bool {
	var buf [256]bool
	l := len(s) + 1
	rows := boolTable(buf[:0], 2*l)
	cur, next := rows[:l], rows[l:]
	next[len(s)] = true
	for t := len(toks) - 1; t >= 0; t-- {
		clear(cur)
		toks[t].row(s, cur, next)
		cur, next = next, cur
	}
	return next[0]
}

// row fills cur[i] (the token and those after it match s[i:]) from next,
// the same for the tokens after it; cur starts all false.
func (tok *globTok) row(s string, cur, next []bool) {
	switch tok.kind {
	case tokLiteral:
		for i := 0; i+len(tok.lit) <= len(s); i++ {
			cur[i] = next[i+len(tok.lit)] && s[i:i+len(tok.lit)] == tok.lit
		}
	case tokAny, tokClass:
		for i := 0; i < len(s); i++ {
			r, w := firstRune(s[i:])
			cur[i] = next[i+w] && (tok.kind == tokAny || tok.matchRune(r))
		}
	case tokStar:
		any := false
		for i := len(s); i >= 0; i-- {
			any = any || next[i]
			cur[i] = any
		}
	case tokVariant:
		// One byte or more.
		any := false
		for i := len(s) - 1; i >= 0; i-- {
			any = any || next[i+1]
			cur[i] = any
		}
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
