package analyze

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func goroot(b *testing.B) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip("go env GOROOT:", err)
	}
	return strings.TrimSpace(string(out))
}

// readFloor is what no analysis can beat: list the same tree, read every
// file and count its newlines, with the same parallelism.
func readFloor(b *testing.B, dir string) int {
	ctx := context.Background()
	w, err := NewWorkTree(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	entries, _, err := w.Files(ctx)
	if err != nil {
		b.Fatal(err)
	}
	counts := make([]int, len(entries))
	err = w.Read(ctx, entries, runtime.GOMAXPROCS(0), func(i int, data []byte) error {
		counts[i] = bytes.Count(data, []byte{'\n'})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	return total
}

// BenchmarkAnalyzeGoroot analyses $(go env GOROOT)/src as a working tree,
// without the cache, beside the read floor measured in the same iterations
// (interleaved, so that a noisy machine slows both alike). x-floor is the
// ratio docs/PERFORMANCE.md sets targets for: 1.5 for lines and complexity, 2.5 for all
// code metrics.
func BenchmarkAnalyzeGoroot(b *testing.B) {
	src := filepath.Join(goroot(b), "src")
	for _, bc := range []struct{ name, metrics string }{
		{"lines+complexity", "lines_of_code, cyclomatic_complexity"},
		{"all-code-metrics", "lines_of_code, cyclomatic_complexity, function_count, class_count"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			policy := filepath.Join(b.TempDir(), "policy.yaml")
			// Limits of 100 never fail, so that no recommendation pass runs:
			// this measures listing, reading and scanning.
			err := os.WriteFile(policy, []byte(fmt.Sprintf(`project: go
dimensions:
  platform:
    variants: ["**/*_{variant}.go"]
platform_budget: {hard_limit: 100, soft_limit: 100, metrics: [%s]}
`, bc.metrics)), 0o644)
			if err != nil {
				b.Fatal(err)
			}
			readFloor(b, src) // warm the page cache
			var floor, analysis time.Duration
			files := 0
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				readFloor(b, src)
				t1 := time.Now()
				res, err := Run(context.Background(), Options{Dir: src, PolicyPath: policy, NoCache: true, BaselineSet: true})
				if err != nil {
					b.Fatal(err)
				}
				floor += t1.Sub(t0)
				analysis += time.Since(t1)
				files = res.Stats.Files
			}
			n := float64(b.N)
			b.ReportMetric(float64(files), "files")
			b.ReportMetric(floor.Seconds()*1000/n, "floor-ms")
			b.ReportMetric(analysis.Seconds()*1000/n, "analyze-ms")
			b.ReportMetric(analysis.Seconds()/floor.Seconds(), "x-floor")
		})
	}
}

// BenchmarkChange20Files analyses a working tree of 5,000 files in which 20
// files changed since the last run, against a baseline branch whose every
// blob is in the cache. docs/PERFORMANCE.md sets the target: under 100 ms.
func BenchmarkChange20Files(b *testing.B) {
	r := newRepo(b)
	r.write(PolicyFile, repoPolicy)
	const nFiles = 5000
	path := func(i int) string {
		dir := "core"
		if i%10 == 0 {
			dir = fmt.Sprintf("vehicles/v%d", i%7)
		}
		return fmt.Sprintf("%s/pkg%d/f%d.go", dir, i%50, i)
	}
	for i := range nFiles {
		r.write(path(i), goFile(80+i%40, "x"))
	}
	r.commit("baseline")
	r.git("checkout", "-q", "-b", "change")
	// Files older than the racy window, as in a real checkout.
	old := time.Now().Add(-time.Hour)
	filepath.Walk(r.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	cache := filepath.Join(b.TempDir(), "cache")
	opts := Options{Dir: r.dir, Baseline: "main", BaselineSet: true, CachePath: cache}
	if _, err := Run(context.Background(), opts); err != nil { // fills the cache
		b.Fatal(err)
	}
	b.ResetTimer()
	iter := 0
	for b.Loop() {
		b.StopTimer()
		iter++
		stamp := time.Now().Add(-time.Minute)
		for k := range 20 {
			p := filepath.Join(r.dir, filepath.FromSlash(path(k*37+1)))
			os.WriteFile(p, []byte(goFile(90+iter%7, fmt.Sprintf("c%d_", iter))), 0o644)
			os.Chtimes(p, stamp, stamp)
		}
		b.StartTimer()
		res, err := Run(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if res.Stats.Measured != 20 {
			b.Fatalf("measured %d files, want the 20 changed", res.Stats.Measured)
		}
	}
}

// BenchmarkInFileOverhead sets what variants inside files cost beside the
// all-code-metrics analysis of $(go env GOROOT)/src, interleaved in the same
// iterations: build constraints on every Go file, conditions on the C files
// (every macro starting with _ names a variant, a heavy case), and the
// dependencies metric. x-all-metrics is the ratio the target of 1.3 is for.
func BenchmarkInFileOverhead(b *testing.B) {
	src := filepath.Join(goroot(b), "src")
	dir := b.TempDir()
	const code = "lines_of_code, cyclomatic_complexity, function_count, class_count"
	plain := filepath.Join(dir, "plain.yaml")
	inFile := filepath.Join(dir, "infile.yaml")
	for _, f := range []struct{ path, policy string }{
		{plain, fmt.Sprintf("project: go\ndimensions:\n  platform:\n    variants: [\"**/*_{variant}.go\"]\nplatform_budget: {hard_limit: 100, soft_limit: 100, metrics: [%s]}\n", code)},
		{inFile, fmt.Sprintf("project: go\ndimensions:\n  platform:\n    variants: [\"**/*_{variant}.go\"]\n    build_constraints: true\n"+
			"    conditions: [\"REG_{variant}\", \"TARGET_OS_{variant}\", \"_{variant}\"]\nplatform_budget: {hard_limit: 100, soft_limit: 100, metrics: [%s, dependencies]}\n", code)},
	} {
		if err := os.WriteFile(f.path, []byte(f.policy), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	readFloor(b, src) // warm the page cache
	analyse := func(policy string) time.Duration {
		t0 := time.Now()
		if _, err := Run(context.Background(), Options{Dir: src, PolicyPath: policy, NoCache: true, BaselineSet: true}); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	var base, with time.Duration
	b.ResetTimer()
	odd := false
	for b.Loop() {
		// Alternate which goes first, so that neither always finds the
		// other's warm caches.
		if odd {
			with += analyse(inFile)
			base += analyse(plain)
		} else {
			base += analyse(plain)
			with += analyse(inFile)
		}
		odd = !odd
	}
	n := float64(b.N)
	b.ReportMetric(base.Seconds()*1000/n, "all-metrics-ms")
	b.ReportMetric(with.Seconds()*1000/n, "with-infile-ms")
	b.ReportMetric(with.Seconds()/base.Seconds(), "x-all-metrics")
}
