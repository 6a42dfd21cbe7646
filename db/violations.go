package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
)

type violationKey struct{ dimension, variant, metric string }

// trackViolations opens, updates and resolves the project's violations for
// the analysis being saved (see docs/BUDGET_MATH.md, Compliance and projection). A failure is the same violation as
// an unresolved one with its key at the same commit or on the baseline;
// otherwise it is new. A baseline analysis resolves every unresolved
// violation of the project whose key it no longer fails.
func (tx *Tx) trackViolations(ctx context.Context, projectID int64, in app.NewAnalysis, out *app.SavedAnalysis) error {
	a := in.Analysis
	at := formatTime(tx.now)
	openedAt, err := parseTime(at) // as a read of the row will give it
	if err != nil {
		return err
	}
	// The statements run once a violation, up to tens of thousands of
	// times: parsed once here, not each time (SQLite parses a statement
	// more slowly than it runs one of these).
	st, err := tx.prepareAll(ctx, findViolation, insertViolation, updateViolation, `SELECT `+violationColumns+` FROM violations v JOIN projects p ON p.id = v.project_id WHERE v.id = ?`)
	if err != nil {
		return err
	}
	defer closeAll(st)
	find, insert, update, byID := st[0], st[1], st[2], st[3]
	failing := map[violationKey]bool{}
	for i, v := range a.Violations {
		key := violationKey{v.Dimension, v.Variant, v.Metric}
		failing[key] = true
		state := variant.ViolationOpen
		if i < len(in.Covered) && in.Covered[i] {
			state = variant.ViolationExcepted
		}
		var id int64
		var commit string
		err := find.QueryRowContext(ctx, projectID, v.Dimension, v.Variant, v.Metric, a.Commit, in.OnBaseline, a.Commit).Scan(&id, &commit)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := insert.QueryRowContext(ctx, projectID, a.Commit, in.OnBaseline, v.Dimension, v.Variant, v.Metric, v.Status, v.Value, v.Delta, v.Limit,
				state, at, out.ID, out.ID).Scan(&id); err != nil {
				return mapErr(err)
			}
			// New: its record is what was just written.
			out.Violations = append(out.Violations, variant.TrackedViolation{ID: id, Project: a.Project, Commit: a.Commit,
				OnBaseline: in.OnBaseline, Dimension: v.Dimension, Variant: v.Variant, Metric: v.Metric, Kind: v.Status, Value: v.Value,
				Delta: v.Delta, Limit: v.Limit, State: state, OpenedAt: openedAt, OpenedBy: out.ID, LastAnalysis: out.ID, New: true})
			continue
		case err != nil:
			return mapErr(err)
		case commit == a.Commit || in.OnBaseline:
			// Seen again where it was opened, or still on the baseline:
			// the figures and the exception state move with it. A
			// change's violation seen again by a baseline analysis of the
			// same commit (the change was merged as it was) is the
			// baseline's from now on, so that the deployment gate sees it.
			if _, err := update.ExecContext(ctx, v.Status, v.Value, v.Delta, v.Limit, state, out.ID, in.OnBaseline, id); err != nil {
				return mapErr(err)
			}
		}
		// A change that only carries a baseline violation along is
		// answered with the baseline's record, untouched.
		tv, err := scanViolation(byID.QueryRowContext(ctx, id))
		if err != nil {
			return mapErr(err)
		}
		tv.New = tv.OpenedBy == out.ID
		out.Violations = append(out.Violations, tv)
	}
	if !in.OnBaseline {
		return nil
	}
	open, err := queryViolations(ctx, tx, `SELECT `+violationColumns+` FROM violations v JOIN projects p ON p.id = v.project_id
		WHERE v.project_id = ? AND v.state != 'resolved' ORDER BY v.id`, projectID)
	if err != nil {
		return err
	}
	for _, v := range open {
		if failing[violationKey{v.Dimension, v.Variant, v.Metric}] {
			continue
		}
		if err := tx.exec(ctx, `UPDATE violations SET state = 'resolved', resolved_at = ?, resolved_by_analysis = ? WHERE id = ?`, at, out.ID, v.ID); err != nil {
			return err
		}
		v.State, v.ResolvedAt, v.ResolvedBy = variant.ViolationResolved, &tx.now, out.ID
		out.Resolved = append(out.Resolved, v)
	}
	return nil
}

const (
	// findViolation finds the unresolved violation a failure is: at the
	// same commit or on the baseline; for a baseline analysis the
	// baseline's first, so that one key has one baseline violation.
	findViolation = `SELECT id, commit_sha FROM violations
		WHERE project_id = ? AND dimension = ? AND variant = ? AND metric = ? AND state != 'resolved' AND (commit_sha = ? OR on_baseline = TRUE)
		ORDER BY CASE WHEN ? AND on_baseline = TRUE THEN 1 ELSE 0 END DESC, CASE WHEN commit_sha = ? THEN 1 ELSE 0 END DESC, id LIMIT 1`
	insertViolation = `INSERT INTO violations (project_id, commit_sha, on_baseline, dimension, variant, metric, kind, value, delta,
		limit_value, state, opened_at, opened_by_analysis, last_analysis) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	updateViolation = `UPDATE violations SET kind = ?, value = ?, delta = ?, limit_value = ?, state = ?, last_analysis = ?,
		on_baseline = (on_baseline OR ?) WHERE id = ?`
)

// prepareAll prepares statements in tx, for a loop to run many times.
func (tx *Tx) prepareAll(ctx context.Context, queries ...string) ([]*sql.Stmt, error) {
	out := make([]*sql.Stmt, 0, len(queries))
	for _, q := range queries {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			closeAll(out)
			return nil, mapErr(err)
		}
		out = append(out, st)
	}
	return out, nil
}

func closeAll(sts []*sql.Stmt) {
	for _, st := range sts {
		st.Close()
	}
}

// notifyViolations queues one message, to the project's owner role, naming
// the violations the analysis opened.
func (tx *Tx) notifyViolations(ctx context.Context, projectID int64, in app.NewAnalysis, out *app.SavedAnalysis) error {
	var lines []string
	for _, v := range out.Violations {
		if v.New {
			lines = append(lines, fmt.Sprintf("%s/%s %s %.2f%% (limit %.2f, %s)", v.Dimension, v.Variant, v.Metric, v.Delta, v.Limit, v.State))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	var role string
	if err := tx.QueryRowContext(ctx, `SELECT owner_role FROM projects WHERE id = ?`, projectID).Scan(&role); err != nil {
		return mapErr(err)
	}
	if role == "" {
		role = DefaultOwnerRole
	}
	where := "at " + shortCommit(in.Analysis.Commit)
	if in.OnBaseline {
		where = "on " + in.Analysis.Baseline + " " + where
	}
	// Worst first, as the analysis orders them, and no longer than a
	// person's reason may be: a thousand violations make one short message.
	msg := fmt.Sprintf("%s: %d new variant-budget violation(s) %s: %s.", in.Analysis.Project, len(lines), where,
		budgetgate.Summarize(lines, ccb.MaxReasonChars))
	if in.Link != "" {
		msg += " " + in.Link
	}
	if err := tx.Enqueue(ctx, "violation", in.Analysis.Project, role, msg, in.Hooks[role]); err != nil {
		return err
	}
	out.Notified++
	return nil
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

const violationColumns = `v.id, p.name, v.commit_sha, v.on_baseline, v.dimension, v.variant, v.metric, v.kind, v.value, v.delta, v.limit_value,
	v.state, v.opened_at, v.opened_by_analysis, v.last_analysis, COALESCE(v.resolved_at, ''), COALESCE(v.resolved_by_analysis, 0)`

type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanViolation(row interface{ Scan(...any) error }) (variant.TrackedViolation, error) {
	var v variant.TrackedViolation
	var opened, resolved string
	err := row.Scan(&v.ID, &v.Project, &v.Commit, &v.OnBaseline, &v.Dimension, &v.Variant, &v.Metric, &v.Kind, &v.Value, &v.Delta, &v.Limit,
		&v.State, &opened, &v.OpenedBy, &v.LastAnalysis, &resolved, &v.ResolvedBy)
	if err != nil {
		return v, err
	}
	if v.OpenedAt, err = parseTime(opened); err != nil {
		return v, err
	}
	v.ResolvedAt, err = parseOptionalTime(resolved)
	return v, err
}

func queryViolations(ctx context.Context, q querier, query string, args ...any) ([]variant.TrackedViolation, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return scanAll(rows, scanViolation)
}

// MaxViolations caps one listing.
const MaxViolations = 1000

// Violations lists violations, newest first.
func (d *DB) Violations(ctx context.Context, f app.ViolationFilter) ([]variant.TrackedViolation, error) {
	q := `SELECT ` + violationColumns + ` FROM violations v JOIN projects p ON p.id = v.project_id WHERE 1=1`
	var args []any
	if f.Project != "" {
		q += ` AND p.name = ?`
		args = append(args, f.Project)
	}
	if f.State != "" {
		q += ` AND v.state = ?`
		args = append(args, f.State)
	}
	if f.OnBaseline {
		q += ` AND v.on_baseline = TRUE`
	}
	if f.Before > 0 {
		q += ` AND v.id < ?`
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxViolations {
		limit = MaxViolations
	}
	q += ` ORDER BY v.id DESC LIMIT ?`
	args = append(args, limit)
	return queryViolations(ctx, d.read, q, args...)
}

// UnresolvedBaselineViolations lists the project's violations opened on its
// baseline branch and not resolved: what a deployment gate looks at.
func (d *DB) UnresolvedBaselineViolations(ctx context.Context, project string) ([]variant.TrackedViolation, error) {
	return queryViolations(ctx, d.read, `SELECT `+violationColumns+` FROM violations v JOIN projects p ON p.id = v.project_id
		WHERE p.name = ? AND v.on_baseline = TRUE AND v.state != 'resolved' ORDER BY v.id`, project)
}

// ViolationCounts counts each project's violations by state.
func (d *DB) ViolationCounts(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT p.name, v.state, COUNT(*) FROM violations v JOIN projects p ON p.id = v.project_id GROUP BY p.name, v.state`)
	if err != nil {
		return nil, fmt.Errorf("db: counting violations: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var project, state string
		var n int
		if err := rows.Scan(&project, &state, &n); err != nil {
			return nil, fmt.Errorf("db: counting violations: %w", err)
		}
		if out[project] == nil {
			out[project] = map[string]int{}
		}
		out[project][state] = n
	}
	return out, rows.Err()
}
