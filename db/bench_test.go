package db

import (
	"context"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

func BenchmarkWindowCounts(b *testing.B) {
	now := time.Date(2026, 11, 22, 10, 17, 0, 0, time.UTC)
	d := openAt(b, sqliteBackend, now)
	ctx := context.Background()
	p := testPolicy(b, d, "api", 99.9, "30d")
	events := make([]errorbudget.SLIEvent, 0, 43000)
	for i := 0; i < 43000; i++ {
		events = append(events, errorbudget.SLIEvent{Time: now.Add(-time.Duration(i) * time.Minute), Good: 999, Total: 1000})
	}
	for i := 0; i < len(events); i += 1000 {
		if _, _, err := d.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
			return app.Reply{}, tx.AddSLI(ctx, "api", "default", events[i:i+1000])
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.windowCounts(ctx, p, &p.SLOs[0], now); err != nil { // the query, not the cache
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluateRelease(b *testing.B) {
	now := time.Date(2026, 11, 22, 10, 17, 0, 0, time.UTC)
	d := openAt(b, sqliteBackend, now)
	ctx := context.Background()
	testPolicy(b, d, "api", 99.9, "30d")
	rel := errorbudget.Release{Service: "api", Version: "1", RiskLevel: "low", ReleaseType: "feature"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := app.NewReleases(d, d.Now).Evaluate(ctx, rel, budgetgate.SystemActor); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddSLI(b *testing.B) {
	now := time.Date(2026, 11, 22, 10, 17, 0, 0, time.UTC)
	d := openAt(b, sqliteBackend, now)
	ctx := context.Background()
	testPolicy(b, d, "api", 99.9, "30d")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		events := make([]errorbudget.SLIEvent, 1000)
		for j := range events {
			events[j] = errorbudget.SLIEvent{Time: now.Add(-time.Duration(i*1000+j) * time.Minute), Good: 999, Total: 1000}
		}
		if _, _, err := d.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) { return app.Reply{}, tx.AddSLI(ctx, "api", "default", events) }); err != nil {
			b.Fatal(err)
		}
	}
}
