package lang

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The tests in this file hold the line counts against cloc, the reference
// line counter (docs/POLICY.md, Built-in metrics). They need the cloc program and skip
// without it.

// clocTolerance is the largest relative difference in code lines, per
// language, that docs/POLICY.md allows (Built-in metrics).
const clocTolerance = 0.01

// clocResult is cloc's count for one file.
type clocResult struct {
	Blank, Comment, Code int
	Language             string
}

// runCloc counts files with cloc, one result per file it recognised. Files
// cloc skips (unknown, or over its time limit) are absent.
func runCloc(t *testing.T, dir string, files []string) map[string]clocResult {
	t.Helper()
	list := filepath.Join(t.TempDir(), "files.txt")
	if err := os.WriteFile(list, []byte(strings.Join(files, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cloc", "--by-file", "--json", "--skip-uniqueness", "--list-file="+list)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cloc: %v: %s", err, stderr.Bytes())
	}
	// cloc gives up on files that make its regular expressions too slow and
	// reports them with no code; they are left out.
	timedOut := map[string]bool{}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "Line count, exceeded timeout:"); ok {
			timedOut[filepath.Clean(strings.TrimSpace(name))] = true
		}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("cloc output: %v", err)
	}
	res := make(map[string]clocResult, len(raw))
	for name, msg := range raw {
		if name == "header" || name == "SUM" {
			continue
		}
		var r clocResult
		if err := json.Unmarshal(msg, &r); err != nil {
			t.Fatalf("cloc output for %s: %v", name, err)
		}
		if !timedOut[filepath.Clean(name)] {
			res[filepath.Clean(name)] = r
		}
	}
	return res
}

func requireCloc(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("cloc comparison skipped in -short mode")
	}
	if _, err := exec.LookPath("cloc"); err != nil {
		t.Skip("cloc is not installed")
	}
}

func goroot(t *testing.T) string {
	t.Helper()
	dir, err := execGoEnvGOROOT()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return dir
}

func execGoEnvGOROOT() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	return strings.TrimSpace(string(out)), err
}

// sampleFiles walks root and returns, per language, a deterministic sample of
// its text files: every stride-th file in path order, where stride keeps each
// language at about max files.
func sampleFiles(t *testing.T, root string, max int) map[*Language][]string {
	t.Helper()
	all := map[*Language][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		head, err := readHead(path, 8000)
		if err != nil || IsBinary(head) {
			return nil
		}
		if l := Detect(path, head); l != nil {
			rel, _ := filepath.Rel(root, path)
			all[l] = append(all[l], rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sample := map[*Language][]string{}
	for l, files := range all {
		sort.Strings(files)
		stride := (len(files) + max - 1) / max
		for i := 0; i < len(files); i += stride {
			sample[l] = append(sample[l], files[i])
		}
	}
	return sample
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, _ := f.Read(buf)
	return buf[:m], nil
}

// fileDiff is one file where our count and cloc's differ.
type fileDiff struct {
	path       string
	ours, cloc int
}

// compareWithCloc measures files (relative to dir) and checks each language's
// code-line total against cloc's. It logs the files that differ most.
func compareWithCloc(t *testing.T, dir string, byLang map[*Language][]string) {
	t.Helper()
	var files []string
	for _, fs := range byLang {
		files = append(files, fs...)
	}
	sort.Strings(files)
	clocs := runCloc(t, dir, files)
	var langs []*Language
	for l := range byLang {
		langs = append(langs, l)
	}
	sort.Slice(langs, func(i, j int) bool { return langs[i].Name < langs[j].Name })
	for _, l := range langs {
		t.Run(l.Name, func(t *testing.T) {
			var ours, theirs, counted int
			var diffs []fileDiff
			for _, rel := range byLang[l] {
				r, ok := clocs[filepath.Clean(rel)]
				if !ok {
					continue // unknown to cloc, or over its time limit
				}
				src, err := os.ReadFile(filepath.Join(dir, rel))
				if err != nil {
					t.Fatal(err)
				}
				c := Measure(l, src, false, WantLines)
				if got := c.Lines(); got != r.Blank+r.Comment+r.Code {
					t.Errorf("%s: %d lines, cloc %d", rel, got, r.Blank+r.Comment+r.Code)
				}
				counted++
				ours += c.Code
				theirs += r.Code
				if c.Code != r.Code {
					diffs = append(diffs, fileDiff{rel, c.Code, r.Code})
				}
			}
			if counted == 0 {
				t.Skip("cloc counted none of the files")
			}
			sort.Slice(diffs, func(i, j int) bool {
				di, dj := abs(diffs[i].ours-diffs[i].cloc), abs(diffs[j].ours-diffs[j].cloc)
				if di != dj {
					return di > dj
				}
				return diffs[i].path < diffs[j].path
			})
			for i, d := range diffs {
				if i == 10 {
					t.Logf("... and %d more files that differ", len(diffs)-10)
					break
				}
				t.Logf("%s: code %d, cloc %d", d.path, d.ours, d.cloc)
			}
			rel := 0.0
			if theirs > 0 {
				rel = math.Abs(float64(ours-theirs)) / float64(theirs)
			}
			t.Logf("%d files: code %d, cloc %d (%.3f%%)", counted, ours, theirs, 100*rel)
			if rel > clocTolerance || theirs == 0 && ours != 0 {
				t.Errorf("code lines %d differ from cloc's %d by %.2f%%, over %.0f%%", ours, theirs, 100*rel, 100*clocTolerance)
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestClocGoroot compares code lines with cloc on a sample of Go's source
// tree: Go, assembly, C, shell and the other languages found there.
func TestClocGoroot(t *testing.T) {
	requireCloc(t)
	root := filepath.Join(goroot(t), "src")
	sample := sampleFiles(t, root, 400)
	var total int
	for _, fs := range sample {
		total += len(fs)
	}
	t.Logf("%d files sampled", total)
	compareWithCloc(t, root, sample)
}

// TestClocFixtures compares code lines with cloc on the hand-written files in
// testdata/cloc, which gather the cases where a counter that does not read
// strings goes wrong. Each file's expected difference from cloc is noted in
// clocKnownDiffs; every other file must agree exactly.
func TestClocFixtures(t *testing.T) {
	requireCloc(t)
	dir := filepath.Join("testdata", "cloc")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	clocs := runCloc(t, dir, files)
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			l := Detect(name, src)
			if l == nil {
				t.Fatalf("no language detected")
			}
			r, ok := clocs[name]
			if !ok {
				t.Fatalf("cloc did not count the file")
			}
			c := Measure(l, src, false, WantLines)
			want := r.Code + clocKnownDiffs[name]
			if c.Code != want {
				t.Errorf("code %d, want %d (cloc %d%s)", c.Code, want, r.Code, fmtDiff(clocKnownDiffs[name]))
			}
			if c.Lines() != r.Blank+r.Comment+r.Code {
				t.Errorf("%d lines, cloc %d", c.Lines(), r.Blank+r.Comment+r.Code)
			}
		})
	}
}

func fmtDiff(d int) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf(" %+d on purpose", d)
}

// clocKnownDiffs lists, per fixture, how many more code lines we count than
// cloc where cloc is wrong. cloc (with its default options) removes comments
// with regular expressions that do not know strings, so a comment marker in a
// string starts or ends a comment for it; and it does not nest comments.
// Every other fixture, Java, C and C++ among them, must agree exactly.
var clocKnownDiffs = map[string]int{
	// '/*.js' opens a comment for cloc that "lib/**/*.js" closes, taking the
	// url and glob lines; and the "// not a comment" line of the template
	// literal is a comment for cloc.
	"app.js": 3,
	// cloc drops every Python line containing /* or */ (it turns docstrings
	// into C comments and clears the way first), so GLOB = '**/*.txt' is a
	// comment for it.
	"docstrings.py": 1,
	// Rust comments nest: the two lines after the inner */ are still in the
	// comment; cloc counts them as code.
	"lib.rs": -2,
	// "/*" in a string opens a comment for cloc that only the */ of a later
	// block comment closes: 14 lines of code vanish.
	"store.ts": 14,
	// The "// not a comment" line is inside a raw string.
	"tricky.go": 1,
}
