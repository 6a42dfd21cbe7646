package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/pgtest"
)

// TestMigrateToPostgres fills a SQLite database through the API of the
// real binary, moves it into PostgreSQL with the binary, then serves from
// PostgreSQL: the API answers as it did from the file, a token made on
// PostgreSQL works, and a second migrate into the same database is refused.
func TestMigrateToPostgres(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bg.db")
	policies := filepath.Join(dir, "policies")
	os.Mkdir(policies, 0o755)
	os.WriteFile(filepath.Join(policies, "api.yaml"), []byte("service: api\nslo_target: 99.9\nwindow: 30d\n"), 0o644)
	// The harness trusts the socket; the password is there to be hidden in logs.
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "s3cret")
	to := u.String()
	paths := []string{"/api/v1/exceptions", "/api/v1/decisions/1", "/api/v1/exceptions/1"}
	want := map[string]string{}
	t.Run("fill a file through the API", func(t *testing.T) {
		s := startServer(t, "--db", file, "--policies", policies)
		var events []string
		for i := 1; i <= 120; i++ {
			at := time.Now().Add(-time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)
			events = append(events, fmt.Sprintf(`{"time": %q, "good": 900, "total": 1000}`, at))
		}
		steps := []struct{ path, body string }{
			{"/api/v1/services/api/sli", `{"events": [` + strings.Join(events, ",") + `]}`},
			{"/api/v1/releases/evaluate", `{"service": "api", "version": "2.0.0", "risk_level": "low"}`},
			{"/api/v1/exceptions", `{"decision_id": 1, "reason": "Hotfix for INC-123"}`},
		}
		for _, st := range steps {
			if code, body := s.do(t, http.MethodPost, st.path, st.body); code >= 300 {
				t.Fatalf("POST %s: %d %s", st.path, code, body)
			}
		}
		for _, p := range paths {
			code, body := s.do(t, http.MethodGet, p, "")
			if code != http.StatusOK {
				t.Fatalf("GET %s on SQLite: %d %s", p, code, body)
			}
			want[p] = string(body)
		}
	}) // the server stops here
	if t.Failed() {
		return
	}

	code, out := runCLI(t, "migrate", "--from", file, "--to", to)
	if code != exitOK || !strings.Contains(out, "count and sums match") || !strings.Contains(out, "copied "+file) {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	for _, table := range []string{"decisions", "exceptions", "sli_minute", "audit_log"} {
		if regexp.MustCompile(`(?m)^` + table + ` +0 rows`).MatchString(out) {
			t.Fatalf("no rows of %s copied:\n%s", table, out)
		}
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
