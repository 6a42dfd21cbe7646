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

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// LiveException returns the pending or approved, unexpired request for the
// subject, if there is one.
// liveExceptionSQL runs for every release evaluation: prepared at open.
var liveExceptionSQL = `SELECT ` + exceptionColumns + ` FROM exceptions
	WHERE kind = ? AND subject_key = ? AND status IN ('pending', 'approved') ORDER BY id DESC`

// LockSubject serialises opening requests for one subject across
// instances (app.Tx).
func (tx *Tx) LockSubject(ctx context.Context, kind, key string) error {
	return tx.lockKey(ctx, "exception\n"+kind+"\n"+key)
}

func (tx *Tx) LiveException(ctx context.Context, kind, key string) (*ccb.Exception, error) {
	rows, err := tx.query(ctx, liveExceptionSQL, kind, key)
	if err != nil {
		return nil, fmt.Errorf("db: live CCB request for %s %s: %w", kind, key, err)
	}
	list, err := scanExceptions(rows)
	if err != nil {
		return nil, fmt.Errorf("db: live CCB request for %s %s: %w", kind, key, err)
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

func (tx *Tx) InsertException(ctx context.Context, e *ccb.Exception) error {
	subject, err := json.Marshal(e.Subject)
	if err != nil {
		return fmt.Errorf("db: encoding the CCB request's subject: %w", err)
	}
	evidence, err := json.Marshal(e.Evidence)
	if err != nil {
		return fmt.Errorf("db: encoding the CCB request's evidence: %w", err)
	}
	plan, err := marshalPlan(e.Plan)
	if err != nil {
		return fmt.Errorf("db: encoding the CCB request's plan: %w", err)
	}
	conds, err := json.Marshal(e.Conditions)
	if err != nil {
		return fmt.Errorf("db: encoding the CCB request's conditions: %w", err)
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

// SaveException writes what a vote, a cancellation, a plan or expiry changed.
func (tx *Tx) SaveException(ctx context.Context, e *ccb.Exception) error {
	plan, err := marshalPlan(e.Plan)
	if err != nil {
		return fmt.Errorf("db: encoding the plan of CCB request %d: %w", e.ID, err)
	}
	conds, err := json.Marshal(e.Conditions)
	if err != nil {
		return fmt.Errorf("db: encoding the conditions of CCB request %d: %w", e.ID, err)
	}
	var revoked any
	if e.Revoked != nil {
		b, err := json.Marshal(e.Revoked)
		if err != nil {
			return fmt.Errorf("db: encoding the revocation of CCB request %d: %w", e.ID, err)
		}
		revoked = string(b)
	}
	_, err = tx.ExecContext(ctx, `UPDATE exceptions SET status = ?, reason = ?, plan = ?, conditions = ?, decided_at = ?, expires_at = ?, revoked = ? WHERE id = ?`,
		string(e.Status), e.Reason, plan, string(conds), nullTime(e.DecidedAt), nullTime(e.ExpiresAt), revoked, e.ID)
	return mapErr(err)
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

const exceptionColumns = `id, kind, status, subject, evidence, requester_iss, requester_sub, requester_name, reason, COALESCE(plan, ''),
	requested_expiry, approvals_required, conditions, created_at, pending_until, COALESCE(decided_at, ''), COALESCE(expires_at, ''),
	COALESCE(revoked, '')`

func scanException(row interface{ Scan(...any) error }) (*ccb.Exception, error) {
	var e ccb.Exception
	var status, subject, evidence, plan, conds, created, pending, decided, expires, revoked string
	var expiry int64
	if err := row.Scan(&e.ID, &e.Kind, &status, &subject, &evidence, &e.Requester.Issuer, &e.Requester.Subject, &e.Requester.Name,
		&e.Reason, &plan, &expiry, &e.ApprovalsRequired, &conds, &created, &pending, &decided, &expires, &revoked); err != nil {
		return nil, err
	}
	e.Status = ccb.ExceptionStatus(status)
	if err := json.Unmarshal([]byte(subject), &e.Subject); err != nil {
		return nil, fmt.Errorf("db: reading the subject of CCB request %d: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(evidence), &e.Evidence); err != nil {
		return nil, fmt.Errorf("db: reading the evidence of CCB request %d: %w", e.ID, err)
	}
	if plan != "" {
		e.Plan = new(ccb.RefactoringPlan)
		if err := json.Unmarshal([]byte(plan), e.Plan); err != nil {
			return nil, fmt.Errorf("db: reading the plan of CCB request %d: %w", e.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(conds), &e.Conditions); err != nil {
		return nil, fmt.Errorf("db: reading the conditions of CCB request %d: %w", e.ID, err)
	}
	if revoked != "" {
		e.Revoked = new(ccb.Revocation)
		if err := json.Unmarshal([]byte(revoked), e.Revoked); err != nil {
			return nil, fmt.Errorf("db: reading the revocation of CCB request %d: %w", e.ID, err)
		}
	}
	e.RequestedExpiry = time.Duration(expiry) * time.Second
	var err error
	if e.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("db: CCB request %d: %w", e.ID, err)
	}
	if e.PendingUntil, err = parseTime(pending); err != nil {
		return nil, fmt.Errorf("db: CCB request %d: %w", e.ID, err)
	}
	if e.DecidedAt, err = parseOptionalTime(decided); err != nil {
		return nil, fmt.Errorf("db: CCB request %d: %w", e.ID, err)
	}
	if e.ExpiresAt, err = parseOptionalTime(expires); err != nil {
		return nil, fmt.Errorf("db: CCB request %d: %w", e.ID, err)
	}
	e.Votes = []ccb.Vote{}
	return &e, nil
}

func scanExceptions(rows *sql.Rows) ([]*ccb.Exception, error) {
	return scanAll(rows, scanException)
}

func loadVotes(ctx context.Context, q querier, e *ccb.Exception) error {
	rows, err := q.QueryContext(ctx, `SELECT voter_iss, voter_sub, voter_name, decision, comment, at FROM exception_votes
		WHERE exception_id = ? ORDER BY at, rowid`, e.ID)
	if err != nil {
		return fmt.Errorf("db: votes of CCB request %d: %w", e.ID, err)
	}
	defer rows.Close()
	e.Votes = []ccb.Vote{}
	for rows.Next() {
		var v ccb.Vote
		var at string
		if err := rows.Scan(&v.Voter.Issuer, &v.Voter.Subject, &v.Voter.Name, &v.Decision, &v.Comment, &at); err != nil {
			return fmt.Errorf("db: votes of CCB request %d: %w", e.ID, err)
		}
		t, err := parseTime(at)
		if err != nil {
			return fmt.Errorf("db: votes of CCB request %d: %w", e.ID, err)
		}
		v.At = t
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
		return nil, fmt.Errorf("db: reading CCB request %d: %w", id, err)
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
		return nil, fmt.Errorf("db: listing CCB requests: %w", err)
	}
	list, err := scanExceptions(rows)
	if err != nil {
		return nil, fmt.Errorf("db: listing CCB requests: %w", err)
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

// Update runs fn in a write transaction of its own, outside the group
// commit, and commits it when fn returns nil.
func (d *DB) Update(ctx context.Context, fn func(tx app.Tx) error) error {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("db: beginning a transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// DecisionToExcept reads a decision inside the transaction that opens a
// request about it; nil if there is none.
func (tx *Tx) DecisionToExcept(ctx context.Context, id int64) (*errorbudget.Decision, error) {
	dec, err := scanDecision(tx.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return dec, err
}

// LockedException reads a request with its votes inside the write
// transaction and locks it: SQLite's single writer (BEGIN IMMEDIATE), or
// PostgreSQL's row lock (FOR UPDATE) against writers on other connections,
// makes the read, the rule check and the write one step, so two concurrent
// votes cannot both decide.
func (tx *Tx) LockedException(ctx context.Context, id int64) (*ccb.Exception, error) {
	e, err := scanException(tx.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions WHERE id = ?`+tx.db.dl.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "no CCB request %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("db: locking CCB request %d: %w", id, err)
	}
	return e, loadVotes(ctx, tx, e)
}

// AddVote stores a vote on request id.
func (tx *Tx) AddVote(ctx context.Context, id int64, v ccb.Vote) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO exception_votes (exception_id, voter_iss, voter_sub, voter_name, decision, comment, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, v.Voter.Issuer, v.Voter.Subject, v.Voter.Name, v.Decision, v.Comment, formatTime(v.At))
	return mapErr(err)
}

// ExceptViolations marks the open violations an approved variant exception
// covers as excepted at once, rather than at the project's next analysis.
func (tx *Tx) ExceptViolations(ctx context.Context, e *ccb.Exception) error {
	covers := e.Subject.Limits()
	for _, c := range covers {
		if err := tx.exec(ctx, `UPDATE violations SET state = 'excepted'
			WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND dimension = ? AND variant = ? AND metric = ?
			AND state = 'open' AND round(CAST(delta AS NUMERIC), 2) <= round(CAST(? AS NUMERIC), 2)`, e.Subject.Project, c.Dimension, c.Variant, c.Metric, c.Value); err != nil {
			return fmt.Errorf("db: marking the violations CCB request %d covers as excepted: %w", e.ID, err)
		}
	}
	return nil
}

// ReopenViolations puts the violations a revoked variant exception had
// excepted back to open, so that pages show the gate closed again (the
// gate itself reads the exceptions in force, not this state).
func (tx *Tx) ReopenViolations(ctx context.Context, e *ccb.Exception) error {
	for _, c := range e.Subject.Limits() {
		if err := tx.exec(ctx, `UPDATE violations SET state = 'open'
			WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND dimension = ? AND variant = ? AND metric = ?
			AND state = 'excepted'`, e.Subject.Project, c.Dimension, c.Variant, c.Metric); err != nil {
			return fmt.Errorf("db: reopening the violations CCB request %d excepted: %w", e.ID, err)
		}
	}
	return nil
}

// LinkException records which exception a stored decision relied on.
func (tx *Tx) LinkException(ctx context.Context, decisionID, exceptionID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE decisions SET exception_id = ? WHERE id = ?`, exceptionID, decisionID)
	return mapErr(err)
}

// UnsettledExceptions lists the requests stored as pending or approved,
// with their votes and the lead time of the last expiry reminder sent.
func (tx *Tx) UnsettledExceptions(ctx context.Context) ([]app.Unsettled, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+exceptionColumns+`, reminded_lead FROM exceptions WHERE status IN ('pending', 'approved')`)
	if err != nil {
		return nil, fmt.Errorf("db: listing unsettled CCB requests: %w", err)
	}
	var live []app.Unsettled
	for rows.Next() {
		var lead int64
		e, err := scanException(scanWithExtra{rows, &lead})
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("db: listing unsettled CCB requests: %w", err)
		}
		live = append(live, app.Unsettled{Exception: e, Reminded: time.Duration(lead) * time.Second})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: listing unsettled CCB requests: %w", err)
	}
	for _, u := range live {
		if err := loadVotes(ctx, tx, u.Exception); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// SetReminded records the lead time of the expiry reminder just queued.
func (tx *Tx) SetReminded(ctx context.Context, id int64, lead time.Duration) error {
	_, err := tx.ExecContext(ctx, `UPDATE exceptions SET reminded_lead = ? WHERE id = ?`, int64(lead/time.Second), id)
	return mapErr(err)
}

// scanWithExtra lets scanException read rows that carry one more column.
type scanWithExtra struct {
	rows  *sql.Rows
	extra any
}

func (s scanWithExtra) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra)...) }
