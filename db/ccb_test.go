package db

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
)

var (
	testIssuer = "https://idp.test"
	rita       = budgetgate.User{Issuer: testIssuer, Subject: "rita", Name: "Rita Requester", Roles: []budgetgate.Role{"viewer"}}
	alice      = budgetgate.User{Issuer: testIssuer, Subject: "alice", Name: "Alice", Roles: []budgetgate.Role{"viewer", "ccb"}}
	bob        = budgetgate.User{Issuer: testIssuer, Subject: "bob", Name: "Bob", Roles: []budgetgate.Role{"viewer", "ccb"}}
)

// clock is a settable time for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTest(t *testing.T, b backend) (*DB, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	d := openAt(t, b, c.t)
	d.Now = c.now
	return d, c
}

// deniedRelease stores a policy for a service without SLI data, so that the
// gate denies (on_no_data defaults to deny), and evaluates one release.
func deniedRelease(t *testing.T, d *DB, service, version string) *errorbudget.Decision {
	t.Helper()
	ctx := context.Background()
	src := []byte(fmt.Sprintf("service: %s\nslo_target: 99.9\nwindow: 30d\n", service))
	p, err := errorbudget.ParsePolicy(service+".yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SavePolicy(ctx, p, service+".yaml", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	dec, err := evaluate(ctx, d, errorbudget.Release{Service: service, Version: version, RiskLevel: "low", ReleaseType: "feature"}, rita.Actor())
	if err != nil {
		t.Fatal(err)
	}
	if dec.Approved {
		t.Fatalf("the test needs a denied release; got %+v", dec)
	}
	return dec
}

func openRequest(t *testing.T, d *DB, dec *errorbudget.Decision, rules ccb.CCBRules, hooks app.CCBNotify) *ccb.Exception {
	t.Helper()
	e, created, err := board(d, rules, hooks).Open(context.Background(), ccb.ExceptionRequest{
		Kind: ccb.ExceptionRelease, Subject: ccb.ExceptionSubject{DecisionID: dec.ID},
		Reason: "Hotfix for the ledger rounding bug.",
	}, rita.Actor())
	if err != nil || !created {
		t.Fatalf("OpenException: created %v, err %v", created, err)
	}
	return e
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, _ := openTest(t, b)
		ctx := context.Background()
		if _, _, err := d.CreateToken(ctx, "ci", []string{"read"}, budgetgate.SystemActor); err != nil {
			t.Fatal(err)
		}
		stmts := []string{
			`UPDATE audit_log SET detail = 'nothing happened'`,
			`DELETE FROM audit_log`,
		}
		if b.name == postgresBackend.name {
			stmts = append(stmts, `TRUNCATE audit_log`)
		}
		for _, stmt := range stmts {
			t.Run(strings.Fields(stmt)[0], func(t *testing.T) {
				_, err := d.write.ExecContext(ctx, stmt)
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Fatalf("%s: err = %v, want the database to refuse it", stmt, err)
				}
			})
		}
		entries, err := d.AuditLog(ctx, app.AuditFilter{Action: "token.create"})
		if err != nil || len(entries) != 1 || entries[0].Detail == "nothing happened" {
			t.Fatalf("audit log after refused changes: %+v, %v", entries, err)
		}
	})
}

func TestSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, c := openTest(t, b)
		ctx := context.Background()
		lim := app.SessionLimits{Idle: 8 * time.Hour, Absolute: 24 * time.Hour}

		first, err := d.Login(ctx, alice, "")
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.Session(ctx, first.ID, lim)
		if err != nil || s.User.Name != "Alice" || !s.User.Has("ccb") || s.CSRF != first.CSRF {
			t.Fatalf("Session = %+v, %v", s, err)
		}

		// Logging in again rotates: the old id stops working.
		second, err := d.Login(ctx, alice, first.ID)
		if err != nil || second.ID == first.ID {
			t.Fatalf("second login: %v (same id: %v)", err, second.ID == first.ID)
		}
		if _, err := d.Session(ctx, first.ID, lim); budgetgate.ErrorCode(err) != budgetgate.EUNAUTHORIZED {
			t.Errorf("replaced session still works: %v", err)
		}

		// Roles are re-read at every login.
		demoted := alice
		demoted.Roles = []budgetgate.Role{"viewer"}
		third, err := d.Login(ctx, demoted, "")
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := d.Session(ctx, third.ID, lim); s == nil || s.User.Has("ccb") {
			t.Errorf("roles after demotion: %+v", s)
		}

		tests := []struct {
			name    string
			advance []time.Duration // each followed by a use of the session
			ok      bool
		}{
			{"used every 7h for 21h", []time.Duration{7 * time.Hour, 7 * time.Hour, 7 * time.Hour}, true},
			{"idle for 8h", []time.Duration{8 * time.Hour}, false},
			{"used every 7h past 24h", []time.Duration{7 * time.Hour, 7 * time.Hour, 7 * time.Hour, 7 * time.Hour}, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, err := d.Login(ctx, bob, "")
				if err != nil {
					t.Fatal(err)
				}
				for _, step := range tt.advance {
					c.add(step)
					_, err = d.Session(ctx, s.ID, lim)
				}
				if (err == nil) != tt.ok {
					t.Errorf("after %v: err = %v, want ok=%v", tt.advance, err, tt.ok)
				}
			})
		}

		if err := d.Logout(ctx, second.ID, alice.Actor()); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Session(ctx, second.ID, lim); budgetgate.ErrorCode(err) != budgetgate.EUNAUTHORIZED {
			t.Errorf("session after logout: %v", err)
		}
		for _, action := range []string{"login", "logout"} {
			if es, _ := d.AuditLog(ctx, app.AuditFilter{Action: action}); len(es) == 0 || es[0].Actor.Subject == "" {
				t.Errorf("no %s in the audit log", action)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, c := openTest(t, b)
		ctx := context.Background()
		secret, tok, err := d.CreateToken(ctx, "ci", []string{"ingest", "gate"}, budgetgate.SystemActor)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, tok.Prefix) || len(secret) < 30 {
			t.Fatalf("secret %q, prefix %q", secret, tok.Prefix)
		}
		var stored int
		d.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM tokens WHERE hash = ? OR prefix = ?`, secret, secret).Scan(&stored)
		if stored != 0 {
			t.Error("the secret is stored in clear")
		}

		got, err := d.AuthenticateToken(ctx, secret)
		if err != nil || got.ID != tok.ID || !got.Allows("gate") || got.Allows("read") || got.LastUsedAt == nil {
			t.Fatalf("AuthenticateToken = %+v, %v", got, err)
		}
		for _, bad := range []string{"", secret + "x", "bgt_" + strings.Repeat("A", 26), strings.TrimPrefix(secret, "bgt_")} {
			if _, err := d.AuthenticateToken(ctx, bad); budgetgate.ErrorCode(err) != budgetgate.EUNAUTHORIZED {
				t.Errorf("AuthenticateToken(%q) = %v, want unauthorized", bad, err)
			}
		}

		c.add(time.Hour)
		if err := d.RevokeToken(ctx, tok.ID, budgetgate.SystemActor); err != nil {
			t.Fatal(err)
		}
		if _, err := d.AuthenticateToken(ctx, secret); budgetgate.ErrorCode(err) != budgetgate.EUNAUTHORIZED {
			t.Errorf("revoked token still works: %v", err)
		}
		if err := d.RevokeToken(ctx, tok.ID, budgetgate.SystemActor); budgetgate.ErrorCode(err) != budgetgate.ECONFLICT {
			t.Errorf("second revoke: %v", err)
		}
		list, _ := d.Tokens(ctx)
		if len(list) != 1 || list[0].RevokedAt == nil || list[0].LastUsedAt == nil {
			t.Errorf("Tokens = %+v", list)
		}
	})
}

func TestExceptionLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, c := openTest(t, b)
		ctx := context.Background()
		hooks := app.CCBNotify{Hooks: app.Webhooks{"ccb": "http://127.0.0.1:9/hook"}, BaseURL: "http://127.0.0.1:8080"}
		dec := deniedRelease(t, d, "ledger", "2.0.1")
		e := openRequest(t, d, dec, ccb.DefaultCCBRules(), hooks)

		// Asking again for the same release returns the open request.
		again, created, err := board(d, ccb.DefaultCCBRules(), hooks).Open(ctx, ccb.ExceptionRequest{Kind: "release",
			Subject: ccb.ExceptionSubject{DecisionID: dec.ID}, Reason: "again"}, rita.Actor())
		if err != nil || created || again.ID != e.ID {
			t.Fatalf("second request: %+v created=%v err=%v", again, created, err)
		}

		if _, err := board(d, ccb.DefaultCCBRules(), hooks).Vote(ctx, e.ID, budgetgate.User{Issuer: rita.Issuer, Subject: rita.Subject, Name: rita.Name, Roles: []budgetgate.Role{"viewer", "ccb"}}, "approve", ""); budgetgate.ErrorCode(err) != budgetgate.EFORBIDDEN {
			t.Fatalf("requester's own vote: %v", err)
		}
		c.add(10 * time.Minute)
		got, err := board(d, ccb.DefaultCCBRules(), hooks).Vote(ctx, e.ID, alice, "approve", "Watch the reconciliation job.")
		if err != nil || got.Status != ccb.ExceptionApproved {
			t.Fatalf("approve: %+v, %v", got, err)
		}

		rel := dec.Release
		covered, err := evaluate(ctx, d, rel, rita.Actor())
		if err != nil {
			t.Fatal(err)
		}
		wantReason := fmt.Sprintf("CCB exception %d approved by Alice", e.ID)
		if !covered.Approved || covered.Reason != wantReason || !containsString(covered.Conditions, "CCB (Alice): Watch the reconciliation job.") {
			t.Errorf("covered release: %+v", covered)
		}
		var linked int64
		d.read.QueryRowContext(context.Background(), `SELECT exception_id FROM decisions WHERE id = ?`, covered.ID).Scan(&linked)
		if linked != e.ID {
			t.Errorf("decision %d links exception %d, want %d", covered.ID, linked, e.ID)
		}
		other := rel
		other.Version = "2.0.2"
		if dec2, _ := evaluate(ctx, d, other, rita.Actor()); dec2 == nil || dec2.Approved {
			t.Errorf("another version got through: %+v", dec2)
		}

		// 23h later the 1h reminder is due; at 24h the approval ends.
		c.add(23 * time.Hour)
		if exp, rem, err := board(d, ccb.DefaultCCBRules(), hooks).Sweep(ctx); err != nil || exp != 0 || rem != 1 {
			t.Fatalf("sweep at 23h: expired %d reminded %d err %v", exp, rem, err)
		}
		if _, rem, _ := board(d, ccb.DefaultCCBRules(), hooks).Sweep(ctx); rem != 0 {
			t.Errorf("the reminder was sent twice")
		}
		c.add(time.Hour)
		if exp, _, err := board(d, ccb.DefaultCCBRules(), hooks).Sweep(ctx); err != nil || exp != 1 {
			t.Fatalf("sweep at 24h: expired %d err %v", exp, err)
		}
		if late, _ := evaluate(ctx, d, rel, rita.Actor()); late == nil || late.Approved {
			t.Errorf("release after the exception expired: %+v", late)
		}
		if got, _ := d.Exception(ctx, e.ID); got.Status != ccb.ExceptionExpired || len(got.Votes) != 1 {
			t.Errorf("exception after expiry: %+v", got)
		}

		notes, _ := d.Notifications(ctx, "ledger", 10)
		var kinds []string
		for _, n := range notes {
			if n.Target == "ccb" {
				kinds = append(kinds, n.Kind)
				if !strings.Contains(n.Message, fmt.Sprintf("/ccb/%d", e.ID)) || n.State != app.NotifyPending {
					t.Errorf("notification %+v", n)
				}
			}
		}
		if strings.Join(kinds, ",") != "ccb.expiry,ccb.decision,ccb.request" {
			t.Errorf("CCB notifications (newest first) = %v", kinds)
		}
		for _, action := range []string{"exception.open", "exception.vote", "exception.approved", "exception.expire"} {
			if es, _ := d.AuditLog(ctx, app.AuditFilter{Action: action, Subject: app.ExceptionSubject(e.ID)}); len(es) != 1 {
				t.Errorf("audit %s: %d entries", action, len(es))
			}
		}
	})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestOpenExceptionRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, _ := openTest(t, b)
		ctx := context.Background()
		deniedRelease(t, d, "ledger", "1.0.0")
		tests := []struct {
			name       string
			decisionID int64
			reason     string
			code       string
		}{
			{"unknown decision", 999, "why", budgetgate.ENOTFOUND},
			{"reason missing", 1, "", budgetgate.EINVALID},
			{"reason too long", 1, strings.Repeat("x", 4001), budgetgate.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Open(ctx, ccb.ExceptionRequest{Kind: "release",
					Subject: ccb.ExceptionSubject{DecisionID: tt.decisionID}, Reason: tt.reason}, rita.Actor())
				if budgetgate.ErrorCode(err) != tt.code {
					t.Errorf("err = %v, want %s", err, tt.code)
				}
			})
		}
		var n int
		d.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM exceptions`).Scan(&n)
		if n != 0 {
			t.Errorf("%d requests stored after refusals", n)
		}
	})
}

// Concurrent votes must never both decide: with one approval required, of
// many members voting at once exactly one vote lands and the rest are 409s.
func TestConcurrentVotesDecideOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, _ := openTest(t, b)
		ctx := context.Background()
		e := openRequest(t, d, deniedRelease(t, d, "ledger", "3.0.0"), ccb.DefaultCCBRules(), app.CCBNotify{})
		const voters = 8
		var wg sync.WaitGroup
		errs := make([]error, voters)
		for i := range voters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := budgetgate.User{Issuer: testIssuer, Subject: fmt.Sprintf("member%d", i), Name: fmt.Sprintf("Member %d", i), Roles: []budgetgate.Role{"viewer", "ccb"}}
				decision, comment := "approve", ""
				if i%2 == 1 {
					decision, comment = "reject", "not now"
				}
				_, errs[i] = board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Vote(ctx, e.ID, u, decision, comment)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch budgetgate.ErrorCode(err) {
			case "":
				ok++
			case budgetgate.ECONFLICT:
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		got, _ := d.Exception(ctx, e.ID)
		var decisions int
		d.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN ('exception.approved', 'exception.rejected') AND subject = ?`, app.ExceptionSubject(e.ID)).Scan(&decisions)
		if ok != 1 || len(got.Votes) != 1 || decisions != 1 {
			t.Errorf("%d votes accepted, %d stored, %d outcomes audited; want 1 each", ok, len(got.Votes), decisions)
		}
	})
}

func TestPendingRequestExpiresAfterSevenDays(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, c := openTest(t, b)
		ctx := context.Background()
		e := openRequest(t, d, deniedRelease(t, d, "ledger", "4.0.0"), ccb.DefaultCCBRules(), app.CCBNotify{})
		c.add(7*24*time.Hour - time.Minute)
		if pending, _ := d.Exceptions(ctx, app.ExceptionFilter{Statuses: []ccb.ExceptionStatus{"pending"}}); len(pending) != 1 {
			t.Fatalf("pending just before 7 days: %d", len(pending))
		}
		c.add(time.Minute)
		if pending, _ := d.Exceptions(ctx, app.ExceptionFilter{Statuses: []ccb.ExceptionStatus{"pending"}}); len(pending) != 0 {
			t.Errorf("still pending after 7 days")
		}
		if expired, _ := d.Exceptions(ctx, app.ExceptionFilter{Statuses: []ccb.ExceptionStatus{"expired"}}); len(expired) != 1 {
			t.Errorf("not listed as expired")
		}
		if _, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Vote(ctx, e.ID, alice, "approve", ""); budgetgate.ErrorCode(err) != budgetgate.ECONFLICT {
			t.Errorf("vote on an expired request: %v", err)
		}
		var stored string
		d.read.QueryRowContext(context.Background(), `SELECT status FROM exceptions WHERE id = ?`, e.ID).Scan(&stored)
		if stored != "expired" {
			t.Errorf("stored status %q: the refused vote should still record the expiry", stored)
		}
	})
}

// The variant side opens requests with the subject filled in; the store
// keeps them beside release requests and finds the approval that covers a
// measurement.
func TestVariantExceptionHook(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, _ := openTest(t, b)
		ctx := context.Background()
		subject := ccb.ExceptionSubject{AnalysisID: 12, Project: "fleet", Commit: "9f1c", Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Value: 1500}
		e, created, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Open(ctx, ccb.ExceptionRequest{Kind: ccb.ExceptionVariant, Subject: subject,
			Evidence: ccb.ExceptionEvidence{Analysis: []byte(`{"status":"fail"}`)}, Reason: "Truck launch overlay."},
			budgetgate.SystemActor)
		if err != nil || !created {
			t.Fatal(created, err)
		}
		if _, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Vote(ctx, e.ID, alice, "approve", ""); budgetgate.ErrorCode(err) != budgetgate.ECONFLICT {
			t.Fatalf("approval without a plan: %v", err)
		}
		if _, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).SetPlan(ctx, e.ID, ccb.RefactoringPlan{Steps: []string{"merge overlays"}, TargetDate: "2027-06-01"}, budgetgate.SystemActor); err != nil {
			t.Fatal(err)
		}
		if _, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Vote(ctx, e.ID, alice, "approve", ""); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			value float64
			found bool
		}{{1500, true}, {1200, true}, {1501, false}}
		for _, tt := range tests {
			t.Run(fmt.Sprint(tt.value), func(t *testing.T) {
				// As the analysis side reads them: the project's approved
				// exceptions, indexed once.
				list, err := d.Exceptions(ctx, app.ExceptionFilter{Kind: ccb.ExceptionVariant, Project: subject.Project,
					Statuses: []ccb.ExceptionStatus{ccb.ExceptionApproved}})
				cover := ccb.NewVariantCover(list, subject.Project, d.Now())
				if got := cover.Covers(subject.Dimension, subject.Variant, subject.Metric, tt.value); err != nil || got != tt.found {
					t.Errorf("covered %g: %v, %v; want %v", tt.value, got, err, tt.found)
				}
			})
		}
		got, _ := d.Exception(ctx, e.ID)
		if string(got.Evidence.Analysis) != `{"status":"fail"}` || got.Subject.Metric != "lines_of_code" {
			t.Errorf("stored variant request: %+v", got)
		}
	})
}

// evaluate runs the release gate's use case on d, with d's clock.
func evaluate(ctx context.Context, d *DB, rel errorbudget.Release, actor budgetgate.Actor) (*errorbudget.Decision, error) {
	return app.NewReleases(d, func() time.Time { return d.Now() }).Evaluate(ctx, rel, actor)
}

// board is the CCB use case over d.
func board(d *DB, rules ccb.CCBRules, n app.CCBNotify) *app.Board {
	return &app.Board{Store: d, Rules: rules, Notify: n}
}

// TestTokenOwner: a token made by a person on the dashboard belongs to
// them; one made with the CLI or by the server belongs to no one.
func TestTokenOwner(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, _ := openTest(t, b)
		ctx := context.Background()
		owned, _, err := d.CreateOwnedToken(ctx, "laptop", []string{"gate"}, rita.Actor())
		if err != nil {
			t.Fatal(err)
		}
		cli, _, err := d.CreateToken(ctx, "ci", []string{"gate"}, budgetgate.Actor{Issuer: "budgetgate:cli", Subject: "ops", Name: "cli ops"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			secret string
			owner  budgetgate.Actor
		}{{owned, rita.Actor()}, {cli, budgetgate.Actor{}}} {
			tok, err := d.AuthenticateToken(ctx, tc.secret)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Owner != tc.owner || tok.HasOwner() != (tc.owner != budgetgate.Actor{}) {
				t.Errorf("token %q: owner %+v, want %+v", tok.Name, tok.Owner, tc.owner)
			}
		}
		if _, _, err := d.CreateOwnedToken(ctx, "nobody", []string{"gate"}, budgetgate.Actor{}); err == nil {
			t.Error("a token was made for an owner without identity")
		}
	})
}
