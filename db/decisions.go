package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

func sortByService(ms []errorbudget.ServiceMetrics) {
	slices.SortFunc(ms, func(a, b errorbudget.ServiceMetrics) int { return strings.Compare(a.Service, b.Service) })
}

// storedMetrics is what a decision's metrics column holds: the deciding
// SLO's figures with every SLO's under slos. Rows written before services
// had several SLOs hold the figures alone; their SLO is the service's only
// one, DefaultSLO.
type storedMetrics struct {
	errorbudget.Metrics
	SLOs []errorbudget.Metrics `json:"slos,omitempty"`
}

func (s *storedMetrics) decision(dec *errorbudget.Decision) {
	dec.Metrics, dec.SLOs = s.Metrics, s.SLOs
	if dec.Metrics.SLO == "" {
		dec.Metrics.SLO = errorbudget.DefaultSLO
	}
	if len(dec.SLOs) == 0 {
		dec.SLOs = []errorbudget.Metrics{dec.Metrics}
	}
}

func (tx *Tx) InsertDecision(ctx context.Context, dec *errorbudget.Decision) error {
	conds, err := json.Marshal(dec.Conditions)
	if err != nil {
		return fmt.Errorf("db: encoding the conditions of a decision on %s: %w", dec.Release.Service, err)
	}
	metrics, err := json.Marshal(storedMetrics{Metrics: dec.Metrics, SLOs: dec.SLOs})
	if err != nil {
		return fmt.Errorf("db: encoding the metrics of a decision on %s: %w", dec.Release.Service, err)
	}
	r := dec.Release
	err = tx.queryRow(ctx, insertDecisionSQL,
		r.Service, r.Version, r.CommitSHA, r.RiskLevel, r.ReleaseType, r.HasTests, r.HasRollbackPlan, r.RequestedBy,
		dec.Approved, dec.Reason, dec.Alternative, string(conds), string(metrics), dec.PolicyVersion,
		string(dec.Metrics.Status), formatTime(dec.DecidedAt)).Scan(&dec.ID)
	if err != nil {
		return fmt.Errorf("db: saving a decision on %s: %w", dec.Release.Service, mapErr(err))
	}
	return nil
}

const insertDecisionSQL = `INSERT INTO decisions (service, version, commit_sha, risk_level, release_type, has_tests, has_rollback,
	requested_by, approved, reason, alternative, conditions, metrics, policy_version, status, decided_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

const decisionColumns = `id, service, version, commit_sha, risk_level, release_type, has_tests, has_rollback,
	requested_by, approved, reason, alternative, conditions, metrics, policy_version, decided_at`

func scanDecision(row interface{ Scan(...any) error }) (*errorbudget.Decision, error) {
	var dec errorbudget.Decision
	var conds, metrics, at string
	r := &dec.Release
	if err := row.Scan(&dec.ID, &r.Service, &r.Version, &r.CommitSHA, &r.RiskLevel, &r.ReleaseType, &r.HasTests, &r.HasRollbackPlan,
		&r.RequestedBy, &dec.Approved, &dec.Reason, &dec.Alternative, &conds, &metrics, &dec.PolicyVersion, &at); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(conds), &dec.Conditions); err != nil {
		return nil, fmt.Errorf("db: reading the conditions of decision %d: %w", dec.ID, err)
	}
	var sm storedMetrics
	if err := json.Unmarshal([]byte(metrics), &sm); err != nil {
		return nil, fmt.Errorf("db: reading the metrics of decision %d: %w", dec.ID, err)
	}
	sm.decision(&dec)
	t, err := parseTime(at)
	if err != nil {
		return nil, fmt.Errorf("db: decision %d: %w", dec.ID, err)
	}
	dec.DecidedAt = t
	return &dec, nil
}

// Decision returns one stored decision.
func (d *DB) Decision(ctx context.Context, id int64) (*errorbudget.Decision, error) {
	dec, err := scanDecision(d.read.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "no decision %d", id)
	}
	return dec, err
}

// Decisions lists a service's decisions (all services when service is ""), newest first.
func (d *DB) Decisions(ctx context.Context, service string, limit int) ([]*errorbudget.Decision, error) {
	return d.DecisionsPage(ctx, service, 0, limit)
}

// DecisionsPage lists decisions as Decisions does, only those older than
// the decision before (an id) when it is set.
func (d *DB) DecisionsPage(ctx context.Context, service string, before int64, limit int) ([]*errorbudget.Decision, error) {
	q, args := `SELECT `+decisionColumns+` FROM decisions WHERE 1=1`, []any{}
	if service != "" {
		q += ` AND service = ?`
		args = append(args, service)
	}
	if before > 0 {
		q += ` AND id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: listing decisions: %w", err)
	}
	out, err := scanAll(rows, scanDecision)
	if err != nil {
		return nil, fmt.Errorf("db: listing decisions: %w", err)
	}
	return out, nil
}
