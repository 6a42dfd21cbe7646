package variant

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
)

// refMatch is the obvious recursive matcher (exponential at worst), the
// reference the linear matcher is held to: it tries "**" on as few names as
// it can first, "*" on as many bytes, {variant} on as few, and the first
// success names the variant.
func refMatch(g *Glob, p string, isDir bool) (string, bool) {
	var variant string
	ok := refSegs(g.segs, p, g.dirOnly && !isDir, &variant)
	return variant, ok
}

func refSegs(segs []globSeg, p string, needDir bool, variant *string) bool {
	if len(segs) == 0 {
		return p != "" || !needDir
	}
	if p == "" {
		return false
	}
	if segs[0].kind == segDoubleStar {
		if len(segs) == 1 {
			return true
		}
		for rest := p; ; {
			if refSegs(segs[1:], rest, needDir, variant) {
				return true
			}
			i := strings.IndexByte(rest, '/')
			if i < 0 {
				return false
			}
			rest = rest[i+1:]
		}
	}
	name, rest, _ := strings.Cut(p, "/")
	toks := segs[0].toks
	switch segs[0].kind {
	case segLiteral:
		toks = []globTok{{kind: tokLiteral, lit: segs[0].lit}}
	case segSuffix:
		toks = []globTok{{kind: tokStar}, {kind: tokLiteral, lit: segs[0].lit}}
	case segStar:
		toks = []globTok{{kind: tokStar}}
	}
	v, ok := refToks(toks, name)
	if !ok || !refSegs(segs[1:], rest, needDir, variant) {
		return false
	}
	if v != "" {
		*variant = v
	}
	return true
}

func refToks(toks []globTok, s string) (string, bool) {
	if len(toks) == 0 {
		return "", s == ""
	}
	t := toks[0]
	switch t.kind {
	case tokLiteral:
		if !strings.HasPrefix(s, t.lit) {
			return "", false
		}
		return refToks(toks[1:], s[len(t.lit):])
	case tokAny, tokClass:
		if s == "" {
			return "", false
		}
		r, n := firstRune(s)
		if t.kind == tokClass && !t.matchRune(r) {
			return "", false
		}
		return refToks(toks[1:], s[n:])
	case tokStar:
		for i := len(s); i >= 0; i-- {
			if v, ok := refToks(toks[1:], s[i:]); ok {
				return v, true
			}
		}
		return "", false
	default:
		for i := 1; i <= len(s); i++ {
			if _, ok := refToks(toks[1:], s[i:]); ok {
				return s[:i], true
			}
		}
		return "", false
	}
}

// randomPattern and randomPath draw from a small alphabet so that matches
// are frequent and every kind of token meets every other.
func randomPattern(r *rand.Rand) string {
	pieces := []string{"a", "b", "ab", "*", "*", "?", "**", "/", "/", "[ab]", "[!a]", "{variant}", "é", "."}
	var b strings.Builder
	if r.Intn(4) == 0 {
		b.WriteString("/")
	}
	for n := 1 + r.Intn(8); n > 0; n-- {
		b.WriteString(pieces[r.Intn(len(pieces))])
	}
	if r.Intn(4) == 0 {
		b.WriteString("/")
	}
	return b.String()
}

func randomPath(r *rand.Rand) string {
	pieces := []string{"a", "b", "a", "b", "/", "/", "ab", "é", ".", "\xff"}
	var b strings.Builder
	for n := r.Intn(12); n > 0; n-- {
		b.WriteString(pieces[r.Intn(len(pieces))])
	}
	return b.String()
}

func TestGlobMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	compiled, matched, named := 0, 0, 0
	for i := 0; i < 20000; i++ {
		pattern := randomPattern(r)
		g, err := CompileGlob(pattern)
		if err != nil {
			continue
		}
		compiled++
		for k := 0; k < 20; k++ {
			p := randomPath(r)
			for _, isDir := range []bool{false, true} {
				wantV, wantOK := refMatch(g, p, isDir)
				gotV, gotOK := g.match(p, isDir)
				if gotV != wantV || gotOK != wantOK {
					t.Fatalf("%q on %q (dir %v): got %q, %v; reference %q, %v", pattern, p, isDir, gotV, gotOK, wantV, wantOK)
				}
				if gotOK {
					matched++
				}
				if gotV != "" {
					named++
				}
			}
		}
	}
	// The generator must keep exercising the matcher: many patterns, many
	// matches, many variants named.
	if compiled < 5000 || matched < 10000 || named < 1000 {
		t.Fatalf("%d patterns compiled, %d matches, %d variants named", compiled, matched, named)
	}
	t.Logf("%d patterns compiled, %d matches, %d variants named", compiled, matched, named)
}

// FuzzGlobMatch holds the matcher to the reference where the reference is
// quick enough to run (few stars), and to finishing everywhere else.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"**/*_{variant}.go", "pkg/a_b_truck.go"}, {"*a*a*b", "aaaaaaaa"}, {"**/a/**/x", "a/a/a/x"},
		{"vendor/", "src/vendor/a"}, {"[!a]?{variant}*", "bxyz"}, {"a/**", "a/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		g, err := CompileGlob(pattern)
		if err != nil {
			return
		}
		for _, isDir := range []bool{false, true} {
			gotV, gotOK := g.match(path, isDir)
			if strings.Count(pattern, "*") > 4 || len(path) > 64 {
				continue
			}
			if wantV, wantOK := refMatch(g, path, isDir); gotV != wantV || gotOK != wantOK {
				t.Fatalf("%q on %q (dir %v): got %q, %v; reference %q, %v", pattern, path, isDir, gotV, gotOK, wantV, wantOK)
			}
		}
	})
}

// pathologicalGlobs are patterns on which a backtracking matcher takes time
// exponential (or a high power) in the path's length, on paths of about n
// bytes; the "long" ones grow the pattern to about size bytes.
func pathologicalGlobs(n, size int) []struct{ name, pattern, path string } {
	return []struct{ name, pattern, path string }{
		{"stars", "*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", n)},
		{"variant", "*a*a*a*a*a{variant}a*a*a*a*b", strings.Repeat("a", n)},
		{"doublestars", "**/a/**/a/**/a/**/a/**/a/**/a/**/x", strings.Repeat("a/", n) + "y"},
		{"long-stars", strings.Repeat("*a", size/2-1) + "b", strings.Repeat("a", n)},
		{"long-doublestars", strings.Repeat("**/a/", size/5-1) + "x", strings.Repeat("a/", n) + "y"},
	}
}

// TestGlobPathologicalIsFast fails, rather than hangs, if matching goes back
// to backtracking: the matches run in a child process (the test binary
// itself), which is killed when it passes a bound a hundred thousand times
// what linear matching takes, so nothing is left spinning.
func TestGlobPathologicalIsFast(t *testing.T) {
	if os.Getenv("BUDGETGATE_GLOB_CHILD") == "1" {
		for _, c := range pathologicalGlobs(200, MaxGlobLen) {
			if _, ok := MustCompileGlob(c.pattern).Match(c.path); ok {
				t.Errorf("%s: %q matches %q", c.name, c.pattern, c.path)
			}
		}
		return
	}
	const bound = 60 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestGlobPathologicalIsFast$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BUDGETGATE_GLOB_CHILD=1")
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the pathological patterns took over %s", bound)
	case err != nil:
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestGlobPatternLength: a pattern is refused past MaxGlobLen bytes, with
// an error that names the field and does not repeat the pattern; up to it,
// matching uses memory linear in the path, not the pattern times the path.
func TestGlobPatternLength(t *testing.T) {
	if _, err := CompileGlob(strings.Repeat("a", MaxGlobLen)); err != nil {
		t.Errorf("a pattern of %d bytes: %v", MaxGlobLen, err)
	}
	huge := strings.Repeat("*a", 200_000)
	_, err := ParseVariantPolicy(".budgetgate.yaml", []byte("project: x\nbaseline: main\ndimensions:\n  vehicle:\n    variants: [\"vehicles/{variant}/"+huge+
		"\"]\nvehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, metrics: [lines_of_code]}\n"))
	if msg := budgetgate.ErrorMessage(err); err == nil || !strings.Contains(msg, "vehicle.variants") || !strings.Contains(msg, "at most 1024") || len(msg) > 200 {
		t.Errorf("a pattern of %d bytes: %v", len(huge), err)
	}
	name := strings.Repeat("a", 250)
	for _, c := range []struct{ name, pattern, path string }{
		{"one segment", strings.Repeat("*a", MaxGlobLen/2-1) + "b", name},
		{"many segments", strings.Repeat("**/a/", MaxGlobLen/5-1) + "x", strings.Repeat("a/", 250) + "y"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := MustCompileGlob(c.pattern)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			g.Match(c.path)
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 16<<10 {
				t.Errorf("one match of a %d-byte pattern on a %d-byte path allocates %d bytes", len(c.pattern), len(c.path), n)
			}
		})
	}
}

// BenchmarkGlobPathological: the time per match grows linearly with the
// path (double the path, double the time), see docs/PERFORMANCE.md.
func BenchmarkGlobPathological(b *testing.B) {
	for _, n := range []int{64, 128, 256} {
		for _, c := range pathologicalGlobs(n, 64)[:3] {
			g := MustCompileGlob(c.pattern)
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					g.Match(c.path)
				}
			})
		}
	}
}

// BenchmarkGlobLongPattern: on a path of 250 bytes, the time per match grows
// linearly with the pattern, up to the longest allowed.
func BenchmarkGlobLongPattern(b *testing.B) {
	for _, size := range []int{MaxGlobLen / 4, MaxGlobLen / 2, MaxGlobLen} {
		for _, c := range pathologicalGlobs(250, size)[3:] {
			g := MustCompileGlob(c.pattern)
			b.Run(fmt.Sprintf("%s/%d", c.name, size), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					g.Match(c.path)
				}
			})
		}
	}
}
