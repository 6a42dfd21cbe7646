package notify

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// Each SLO escalates on its own: its own crossings, its own state, a
// message that names it, and a notification that says which SLO it is.
func TestEscalationsPerSLO(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "n.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clock := func() time.Time { return now }
	store.Now = clock
	p, err := errorbudget.ParsePolicy("checkout.yaml", []byte(`service: checkout
slos:
  - {name: availability, objective: 99.9}
  - {name: latency, objective: 99, window: 28d}
policy:
  escalation:
    budget_25pct: {notify: [sre], action: review_pending_releases}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SavePolicy(ctx, p, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	n := New(store, app.Webhooks{}, slog.New(slog.DiscardHandler), clock)
	add := func(slo string, bad, total int64) {
		t.Helper()
		if _, _, err := store.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
			return app.Reply{}, tx.AddSLI(ctx, "checkout", slo, []errorbudget.SLIEvent{{Time: now.Add(-time.Minute), Good: total - bad, Total: total}})
		}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	messages := func(slo string) []string {
		t.Helper()
		notes, err := store.SLONotifications(ctx, "checkout", slo, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, note := range notes {
			out = append(out, note.Message)
		}
		return out
	}

	add("availability", 100, 1_000_000) // 90% left
	add("latency", 9_000, 1_000_000)    // 10% left: below 25%
	n.Sweep(ctx)
	if got := messages("latency"); len(got) != 1 || !strings.HasPrefix(got[0], "checkout/latency: error budget below 25% (10.0% remaining") {
		t.Fatalf("latency escalations %q", got)
	}
	if got := messages("availability"); len(got) != 0 {
		t.Fatalf("availability escalated without crossing: %q", got)
	}
	n.Sweep(ctx)
	add("availability", 800, 0+800) // now availability falls below 25% too
	n.Sweep(ctx)
	if got := messages("availability"); len(got) != 1 || !strings.Contains(got[0], "checkout/availability") {
		t.Fatalf("availability escalations %q", got)
	}
	if got := messages("latency"); len(got) != 1 {
		t.Fatalf("latency escalated twice for one crossing: %q", got)
	}
	for _, slo := range []string{"availability", "latency"} {
		state, err := store.EscalationState(ctx, "checkout", slo)
		if err != nil || !state["budget_25pct"] {
			t.Errorf("%s state %v %v", slo, state, err)
		}
	}
	all, _ := store.Notifications(ctx, "checkout", 10)
	var slos []string
	for _, note := range all {
		slos = append(slos, note.SLO)
	}
	slices.Sort(slos)
	if !slices.Equal(slos, []string{"availability", "latency"}) {
		t.Errorf("notifications name SLOs %q", slos)
	}
}
