package db

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
)

// TestRequesterEditApprovalAndRevocation: the requester's edit, the
// decision told to the board and to the requester with the request's
// link, and an early revocation are stored, audited, and read back the
// same on both backends; the members who may vote are those who signed
// in with the ccb role.
func TestRequesterEditApprovalAndRevocation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, _ := openTest(t, b)
		ctx := context.Background()
		for _, u := range []budgetgate.User{bob, rita, alice} {
			if _, err := d.Login(ctx, u, ""); err != nil {
				t.Fatal(err)
			}
		}
		members, err := d.UsersWithRole(ctx, budgetgate.RoleCCB)
		if err != nil || len(members) != 2 || members[0].Name != "Alice" || members[1].Name != "Bob" {
			t.Fatalf("CCB members: %+v, %v; want Alice and Bob by name", members, err)
		}

		notify := app.CCBNotify{BaseURL: "https://gate.example"}
		bd := board(d, ccb.DefaultCCBRules(), notify)
		subject := ccb.ExceptionSubject{AnalysisID: 12, Project: "fleet", Commit: "9f1c", Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Value: 6.2}
		e, _, err := bd.Open(ctx, ccb.ExceptionRequest{Kind: ccb.ExceptionVariant, Subject: subject, Reason: "Opened automatically."}, rita.Actor())
		if err != nil {
			t.Fatal(err)
		}
		plan := &ccb.RefactoringPlan{Steps: []string{"Move the truck brakes into core"}, TargetDate: "2027-06-01"}
		if _, err := bd.Edit(ctx, e.ID, "Truck launch in March.", plan, alice.Actor()); budgetgate.ErrorCode(err) != budgetgate.EFORBIDDEN {
			t.Fatalf("someone else's edit: %v, want forbidden", err)
		}
		if _, err := bd.Edit(ctx, e.ID, "Truck launch in March.", plan, rita.Actor()); err != nil {
			t.Fatal(err)
		}
		got, err := d.Exception(ctx, e.ID)
		if err != nil || got.Reason != "Truck launch in March." || got.Plan == nil || got.Plan.TargetDate != "2027-06-01" {
			t.Fatalf("after the edit: %+v, %v", got, err)
		}

		if _, err := bd.Vote(ctx, e.ID, alice, ccb.VoteApprove, ""); err != nil {
			t.Fatal(err)
		}
		notes, err := d.Notifications(ctx, "fleet", 20)
		if err != nil {
			t.Fatal(err)
		}
		told := map[string]string{}
		for _, n := range notes {
			if n.Kind == "ccb.decision" {
				told[n.Target] = n.Message
			}
		}
		link := fmt.Sprintf("https://gate.example/ccb/%d", e.ID)
		if m := told[app.RequesterRole]; !strings.Contains(m, "Rita Requester") || !strings.Contains(m, "approved by Alice") || !strings.HasSuffix(m, link) {
			t.Errorf("the requester was told %q, want the approval and %s", m, link)
		}
		if m := told[app.CCBRole]; !strings.HasSuffix(m, link) {
			t.Errorf("the board was told %q", m)
		}

		if _, err := bd.Revoke(ctx, e.ID, rita, "mine"); budgetgate.ErrorCode(err) != budgetgate.EFORBIDDEN {
			t.Fatalf("a viewer's revocation: %v, want forbidden", err)
		}
		if _, err := bd.Revoke(ctx, e.ID, bob, "The launch moved."); err != nil {
			t.Fatal(err)
		}
		got, err = d.Exception(ctx, e.ID)
		if err != nil || got.Status != ccb.ExceptionExpired || got.Revoked == nil || got.Revoked.By.Name != "Bob" || got.Revoked.Reason != "The launch moved." {
			t.Fatalf("after the revocation: %+v (revoked %+v), %v", got, got.Revoked, err)
		}
		for _, action := range []string{"exception.edit", "exception.revoke"} {
			entries, err := d.AuditLog(ctx, app.AuditFilter{Action: action, Subject: app.ExceptionSubject(e.ID)})
			if err != nil || len(entries) != 1 {
				t.Errorf("audit %s: %d entries, %v; want 1", action, len(entries), err)
			}
		}
	})
}
