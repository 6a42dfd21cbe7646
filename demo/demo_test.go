package demo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// The demo's services cover every budget status, each service once, and
// checkout shows several SLOs, its worst one deciding.
func TestSeedStatuses(t *testing.T) {
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Now = func() time.Time { return now }
	if err := Seed(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	all, err := d.AllMetrics(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]errorbudget.Status{
		"api-service": errorbudget.StatusHealthy, "checkout": errorbudget.StatusAttention, "search": errorbudget.StatusWarning,
		"payments": errorbudget.StatusCritical, "notifications": errorbudget.StatusExhausted, "auth": errorbudget.StatusCritical,
		"ledger": errorbudget.StatusNoData,
	}
	for _, sm := range all {
		if w, ok := want[sm.Service]; ok && sm.Status != w {
			t.Errorf("%s is %s (%s), want %s", sm.Service, sm.Status, sm.SLO, w)
		}
		if sm.Service != "checkout" {
			continue
		}
		if sm.SLO != "availability" || len(sm.SLOs) != 3 {
			t.Errorf("checkout decided by %s of %d SLOs, want availability of 3", sm.SLO, len(sm.SLOs))
		}
		for _, m := range sm.SLOs {
			if m.SLO != "availability" && m.Status != errorbudget.StatusHealthy {
				t.Errorf("checkout/%s is %s (%.1f%% left), want healthy", m.SLO, m.Status, m.RemainingPct)
			}
		}
	}
}
