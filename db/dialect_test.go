package db

import (
	"errors"
	"fmt"
	"testing"

	"github.com/budgetgate/budgetgate"
	"github.com/jackc/pgx/v5/pgconn"
)

// The queries are written with SQLite's placeholders; PostgreSQL gets them
// numbered as SQLite numbers them, and nothing quoted is touched.
func TestRebindNumbersAsSQLiteDoes(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"in order", `SELECT a FROM t WHERE a = ? AND b = ?`, `SELECT a FROM t WHERE a = $1 AND b = $2`},
		{"numbered, then bare", `WHERE name = ?1 AND t >= ? AND t < ? UNION ALL WHERE name = ?1 AND t >= ? AND t < ?`,
			`WHERE name = $1 AND t >= $2 AND t < $3 UNION ALL WHERE name = $1 AND t >= $4 AND t < $5`},
		{"string literal", `SELECT '?' , ? FROM t WHERE k LIKE ? ESCAPE '\'`, `SELECT '?' , $1 FROM t WHERE k LIKE $2 ESCAPE '\'`},
		{"doubled quote", `SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{"quoted name", `SELECT "a?b" FROM t WHERE x = ?`, `SELECT "a?b" FROM t WHERE x = $1`},
		{"comment", "SELECT 1 -- why?\nWHERE x = ?", "SELECT 1 -- why?\nWHERE x = $1"},
		{"none", `SELECT 1`, `SELECT 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := postgresDialect.rebind(tt.in); got != tt.want {
				t.Errorf("rebind(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if got := sqliteDialect.rebind(tt.in); got != tt.in {
				t.Errorf("SQLite's rebind changed %q to %q", tt.in, got)
			}
		})
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://bg:s3cret@db.internal:5432/bg?sslmode=require", "postgres://bg:xxxxx@db.internal:5432/bg?sslmode=require"},
		{"postgresql://bg@db/bg?password=s3cret", "postgresql://bg@db/bg?password=xxxxx"},
		{"data/budgetgate.db", "data/budgetgate.db"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// PostgreSQL's conditions that a retry can cure answer 503, as SQLite's do;
// the rest stay as they are.
func TestMapPostgresErrors(t *testing.T) {
	tests := []struct {
		code, want string
	}{
		{"53100", storageFullMessage},
		{"40P01", "database busy; retry"},
		{"40001", "database busy; retry"},
		{"57P01", "storage unavailable; nothing was stored"},
		{"08006", "storage unavailable; nothing was stored"},
		{"23505", ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := mapErr(fmt.Errorf("saving: %w", &pgconn.PgError{Code: tt.code, Message: "m"}))
			if tt.want == "" {
				var be *budgetgate.Error
				if errors.As(err, &be) {
					t.Errorf("%s mapped to %v", tt.code, err)
				}
				return
			}
			if budgetgate.ErrorCode(err) != budgetgate.EUNAVAILABLE || budgetgate.ErrorMessage(err) != tt.want {
				t.Errorf("%s mapped to %v, want unavailable: %s", tt.code, err, tt.want)
			}
		})
	}
}
