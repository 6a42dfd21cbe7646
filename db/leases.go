package db

import (
	"context"
	"fmt"
	"time"
)

// ClaimLease takes lease name for holder, or renews it if holder has it,
// until ttl from now. It succeeds only when the lease is free, expired or
// already holder's: the condition and the write are one statement, so two
// instances claiming at once cannot both get it.
func (d *DB) ClaimLease(ctx context.Context, name, holder string, ttl time.Duration) (held bool, err error) {
	err = d.writeTx(ctx, func(tx *Tx) error {
		now := tx.now.UnixMilli()
		res, err := tx.result(ctx, `INSERT INTO leases (name, holder, expires_at, renewed_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.renewed_at`,
			name, holder, now+ttl.Milliseconds(), now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("db: claiming lease %s: %w", name, err)
	}
	return held, nil
}

// ReleaseLease gives lease name up if holder has it, so that another
// instance can take the work over at once rather than when it expires.
func (d *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	err := d.writeTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	})
	if err != nil {
		return fmt.Errorf("db: releasing lease %s: %w", name, err)
	}
	return nil
}

// LeaseHolder is who holds lease name now, or "" when no one does.
func (d *DB) LeaseHolder(ctx context.Context, name string) (string, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT holder FROM leases WHERE name = ? AND expires_at > ?`, name, d.Now().UnixMilli())
	if err != nil {
		return "", fmt.Errorf("db: reading lease %s: %w", name, err)
	}
	holders, err := scanAll(rows, func(r scannable) (string, error) {
		var h string
		return h, r.Scan(&h)
	})
	if err != nil || len(holders) == 0 {
		return "", err
	}
	return holders[0], nil
}
