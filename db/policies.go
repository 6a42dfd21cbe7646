package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/budgetgate/budgetgate"
)

// PolicyVersion is one stored version of a service's policy.
type PolicyVersion struct {
	Version     string
	Origin      string
	ActivatedAt time.Time
	ActivatedBy string
}

// SavePolicy stores p (every version is kept) and makes it the service's
// active policy, recording who did it. Saving the active version again is a
// no-op, so loading the same policy directory at every start adds nothing.
func (d *DB) SavePolicy(ctx context.Context, p *budgetgate.Policy, origin string, actor budgetgate.Actor) (changed bool, err error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	now := formatTime(tx.now)

	var active string
	err = tx.QueryRowContext(ctx, `SELECT policy_version FROM services WHERE name = ?`, p.Service).Scan(&active)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if active == p.Version {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO policies (version, service, source, origin, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (version) DO NOTHING`, p.Version, p.Service, p.Source, origin, now); err != nil {
		return false, mapErr(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO services (name, policy_version, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET policy_version = excluded.policy_version, updated_at = excluded.updated_at`,
		p.Service, p.Version, now); err != nil {
		return false, mapErr(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO policy_history (service, version, activated_at, activated_by) VALUES (?, ?, ?, ?)`,
		p.Service, p.Version, now, actor.Name); err != nil {
		return false, mapErr(err)
	}
	detail := "policy " + p.Version + " from " + origin
	if active != "" {
		detail += " (was " + active + ")"
	}
	if err := tx.audit(ctx, actor, "policy.update", p.Service, detail); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, mapErr(err)
	}
	d.cache.invalidate()
	return true, nil
}

// ActivePolicies parses every service's active policy.
func (d *DB) ActivePolicies(ctx context.Context) ([]*budgetgate.Policy, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT p.source, s.name FROM services s JOIN policies p ON p.version = s.policy_version ORDER BY s.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*budgetgate.Policy
	for rows.Next() {
		var src []byte
		var name string
		if err := rows.Scan(&src, &name); err != nil {
			return nil, err
		}
		p, err := budgetgate.ParsePolicy(name+".yaml", src)
		if err != nil {
			// Stored policies parsed when they were saved; one that no longer
			// does is our problem, not the caller's input.
			return nil, budgetgate.Errorf(budgetgate.EINTERNAL, "stored policy of %s no longer parses: %v", name, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PolicyHistory lists the versions a service has had, newest first.
func (d *DB) PolicyHistory(ctx context.Context, service string) ([]PolicyVersion, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT h.version, p.origin, h.activated_at, h.activated_by
		FROM policy_history h JOIN policies p ON p.version = h.version
		WHERE h.service = ? ORDER BY h.activated_at DESC, h.rowid DESC`, service)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PolicyVersion
	for rows.Next() {
		var v PolicyVersion
		var at string
		if err := rows.Scan(&v.Version, &v.Origin, &at, &v.ActivatedBy); err != nil {
			return nil, err
		}
		v.ActivatedAt = parseTime(at)
		out = append(out, v)
	}
	return out, rows.Err()
}
