package db

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

func TestSegmentsCoverRangeExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		from := int64(rng.IntN(100*86400)) / 60 * 60
		to := from + int64(rng.IntN(40*86400))/60*60
		segs := segments(span{from, to})
		covered := int64(0)
		var all []span
		for i, sp := range segs {
			width := map[string]int64{"sli_minute": 60, "sli_hour": 3600, "sli_day": 86400}[segmentTables[i]]
			if sp.from%width != 0 || sp.to%width != 0 || sp.to < sp.from {
				t.Fatalf("[%d,%d): segment %v not aligned to %d", from, to, sp, width)
			}
			if sp.to > sp.from {
				covered += sp.to - sp.from
				all = append(all, sp)
			}
		}
		if covered != to-from {
			t.Fatalf("[%d,%d): segments cover %d seconds, want %d", from, to, covered, to-from)
		}
		for a := range all {
			for b := a + 1; b < len(all); b++ {
				if all[a].from < all[b].to && all[b].from < all[a].to {
					t.Fatalf("[%d,%d): segments %v and %v overlap", from, to, all[a], all[b])
				}
			}
		}
	}
}

// TestWindowCountsMatchBruteForce posts random events and compares every
// window's sums with a direct sum over the events.
func TestWindowCountsMatchBruteForce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		now := time.Date(2026, 11, 22, 10, 17, 42, 0, time.UTC)
		d := openAt(t, b, now)
		ctx := context.Background()
		for _, window := range []string{"30d", "7d", "4w"} {
			service := "svc-" + window
			p := testPolicy(t, d, service, 99.9, window)
			rng := rand.New(rand.NewPCG(3, uint64(len(window))))
			var events []errorbudget.SLIEvent
			for i := 0; i < 5000; i++ {
				// Spread over the window and a day beyond it, at arbitrary seconds.
				at := now.Add(-time.Duration(rng.Int64N(int64(p.SLOs[0].Window + 24*time.Hour))))
				total := rng.Int64N(1000)
				events = append(events, errorbudget.SLIEvent{Time: at, Good: total - rng.Int64N(total+1)/10, Total: total})
			}
			for i := 0; i < len(events); i += 1000 {
				if _, _, err := d.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
					return app.Reply{}, tx.AddSLI(ctx, service, "default", events[i:i+1000])
				}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := d.WindowCounts(ctx, p, &p.SLOs[0], now)
			if err != nil {
				t.Fatal(err)
			}
			want := func(w time.Duration) errorbudget.Counts {
				var c errorbudget.Counts
				start := now.Add(-w)
				for _, e := range events {
					minute := e.Time.Truncate(time.Minute)
					if minute.After(start) && !minute.After(now) {
						c.Good += e.Good
						c.Total += e.Total
					}
				}
				return c
			}
			if w := want(p.SLOs[0].Window); got.Window != w {
				t.Errorf("%s window: got %+v, want %+v", window, got.Window, w)
			}
			for _, bw := range errorbudget.BurnWindows {
				if w := want(bw.Duration); got.BurnWindows[bw.Name] != w {
					t.Errorf("%s burn window %s: got %+v, want %+v", window, bw.Name, got.BurnWindows[bw.Name], w)
				}
			}
		}
	})
}

func TestIdempotentReplayAndConflict(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		d := openAt(t, b, now)
		ctx := context.Background()
		p := testPolicy(t, d, "api", 99.9, "30d")
		events := []errorbudget.SLIEvent{{Time: now.Add(-time.Minute), Good: 990, Total: 1000}}
		write := func(idem *app.Idempotency) (app.Reply, bool, error) {
			return d.Idempotent(ctx, idem, func(tx app.Tx) (app.Reply, error) {
				return app.Reply{Body: []byte(`{"accepted":1}`), Created: true}, tx.AddSLI(ctx, "api", "default", events)
			})
		}
		key := &app.Idempotency{Scope: "sli:api", Key: "k1", Body: []byte("body")}
		if _, replayed, err := write(key); err != nil || replayed {
			t.Fatalf("first write: replayed=%v err=%v", replayed, err)
		}
		r, replayed, err := write(key)
		if err != nil || !replayed || !r.Created || string(r.Body) != `{"accepted":1}` {
			t.Fatalf("retry: %+v replayed=%v err=%v", r, replayed, err)
		}
		other := &app.Idempotency{Scope: "sli:api", Key: "k1", Body: []byte("another body")}
		_, _, err = write(other)
		var e *budgetgate.Error
		if !errors.As(err, &e) || e.Code != budgetgate.EINVALID || e.Field != "Idempotency-Key" {
			t.Fatalf("same key, other body: got %v, want an invalid Idempotency-Key error", err)
		}
		c, err := d.WindowCounts(ctx, p, &p.SLOs[0], now)
		if err != nil {
			t.Fatal(err)
		}
		if c.Window.Total != 1000 {
			t.Fatalf("counted %d events, want 1000: a retry must count once", c.Window.Total)
		}
	})
}

func TestAddSLIUnknownServiceStoresNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		d := openAt(t, b, now)
		ctx := context.Background()
		_, _, err := d.Idempotent(ctx, &app.Idempotency{Scope: "sli:nope", Key: "k", Body: []byte("x")}, func(tx app.Tx) (app.Reply, error) {
			return app.Reply{}, tx.AddSLI(ctx, "nope", "default", []errorbudget.SLIEvent{{Time: now, Good: 1, Total: 1}})
		})
		if budgetgate.ErrorCode(err) != budgetgate.ENOTFOUND {
			t.Fatalf("got %v, want not_found", err)
		}
		var n int
		if err := d.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM idempotency_keys`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("idempotency rows = %d (%v), want 0: a failed write must leave nothing", n, err)
		}
	})
}

func TestWindowCountsCacheSeesNewData(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		now := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
		d := openAt(t, b, now)
		ctx := context.Background()
		p := testPolicy(t, d, "api", 99.9, "30d")
		add := func(total int64) {
			if _, _, err := d.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
				return app.Reply{}, tx.AddSLI(ctx, "api", "default", []errorbudget.SLIEvent{{Time: now.Add(-time.Minute), Good: total, Total: total}})
			}); err != nil {
				t.Fatal(err)
			}
		}
		for want := int64(100); want <= 300; want += 100 {
			add(100)
			c, err := d.WindowCounts(ctx, p, &p.SLOs[0], now)
			if err != nil || c.Window.Total != want {
				t.Fatalf("total %d (%v), want %d: the cache must not hide new data", c.Window.Total, err, want)
			}
		}
		// A failed write leaves the cache as it was.
		_, _, err := d.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
			if err := tx.AddSLI(ctx, "api", "default", []errorbudget.SLIEvent{{Time: now, Good: 5, Total: 5}}); err != nil {
				return app.Reply{}, err
			}
			return app.Reply{}, errors.New("fail after writing")
		})
		if err == nil {
			t.Fatal("want the write to fail")
		}
		if c, _ := d.WindowCounts(ctx, p, &p.SLOs[0], now); c.Window.Total != 300 {
			t.Fatalf("after a rolled-back write: total %d, want 300", c.Window.Total)
		}
	})
}
