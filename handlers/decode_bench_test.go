package handlers

import (
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/loadtest"
)

func BenchmarkDecodeSLI1000(b *testing.B) {
	body := loadtest.SLIBatch(fuzzNow.Add(-time.Hour), 1000)
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if _, err := DecodeSLI(body, fuzzNow, errorbudget.DefaultRetention); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSLIStrict1000 is the strict decoder on the same batch: what
// a body that leaves the fast path (escapes, an unusual number) costs.
func BenchmarkDecodeSLIStrict1000(b *testing.B) {
	body := loadtest.SLIBatch(fuzzNow.Add(-time.Hour), 1000)
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if _, err := decodeSLIStrict(body, fuzzNow, errorbudget.DefaultRetention); err != nil {
			b.Fatal(err)
		}
	}
}
