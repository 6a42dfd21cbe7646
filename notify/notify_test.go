package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
	_ "modernc.org/sqlite"
)

const escalatingPolicy = `service: api
slo_target: 99.9
window: 30d
policy:
  escalation:
    budget_25pct:
      notify: [team_lead, sre_oncall]
      action: review_pending_releases
    budget_exhausted:
      notify: [team_lead]
      action: feature_freeze
`

// TestEscalationFiresOncePerCrossingAndRearms drives a service's budget
// down through 25%, keeps it there, brings it back and down again, and
// checks that the webhook hears exactly one message per crossing, after a
// failed first delivery is retried.
func TestEscalationFiresOncePerCrossingAndRearms(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "n.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clock := func() time.Time { return now }
	store.Now = clock
	p, err := errorbudget.ParsePolicy("api.yaml", []byte(escalatingPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SavePolicy(ctx, p, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var received []string
	failures := 1
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		var msg struct{ Text string }
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &msg); err != nil || msg.Text == "" {
			t.Errorf("payload %s is not Slack-compatible JSON with text", body)
		}
		received = append(received, msg.Text)
	}))
	defer hook.Close()

	n := New(store, app.Webhooks{"team_lead": hook.URL}, slog.New(slog.DiscardHandler), clock)
	// add posts total events with bad of them, one minute before now.
	add := func(bad, total int64) {
		t.Helper()
		if _, _, err := store.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
			return app.Reply{}, tx.AddSLI(ctx, "api", "default", []errorbudget.SLIEvent{{Time: now.Add(-time.Minute), Good: total - bad, Total: total}})
		}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	delivered := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), received...)
	}
	step := func() {
		n.Sweep(ctx)
		n.Deliver(ctx)
		now = now.Add(time.Hour) // past any retry backoff
		n.Deliver(ctx)
	}

	add(800, 1_000_000) // 80% consumed: 20% remaining, below 25%
	step()
	if got := delivered(); len(got) != 1 {
		t.Fatalf("after crossing 25%%: %d messages %q, want 1 (after one retry)", len(got), got)
	}
	step() // still below: nothing new
	if got := delivered(); len(got) != 1 {
		t.Fatalf("still below 25%%: %d messages, want no repeat", len(got))
	}
	add(0, 9_000_000) // 8% consumed: back above 25%, re-armed
	step()
	add(3000, 1_000_000) // 3,800 bad of 11,000 allowed: 65.5% remaining, still above
	step()
	add(6000, 6000) // 9,800 bad of 11,006 allowed: 11% remaining, below 25% again
	step()
	got := delivered()
	if len(got) != 2 {
		t.Fatalf("after re-arming and crossing again: %d messages %q, want 2", len(got), got)
	}
	notes, err := store.Notifications(ctx, "api", 10)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, note := range notes {
		states[note.Target+":"+note.State]++
	}
	// sre_oncall has no webhook: its notifications are recorded, not lost.
	if states["team_lead:delivered"] != 2 || states["sre_oncall:recorded"] != 2 {
		t.Fatalf("notification states %v, want 2 delivered to team_lead and 2 recorded for sre_oncall", states)
	}
}

// TestSweepSkipsOnlyTheDamagedService: one service's stored counts are
// damaged in the file; the sweep still escalates the other one, and sends
// nothing computed from the damaged rows.
func TestSweepSkipsOnlyTheDamagedService(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "n.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.Now = func() time.Time { return now }
	store.Log = slog.New(slog.DiscardHandler)
	for _, service := range []string{"api", "damaged"} {
		p, err := errorbudget.ParsePolicy(service+".yaml", []byte(strings.Replace(escalatingPolicy, "service: api", "service: "+service, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.SavePolicy(ctx, p, "test", budgetgate.SystemActor); err != nil {
			t.Fatal(err)
		}
		// 80% of the budget spent: below the 25% escalation.
		if _, _, err := store.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
			return app.Reply{}, tx.AddSLI(ctx, service, "default", []errorbudget.SLIEvent{{Time: now.Add(-time.Minute), Good: 1_000_000 - 800, Total: 1_000_000}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := sql.Open("sqlite", store.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, table := range []string{"sli_minute", "sli_hour", "sli_day"} {
		if _, err := raw.Exec(`UPDATE ` + table + ` SET good = 'x' WHERE slo_id IN (SELECT s.id FROM slos s JOIN services v ON v.id = s.service_id WHERE v.name = 'damaged')`); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var received []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct{ Text string }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &msg)
		mu.Lock()
		received = append(received, msg.Text)
		mu.Unlock()
	}))
	defer hook.Close()
	n := New(store, app.Webhooks{"team_lead": hook.URL}, slog.New(slog.DiscardHandler), func() time.Time { return now })
	n.Sweep(ctx)
	n.Deliver(ctx)
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 1 || !strings.Contains(received[0], "api") || strings.Contains(received[0], "damaged") {
		t.Fatalf("messages %q; want one, about api", received)
	}
}
