package db

import (
	"context"
	"database/sql"
	"io/fs"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

func addSLI(t *testing.T, d *DB, service, slo string, events ...errorbudget.SLIEvent) error {
	t.Helper()
	_, _, err := d.Idempotent(context.Background(), nil, func(tx app.Tx) (app.Reply, error) {
		return app.Reply{}, tx.AddSLI(context.Background(), service, slo, events)
	})
	return err
}

// Each SLO keeps its own counts; the worst one is the service's.
func TestCountsPerSLO(t *testing.T) { eachBackend(t, testCountsPerSLO) }

func testCountsPerSLO(t *testing.T, b backend) {
	now := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	d := openAt(t, b, now)
	ctx := context.Background()
	p, err := errorbudget.ParsePolicy("checkout.yaml", []byte(`service: checkout
slos:
  - {name: availability, objective: 99.9, window: 30d}
  - {name: latency, objective: 99, window: 28d}
  - {name: freshness, objective: 95, window: 7d}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SavePolicy(ctx, p, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	at := now.Add(-time.Hour)
	for _, c := range []struct {
		slo       string
		good, all int64
	}{
		{"availability", 1_000_000 - 250, 1_000_000}, // 75% left: healthy
		{"latency", 10_000 - 80, 10_000},             // 20% left: warning
		{"freshness", 1000 - 10, 1000},               // 80% left, but burn 0.2 in 1h: healthy
	} {
		if err := addSLI(t, d, "checkout", c.slo, errorbudget.SLIEvent{Time: at, Good: c.good, Total: c.all}); err != nil {
			t.Fatal(err)
		}
	}
	if err := addSLI(t, d, "checkout", "errors", errorbudget.SLIEvent{Time: at, Good: 1, Total: 1}); budgetgate.ErrorCode(err) != budgetgate.ENOTFOUND {
		t.Errorf("counts for an SLO no policy has: %v", err)
	}
	sm, _, err := d.ServiceMetrics(ctx, "checkout", now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		total     int64
		remaining float64
	}{"availability": {1_000_000, 75}, "latency": {10_000, 20}, "freshness": {1000, 80}}
	for _, m := range sm.SLOs {
		w := want[m.SLO]
		if m.TotalEvents != w.total || m.RemainingPct != w.remaining {
			t.Errorf("%s: %d events, %v%% left; want %d and %v", m.SLO, m.TotalEvents, m.RemainingPct, w.total, w.remaining)
		}
	}
	if sm.SLO != "latency" || sm.Status != errorbudget.StatusWarning || sm.RemainingPct != 20 {
		t.Errorf("service figures %s %s %v, want latency's", sm.SLO, sm.Status, sm.RemainingPct)
	}
	// New data for one SLO is seen at once, through the counts cache.
	if err := addSLI(t, d, "checkout", "availability", errorbudget.SLIEvent{Time: at, Good: 0, Total: 1000}); err != nil {
		t.Fatal(err)
	}
	sm, _, _ = d.ServiceMetrics(ctx, "checkout", now)
	if sm.SLO != "availability" || sm.Status != errorbudget.StatusExhausted {
		t.Errorf("after availability's outage the service is %s %s", sm.SLO, sm.Status)
	}
	all, err := d.AllMetrics(ctx, now)
	if err != nil || len(all) != 1 || all[0].SLO != "availability" || len(all[0].SLOs) != 3 {
		t.Errorf("all metrics %+v %v", all, err)
	}
}

// A database from before several SLOs keeps its counts and escalation
// state: they become the service's one SLO, named default.
func TestMigrationKeepsSingleSLOData(t *testing.T) { eachBackend(t, testMigrationKeepsSingleSLOData) }

func testMigrationKeepsSingleSLOData(t *testing.T, b backend) {
	ctx := context.Background()
	path := b.fresh(t)
	raw, dl := &pool{dl: sqliteDialect}, sqliteDialect
	var err error
	if IsPostgres(path) {
		dl = postgresDialect
		cfg, err := pgx.ParseConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		raw = &pool{db: stdlib.OpenDB(*cfg), dl: dl}
	} else if raw.db, err = sql.Open("sqlite", path); err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}
	// The database as the release before several SLOs left it.
	names, _ := fs.Glob(migrations, dl.migrations+"/*.sql")
	sort.Strings(names)
	mustExec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`)
	for _, name := range names {
		if strings.Contains(name, "0006_") {
			break
		}
		body, _ := migrations.ReadFile(name)
		mustExec(string(body))
		mustExec(`INSERT INTO schema_migrations VALUES (?, '2026-01-01T00:00:00.000000Z')`, recordedName(name))
	}
	now := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	p, err := errorbudget.ParsePolicy("api.yaml", []byte("service: api\npolicy:\n  escalation:\n    budget_50pct: {notify: [sre]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(`INSERT INTO policies VALUES (?, 'api', ?, 'test', '2026-01-01T00:00:00.000000Z')`, p.Version, p.Source)
	mustExec(`INSERT INTO services VALUES (7, 'api', ?, '2026-01-01T00:00:00.000000Z')`, p.Version)
	hour := now.Add(-time.Hour).Unix() / 3600 * 3600
	for table, t0 := range map[string]int64{"sli_minute": hour, "sli_hour": hour, "sli_day": hour / 86400 * 86400} {
		mustExec(`INSERT INTO `+table+` VALUES (7, ?, 999400, 1000000)`, t0)
	}
	mustExec(`INSERT INTO escalations VALUES ('api', 'budget_50pct', FALSE, '2026-11-22T09:00:00.000000Z', 40)`)
	mustExec(`INSERT INTO notifications (kind, subject, target, message, payload, webhook_url, state, created_at) VALUES ('escalation', 'api', 'sre', 'm', '{}', '', 'recorded', '2026-11-22T09:00:00.000000Z')`)
	raw.Close()

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Now = func() time.Time { return now }
	sm, got, err := d.ServiceMetrics(ctx, "api", now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != p.Version || sm.SLO != errorbudget.DefaultSLO || sm.TotalEvents != 1_000_000 || sm.RemainingPct != 40 {
		t.Errorf("after migration: %s %d events %v%% left", sm.SLO, sm.TotalEvents, sm.RemainingPct)
	}
	state, err := d.EscalationState(ctx, "api", errorbudget.DefaultSLO)
	if err != nil || !state["budget_50pct"] {
		t.Errorf("escalation state %v %v; want budget_50pct fired", state, err)
	}
	notes, err := d.Notifications(ctx, "api", 10)
	if err != nil || len(notes) != 1 || notes[0].SLO != errorbudget.DefaultSLO {
		t.Errorf("notifications %+v %v", notes, err)
	}
	// New counts go on adding to the same SLO, and a new SLO gets an id of
	// its own.
	if err := addSLI(t, d, "api", errorbudget.DefaultSLO, errorbudget.SLIEvent{Time: now.Add(-time.Minute), Good: 1_000_000, Total: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	if sm, _, _ := d.ServiceMetrics(ctx, "api", now); sm.TotalEvents != 2_000_000 {
		t.Errorf("after more counts: %d events", sm.TotalEvents)
	}
	two, err := errorbudget.ParsePolicy("api.yaml", []byte("service: api\nslos:\n  - {name: default, objective: 99.9}\n  - {name: latency, objective: 99}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SavePolicy(ctx, two, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	if err := addSLI(t, d, "api", "latency", errorbudget.SLIEvent{Time: now.Add(-time.Minute), Good: 5, Total: 10}); err != nil {
		t.Fatal(err)
	}
	sm, _, err = d.ServiceMetrics(ctx, "api", now)
	if err != nil || len(sm.SLOs) != 2 || sm.SLOs[0].TotalEvents != 2_000_000 || sm.SLOs[1].TotalEvents != 10 {
		t.Errorf("two SLOs after the upgrade: %+v %v", sm.SLOs, err)
	}
}
