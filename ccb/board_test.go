package ccb

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

func variantRequest() ExceptionRequest {
	return ExceptionRequest{
		Kind: ExceptionVariant,
		Subject: ExceptionSubject{AnalysisID: 3, Project: "fleet-core", Commit: "5e9d0f7684f1fc6d309fd6aa228e72a99a47c838",
			Dimension: "vehicle", Variant: "truck", Metric: "cyclomatic_complexity", Value: 6.24,
			Covers: []VariantLimit{
				{Dimension: "vehicle", Variant: "truck", Metric: "cyclomatic_complexity", Value: 6.24},
				{Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Value: 6.21},
				{Dimension: "vehicle", Variant: "truck", Metric: "class_count", Value: 4.76},
			}},
		Reason: "Opened automatically.",
	}
}

func TestVariantTitleNamesEverythingItCovers(t *testing.T) {
	tests := []struct {
		name    string
		subject ExceptionSubject
		want    string
	}{
		{"three metrics of one variant", variantRequest().Subject, "fleet-core vehicle/truck: 3 metrics over budget at 5e9d0f7"},
		{"one metric, no covers list", ExceptionSubject{Project: "p", Commit: "abc123", Dimension: "d", Variant: "v", Metric: "m"}, "p d/v: 1 metric over budget at abc123"},
		{"two variants", ExceptionSubject{Project: "p", Commit: "abc", Covers: []VariantLimit{{Dimension: "d", Variant: "a"}, {Dimension: "d", Variant: "b"}}},
			"p d/a, d/b: 2 metrics over budget at abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.subject.Title(ExceptionVariant); got != tt.want {
				t.Errorf("Title = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEditReasonAndPlan(t *testing.T) {
	plan := &RefactoringPlan{Steps: []string{"Move the autonomy stack into core"}, TargetDate: "2027-02-01"}
	tests := []struct {
		name     string
		prepare  func(e *Exception)
		by       budgetgate.Actor
		reason   string
		plan     *RefactoringPlan
		wantCode string // "" for success
		wantFld  string
	}{
		{"the requester adds a plan and rewords the reason", func(*Exception) {}, requester.Actor(), "  Truck launch in March.  ", plan, "", ""},
		{"the requester rewords the reason only", func(*Exception) {}, requester.Actor(), "Truck launch.", nil, "", ""},
		{"someone else", func(*Exception) {}, alice.Actor(), "mine now", plan, budgetgate.EFORBIDDEN, ""},
		{"an empty reason", func(*Exception) {}, requester.Actor(), " ", plan, budgetgate.EINVALID, "reason"},
		{"a plan without steps", func(*Exception) {}, requester.Actor(), "ok", &RefactoringPlan{TargetDate: "2027-02-01"}, budgetgate.EINVALID, "refactoring_plan.steps"},
		{"after an approval", func(e *Exception) {
			e.ApprovalsRequired = 2
			e.Plan = plan
			if _, err := e.Vote(alice, VoteApprove, "", t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}, requester.Actor(), "changed", nil, budgetgate.ECONFLICT, ""},
		{"after a rejection", func(e *Exception) {
			if _, err := e.Vote(alice, VoteReject, "no", t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}, requester.Actor(), "changed", nil, budgetgate.ECONFLICT, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPending(t, variantRequest(), DefaultCCBRules())
			tt.prepare(e)
			before := e.Reason
			err := e.Edit(tt.reason, tt.plan, tt.by, t0.Add(time.Hour))
			if tt.wantCode != "" {
				if budgetgate.ErrorCode(err) != tt.wantCode || budgetgate.ErrorField(err) != tt.wantFld || e.Reason != before {
					t.Fatalf("err = %v (field %q), reason %q; want %s naming %q and the reason unchanged", err, budgetgate.ErrorField(err), e.Reason, tt.wantCode, tt.wantFld)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Reason != strings.TrimSpace(tt.reason) {
				t.Errorf("reason = %q", e.Reason)
			}
			if tt.plan != nil && e.Plan != tt.plan {
				t.Errorf("plan = %+v, want %+v", e.Plan, tt.plan)
			}
		})
	}
}

func TestApprovalBlockedWithoutPlan(t *testing.T) {
	e := newPending(t, variantRequest(), DefaultCCBRules())
	if err := e.ApprovalBlocked(); budgetgate.ErrorField(err) != "refactoring_plan" {
		t.Fatalf("without a plan: %v, want refactoring_plan", err)
	}
	// A member can still reject it: the rejection does not need a plan.
	if err := e.CanVote(alice, t0.Add(time.Hour)); err != nil {
		t.Fatalf("CanVote without a plan: %v", err)
	}
	e.Plan = &RefactoringPlan{Steps: []string{"x"}, TargetDate: "2027-01-01"}
	if err := e.ApprovalBlocked(); err != nil {
		t.Fatalf("with a plan: %v", err)
	}
	if err := newPending(t, releaseRequest(), DefaultCCBRules()).ApprovalBlocked(); err != nil {
		t.Fatalf("a release request needs no plan: %v", err)
	}
}

func TestVariantApprovalHasNoReleaseConditions(t *testing.T) {
	e := newPending(t, variantRequest(), DefaultCCBRules())
	e.Plan = &RefactoringPlan{Steps: []string{"a", "b"}, TargetDate: "2027-02-01"}
	if _, err := e.Vote(alice, VoteApprove, "Keep it to the truck.", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CCB exception 12 expires 2027-02-20 11:00 UTC",
		"Refactoring plan done by 2027-02-01 (2 steps)",
		"CCB (Alice): Keep it to the truck.",
	}
	if !slices.Equal(e.Conditions, want) {
		t.Errorf("conditions = %q, want %q", e.Conditions, want)
	}
	if slices.Contains(e.Conditions, errorbudget.CondRollbackReady) || slices.Contains(e.Conditions, errorbudget.CondMonitor) {
		t.Error("a code-structure exception carries release conditions")
	}
}

func TestRevoke(t *testing.T) {
	approved := func(t *testing.T) *Exception {
		e := newPending(t, variantRequest(), DefaultCCBRules())
		e.Plan = &RefactoringPlan{Steps: []string{"a"}, TargetDate: "2027-02-01"}
		if _, err := e.Vote(alice, VoteApprove, "", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return e
	}
	at := t0.Add(48 * time.Hour)
	tests := []struct {
		name     string
		e        func(t *testing.T) *Exception
		by       budgetgate.User
		reason   string
		wantCode string
	}{
		{"a CCB member ends it early", approved, bob, "The truck launch was cancelled.", ""},
		{"the approver too", approved, alice, "Plan abandoned.", ""},
		{"a viewer may not", approved, viewer, "no", budgetgate.EFORBIDDEN},
		{"a reason is required", approved, bob, "  ", budgetgate.EINVALID},
		{"a pending request is not in force", func(t *testing.T) *Exception { return newPending(t, variantRequest(), DefaultCCBRules()) }, bob, "x", budgetgate.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e(t)
			status := e.Status
			err := e.Revoke(tt.by, tt.reason, at)
			if tt.wantCode != "" {
				if budgetgate.ErrorCode(err) != tt.wantCode || e.Status != status || e.Revoked != nil {
					t.Fatalf("err = %v, status %s; want %s and nothing changed", err, e.Status, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Status != ExceptionExpired || !e.ExpiresAt.Equal(at) || e.Revoked == nil || e.Revoked.By.Subject != tt.by.Subject || e.Revoked.Reason != tt.reason {
				t.Fatalf("after revoking: status %s, expires %v, revoked %+v", e.Status, e.ExpiresAt, e.Revoked)
			}
			// Nothing is covered any more: the gate closes again.
			if c := NewVariantCover([]*Exception{e}, "fleet-core", at); c.Covers("vehicle", "truck", "lines_of_code", 6.0) {
				t.Error("a revoked exception still covers the truck")
			}
		})
	}
}

func TestMayStillVote(t *testing.T) {
	e := newPending(t, releaseRequest(), DefaultCCBRules())
	e.ApprovalsRequired = 2
	members := []budgetgate.User{alice, bob, requester, viewer}
	names := func(us []budgetgate.User) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.Name)
		}
		return out
	}
	if got := names(e.MayStillVote(members, t0)); !slices.Equal(got, []string{"Alice", "Bob"}) {
		t.Errorf("before any vote: %q, want Alice and Bob (not the requester, not a viewer)", got)
	}
	if _, err := e.Vote(alice, VoteApprove, "", t0); err != nil {
		t.Fatal(err)
	}
	if got := names(e.MayStillVote(members, t0)); !slices.Equal(got, []string{"Bob"}) {
		t.Errorf("after Alice's vote: %q, want Bob", got)
	}
	if got := e.MayStillVote(members, t0.Add(8*24*time.Hour)); len(got) != 0 {
		t.Errorf("after the request expired: %q, want nobody", names(got))
	}
}
