package pgtest

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Without PostgreSQL a test skips, except in CI; any other failure to
// start the server fails it.
func TestSkipsOnlyWhenMissingOutsideCI(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ci   string
		skip bool
	}{
		{"not installed, on a workstation", errNotInstalled, "", true},
		{"not installed, in CI", errNotInstalled, "true", false},
		{"installed but broken", errors.New("initdb: exit status 1"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := skips(tt.err, tt.ci); got != tt.skip {
				t.Errorf("skips = %v, want %v", got, tt.skip)
			}
		})
	}
}

// Off PATH, the newest of Debian's versions is used; with none, the error
// says PostgreSQL is not installed.
func TestBinDirFindsNewestDebianVersion(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	old := debianBins
	t.Cleanup(func() { debianBins = old })
	debianBins = filepath.Join(root, "*", "bin")
	if _, err := binDir(); !errors.Is(err, errNotInstalled) {
		t.Fatalf("no PostgreSQL: %v, want errNotInstalled", err)
	}
	for _, v := range []string{"9", "13", "15"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if v != "9" {
			os.WriteFile(filepath.Join(dir, "initdb"), nil, 0o755)
		}
	}
	if got, err := binDir(); err != nil || got != filepath.Join(root, "15", "bin") {
		t.Errorf("binDir = %q, %v; want version 15", got, err)
	}
}

// A database from the package's server is fresh, usable and dropped when
// its test ends.
func TestDSNGivesAFreshDatabase(t *testing.T) {
	ctx := t.Context()
	var first string
	t.Run("first", func(t *testing.T) { first = DSN(t) })
	second := DSN(t)
	if srv == nil {
		return // skipped: not installed
	}
	conn, err := pgx.Connect(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if _, err := conn.Exec(ctx, `CREATE TABLE t (x BIGINT)`); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("the fresh database has %d tables of its own after creating one (%v)", tables, err)
	}
	admin, err := pgx.Connect(ctx, srv.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	u, _ := url.Parse(first)
	var left int
	if err := admin.QueryRow(ctx, `SELECT COUNT(*) FROM pg_database WHERE datname = $1`, strings.TrimPrefix(u.Path, "/")).Scan(&left); err != nil || left != 0 {
		t.Errorf("the first test's database is still there (%d, %v)", left, err)
	}
}

func TestMain(m *testing.M) { os.Exit(Run(m)) }
