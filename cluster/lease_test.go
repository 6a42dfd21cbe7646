package cluster

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/pgtest"
)

const ttl = 600 * time.Millisecond

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// backends are where the store may be: a fresh database of each.
var backends = []struct {
	name  string
	fresh func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "cluster.db") }},
	{"postgres", pgtest.DSN},
}

// eachBackend runs f on a fresh database of each backend.
func eachBackend(t *testing.T, f func(t *testing.T, d *db.DB)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, openDB(t, b.fresh(t))) })
	}
}

func openDB(t *testing.T, dsn string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// instance is one Leases with the work it runs under lease "work".
type instance struct {
	leases  *Leases
	link    *link
	stop    context.CancelFunc
	stopped chan struct{}
	runs    atomic.Int32 // how many times its work started
}

// start runs work under lease "work" on a new instance of store; running
// counts the instances running it at once and peak the most seen.
func start(t *testing.T, d *db.DB, running, peak *atomic.Int32) *instance {
	t.Helper()
	l := &link{DB: d}
	in := &instance{leases: &Leases{Store: l, Holder: NewHolder(), TTL: ttl, Log: slog.New(slog.DiscardHandler)}, link: l, stopped: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	go func() {
		defer close(in.stopped)
		in.leases.Run(ctx, "work", func(ctx context.Context) {
			in.runs.Add(1)
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-ctx.Done()
			running.Add(-1)
		})
	}()
	t.Cleanup(func() { cancel(); <-in.stopped })
	return in
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !cond() {
		if time.Since(begin) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(begin)
}

func TestLeaseRunsWorkOnce(t *testing.T) {
	eachBackend(t, testLeaseRunsWorkOnce)
}

func testLeaseRunsWorkOnce(t *testing.T, d *db.DB) {
	var running, peak atomic.Int32
	var all []*instance
	for range 3 {
		all = append(all, start(t, d, &running, &peak))
	}
	waitFor(t, "one instance runs the work", 2*time.Second, func() bool { return running.Load() == 1 })
	time.Sleep(3 * ttl) // several renewals
	if p := peak.Load(); p != 1 {
		t.Fatalf("%d instances ran the work at once, want 1", p)
	}
	started := 0
	for _, in := range all {
		started += int(in.runs.Load())
	}
	if started != 1 {
		t.Fatalf("the work started %d times while one instance kept its lease, want once", started)
	}
}

func TestLeaseHandOver(t *testing.T) {
	tests := []struct {
		name string
		// leave makes the holder go away and says how fast the work must move.
		leave  func(t *testing.T, d *db.DB, holder *instance)
		within time.Duration
	}{
		{
			name: "clean stop releases at once",
			leave: func(t *testing.T, d *db.DB, holder *instance) {
				holder.stop()
				<-holder.stopped
			},
			within: ttl/3 + 300*time.Millisecond,
		},
		{
			// An instance that dies stops renewing: its lease runs out.
			name: "a holder that stops renewing loses the work when the lease expires",
			leave: func(t *testing.T, d *db.DB, holder *instance) {
				holder.link.cut.Store(true)
			},
			within: ttl + ttl/3 + 500*time.Millisecond,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, d *db.DB) {
				var running, peak atomic.Int32
				first := start(t, d, &running, &peak)
				waitFor(t, "the first instance runs the work", 2*time.Second, func() bool { return first.runs.Load() == 1 })
				second := start(t, d, &running, &peak)
				time.Sleep(ttl / 2)
				if second.runs.Load() != 0 {
					t.Fatal("the second instance ran the work while the first held the lease")
				}
				tc.leave(t, d, first)
				took := waitFor(t, "the second instance takes the work over", tc.within, func() bool { return second.runs.Load() == 1 })
				t.Logf("taken over after %v", took)
				if p := peak.Load(); p != 1 {
					t.Fatalf("%d instances ran the work at once during the hand-over, want 1", p)
				}
			})
		})
	}
}

// link is an instance's way to the store; once cut, every call fails as on
// a lost network, which is what the others see of an instance that died.
type link struct {
	*db.DB
	cut atomic.Bool
}

func (l *link) ClaimLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if l.cut.Load() {
		return false, context.DeadlineExceeded
	}
	return l.DB.ClaimLease(ctx, name, holder, ttl)
}

func (l *link) ReleaseLease(ctx context.Context, name, holder string) error {
	if l.cut.Load() {
		return context.DeadlineExceeded
	}
	return l.DB.ReleaseLease(ctx, name, holder)
}

func TestLeaseLostStopsWork(t *testing.T) {
	eachBackend(t, testLeaseLostStopsWork)
}

func testLeaseLostStopsWork(t *testing.T, d *db.DB) {
	var running, peak atomic.Int32
	in := start(t, d, &running, &peak)
	waitFor(t, "the instance runs the work", 2*time.Second, func() bool { return running.Load() == 1 })
	// Cut the instance off from the store: its work must stop before its
	// lease can have expired for anyone else.
	in.link.cut.Store(true)
	waitFor(t, "the work stops", ttl, func() bool { return running.Load() == 0 })
}
