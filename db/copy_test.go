package db

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/pgtest"
)

// filledSQLite makes a SQLite database with rows in every table: policies
// and SLI data, decisions, a voted CCB request, tokens, sessions,
// analyses with violations, notifications and idempotency keys. It
// returns the path, a token's secret and a session's id.
func filledSQLite(t *testing.T, now time.Time) (path, secret, session string) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "source.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Now = func() time.Time { return now }
	testPolicy(t, d, "api", 99.9, "30d")
	if _, _, err := d.Idempotent(ctx, &app.Idempotency{Scope: "sli:api", Key: "k1", Body: []byte("b")}, func(tx app.Tx) (app.Reply, error) {
		return app.Reply{Body: []byte(`{"accepted":1}`), Created: true}, ingestIn(ctx, tx, "api", now, 0, 3000, 17)
	}); err != nil {
		t.Fatal(err)
	}
	dec := deniedRelease(t, d, "ledger", "1.0.0")
	e := openRequest(t, d, dec, ccb.DefaultCCBRules(), app.CCBNotify{Hooks: app.Webhooks{"ccb": "http://127.0.0.1:9/hook"}})
	if _, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Vote(ctx, e.ID, alice, "approve", "Watch it."); err != nil {
		t.Fatal(err)
	}
	if secret, _, err = d.CreateOwnedToken(ctx, "laptop", []string{"gate", "read"}, rita.Actor()); err != nil {
		t.Fatal(err)
	}
	s, err := d.Login(ctx, bob, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ConfigureRepositories(ctx, map[string]string{"fleet-core": "/srv/fleet"}, map[string]string{"fleet-core": "fleet_team"}); err != nil {
		t.Fatal(err)
	}
	save(t, d, app.NewAnalysis{Analysis: fleetAnalysis(t, "b1", 600, 100), OnBaseline: true, Actor: budgetgate.SystemActor})
	save(t, d, app.NewAnalysis{Analysis: fleetAnalysis(t, "c1", 700, 700), Actor: budgetgate.SystemActor})
	return path, secret, s.ID
}

// ingestIn adds n per-minute events of total each, from minute first before now.
func ingestIn(ctx context.Context, tx app.Tx, service string, now time.Time, first, n int, total int64) error {
	events := make([]errorbudget.SLIEvent, n)
	for i := range events {
		events[i] = errorbudget.SLIEvent{Time: now.Add(-time.Duration(first+i) * time.Minute), Good: total - int64(i%3), Total: total}
	}
	return tx.AddSLI(ctx, service, "default", events)
}

// The store's answers from the copy must be the file's: same figures,
// requests, votes, violations, audit log; tokens and sessions still work;
// new rows get ids after the copied ones.
func TestCopyToPostgres(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	path, secret, session := filledSQLite(t, now)
	to := pgtest.DSN(t)

	rep, err := CopyToPostgres(ctx, path, to)
	if err != nil {
		t.Fatal(err)
	}
	src, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	src.Now = func() time.Time { return now }
	dst.Now = src.Now

	t.Run("report", func(t *testing.T) {
		if rep.Migrations != len(src.migrationNames()) || rep.From != path || rep.To != Redact(to) {
			t.Errorf("report: %+v", rep)
		}
		seen := map[string]bool{}
		for _, tc := range rep.Tables {
			seen[tc.Table] = true
			var want int64
			if err := src.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+tc.Table).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if tc.Rows != want || len(tc.Checked) == 0 {
				t.Errorf("%s: copied %d rows (checked %v), the file has %d", tc.Table, tc.Rows, tc.Checked, want)
			}
		}
		for _, table := range []string{"policies", "services", "sli_minute", "sli_day", "decisions", "exceptions", "exception_votes",
			"tokens", "sessions", "users", "analyses", "analysis_figures", "violations", "notifications", "idempotency_keys", "audit_log"} {
			if !seen[table] {
				t.Errorf("table %s not in the report", table)
			}
		}
	})

	t.Run("same answers", func(t *testing.T) {
		for _, read := range []struct {
			name string
			get  func(d *DB) (any, error)
		}{
			{"window counts", func(d *DB) (any, error) { return d.AllMetrics(ctx, now) }},
			{"CCB requests with votes", func(d *DB) (any, error) { return d.Exceptions(ctx, app.ExceptionFilter{}) }},
			{"violations", func(d *DB) (any, error) { return d.Violations(ctx, app.ViolationFilter{}) }},
			{"audit log", func(d *DB) (any, error) { return d.AuditLog(ctx, app.AuditFilter{}) }},
			{"projects", func(d *DB) (any, error) { return d.Projects(ctx) }},
			{"notifications", func(d *DB) (any, error) { return d.Notifications(ctx, "", 100) }},
			{"policy history", func(d *DB) (any, error) { return d.PolicyHistory(ctx, "api") }},
			{"compliance", func(d *DB) (any, error) { return d.ComplianceHistory(ctx, "fleet-core") }},
		} {
			t.Run(read.name, func(t *testing.T) {
				want, err := read.get(src)
				if err != nil {
					t.Fatal(err)
				}
				got, err := read.get(dst)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("PostgreSQL answers\n%+v\nthe file answers\n%+v", got, want)
				}
			})
		}
	})

	t.Run("identities carried over", func(t *testing.T) {
		if _, err := dst.AuthenticateToken(ctx, secret); err != nil {
			t.Errorf("token: %v", err)
		}
		if _, err := dst.Session(ctx, session, app.SessionLimits{Idle: time.Hour, Absolute: time.Hour}); err != nil {
			t.Errorf("session: %v", err)
		}
		before, _ := dst.Tokens(ctx)
		_, tok, err := dst.CreateToken(ctx, "after", []string{"read"}, budgetgate.SystemActor)
		if err != nil || tok.ID != before[0].ID+1 {
			t.Errorf("new token %+v (%v) after copied ids up to %d", tok, err, before[0].ID)
		}
	})

	t.Run("refuses a target with rows", func(t *testing.T) {
		_, err := CopyToPostgres(ctx, path, to)
		if err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Errorf("second copy: %v", err)
		}
	})
}

// A damaged row stops the copy with the table, row and column, and leaves
// the target empty; so does anything but a file to a URL.
func TestCopyToPostgresRefuses(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	path, _, _ := filledSQLite(t, now)
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.write.ExecContext(ctx, `UPDATE decisions SET has_tests = 'maybe'`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	to := pgtest.DSN(t)
	tests := []struct {
		name, from, to, want string
	}{
		{"damaged row", path, to, "copying decisions: row 1, column has_tests"},
		{"file to file", path, path + ".copy", "--to a postgres:// URL"},
		{"URL to URL", to, to, "--from is a SQLite file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CopyToPostgres(ctx, tt.from, tt.to)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
	dst, err := Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	var n int
	if err := dst.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM policies`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after a failed copy the target holds %d policies (%v), want none", n, err)
	}
}

// What SQLite hands back becomes the target column's type, or is refused.
func TestConvertFromSQLite(t *testing.T) {
	tests := []struct {
		v       any
		kind    string
		want    any
		refused bool
	}{
		{int64(1), "bool", true, false},
		{int64(0), "bool", false, false},
		{int64(2), "bool", nil, true},
		{"yes", "bool", nil, true},
		{int64(7), "int", int64(7), false},
		{3.5, "int", nil, true},
		{int64(3), "float", 3.0, false},
		{[]byte("ab"), "text", "ab", false},
		{"a\x00b", "text", nil, true},
		{"ab", "bytes", []byte("ab"), false},
		{nil, "int", nil, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v as %s", tt.v, tt.kind), func(t *testing.T) {
			got, err := convert(tt.v, tt.kind)
			if (err != nil) != tt.refused || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("convert = %#v, %v; want %#v (refused %v)", got, err, tt.want, tt.refused)
			}
		})
	}
}
