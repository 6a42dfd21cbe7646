package views

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
)

// CCBQueueView is the board's queue: what waits, what was decided, and the
// form to ask for an exception.
type CCBQueueView struct {
	Page
	Now     time.Time
	Pending []*ccb.Exception
	Decided []*ccb.Exception
	// Marks says what a request is to the signed-in user, by id:
	// "awaiting your vote", "yours", "you voted".
	Marks map[int64]string
	Form  NewRequestForm
	Error string
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
	Variant     *VariantEvidence // a variant request's evidence, read from its analysis
	VoteBlocked string           // why this user cannot vote now; "" when they can
	// ApproveBlocked says why no approval could succeed yet (a variant
	// request without its plan): the form then offers only Reject.
	ApproveBlocked string
	// MayStillVote names the members who could still vote; Members is how
	// many CCB members the server knows (those who signed in).
	MayStillVote []string
	Members      int
	CanCancel    bool
	CanEdit      bool   // the user is the requester and may still change reason and plan
	CanRevoke    bool   // the user is a CCB member and the exception is in force
	Error        string // why the last vote was refused
	Form         VoteForm
	Edit         EditForm
	EditError    string
	RevokeError  string
}

// EditForm is the requester's reason and plan as typed: the plan's steps
// one a line.
type EditForm struct {
	Reason     string
	Steps      string
	TargetDate string
}

// EditFormOf fills the form from the request as stored.
func EditFormOf(e *ccb.Exception) EditForm {
	f := EditForm{Reason: e.Reason}
	if e.Plan != nil {
		f.Steps = strings.Join(e.Plan.Steps, "\n")
		f.TargetDate = e.Plan.TargetDate
	}
	return f
}

// RequesterName names who asked: the person, or for a token that belongs
// to no one (made with the CLI), the token and that it is no person's.
func RequesterName(e *ccb.Exception) string {
	if e.Requester.Issuer == budgetgate.TokenIssuer {
		return fmt.Sprintf("CI token %q (made with the CLI, so it belongs to no person)", strings.TrimPrefix(e.Requester.Name, "token "))
	}
	return e.Requester.Name
}

// WhoMayVote says who may still vote on a pending request, in words.
func WhoMayVote(v CCBRequestView) string {
	switch {
	case v.E.Status != ccb.ExceptionPending:
		return ""
	case len(v.MayStillVote) > 0:
		return "May still vote: " + strings.Join(v.MayStillVote, ", ") + "."
	case v.Members == 0:
		return "May still vote: any CCB member but the requester (no member has signed in yet)."
	}
	return "No CCB member who has signed in may still vote: every one has voted or asked for this change themselves."
}

// VariantEvidence is what the board reads of a blocked analysis.
type VariantEvidence struct {
	Project        string
	Commit         string
	Baseline       string // the baseline branch
	BaselineCommit string
	TrendRef       string
	AnalysisID     int64
	AnalyzedFiles  int
	Rows           []ViolationRow
	Files          []variant.FileOver
	// Others are the recommendations that are not a single file's move
	// (copies to deduplicate, conditional blocks to move).
	Others []variant.Recommendation
}

// ViolationRow is one violation as the board weighs it. A trend failure
// is a change in percentage points held against its trend limit, never a
// level beside it.
type ViolationRow struct {
	Dimension, Variant, Metric string
	Status                     string // fail or trend_fail
	Measured                   string // the level (fail) or the change (trend_fail)
	LimitKind                  string // "hard" or "trend"
	Limit                      string
	Change                     string // against the baseline, with the levels
	Amount                     string // the metric's amount in the variant beside core
}

// VariantEvidenceOf reads a variant request's evidence; nil when it has
// no analysis document.
func VariantEvidenceOf(e *ccb.Exception) *VariantEvidence {
	if e.Kind != ccb.ExceptionVariant || len(e.Evidence.Analysis) == 0 {
		return nil
	}
	var a variant.Analysis
	if json.Unmarshal(e.Evidence.Analysis, &a) != nil {
		return nil
	}
	ev := &VariantEvidence{Project: e.Subject.Project, Commit: e.Subject.Commit, Baseline: a.Baseline, BaselineCommit: a.BaselineCommit,
		TrendRef: a.TrendRef, AnalysisID: e.Subject.AnalysisID, AnalyzedFiles: a.AnalyzedFiles}
	ev.Files, _ = variant.SplitFailing(a.FilesOver())
	for _, v := range a.Violations {
		ev.Rows = append(ev.Rows, violationRow(&a, v))
	}
	for _, d := range a.Dimensions {
		for _, r := range d.Recommendations {
			if r.Kind != variant.RecommendMoveToCore {
				ev.Others = append(ev.Others, r)
			}
		}
	}
	return ev
}

func violationRow(a *variant.Analysis, v variant.Violation) ViolationRow {
	row := ViolationRow{Dimension: v.Dimension, Variant: v.Variant, Metric: v.Metric, Status: v.Status,
		Measured: PctPts(v.Delta), LimitKind: "hard", Limit: "over " + PctPts(v.Limit), Change: Change(v.ChangePP)}
	var m variant.MetricResult
	var vm variant.VariantMetric
	for _, d := range a.Dimensions {
		if d.Name != v.Dimension {
			continue
		}
		for _, x := range d.Metrics {
			if x.Name == v.Metric {
				m = x
			}
		}
		for _, x := range d.Variants {
			if x.Name == v.Variant {
				vm = x.Metrics[v.Metric]
			}
		}
	}
	if m.Name != "" {
		row.Limit = fmt.Sprintf("over %s (soft %s)", PctPts(m.HardLimit), PctPts(m.SoftLimit))
	}
	if vm.BaselineDelta != nil {
		row.Change = fmt.Sprintf("%s (%s → %s)", Change(cmp.Or(vm.ChangePP, v.ChangePP)), PctPts(*vm.BaselineDelta), PctPts(v.Delta))
	}
	if vm.Core != 0 || vm.Value != 0 {
		row.Amount = fmt.Sprintf("%s in %s beside %s in core", Num(vm.Value), v.Variant, Num(vm.Core))
	}
	if v.Status == variant.VariantTrendFail {
		change := cmp.Or(vm.TrendChangePP, vm.ChangePP, v.ChangePP)
		since := "the baseline"
		if a.TrendRef != "" && a.TrendRef != a.Baseline {
			since = a.TrendRef
		}
		row.LimitKind = "trend"
		row.Measured = Change(change) + " since " + since
		row.Limit = fmt.Sprintf("over %+.2f pp a change (the level, %s, is under its hard limit)", v.Limit, PctPts(v.Delta))
	}
	return row
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
			var parts []string
			for _, l := range e.Subject.Limits() {
				parts = append(parts, fmt.Sprintf("%s/%s %s %s", l.Dimension, l.Variant, Label(l.Metric), PctPts(l.Value)))
			}
			return "Over budget: " + strings.Join(parts, "; ") + "."
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

// ApproveMissing says what the request lacks before an approval could
// succeed, and who can supply it.
func ApproveMissing(v CCBRequestView) string {
	if v.CanEdit {
		return "this request has no refactoring plan yet. Add yours below (steps and a target date); the board can approve once it is saved."
	}
	return fmt.Sprintf("this request has no refactoring plan yet. %s, who asked, must add one (steps and a target date); you can reject it now.", RequesterName(v.E))
}

// ApproveLabel says what approving does, for the kind of request.
func ApproveLabel(e *ccb.Exception) string {
	if e.Kind == ccb.ExceptionVariant {
		return fmt.Sprintf("Approve: except these violations, each up to its measured value, for %s (further growth blocks again)", ccb.FormatExpiry(e.RequestedExpiry))
	}
	return fmt.Sprintf("Approve: let %s %s ship for %s, to be monitored closely with its rollback ready", e.Subject.Service, e.Subject.Version, ccb.FormatExpiry(e.RequestedExpiry))
}

// AnalysisHref links an analysis on its project's page.
func AnalysisHref(project string, id int64) string {
	return fmt.Sprintf("%s#analysis-%d", ProjectHref(project), id)
}

// BranchLine says what the analysed commit was compared with.
func BranchLine(ev *VariantEvidence) string {
	if ev.Baseline == "" {
		return "not compared with a baseline: the analysis named none, so no change against it is known"
	}
	s := "compared with the baseline branch " + ev.Baseline
	if ev.BaselineCommit != "" {
		s += " at " + ccb.ShortCommit(ev.BaselineCommit)
	}
	if ev.TrendRef != "" && ev.TrendRef != ev.Baseline {
		s += "; trends against " + ev.TrendRef
	}
	return s
}

// RecommendationText describes a recommendation that is not a single
// file's move into core.
func RecommendationText(r variant.Recommendation) string {
	what := fmt.Sprintf("Deduplicate %s lines copied in %s into one shared copy in core", Num(r.Value), joinOr(r.Variants, ""))
	if r.Kind == variant.RecommendMoveConditional {
		what = fmt.Sprintf("Move the conditional blocks of %s (%s lines) into a variant file", joinOr(r.Variants, ""), Num(r.Value))
	}
	return fmt.Sprintf("%s: %s (%s → %s)", what, strings.Join(Locations(r), ", "), PctPts(r.Before), PctPts(r.After))
}

// RequesterShort names who asked in a list.
func RequesterShort(e *ccb.Exception) string {
	if e.Requester.Issuer == budgetgate.TokenIssuer {
		return "CI token " + strings.TrimPrefix(e.Requester.Name, "token ")
	}
	return e.Requester.Name
}

// Queue marks: what a request is to the signed-in user.
const (
	MarkAwaitingVote = "awaiting your vote"
	MarkYours        = "yours"
	MarkVoted        = "you voted"
)

// MarkClass is the style of a queue mark: the one that asks for action
// stands out (its words say it; the colour only repeats them).
func MarkClass(m string) string {
	if m == MarkAwaitingVote {
		return "mark-act"
	}
	return "mark-info"
}

// QueueMarks marks each request for user u: theirs, awaiting their vote,
// or voted on.
func QueueMarks(u budgetgate.User, now time.Time, lists ...[]*ccb.Exception) map[int64]string {
	marks := map[int64]string{}
	if u.Subject == "" {
		return marks
	}
	for _, list := range lists {
		for _, e := range list {
			probe := *e // CanVote settles its receiver
			switch {
			case e.IsRequester(u.Actor()):
				marks[e.ID] = MarkYours
			case probe.CanVote(u, now) == nil:
				marks[e.ID] = MarkAwaitingVote
			default:
				if _, ok := e.VoteOf(u.Actor()); ok {
					marks[e.ID] = MarkVoted
				}
			}
		}
	}
	return marks
}

// AskBoard is a blocked project as a page offers it to the board: the
// violations that block it, the requests already waiting, and a form that
// opens a request for its latest baseline analysis.
type AskBoard struct {
	Project    string
	AnalysisID int64
	Commit     string
	Blocking   []variant.TrackedViolation
	Pending    []*ccb.Exception
}
