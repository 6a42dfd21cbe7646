package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate/pgtest"
)

// TestMigrateToPostgres moves a demo database into PostgreSQL with the
// real binary, then serves from PostgreSQL: the API answers as it did from
// the file, a token made on PostgreSQL works, and a second migrate into
// the same database is refused.
func TestMigrateToPostgres(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bg.db")
	// The harness trusts the socket; the password is there to be hidden in logs.
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "s3cret")
	to := u.String()
	paths := []string{"/api/v1/exceptions", "/api/v1/decisions/1", "/api/v1/exceptions/1"}
	want := map[string]string{}
	t.Run("serve the demo from a file", func(t *testing.T) {
		s := startServer(t, "--db", file, "--demo")
		for _, p := range paths {
			code, body := s.do(t, http.MethodGet, p, "")
			if code != http.StatusOK {
				t.Fatalf("GET %s on SQLite: %d %s", p, code, body)
			}
			want[p] = string(body)
		}
	}) // the server stops here

	code, out := runCLI(t, "migrate", "--from", file, "--to", to)
	if code != exitOK || !strings.Contains(out, "count and sums match") || !strings.Contains(out, "copied "+file) {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "exceptions                     0 rows") {
		t.Fatalf("the demo's CCB requests were not copied:\n%s", out)
	}

	code, token := runCLI(t, "token", "create", "--db", to, "--name", "after-move", "--scopes", "read")
	if code != exitOK || !strings.HasPrefix(token, "bgt_") {
		t.Fatalf("token create on PostgreSQL: exit %d %s", code, token)
	}
	s := startServer(t, "--db", to)
	s.Token = strings.TrimSpace(token)
	if log := s.log.String(); strings.Contains(log, "s3cret") || !strings.Contains(log, `db="postgres://budgetgate:xxxxx@`) {
		t.Errorf("the log must name the database without its password:\n%s", log)
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			code, body := s.do(t, http.MethodGet, p, "")
			if code != http.StatusOK || string(body) != want[p] {
				t.Errorf("GET %s on PostgreSQL: %d\n%s\nwant as on SQLite:\n%s", p, code, body, want[p])
			}
		})
	}

	if code, out := runCLI(t, "migrate", "--from", file, "--to", to); code != exitError || !strings.Contains(out, "not empty") {
		t.Errorf("second migrate: exit %d\n%s", code, out)
	}
	if code, out := runCLI(t, "migrate", "--from", file); code != exitError || !strings.Contains(out, "--to") {
		t.Errorf("migrate without --to: exit %d\n%s", code, out)
	}
}
