package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
)

// touchEvery limits how often a session's last use is written: the idle
// timeout is hours, so a minute's precision costs nothing and spares the
// single writer a write per page view.
const touchEvery = time.Minute

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func joinRoles(roles []budgetgate.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func splitRoles(s string) []budgetgate.Role {
	var out []budgetgate.Role
	for _, r := range strings.Split(s, ",") {
		if r != "" {
			out = append(out, budgetgate.Role(r))
		}
	}
	return out
}

// Login records a sign-in: it creates or updates the user keyed by (issuer,
// subject) with the roles of this login, revokes the session it replaces
// (replaces may be ""), opens a new session with a fresh id, and audits it.
func (d *DB) Login(ctx context.Context, u budgetgate.User, replaces string) (*app.Session, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: signing in %s: %w", u.Subject, err)
	}
	defer tx.Rollback()
	now := formatTime(tx.now)
	err = tx.QueryRowContext(ctx, `INSERT INTO users (issuer, subject, name, email, username, roles, created_at, last_login) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (issuer, subject) DO UPDATE SET name = excluded.name, email = excluded.email, username = excluded.username, roles = excluded.roles, last_login = excluded.last_login
		RETURNING id`, u.Issuer, u.Subject, u.Name, u.Email, u.Username, joinRoles(u.Roles), now, now).Scan(&u.ID)
	if err != nil {
		return nil, mapErr(err)
	}
	if replaces != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL`,
			tx.now.Unix(), hashSecret(replaces)); err != nil {
			return nil, mapErr(err)
		}
	}
	s := &app.Session{ID: rand.Text() + rand.Text(), User: u, CSRF: rand.Text(), CreatedAt: tx.now, LastSeen: tx.now}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?)`,
		hashSecret(s.ID), u.ID, s.CSRF, tx.now.Unix(), tx.now.Unix()); err != nil {
		return nil, mapErr(err)
	}
	if err := tx.Audit(ctx, u.Actor(), "login", "session", "signed in with roles "+strings.ReplaceAll(joinRoles(u.Roles), ",", ", ")); err != nil {
		return nil, fmt.Errorf("db: signing in %s: %w", u.Subject, err)
	}
	return s, mapErr(tx.Commit())
}

// errSessionGone is what every unusable session gets, so that a caller
// cannot tell a revoked id from an expired or made-up one.
var errSessionGone = budgetgate.Errorf(budgetgate.EUNAUTHORIZED, "not signed in, or the session has ended")

// Session returns the live session with the id the cookie carries and
// records its use. Revoked sessions and those past a limit are refused.
func (d *DB) Session(ctx context.Context, id string, lim app.SessionLimits) (*app.Session, error) {
	if id == "" {
		return nil, errSessionGone
	}
	now := d.Now().UTC()
	var s app.Session
	var created, seen int64
	var roles string
	err := d.read.QueryRowContext(ctx, `SELECT s.csrf, s.created_at, s.last_seen, u.id, u.issuer, u.subject, u.name, u.email, u.username, u.roles
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = ? AND s.revoked_at IS NULL AND s.created_at > ? AND s.last_seen > ?`,
		hashSecret(id), now.Add(-lim.Absolute).Unix(), now.Add(-lim.Idle).Unix()).
		Scan(&s.CSRF, &created, &seen, &s.User.ID, &s.User.Issuer, &s.User.Subject, &s.User.Name, &s.User.Email, &s.User.Username, &roles)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSessionGone
	}
	if err != nil {
		return nil, mapErr(err)
	}
	s.User.Roles = splitRoles(roles)
	s.CreatedAt, s.LastSeen = time.Unix(created, 0).UTC(), time.Unix(seen, 0).UTC()
	if now.Sub(s.LastSeen) >= touchEvery {
		// Best effort: a busy or full store must not sign people out; the
		// next request touches it again.
		if _, err := d.write.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id_hash = ?`, now.Unix(), hashSecret(id)); err == nil {
			s.LastSeen = now
		}
	}
	return &s, nil
}

// Logout revokes the session on the server, so that its cookie is useless
// from now on, and audits it.
func (d *DB) Logout(ctx context.Context, id string, actor budgetgate.Actor) error {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("db: signing out: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL`, tx.now.Unix(), hashSecret(id))
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := tx.Audit(ctx, actor, "logout", "session", "signed out"); err != nil {
		return fmt.Errorf("db: signing out: %w", err)
	}
	return mapErr(tx.Commit())
}

// UsersWithRole lists the people who held role at their last sign-in, by
// name: the CCB page says which members may still vote.
func (d *DB) UsersWithRole(ctx context.Context, role budgetgate.Role) ([]budgetgate.User, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, issuer, subject, name, email, username, roles FROM users
		WHERE ',' || roles || ',' LIKE ? ORDER BY name, id`, "%,"+string(role)+",%")
	if err != nil {
		return nil, fmt.Errorf("db: users with role %s: %w", role, err)
	}
	defer rows.Close()
	var out []budgetgate.User
	for rows.Next() {
		var u budgetgate.User
		var roles string
		if err := rows.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Name, &u.Email, &u.Username, &roles); err != nil {
			return nil, fmt.Errorf("db: users with role %s: %w", role, err)
		}
		u.Roles = splitRoles(roles)
		out = append(out, u)
	}
	return out, rows.Err()
}
