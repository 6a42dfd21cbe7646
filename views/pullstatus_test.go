package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestPullStatus(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name                   string
		p                      PullStatus
		state, newest, errText string
	}{
		{"backfilling", PullStatus{State: "backfilling", Pulled: 1200, ToPull: 5085, Percent: 23.6},
			"backfilling: 24% (1200 of 5085 intervals)", "none yet", ""},
		{"stale with Prometheus's error", PullStatus{State: "stale", Pulled: 1, ToPull: 1, Percent: 100, Newest: at,
			Error: `total query: 1:34: parse error: unclosed left parenthesis`, ErrorAt: at.Add(time.Hour)},
			"stale", "2026-11-22T10:00:00Z", "total query: 1:34: parse error: unclosed left parenthesis (2026-11-22T11:00:00Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := pullStatus(tt.p).Render(context.Background(), &buf); err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			text := func(id string) string {
				return strings.Join(strings.Fields(doc.Find(`[data-testid="`+id+`"]`).Text()), " ")
			}
			if got := text("pull-state"); got != tt.state {
				t.Errorf("state %q, want %q", got, tt.state)
			}
			if got := text("pull-newest"); got != tt.newest {
				t.Errorf("newest %q, want %q", got, tt.newest)
			}
			if got := text("pull-error"); got != tt.errText {
				t.Errorf("error %q, want %q", got, tt.errText)
			}
		})
	}
}
