// Package demo fills a fresh database with services that cover every budget
// status, 30 days of per-minute SLI history and a few dozen release
// decisions, and with variant-budget projects (one a real git repository
// under the data directory), so that `make run` shows a dashboard worth
// reading.
package demo

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"path"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
)

//go:embed policies/*.yaml
var policies embed.FS

// profile shapes a service's history: the share of its window's budget
// spent, and the burn rate of its last hour.
type profile struct {
	consumedPct float64
	recentBurn  float64
	incidents   int
}

// profiles put each demo service in a different status. A service with
// several SLOs has one profile per SLO, keyed service/slo.
var profiles = map[string]profile{
	"api-service":           {consumedPct: 22, recentBurn: 0.3, incidents: 1},  // healthy
	"checkout/availability": {consumedPct: 62, recentBurn: 0.8, incidents: 2},  // attention: checkout's worst SLO
	"checkout/latency":      {consumedPct: 35, recentBurn: 0.6, incidents: 1},  // healthy
	"checkout/freshness":    {consumedPct: 12, recentBurn: 0.3, incidents: 0},  // healthy
	"search":                {consumedPct: 83, recentBurn: 1.2, incidents: 2},  // warning
	"payments":              {consumedPct: 95, recentBurn: 1.0, incidents: 3},  // critical
	"notifications":         {consumedPct: 115, recentBurn: 1.5, incidents: 2}, // exhausted
	"auth":                  {consumedPct: 30, recentBurn: 16, incidents: 0},   // critical by burn rate: a page fires
	// ledger has a policy and no data: no_data
}

// Seed loads the demo policies and, if the database has no SLI data for
// them yet, their history and decisions. It is safe to run at every start.
func Seed(ctx context.Context, d *db.DB, now time.Time) error {
	files, err := fs.Glob(policies, "policies/*.yaml")
	if err != nil {
		return err
	}
	fresh := false
	for _, f := range files {
		src, err := policies.ReadFile(f)
		if err != nil {
			return err
		}
		p, err := errorbudget.ParsePolicy(path.Base(f), src)
		if err != nil {
			return fmt.Errorf("demo policy %s: %w", f, err)
		}
		changed, err := d.SavePolicy(ctx, p, "demo/"+path.Base(f), budgetgate.SystemActor)
		if err != nil {
			return err
		}
		fresh = fresh || changed
	}
	if err := SeedVariants(ctx, d, now); err != nil {
		return err
	}
	if !fresh {
		return nil
	}
	ps, err := d.Policies(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		for i := range p.SLOs {
			// A service's only SLO is found under the service's name.
			name := p.Subject(p.SLOs[i].Name)
			prof, ok := profiles[name]
			if !ok {
				continue
			}
			// Each SLO draws from its own stream, so its history does not
			// depend on the order the map is walked in.
			rng := rand.New(rand.NewPCG(42, uint64(len(name))*7919+uint64(name[0])))
			if err := seedHistory(ctx, d, p, &p.SLOs[i], prof, now, rng); err != nil {
				return fmt.Errorf("demo history for %s: %w", name, err)
			}
		}
	}
	return seedDecisions(ctx, d, now, rand.New(rand.NewPCG(42, 7)))
}

// seedHistory writes one event a minute over the SLO's window.
func seedHistory(ctx context.Context, d *db.DB, p *errorbudget.Policy, s *errorbudget.SLO, prof profile, now time.Time, rng *rand.Rand) error {
	minutes := int(s.Window / time.Minute)
	start := now.Truncate(time.Minute).Add(-time.Duration(minutes-1) * time.Minute)
	// Traffic follows the day; the burn rate per minute is a quiet base,
	// incidents of a few hours, and the last hour at the profile's recent
	// rate, scaled so that the window spends the profile's share of its
	// budget (weighted by traffic, as the budget is).
	totals := make([]int64, minutes)
	burn := make([]float64, minutes)
	for i := range burn {
		t := start.Add(time.Duration(i) * time.Minute)
		hour := float64(t.Hour()) + float64(t.Minute())/60
		totals[i] = int64(800 + 400*math.Sin((hour-6)/24*2*math.Pi) + float64(rng.IntN(100)))
		burn[i] = 0.5 + 0.5*math.Sin(float64(i)/180)*math.Sin(float64(i)/1440)
	}
	for k := 0; k < prof.incidents; k++ {
		at, length := rng.IntN(minutes-24*60), 60+rng.IntN(300)
		for i := at; i < at+length; i++ {
			burn[i] += 8
		}
	}
	last := max(0, minutes-60)
	var all, early, recent float64
	for i := range burn {
		all += float64(totals[i])
		if i < last {
			early += float64(totals[i]) * burn[i]
		} else {
			recent += float64(totals[i]) * prof.recentBurn
		}
	}
	scale := max(0, (prof.consumedPct/100*all-recent)/early)
	for i := range burn[:last] {
		burn[i] *= scale
	}
	for i := last; i < minutes; i++ {
		burn[i] = prof.recentBurn
	}
	allowedRatio := 1 - s.Objective/100
	events := make([]errorbudget.SLIEvent, 0, 10000)
	var carry float64
	for i := 0; i < minutes; i++ {
		t, total := start.Add(time.Duration(i)*time.Minute), totals[i]
		exact := float64(total)*allowedRatio*burn[i] + carry
		bad := int64(exact)
		carry = exact - float64(bad)
		bad = min(bad, total)
		events = append(events, errorbudget.SLIEvent{Time: t, Good: total - bad, Total: total})
		if len(events) == cap(events) || i == minutes-1 {
			if err := addSLI(ctx, d, p.Service, s.Name, events); err != nil {
				return err
			}
			events = events[:0]
		}
	}
	return nil
}

func addSLI(ctx context.Context, d *db.DB, service, slo string, events []errorbudget.SLIEvent) error {
	_, _, err := d.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
		return app.Reply{}, tx.AddSLI(ctx, service, slo, events)
	})
	return err
}

// seedDecisions evaluates a few dozen releases over the last days, each at
// its own moment, so that decisions cite the budget as it was then.
func seedDecisions(ctx context.Context, d *db.DB, now time.Time, rng *rand.Rand) error {
	services := []string{"api-service", "checkout", "search", "payments", "notifications", "auth"}
	types := []string{"feature", "feature", "feature", "bugfix", "bugfix", "security", "rollback"}
	risks := []string{"low", "medium", "medium", "high"}
	bots := []string{"deploy-bot", "release-train", "alice", "bob"}
	restore := d.Now
	defer func() { d.Now = restore }()
	for i := 0; i < 40; i++ {
		at := now.Add(-time.Duration(40-i) * 97 * time.Minute)
		d.Now = func() time.Time { return at }
		svc := services[rng.IntN(len(services))]
		rel := errorbudget.Release{
			Service: svc, Version: fmt.Sprintf("1.%d.%d", 10+i/8, i%8), CommitSHA: fmt.Sprintf("%040x", rng.Uint64()),
			RiskLevel: risks[rng.IntN(len(risks))], ReleaseType: types[rng.IntN(len(types))],
			HasTests: rng.IntN(5) > 0, HasRollbackPlan: rng.IntN(3) > 0, RequestedBy: bots[rng.IntN(len(bots))],
		}
		if err := rel.Validate(); err != nil {
			return err
		}
		if _, err := app.NewReleases(d, d.Now).Evaluate(ctx, rel, budgetgate.Actor{Issuer: "demo", Subject: rel.RequestedBy, Name: rel.RequestedBy}); err != nil {
			return err
		}
	}
	return nil
}
