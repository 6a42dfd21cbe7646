package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
)

func (tx *Tx) notifyCCB(ctx context.Context, n app.CCBNotify, kind string, e *ccb.Exception, msg string) error {
	subject := e.Subject.Service
	if e.Kind == ccb.ExceptionVariant {
		subject = e.Subject.Project
	}
	return tx.enqueue(ctx, kind, subject, app.CCBRole, msg+n.Link(e.ID), n.Hooks[app.CCBRole])
}

func exceptionSubject(id int64) string { return fmt.Sprintf("exception/%d", id) }

// OpenException opens a CCB request. For a release request it reads the
// decision named in req.Subject.DecisionID, which must have denied the
// release, and takes the subject and evidence from it. A variant request
// comes with its subject and evidence filled by the caller (the analysis
// side). If a pending or approved request already covers the same subject,
// that one is returned with created false, so that a retrying client does
// not open duplicates.
func (d *DB) OpenException(ctx context.Context, req ccb.ExceptionRequest, requester budgetgate.Actor, rules ccb.CCBRules, n app.CCBNotify) (e *ccb.Exception, created bool, err error) {
	err = d.writeTx(ctx, func(tx *Tx) error {
		e, created, err = tx.OpenException(ctx, req, requester, rules, n)
		return err
	})
	return e, created, err
}

// OpenException is DB.OpenException inside a write transaction, for a
// request that must commit with what caused it (a blocked analysis).
func (tx *Tx) OpenException(ctx context.Context, req ccb.ExceptionRequest, requester budgetgate.Actor, rules ccb.CCBRules, n app.CCBNotify) (e *ccb.Exception, created bool, err error) {
	if req.Kind == ccb.ExceptionRelease {
		id := req.Subject.DecisionID
		dec, err := scanDecision(tx.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, &budgetgate.Error{Code: budgetgate.ENOTFOUND, Field: "decision_id", Message: fmt.Sprintf("no decision %d", id)}
		}
		if err != nil {
			return nil, false, err
		}
		if dec.Approved {
			return nil, false, &budgetgate.Error{Code: budgetgate.ECONFLICT, Field: "decision_id",
				Message: fmt.Sprintf("decision %d approved %s %s: there is nothing to except", id, dec.Release.Service, dec.Release.Version)}
		}
		req.Subject = ccb.ExceptionSubject{DecisionID: id, Service: dec.Release.Service, Version: dec.Release.Version}
		req.Evidence = ccb.ExceptionEvidence{Decision: dec}
	}
	e, err = ccb.NewException(req, requester, rules, tx.now)
	if err != nil {
		return nil, false, err
	}
	if prior, err := tx.LiveException(ctx, e.Kind, e.Subject.Key(e.Kind)); err != nil || prior != nil {
		return prior, false, err
	}
	if err := tx.insertException(ctx, e); err != nil {
		return nil, false, err
	}
	title := e.Subject.Title(e.Kind)
	if err := tx.Audit(ctx, requester, "exception.open", exceptionSubject(e.ID),
		fmt.Sprintf("%s exception for %s requested for %s: %s", e.Kind, title, ccb.FormatExpiry(e.RequestedExpiry), e.Reason)); err != nil {
		return nil, false, err
	}
	msg := fmt.Sprintf("New CCB request %d: %s exception for %s, asked by %s for %s. Reason: %s",
		e.ID, e.Kind, title, requester.Name, ccb.FormatExpiry(e.RequestedExpiry), truncate(e.Reason, 300))
	if err := tx.notifyCCB(ctx, n, "ccb.request", e, msg); err != nil {
		return nil, false, err
	}
	return e, true, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// liveException returns the pending or approved, unexpired request for the
// subject, if there is one.
// liveExceptionSQL runs for every release evaluation: prepared at open.
var liveExceptionSQL = `SELECT ` + exceptionColumns + ` FROM exceptions
	WHERE kind = ? AND subject_key = ? AND status IN ('pending', 'approved') ORDER BY id DESC`

func (tx *Tx) LiveException(ctx context.Context, kind, key string) (*ccb.Exception, error) {
	rows, err := tx.query(ctx, liveExceptionSQL, kind, key)
	if err != nil {
		return nil, err
	}
	list, err := scanExceptions(rows)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if !e.Settle(tx.now) {
			if err := loadVotes(ctx, tx, e); err != nil {
				return nil, err
			}
			return e, nil
		}
	}
	return nil, nil
}

func (tx *Tx) insertException(ctx context.Context, e *ccb.Exception) error {
	subject, err := json.Marshal(e.Subject)
	if err != nil {
		return err
	}
	evidence, err := json.Marshal(e.Evidence)
	if err != nil {
		return err
	}
	plan, err := marshalPlan(e.Plan)
	if err != nil {
		return err
	}
	conds, err := json.Marshal(e.Conditions)
	if err != nil {
		return err
	}
	var decisionID, analysisID any
	if e.Subject.DecisionID != 0 {
		decisionID = e.Subject.DecisionID
	}
	if e.Subject.AnalysisID != 0 {
		analysisID = e.Subject.AnalysisID
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO exceptions (kind, status, subject_key, subject, evidence, decision_id, analysis_id,
		requester_iss, requester_sub, requester_name, reason, plan, requested_expiry, approvals_required, conditions, created_at, pending_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Kind, string(e.Status), e.Subject.Key(e.Kind), string(subject), string(evidence), decisionID, analysisID,
		e.Requester.Issuer, e.Requester.Subject, e.Requester.Name, e.Reason, plan, int64(e.RequestedExpiry/time.Second),
		e.ApprovalsRequired, string(conds), formatTime(e.CreatedAt), formatTime(e.PendingUntil)).Scan(&e.ID)
	return mapErr(err)
}

func marshalPlan(p *ccb.RefactoringPlan) (any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

// saveException writes what a vote, a cancellation, a plan or expiry changed.
func (tx *Tx) saveException(ctx context.Context, e *ccb.Exception) error {
	plan, err := marshalPlan(e.Plan)
	if err != nil {
		return err
	}
	conds, err := json.Marshal(e.Conditions)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE exceptions SET status = ?, plan = ?, conditions = ?, decided_at = ?, expires_at = ? WHERE id = ?`,
		string(e.Status), plan, string(conds), nullTime(e.DecidedAt), nullTime(e.ExpiresAt), e.ID)
	return mapErr(err)
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

const exceptionColumns = `id, kind, status, subject, evidence, requester_iss, requester_sub, requester_name, reason, COALESCE(plan, ''),
	requested_expiry, approvals_required, conditions, created_at, pending_until, COALESCE(decided_at, ''), COALESCE(expires_at, '')`

func scanException(row interface{ Scan(...any) error }) (*ccb.Exception, error) {
	var e ccb.Exception
	var status, subject, evidence, plan, conds, created, pending, decided, expires string
	var expiry int64
	if err := row.Scan(&e.ID, &e.Kind, &status, &subject, &evidence, &e.Requester.Issuer, &e.Requester.Subject, &e.Requester.Name,
		&e.Reason, &plan, &expiry, &e.ApprovalsRequired, &conds, &created, &pending, &decided, &expires); err != nil {
		return nil, err
	}
	e.Status = ccb.ExceptionStatus(status)
	if err := json.Unmarshal([]byte(subject), &e.Subject); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(evidence), &e.Evidence); err != nil {
		return nil, err
	}
	if plan != "" {
		e.Plan = new(ccb.RefactoringPlan)
		if err := json.Unmarshal([]byte(plan), e.Plan); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal([]byte(conds), &e.Conditions); err != nil {
		return nil, err
	}
	e.RequestedExpiry = time.Duration(expiry) * time.Second
	e.CreatedAt, e.PendingUntil = parseTime(created), parseTime(pending)
	if decided != "" {
		t := parseTime(decided)
		e.DecidedAt = &t
	}
	if expires != "" {
		t := parseTime(expires)
		e.ExpiresAt = &t
	}
	e.Votes = []ccb.Vote{}
	return &e, nil
}

func scanExceptions(rows *sql.Rows) ([]*ccb.Exception, error) {
	defer rows.Close()
	var out []*ccb.Exception
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func loadVotes(ctx context.Context, q querier, e *ccb.Exception) error {
	rows, err := q.QueryContext(ctx, `SELECT voter_iss, voter_sub, voter_name, decision, comment, at FROM exception_votes
		WHERE exception_id = ? ORDER BY at, rowid`, e.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	e.Votes = []ccb.Vote{}
	for rows.Next() {
		var v ccb.Vote
		var at string
		if err := rows.Scan(&v.Voter.Issuer, &v.Voter.Subject, &v.Voter.Name, &v.Decision, &v.Comment, &at); err != nil {
			return err
		}
		v.At = parseTime(at)
		e.Votes = append(e.Votes, v)
	}
	return rows.Err()
}

// Exception returns one request with its votes, its status as of now.
func (d *DB) Exception(ctx context.Context, id int64) (*ccb.Exception, error) {
	e, err := scanException(d.read.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "no CCB request %d", id)
	}
	if err != nil {
		return nil, err
	}
	e.Settle(d.Now().UTC())
	return e, loadVotes(ctx, d.read, e)
}

// Exceptions lists requests, newest first, each with its votes and its
// status as of now (a pending request past its wait is listed as expired).
func (d *DB) Exceptions(ctx context.Context, f app.ExceptionFilter) ([]*ccb.Exception, error) {
	q, args := `SELECT `+exceptionColumns+` FROM exceptions WHERE 1=1`, []any{}
	if len(f.Statuses) > 0 {
		// Stored statuses lag by up to a sweep: an expired request may
		// still be stored as pending or approved.
		stored := map[string]bool{}
		for _, s := range f.Statuses {
			stored[string(s)] = true
			if s == ccb.ExceptionExpired {
				stored["pending"], stored["approved"] = true, true
			}
		}
		var marks []string
		for s := range stored {
			marks = append(marks, "?")
			args = append(args, s)
		}
		q += ` AND status IN (` + strings.Join(marks, ",") + `)`
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Service != "" {
		q += ` AND kind = 'release' AND subject_key LIKE ? ESCAPE '\'`
		args = append(args, escapeLike(f.Service)+"@%")
	}
	if f.Project != "" {
		q += ` AND kind = 'variant' AND subject_key LIKE ? ESCAPE '\'`
		args = append(args, escapeLike(f.Project)+"/%")
	}
	q += ` ORDER BY id DESC`
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	list, err := scanExceptions(rows)
	if err != nil {
		return nil, err
	}
	now := d.Now().UTC()
	var out []*ccb.Exception
	for _, e := range list {
		e.Settle(now)
		if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, e.Status) {
			continue
		}
		if err := loadVotes(ctx, d.read, e); err != nil {
			return nil, err
		}
		out = append(out, e)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// lockedException reads a request inside a write transaction. SQLite's
// single writer (BEGIN IMMEDIATE) makes the read, the rule check and the
// write one step, so two concurrent votes cannot both decide.
func (tx *Tx) lockedException(ctx context.Context, id int64) (*ccb.Exception, error) {
	e, err := scanException(tx.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "no CCB request %d", id)
	}
	if err != nil {
		return nil, err
	}
	if err := loadVotes(ctx, tx, e); err != nil {
		return nil, err
	}
	if e.Settle(tx.now) {
		if err := tx.expire(ctx, e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// expire stores and audits a request that Settle found expired.
func (tx *Tx) expire(ctx context.Context, e *ccb.Exception) error {
	if err := tx.saveException(ctx, e); err != nil {
		return err
	}
	what := "approval ended"
	if e.DecidedAt == nil {
		what = "no decision within 7 days"
	}
	return tx.Audit(ctx, budgetgate.SystemActor, "exception.expire", exceptionSubject(e.ID), what)
}

// VoteException records a board member's vote and, if it decides the
// request, the outcome; both are audited and the board notified of a
// decision. The vote is refused (and nothing stored) if the rules say no.
func (d *DB) VoteException(ctx context.Context, id int64, voter budgetgate.User, decision, comment string, n app.CCBNotify) (*ccb.Exception, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	e, err := tx.lockedException(ctx, id)
	if err != nil {
		return nil, err
	}
	decided, voteErr := e.Vote(voter, decision, comment, tx.now)
	if voteErr != nil {
		// An expiry found on the way is still worth keeping.
		if err := tx.Commit(); err != nil {
			return nil, mapErr(err)
		}
		return nil, voteErr
	}
	v := e.Votes[len(e.Votes)-1]
	if _, err := tx.ExecContext(ctx, `INSERT INTO exception_votes (exception_id, voter_iss, voter_sub, voter_name, decision, comment, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.ID, v.Voter.Issuer, v.Voter.Subject, v.Voter.Name, v.Decision, v.Comment, formatTime(v.At)); err != nil {
		return nil, mapErr(err)
	}
	detail := v.Decision
	if v.Comment != "" {
		detail += ": " + v.Comment
	}
	if err := tx.Audit(ctx, v.Voter, "exception.vote", exceptionSubject(e.ID), detail); err != nil {
		return nil, err
	}
	if decided {
		if err := tx.saveException(ctx, e); err != nil {
			return nil, err
		}
		title := e.Subject.Title(e.Kind)
		var auditDetail, msg string
		if e.Status == ccb.ExceptionApproved {
			until := e.ExpiresAt.UTC().Format(time.RFC3339)
			auditDetail = fmt.Sprintf("approved by %s until %s", strings.Join(e.Approvers(), ", "), until)
			msg = fmt.Sprintf("CCB request %d approved by %s: %s is excepted until %s.", e.ID, strings.Join(e.Approvers(), ", "), title, until)
		} else {
			auditDetail = fmt.Sprintf("rejected by %s: %s", v.Voter.Name, v.Comment)
			msg = fmt.Sprintf("CCB request %d rejected by %s: %s stays blocked. %s", e.ID, v.Voter.Name, title, truncate(v.Comment, 300))
		}
		if err := tx.Audit(ctx, budgetgate.SystemActor, "exception."+string(e.Status), exceptionSubject(e.ID), auditDetail); err != nil {
			return nil, err
		}
		if err := tx.notifyCCB(ctx, n, "ccb.decision", e, msg); err != nil {
			return nil, err
		}
		if e.Kind == ccb.ExceptionVariant && e.Status == ccb.ExceptionApproved {
			if err := tx.exceptViolations(ctx, e); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, mapErr(err)
	}
	return e, nil
}

// exceptViolations marks the open violations an approved variant exception
// covers as excepted at once, rather than at the project's next analysis.
func (tx *Tx) exceptViolations(ctx context.Context, e *ccb.Exception) error {
	covers := e.Subject.Covers
	if len(covers) == 0 {
		covers = []ccb.VariantLimit{{Dimension: e.Subject.Dimension, Variant: e.Subject.Variant, Metric: e.Subject.Metric, Value: e.Subject.Value}}
	}
	for _, c := range covers {
		if err := tx.exec(ctx, `UPDATE violations SET state = 'excepted'
			WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND dimension = ? AND variant = ? AND metric = ?
			AND state = 'open' AND round(delta, 2) <= round(?, 2)`, e.Subject.Project, c.Dimension, c.Variant, c.Metric, c.Value); err != nil {
			return err
		}
	}
	return nil
}

// CancelException withdraws a pending request.
func (d *DB) CancelException(ctx context.Context, id int64, by budgetgate.User) (*ccb.Exception, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	e, err := tx.lockedException(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := e.Cancel(by, tx.now); err != nil {
		tx.Commit()
		return nil, err
	}
	if err := tx.saveException(ctx, e); err != nil {
		return nil, err
	}
	if err := tx.Audit(ctx, by.Actor(), "exception.cancel", exceptionSubject(e.ID), "cancelled by "+by.Name); err != nil {
		return nil, err
	}
	return e, mapErr(tx.Commit())
}

// SetExceptionPlan attaches a refactoring plan to a pending request, which a
// variant exception needs before it can be approved.
func (d *DB) SetExceptionPlan(ctx context.Context, id int64, plan ccb.RefactoringPlan, by budgetgate.Actor) (*ccb.Exception, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	e, err := tx.lockedException(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := e.SetPlan(plan, by, tx.now); err != nil {
		return nil, err
	}
	if err := tx.saveException(ctx, e); err != nil {
		return nil, err
	}
	if err := tx.Audit(ctx, by, "exception.plan", exceptionSubject(e.ID),
		fmt.Sprintf("%d steps, target %s", len(plan.Steps), plan.TargetDate)); err != nil {
		return nil, err
	}
	return e, mapErr(tx.Commit())
}

// LinkException records which exception a stored decision relied on.
func (tx *Tx) LinkException(ctx context.Context, decisionID, exceptionID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE decisions SET exception_id = ? WHERE id = ?`, exceptionID, decisionID)
	return mapErr(err)
}

// SweepExceptions stores the expiry of requests whose time has passed and
// queues the reminders due before approvals end. The notifier runs it
// periodically; reads are right in between, since they settle on the fly.
func (d *DB) SweepExceptions(ctx context.Context, n app.CCBNotify) (expired, reminded int, err error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+exceptionColumns+`, reminded_lead FROM exceptions WHERE status IN ('pending', 'approved')`)
	if err != nil {
		return 0, 0, err
	}
	type row struct {
		e    *ccb.Exception
		lead time.Duration
	}
	var live []row
	for rows.Next() {
		var lead int64
		var r row
		r.e, err = scanException(scanWithExtra{rows, &lead})
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		r.lead = time.Duration(lead) * time.Second
		live = append(live, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, r := range live {
		e := r.e
		if err := loadVotes(ctx, tx, e); err != nil {
			return 0, 0, err
		}
		if e.Settle(tx.now) {
			if err := tx.expire(ctx, e); err != nil {
				return 0, 0, err
			}
			expired++
			continue
		}
		lead, due := e.ReminderDue(tx.now, r.lead)
		if !due {
			continue
		}
		msg := fmt.Sprintf("CCB exception %d for %s expires in %s (%s).", e.ID, e.Subject.Title(e.Kind),
			ccb.FormatExpiry(lead), e.ExpiresAt.UTC().Format(time.RFC3339))
		if err := tx.notifyCCB(ctx, n, "ccb.expiry", e, msg); err != nil {
			return 0, 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET reminded_lead = ? WHERE id = ?`, int64(lead/time.Second), e.ID); err != nil {
			return 0, 0, mapErr(err)
		}
		reminded++
	}
	return expired, reminded, mapErr(tx.Commit())
}

// scanWithExtra lets scanException read rows that carry one more column.
type scanWithExtra struct {
	rows  *sql.Rows
	extra any
}

func (s scanWithExtra) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra)...) }

// VariantException returns the approved, unexpired variant exception that
// lets value through for the subject's (project, dimension, variant,
// metric), or nil. The analysis side calls it before blocking a change.
func (d *DB) VariantException(ctx context.Context, s ccb.ExceptionSubject, value float64) (*ccb.Exception, error) {
	// A request for a blocked analysis covers all of its violations, so look
	// at every approved exception of the project; CoversVariant decides.
	list, err := d.Exceptions(ctx, app.ExceptionFilter{Kind: ccb.ExceptionVariant, Project: s.Project,
		Statuses: []ccb.ExceptionStatus{ccb.ExceptionApproved}})
	if err != nil {
		return nil, err
	}
	now := d.Now().UTC()
	for _, e := range list {
		if e.CoversVariant(s, value, now) {
			return e, nil
		}
	}
	return nil, nil
}
