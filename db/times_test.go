package db

import (
	"context"
	"strings"
	"testing"
)

// A stored time that does not parse is a damaged row: reading it fails
// naming the text found, instead of passing it off as the year one.
func TestDamagedStoredTime(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name, column, value, want string
		}{
			{"created_at not a time", "created_at", "yesterday", `stored time "yesterday"`},
			{"last_used_at half a time", "last_used_at", "2026-11-30", `stored time "2026-11-30"`},
			{"revoked_at empty is never", "revoked_at", "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d, _ := openTest(t, b)
				ctx := context.Background()
				if _, _, err := d.CreateToken(ctx, "ci", []string{"gate"}, rita.Actor()); err != nil {
					t.Fatal(err)
				}
				if _, err := d.write.ExecContext(ctx, `UPDATE tokens SET `+tt.column+` = ?`, tt.value); err != nil {
					t.Fatal(err)
				}
				toks, err := d.Tokens(ctx)
				if tt.want == "" {
					if err != nil || len(toks) != 1 {
						t.Fatalf("Tokens: %v, %v", toks, err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Tokens: err %v, want one naming %s", err, tt.want)
				}
			})
		}
	})
}
