package db

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// backend is one of the databases the store runs on: its name and where a
// test's fresh, empty database is.
type backend struct {
	name  string
	fresh func(t testing.TB) string
}

var (
	sqliteBackend   = backend{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "test.db") }}
	postgresBackend = backend{"postgres", pgtest.DSN}
)

// eachBackend runs f as a subtest on each backend: the store must behave
// the same on both.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range []backend{sqliteBackend, postgresBackend} {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// openAt opens a fresh database of backend b with a fixed clock.
func openAt(t testing.TB, b backend, now time.Time) *DB {
	t.Helper()
	d, err := Open(context.Background(), b.fresh(t))
	if err != nil {
		t.Fatal(err)
	}
	d.Now = func() time.Time { return now }
	t.Cleanup(func() { d.Close() })
	return d
}

// testPolicy stores a minimal policy for service and returns it.
func testPolicy(t testing.TB, d *DB, service string, target float64, window string) *errorbudget.Policy {
	t.Helper()
	src := []byte("service: " + service + "\nslo_target: " + formatFloat(target) + "\nwindow: " + window + "\n")
	p, err := errorbudget.ParsePolicy(service+".yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SavePolicy(context.Background(), p, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	return p
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
