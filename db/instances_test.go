package db

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// openTwice opens two stores on one fresh database of backend b, as two
// instances of the server would, both with clock c.
func openTwice(t *testing.T, b backend, c *clock) (*DB, *DB) {
	t.Helper()
	where := b.fresh(t)
	var out [2]*DB
	for i := range out {
		d, err := Open(context.Background(), where)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		d.Now = c.now
		out[i] = d
	}
	return out[0], out[1]
}

// Votes sent to two instances at once still decide a request once: the
// vote that decides holds the request until it commits.
func TestVotesAcrossInstancesDecideOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		c := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
		d1, d2 := openTwice(t, b, c)
		ctx := context.Background()
		e := openRequest(t, d1, deniedRelease(t, d1, "ledger", "3.0.0"), ccb.DefaultCCBRules(), app.CCBNotify{})
		const voters = 8
		var wg sync.WaitGroup
		errs := make([]error, voters)
		for i := range voters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := []*DB{d1, d2}[i%2]
				u := budgetgate.User{Issuer: testIssuer, Subject: fmt.Sprintf("member%d", i), Name: fmt.Sprintf("Member %d", i), Roles: []budgetgate.Role{"viewer", "ccb"}}
				decision, comment := "approve", ""
				if i%4 >= 2 {
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
		got, err := d2.Exception(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		var decisions int
		d1.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN ('exception.approved', 'exception.rejected') AND subject = ?`, app.ExceptionSubject(e.ID)).Scan(&decisions)
		if ok != 1 || len(got.Votes) != 1 || decisions != 1 {
			t.Errorf("%d votes accepted, %d stored, %d outcomes audited; want 1 each", ok, len(got.Votes), decisions)
		}
	})
}

// One Idempotency-Key sent to two instances at once is written once: the
// others get the stored reply.
func TestIdempotencyKeyAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		c := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
		d1, d2 := openTwice(t, b, c)
		ctx := context.Background()
		p := testPolicy(t, d1, "api", 99.9, "30d")
		events := []errorbudget.SLIEvent{{Time: c.t.Add(-time.Minute), Good: 990, Total: 1000}}
		key := &app.Idempotency{Scope: "sli:api", Key: "retry-1", Body: []byte("body")}
		const senders = 8
		var wg sync.WaitGroup
		replays := make([]bool, senders)
		errs := make([]error, senders)
		for i := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := []*DB{d1, d2}[i%2]
				var r app.Reply
				r, replays[i], errs[i] = d.Idempotent(ctx, key, func(tx app.Tx) (app.Reply, error) {
					return app.Reply{Body: []byte(`{"accepted":1}`), Created: true}, tx.AddSLI(ctx, "api", "default", events)
				})
				if errs[i] == nil && string(r.Body) != `{"accepted":1}` {
					errs[i] = fmt.Errorf("reply %q", r.Body)
				}
			}()
		}
		wg.Wait()
		written := 0
		for i, err := range errs {
			if err != nil {
				t.Errorf("sender %d: %v", i, err)
			}
			if !replays[i] {
				written++
			}
		}
		for _, d := range []*DB{d1, d2} {
			d.counts.bump(sloKey("api", "default"))
			got, err := d.WindowCounts(ctx, p, &p.SLOs[0], c.t)
			if err != nil || got.Window.Total != 1000 || written != 1 {
				t.Errorf("%d senders wrote, window total %d (%v); want one write of 1000 events", written, got.Window.Total, err)
			}
		}
	})
}

// Text with a NUL character: SQLite keeps it, PostgreSQL's text cannot hold
// it and the write is refused as invalid input, with nothing stored.
func TestTextWithNUL(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, _ := openTest(t, b)
		ctx := context.Background()
		dec := deniedRelease(t, d, "ledger", "1.0.0")
		_, _, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Open(ctx, ccb.ExceptionRequest{Kind: ccb.ExceptionRelease,
			Subject: ccb.ExceptionSubject{DecisionID: dec.ID}, Reason: "hot\x00fix"}, rita.Actor())
		var n int
		d.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM exceptions`).Scan(&n)
		switch b.name {
		case sqliteBackend.name:
			if err != nil || n != 1 {
				t.Errorf("SQLite: %v, %d requests", err, n)
			}
		default:
			if budgetgate.ErrorCode(err) != budgetgate.EINVALID || n != 0 {
				t.Errorf("PostgreSQL: %v, %d requests; want invalid and none stored", err, n)
			}
		}
	})
}
