package db

import (
	"context"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// A puller resumes after the newest stored minute: zero counts included,
// since a minute in which nothing happened was still pulled.
func TestNewestPulledSLI(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		now := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
		d := openAt(t, b, now)
		testPolicy(t, d, "checkout", 99.9, "30d")
		testPolicy(t, d, "search", 99.9, "30d")
		ctx := context.Background()
		steps := []struct {
			name   string
			events []errorbudget.SLIEvent
			want   time.Time
		}{
			{"nothing stored", nil, time.Time{}},
			{"counts", []errorbudget.SLIEvent{{Time: now.Add(-3 * time.Minute), Good: 5, Total: 6}, {Time: now.Add(-2 * time.Minute), Good: 1, Total: 1}},
				now.Add(-2 * time.Minute)},
			{"a minute without events", []errorbudget.SLIEvent{{Time: now.Add(-time.Minute)}}, now.Add(-time.Minute)},
		}
		for _, st := range steps {
			if len(st.events) > 0 {
				if err := d.AddPulledSLI(ctx, "checkout", errorbudget.DefaultSLO, st.events); err != nil {
					t.Fatal(err)
				}
			}
			got, err := d.NewestSLI(ctx, "checkout", errorbudget.DefaultSLO)
			if err != nil || !got.Equal(st.want) {
				t.Errorf("%s: newest %s, %v; want %s", st.name, got, err, st.want)
			}
		}
		if got, err := d.NewestSLI(ctx, "search", errorbudget.DefaultSLO); err != nil || !got.IsZero() {
			t.Errorf("another service: newest %s, %v; want none", got, err)
		}
		m, _, err := d.ServiceMetrics(ctx, "checkout", now)
		if err != nil || m.TotalEvents != 7 || m.BadEvents != 1 {
			t.Errorf("figures %d events, %d bad, %v; want 7 and 1", m.TotalEvents, m.BadEvents, err)
		}
	})
}
