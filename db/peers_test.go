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

// twoInstances opens the same fresh PostgreSQL database twice, as two
// instances would; the second listens for the first's changes.
func twoInstances(t *testing.T, now time.Time) (writer, reader *DB) {
	t.Helper()
	dsn := postgresBackend.fresh(t)
	var dbs [2]*DB
	for i := range dbs {
		d, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		d.Now = func() time.Time { return now }
		dbs[i] = d
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dbs[1].Listen(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		dbs[0].Close()
		dbs[1].Close()
	})
	waitUntil(t, "the listener is connected", dbs[1].cachesLive)
	return dbs[0], dbs[1]
}

// waitUntil polls cond for up to a second: what one instance writes, the
// others answer within a second.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a second", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOtherInstancesDropTheirCaches(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	writer, reader := twoInstances(t, now)
	var mu sync.Mutex
	var told []string
	reader.RemoteData(func(service string) {
		mu.Lock()
		told = append(told, service)
		mu.Unlock()
	})
	p := testPolicy(t, writer, "api", 99.9, "30d")

	t.Run("a policy saved on one instance is in force on the other", func(t *testing.T) {
		if _, err := reader.Policy(ctx, "api"); err != nil { // cached now
			t.Fatal(err)
		}
		p2 := testPolicy(t, writer, "api", 99.5, "30d")
		waitUntil(t, "the reader sees the new policy", func() bool {
			got, err := reader.Policy(ctx, "api")
			return err == nil && got.Version == p2.Version
		})
		p = p2
	})

	t.Run("a policy put in force by a review or a restore is in force on the other", func(t *testing.T) {
		if _, err := reader.Policy(ctx, "api"); err != nil { // cached now
			t.Fatal(err)
		}
		p3, err := errorbudget.ParsePolicy("api.yaml", []byte("service: api\nslo_target: 99.95\nwindow: 30d\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := writer.UpdatePolicies(ctx, func(tx app.PolicyTx) error {
			_, err := tx.ActivatePolicy(ctx, p3, "review", budgetgate.SystemActor)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the reader gates with the activated policy", func() bool {
			got, err := reader.Policy(ctx, "api")
			return err == nil && got.Version == p3.Version
		})
		p = p3
	})

	t.Run("SLI data stored on one instance counts on the other", func(t *testing.T) {
		before, err := reader.WindowCounts(ctx, p, &p.SLOs[0], now) // cached now
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := writer.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
			return app.Reply{}, tx.AddSLI(ctx, "api", "default", []errorbudget.SLIEvent{{Time: now.Add(-time.Minute), Good: 90, Total: 100}})
		}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the reader counts the new events", func() bool {
			c, err := reader.WindowCounts(ctx, p, &p.SLOs[0], now)
			return err == nil && c.Window.Total == before.Window.Total+100
		})
		mu.Lock()
		defer mu.Unlock()
		if len(told) == 0 || told[0] != "api" {
			t.Errorf("the reader was told of data for %q, want [api]", told)
		}
	})
}

func TestNoCachesWithoutListener(t *testing.T) {
	ctx := context.Background()
	dsn := postgresBackend.fresh(t)
	writer, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	// An instance whose listener is not connected cannot know what the
	// others changed: it reads afresh every time.
	deaf, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer deaf.Close()
	testPolicy(t, writer, "api", 99.9, "30d")
	if _, err := deaf.Policy(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	p2 := testPolicy(t, writer, "api", 99.5, "30d")
	got, err := deaf.Policy(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != p2.Version {
		t.Fatalf("an instance without a listener answered policy %s from its cache, want %s", got.Version, p2.Version)
	}
}

// TestIdempotencyAcrossInstances sends one Idempotency-Key to two instances
// at once, many times: the write happens once, and every answer is the
// first one's.
func TestIdempotencyAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
		dsn := b.fresh(t)
		var instances [2]*DB
		for i := range instances {
			d, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			d.Now = func() time.Time { return now }
			t.Cleanup(func() { d.Close() })
			instances[i] = d
		}
		p := testPolicy(t, instances[0], "api", 99.9, "30d")
		idem := &app.Idempotency{Scope: "token:1", Key: "retry-1", Body: []byte(`{"events":[...]}`)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		written, replayed := 0, 0
		for i := range 16 {
			d := instances[i%2]
			wg.Go(func() {
				r, again, err := d.Idempotent(ctx, idem, func(tx app.Tx) (app.Reply, error) {
					return app.Reply{Body: []byte(`{"accepted":1}`), Created: true},
						tx.AddSLI(ctx, "api", "default", []errorbudget.SLIEvent{{Time: now.Add(-time.Minute), Good: 1, Total: 1}})
				})
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				if string(r.Body) != `{"accepted":1}` || !r.Created {
					t.Errorf("request %d answered %s (created %v), want the first answer", i, r.Body, r.Created)
				}
				mu.Lock()
				defer mu.Unlock()
				if again {
					replayed++
				} else {
					written++
				}
			})
		}
		wg.Wait()
		if written != 1 || replayed != 15 {
			t.Errorf("written %d, replayed %d; want 1 and 15", written, replayed)
		}
		c, err := instances[1].windowCounts(ctx, p, &p.SLOs[0], now)
		if err != nil {
			t.Fatal(err)
		}
		if c.Window.Total != 1 {
			t.Errorf("the window holds %d events, want 1: the write ran more than once", c.Window.Total)
		}
	})
}

// Votes sent at once to two instances decide once: with one approval
// required, exactly one vote lands and the rest are conflicts.
func TestConcurrentVotesAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, c := openTest(t, b)
		other, err := Open(context.Background(), d.Path)
		if err != nil {
			t.Fatal(err)
		}
		other.Now = c.now
		t.Cleanup(func() { other.Close() })
		instances := []*DB{d, other}
		ctx := context.Background()
		e := openRequest(t, d, deniedRelease(t, d, "ledger", "3.0.0"), ccb.DefaultCCBRules(), app.CCBNotify{})
		const voters = 8
		var wg sync.WaitGroup
		errs := make([]error, voters)
		for i := range voters {
			wg.Go(func() {
				u := budgetgate.User{Issuer: testIssuer, Subject: fmt.Sprintf("member%d", i), Name: fmt.Sprintf("Member %d", i), Roles: []budgetgate.Role{"viewer", "ccb"}}
				decision, comment := "approve", ""
				if i%4 >= 2 {
					decision, comment = "reject", "not now"
				}
				_, errs[i] = board(instances[i%2], ccb.DefaultCCBRules(), app.CCBNotify{}).Vote(ctx, e.ID, u, decision, comment)
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch budgetgate.ErrorCode(err) {
			case "":
				ok++
			case budgetgate.ECONFLICT:
			default:
				t.Errorf("vote %d on instance %d: %v", i, i%2, err)
			}
		}
		for _, in := range instances {
			got, err := in.Exception(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Votes) != 1 || got.Status == "pending" {
				t.Errorf("an instance reads %d votes and status %s; want 1 vote and a decision", len(got.Votes), got.Status)
			}
		}
		var decisions int
		d.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN ('exception.approved', 'exception.rejected') AND subject = ?`, app.ExceptionSubject(e.ID)).Scan(&decisions)
		if ok != 1 || decisions != 1 {
			t.Errorf("%d votes accepted, %d outcomes audited; want 1 each", ok, decisions)
		}
	})
}

// TestPolicyInForceIsLockedAcrossInstances: a review judges a change
// against the version in force; until it commits, another instance cannot
// read that version to judge a change of its own (else a change judged a
// tightening could replace a stricter one put in force meanwhile).
func TestPolicyInForceIsLockedAcrossInstances(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	a, b := twoInstances(t, now)
	testPolicy(t, a, "api", 99.5, "30d")
	locked, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- a.UpdatePolicies(ctx, func(tx app.PolicyTx) error {
			if _, _, err := tx.PolicyInForce(ctx, "api"); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	second := make(chan error, 1)
	go func() {
		second <- b.UpdatePolicies(ctx, func(tx app.PolicyTx) error {
			_, _, err := tx.PolicyInForce(ctx, "api")
			return err
		})
	}()
	select {
	case err := <-second:
		close(release)
		<-first
		t.Fatalf("the other instance read the policy in force while a review held it (%v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}
