package db

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// openTest opens a fresh database in a temporary directory with a fixed clock.
func openAt(t testing.TB, now time.Time) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
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
