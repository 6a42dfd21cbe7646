package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

var _ app.PolicyTx = (*Tx)(nil)

// UpdatePolicies runs a policy review in a write transaction.
func (d *DB) UpdatePolicies(ctx context.Context, fn func(tx app.PolicyTx) error) error {
	return d.writeTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// PolicyInForce is the version governing service and its text; "" if none.
//
// It locks the service's policy until tx ends: on PostgreSQL another
// instance could otherwise put a version in force between this read and
// what tx decides from it, and a change judged a tightening against the
// old version would then replace a stricter one without review.
func (tx *Tx) PolicyInForce(ctx context.Context, service string) (string, []byte, error) {
	if err := tx.lockKey(ctx, "policy\n"+service); err != nil {
		return "", nil, err
	}
	var version string
	var src []byte
	err := tx.QueryRowContext(ctx, `SELECT p.version, p.source FROM services s JOIN policies p ON p.version = s.policy_version WHERE s.name = ?`, service).Scan(&version, &src)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("db: reading the policy in force of %s: %w", service, err)
	}
	return version, src, nil
}

// StoredPolicy parses a stored version; nil if there is none.
func (tx *Tx) StoredPolicy(ctx context.Context, version string) (*errorbudget.Policy, error) {
	var service string
	var src []byte
	err := tx.QueryRowContext(ctx, `SELECT service, source FROM policies WHERE version = ?`, version).Scan(&service, &src)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("db: reading policy %s: %w", version, err)
	}
	p, err := errorbudget.ParsePolicy(service+".yaml", src)
	if err != nil {
		return nil, budgetgate.Errorf(budgetgate.EINTERNAL, "stored policy %s of %s no longer parses: %v", version, service, err)
	}
	return p, nil
}

// ActivatePolicy makes p the policy in force, as SavePolicy does, inside tx.
func (tx *Tx) ActivatePolicy(ctx context.Context, p *errorbudget.Policy, origin string, actor budgetgate.Actor) (bool, error) {
	changed, err := tx.savePolicy(ctx, p, origin, actor)
	if changed {
		tx.changed(topicPolicies) // every instance drops its cached policies
	}
	return changed, err
}

// supersedePolicyChanges ends the changes still waiting for service once
// version took effect: each was judged against the version it replaced.
func (tx *Tx) supersedePolicyChanges(ctx context.Context, service, version string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, version FROM policy_changes WHERE service = ? AND status = 'pending'`, service)
	if err != nil {
		return err
	}
	type waiting struct {
		id      int64
		version string
	}
	var ended []waiting
	for rows.Next() {
		var w waiting
		if err := rows.Scan(&w.id, &w.version); err != nil {
			rows.Close()
			return err
		}
		ended = append(ended, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, w := range ended {
		if err := tx.exec(ctx, `UPDATE policy_changes SET status = 'superseded', decided_at = ? WHERE id = ?`, formatTime(tx.now), w.id); err != nil {
			return err
		}
		detail := fmt.Sprintf("change %d: policy %s no longer waits: %s took effect", w.id, w.version, version)
		if err := tx.Audit(ctx, budgetgate.SystemActor, "policy.supersede", service, detail); err != nil {
			return err
		}
	}
	return nil
}

// InsertPolicyChange stores c as pending, and its policy as a version.
func (tx *Tx) InsertPolicyChange(ctx context.Context, c *app.PolicyChange, p *errorbudget.Policy) error {
	now := formatTime(tx.now)
	if err := tx.exec(ctx, `INSERT INTO policies (version, service, source, origin, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (version) DO NOTHING`, p.Version, p.Service, p.Source, c.Origin, now); err != nil {
		return fmt.Errorf("db: storing policy %s: %w", p.Version, err)
	}
	if err := tx.supersedePolicyChanges(ctx, c.Service, "a newer change"); err != nil {
		return fmt.Errorf("db: superseding the changes waiting for %s: %w", c.Service, err)
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO policy_changes (service, version, base_version, origin, loosens, author_iss, author_sub, author_name, created_at, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING id`,
		c.Service, c.Version, c.BaseVersion, c.Origin, strings.Join(c.Loosens, "\n"), c.Author.Issuer, c.Author.Subject, c.Author.Name, now).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("db: storing the change of %s: %w", c.Service, mapErr(err))
	}
	return nil
}

// PendingPolicyChange is the change waiting for service, nil if none.
func (tx *Tx) PendingPolicyChange(ctx context.Context, service string) (*app.PolicyChange, error) {
	cs, err := policyChanges(ctx, tx, app.PolicyChangeFilter{Service: service, Status: app.PolicyChangePending, Limit: 1})
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return cs[0], nil
}

// PolicyChange reads change id inside the transaction, locking it until
// the transaction ends; nil if none.
func (tx *Tx) PolicyChange(ctx context.Context, id int64) (*app.PolicyChange, error) {
	var locked int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM policy_changes WHERE id = ?`+tx.db.dl.forUpdate, id).Scan(&locked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("db: locking policy change %d: %w", id, err)
	}
	cs, err := policyChanges(ctx, tx, app.PolicyChangeFilter{}, id)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return cs[0], nil
}

// DecidePolicyChange records how c was decided.
func (tx *Tx) DecidePolicyChange(ctx context.Context, c *app.PolicyChange) error {
	err := tx.exec(ctx, `UPDATE policy_changes SET status = ?, decided_iss = ?, decided_sub = ?, decided_name = ?, decided_at = ?, comment = ? WHERE id = ?`,
		c.Status, c.DecidedBy.Issuer, c.DecidedBy.Subject, c.DecidedBy.Name, formatTime(c.DecidedAt), c.Comment, c.ID)
	if err != nil {
		return fmt.Errorf("db: recording the decision on policy change %d: %w", c.ID, err)
	}
	return nil
}

// PolicyChanges lists changes, newest first, with their texts.
func (d *DB) PolicyChanges(ctx context.Context, f app.PolicyChangeFilter) ([]*app.PolicyChange, error) {
	return policyChanges(ctx, d.read, f)
}

const policyChangeColumns = `c.id, c.service, c.version, c.base_version, c.origin, c.loosens, c.author_iss, c.author_sub, c.author_name,
	c.created_at, c.status, c.decided_iss, c.decided_sub, c.decided_name, c.decided_at, c.comment, p.source, b.source`

// policyChanges reads changes matching f, or the one with id where given.
func policyChanges(ctx context.Context, q querier, f app.PolicyChangeFilter, id ...int64) ([]*app.PolicyChange, error) {
	query := `SELECT ` + policyChangeColumns + ` FROM policy_changes c JOIN policies p ON p.version = c.version
		LEFT JOIN policies b ON b.version = c.base_version WHERE 1=1`
	var args []any
	if len(id) > 0 {
		query += ` AND c.id = ?`
		args = append(args, id[0])
	}
	if f.Service != "" {
		query += ` AND c.service = ?`
		args = append(args, f.Service)
	}
	if f.Status != "" {
		query += ` AND c.status = ?`
		args = append(args, f.Status)
	}
	query += ` ORDER BY c.id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: reading policy changes: %w", err)
	}
	out, err := scanAll(rows, scanPolicyChange)
	if err != nil {
		return nil, fmt.Errorf("db: reading policy changes: %w", err)
	}
	return out, nil
}

func scanPolicyChange(r scannable) (*app.PolicyChange, error) {
	var c app.PolicyChange
	var loosens, created, decided string
	if err := r.Scan(&c.ID, &c.Service, &c.Version, &c.BaseVersion, &c.Origin, &loosens, &c.Author.Issuer, &c.Author.Subject, &c.Author.Name,
		&created, &c.Status, &c.DecidedBy.Issuer, &c.DecidedBy.Subject, &c.DecidedBy.Name, &decided, &c.Comment, &c.Source, &c.BaseSource); err != nil {
		return nil, err
	}
	if loosens != "" {
		c.Loosens = strings.Split(loosens, "\n")
	}
	var err error
	if c.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if decided != "" {
		if c.DecidedAt, err = parseTime(decided); err != nil {
			return nil, err
		}
	}
	return &c, nil
}
