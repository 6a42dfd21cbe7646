package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

const (
	ledgerStrict = "service: ledger\nslo_target: 99.9\nwindow: 30d\n"
	ledgerLoose  = "service: ledger\nslo_target: 99.0\nwindow: 30d\n"
)

func page(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func testidText(doc *goquery.Document, id string) string {
	return strings.Join(strings.Fields(doc.Find(fmt.Sprintf("[data-testid=%q]", id)).Text()), " ")
}

// ledgerInForce is the objective the gate uses for ledger now.
func ledgerInForce(t *testing.T, h *harness) float64 {
	t.Helper()
	p, err := h.Store.Policy(context.Background(), "ledger")
	if err != nil {
		t.Fatal(err)
	}
	return p.SLOs[0].Objective
}

// heldAt99_9 posts 100,000 events with 400 bad in the last half hour: at
// 99.9% the budget is overspent (exhausted, releases held); at 99.0% 60%
// of it remains (healthy, a medium-risk feature ships).
func heldAt99_9(t *testing.T, h *harness) {
	t.Helper()
	at := time.Now().UTC().Add(-30 * time.Minute).Format(time.RFC3339)
	body := fmt.Sprintf(`{"events":[{"time":%q,"good":99600,"total":100000}]}`, at)
	if status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/services/ledger/sli", body); status != http.StatusAccepted && status != http.StatusOK {
		t.Fatalf("SLI: %d %s", status, raw)
	}
}

func releaseApproved(t *testing.T, h *harness) bool {
	t.Helper()
	status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/releases/evaluate", `{"service":"ledger","version":"2.0.0","risk_level":"medium","release_type":"feature"}`)
	var d errorbudget.Decision
	if err := json.Unmarshal([]byte(raw), &d); err != nil || status != http.StatusOK {
		t.Fatalf("evaluate: %d %s", status, raw)
	}
	return d.Approved
}

// TestPolicyReviewOnTheDashboard is the case on the dashboard: an
// SRE lowers an objective; the form starts from the policy in force and
// shows the diff before saving; the change waits, releases stay held, its
// author cannot approve it; a CCB member approves and the new policy governs.
func TestPolicyReviewOnTheDashboard(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	heldAt99_9(t, h)
	sam := h.agent(t, member("sam", budgetgate.RoleSRE))
	alice := h.agent(t, member("alice", budgetgate.RoleCCB))

	_, body := sam.get(t, "/policies")
	if got := page(t, body).Find("#policy").Text(); got != ledgerStrict {
		t.Fatalf("the form starts from %q, want the policy in force %q", got, ledgerStrict)
	}
	// As a browser sends a textarea: lines end in CRLF.
	resp, body := sam.post(t, "/policies", url.Values{"policy": {strings.ReplaceAll(ledgerLoose, "\n", "\r\n")}, "action": {"preview"}})
	doc := page(t, body)
	if diff := testidText(doc, "preview-diff"); resp.StatusCode != 200 || !strings.Contains(diff, "- slo_target: 99.9") || !strings.Contains(diff, "+ slo_target: 99.0") ||
		strings.Contains(diff, "- service: ledger") {
		t.Fatalf("preview: %d, diff %q", resp.StatusCode, diff)
	}
	if loosens := testidText(doc, "loosens"); loosens != "objective lowered from 99.9% to 99.0%" {
		t.Errorf("preview says it loosens %q", loosens)
	}
	if save := testidText(doc, "policy-save"); save != "Save for review" {
		t.Errorf("save button %q", save)
	}
	if ledgerInForce(t, h) != 99.9 {
		t.Fatal("the preview changed the policy in force")
	}

	resp, _ = sam.post(t, "/policies", url.Values{"policy": {ledgerLoose}, "action": {"save"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/policies?service=ledger&done=pending&change=1#change-1" {
		t.Fatalf("save: %d %s", resp.StatusCode, loc)
	}
	_, body = sam.get(t, "/policies?service=ledger&done=pending&change=1")
	doc = page(t, body)
	if out := testidText(doc, "policy-outcome"); !strings.HasPrefix(out, "Pending review: change 1 loosens the policy") {
		t.Errorf("outcome %q", out)
	}
	card := doc.Find(`[data-testid="change-1"]`)
	if !strings.Contains(card.Find(`[data-testid="change-diff"]`).Text(), "+ slo_target: 99.0") || card.Find(`[data-testid="review-form"]`).Length() != 0 {
		t.Errorf("the author's view of the change: %q", card.Text())
	}
	if why := card.Find(`[data-testid="review-why-not"]`).Text(); !strings.Contains(why, "another person with the sre or ccb role") {
		t.Errorf("the author is told %q", why)
	}
	if mark := testidText(doc, "has-pending"); !strings.Contains(mark, "Change 1 waits for review") {
		t.Errorf("ledger's policy does not say a change waits: %q", mark)
	}
	if ledgerInForce(t, h) != 99.9 || releaseApproved(t, h) {
		t.Fatal("the pending change governs already")
	}
	_, body = alice.get(t, "/services/ledger")
	if pending := page(t, body).Find(`[data-testid="pending-policy"]`); !strings.Contains(pending.Text(), "+ slo_target: 99.0") || pending.Find(`[data-testid="review-form"]`).Length() != 1 {
		t.Errorf("service page: pending change %q", pending.Text())
	}

	if resp, _ := sam.post(t, "/policies/changes/1", url.Values{"decision": {"approve"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the author approving: %d, want 403", resp.StatusCode)
	}
	if resp, body := alice.post(t, "/policies/changes/1", url.Values{"decision": {"reject"}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "comment") {
		t.Errorf("a rejection without a comment: %d", resp.StatusCode)
	}
	if ledgerInForce(t, h) != 99.9 {
		t.Fatal("a refused decision changed the policy")
	}
	resp, _ = alice.post(t, "/policies/changes/1", url.Values{"decision": {"approve"}, "comment": {"agreed in the reliability review"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/policies?service=ledger&done=approved&change=1" {
		t.Fatalf("approval: %d %s", resp.StatusCode, loc)
	}
	if ledgerInForce(t, h) != 99.0 || !releaseApproved(t, h) {
		t.Fatal("the approved change does not govern")
	}
	_, body = alice.get(t, "/policies?service=ledger&done=approved&change=1")
	if out := testidText(page(t, body), "policy-outcome"); !strings.HasPrefix(out, "Approved: change 1 is in force") {
		t.Errorf("outcome %q", out)
	}
	if resp, _ := alice.post(t, "/policies/changes/1", url.Values{"decision": {"approve"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("deciding again: %d, want 409", resp.StatusCode)
	}
	entries, err := h.Store.AuditLog(context.Background(), app.AuditFilter{Subject: "ledger"})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "policy.") {
			trail = append(trail, e.Action+" by "+e.Actor.Subject)
		}
	}
	want := "policy.update by alice, policy.approve by alice, policy.propose by sam"
	if got := strings.Join(trail[:3], ", "); got != want {
		t.Errorf("audit, newest first: %s; want %s", got, want)
	}
}

// TestPolicyUploadUnderReview: through the API a loosening change answers
// 202 with the pending change and does not govern; sent again it is the
// same change; a tightening one answers 200 and supersedes it. A change
// sent with a person's token is that person's: they cannot approve it.
func TestPolicyUploadUnderReview(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	samUser := member("sam", budgetgate.RoleSRE)
	sam := h.agent(t, samUser)
	token, _, err := h.Store.CreateOwnedToken(ctx, "sam-laptop", []string{budgetgate.ScopePolicy}, sam.User.Actor())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := h.Store.Policy(ctx, "ledger")
	var answer struct {
		Status  string           `json:"status"`
		InForce string           `json:"in_force"`
		Review  string           `json:"review"`
		Change  app.PolicyChange `json:"change"`
	}
	for i := range 2 {
		status, raw, _ := h.api(t, token, "PUT", "/api/v1/services/ledger/policy", ledgerLoose)
		if err := json.Unmarshal([]byte(raw), &answer); err != nil || status != http.StatusAccepted || answer.Status != "pending" ||
			answer.InForce != before.Version || answer.Change.ID != 1 || answer.Review != "/policies?service=ledger#change-1" ||
			answer.Change.Author.Subject != "sam" || len(answer.Change.Loosens) != 1 {
			t.Fatalf("loosening PUT %d: %d %s", i+1, status, raw)
		}
	}
	_, raw, _ := h.api(t, h.Token, "GET", "/api/v1/services/ledger/status", "")
	var m errorbudget.Metrics
	if json.Unmarshal([]byte(raw), &m); m.SLOTarget != 99.9 {
		t.Fatalf("status while the change waits: %s", raw)
	}
	if resp, _ := sam.post(t, "/policies/changes/1", url.Values{"decision": {"approve"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the owner of the token that sent it approving: %d, want 403", resp.StatusCode)
	}

	status, raw, _ := h.api(t, token, "PUT", "/api/v1/services/ledger/policy", "service: ledger\nslo_target: 99.95\nwindow: 30d\n")
	if status != http.StatusOK || !strings.Contains(raw, `"status":"active"`) {
		t.Fatalf("tightening PUT: %d %s", status, raw)
	}
	changes, err := h.Store.PolicyChanges(ctx, app.PolicyChangeFilter{Service: "ledger"})
	if err != nil || len(changes) != 1 || changes[0].Status != app.PolicyChangeSuperseded {
		t.Fatalf("the waiting change after a tightening one took effect: %+v %v", changes, err)
	}
	alice := h.agent(t, member("alice", budgetgate.RoleCCB))
	if resp, _ := alice.post(t, "/policies/changes/1", url.Values{"decision": {"approve"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("approving a superseded change: %d, want 409", resp.StatusCode)
	}
	if ledgerInForce(t, h) != 99.95 {
		t.Error("the superseded change took effect")
	}
}

// TestRestorePolicyOnTheDashboard: an SRE restores an earlier version from
// the list of versions; back to a stricter one it is saved at once, back
// to a looser one it waits for review. Others cannot restore.
func TestRestorePolicyOnTheDashboard(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	loose, err := errorbudget.ParsePolicy("ledger.yaml", []byte(ledgerLoose))
	if err != nil {
		t.Fatal(err)
	}
	strict, _ := h.Store.Policy(ctx, "ledger")
	if _, err := h.Store.SavePolicy(ctx, loose, "ledger.yaml", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	sam := h.agent(t, member("sam", budgetgate.RoleSRE))
	_, body := sam.get(t, "/policies")
	restores := page(t, body).Find(`[data-testid="policy-ledger"] [data-testid="restore"]`)
	if restores.Length() != 1 {
		t.Fatalf("%d restore buttons, want one for the earlier version", restores.Length())
	}
	for _, who := range []budgetgate.User{member("alice", budgetgate.RoleCCB), member("rita")} {
		if resp, _ := h.agent(t, who).post(t, "/policies/ledger/restore", url.Values{"version": {strict.Version}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s restoring: %d, want 403", who.Subject, resp.StatusCode)
		}
	}
	resp, _ := sam.post(t, "/policies/ledger/restore", url.Values{"version": {strict.Version}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/policies?service=ledger&done=saved" || ledgerInForce(t, h) != 99.9 {
		t.Fatalf("restoring the stricter version: %d %s, in force %v", resp.StatusCode, loc, ledgerInForce(t, h))
	}
	resp, _ = sam.post(t, "/policies/ledger/restore", url.Values{"version": {loose.Version}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "done=pending") || ledgerInForce(t, h) != 99.9 {
		t.Fatalf("restoring the looser version: %d %s, in force %v", resp.StatusCode, loc, ledgerInForce(t, h))
	}
	if resp, body := sam.post(t, "/policies/ledger/restore", url.Values{"version": {"sha256:nope"}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "version") {
		t.Errorf("restoring an unknown version: %d", resp.StatusCode)
	}
}
