// Package ccb owns the change-control board: exception requests, votes,
// quorum, expiry, the scope of what an approval covers, and refactoring
// plans. It does no I/O.
package ccb

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// Exception kinds: what a CCB request is about (see docs/API.md, Exceptions).
const (
	ExceptionRelease = "release" // a denied release: covers (service, version)
	ExceptionVariant = "variant" // a blocked analysis: covers (project, dimension, variant, metric)
)

// ExceptionStatus is where a request stands.
type ExceptionStatus string

const (
	ExceptionPending   ExceptionStatus = "pending"
	ExceptionApproved  ExceptionStatus = "approved"
	ExceptionRejected  ExceptionStatus = "rejected"
	ExceptionExpired   ExceptionStatus = "expired"
	ExceptionCancelled ExceptionStatus = "cancelled"
)

// Vote decisions.
const (
	VoteApprove = "approve"
	VoteReject  = "reject"
)

// ExceptionRequest is what a client or the analyzer asks the board for.
type ExceptionRequest struct {
	Kind     string
	Subject  ExceptionSubject
	Evidence ExceptionEvidence
	Reason   string
	Plan     *RefactoringPlan
	Expiry   string // asked-for lifetime of an approval: "24h", "90d"; "" for the default
}

// Vote is one board member's approval or rejection.
type Vote struct {
	Voter    budgetgate.Actor `json:"voter"`
	Decision string           `json:"decision"`
	Comment  string           `json:"comment"`
	At       time.Time        `json:"at"`
}

// Exception is a CCB request and, once approved, the exception it grants.
type Exception struct {
	ID                int64             `json:"id"`
	Kind              string            `json:"kind"`
	Status            ExceptionStatus   `json:"status"`
	Subject           ExceptionSubject  `json:"subject"`
	Evidence          ExceptionEvidence `json:"evidence"`
	Requester         budgetgate.Actor  `json:"requester"`
	Reason            string            `json:"reason"`
	Plan              *RefactoringPlan  `json:"refactoring_plan"`
	RequestedExpiry   time.Duration     `json:"-"`
	ApprovalsRequired int               `json:"approvals_required"`
	Conditions        []string          `json:"conditions"`
	Votes             []Vote            `json:"votes"`
	CreatedAt         time.Time         `json:"created_at"`
	PendingUntil      time.Time         `json:"pending_until"`
	DecidedAt         *time.Time        `json:"decided_at"`
	ExpiresAt         *time.Time        `json:"expires_at"` // when an approval ends
	Revoked           *Revocation       `json:"revoked,omitempty"`
}

// NewException validates a request and returns it as a pending exception
// (ID not yet assigned).
func NewException(req ExceptionRequest, requester budgetgate.Actor, rules CCBRules, now time.Time) (*Exception, error) {
	if req.Kind != ExceptionRelease && req.Kind != ExceptionVariant {
		return nil, budgetgate.FieldErrorf("kind", "must be release or variant")
	}
	reason, err := checkReason(req.Reason)
	if err != nil {
		return nil, err
	}
	lim := rules.Expiry[req.Kind]
	expiry := lim.Default
	if req.Expiry != "" {
		d, err := ParseExpiry(req.Expiry)
		if err != nil {
			return nil, budgetgate.FieldErrorf("expiry", "%v", err)
		}
		if d > lim.Max {
			return nil, budgetgate.FieldErrorf("expiry", "at most %s for %s exceptions", FormatExpiry(lim.Max), req.Kind)
		}
		expiry = d
	}
	if req.Plan != nil {
		if err := req.Plan.Validate(now); err != nil {
			return nil, err
		}
	}
	switch req.Kind {
	case ExceptionRelease:
		if req.Subject.Service == "" || req.Subject.Version == "" {
			return nil, budgetgate.FieldErrorf("decision_id", "a release request needs the decision it is about")
		}
	case ExceptionVariant:
		if req.Subject.Project == "" || req.Subject.Metric == "" {
			return nil, budgetgate.FieldErrorf("analysis_id", "a variant request needs the analysis it is about")
		}
	}
	return &Exception{
		Kind: req.Kind, Status: ExceptionPending, Subject: req.Subject, Evidence: req.Evidence,
		Requester: requester, Reason: reason, Plan: req.Plan, RequestedExpiry: expiry,
		ApprovalsRequired: max(1, rules.ApprovalsRequired[req.Kind]),
		Conditions:        []string{}, Votes: []Vote{},
		CreatedAt: now, PendingUntil: now.Add(PendingTTL),
	}, nil
}

// checkReason returns the reason trimmed, or says what is wrong with it.
func checkReason(s string) (string, error) {
	reason := strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case reason == "":
		return "", budgetgate.FieldErrorf("reason", "required: say why the board should allow this")
	case n > MaxReasonChars:
		return "", budgetgate.FieldErrorf("reason", "at most 4,000 characters, got %d", n)
	}
	return reason, nil
}

// Settle moves a pending request past its waiting time, or an approval past
// its expiry, to expired. It reports whether the status changed, so that a
// store can persist and record it.
func (e *Exception) Settle(now time.Time) bool {
	switch {
	case e.Status == ExceptionPending && !now.Before(e.PendingUntil):
	case e.Status == ExceptionApproved && e.ExpiresAt != nil && !now.Before(*e.ExpiresAt):
	default:
		return false
	}
	e.Status = ExceptionExpired
	return true
}

// Expiry is when the request stops being what it is now: the end of the
// wait while pending, the end of the approval once approved.
func (e *Exception) Expiry() *time.Time {
	switch e.Status {
	case ExceptionPending:
		t := e.PendingUntil
		return &t
	case ExceptionApproved, ExceptionExpired:
		if e.ExpiresAt != nil {
			return e.ExpiresAt
		}
		t := e.PendingUntil
		return &t
	}
	return nil
}

// CanCancel says why by may not cancel the request as it stands, or nil:
// only a pending request can be withdrawn, by its requester or an admin.
func (e *Exception) CanCancel(by budgetgate.User) error {
	switch {
	case !e.IsRequester(by.Actor()) && !by.Has(budgetgate.RoleAdmin):
		return budgetgate.Errorf(budgetgate.EFORBIDDEN, "only the requester or an admin may cancel request %d", e.ID)
	case e.Status != ExceptionPending:
		return budgetgate.Errorf(budgetgate.ECONFLICT, "request %d is %s and can no longer be cancelled", e.ID, e.Status)
	}
	return nil
}

// Cancel withdraws a pending request. Only its requester or an admin may.
func (e *Exception) Cancel(by budgetgate.User, now time.Time) error {
	e.Settle(now)
	if err := e.CanCancel(by); err != nil {
		return err
	}
	e.Status = ExceptionCancelled
	e.DecidedAt = &now
	return nil
}

// SetPlan attaches or replaces the refactoring plan of a pending request,
// keeping its reason; see Edit.
func (e *Exception) SetPlan(p RefactoringPlan, by budgetgate.Actor, now time.Time) error {
	return e.Edit(e.Reason, &p, by, now)
}

// CanEdit says why by may not change the request's reason or plan now, or
// nil. Only the requester may, and only while it is pending and before
// anyone has approved: the board approves what it read.
func (e *Exception) CanEdit(by budgetgate.Actor, now time.Time) error {
	e.Settle(now)
	switch {
	case e.Status != ExceptionPending:
		return budgetgate.Errorf(budgetgate.ECONFLICT, "request %d is %s: its reason and plan can no longer change", e.ID, e.Status)
	case !e.IsRequester(by):
		return budgetgate.Errorf(budgetgate.EFORBIDDEN, "only the requester (%s) may change the reason and plan of request %d", e.Requester.Name, e.ID)
	case slices.ContainsFunc(e.Votes, func(v Vote) bool { return v.Decision == VoteApprove }):
		return budgetgate.Errorf(budgetgate.ECONFLICT, "request %d already has approvals: its reason and plan can no longer change", e.ID)
	}
	return nil
}

// Edit replaces the reason and, when plan is not nil, the refactoring plan
// of a pending request, as CanEdit allows.
func (e *Exception) Edit(reason string, plan *RefactoringPlan, by budgetgate.Actor, now time.Time) error {
	if err := e.CanEdit(by, now); err != nil {
		return err
	}
	reason, err := checkReason(reason)
	if err != nil {
		return err
	}
	if plan != nil {
		if err := plan.Validate(now); err != nil {
			return err
		}
		e.Plan = plan
	}
	e.Reason = reason
	return nil
}

// Revocation is the early end of an approved exception.
type Revocation struct {
	By     budgetgate.Actor `json:"by"`
	At     time.Time        `json:"at"`
	Reason string           `json:"reason"`
}

// CanRevoke says why by may not end the approved exception early, or nil:
// any CCB member may, while it is in force.
func (e *Exception) CanRevoke(by budgetgate.User, now time.Time) error {
	e.Settle(now)
	switch {
	case !by.Has(budgetgate.RoleCCB):
		return budgetgate.Errorf(budgetgate.EFORBIDDEN, "only CCB members revoke exceptions")
	case e.Status != ExceptionApproved:
		return budgetgate.Errorf(budgetgate.ECONFLICT, "request %d is %s: only an approved exception in force can be revoked", e.ID, e.Status)
	}
	return nil
}

// Revoke ends an approved exception now: it is expired from then on (so
// that clients that know the statuses treat it as any ended exception),
// and the revocation says who ended it and why.
func (e *Exception) Revoke(by budgetgate.User, reason string, now time.Time) error {
	if err := e.CanRevoke(by, now); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case reason == "":
		return budgetgate.FieldErrorf("revoke_reason", "required: say why the exception ends early")
	case n > MaxCommentChars:
		return budgetgate.FieldErrorf("revoke_reason", "at most 4,000 characters, got %d", n)
	}
	e.Status = ExceptionExpired
	e.ExpiresAt = &now
	e.Revoked = &Revocation{By: by.Actor(), At: now, Reason: reason}
	return nil
}

// CoversRelease reports whether the exception lets rel through at now.
func (e *Exception) CoversRelease(rel errorbudget.Release, now time.Time) bool {
	e.Settle(now)
	return e.Kind == ExceptionRelease && e.Status == ExceptionApproved &&
		e.Subject.Service == rel.Service && e.Subject.Version == rel.Version
}

// VariantCover is what a project's approved variant exceptions let through,
// indexed once: for each (dimension, variant, metric), the largest value
// any of them covers. Checking many violations against many exceptions
// (each covering every violation of its analysis) is then one look-up a
// violation, not a pass over every exception's list.
type VariantCover map[[3]string]float64

// NewVariantCover indexes the exceptions that are approved and unexpired
// at now for project; the others cover nothing. An exception covers its
// subject's (dimension, variant, metric), and those its request covers,
// only up to the value measured when it was requested, so further growth
// blocks again.
func NewVariantCover(list []*Exception, project string, now time.Time) VariantCover {
	c := VariantCover{}
	add := func(dimension, variant, metric string, value float64) {
		k := [3]string{dimension, variant, metric}
		if v, ok := c[k]; !ok || value > v {
			c[k] = value
		}
	}
	for _, e := range list {
		e.Settle(now)
		if e.Kind != ExceptionVariant || e.Status != ExceptionApproved || e.Subject.Project != project {
			continue
		}
		add(e.Subject.Dimension, e.Subject.Variant, e.Subject.Metric, e.Subject.Value)
		for _, v := range e.Subject.Covers {
			add(v.Dimension, v.Variant, v.Metric, v.Value)
		}
	}
	return c
}

// Covers reports whether an exception lets value through for the
// (dimension, variant, metric).
func (c VariantCover) Covers(dimension, variant, metric string, value float64) bool {
	v, ok := c[[3]string{dimension, variant, metric}]
	return ok && value <= v
}

// ApplyTo approves dec under the exception (see docs/BUDGET_MATH.md, Release gate): the reason names the
// exception and its approvers, and the conditions are the exception's.
func (e *Exception) ApplyTo(dec *errorbudget.Decision) {
	dec.Approved = true
	dec.Reason = fmt.Sprintf("CCB exception %d approved by %s", e.ID, strings.Join(e.Approvers(), ", "))
	dec.Alternative = ""
	dec.Conditions = slices.Clone(e.Conditions)
	ref := errorbudget.ExceptionRef{ID: e.ID, ApprovedBy: e.Approvers()}
	if e.ExpiresAt != nil {
		ref.ExpiresAt = *e.ExpiresAt
	}
	dec.Exception = &ref
}
