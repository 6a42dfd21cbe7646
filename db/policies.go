package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// SavePolicy stores p (every version is kept) and makes it the service's
// active policy, recording who did it. Saving the active version again is a
// no-op, so loading the same policy directory at every start adds nothing.
func (d *DB) SavePolicy(ctx context.Context, p *errorbudget.Policy, origin string, actor budgetgate.Actor) (changed bool, err error) {
	changedOnes, err := d.SavePolicies(ctx, []app.PolicyFile{{Policy: p, Origin: origin}}, actor)
	return len(changedOnes) > 0, err
}

// SavePolicies saves a set of policies in one transaction, so that a
// policy directory is in force whole or not at all. It returns the
// services whose policy changed.
func (d *DB) SavePolicies(ctx context.Context, files []app.PolicyFile, actor budgetgate.Actor) (changed []string, err error) {
	err = d.writeTx(ctx, func(tx *Tx) error {
		changed = changed[:0]
		for _, f := range files {
			ok, err := tx.savePolicy(ctx, f.Policy, f.Origin, actor)
			if err != nil {
				return fmt.Errorf("db: saving the policy of %s from %s: %w", f.Policy.Service, f.Origin, err)
			}
			if ok {
				changed = append(changed, f.Policy.Service)
			}
		}
		if len(changed) > 0 {
			tx.changed(topicPolicies)
		}
		return nil
	})
	return changed, err
}

func (tx *Tx) savePolicy(ctx context.Context, p *errorbudget.Policy, origin string, actor budgetgate.Actor) (bool, error) {
	now := formatTime(tx.now)
	var active string
	err := tx.QueryRowContext(ctx, `SELECT policy_version FROM services WHERE name = ?`, p.Service).Scan(&active)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if active == p.Version {
		return false, nil
	}
	if err := tx.exec(ctx, `INSERT INTO policies (version, service, source, origin, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (version) DO NOTHING`, p.Version, p.Service, p.Source, origin, now); err != nil {
		return false, err
	}
	if err := tx.exec(ctx, `INSERT INTO services (name, policy_version, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET policy_version = excluded.policy_version, updated_at = excluded.updated_at`,
		p.Service, p.Version, now); err != nil {
		return false, err
	}
	if err := tx.addSLOs(ctx, p); err != nil {
		return false, err
	}
	if err := tx.exec(ctx, `INSERT INTO policy_history (service, version, activated_at, activated_by) VALUES (?, ?, ?, ?)`,
		p.Service, p.Version, now, actor.Name); err != nil {
		return false, err
	}
	detail := "policy " + p.Version + " from " + origin
	if active != "" {
		detail += " (was " + active + ")"
	}
	return true, tx.Audit(ctx, actor, "policy.update", p.Service, detail)
}

// addSLOs gives each SLO of p that its service has not had before an id
// to keep its counts under. SLOs a policy drops keep theirs, with their
// history, in case a later version brings them back.
func (tx *Tx) addSLOs(ctx context.Context, p *errorbudget.Policy) error {
	for _, s := range p.SLOs {
		if err := tx.exec(ctx, `INSERT INTO slos (service_id, name) SELECT id, CAST(? AS TEXT) FROM services WHERE name = ?
			ON CONFLICT (service_id, name) DO NOTHING`, s.Name, p.Service); err != nil {
			return fmt.Errorf("adding SLO %s: %w", s.Name, err)
		}
	}
	return nil
}

// ActivePolicies parses every service's active policy. A stored policy
// that no longer parses (it parsed when it was saved: a newer release
// validates more, or the row was damaged) is returned in broken, by service,
// so that it fails its own service only.
func (d *DB) ActivePolicies(ctx context.Context) (ps []*errorbudget.Policy, broken map[string]error, err error) {
	rows, err := d.read.QueryContext(ctx, `SELECT p.source, s.name FROM services s JOIN policies p ON p.version = s.policy_version ORDER BY s.name`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	broken = map[string]error{}
	for rows.Next() {
		var src []byte
		var name string
		if err := rows.Scan(&src, &name); err != nil {
			return nil, nil, err
		}
		p, err := errorbudget.ParsePolicy(name+".yaml", src)
		if err != nil {
			broken[name] = budgetgate.Errorf(budgetgate.EINTERNAL, "stored policy of %s no longer parses: %v", name, err)
			continue
		}
		ps = append(ps, p)
	}
	return ps, broken, rows.Err()
}

// PolicyHistory lists the versions a service has had, newest first.
func (d *DB) PolicyHistory(ctx context.Context, service string) ([]app.PolicyVersion, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT h.version, p.origin, h.activated_at, h.activated_by
		FROM policy_history h JOIN policies p ON p.version = h.version
		WHERE h.service = ? ORDER BY h.activated_at DESC, h.rowid DESC`, service)
	if err != nil {
		return nil, fmt.Errorf("db: reading the policy history of %s: %w", service, err)
	}
	defer rows.Close()
	var out []app.PolicyVersion
	for rows.Next() {
		var v app.PolicyVersion
		var at string
		if err := rows.Scan(&v.Version, &v.Origin, &at, &v.ActivatedBy); err != nil {
			return nil, fmt.Errorf("db: reading the policy history of %s: %w", service, err)
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("db: reading the policy history of %s: %w", service, err)
		}
		v.ActivatedAt = t
		out = append(out, v)
	}
	return out, rows.Err()
}
