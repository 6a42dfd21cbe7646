package db

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

var sam = budgetgate.User{Issuer: testIssuer, Subject: "sam", Name: "Sam SRE", Roles: []budgetgate.Role{"viewer", "sre"}}

func searchPolicy(t *testing.T, target string, extra ...string) *errorbudget.Policy {
	t.Helper()
	src := "service: search\nslo_target: " + target + "\nwindow: 28d\n" + strings.Join(extra, "")
	p, err := errorbudget.ParsePolicy("search.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func inForce(t *testing.T, d *DB) float64 {
	t.Helper()
	p, err := d.Policy(context.Background(), "search")
	if err != nil {
		t.Fatal(err)
	}
	return p.SLOs[0].Objective
}

func auditActions(t *testing.T, d *DB) []string {
	t.Helper()
	entries, err := d.AuditLog(context.Background(), app.AuditFilter{Subject: "search"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Action)
	}
	return out
}

// TestPolicyReviewLifecycle: a tightening change takes effect at once; a
// loosening one waits, while the version in force governs, until a
// second person approves; its author cannot.
func TestPolicyReviewLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) { testPolicyReviewLifecycle(t, b) })
}

func testPolicyReviewLifecycle(t *testing.T, b backend) {
	d, _ := openTest(t, b)
	ctx := context.Background()
	review := &app.PolicyReview{Store: d}
	if _, err := d.SavePolicies(ctx, []app.PolicyFile{{Policy: searchPolicy(t, "99.5"), Origin: "search.yaml"}}, app.PolicyDirectoryActor("loaded at start")); err != nil {
		t.Fatal(err)
	}

	out, err := review.Propose(ctx, searchPolicy(t, "99.9"), "api", sam.Actor())
	if err != nil || !out.Active || !out.Changed || out.Change != nil {
		t.Fatalf("tightening: %+v %v, want in force at once", out, err)
	}
	if got := inForce(t, d); got != 99.9 {
		t.Fatalf("in force %v after tightening, want 99.9", got)
	}

	loose := searchPolicy(t, "99.0")
	out, err = review.Propose(ctx, loose, "dashboard", sam.Actor())
	if err != nil || out.Active || out.Change == nil || out.Change.Status != app.PolicyChangePending {
		t.Fatalf("loosening: %+v %v, want a pending change", out, err)
	}
	if got := inForce(t, d); got != 99.9 {
		t.Fatalf("in force %v while the change waits, want 99.9", got)
	}
	id := out.Change.ID
	if again, err := review.Propose(ctx, searchPolicy(t, "99.0"), "api", sam.Actor()); err != nil || again.Change == nil || again.Change.ID != id || again.Changed {
		t.Fatalf("the same change again: %+v %v, want change %d unchanged", again, err, id)
	}
	pending, err := d.PolicyChanges(ctx, app.PolicyChangeFilter{Service: "search", Status: app.PolicyChangePending})
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending changes: %v %v", pending, err)
	}
	if c := pending[0]; !slices.Equal(c.Loosens, []string{"objective lowered from 99.9% to 99.0%"}) ||
		!strings.Contains(string(c.BaseSource), "99.9") || !strings.Contains(string(c.Source), "99.0") || c.Author.Subject != "sam" {
		t.Errorf("pending change: %+v", c)
	}

	refusals := []struct {
		name    string
		d       app.PolicyDecision
		by      budgetgate.User
		code    string
		message string
	}{
		{"the author", app.PolicyDecision{ChangeID: id, Approve: true}, sam, budgetgate.EFORBIDDEN, "another person"},
		{"a viewer", app.PolicyDecision{ChangeID: id, Approve: true}, rita, budgetgate.EFORBIDDEN, "sre and ccb"},
		{"a rejection without a reason", app.PolicyDecision{ChangeID: id}, alice, budgetgate.EINVALID, "why"},
		{"an unknown change", app.PolicyDecision{ChangeID: id + 100, Approve: true}, alice, budgetgate.ENOTFOUND, "no policy change"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := review.Decide(ctx, tt.d, tt.by)
			if budgetgate.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Decide: %v, want %s mentioning %q", err, tt.code, tt.message)
			}
		})
	}
	if got := inForce(t, d); got != 99.9 {
		t.Fatalf("in force %v after refused decisions, want 99.9", got)
	}

	c, err := review.Decide(ctx, app.PolicyDecision{ChangeID: id, Approve: true, Comment: "seasonal traffic"}, alice)
	if err != nil || c.Status != app.PolicyChangeApproved || c.DecidedBy.Subject != "alice" {
		t.Fatalf("approval: %+v %v", c, err)
	}
	if got := inForce(t, d); got != 99.0 {
		t.Fatalf("in force %v after approval, want 99.0", got)
	}
	if _, err := review.Decide(ctx, app.PolicyDecision{ChangeID: id, Approve: true}, bob); budgetgate.ErrorCode(err) != budgetgate.ECONFLICT {
		t.Errorf("a second decision: %v, want conflict", err)
	}
	want := []string{"policy.load", "policy.update", "policy.propose", "policy.approve", "policy.update"}
	if got := auditActions(t, d); !slices.Equal(got, want) {
		t.Errorf("audit log: %q, want %q", got, want)
	}
	history, err := d.PolicyHistory(ctx, "search")
	if err != nil || len(history) != 3 || history[0].ActivatedBy != "Alice" {
		t.Errorf("history: %+v %v, want three versions, the last activated by its approver", history, err)
	}
}

// TestPolicyChangeSuperseded: a change waits against the version in force
// when it was made; once another version takes effect (a tightening
// change, a policy file), it no longer waits and cannot be approved.
func TestPolicyChangeSuperseded(t *testing.T) {
	tests := []struct {
		name  string
		apply func(t *testing.T, d *DB, review *app.PolicyReview)
	}{
		{"a tightening change took effect", func(t *testing.T, d *DB, review *app.PolicyReview) {
			if out, err := review.Propose(context.Background(), searchPolicy(t, "99.7"), "api", alice.Actor()); err != nil || !out.Active {
				t.Fatalf("tightening: %+v %v", out, err)
			}
		}},
		{"the policy directory was reloaded", func(t *testing.T, d *DB, review *app.PolicyReview) {
			files := []app.PolicyFile{{Policy: searchPolicy(t, "99.6"), Origin: "search.yaml"}}
			if _, err := d.SavePolicies(context.Background(), files, app.PolicyDirectoryActor("reloaded on SIGHUP")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a newer loosening change waits", func(t *testing.T, d *DB, review *app.PolicyReview) {
			if out, err := review.Propose(context.Background(), searchPolicy(t, "98"), "api", bob.Actor()); err != nil || out.Change == nil {
				t.Fatalf("newer change: %+v %v", out, err)
			}
		}},
	}
	eachBackend(t, func(t *testing.T, b backend) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d, _ := openTest(t, b)
				ctx := context.Background()
				review := &app.PolicyReview{Store: d}
				if _, err := d.SavePolicy(ctx, searchPolicy(t, "99.5"), "search.yaml", budgetgate.SystemActor); err != nil {
					t.Fatal(err)
				}
				out, err := review.Propose(ctx, searchPolicy(t, "99.0"), "api", sam.Actor())
				if err != nil || out.Change == nil {
					t.Fatalf("loosening: %+v %v", out, err)
				}
				tt.apply(t, d, review)
				if _, err := review.Decide(ctx, app.PolicyDecision{ChangeID: out.Change.ID, Approve: true}, alice); budgetgate.ErrorCode(err) != budgetgate.ECONFLICT {
					t.Fatalf("approving a superseded change: %v, want conflict", err)
				}
				all, err := d.PolicyChanges(ctx, app.PolicyChangeFilter{Service: "search"})
				if err != nil {
					t.Fatal(err)
				}
				if first := all[len(all)-1]; first.Status != app.PolicyChangeSuperseded {
					t.Errorf("the first change is %s, want superseded", first.Status)
				}
				if got := inForce(t, d); got == 99.0 {
					t.Error("the superseded change took effect")
				}
			})
		}
	})
}

// TestRestorePolicyVersion: restoring an earlier version is a change like
// any other: back to a stricter one at once, back to a looser one after
// review; a version of another service or none at all is refused.
func TestRestorePolicyVersion(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) { testRestorePolicyVersion(t, b) })
}

func testRestorePolicyVersion(t *testing.T, b backend) {
	d, _ := openTest(t, b)
	ctx := context.Background()
	review := &app.PolicyReview{Store: d}
	strict, loose := searchPolicy(t, "99.5"), searchPolicy(t, "99.0", "on_no_data: allow\n")
	for _, p := range []*errorbudget.Policy{loose, strict} {
		if _, err := d.SavePolicy(ctx, p, "search.yaml", budgetgate.SystemActor); err != nil {
			t.Fatal(err)
		}
	}
	out, err := review.Restore(ctx, "search", loose.Version, sam.Actor())
	if err != nil || out.Change == nil || len(out.Change.Loosens) != 2 || !strings.HasPrefix(out.Change.Origin, "restore of sha256:") {
		t.Fatalf("restoring the looser version: %+v %v, want a pending change with two loosenings", out, err)
	}
	if _, err := review.Decide(ctx, app.PolicyDecision{ChangeID: out.Change.ID, Comment: "keep the stricter one"}, alice); err != nil {
		t.Fatal(err)
	}
	if got := inForce(t, d); got != 99.5 {
		t.Fatalf("in force %v after the rejection, want 99.5", got)
	}
	if _, err := d.SavePolicy(ctx, mustParsePolicy(t, "service: checkout\nslo_target: 90\n"), "checkout.yaml", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	checkout, _ := d.Policy(ctx, "checkout")
	for _, version := range []string{"sha256:0000", checkout.Version} {
		if _, err := review.Restore(ctx, "search", version, sam.Actor()); budgetgate.ErrorCode(err) != budgetgate.EINVALID {
			t.Errorf("restoring %s: %v, want invalid", version, err)
		}
	}
}

func mustParsePolicy(t *testing.T, src string) *errorbudget.Policy {
	t.Helper()
	p, err := errorbudget.ParsePolicy("policy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
