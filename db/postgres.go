package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgres reports whether a --db value names a PostgreSQL database
// rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Redact returns a --db value fit for a log: a URL's password is replaced.
func Redact(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// connectTimeout bounds each new connection when the URL does not
// (connect_timeout=): a server that does not answer fails the start, or
// the request, instead of hanging it.
const connectTimeout = 10 * time.Second

// openPostgres opens the PostgreSQL database at dsn and applies the
// migrations it lacks. One connection writes, as in SQLite, so that an
// instance's writes commit in groups in the same order; other instances
// write on connections of their own, and the rows they must not race on
// are locked (dialect.forUpdate).
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: reading the PostgreSQL URL %s: %w", Redact(dsn), err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	write, read := stdlib.OpenDB(*cfg), stdlib.OpenDB(*cfg)
	write.SetMaxOpenConns(postgresDialect.writers)
	write.SetConnMaxIdleTime(0)
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)*2))
	read.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)*2))
	d := newDB(Redact(dsn), write, read, postgresDialect)
	d.peers.listen = cfg.Copy()
	if err := d.start(ctx, func() error { return d.reach(ctx) }); err != nil {
		return nil, err
	}
	return d, nil
}

// reach is PostgreSQL's check at open: the server answers. The server
// checks its own pages (data checksums, amcheck); budgetgate has no file
// to look at.
func (d *DB) reach(ctx context.Context) error {
	if err := d.write.PingContext(ctx); err != nil {
		return fmt.Errorf("db: cannot reach PostgreSQL at %s: %w", d.Path, err)
	}
	return nil
}

// migrationLock is the advisory lock that instances starting together take
// while they migrate, so that one applies each migration and the others
// wait for it.
const migrationLock = 0x6267_6d69_6772 // "bgmigr"

// lockMigrations makes the migrations one instance's at a time. SQLite's
// file lock does that already.
func (d *DB) lockMigrations(ctx context.Context) (unlock func(), err error) {
	if d.dl != postgresDialect {
		return func() {}, nil
	}
	// The writer pool has one connection: the lock and the migrations
	// share a session.
	if _, err := d.write.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, int64(migrationLock)); err != nil {
		return nil, mapErr(err)
	}
	return func() {
		d.write.ExecContext(context.Background(), `SELECT pg_advisory_unlock(?)`, int64(migrationLock))
	}, nil
}

// pgStorage reads PostgreSQL's database size in pages of its block size.
func (d *DB) pgStorage(ctx context.Context) (pageSize, pages int64, err error) {
	err = d.read.QueryRowContext(ctx, `SELECT CAST(current_setting('block_size') AS BIGINT), pg_database_size(current_database())`).Scan(&pageSize, &pages)
	if err != nil {
		return 0, 0, mapErr(err)
	}
	return pageSize, pages / pageSize, nil
}

// mapPgErr is mapErr for PostgreSQL's errors: a full disk, a lock or
// serialisation conflict and a lost server become EUNAVAILABLE (503,
// retry); text PostgreSQL cannot hold is the client's to fix (422).
// It returns nil for any other error.
func mapPgErr(err error) error {
	unavailable := &budgetgate.Error{Code: budgetgate.EUNAVAILABLE, Message: "storage unavailable; nothing was stored"}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return errStorageFull()
		case pe.Code == "22021": // character_not_in_repertoire: PostgreSQL text cannot hold a NUL
			return &budgetgate.Error{Code: budgetgate.EINVALID, Message: "text with a NUL character (\\u0000) cannot be stored; nothing was stored"}
		case pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03": // serialization_failure, deadlock_detected, lock_not_available
			return errBusy
		case strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "53300": // connection, shutdown, too many connections
			return unavailable
		}
		return nil
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, sql.ErrConnDone) {
		return unavailable
	}
	return nil
}
