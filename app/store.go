package app

import (
	"context"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// Tx is one write transaction of the store. Everything a use case writes
// inside it commits together, or not at all; it must never begin a
// transaction of its own (SQLite has one writer, and it is tx).
type Tx interface {
	// AddSLI adds counts to an SLO of a service.
	AddSLI(ctx context.Context, service, slo string, events []errorbudget.SLIEvent) error
	SaveAnalysis(ctx context.Context, in NewAnalysis) (*SavedAnalysis, error)
	// CCBRequestFor is the request a blocked (project, commit) already
	// opened, or nil.
	CCBRequestFor(ctx context.Context, project, commit string) (*CCBLink, error)
	LinkCCBRequest(ctx context.Context, analysisID int64, l CCBLink) error
	// Savepoint runs fn in a savepoint of the transaction: if fn fails,
	// what it wrote is undone and stepErr says why, while the rest of the
	// transaction goes on; txErr means the transaction itself is lost.
	Savepoint(ctx context.Context, fn func(tx Tx) error) (stepErr, txErr error)

	// Now is the transaction's clock: what it stamps on what it writes.
	Now() time.Time
	// LiveException is the pending or approved, unexpired request for the
	// subject key, if there is one.
	LiveException(ctx context.Context, kind, key string) (*ccb.Exception, error)
	// LockSubject keeps other instances from opening a request for the
	// same subject until the transaction ends.
	LockSubject(ctx context.Context, kind, key string) error
	InsertDecision(ctx context.Context, dec *errorbudget.Decision) error
	// LinkException records which exception a stored decision relied on.
	LinkException(ctx context.Context, decisionID, exceptionID int64) error
	Audit(ctx context.Context, actor budgetgate.Actor, action, subject, detail string) error
	// Enqueue queues a notification, delivered once the transaction has
	// committed; with no webhook it is only recorded.
	Enqueue(ctx context.Context, kind, subject, target, message, webhookURL string) error
	// EnqueueEscalation is Enqueue for an escalation of one SLO of a service.
	EnqueueEscalation(ctx context.Context, service, slo, target, message, webhookURL string) error

	// DecisionToExcept is the decision a release request names, or nil.
	DecisionToExcept(ctx context.Context, id int64) (*errorbudget.Decision, error)
	InsertException(ctx context.Context, e *ccb.Exception) error
	SaveException(ctx context.Context, e *ccb.Exception) error
	// LockedException reads request id with its votes; nothing else can
	// write until the transaction ends.
	LockedException(ctx context.Context, id int64) (*ccb.Exception, error)
	AddVote(ctx context.Context, id int64, v ccb.Vote) error
	// ExceptViolations marks the open violations an approved variant
	// exception covers as excepted.
	ExceptViolations(ctx context.Context, e *ccb.Exception) error
	// ReopenViolations puts what a revoked variant exception excepted
	// back to open.
	ReopenViolations(ctx context.Context, e *ccb.Exception) error
	UnsettledExceptions(ctx context.Context) ([]Unsettled, error)
	SetReminded(ctx context.Context, id int64, lead time.Duration) error

	EscalationState(ctx context.Context, service, slo string) (errorbudget.EscalationState, error)
	SetEscalations(ctx context.Context, p *errorbudget.Policy, slo string, fired errorbudget.EscalationState, remainingPct float64) error
}

// Writer runs writes. Idempotent runs write in a transaction unless the
// request (idem) was already answered, in which case the stored reply is
// returned with replayed true; with idem nil it always writes.
type Writer interface {
	Idempotent(ctx context.Context, idem *Idempotency, write func(tx Tx) (Reply, error)) (r Reply, replayed bool, err error)
}
