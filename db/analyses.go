package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/variant"
)

// SaveAnalysis stores an analysis in tx with its figures and, for a
// baseline analysis, its compliance score; opens violations for new
// failures, resolves the project's violations that a baseline analysis
// shows back within limits, queues a notification for new violations and
// audits it all (see docs/BUDGET_MATH.md, Compliance and projection).
func (tx *Tx) SaveAnalysis(ctx context.Context, in app.NewAnalysis) (*app.SavedAnalysis, error) {
	a := in.Analysis
	projectID, err := tx.ensureProject(ctx, a.Project)
	if err != nil {
		return nil, fmt.Errorf("db: saving the analysis of %s at %s: %w", a.Project, a.Commit, err)
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("db: encoding the analysis of %s at %s: %w", a.Project, a.Commit, err)
	}
	c := variant.ComplianceOf(a)
	status := a.StatusWith(in.Covered)
	at := formatTime(tx.now)
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO analyses (project_id, commit_sha, baseline, baseline_commit, on_baseline, analysis_status, status,
		score, within, pairs, policy_version, source, requested_by, document, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		projectID, a.Commit, a.Baseline, a.BaselineCommit, in.OnBaseline, a.Status, status,
		c.Score, c.Within, c.Pairs, a.PolicyVersion, in.Source, in.Actor.Name, string(doc), at).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("db: saving the analysis of %s at %s: %w", a.Project, a.Commit, mapErr(err))
	}
	out := &app.SavedAnalysis{ProjectAnalysis: variant.ProjectAnalysis{
		ID: id, Project: a.Project, Commit: a.Commit, Baseline: a.Baseline, OnBaseline: in.OnBaseline,
		Status: status, Source: in.Source, By: in.Actor.Name, Compliance: c, CreatedAt: tx.now, Analysis: a,
	}}
	for _, dr := range a.Dimensions {
		for _, mr := range dr.Metrics {
			if err := tx.exec(ctx, `INSERT INTO analysis_figures (analysis_id, project_id, on_baseline, created_at, dimension, metric, budget,
				status, delta, variant, share, change_pp, soft_limit, hard_limit, trend_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, projectID, in.OnBaseline, at, dr.Name, mr.Name, mr.Budget, mr.Status, mr.Delta, mr.Variant, mr.Share,
				mr.ChangePP, mr.SoftLimit, mr.HardLimit, mr.TrendLimit); err != nil {
				return nil, fmt.Errorf("db: saving the figures of analysis %d: %w", id, err)
			}
		}
	}
	if in.OnBaseline {
		if err := tx.exec(ctx, `INSERT INTO compliance_scores (analysis_id, project_id, commit_sha, score, within, pairs, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, projectID, a.Commit, c.Score, c.Within, c.Pairs, at); err != nil {
			return nil, fmt.Errorf("db: saving the compliance score of analysis %d: %w", id, err)
		}
	}
	if err := tx.trackViolations(ctx, projectID, in, out); err != nil {
		return nil, fmt.Errorf("db: tracking the violations of analysis %d: %w", id, err)
	}
	if err := tx.notifyViolations(ctx, projectID, in, out); err != nil {
		return nil, fmt.Errorf("db: queueing the violation notice of analysis %d: %w", id, err)
	}
	var fresh int
	for _, v := range out.Violations {
		if v.New {
			fresh++
		}
	}
	detail := fmt.Sprintf("analysis %d of %s (%s): %s; %d new violation(s), %d resolved", id, a.Commit, in.Source, status, fresh, len(out.Resolved))
	if err := tx.Audit(ctx, in.Actor, "variant.analyze", a.Project, detail); err != nil {
		return nil, err
	}
	return out, nil
}

// CCBRequestFor returns the CCB request already opened for the project's
// commit, if any, read in tx so that two analyses of one commit cannot
// both open one.
func (tx *Tx) CCBRequestFor(ctx context.Context, project, commit string) (*app.CCBLink, error) {
	var l app.CCBLink
	err := tx.QueryRowContext(ctx, `SELECT c.request_id, c.url FROM analysis_ccb_requests c JOIN projects p ON p.id = c.project_id
		WHERE p.name = ? AND c.commit_sha = ?`, project, commit).Scan(&l.ID, &l.URL)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return &l, nil
}

// LinkCCBRequest records the CCB request opened for an analysis's commit.
func (tx *Tx) LinkCCBRequest(ctx context.Context, analysisID int64, l app.CCBLink) error {
	return tx.exec(ctx, `INSERT INTO analysis_ccb_requests (project_id, commit_sha, analysis_id, request_id, url, created_at)
		SELECT project_id, commit_sha, id, CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT) FROM analyses WHERE id = ?`, l.ID, l.URL, formatTime(tx.now), analysisID)
}

const analysisColumns = `a.id, p.name, a.commit_sha, a.baseline, a.on_baseline, a.status, a.source, a.requested_by,
	a.score, a.within, a.pairs, a.created_at`

func scanAnalysis(row interface{ Scan(...any) error }, doc *string) (*variant.ProjectAnalysis, error) {
	var pa variant.ProjectAnalysis
	var at string
	dest := []any{&pa.ID, &pa.Project, &pa.Commit, &pa.Baseline, &pa.OnBaseline, &pa.Status, &pa.Source, &pa.By,
		&pa.Compliance.Score, &pa.Compliance.Within, &pa.Compliance.Pairs, &at}
	if doc != nil {
		dest = append(dest, doc)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, fmt.Errorf("db: reading an analysis: %w", err)
	}
	t, err := parseTime(at)
	if err != nil {
		return nil, fmt.Errorf("db: analysis %d: %w", pa.ID, err)
	}
	pa.CreatedAt = t
	if doc != nil {
		pa.Analysis = &variant.Analysis{}
		if err := json.Unmarshal([]byte(*doc), pa.Analysis); err != nil {
			return nil, fmt.Errorf("analysis %d: %w", pa.ID, err)
		}
	}
	return &pa, nil
}

// LatestBaselineAnalysis returns the project's latest analysis on its
// baseline branch, with its document; ENOTFOUND if there is none.
func (d *DB) LatestBaselineAnalysis(ctx context.Context, project string) (*variant.ProjectAnalysis, error) {
	var doc string
	pa, err := scanAnalysis(d.read.QueryRowContext(ctx, `SELECT `+analysisColumns+`, a.document FROM analyses a JOIN projects p ON p.id = a.project_id
		WHERE p.name = ? AND a.on_baseline = TRUE ORDER BY a.created_at DESC, a.id DESC LIMIT 1`, project), &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "project %q has no analysis of its baseline branch yet", project)
	}
	return pa, err
}

// AnalysisByID returns one analysis with its document.
func (d *DB) AnalysisByID(ctx context.Context, id int64) (*variant.ProjectAnalysis, error) {
	var doc string
	pa, err := scanAnalysis(d.read.QueryRowContext(ctx, `SELECT `+analysisColumns+`, a.document FROM analyses a JOIN projects p ON p.id = a.project_id
		WHERE a.id = ?`, id), &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "no analysis %d", id)
	}
	return pa, err
}

// RecentAnalyses lists a project's analyses, newest first, without documents.
func (d *DB) RecentAnalyses(ctx context.Context, project string, limit int) ([]*variant.ProjectAnalysis, error) {
	return d.AnalysesPage(ctx, project, 0, limit)
}

// AnalysesPage lists a project's analyses as RecentAnalyses does, from just
// after the analysis before (an id) in that order when before is set.
func (d *DB) AnalysesPage(ctx context.Context, project string, before int64, limit int) ([]*variant.ProjectAnalysis, error) {
	q, args := `SELECT `+analysisColumns+` FROM analyses a JOIN projects p ON p.id = a.project_id WHERE p.name = ?`, []any{project}
	if before > 0 {
		q += ` AND (a.created_at < (SELECT created_at FROM analyses WHERE id = ?) OR (a.created_at = (SELECT created_at FROM analyses WHERE id = ?) AND a.id < ?))`
		args = append(args, before, before, before)
	}
	rows, err := d.read.QueryContext(ctx, q+` ORDER BY a.created_at DESC, a.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("db: listing the analyses of %s: %w", project, err)
	}
	defer rows.Close()
	var out []*variant.ProjectAnalysis
	for rows.Next() {
		pa, err := scanAnalysis(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("db: listing the analyses of %s: %w", project, err)
		}
		out = append(out, pa)
	}
	return out, rows.Err()
}

// MaxHistoryPoints caps one history answer.
const MaxHistoryPoints = 10000

// History returns the (dimension, metric) figures of the project's
// baseline analyses, oldest first.
func (d *DB) History(ctx context.Context, f app.HistoryFilter) ([]variant.FigurePoint, error) {
	q := `SELECT f.analysis_id, a.commit_sha, f.created_at, f.dimension, f.metric, f.budget, f.status, f.delta, f.variant, f.share,
		f.change_pp, f.soft_limit, f.hard_limit, f.trend_limit
		FROM analysis_figures f JOIN analyses a ON a.id = f.analysis_id JOIN projects p ON p.id = f.project_id
		WHERE p.name = ? AND f.on_baseline = TRUE`
	args := []any{f.Project}
	if f.Dimension != "" {
		q += ` AND f.dimension = ?`
		args = append(args, f.Dimension)
	}
	if !f.From.IsZero() {
		q += ` AND f.created_at >= ?`
		args = append(args, formatTime(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND f.created_at < ?`
		args = append(args, formatTime(f.To))
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxHistoryPoints {
		limit = MaxHistoryPoints
	}
	// The newest points when there are too many, returned oldest first.
	q = `SELECT * FROM (` + q + ` ORDER BY f.created_at DESC, f.analysis_id DESC LIMIT ?) AS newest ORDER BY 3, 1, 4, 5`
	args = append(args, limit)
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: reading figure history: %w", err)
	}
	defer rows.Close()
	var out []variant.FigurePoint
	for rows.Next() {
		var p variant.FigurePoint
		var at string
		var change, trend sql.NullFloat64
		if err := rows.Scan(&p.AnalysisID, &p.Commit, &at, &p.Dimension, &p.Metric, &p.Budget, &p.Status, &p.Delta, &p.Variant, &p.Share,
			&change, &p.SoftLimit, &p.HardLimit, &trend); err != nil {
			return nil, fmt.Errorf("db: reading figure history: %w", err)
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("db: figure of analysis %d: %w", p.AnalysisID, err)
		}
		p.At = t
		if change.Valid {
			p.ChangePP = &change.Float64
		}
		if trend.Valid {
			p.TrendLimit = &trend.Float64
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ComplianceHistory lists the project's compliance scores, oldest first.
func (d *DB) ComplianceHistory(ctx context.Context, project string) ([]variant.ComplianceRecord, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT c.analysis_id, c.commit_sha, c.at, c.score, c.within, c.pairs
		FROM compliance_scores c JOIN projects p ON p.id = c.project_id WHERE p.name = ? ORDER BY c.at, c.analysis_id`, project)
	if err != nil {
		return nil, fmt.Errorf("db: reading the compliance history of %s: %w", project, err)
	}
	defer rows.Close()
	var out []variant.ComplianceRecord
	for rows.Next() {
		var r variant.ComplianceRecord
		var at string
		if err := rows.Scan(&r.AnalysisID, &r.Commit, &at, &r.Score, &r.Within, &r.Pairs); err != nil {
			return nil, fmt.Errorf("db: reading the compliance history of %s: %w", project, err)
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("db: compliance score of analysis %d: %w", r.AnalysisID, err)
		}
		r.At = t
		out = append(out, r)
	}
	return out, rows.Err()
}
