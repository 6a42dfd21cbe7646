package variant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAnalyzeContextStops: matching thousands of files against thousands of
// patterns takes seconds; a deadline cuts it within a few milliseconds of
// passing, in Analyze and in Recommend alike.
func TestAnalyzeContextStops(t *testing.T) {
	var b strings.Builder
	b.WriteString("project: slow\nexclude:\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "  - \"**/a*a*a*a*a*a*a*a*b%d/**\"\n", i)
	}
	b.WriteString("dimensions: {vehicle: {variants: [\"vehicles/{variant}/**\"]}}\n")
	b.WriteString("vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, metrics: [lines_of_code]}\n")
	p, err := ParseVariantPolicy(".budgetgate.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	in := &AnalysisInput{}
	for i := 0; i < 5000; i++ {
		in.Files = append(in.Files, FileFacts{Path: fmt.Sprintf("vehicles/v%d/%s/%d.go", i%3, strings.Repeat("a", 40), i), Code: true, Lines: 10})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	a, err := p.AnalyzeContext(ctx, in)
	if !errors.Is(err, context.DeadlineExceeded) || a != nil {
		t.Fatalf("got %v, %v; want the deadline's error", a, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("cut after %v, with a 100ms deadline", took)
	}
	// Recommend, on an analysis made without a deadline of a few files.
	small := &AnalysisInput{Files: in.Files[:30]}
	full := p.Analyze(small)
	start = time.Now()
	full.RecommendContext(ctx, p, in, nil) // ctx is done: returns at once
	if took := time.Since(start); took > time.Second {
		t.Errorf("Recommend on a done context took %v", took)
	}
}
