package lang

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The benchmarks measure the counters on Go's own source tree, loaded in
// memory, beside the floor the specification sets them against: counting the
// newlines of the same bytes with bytes.Count. Run them with
//
//	go test -run '^$' -bench . ./analyze/lang/
//
// and compare the MB/s of each with BenchmarkFloorGoSource.

var (
	goSourceOnce  sync.Once
	goSourceFiles [][]byte
	goSourceBytes int64
)

// loadGoSource reads every .go file under GOROOT/src.
func loadGoSource(b *testing.B) [][]byte {
	b.Helper()
	goSourceOnce.Do(func() {
		root := filepath.Join(gorootB(b), "src")
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || !strings.HasSuffix(path, ".go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err == nil {
				goSourceFiles = append(goSourceFiles, src)
				goSourceBytes += int64(len(src))
			}
			return nil
		})
	})
	if len(goSourceFiles) == 0 {
		b.Skip("no Go source found under GOROOT")
	}
	return goSourceFiles
}

func gorootB(b *testing.B) string {
	out, err := execGoEnvGOROOT()
	if err != nil {
		b.Skipf("go env GOROOT: %v", err)
	}
	return out
}

func benchMeasure(b *testing.B, want Want) {
	files := loadGoSource(b)
	b.SetBytes(goSourceBytes)
	b.ResetTimer()
	var sink int
	for b.Loop() {
		for _, src := range files {
			c := Measure(langGo, src, false, want)
			sink += c.Code
		}
	}
	_ = sink
}

// BenchmarkFloorGoSource is the floor: newlines counted with bytes.Count.
func BenchmarkFloorGoSource(b *testing.B) {
	files := loadGoSource(b)
	b.SetBytes(goSourceBytes)
	b.ResetTimer()
	var sink int
	for b.Loop() {
		for _, src := range files {
			sink += bytes.Count(src, nl)
		}
	}
	_ = sink
}

// BenchmarkMeasureGoSource measures lines and complexity, the pair the
// specification holds within 1.5x of the floor (with file reading included).
func BenchmarkMeasureGoSource(b *testing.B) {
	benchMeasure(b, WantLines|WantComplexity)
}

// BenchmarkMeasureGoSourceLines measures lines alone.
func BenchmarkMeasureGoSourceLines(b *testing.B) {
	benchMeasure(b, WantLines)
}

// BenchmarkMeasureGoSourceAll measures every code metric, held within 2.5x.
func BenchmarkMeasureGoSourceAll(b *testing.B) {
	benchMeasure(b, WantAll)
}
