package handlers

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
)

func TestAuditCSV(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		detail string
		want   string
	}{
		{"plain text", "approve: ship it", "approve: ship it"},
		{"a formula is defused", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"a leading minus too", "-1+1", "'-1+1"},
		{"commas and quotes survive", `reason, with "quotes"`, `reason, with "quotes"`},
		{"newlines survive", "line one\nline two", "line one\nline two"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			entry := budgetgate.AuditEntry{ID: 7, At: at, Actor: budgetgate.Actor{Issuer: "https://idp", Subject: "alice", Name: "Alice"},
				Action: "exception.vote", Subject: "exception/3", Detail: tt.detail}
			if err := writeAuditCSV(&buf, []budgetgate.AuditEntry{entry}); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(rows) != 2 {
				t.Fatalf("rows %v, err %v", rows, err)
			}
			want := []string{"7", "2026-11-22T10:00:00Z", "https://idp", "alice", "Alice", "exception.vote", "exception/3", tt.want}
			for i := range want {
				if rows[1][i] != want[i] {
					t.Errorf("column %s = %q, want %q", rows[0][i], rows[1][i], want[i])
				}
			}
		})
	}
}
