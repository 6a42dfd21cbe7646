package ccb

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// IsRequester reports whether a is who opened the request.
func (e *Exception) IsRequester(a budgetgate.Actor) bool {
	return a.Issuer == e.Requester.Issuer && a.Subject == e.Requester.Subject
}

// RequestedBy reports whether the release a request is about names u as
// who asked for it (requested_by): by username, email or subject, as a
// pipeline would write it. Who asked for a release may not approve its
// exception any more than who opened the request.
func (e *Exception) RequestedBy(u budgetgate.User) bool {
	if e.Evidence.Decision == nil {
		return false
	}
	by := strings.TrimSpace(e.Evidence.Decision.Release.RequestedBy)
	if by == "" {
		return false
	}
	return by == u.Subject || (u.Username != "" && strings.EqualFold(by, u.Username)) || (u.Email != "" && strings.EqualFold(by, u.Email))
}

// VoteOf returns the vote a has cast, if any.
func (e *Exception) VoteOf(a budgetgate.Actor) (Vote, bool) {
	for _, v := range e.Votes {
		if v.Voter.Issuer == a.Issuer && v.Voter.Subject == a.Subject {
			return v, true
		}
	}
	return Vote{}, false
}

// CanVote says why voter may not vote on the request now, or nil. The
// dashboard uses it to decide whether to show the vote form; Vote applies it.
func (e *Exception) CanVote(voter budgetgate.User, now time.Time) error {
	e.Settle(now)
	switch {
	case !voter.Has(budgetgate.RoleCCB):
		return budgetgate.Errorf(budgetgate.EFORBIDDEN, "only CCB members vote on exception requests")
	case e.Status != ExceptionPending:
		return budgetgate.Errorf(budgetgate.ECONFLICT, "request %d is %s: votes are closed", e.ID, e.Status)
	case e.IsRequester(voter.Actor()):
		return budgetgate.Errorf(budgetgate.EFORBIDDEN, "you opened request %d, so you cannot vote on it", e.ID)
	case e.RequestedBy(voter):
		return budgetgate.Errorf(budgetgate.EFORBIDDEN, "the release of request %d was requested by %q, which is you, so you cannot vote on it", e.ID, e.Evidence.Decision.Release.RequestedBy)
	}
	if _, ok := e.VoteOf(voter.Actor()); ok {
		return budgetgate.Errorf(budgetgate.ECONFLICT, "you have already voted on request %d", e.ID)
	}
	return nil
}

// Vote records a member's vote and decides the request when it can: one
// rejection rejects; ApprovalsRequired distinct approvals approve. It reports
// whether the request was decided. Callers run it inside the transaction
// that stores the result, so that concurrent votes cannot both decide.
func (e *Exception) Vote(voter budgetgate.User, decision, comment string, now time.Time) (decided bool, err error) {
	if err := e.CanVote(voter, now); err != nil {
		return false, err
	}
	comment = strings.TrimSpace(comment)
	switch {
	case decision != VoteApprove && decision != VoteReject:
		return false, budgetgate.FieldErrorf("decision", "must be approve or reject")
	case decision == VoteReject && comment == "":
		return false, budgetgate.FieldErrorf("comment", "required to reject: say what would change your mind")
	case utf8.RuneCountInString(comment) > MaxCommentChars:
		return false, budgetgate.FieldErrorf("comment", "at most 4,000 characters")
	case decision == VoteApprove:
		if err := e.ApprovalBlocked(); err != nil {
			return false, err
		}
	}
	e.Votes = append(e.Votes, Vote{Voter: voter.Actor(), Decision: decision, Comment: comment, At: now})
	switch {
	case decision == VoteReject:
		e.Status = ExceptionRejected
	case e.approvals() >= e.ApprovalsRequired:
		e.Status = ExceptionApproved
		expires := now.Add(e.RequestedExpiry)
		e.ExpiresAt = &expires
		e.Conditions = e.approvalConditions()
	default:
		return false, nil
	}
	e.DecidedAt = &now
	return true, nil
}

// ApprovalBlocked says why an approval could not succeed whoever cast it,
// or nil: a variant exception needs its refactoring plan first. The
// dashboard offers Approve only when both this and CanVote allow it.
func (e *Exception) ApprovalBlocked() error {
	if e.Kind == ExceptionVariant && e.Plan == nil {
		return &budgetgate.Error{Code: budgetgate.ECONFLICT, Field: "refactoring_plan",
			Message: "a variant exception needs a refactoring plan (steps and a target date) before it can be approved"}
	}
	return nil
}

func (e *Exception) approvals() int {
	n := 0
	for _, v := range e.Votes {
		if v.Decision == VoteApprove {
			n++
		}
	}
	return n
}

// Approvers lists the names of those who approved, in voting order.
func (e *Exception) Approvers() []string {
	var names []string
	for _, v := range e.Votes {
		if v.Decision == VoteApprove {
			names = append(names, v.Voter.Name)
		}
	}
	return names
}

// approvalConditions are what a change shipped under the exception must
// honour: its end and what the approvers wrote; for a release, also the
// reference gate's conditions for exceptional releases; for a variant
// exception, the refactoring plan's target date (watching a release and
// having its rollback ready mean nothing for code structure).
func (e *Exception) approvalConditions() []string {
	conds := []string{fmt.Sprintf("CCB exception %d expires %s", e.ID, e.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))}
	switch {
	case e.Kind == ExceptionRelease:
		conds = append(conds, errorbudget.CondMonitor, errorbudget.CondRollbackReady)
	case e.Plan != nil:
		conds = append(conds, fmt.Sprintf("Refactoring plan done by %s (%d steps)", e.Plan.TargetDate, len(e.Plan.Steps)))
	}
	for _, v := range e.Votes {
		if v.Decision == VoteApprove && v.Comment != "" {
			conds = append(conds, fmt.Sprintf("CCB (%s): %s", v.Voter.Name, v.Comment))
		}
	}
	return conds
}

// MayStillVote lists the members who could vote on the request now: CCB
// members who did not open it, did not ask for its release, and have not
// voted yet.
func (e *Exception) MayStillVote(members []budgetgate.User, now time.Time) []budgetgate.User {
	var out []budgetgate.User
	for _, m := range members {
		probe := *e // CanVote settles its receiver
		if probe.CanVote(m, now) == nil {
			out = append(out, m)
		}
	}
	return out
}
