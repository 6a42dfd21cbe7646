package notify

import (
	"context"
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
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// TestSlackTextIsEscaped opens a CCB request whose reason, requester and
// rejection comment carry Slack markup, delivers the notifications to a
// real receiver on loopback, and checks that no markup reaches it: no
// channel ping, no forged link, while the request's own link is intact.
func TestSlackTextIsEscaped(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "n.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clock := func() time.Time { return now }
	store.Now = clock

	var mu sync.Mutex
	var texts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg struct{ Text string }
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Errorf("payload %s: %v", body, err)
		}
		mu.Lock()
		texts = append(texts, msg.Text)
		mu.Unlock()
	}))
	defer hook.Close()

	// No SLI data: the gate denies, and the release can go to the CCB.
	p, err := errorbudget.ParsePolicy("ledger.yaml", []byte("service: ledger\nslo_target: 99.9\nwindow: 30d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SavePolicy(ctx, p, "ledger.yaml", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	dec, err := app.NewReleases(store, store.Now).Evaluate(ctx, errorbudget.Release{Service: "ledger", Version: "1", RiskLevel: "low", ReleaseType: "feature"}, budgetgate.SystemActor)
	if err != nil || dec.Approved {
		t.Fatalf("want a denied release: %+v %v", dec, err)
	}
	n := app.CCBNotify{Hooks: app.Webhooks{app.CCBRole: hook.URL}, BaseURL: "https://gate.example.test"}
	requester := budgetgate.Actor{Issuer: "https://idp.test", Subject: "mallory", Name: "<@U024BE7LH> Mallory"}
	board := &app.Board{Store: store, Rules: ccb.DefaultCCBRules(), Notify: n}
	e, _, err := board.Open(ctx, ccb.ExceptionRequest{Kind: ccb.ExceptionRelease,
		Subject: ccb.ExceptionSubject{DecisionID: dec.ID},
		Reason:  "<!channel> urgent, see <https://evil.test/login|the runbook> & approve"}, requester)
	if err != nil {
		t.Fatal(err)
	}
	voter := budgetgate.User{Issuer: "https://idp.test", Subject: "carol", Name: "Carol <!here>", Roles: []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleCCB}}
	if _, err := board.Vote(ctx, e.ID, voter, ccb.VoteReject, "no. <!everyone> <https://evil.test|click>"); err != nil {
		t.Fatal(err)
	}
	New(store, nil, slog.New(slog.DiscardHandler), clock).Deliver(ctx)

	mu.Lock()
	defer mu.Unlock()
	if len(texts) != 2 {
		t.Fatalf("received %d messages %q; want the request and its rejection", len(texts), texts)
	}
	own := "https://gate.example.test/ccb/"
	for _, text := range texts {
		if strings.ContainsAny(text, "<>") {
			t.Errorf("markup reached the receiver: %q", text)
		}
		if !strings.Contains(text, own) {
			t.Errorf("the request's own link is missing: %q", text)
		}
	}
	for _, want := range []string{"&lt;!channel&gt;", "&lt;https://evil.test/login|the runbook&gt; &amp; approve", "&lt;@U024BE7LH&gt; Mallory"} {
		if !strings.Contains(texts[0], want) {
			t.Errorf("request message %q lacks %q", texts[0], want)
		}
	}
	for _, want := range []string{"Carol &lt;!here&gt;", "&lt;!everyone&gt;"} {
		if !strings.Contains(texts[1], want) {
			t.Errorf("decision message %q lacks %q", texts[1], want)
		}
	}
	// The outbox keeps the text as written, for the dashboard to escape
	// for HTML.
	notes, err := store.Notifications(ctx, "ledger", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, note := range notes {
		if strings.Contains(note.Message, "&lt;") {
			t.Errorf("stored message is escaped for Slack: %q", note.Message)
		}
	}
}
