package db

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/app"
)

func TestClaimLease(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		d := openAt(t, b, now)
		at := func(s time.Duration) { d.Now = func() time.Time { return now.Add(s) } }
		ttl := 10 * time.Second
		steps := []struct {
			name    string
			at      time.Duration
			holder  string
			release bool
			want    bool   // claim: held afterwards
			owner   string // LeaseHolder afterwards
		}{
			{name: "a free lease is taken", at: 0, holder: "a", want: true, owner: "a"},
			{name: "its holder renews it", at: 5 * time.Second, holder: "a", want: true, owner: "a"},
			{name: "another cannot take it before it expires", at: 14 * time.Second, holder: "b", want: false, owner: "a"},
			{name: "another takes it once expired", at: 15 * time.Second, holder: "b", want: true, owner: "b"},
			{name: "the former holder cannot renew it", at: 16 * time.Second, holder: "a", want: false, owner: "b"},
			{name: "a release by someone else is ignored", at: 17 * time.Second, holder: "a", release: true, owner: "b"},
			{name: "its holder releases it", at: 17 * time.Second, holder: "b", release: true, owner: ""},
			{name: "a released lease is taken at once", at: 18 * time.Second, holder: "a", want: true, owner: "a"},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				at(s.at)
				if s.release {
					if err := d.ReleaseLease(ctx, "work", s.holder); err != nil {
						t.Fatal(err)
					}
				} else {
					held, err := d.ClaimLease(ctx, "work", s.holder, ttl)
					if err != nil {
						t.Fatal(err)
					}
					if held != s.want {
						t.Errorf("claim by %s: held = %v, want %v", s.holder, held, s.want)
					}
				}
				owner, err := d.LeaseHolder(ctx, "work")
				if err != nil {
					t.Fatal(err)
				}
				if owner != s.owner {
					t.Errorf("holder = %q, want %q", owner, s.owner)
				}
			})
		}
		t.Run("leases are independent by name", func(t *testing.T) {
			held, err := d.ClaimLease(ctx, "other-work", "b", ttl)
			if err != nil || !held {
				t.Fatalf("claim of another lease: held %v, err %v", held, err)
			}
		})
	})
}

func TestClaimLeaseConcurrent(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d := openAt(t, b, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i := range 20 {
			wg.Go(func() {
				held, err := d.ClaimLease(context.Background(), "work", string(rune('a'+i)), time.Minute)
				if err != nil {
					t.Error(err)
				}
				if held {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("%d claimants hold the lease, want exactly 1", winners)
		}
	})
}

// enqueue queues n notifications with a webhook, as a use case would.
func enqueue(t *testing.T, d *DB, n int) {
	t.Helper()
	err := d.Update(context.Background(), func(tx app.Tx) error {
		for range n {
			if err := tx.Enqueue(context.Background(), "escalation", "api", "sre", "budget low", "http://hook.invalid/x"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClaimNotificationOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		d := openAt(t, b, now)
		enqueue(t, d, 30)
		var mu sync.Mutex
		claimedBy := map[int64][]string{}
		var wg sync.WaitGroup
		for _, holder := range []string{"a", "b", "c"} {
			wg.Go(func() {
				for {
					n, err := d.ClaimNotification(ctx, holder, now, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if n == nil {
						return
					}
					mu.Lock()
					claimedBy[n.ID] = append(claimedBy[n.ID], holder)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claimedBy) != 30 {
			t.Errorf("%d notifications claimed, want 30", len(claimedBy))
		}
		for id, holders := range claimedBy {
			if len(holders) != 1 {
				t.Errorf("notification %d claimed by %v, want one claimant", id, holders)
			}
		}
	})
}

func TestClaimNotificationHandOver(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		d := openAt(t, b, now)
		enqueue(t, d, 1)
		first, err := d.ClaimNotification(ctx, "a", now, time.Minute)
		if err != nil || first == nil {
			t.Fatalf("first claim: %v, %v", first, err)
		}
		t.Run("not due again while claimed", func(t *testing.T) {
			n, err := d.ClaimNotification(ctx, "b", now.Add(59*time.Second), time.Minute)
			if err != nil || n != nil {
				t.Fatalf("claim during the hold: %v, %v; want nothing", n, err)
			}
		})
		t.Run("taken over once the claim lapses", func(t *testing.T) {
			n, err := d.ClaimNotification(ctx, "b", now.Add(time.Minute), time.Minute)
			if err != nil || n == nil || n.ID != first.ID {
				t.Fatalf("claim after the hold: %v, %v; want notification %d", n, err, first.ID)
			}
		})
		t.Run("the lapsed claimant records nothing", func(t *testing.T) {
			ok, err := d.MarkDelivery(ctx, first.ID, "a", nil)
			if err != nil || ok {
				t.Fatalf("MarkDelivery by the lapsed claimant: recorded %v, %v; want false", ok, err)
			}
		})
		t.Run("the claimant records the outcome", func(t *testing.T) {
			ok, err := d.MarkDelivery(ctx, first.ID, "b", errors.New("webhook answered 500"))
			if err != nil || !ok {
				t.Fatalf("MarkDelivery by the claimant: recorded %v, %v", ok, err)
			}
			ns, err := d.Notifications(ctx, "api", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != 1 || ns[0].Attempts != 1 || ns[0].State != app.NotifyPending || ns[0].LastError != "webhook answered 500" {
				t.Fatalf("after one failed attempt: %+v", ns)
			}
		})
	})
}
