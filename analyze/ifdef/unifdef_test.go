package ifdef

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needUnifdef returns the path of Debian's unifdef; a missing one skips the
// test, except under CI, where it fails.
func needUnifdef(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("unifdef")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("unifdef is not installed (apt-get install unifdef)")
		}
		t.Skip("unifdef is not installed")
	}
	return p
}

// unifdefRemoved runs unifdef -l -U<each macro> on src and returns the
// lines it removed (0-based): non-blank lines that came out blank.
func unifdefRemoved(t *testing.T, bin, dir string, src []byte, macros []string) map[int]bool {
	t.Helper()
	file := filepath.Join(dir, "in.c")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-l"}
	for _, m := range macros {
		args = append(args, "-U"+m)
	}
	cmd := exec.Command(bin, append(args, file)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// unifdef exits 1 when it changed the file: only 2 is trouble.
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) || stderr.Len() > 0 {
		t.Fatalf("unifdef %v: %v %s\n%s", args, err, stderr.Bytes(), src)
	}
	in := strings.Split(string(src), "\n")
	got := strings.Split(string(out), "\n")
	if len(got) != len(in) {
		t.Fatalf("unifdef -l gave %d lines for %d", len(got), len(in))
	}
	removed := map[int]bool{}
	for i := range in {
		if strings.TrimSpace(in[i]) != "" && strings.TrimSpace(got[i]) == "" {
			removed[i] = true
		}
	}
	return removed
}

func ourRemoved(t *testing.T, src []byte, macros []string) map[int]bool {
	t.Helper()
	f, err := Scan(src)
	if err != nil {
		t.Fatalf("Scan: %v\n%s", err, src)
	}
	undef := map[string]bool{}
	for _, m := range macros {
		undef[m] = true
	}
	removed := map[int]bool{}
	lines := strings.Split(string(src), "\n")
	f.Removed(func(n string) bool { return undef[n] }, func(from, to int) {
		for l := from; l <= to; l++ {
			if strings.TrimSpace(lines[l]) != "" {
				removed[l] = true
			}
		}
	})
	return removed
}

func compareRemoved(t *testing.T, src []byte, macros []string, want, got map[int]bool) {
	t.Helper()
	lines := strings.Split(string(src), "\n")
	var diffs []string
	for i := range lines {
		if want[i] != got[i] {
			diffs = append(diffs, fmt.Sprintf("line %d %q: unifdef removes %v, we %v", i+1, lines[i], want[i], got[i]))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("-U%v:\n%s\nin:\n%s", macros, strings.Join(diffs, "\n"), numbered(lines))
	}
}

func numbered(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "%3d %s\n", i+1, l)
	}
	return b.String()
}

// TestRemovedAgreesWithUnifdef holds Removed to unifdef -U on hand-written
// cases and on random nested conditionals.
func TestRemovedAgreesWithUnifdef(t *testing.T) {
	bin := needUnifdef(t)
	dir := t.TempDir()
	for name, src := range handCases {
		for _, macros := range [][]string{{"CONFIG_X"}, {"CONFIG_Y"}, {"CONFIG_X", "CONFIG_Y"}} {
			t.Run(name+"/"+strings.Join(macros, "+"), func(t *testing.T) {
				compareRemoved(t, []byte(src), macros, unifdefRemoved(t, bin, dir, []byte(src), macros), ourRemoved(t, []byte(src), macros))
			})
		}
	}
	r := rand.New(rand.NewSource(13))
	for i := 0; i < 300; i++ {
		g := &gen{r: r}
		g.block(0)
		src := []byte(g.b.String())
		macros := pickMacros(r)
		t.Run(fmt.Sprintf("random%d", i), func(t *testing.T) {
			compareRemoved(t, src, macros, unifdefRemoved(t, bin, dir, src, macros), ourRemoved(t, src, macros))
		})
	}
}

var handCases = map[string]string{
	"ifdef-else": "a;\n#ifdef CONFIG_X\nb;\n#else\nc;\n#endif\nd;\n",
	"ifndef":     "#ifndef CONFIG_X\nq;\n#else\nr;\n#endif\n",
	"or":         "#if defined(CONFIG_X) || defined(CONFIG_Y)\nc;\n#endif\n",
	"and":        "#if defined(CONFIG_X) && defined(CONFIG_Y)\nc;\n#endif\n",
	"elif-chain": "#if Z\ng;\n#elif defined(CONFIG_X)\nh;\n#elif W\ni;\n#else\nj;\n#endif\n",
	"elif-true":  "#if Z\ng;\n#elif !defined(CONFIG_X)\nh;\n#elif W\ni;\n#else\nj;\n#endif\n",
	"ifdef-elif": "#ifdef CONFIG_X\nk;\n#elif W\nl;\n#endif\n",
	"values":     "#if CONFIG_X\na;\n#endif\n#if CONFIG_X == 0\nb;\n#endif\n#if !CONFIG_X\nc;\n#endif\n#if 0x10 > CONFIG_X\nm;\n#endif\n",
	"constants":  "#if 0\na;\n#endif\n#if 1\nb;\n#else\nc;\n#endif\n#if CONFIG_X || 1\nd;\n#endif\n",
	"outside":    "#if CONFIG_X + 1 > 0\nd;\n#endif\n#if FOO(1) || defined(CONFIG_X)\nm;\n#endif\n#if (defined(CONFIG_X) ? Y : 0)\na;\n#endif\n#if CONFIG_X != 0L\nz;\n#endif\n",
	"nested":     "#if Z\n#if defined(CONFIG_X)\ns;\n#ifdef CONFIG_Y\nt;\n#else\nu;\n#endif\n#endif\n#endif\n#ifndef CONFIG_X\n#ifdef Y\naa;\n#endif\n#endif\n",
	"comments":   "  #  ifdef CONFIG_X /* c */\ne;\n# endif\n/*\n#ifdef CONFIG_X\ng;\n#endif\n*/\nconst char *s = \"/*\";\n#ifdef CONFIG_X\nh;\n#endif\n// #ifdef CONFIG_X\n",
	"spaces":     "#if defined ( CONFIG_X )\ny;\n#endif\n#if ((CONFIG_X))\nx;\n#endif\n#if !defined(CONFIG_X) && !defined(CONFIG_Y)\nw;\n#endif\n",
	"empty-else": "#ifdef CONFIG_X\n#else\nbb;\n#endif\n#ifdef Y\n#elif defined(CONFIG_X)\nn;\n#else\no;\n#endif\n",
}

var genMacros = []string{"CONFIG_X", "CONFIG_Y", "CONFIG_Z", "OTHER", "HAVE_W"}

func pickMacros(r *rand.Rand) []string {
	var out []string
	for _, m := range genMacros[:3] {
		if r.Intn(2) == 0 {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = []string{"CONFIG_X"}
	}
	return out
}

// gen writes random nested conditionals in the grammar unifdef reads.
type gen struct {
	r *rand.Rand
	b strings.Builder
	n int
}

func (g *gen) macro() string { return genMacros[g.r.Intn(len(genMacros))] }

func (g *gen) expr(depth int) string {
	switch k := g.r.Intn(10); {
	case depth > 2 || k < 3:
		switch g.r.Intn(6) {
		case 0:
			return g.macro()
		case 1:
			return "!" + g.macro()
		case 2:
			return fmt.Sprintf("%s == %d", g.macro(), g.r.Intn(2))
		case 3:
			return "!defined(" + g.macro() + ")"
		case 4:
			return fmt.Sprint(g.r.Intn(2))
		}
		return "defined(" + g.macro() + ")"
	case k < 6:
		return g.expr(depth+1) + " && " + g.expr(depth+1)
	case k < 9:
		return g.expr(depth+1) + " || " + g.expr(depth+1)
	}
	return "(" + g.expr(depth+1) + ")"
}

func (g *gen) code() {
	g.n++
	fmt.Fprintf(&g.b, "x%d;\n", g.n)
}

func (g *gen) block(depth int) {
	for i, n := 0, 1+g.r.Intn(4); i < n; i++ {
		if depth > 3 || g.r.Intn(3) > 0 {
			g.code()
			continue
		}
		switch g.r.Intn(4) {
		case 0:
			fmt.Fprintf(&g.b, "#ifdef %s\n", g.macro())
		case 1:
			fmt.Fprintf(&g.b, "#ifndef %s\n", g.macro())
		default:
			fmt.Fprintf(&g.b, "#if %s\n", g.expr(0))
		}
		g.block(depth + 1)
		for j := g.r.Intn(3); j > 0; j-- {
			fmt.Fprintf(&g.b, "#elif %s\n", g.expr(0))
			g.block(depth + 1)
		}
		if g.r.Intn(2) == 0 {
			g.b.WriteString("#else\n")
			g.block(depth + 1)
		}
		g.b.WriteString("#endif\n")
	}
}
