package db

import (
	"context"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

func TestPurgeKeepsWhatTheWindowsNeed(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		now := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
		d := openAt(t, b, now)
		ctx := context.Background()
		p := testPolicy(t, d, "api", 99.9, "30d")
		var events []errorbudget.SLIEvent
		for day := 0; day < 60; day++ { // one event a day over 60 days
			events = append(events, errorbudget.SLIEvent{Time: now.Add(-time.Duration(day) * 24 * time.Hour), Good: 9, Total: 10})
		}
		if _, _, err := d.Idempotent(ctx, &app.Idempotency{Scope: "sli:api", Key: "old", Body: []byte("x")}, func(tx app.Tx) (app.Reply, error) {
			return app.Reply{Body: []byte("{}")}, tx.AddSLI(ctx, "api", "default", events)
		}); err != nil {
			t.Fatal(err)
		}
		before, err := d.WindowCounts(ctx, p, &p.SLOs[0], now)
		if err != nil {
			t.Fatal(err)
		}

		d.Now = func() time.Time { return now.Add(10 * 24 * time.Hour) } // the key is now 10 days old
		n, err := d.Purge(ctx, Keep{SLI: 31 * 24 * time.Hour, Idempotency: 7 * 24 * time.Hour, EndedSession: 30 * 24 * time.Hour})
		if err != nil || n == 0 {
			t.Fatalf("purged %d rows (%v), want some", n, err)
		}
		d.Now = func() time.Time { return now }
		d.counts.bump(sloKey("api", "default")) // the purge ran at another "now"; read afresh
		after, err := d.WindowCounts(ctx, p, &p.SLOs[0], now)
		if err != nil {
			t.Fatal(err)
		}
		// Purged as of ten days later with 31 days kept: everything older than
		// 21 days before now is gone, what the 30-day window held otherwise stays.
		if after.Window.Total >= before.Window.Total || after.Window.Total < 21*10 {
			t.Fatalf("window total %d before, %d after; want the oldest days gone and 21 kept", before.Window.Total, after.Window.Total)
		}
		for _, table := range []string{"sli_minute", "sli_hour", "sli_day"} {
			var oldest int64
			if err := d.read.QueryRowContext(context.Background(), `SELECT COALESCE(MIN(t), 0) FROM `+table).Scan(&oldest); err != nil {
				t.Fatal(err)
			}
			if limit := now.Add(10*24*time.Hour - 31*24*time.Hour - 24*time.Hour).Unix(); oldest < limit {
				t.Errorf("%s keeps a bucket from %s, older than the retention", table, time.Unix(oldest, 0).UTC())
			}
		}
		var keys int
		d.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM idempotency_keys`).Scan(&keys)
		if keys != 0 {
			t.Errorf("%d idempotency keys older than a week kept", keys)
		}
	})
}
