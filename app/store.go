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
	AddSLI(ctx context.Context, service string, events []errorbudget.SLIEvent) error
	SaveAnalysis(ctx context.Context, in NewAnalysis) (*SavedAnalysis, error)
	// CCBRequestFor is the request a blocked (project, commit) already
	// opened, or nil.
	CCBRequestFor(ctx context.Context, project, commit string) (*CCBLink, error)
	LinkCCBRequest(ctx context.Context, analysisID int64, l CCBLink) error
	OpenException(ctx context.Context, req ccb.ExceptionRequest, requester budgetgate.Actor, rules ccb.CCBRules, n CCBNotify) (e *ccb.Exception, created bool, err error)

	// Now is the transaction's clock: what it stamps on what it writes.
	Now() time.Time
	// LiveException is the pending or approved, unexpired request for the
	// subject key, if there is one.
	LiveException(ctx context.Context, kind, key string) (*ccb.Exception, error)
	InsertDecision(ctx context.Context, dec *errorbudget.Decision) error
	// LinkException records which exception a stored decision relied on.
	LinkException(ctx context.Context, decisionID, exceptionID int64) error
	Audit(ctx context.Context, actor budgetgate.Actor, action, subject, detail string) error
}

// Writer runs writes. Idempotent runs write in a transaction unless the
// request (idem) was already answered, in which case the stored reply is
// returned with replayed true; with idem nil it always writes.
type Writer interface {
	Idempotent(ctx context.Context, idem *Idempotency, write func(tx Tx) (Reply, error)) (r Reply, replayed bool, err error)
}
