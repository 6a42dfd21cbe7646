// Package cluster runs background work on one instance at a time when
// several share a database. Instances compete for a named lease stored in
// the database; the holder runs the work and renews the lease, and when it
// stops renewing (it died, or lost the database) the lease expires and
// another instance takes the work over. docs/OPERATIONS.md lists the leases.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Store keeps the leases; the claim must be atomic across instances.
type Store interface {
	// ClaimLease takes lease name for holder, or renews it if holder has
	// it, for ttl; held says whether holder has it now.
	ClaimLease(ctx context.Context, name, holder string, ttl time.Duration) (held bool, err error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// DefaultTTL is how long a lease lasts unless renewed: an instance that
// dies hands its work over within about this long.
const DefaultTTL = 15 * time.Second

// Leases runs work under leases held by this instance.
type Leases struct {
	Store  Store
	Holder string        // this instance, unique across the cluster
	TTL    time.Duration // renewed every third of it
	Log    *slog.Logger
}

// New returns Leases for this process, named by NewHolder.
func New(store Store, ttl time.Duration, log *slog.Logger) *Leases {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Leases{Store: store, Holder: NewHolder(), TTL: ttl, Log: log}
}

// NewHolder names this process: host, process id and a random part, since
// two instances on one host may get the same pid in their own namespaces.
func NewHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Run runs work whenever this instance holds lease name, until ctx ends.
// work gets a context that ends when ctx does or when the lease is lost,
// and must return then; while it runs, the lease is renewed every third
// of the TTL. Once work has returned the lease is released, so that on a
// clean shutdown another instance takes over at once. Run returns when
// ctx ends and work has returned.
func (l *Leases) Run(ctx context.Context, name string, work func(ctx context.Context)) {
	retry := time.NewTicker(l.TTL / 3)
	defer retry.Stop()
	for {
		if held, err := l.Store.ClaimLease(ctx, name, l.Holder, l.TTL); err != nil && ctx.Err() == nil {
			l.Log.Warn("lease claim failed", "lease", name, "err", err)
		} else if held {
			l.lead(ctx, name, time.Now(), work)
		}
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
		}
	}
}

// lead runs work while the lease, taken at claimed, is renewed. Work stops
// when another instance has the lease, or when renewals have failed for
// half the TTL: past that, the lease may expire before this instance
// notices, and the work must not run twice.
func (l *Leases) lead(ctx context.Context, name string, claimed time.Time, work func(ctx context.Context)) {
	l.Log.Info("lease taken: running its work here", "lease", name, "holder", l.Holder)
	workCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(workCtx)
	}()
	defer func() {
		stop()
		<-done
		l.release(name)
	}()
	renew := time.NewTicker(l.TTL / 3)
	defer renew.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-renew.C:
		}
		start := time.Now()
		held, err := l.Store.ClaimLease(ctx, name, l.Holder, l.TTL)
		switch {
		case err == nil && held:
			claimed = start
		case err == nil:
			l.Log.Warn("lease lost to another instance: its work stops here", "lease", name, "holder", l.Holder)
			return
		case ctx.Err() != nil:
			return
		case time.Since(claimed) >= l.TTL/2:
			l.Log.Error("lease not renewed in time: its work stops here", "lease", name, "holder", l.Holder, "err", err)
			return
		default:
			l.Log.Warn("lease renewal failed; retrying", "lease", name, "err", err)
		}
	}
}

// release gives the lease up once its work has stopped. It runs on its
// own short deadline, since at shutdown the caller's context is over.
func (l *Leases) release(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Store.ReleaseLease(ctx, name, l.Holder); err != nil {
		l.Log.Warn("lease release failed; it expires on its own", "lease", name, "err", err)
		return
	}
	l.Log.Info("lease released", "lease", name, "holder", l.Holder)
}
