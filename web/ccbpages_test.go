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
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
)

// variantRequestOn opens, as rita, a variant request whose analysis fails a
// hard limit and a trend limit (the trend failure listed first, as an
// analysis may list it).
func variantRequestOn(t *testing.T, h *harness, rita budgetgate.User) int64 {
	t.Helper()
	pp := func(x float64) *float64 { return &x }
	a := &variant.Analysis{Project: "fleet-core", Commit: "5e9d0f7684f1fc6d309fd6aa228e72a99a47c838", Baseline: "main",
		BaselineCommit: "43241dee1f6e22a1c579f19a7907183338bfa23b", Status: variant.AnalysisBlocked,
		Dimensions: []variant.DimensionResult{{Name: "vehicle", Status: variant.VariantFail,
			Metrics: []variant.MetricResult{
				{Name: "cyclomatic_complexity", Status: variant.VariantFail, Delta: 6.24, Variant: "truck", HardLimit: 5, SoftLimit: 3, TrendLimit: pp(0.5)},
				{Name: "class_count", Status: variant.VariantTrendFail, Delta: 4.76, Variant: "truck", HardLimit: 5, SoftLimit: 3, TrendLimit: pp(0.5)},
			},
			Variants: []variant.VariantResult{{Name: "truck", Files: 3, Metrics: map[string]variant.VariantMetric{
				"cyclomatic_complexity": {Value: 204, Core: 3067, Delta: 6.24, BaselineDelta: pp(3.89), ChangePP: pp(2.35)},
				"class_count":           {Value: 2, Core: 40, Delta: 4.76, BaselineDelta: pp(2.44), ChangePP: pp(2.32)},
			}}},
			Recommendations: []variant.Recommendation{
				{Kind: variant.RecommendMoveToCore, Metric: "cyclomatic_complexity", Variants: []string{"truck"}, Locations: []variant.CodeLocation{{Path: "vehicles/truck/autonomy.go"}}, Value: 80, Before: 6.24, After: 3.79, Saves: 2.45},
				{Kind: variant.RecommendMoveToCore, Metric: "class_count", Variants: []string{"truck"}, Locations: []variant.CodeLocation{{Path: "vehicles/truck/autonomy.go"}}, Value: 1, Before: 4.76, After: 2.38, Saves: 2.38},
			}}},
		Violations: []variant.Violation{
			{Dimension: "vehicle", Variant: "truck", Metric: "class_count", Status: variant.VariantTrendFail, Value: 2, Delta: 4.76, Limit: 0.5, ChangePP: pp(2.32)},
			{Dimension: "vehicle", Variant: "truck", Metric: "cyclomatic_complexity", Status: variant.VariantFail, Value: 204, Delta: 6.24, Limit: 5, ChangePP: pp(2.35)},
		},
	}
	subject, evidence, err := ccb.VariantExceptionFor(a.Project, a.Commit, 111, a)
	if err != nil {
		t.Fatal(err)
	}
	b := &app.Board{Store: h.Store, Rules: ccb.DefaultCCBRules(), Notify: app.CCBNotify{}}
	e, _, err := b.Open(context.Background(), ccb.ExceptionRequest{Kind: ccb.ExceptionVariant, Subject: subject, Evidence: evidence, Reason: "Opened automatically."}, rita.Actor())
	if err != nil {
		t.Fatal(err)
	}
	return e.ID
}

func doc(t *testing.T, page string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testids(d *goquery.Document, ids ...string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = d.Find(fmt.Sprintf(`[data-testid=%q]`, id)).Length() > 0
	}
	return out
}

// TestVariantRequestPageByRole: each reader gets what they can act on: the
// requester the edit form, a member the vote form (Approve only once the
// plan is there) and the queue marks, a viewer neither; the figures are
// the same for all.
func TestVariantRequestPageByRole(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rita, alice, vic := member("rita"), member("alice", budgetgate.RoleCCB), member("vic")
	id := variantRequestOn(t, h, rita)
	path := fmt.Sprintf("/ccb/%d", id)
	agents := map[string]*agent{"rita": h.agent(t, rita), "alice": h.agent(t, alice), "vic": h.agent(t, vic)}

	type want map[string]bool
	check := func(t *testing.T, who string, w want) *goquery.Document {
		t.Helper()
		resp, page := agents[who].get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s as %s: %d", path, who, resp.StatusCode)
		}
		d := doc(t, page)
		ids := make([]string, 0, len(w))
		for id := range w {
			ids = append(ids, id)
		}
		for id, has := range testids(d, ids...) {
			if has != w[id] {
				t.Errorf("%s: %s shown = %v, want %v", who, id, has, w[id])
			}
		}
		return d
	}
	t.Run("before the plan", func(t *testing.T) {
		for who, w := range map[string]want{
			"rita":  {"edit-form": true, "vote-form": false, "approve": false, "approve-blocked": true, "revoke-form": false},
			"alice": {"edit-form": false, "vote-form": true, "approve": false, "reject": true, "approve-blocked": true},
			"vic":   {"edit-form": false, "vote-form": false, "approve-blocked": true},
		} {
			d := check(t, who, w)
			rows := d.Find(`[data-testid="violations"] tbody tr`)
			if rows.Length() != 2 {
				t.Fatalf("%s: %d violation rows, want 2", who, rows.Length())
			}
			trend := d.Find(`[data-testid="violation-truck-class_count"]`).Text()
			for _, s := range []string{"+2.32 pp since the baseline", "trend", "over +0.50 pp a change", "+2.32 pp (2.44% → 4.76%)"} {
				if !strings.Contains(trend, s) {
					t.Errorf("%s: the trend row lacks %q: %s", who, s, trend)
				}
			}
			if strings.Contains(trend, "4.76% (limit 0.50)") {
				t.Errorf("%s: the trend row mixes a level with the trend limit: %s", who, trend)
			}
			if n := strings.Count(d.Find(`[data-testid="files"]`).Text(), "vehicles/truck/autonomy.go"); n != 1 {
				t.Errorf("%s: autonomy.go named %d times, want once", who, n)
			}
			if s := d.Find("h1").Text(); !strings.Contains(s, "fleet-core vehicle/truck: 2 metrics over budget at 5e9d0f7") {
				t.Errorf("%s: heading %q", who, s)
			}
			if s := d.Find(`[data-testid="may-vote"]`).Text(); !strings.Contains(s, "User alice") || strings.Contains(s, "User rita") {
				t.Errorf("%s: who may vote: %q", who, s)
			}
		}
	})

	t.Run("the queue marks", func(t *testing.T) {
		for who, mark := range map[string]string{"alice": "awaiting your vote", "rita": "yours", "vic": ""} {
			_, page := agents[who].get(t, "/ccb")
			got := strings.TrimSpace(doc(t, page).Find(fmt.Sprintf(`[data-testid="request-%d"] [data-testid="mark"]`, id)).Text())
			if got != mark {
				t.Errorf("%s's mark: %q, want %q", who, got, mark)
			}
		}
	})

	target := time.Now().AddDate(0, 3, 0).Format("2006-01-02")
	t.Run("edits", func(t *testing.T) {
		tests := []struct {
			who    string
			form   url.Values
			status int
			says   string
		}{
			{"vic", url.Values{"reason": {"mine"}, "plan_steps": {"x"}, "plan_target": {target}}, http.StatusForbidden, "only the requester"},
			{"rita", url.Values{"reason": {"Truck launch."}, "plan_steps": {"Move autonomy into core"}, "plan_target": {"2020-01-01"}}, http.StatusUnprocessableEntity, "must be in the future"},
			{"rita", url.Values{"reason": {" "}, "plan_steps": {"x"}, "plan_target": {target}}, http.StatusUnprocessableEntity, "reason: required"},
			{"rita", url.Values{"reason": {"Truck launch in March."}, "plan_steps": {"Move autonomy into core\n\nDrop the truck copy of the helpers"}, "plan_target": {target}}, http.StatusSeeOther, ""},
		}
		for _, tt := range tests {
			resp, page := agents[tt.who].post(t, path+"/edit", tt.form)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s's edit %v: %d, want %d", tt.who, tt.form, resp.StatusCode, tt.status)
			}
			if tt.says != "" && !strings.Contains(doc(t, page).Find(`[data-testid="edit-error"]`).Text(), tt.says) {
				t.Errorf("%s's refused edit does not say %q", tt.who, tt.says)
			}
		}
		e, err := h.Store.Exception(context.Background(), id)
		if err != nil || e.Reason != "Truck launch in March." || e.Plan == nil || len(e.Plan.Steps) != 2 || e.Plan.TargetDate != target {
			t.Fatalf("stored after the edits: %+v, %v", e, err)
		}
	})

	t.Run("after the plan, approve and revoke", func(t *testing.T) {
		check(t, "alice", want{"approve": true, "approve-blocked": false})
		if resp, _ := agents["alice"].post(t, path+"/votes", url.Values{"decision": {"approve"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d", resp.StatusCode)
		}
		d := check(t, "alice", want{"revoke-form": true, "edit-form": false})
		if s := d.Find(`[data-testid="conditions"]`).Text(); strings.Contains(s, "rollback") || !strings.Contains(s, "Refactoring plan done by "+target) {
			t.Errorf("conditions: %s", s)
		}
		check(t, "vic", want{"revoke-form": false})
		if resp, _ := agents["vic"].post(t, path+"/revoke", url.Values{"revoke_reason": {"no"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a viewer's revocation: %d, want 403", resp.StatusCode)
		}
		if resp, page := agents["alice"].post(t, path+"/revoke", url.Values{"revoke_reason": {""}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "revoke reason") {
			t.Errorf("a revocation without a reason: %d", resp.StatusCode)
		}
		if resp, _ := agents["alice"].post(t, path+"/revoke", url.Values{"revoke_reason": {"The launch moved."}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		d = check(t, "rita", want{"revoked": true, "revoke-form": false})
		if s := d.Find(`[data-testid="revoked"]`).Text(); !strings.Contains(s, "User alice") || !strings.Contains(s, "The launch moved.") {
			t.Errorf("revoked: %s", s)
		}
		var got struct {
			Status  string          `json:"status"`
			Revoked json.RawMessage `json:"revoked"`
		}
		s, b, _ := h.api(t, h.Token, "GET", "/api/v1/exceptions"+path[len("/ccb"):], "")
		if json.Unmarshal([]byte(b), &got); s != 200 || got.Status != "expired" || !strings.Contains(string(got.Revoked), "The launch moved.") {
			t.Errorf("the API after the revocation: %d %s", s, b)
		}
	})
}
