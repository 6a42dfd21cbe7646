package budgetgate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Exception kinds: what a CCB request is about (SPEC 5).
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

// Limits of a request (SPEC 5).
const (
	MaxReasonChars  = 4000
	MaxCommentChars = 4000
	MaxPlanSteps    = 50
	MaxPlanStepLen  = 1000
	// PendingTTL is how long a request waits for the board before it expires.
	PendingTTL = 7 * 24 * time.Hour
	// PollInterval is what clients waiting on a pending request are told to
	// wait (Retry-After) between polls.
	PollInterval = 5 * time.Second
)

// ExpiryLimits are how long an approval lasts unless the request asks for
// less, and the most it may ask for.
type ExpiryLimits struct {
	Default time.Duration
	Max     time.Duration
}

// CCBRules are the board's settings.
type CCBRules struct {
	// ApprovalsRequired is how many distinct approvals approve a request, by kind.
	ApprovalsRequired map[string]int
	// Expiry is the default and maximum lifetime of an approval, by kind.
	Expiry map[string]ExpiryLimits
}

// DefaultCCBRules are SPEC 5's defaults: one approval; release exceptions
// last 24h (at most 7 days, a choice: a release that needs longer should be
// a new request), variant exceptions 90 days (at most 180).
func DefaultCCBRules() CCBRules {
	return CCBRules{
		ApprovalsRequired: map[string]int{ExceptionRelease: 1, ExceptionVariant: 1},
		Expiry: map[string]ExpiryLimits{
			ExceptionRelease: {Default: 24 * time.Hour, Max: 7 * 24 * time.Hour},
			ExceptionVariant: {Default: 90 * 24 * time.Hour, Max: 180 * 24 * time.Hour},
		},
	}
}

// Validate checks settings given on the command line.
func (r CCBRules) Validate() error {
	for _, kind := range []string{ExceptionRelease, ExceptionVariant} {
		if n := r.ApprovalsRequired[kind]; n < 1 || n > 20 {
			return FieldErrorf("approvals_required."+kind, "must be between 1 and 20, got %d", n)
		}
		lim := r.Expiry[kind]
		if lim.Default <= 0 || lim.Default > lim.Max {
			return FieldErrorf("expiry."+kind, "default %s must be positive and at most %s", FormatExpiry(lim.Default), FormatExpiry(lim.Max))
		}
	}
	return nil
}

// ExceptionSubject is what a request would cover. Release requests fill the
// release fields, variant requests the variant ones.
type ExceptionSubject struct {
	DecisionID int64  `json:"decision_id,omitempty"`
	Service    string `json:"service,omitempty"`
	Version    string `json:"version,omitempty"`

	AnalysisID int64   `json:"analysis_id,omitempty"`
	Project    string  `json:"project,omitempty"`
	Commit     string  `json:"commit,omitempty"`
	Dimension  string  `json:"dimension,omitempty"`
	Variant    string  `json:"variant,omitempty"`
	Metric     string  `json:"metric,omitempty"`
	Value      float64 `json:"value,omitempty"` // the measured value an approval allows, no more
	// Covers lists every violation of a blocked analysis a request is for
	// (the fields above name the worst); an approval allows each up to its
	// own measured delta.
	Covers []VariantLimit `json:"covers,omitempty"`
}

// VariantLimit is one (dimension, variant, metric) an exception allows up
// to Value.
type VariantLimit struct {
	Dimension string  `json:"dimension"`
	Variant   string  `json:"variant"`
	Metric    string  `json:"metric"`
	Value     float64 `json:"value"`
}

// VariantExceptionFor builds the subject and evidence of a request for a
// blocked analysis: its violations, worst first, each allowed up to the
// delta it measured.
func VariantExceptionFor(project, commit string, analysisID int64, a *Analysis) (ExceptionSubject, ExceptionEvidence, error) {
	if len(a.Violations) == 0 {
		return ExceptionSubject{}, ExceptionEvidence{}, FieldErrorf("analysis_id", "analysis %d has no violation to except", analysisID)
	}
	worst := a.Violations[0]
	s := ExceptionSubject{AnalysisID: analysisID, Project: project, Commit: commit,
		Dimension: worst.Dimension, Variant: worst.Variant, Metric: worst.Metric, Value: worst.Delta}
	for _, v := range a.Violations {
		s.Covers = append(s.Covers, VariantLimit{Dimension: v.Dimension, Variant: v.Variant, Metric: v.Metric, Value: v.Delta})
	}
	doc, err := json.Marshal(a)
	return s, ExceptionEvidence{Analysis: doc}, err
}

// Key identifies what an approval covers, so that a store can find the
// exception for a release or a violation without reading every request.
func (s ExceptionSubject) Key(kind string) string {
	if kind == ExceptionVariant {
		return strings.Join([]string{s.Project, s.Dimension, s.Variant, s.Metric}, "/")
	}
	return s.Service + "@" + s.Version
}

// Title is a one-line description for lists and notifications.
func (s ExceptionSubject) Title(kind string) string {
	if kind == ExceptionVariant {
		return fmt.Sprintf("%s: %s %s %s (commit %s)", s.Project, s.Dimension, s.Variant, s.Metric, s.Commit)
	}
	return s.Service + " " + s.Version
}

// ExceptionEvidence is what the board reviews: the gate's decision for a
// release, the analysis for a variant request.
type ExceptionEvidence struct {
	Decision *Decision       `json:"decision,omitempty"`
	Analysis json.RawMessage `json:"analysis,omitempty"`
}

// RefactoringPlan is how a variant exception's growth will be paid back.
type RefactoringPlan struct {
	Steps      []string `json:"steps"`
	TargetDate string   `json:"target_date"` // YYYY-MM-DD
}

// Validate checks the plan: at least one step and a target date after today.
func (p *RefactoringPlan) Validate(now time.Time) error {
	if len(p.Steps) == 0 {
		return FieldErrorf("refactoring_plan.steps", "at least one step is required")
	}
	if len(p.Steps) > MaxPlanSteps {
		return FieldErrorf("refactoring_plan.steps", "at most %d steps", MaxPlanSteps)
	}
	for i, s := range p.Steps {
		if strings.TrimSpace(s) == "" {
			return FieldErrorf(fmt.Sprintf("refactoring_plan.steps[%d]", i), "empty step")
		}
		if utf8.RuneCountInString(s) > MaxPlanStepLen {
			return FieldErrorf(fmt.Sprintf("refactoring_plan.steps[%d]", i), "at most %d characters", MaxPlanStepLen)
		}
	}
	d, err := time.Parse(time.DateOnly, p.TargetDate)
	if err != nil {
		return FieldErrorf("refactoring_plan.target_date", "want a date as YYYY-MM-DD, got %q", p.TargetDate)
	}
	if !d.After(now) {
		return FieldErrorf("refactoring_plan.target_date", "must be in the future")
	}
	return nil
}

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
	Voter    Actor     `json:"voter"`
	Decision string    `json:"decision"`
	Comment  string    `json:"comment"`
	At       time.Time `json:"at"`
}

// Exception is a CCB request and, once approved, the exception it grants.
type Exception struct {
	ID                int64             `json:"id"`
	Kind              string            `json:"kind"`
	Status            ExceptionStatus   `json:"status"`
	Subject           ExceptionSubject  `json:"subject"`
	Evidence          ExceptionEvidence `json:"evidence"`
	Requester         Actor             `json:"requester"`
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
}

// NewException validates a request and returns it as a pending exception
// (ID not yet assigned).
func NewException(req ExceptionRequest, requester Actor, rules CCBRules, now time.Time) (*Exception, error) {
	if req.Kind != ExceptionRelease && req.Kind != ExceptionVariant {
		return nil, FieldErrorf("kind", "must be release or variant")
	}
	reason := strings.TrimSpace(req.Reason)
	switch n := utf8.RuneCountInString(req.Reason); {
	case reason == "":
		return nil, FieldErrorf("reason", "required: say why the board should allow this")
	case n > MaxReasonChars:
		return nil, FieldErrorf("reason", "at most 4,000 characters, got %d", n)
	}
	lim := rules.Expiry[req.Kind]
	expiry := lim.Default
	if req.Expiry != "" {
		d, err := ParseExpiry(req.Expiry)
		if err != nil {
			return nil, FieldErrorf("expiry", "%v", err)
		}
		if d > lim.Max {
			return nil, FieldErrorf("expiry", "at most %s for %s exceptions", FormatExpiry(lim.Max), req.Kind)
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
			return nil, FieldErrorf("decision_id", "a release request needs the decision it is about")
		}
	case ExceptionVariant:
		if req.Subject.Project == "" || req.Subject.Metric == "" {
			return nil, FieldErrorf("analysis_id", "a variant request needs the analysis it is about")
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

// maxExpiryDays is far beyond any lifetime the rules allow, and far inside
// what a time.Duration holds.
const maxExpiryDays = 36600

// ParseExpiry reads a lifetime written as Go does ("36h", "90m") or in
// whole days ("90d").
func ParseExpiry(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 24h or 90d, got %q", s)
		}
		// Beyond this many days the product would wrap around (Duration
		// holds about 292 years) and "99999999999d" would mean some weeks.
		if n > maxExpiryDays {
			return 0, fmt.Errorf("at most %d days, got %q", maxExpiryDays, s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("want a duration such as 24h or 90d, got %q", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %q", s)
	}
	return d, nil
}

// FormatExpiry writes a lifetime the way ParseExpiry reads it: in days
// where it is more than one whole day, else in hours where it is whole hours.
func FormatExpiry(d time.Duration) string {
	day := 24 * time.Hour
	if d%day == 0 && d > day {
		return fmt.Sprintf("%dd", d/day)
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
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

// IsRequester reports whether a is who opened the request.
func (e *Exception) IsRequester(a Actor) bool {
	return a.Issuer == e.Requester.Issuer && a.Subject == e.Requester.Subject
}

// RequestedBy reports whether the release a request is about names u as
// who asked for it (requested_by): by username, email or subject, as a
// pipeline would write it. Who asked for a release may not approve its
// exception any more than who opened the request.
func (e *Exception) RequestedBy(u User) bool {
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
func (e *Exception) VoteOf(a Actor) (Vote, bool) {
	for _, v := range e.Votes {
		if v.Voter.Issuer == a.Issuer && v.Voter.Subject == a.Subject {
			return v, true
		}
	}
	return Vote{}, false
}

// CanVote says why voter may not vote on the request now, or nil. The
// dashboard uses it to decide whether to show the vote form; Vote applies it.
func (e *Exception) CanVote(voter User, now time.Time) error {
	e.Settle(now)
	switch {
	case !voter.Has(RoleCCB):
		return Errorf(EFORBIDDEN, "only CCB members vote on exception requests")
	case e.Status != ExceptionPending:
		return Errorf(ECONFLICT, "request %d is %s: votes are closed", e.ID, e.Status)
	case e.IsRequester(voter.Actor()):
		return Errorf(EFORBIDDEN, "you opened request %d, so you cannot vote on it", e.ID)
	case e.RequestedBy(voter):
		return Errorf(EFORBIDDEN, "the release of request %d was requested by %q, which is you, so you cannot vote on it", e.ID, e.Evidence.Decision.Release.RequestedBy)
	}
	if _, ok := e.VoteOf(voter.Actor()); ok {
		return Errorf(ECONFLICT, "you have already voted on request %d", e.ID)
	}
	return nil
}

// Vote records a member's vote and decides the request when it can: one
// rejection rejects; ApprovalsRequired distinct approvals approve. It reports
// whether the request was decided. Callers run it inside the transaction
// that stores the result, so that concurrent votes cannot both decide.
func (e *Exception) Vote(voter User, decision, comment string, now time.Time) (decided bool, err error) {
	if err := e.CanVote(voter, now); err != nil {
		return false, err
	}
	comment = strings.TrimSpace(comment)
	switch {
	case decision != VoteApprove && decision != VoteReject:
		return false, FieldErrorf("decision", "must be approve or reject")
	case decision == VoteReject && comment == "":
		return false, FieldErrorf("comment", "required to reject: say what would change your mind")
	case utf8.RuneCountInString(comment) > MaxCommentChars:
		return false, FieldErrorf("comment", "at most 4,000 characters")
	case decision == VoteApprove && e.Kind == ExceptionVariant && e.Plan == nil:
		return false, &Error{Code: ECONFLICT, Field: "refactoring_plan",
			Message: "a variant exception needs a refactoring plan (steps and a target date) before it can be approved"}
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

// approvalConditions are what a release shipped under the exception must
// honour: its end, the seed's conditions for exceptional releases, and what
// the approvers wrote.
func (e *Exception) approvalConditions() []string {
	conds := []string{
		fmt.Sprintf("CCB exception %d expires %s", e.ID, e.ExpiresAt.UTC().Format(time.RFC3339)),
		"Monitor closely",
		"Have rollback ready",
	}
	for _, v := range e.Votes {
		if v.Decision == VoteApprove && v.Comment != "" {
			conds = append(conds, fmt.Sprintf("CCB (%s): %s", v.Voter.Name, v.Comment))
		}
	}
	return conds
}

// Cancel withdraws a pending request. Only its requester or an admin may.
func (e *Exception) Cancel(by User, now time.Time) error {
	e.Settle(now)
	switch {
	case !e.IsRequester(by.Actor()) && !by.Has(RoleAdmin):
		return Errorf(EFORBIDDEN, "only the requester or an admin may cancel request %d", e.ID)
	case e.Status != ExceptionPending:
		return Errorf(ECONFLICT, "request %d is %s and can no longer be cancelled", e.ID, e.Status)
	}
	e.Status = ExceptionCancelled
	e.DecidedAt = &now
	return nil
}

// SetPlan attaches or replaces the refactoring plan of a pending request.
// Only the requester may set it, and only before anyone has approved: the
// board approves the plan it read.
func (e *Exception) SetPlan(p RefactoringPlan, by Actor, now time.Time) error {
	e.Settle(now)
	if e.Status != ExceptionPending {
		return Errorf(ECONFLICT, "request %d is %s: its plan can no longer change", e.ID, e.Status)
	}
	if by.Issuer != e.Requester.Issuer || by.Subject != e.Requester.Subject {
		return Errorf(EFORBIDDEN, "only the requester (%s) may set the plan of request %d", e.Requester.Name, e.ID)
	}
	if err := p.Validate(now); err != nil {
		return err
	}
	if slices.ContainsFunc(e.Votes, func(v Vote) bool { return v.Decision == VoteApprove }) {
		return Errorf(ECONFLICT, "request %d already has approvals: its plan can no longer change", e.ID)
	}
	e.Plan = &p
	return nil
}

// CoversRelease reports whether the exception lets rel through at now.
func (e *Exception) CoversRelease(rel Release, now time.Time) bool {
	e.Settle(now)
	return e.Kind == ExceptionRelease && e.Status == ExceptionApproved &&
		e.Subject.Service == rel.Service && e.Subject.Version == rel.Version
}

// CoversVariant reports whether the exception lets a measured value of the
// subject's (project, dimension, variant, metric) through at now: only up to
// the value measured when it was requested, so further growth blocks again.
func (e *Exception) CoversVariant(s ExceptionSubject, value float64, now time.Time) bool {
	e.Settle(now)
	if e.Kind != ExceptionVariant || e.Status != ExceptionApproved || e.Subject.Project != s.Project {
		return false
	}
	if e.Subject.Key(ExceptionVariant) == s.Key(ExceptionVariant) && value <= e.Subject.Value {
		return true
	}
	for _, c := range e.Subject.Covers {
		if c.Dimension == s.Dimension && c.Variant == s.Variant && c.Metric == s.Metric && value <= c.Value {
			return true
		}
	}
	return false
}

// VariantCover is what a project's approved variant exceptions let through,
// indexed once: for each (dimension, variant, metric), the largest value
// any of them covers. Checking many violations against many exceptions
// (each covering every violation of its analysis) is then one look-up a
// violation, not a pass over every exception's list.
type VariantCover map[[3]string]float64

// NewVariantCover indexes the exceptions that are approved and unexpired
// at now for project; the others cover nothing, as in CoversVariant.
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

// ExceptionRef is what a decision cites when an exception let it through.
type ExceptionRef struct {
	ID         int64     `json:"id"`
	ApprovedBy []string  `json:"approved_by"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// ApplyTo approves dec under the exception (SPEC 3): the reason names the
// exception and its approvers, and the conditions are the exception's.
func (e *Exception) ApplyTo(dec *Decision) {
	dec.Approved = true
	dec.Reason = fmt.Sprintf("CCB exception %d approved by %s", e.ID, strings.Join(e.Approvers(), ", "))
	dec.Alternative = ""
	dec.Conditions = slices.Clone(e.Conditions)
	ref := ExceptionRef{ID: e.ID, ApprovedBy: e.Approvers()}
	if e.ExpiresAt != nil {
		ref.ExpiresAt = *e.ExpiresAt
	}
	dec.Exception = &ref
}

// ExpiryReminders are how long before an approval ends the board is told.
var ExpiryReminders = []time.Duration{24 * time.Hour, time.Hour}

// ReminderDue returns the reminder to send now, given the lead time of the
// last one sent (0 for none). Only the most urgent due reminder is sent, and
// none that would fire at the moment of approval (a 24h approval gets only
// the 1h reminder), since the decision notice already says when it ends.
func (e *Exception) ReminderDue(now time.Time, lastSent time.Duration) (time.Duration, bool) {
	if e.Status != ExceptionApproved || e.ExpiresAt == nil || e.DecidedAt == nil || !now.Before(*e.ExpiresAt) {
		return 0, false
	}
	var due time.Duration
	for _, lead := range ExpiryReminders {
		at := e.ExpiresAt.Add(-lead)
		if (lastSent == 0 || lead < lastSent) && at.After(*e.DecidedAt) && !now.Before(at) {
			if due == 0 || lead < due {
				due = lead
			}
		}
	}
	return due, due != 0
}

// PlanProgress is how far a variant exception's refactoring plan has come
// for one (dimension, variant, metric) it covers.
type PlanProgress struct {
	ExceptionID   int64
	Status        ExceptionStatus
	Dimension     string
	Variant       string
	Metric        string
	DeltaApproved float64  // what the exception allowed: the delta when it was asked for
	DeltaNow      *float64 // on the latest baseline analysis; nil if not measured there
	SoftLimit     float64
	Target        string // the plan's target date, YYYY-MM-DD
	Steps         []string
	Done          bool // back within the soft limit
	Overdue       bool // past the target date and not done
}

// Progress reports, for each (dimension, variant, metric) the exception
// covers, the delta it allowed beside the delta on latest (the project's
// latest baseline analysis, or nil) and whether the plan is done or
// overdue. An exception without a plan has no progress to show.
func (e *Exception) Progress(latest *Analysis, now time.Time) []PlanProgress {
	if e.Kind != ExceptionVariant || e.Plan == nil {
		return nil
	}
	covers := e.Subject.Covers
	if len(covers) == 0 {
		covers = []VariantLimit{{Dimension: e.Subject.Dimension, Variant: e.Subject.Variant, Metric: e.Subject.Metric, Value: e.Subject.Value}}
	}
	target, _ := time.Parse(time.DateOnly, e.Plan.TargetDate)
	var out []PlanProgress
	for _, c := range covers {
		p := PlanProgress{ExceptionID: e.ID, Status: e.Status, Dimension: c.Dimension, Variant: c.Variant, Metric: c.Metric,
			DeltaApproved: c.Value, Target: e.Plan.TargetDate, Steps: e.Plan.Steps}
		if latest != nil {
			for _, d := range latest.Dimensions {
				if d.Name != c.Dimension {
					continue
				}
				for _, m := range d.Metrics {
					if m.Name == c.Metric {
						p.SoftLimit = m.SoftLimit
					}
				}
				for _, v := range d.Variants {
					if vm, ok := v.Metrics[c.Metric]; ok && v.Name == c.Variant {
						delta := vm.Delta
						p.DeltaNow = &delta
					}
				}
			}
		}
		p.Done = p.DeltaNow != nil && WithinSoft(*p.DeltaNow, p.SoftLimit)
		// The target day is the last day of the plan.
		p.Overdue = !p.Done && !target.IsZero() && now.After(target.AddDate(0, 0, 1))
		out = append(out, p)
	}
	return out
}
