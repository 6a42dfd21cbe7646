package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
)

// BoardStore is what the change-control board's use cases need from the
// store.
type BoardStore interface {
	// Write runs fn in the shared group-commit transaction.
	Write(ctx context.Context, fn func(tx Tx) error) error
	// Update runs fn in a write transaction of its own and commits it when
	// fn returns nil.
	Update(ctx context.Context, fn func(tx Tx) error) error
}

// Board runs the change-control board: opening requests, votes,
// cancellations, plans and the sweep of expiries and reminders, each with
// its audit line and its message to the board.
type Board struct {
	Store  BoardStore
	Rules  ccb.CCBRules
	Notify CCBNotify
}

// ExceptionSubject is how the audit log names request id.
func ExceptionSubject(id int64) string { return fmt.Sprintf("exception/%d", id) }

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// RequesterRole is the notification target for those who ask the board:
// its webhook hears of every decision on a request, with the request's
// link, as the person who asked may be waiting on it.
const RequesterRole = "requester"

// notifyBoard queues msg for the board, with a link to the request.
func notifyBoard(ctx context.Context, tx Tx, n CCBNotify, kind string, e *ccb.Exception, msg string) error {
	return notifyRole(ctx, tx, n, CCBRole, kind, e, msg)
}

// notifyDecision queues msg, about a decision on e, for the board and for
// the requester.
func notifyDecision(ctx context.Context, tx Tx, n CCBNotify, kind string, e *ccb.Exception, msg string) error {
	if err := notifyRole(ctx, tx, n, CCBRole, kind, e, msg); err != nil {
		return err
	}
	return notifyRole(ctx, tx, n, RequesterRole, kind, e, fmt.Sprintf("For %s: %s", e.Requester.Name, msg))
}

func notifyRole(ctx context.Context, tx Tx, n CCBNotify, role, kind string, e *ccb.Exception, msg string) error {
	subject := e.Subject.Service
	if e.Kind == ccb.ExceptionVariant {
		subject = e.Subject.Project
	}
	return tx.Enqueue(ctx, kind, subject, role, msg+n.Link(e.ID), n.Hooks[role])
}

// Open opens a CCB request in a transaction of its own; see OpenIn.
func (b *Board) Open(ctx context.Context, req ccb.ExceptionRequest, requester budgetgate.Actor) (e *ccb.Exception, created bool, err error) {
	err = b.Store.Write(ctx, func(tx Tx) error {
		e, created, err = b.OpenIn(ctx, tx, req, requester)
		return err
	})
	return e, created, err
}

// OpenIn opens a CCB request inside tx, for a request that must commit with
// what caused it (a blocked analysis, an idempotent API call). For a
// release request it reads the decision named in req.Subject.DecisionID,
// which must have denied the release, and takes the subject and evidence
// from it. A variant request comes with its subject and evidence filled by
// the caller. If a pending or approved request already covers the same
// subject, that one is returned with created false, so that a retrying
// client does not open duplicates.
func (b *Board) OpenIn(ctx context.Context, tx Tx, req ccb.ExceptionRequest, requester budgetgate.Actor) (e *ccb.Exception, created bool, err error) {
	if req.Kind == ccb.ExceptionRelease {
		if req, err = releaseRequest(ctx, tx, req); err != nil {
			return nil, false, err
		}
	}
	e, err = ccb.NewException(req, requester, b.Rules, tx.Now())
	if err != nil {
		return nil, false, err
	}
	if err := tx.LockSubject(ctx, e.Kind, e.Subject.Key(e.Kind)); err != nil {
		return nil, false, err
	}
	if prior, err := tx.LiveException(ctx, e.Kind, e.Subject.Key(e.Kind)); err != nil || prior != nil {
		return prior, false, err
	}
	if err := tx.InsertException(ctx, e); err != nil {
		return nil, false, err
	}
	title := e.Subject.Title(e.Kind)
	if err := tx.Audit(ctx, requester, "exception.open", ExceptionSubject(e.ID),
		fmt.Sprintf("%s exception for %s requested for %s: %s", e.Kind, title, ccb.FormatExpiry(e.RequestedExpiry), e.Reason)); err != nil {
		return nil, false, err
	}
	msg := fmt.Sprintf("New CCB request %d: %s exception for %s, asked by %s for %s. Reason: %s",
		e.ID, e.Kind, title, requester.Name, ccb.FormatExpiry(e.RequestedExpiry), truncate(e.Reason, 300))
	if err := notifyBoard(ctx, tx, b.Notify, "ccb.request", e, msg); err != nil {
		return nil, false, err
	}
	return e, true, nil
}

// releaseRequest fills a release request's subject and evidence from the
// decision it names, which must exist and have denied the release.
func releaseRequest(ctx context.Context, tx Tx, req ccb.ExceptionRequest) (ccb.ExceptionRequest, error) {
	id := req.Subject.DecisionID
	dec, err := tx.DecisionToExcept(ctx, id)
	if err != nil {
		return req, err
	}
	if dec == nil {
		return req, &budgetgate.Error{Code: budgetgate.ENOTFOUND, Field: "decision_id", Message: fmt.Sprintf("no decision %d", id)}
	}
	if dec.Approved {
		return req, &budgetgate.Error{Code: budgetgate.ECONFLICT, Field: "decision_id",
			Message: fmt.Sprintf("decision %d approved %s %s: there is nothing to except", id, dec.Release.Service, dec.Release.Version)}
	}
	req.Subject = ccb.ExceptionSubject{DecisionID: id, Service: dec.Release.Service, Version: dec.Release.Version}
	req.Evidence = ccb.ExceptionEvidence{Decision: dec}
	return req, nil
}

// lockedException reads request id inside tx and stores the expiry Settle
// finds on the way.
func lockedException(ctx context.Context, tx Tx, id int64) (*ccb.Exception, error) {
	e, err := tx.LockedException(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Settle(tx.Now()) {
		if err := expire(ctx, tx, e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// expire stores and audits a request that Settle found expired.
func expire(ctx context.Context, tx Tx, e *ccb.Exception) error {
	if err := tx.SaveException(ctx, e); err != nil {
		return fmt.Errorf("expire CCB request %d: %w", e.ID, err)
	}
	what := "approval ended"
	if e.DecidedAt == nil {
		what = "no decision within 7 days"
	}
	return tx.Audit(ctx, budgetgate.SystemActor, "exception.expire", ExceptionSubject(e.ID), what)
}

// Vote records a board member's vote and, if it decides the request, the
// outcome; both are audited and the board notified of a decision. The vote
// is refused (and nothing but an expiry found on the way is stored) if the
// rules say no.
func (b *Board) Vote(ctx context.Context, id int64, voter budgetgate.User, decision, comment string) (*ccb.Exception, error) {
	var e *ccb.Exception
	var refused error
	err := b.Store.Update(ctx, func(tx Tx) error {
		var err error
		if e, err = lockedException(ctx, tx, id); err != nil {
			return err
		}
		decided, err := e.Vote(voter, decision, comment, tx.Now())
		if err != nil {
			refused = err // an expiry found on the way is still worth keeping
			return nil
		}
		return b.recordVote(ctx, tx, e, decided)
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return e, nil
}

// recordVote stores and audits the vote just cast on e, and the decision
// it made, if any.
func (b *Board) recordVote(ctx context.Context, tx Tx, e *ccb.Exception, decided bool) error {
	v := e.Votes[len(e.Votes)-1]
	if err := tx.AddVote(ctx, e.ID, v); err != nil {
		return fmt.Errorf("record the vote on CCB request %d: %w", e.ID, err)
	}
	detail := v.Decision
	if v.Comment != "" {
		detail += ": " + v.Comment
	}
	if err := tx.Audit(ctx, v.Voter, "exception.vote", ExceptionSubject(e.ID), detail); err != nil {
		return fmt.Errorf("audit the vote on CCB request %d: %w", e.ID, err)
	}
	if !decided {
		return nil
	}
	if err := tx.SaveException(ctx, e); err != nil {
		return fmt.Errorf("save the decision on CCB request %d: %w", e.ID, err)
	}
	auditDetail, msg := decisionWords(e, v)
	if err := tx.Audit(ctx, budgetgate.SystemActor, "exception."+string(e.Status), ExceptionSubject(e.ID), auditDetail); err != nil {
		return fmt.Errorf("audit the decision on CCB request %d: %w", e.ID, err)
	}
	if err := notifyDecision(ctx, tx, b.Notify, "ccb.decision", e, msg); err != nil {
		return fmt.Errorf("notify the decision on CCB request %d: %w", e.ID, err)
	}
	if e.Kind == ccb.ExceptionVariant && e.Status == ccb.ExceptionApproved {
		return tx.ExceptViolations(ctx, e)
	}
	return nil
}

// decisionWords are the audit detail and the board's message for a
// request decided by vote v.
func decisionWords(e *ccb.Exception, v ccb.Vote) (auditDetail, msg string) {
	title := e.Subject.Title(e.Kind)
	if e.Status == ccb.ExceptionApproved {
		until := e.ExpiresAt.UTC().Format(time.RFC3339)
		approvers := strings.Join(e.Approvers(), ", ")
		return fmt.Sprintf("approved by %s until %s", approvers, until),
			fmt.Sprintf("CCB request %d approved by %s: %s is excepted until %s.", e.ID, approvers, title, until)
	}
	return fmt.Sprintf("rejected by %s: %s", v.Voter.Name, v.Comment),
		fmt.Sprintf("CCB request %d rejected by %s: %s stays blocked. %s", e.ID, v.Voter.Name, title, truncate(v.Comment, 300))
}

// Cancel withdraws a pending request.
func (b *Board) Cancel(ctx context.Context, id int64, by budgetgate.User) (*ccb.Exception, error) {
	var e *ccb.Exception
	var refused error
	err := b.Store.Update(ctx, func(tx Tx) error {
		var err error
		if e, err = lockedException(ctx, tx, id); err != nil {
			return err
		}
		if err := e.Cancel(by, tx.Now()); err != nil {
			refused = err // an expiry found on the way is still worth keeping
			return nil
		}
		if err := tx.SaveException(ctx, e); err != nil {
			return fmt.Errorf("cancel CCB request %d: %w", e.ID, err)
		}
		return tx.Audit(ctx, by.Actor(), "exception.cancel", ExceptionSubject(e.ID), "cancelled by "+by.Name)
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return e, nil
}

// SetPlan attaches a refactoring plan to a pending request, which a
// variant exception needs before it can be approved.
func (b *Board) SetPlan(ctx context.Context, id int64, plan ccb.RefactoringPlan, by budgetgate.Actor) (*ccb.Exception, error) {
	return b.edit(ctx, id, by, "exception.plan", func(e *ccb.Exception, now time.Time) (string, error) {
		return fmt.Sprintf("%d steps, target %s", len(plan.Steps), plan.TargetDate), e.SetPlan(plan, by, now)
	})
}

// Edit replaces the reason and, when plan is not nil, the refactoring plan
// of a pending request: its requester's edit from the dashboard.
func (b *Board) Edit(ctx context.Context, id int64, reason string, plan *ccb.RefactoringPlan, by budgetgate.Actor) (*ccb.Exception, error) {
	return b.edit(ctx, id, by, "exception.edit", func(e *ccb.Exception, now time.Time) (string, error) {
		detail := "reason: " + truncate(strings.TrimSpace(reason), 300)
		if plan != nil {
			detail += fmt.Sprintf("; plan: %d steps, target %s", len(plan.Steps), plan.TargetDate)
		}
		return detail, e.Edit(reason, plan, by, now)
	})
}

// edit applies change to request id and stores and audits it; the refusal
// of change leaves the request as it was (but for an expiry found on the
// way, which is kept).
func (b *Board) edit(ctx context.Context, id int64, by budgetgate.Actor, action string, change func(e *ccb.Exception, now time.Time) (auditDetail string, err error)) (*ccb.Exception, error) {
	var e *ccb.Exception
	var refused error
	err := b.Store.Update(ctx, func(tx Tx) error {
		var err error
		if e, err = lockedException(ctx, tx, id); err != nil {
			return err
		}
		detail, err := change(e, tx.Now())
		if err != nil {
			refused = err
			return nil
		}
		if err := tx.SaveException(ctx, e); err != nil {
			return fmt.Errorf("save the edit of CCB request %d: %w", e.ID, err)
		}
		return tx.Audit(ctx, by, action, ExceptionSubject(e.ID), detail)
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return e, nil
}

// Revoke ends an approved exception early: a CCB member's decision, with a
// reason, audited and told to the board and the requester. What it let
// through is blocked again at once.
func (b *Board) Revoke(ctx context.Context, id int64, by budgetgate.User, reason string) (*ccb.Exception, error) {
	var e *ccb.Exception
	var refused error
	err := b.Store.Update(ctx, func(tx Tx) error {
		var err error
		if e, err = lockedException(ctx, tx, id); err != nil {
			return err
		}
		if err := e.Revoke(by, reason, tx.Now()); err != nil {
			refused = err
			return nil
		}
		if err := tx.SaveException(ctx, e); err != nil {
			return fmt.Errorf("revoke CCB exception %d: %w", e.ID, err)
		}
		if err := tx.Audit(ctx, by.Actor(), "exception.revoke", ExceptionSubject(e.ID), e.Revoked.Reason); err != nil {
			return fmt.Errorf("audit the revocation of CCB exception %d: %w", e.ID, err)
		}
		msg := fmt.Sprintf("CCB exception %d revoked by %s: %s is blocked again. %s", e.ID, by.Name, e.Subject.Title(e.Kind), truncate(e.Revoked.Reason, 300))
		if err := notifyDecision(ctx, tx, b.Notify, "ccb.decision", e, msg); err != nil {
			return fmt.Errorf("notify the revocation of CCB exception %d: %w", e.ID, err)
		}
		if e.Kind == ccb.ExceptionVariant {
			return tx.ReopenViolations(ctx, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return e, nil
}

// Unsettled is a request stored as pending or approved, with the lead time
// of the last expiry reminder sent about it (0: none).
type Unsettled struct {
	Exception *ccb.Exception
	Reminded  time.Duration
}

// Sweep stores the expiry of requests whose time has passed and queues the
// reminders due before approvals end. The notifier runs it periodically;
// reads are right in between, since they settle on the fly.
func (b *Board) Sweep(ctx context.Context) (expired, reminded int, err error) {
	err = b.Store.Update(ctx, func(tx Tx) error {
		live, err := tx.UnsettledExceptions(ctx)
		if err != nil {
			return fmt.Errorf("sweep CCB requests: %w", err)
		}
		for _, u := range live {
			e := u.Exception
			if e.Settle(tx.Now()) {
				if err := expire(ctx, tx, e); err != nil {
					return err
				}
				expired++
				continue
			}
			lead, due := e.ReminderDue(tx.Now(), u.Reminded)
			if !due {
				continue
			}
			if err := b.remind(ctx, tx, e, lead); err != nil {
				return err
			}
			reminded++
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return expired, reminded, nil
}

// remind queues the reminder that e's approval ends in lead.
func (b *Board) remind(ctx context.Context, tx Tx, e *ccb.Exception, lead time.Duration) error {
	msg := fmt.Sprintf("CCB exception %d for %s expires in %s (%s).", e.ID, e.Subject.Title(e.Kind),
		ccb.FormatExpiry(lead), e.ExpiresAt.UTC().Format(time.RFC3339))
	if err := notifyBoard(ctx, tx, b.Notify, "ccb.expiry", e, msg); err != nil {
		return fmt.Errorf("remind about CCB request %d: %w", e.ID, err)
	}
	return tx.SetReminded(ctx, e.ID, lead)
}
