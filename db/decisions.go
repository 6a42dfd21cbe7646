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
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

func sortByService(ms []errorbudget.Metrics) {
	slices.SortFunc(ms, func(a, b errorbudget.Metrics) int { return strings.Compare(a.Service, b.Service) })
}

// EvaluateRelease decides a release against the service's budget now, stores
// the decision with the policy version it used, and audits it. An approved
// CCB exception that covers the release approves it (SPEC 3).
func (d *DB) EvaluateRelease(ctx context.Context, rel errorbudget.Release, actor budgetgate.Actor) (*errorbudget.Decision, error) {
	now := d.Now().UTC()
	m, p, err := d.ServiceMetrics(ctx, rel.Service, now)
	if err != nil {
		return nil, err
	}
	dec := errorbudget.EvaluateRelease(p, m, rel)
	dec.DecidedAt = now
	dec.Release = rel
	err = d.Write(ctx, func(tx *Tx) error { return tx.recordDecision(ctx, &dec, actor) })
	if err != nil {
		return nil, err
	}
	return &dec, nil
}

// EvaluateReleaseOnce is EvaluateRelease under an Idempotency-Key: a retry
// with the same key and body gets the first answer, which reply makes from
// the decision, and no second decision is stored. Without a key (idem nil)
// it is EvaluateRelease, with the reply made outside the write.
func (d *DB) EvaluateReleaseOnce(ctx context.Context, rel errorbudget.Release, actor budgetgate.Actor, idem *app.Idempotency, reply func(*errorbudget.Decision) (app.Reply, error)) (app.Reply, bool, error) {
	if idem == nil {
		dec, err := d.EvaluateRelease(ctx, rel, actor)
		if err != nil {
			return app.Reply{}, false, err
		}
		r, err := reply(dec)
		return r, false, err
	}
	now := d.Now().UTC()
	m, p, err := d.ServiceMetrics(ctx, rel.Service, now)
	if err != nil {
		return app.Reply{}, false, err
	}
	dec := errorbudget.EvaluateRelease(p, m, rel)
	dec.DecidedAt = now
	dec.Release = rel
	return d.Idempotent(ctx, idem, func(tx *Tx) (app.Reply, error) {
		if err := tx.recordDecision(ctx, &dec, actor); err != nil {
			return app.Reply{}, err
		}
		return reply(&dec)
	})
}

// recordDecision stores a decision with the exception that covers it, if
// any, and audits it.
func (tx *Tx) recordDecision(ctx context.Context, dec *errorbudget.Decision, actor budgetgate.Actor) error {
	exc, err := tx.applyException(ctx, dec)
	if err != nil {
		return err
	}
	if err := tx.insertDecision(ctx, dec); err != nil {
		return err
	}
	if err := tx.linkException(ctx, dec.ID, exc); err != nil {
		return err
	}
	verdict := "denied"
	if dec.Approved {
		verdict = "approved"
	}
	rel := dec.Release
	return tx.audit(ctx, actor, "release.evaluate", rel.Service,
		fmt.Sprintf("decision %d: %s %s: %s", dec.ID, rel.Version, verdict, dec.Reason))
}

func (tx *Tx) insertDecision(ctx context.Context, dec *errorbudget.Decision) error {
	conds, err := json.Marshal(dec.Conditions)
	if err != nil {
		return err
	}
	metrics, err := json.Marshal(dec.Metrics)
	if err != nil {
		return err
	}
	r := dec.Release
	res, err := tx.result(ctx, insertDecisionSQL,
		r.Service, r.Version, r.CommitSHA, r.RiskLevel, r.ReleaseType, r.HasTests, r.HasRollbackPlan, r.RequestedBy,
		dec.Approved, dec.Reason, dec.Alternative, string(conds), string(metrics), dec.PolicyVersion,
		string(dec.Metrics.Status), formatTime(dec.DecidedAt))
	if err != nil {
		return err
	}
	dec.ID, err = res.LastInsertId()
	return err
}

const insertDecisionSQL = `INSERT INTO decisions (service, version, commit_sha, risk_level, release_type, has_tests, has_rollback,
	requested_by, approved, reason, alternative, conditions, metrics, policy_version, status, decided_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

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
		return nil, err
	}
	if err := json.Unmarshal([]byte(metrics), &dec.Metrics); err != nil {
		return nil, err
	}
	dec.DecidedAt = parseTime(at)
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
	q, args := `SELECT `+decisionColumns+` FROM decisions`, []any{}
	if service != "" {
		q += ` WHERE service = ?`
		args = append(args, service)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*errorbudget.Decision
	for rows.Next() {
		dec, err := scanDecision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, dec)
	}
	return out, rows.Err()
}
