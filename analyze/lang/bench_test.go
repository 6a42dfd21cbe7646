package lang

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The benchmarks measure the counters on Go's own source tree. The first set
// loads the .go files in memory and sets the counters beside bytes.Count
// newline counting on the same bytes (compare their MB/s). BenchmarkRead
// reads the whole tree from disk each time, as the analyzer does, and
// reports the measuring pass as a multiple of the read floor (reading every
// file and counting its newlines with the same parallelism), the ratio
// docs/PERFORMANCE.md sets targets for. Run them with
//
//	go test -run '^$' -bench . ./analyze/lang/

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

// BenchmarkMeasureGoSource measures lines and complexity, the pair
// docs/PERFORMANCE.md holds within 1.5x of the floor (with file reading included).
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

// BenchmarkRead reads every file under GOROOT/src with one worker per CPU,
// twice per iteration: the floor counts newlines, the measuring pass detects
// the language, skips binary files and measures the rest (lines alone for
// prose and data). It reports both times and their ratio, x-floor.
func BenchmarkRead(b *testing.B) {
	root := filepath.Join(gorootB(b), "src")
	var paths []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, path)
		}
		return nil
	})
	for _, mode := range []struct {
		name string
		want Want
	}{
		{"LinesComplexity", WantLines | WantComplexity},
		{"All", WantAll},
	} {
		b.Run(mode.name, func(b *testing.B) {
			floor := func(path string, src []byte) int { return bytes.Count(src, nl) }
			measure := func(path string, src []byte) int {
				head := src[:min(len(src), 8000)]
				l := Detect(path, head)
				if l == nil || IsBinary(head) {
					return 0
				}
				want := mode.want
				if !l.IsCode() {
					want = WantLines
				}
				return Measure(l, src, strings.HasSuffix(path, "_test.go"), want).Code
			}
			readAll(paths, floor) // warm the page cache
			var floorTime, measureTime time.Duration
			for b.Loop() {
				start := time.Now()
				readAll(paths, floor)
				floorTime += time.Since(start)
				start = time.Now()
				readAll(paths, measure)
				measureTime += time.Since(start)
			}
			b.ReportMetric(float64(floorTime.Milliseconds())/float64(b.N), "floor-ms/op")
			b.ReportMetric(float64(measureTime.Milliseconds())/float64(b.N), "measure-ms/op")
			b.ReportMetric(float64(measureTime)/float64(floorTime), "x-floor")
		})
	}
}

// readAll reads paths with one worker per CPU and calls f on each file.
// Each worker reads into one buffer that it reuses, as an analyzer would, so
// that garbage collection does not weigh on either pass.
func readAll(paths []string, f func(path string, src []byte) int) int {
	work := make(chan string, 256)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum := 0
			var buf []byte
			for path := range work {
				var err error
				if buf, err = readInto(buf, path); err == nil {
					sum += f(path, buf)
				}
			}
			mu.Lock()
			total += sum
			mu.Unlock()
		}()
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	return total
}

// readInto reads the file at path into buf, growing it as needed.
func readInto(buf []byte, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return buf, err
	}
	size := int(fi.Size()) + 1 // one more byte to see the end
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:0]
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil || n == 0 {
			return buf, nil
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // the file grew: make room
		}
	}
}
