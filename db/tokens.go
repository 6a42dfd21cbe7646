package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
)

// tokenPrefix marks budgetgate's tokens, so that secret scanners and people
// recognise one; the random part carries 130 bits.
const tokenPrefix = "bgt_"

// shownPrefix is how many characters of a token are kept in clear to tell
// tokens apart in a listing.
const shownPrefix = len(tokenPrefix) + 8

// CreateToken makes a new API token that belongs to no one (made with the
// CLI or by the server) and returns its secret, which is not stored and
// cannot be shown again.
func (d *DB) CreateToken(ctx context.Context, name string, scopes []string, by budgetgate.Actor) (string, *budgetgate.Token, error) {
	return d.createToken(ctx, name, scopes, by, budgetgate.Actor{})
}

// CreateOwnedToken makes a new API token that belongs to the person who
// made it: what is done with it is theirs (they cannot vote on a request it
// opens).
func (d *DB) CreateOwnedToken(ctx context.Context, name string, scopes []string, owner budgetgate.Actor) (string, *budgetgate.Token, error) {
	if owner.Issuer == "" || owner.Subject == "" {
		return "", nil, budgetgate.Errorf(budgetgate.EINTERNAL, "a token's owner needs an issuer and a subject")
	}
	return d.createToken(ctx, name, scopes, owner, owner)
}

func (d *DB) createToken(ctx context.Context, name string, scopes []string, by, owner budgetgate.Actor) (string, *budgetgate.Token, error) {
	if err := budgetgate.ValidateTokenName(name); err != nil {
		return "", nil, err
	}
	if _, err := budgetgate.ParseScopes(strings.Join(scopes, ",")); err != nil {
		return "", nil, err
	}
	secret := tokenPrefix + rand.Text()
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return "", nil, err
	}
	defer tx.Rollback()
	t := &budgetgate.Token{Name: name, Prefix: secret[:shownPrefix], Scopes: scopes, CreatedBy: by, Owner: owner, CreatedAt: tx.now}
	err = tx.QueryRowContext(ctx, `INSERT INTO tokens (name, prefix, hash, scopes, created_iss, created_sub, created_name, owner_iss, owner_sub, owner_name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		name, t.Prefix, hashSecret(secret), strings.Join(scopes, ","), by.Issuer, by.Subject, by.Name, owner.Issuer, owner.Subject, owner.Name, formatTime(tx.now)).Scan(&t.ID)
	if err != nil {
		return "", nil, mapErr(err)
	}
	if err := tx.Audit(ctx, by, "token.create", fmt.Sprintf("token/%d", t.ID),
		fmt.Sprintf("token %q (%s...) with scopes %s", name, t.Prefix, strings.Join(scopes, ", "))); err != nil {
		return "", nil, err
	}
	if err := tx.Commit(); err != nil {
		return "", nil, mapErr(err)
	}
	return secret, t, nil
}

const tokenColumns = `id, name, prefix, scopes, created_iss, created_sub, created_name, owner_iss, owner_sub, owner_name, created_at, COALESCE(last_used_at, ''), COALESCE(revoked_at, '')`

func scanToken(row interface{ Scan(...any) error }) (*budgetgate.Token, error) {
	var t budgetgate.Token
	var scopes, created, used, revoked string
	if err := row.Scan(&t.ID, &t.Name, &t.Prefix, &scopes, &t.CreatedBy.Issuer, &t.CreatedBy.Subject, &t.CreatedBy.Name,
		&t.Owner.Issuer, &t.Owner.Subject, &t.Owner.Name, &created, &used, &revoked); err != nil {
		return nil, err
	}
	t.Scopes = strings.Split(scopes, ",")
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("db: token %d: %w", t.ID, err)
	}
	if t.LastUsedAt, err = parseOptionalTime(used); err != nil {
		return nil, fmt.Errorf("db: token %d: %w", t.ID, err)
	}
	if t.RevokedAt, err = parseOptionalTime(revoked); err != nil {
		return nil, fmt.Errorf("db: token %d: %w", t.ID, err)
	}
	return &t, nil
}

// Tokens lists every token, newest first, revoked ones included.
func (d *DB) Tokens(ctx context.Context) ([]*budgetgate.Token, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("db: listing tokens: %w", err)
	}
	out, err := scanAll(rows, scanToken)
	if err != nil {
		return nil, fmt.Errorf("db: listing tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token for good.
func (d *DB) RevokeToken(ctx context.Context, id int64, by budgetgate.Actor) error {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("db: revoking token %d: %w", id, err)
	}
	defer tx.Rollback()
	t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return budgetgate.Errorf(budgetgate.ENOTFOUND, "no token %d", id)
	}
	if err != nil {
		return fmt.Errorf("db: revoking token %d: %w", id, err)
	}
	if t.RevokedAt != nil {
		return budgetgate.Errorf(budgetgate.ECONFLICT, "token %d is already revoked", id)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ?`, formatTime(tx.now), id); err != nil {
		return mapErr(err)
	}
	if err := tx.Audit(ctx, by, "token.revoke", fmt.Sprintf("token/%d", id), fmt.Sprintf("token %q (%s...) revoked", t.Name, t.Prefix)); err != nil {
		return fmt.Errorf("db: revoking token %d: %w", id, err)
	}
	return mapErr(tx.Commit())
}

var errBadToken = budgetgate.Errorf(budgetgate.EUNAUTHORIZED, "unknown or revoked API token")

// AuthenticateToken returns the live token whose secret was presented and
// records its use (at most once a minute, to spare the writer).
func (d *DB) AuthenticateToken(ctx context.Context, secret string) (*budgetgate.Token, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return nil, errBadToken
	}
	// Every API request asks this: the statement is prepared once.
	st, err := d.prepared(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ? AND revoked_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("db: preparing the token lookup: %w", err)
	}
	t, err := scanToken(st.QueryRowContext(ctx, hashSecret(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, mapErr(err)
	}
	now := d.Now().UTC()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= time.Minute {
		// Best effort, as for sessions: the token is valid whether or not
		// its last use could be written.
		if _, err := d.write.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, formatTime(now), t.ID); err == nil {
			t.LastUsedAt = &now
		}
	}
	return t, nil
}
