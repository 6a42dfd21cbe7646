package ifdef

import (
	"strings"
	"testing"
)

// FuzzScan feeds arbitrary sources to Scan and Removed: no panic, removed
// ranges inside the file and in order, and every condition that parses
// evaluates.
func FuzzScan(f *testing.F) {
	for _, src := range handCases {
		f.Add([]byte(src))
	}
	for _, s := range []string{
		"#if\n#endif\n", "#if (A\n#endif\n", "#elif\n", "#endif\n", "#if A\n", "#ifdef\n#endif\n",
		"#if __has_include(<a/b.h>) && defined(CONFIG_X)\n#endif\n", "#if A ? B : C\n#endif\n",
		"#if defined(A) \\\n || CONFIG_X\nx\n#endif\n", "/*\n#if\n*/\n", "#if ((((((((A))))))))\n#endif\n",
		"#if L'a' == u8\"x\"\n#endif\n", "#if 1.5e+3 > 0x1p-2\n#endif",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Scan(src)
		if err != nil {
			if !strings.Contains(err.Error(), "line ") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		_ = file.Check(src, func(string) bool { return true })
		for _, all := range []bool{false, true} {
			last := -1
			file.Removed(func(n string) bool { return all || strings.HasPrefix(n, "CONFIG_") }, func(from, to int) {
				if from <= last || to < from || to >= max(file.Lines, 1)+1 {
					t.Fatalf("range [%d, %d] after %d in %d lines", from, to, last, file.Lines)
				}
				last = to
			})
		}
	})
}

// FuzzParseExpr holds the condition parser to never panicking, and to
// parsing again what it accepted once.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"defined(A) || !B", "A == 1 && (B < 2)", "A ? B : C", "F(1, (2)) + 3", "((A)", "", "!", "defined"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseExpr([]byte(s))
		if err != nil {
			return
		}
		_ = e.eval(func(n string) bool { return len(n)%2 == 0 })
	})
}
