package app

import (
	"context"
	"fmt"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// ReleaseStore is what evaluating a release needs from the store.
type ReleaseStore interface {
	Writer
	// Write runs fn in a write transaction shared with other waiting
	// writes (group commit), so the hot path of the gate costs one commit
	// among many.
	Write(ctx context.Context, fn func(tx Tx) error) error
	ServiceMetrics(ctx context.Context, service string, now time.Time) (errorbudget.ServiceMetrics, *errorbudget.Policy, error)
}

// Releases evaluates releases against their service's error budget: the
// release gate of docs/BUDGET_MATH.md, Release gate.
type Releases struct {
	Store ReleaseStore
	Now   func() time.Time
}

// NewReleases returns the release-evaluation use case over store.
func NewReleases(store ReleaseStore, now func() time.Time) *Releases {
	return &Releases{Store: store, Now: now}
}

// decide applies the gate to the service's budget now. It reads outside
// the write transaction, so that the single writer is held only for the
// insert.
func (r *Releases) decide(ctx context.Context, rel errorbudget.Release) (errorbudget.Decision, error) {
	now := r.Now().UTC()
	m, p, err := r.Store.ServiceMetrics(ctx, rel.Service, now)
	if err != nil {
		return errorbudget.Decision{}, fmt.Errorf("read the budget of %s: %w", rel.Service, err)
	}
	dec := errorbudget.EvaluateRelease(p, m, rel)
	dec.DecidedAt = now
	dec.Release = rel
	return dec, nil
}

// Evaluate decides a release, stores the decision with the policy version
// it used, and audits it. An approved CCB exception that covers the
// release approves it.
func (r *Releases) Evaluate(ctx context.Context, rel errorbudget.Release, actor budgetgate.Actor) (*errorbudget.Decision, error) {
	dec, err := r.decide(ctx, rel)
	if err != nil {
		return nil, err
	}
	if err := r.Store.Write(ctx, func(tx Tx) error { return recordDecision(ctx, tx, &dec, actor) }); err != nil {
		return nil, fmt.Errorf("record the decision on %s %s: %w", rel.Service, rel.Version, err)
	}
	return &dec, nil
}

// EvaluateOnce is Evaluate under an Idempotency-Key: a retry with the same
// key and body gets the first answer, which reply makes from the decision,
// and no second decision is stored. Without a key (idem nil) it is
// Evaluate, with the reply made outside the write.
func (r *Releases) EvaluateOnce(ctx context.Context, rel errorbudget.Release, actor budgetgate.Actor, idem *Idempotency, reply func(*errorbudget.Decision) (Reply, error)) (Reply, bool, error) {
	if idem == nil {
		dec, err := r.Evaluate(ctx, rel, actor)
		if err != nil {
			return Reply{}, false, err
		}
		out, err := reply(dec)
		return out, false, err
	}
	dec, err := r.decide(ctx, rel)
	if err != nil {
		return Reply{}, false, err
	}
	return r.Store.Idempotent(ctx, idem, func(tx Tx) (Reply, error) {
		if err := recordDecision(ctx, tx, &dec, actor); err != nil {
			return Reply{}, err
		}
		return reply(&dec)
	})
}

// recordDecision stores a decision with the exception that covers it, if
// any, and audits it.
func recordDecision(ctx context.Context, tx Tx, dec *errorbudget.Decision, actor budgetgate.Actor) error {
	exc, err := coveringException(ctx, tx, dec)
	if err != nil {
		return err
	}
	if err := tx.InsertDecision(ctx, dec); err != nil {
		return err
	}
	if exc != nil {
		if err := tx.LinkException(ctx, dec.ID, exc.ID); err != nil {
			return fmt.Errorf("link decision %d to CCB request %d: %w", dec.ID, exc.ID, err)
		}
	}
	verdict := "denied"
	if dec.Approved {
		verdict = "approved"
	}
	rel := dec.Release
	return tx.Audit(ctx, actor, "release.evaluate", rel.Service,
		fmt.Sprintf("decision %d: %s %s: %s", dec.ID, rel.Version, verdict, dec.Reason))
}

// coveringException approves dec if an approved, unexpired release
// exception covers its (service, version), and returns the exception it
// applied.
func coveringException(ctx context.Context, tx Tx, dec *errorbudget.Decision) (*ccb.Exception, error) {
	key := ccb.ExceptionSubject{Service: dec.Release.Service, Version: dec.Release.Version}.Key(ccb.ExceptionRelease)
	e, err := tx.LiveException(ctx, ccb.ExceptionRelease, key)
	if err != nil || e == nil || !e.CoversRelease(dec.Release, tx.Now()) {
		return nil, err
	}
	e.ApplyTo(dec)
	return e, nil
}
