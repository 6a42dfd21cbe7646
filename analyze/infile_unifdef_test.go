package analyze

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate/variant"
)

// productLineTree is C and C++ code of a product line whose variants are
// MICROPY_PY_{variant} and CONFIG_{variant} macros, in the shapes real
// trees use: nested, #elif chains, #else, compound conditions, values.
var productLineTree = map[string]string{
	"py/modssl.c": `#include <stdio.h>
int init(void) { return 0; }
#if MICROPY_PY_SSL
static int ssl_read(int n) {
    if (n > 0) {
        return n;
    }
    return 0;
}
#if MICROPY_PY_SSL_FINALISER
static void ssl_del(void) {}
#endif
#elif MICROPY_PY_CRYPTO
int crypto_only;
#else
int no_ssl;
#endif
#if defined(CONFIG_CAN) || defined(CONFIG_USB)
int bus_poll(void) { return 1; }
#endif
#if defined(CONFIG_CAN) && defined(CONFIG_USB)
int can_over_usb;
#endif
#if HAVE_STDINT || 1
int always;
#endif
#if 0
int never;
#endif
`,
	"drivers/bus.cpp": `// The bus drivers.
class Bus {
public:
#ifdef CONFIG_CAN
    int can() { return 1; }
#ifndef CONFIG_USB
    int can_alone() { return 2; }
#else
    int can_with_usb() { return 3; }
#endif
#endif
#if !defined(CONFIG_USB) && defined(HAVE_GPIO)
    int gpio() { return 4; }
#endif
};
/*
#ifdef CONFIG_CAN
int commented_out;
#endif
*/
const char *s = "/* #ifdef CONFIG_CAN";
#if CONFIG_USB == 0
int usb_off;
#endif
`,
	"include/board.h": `#ifndef BOARD_H
#define BOARD_H
#ifdef CONFIG_USB
#define USB_EP 4
#elif defined(CONFIG_CAN)
#define CAN_RX 2
#endif
#if MICROPY_PY_SSL >= 1
#define SSL_BUF 512
#endif
#endif
`,
}

const productLinePolicy = `project: pl
dimensions:
  feature:
    conditions: ["MICROPY_PY_{variant}", "CONFIG_{variant}"]
feature_budget: {hard_limit: 100, soft_limit: 100, metrics: [lines_of_code]}
`

// TestInFileAgreesWithUnifdef builds a product-line tree and, for each
// variant, runs unifdef -U with the macros that name it: the lines it
// removes (beyond what it removes with nothing undefined) are the lines the
// analysis gives the variant.
func TestInFileAgreesWithUnifdef(t *testing.T) {
	bin, err := exec.LookPath("unifdef")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("unifdef is not installed (apt-get install unifdef)")
		}
		t.Skip("unifdef is not installed")
	}
	r := newRepo(t)
	r.write(PolicyFile, productLinePolicy)
	for p, c := range productLineTree {
		r.write(p, c)
	}
	r.commit("product line")
	a := run(t, Options{Dir: r.dir, NoCache: true, BaselineSet: true}).Analysis
	d := dimension(t, a, "feature")
	macros := map[string][]string{ // variant -> its macros in the tree
		"SSL": {"MICROPY_PY_SSL"}, "SSL_FINALISER": {"MICROPY_PY_SSL_FINALISER"}, "CRYPTO": {"MICROPY_PY_CRYPTO"},
		"CAN": {"CONFIG_CAN"}, "USB": {"CONFIG_USB"},
	}
	for path, src := range productLineTree {
		base := unifdefLines(t, bin, src, nil)
		for v, ms := range macros {
			t.Run(path+"/"+v, func(t *testing.T) {
				want := map[int]bool{}
				for l := range unifdefLines(t, bin, src, ms) {
					if !base[l] {
						want[l] = true
					}
				}
				got := map[int]bool{}
				lines := strings.Split(src, "\n")
				for _, c := range d.InFile {
					if c.Path != path || !slices.Contains(c.Variants, v) {
						continue
					}
					for _, b := range c.Blocks {
						for l := b.StartLine; l <= b.EndLine; l++ {
							if strings.TrimSpace(lines[l-1]) != "" {
								got[l] = true
							}
						}
					}
				}
				for l := 1; l <= len(lines); l++ {
					if want[l] != got[l] {
						t.Errorf("line %d %q: unifdef -U%v removes it: %v; the analysis gives it to %s: %v", l, lines[l-1], ms, want[l], v, got[l])
					}
				}
			})
		}
	}
	// The variants are what the macros name, the whole rest of the name.
	var names []string
	for _, v := range d.Variants {
		names = append(names, v.Name)
	}
	if !slices.Equal(names, []string{"CAN", "CRYPTO", "SSL", "SSL_FINALISER", "USB"}) {
		t.Errorf("variants %v", names)
	}
	// bus_poll (lines 18-20) is CAN's or USB's: the dimension's share, no
	// one's alone.
	shared := slices.ContainsFunc(d.InFile, func(c variant.SharedFileCode) bool {
		return c.Path == "py/modssl.c" && len(c.Variants) == 0 &&
			slices.Contains(c.Blocks, variant.CodeLocation{StartLine: 17, EndLine: 20})
	})
	if !shared {
		t.Errorf("no shared code for #if defined(CONFIG_CAN) || defined(CONFIG_USB): %+v", d.InFile)
	}
}

// unifdefLines runs unifdef -l -U<each macro> on src and returns the
// non-blank lines (1-based) it removed.
func unifdefLines(t *testing.T, bin, src string, macros []string) map[int]bool {
	t.Helper()
	file := filepath.Join(t.TempDir(), "in.c")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-l"}
	for _, m := range macros {
		args = append(args, "-U"+m)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, file)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) || stderr.Len() > 0 {
		t.Fatalf("unifdef %v: %v %s", args, err, stderr.Bytes())
	}
	in, got := strings.Split(src, "\n"), strings.Split(string(out), "\n")
	removed := map[int]bool{}
	for i := range in {
		if strings.TrimSpace(in[i]) != "" && i < len(got) && strings.TrimSpace(got[i]) == "" {
			removed[i+1] = true
		}
	}
	return removed
}
