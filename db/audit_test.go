package db

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
)

// TestAuditLogNewestFirstAndPaged writes entries whose times do not follow
// the order they were written in (as records of past events are), and
// reads them back newest first by time, a page at a time.
func TestAuditLogNewestFirstAndPaged(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, clk := openTest(t, b)
		ctx := context.Background()
		base := clk.now()
		// Written in this order, at these hours after base.
		hours := []int{5, 1, 3, 3, 0, 4, 2}
		for i, h := range hours {
			d.Now = func() time.Time { return base.Add(time.Duration(h) * time.Hour) }
			if err := d.Update(ctx, func(tx app.Tx) error {
				return tx.Audit(ctx, budgetgate.SystemActor, "test.entry", "test", fmt.Sprintf("written %d at hour %d", i, h))
			}); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{
			"written 0 at hour 5", "written 5 at hour 4", "written 3 at hour 3", "written 2 at hour 3",
			"written 6 at hour 2", "written 1 at hour 1", "written 4 at hour 0",
		}
		var got []string
		var before int64
		for page := 0; page < 10; page++ {
			es, err := d.AuditLog(ctx, app.AuditFilter{Action: "test.entry", Before: before, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				got = append(got, e.Detail)
			}
			if len(es) < 3 {
				break
			}
			before = es[len(es)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages read\n%q\nwant\n%q", got, want)
		}
	})
}
