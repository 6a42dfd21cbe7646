package db

import (
	"context"
	"fmt"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
)

// audit appends to the audit log inside the transaction that made the change,
// so the log and the change commit or fail together.
func (tx *Tx) Audit(ctx context.Context, actor budgetgate.Actor, action, subject, detail string) error {
	return tx.exec(ctx, insertAuditSQL, formatTime(tx.now), actor.Issuer, actor.Subject, actor.Name, action, subject, detail)
}

const insertAuditSQL = `INSERT INTO audit_log (at, actor_iss, actor_sub, actor_name, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`

// AuditLog lists entries, newest first, from just before f.Before when set.
func (d *DB) AuditLog(ctx context.Context, f app.AuditFilter) ([]budgetgate.AuditEntry, error) {
	q := `SELECT id, at, actor_iss, actor_sub, actor_name, action, subject, detail FROM audit_log WHERE 1=1`
	var args []any
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.Subject != "" {
		q += ` AND subject = ?`
		args = append(args, f.Subject)
	}
	if f.Actor != "" {
		q += ` AND (actor_name = ? OR actor_sub = ?)`
		args = append(args, f.Actor, f.Actor)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, formatTime(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND at < ?`
		args = append(args, formatTime(f.To))
	}
	if f.Before > 0 {
		// Older than entry Before in the listing's order: by time, then id.
		q += ` AND (at < (SELECT at FROM audit_log WHERE id = ?) OR (at = (SELECT at FROM audit_log WHERE id = ?) AND id < ?))`
		args = append(args, f.Before, f.Before, f.Before)
	}
	// By time, not id: entries can be written with the time of what they
	// record, which is not always the order they were written in.
	q += ` ORDER BY at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: reading the audit log: %w", err)
	}
	defer rows.Close()
	var out []budgetgate.AuditEntry
	for rows.Next() {
		var e budgetgate.AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor.Issuer, &e.Actor.Subject, &e.Actor.Name, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, fmt.Errorf("db: reading the audit log: %w", err)
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("db: audit entry %d: %w", e.ID, err)
		}
		e.At = t
		out = append(out, e)
	}
	return out, rows.Err()
}
