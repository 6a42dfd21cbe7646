package views

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate/ccb"
)

// CCBQueueView is the board's queue: what waits, what was decided, and the
// form to ask for an exception.
type CCBQueueView struct {
	Page
	Now     time.Time
	Pending []*ccb.Exception
	Decided []*ccb.Exception
	Form    NewRequestForm
	Error   string
	// DefaultExpiry and MaxExpiry are how long a release exception lasts
	// unless the request asks for less, and the most it may ask for, as
	// the server is configured (--ccb-release-expiry).
	DefaultExpiry, MaxExpiry string
}

// NewRequestForm is the "ask the board" form as typed, to show it again
// with an error.
type NewRequestForm struct {
	DecisionID string
	Reason     string
	Expiry     string
}

// CCBRequestView is one request with its evidence, votes and vote form.
type CCBRequestView struct {
	Page
	Now         time.Time
	E           *ccb.Exception
	VoteBlocked string // why this user cannot vote now; "" when they can
	CanCancel   bool
	Error       string // why the last vote was refused
	Form        VoteForm
}

// VoteForm is a vote as typed.
type VoteForm struct {
	Decision string
	Comment  string
}

// ExceptionTitle is how a request is named in lists and headings.
func ExceptionTitle(e *ccb.Exception) string { return e.Subject.Title(e.Kind) }

// EvidenceSummary puts the gate's answer and the budget it saw on one line.
func EvidenceSummary(e *ccb.Exception) string {
	d := e.Evidence.Decision
	if d == nil {
		if e.Kind == ccb.ExceptionVariant {
			return fmt.Sprintf("%s %s measured %g", e.Subject.Variant, Label(e.Subject.Metric), e.Subject.Value)
		}
		return "no evidence recorded"
	}
	m := d.Metrics
	return fmt.Sprintf("Denied: %s. Budget %s, %s remaining, burn rate %s.", strings.TrimSuffix(d.Reason, "."), Label(string(m.Status)), Pct(m.RemainingPct), Rate(m.BurnRate))
}

// Excerpt shortens text for a table cell.
func Excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n])) + "…"
}

// VoteTally says how far a request is from a decision.
func VoteTally(e *ccb.Exception) string {
	approvals := 0
	for _, v := range e.Votes {
		if v.Decision == ccb.VoteApprove {
			approvals++
		}
	}
	return fmt.Sprintf("%d of %d approvals", approvals, e.ApprovalsRequired)
}

// DecidedBy names who decided a request.
func DecidedBy(e *ccb.Exception) string {
	switch e.Status {
	case ccb.ExceptionRejected:
		for _, v := range e.Votes {
			if v.Decision == ccb.VoteReject {
				return v.Voter.Name
			}
		}
	case ccb.ExceptionCancelled:
		return e.Requester.Name + " (or an admin)"
	case ccb.ExceptionExpired:
		if e.ExpiresAt == nil {
			return "nobody within 7 days"
		}
	}
	return joinOr(e.Approvers(), "–")
}

// StatusLine says where a request stands in words.
func StatusLine(now time.Time, e *ccb.Exception) string {
	switch e.Status {
	case ccb.ExceptionPending:
		return fmt.Sprintf("Waiting for the board: %s; closes %s (%s).", VoteTally(e), When(e.PendingUntil), Until(now, &e.PendingUntil))
	case ccb.ExceptionApproved:
		return fmt.Sprintf("Approved by %s; the exception ends %s (%s).", joinOr(e.Approvers(), "–"), When(*e.ExpiresAt), Until(now, e.ExpiresAt))
	case ccb.ExceptionRejected:
		return fmt.Sprintf("Rejected by %s on %s.", DecidedBy(e), whenPtr(e.DecidedAt))
	case ccb.ExceptionCancelled:
		return fmt.Sprintf("Cancelled on %s.", whenPtr(e.DecidedAt))
	case ccb.ExceptionExpired:
		if e.ExpiresAt != nil {
			return fmt.Sprintf("Approved by %s; the exception ended %s.", joinOr(e.Approvers(), "–"), When(*e.ExpiresAt))
		}
		return fmt.Sprintf("Expired %s without a decision.", When(e.PendingUntil))
	}
	return ""
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return When(*t)
}

// YesNo writes a flag as a word.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ApprovalsNeeded says how many approvals decide a request.
func ApprovalsNeeded(e *ccb.Exception) string {
	if e.ApprovalsRequired == 1 {
		return "one approval"
	}
	return fmt.Sprintf("%d approvals from different members", e.ApprovalsRequired)
}

// Capitalize starts a message with a capital letter, as a sentence on a page.
func Capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
