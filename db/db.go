// Package db is budgetgate's store: it turns domain types into rows, in
// SQLite (a file, the default) or PostgreSQL (a postgres:// URL). One
// connection writes and a pool reads; migrations are embedded and applied
// in order at open. The queries are written once for both databases; what
// differs between them is in dialect.go.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/budgetgate/budgetgate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB holds the two pools over one database.
type DB struct {
	// Path is the SQLite file, or the PostgreSQL URL without its password.
	Path   string
	write  *pool // one connection: SQLite has one writer at a time
	read   *pool
	dl     *dialect
	Now    func() time.Time // stamped on writes; tests set it
	Log    *slog.Logger     // failures that do not fail a request (one service's figures in a list)
	closed bool
	// healthy is set once the file passed its checks at open: only then
	// does a clean close mark it as needing no full check next time.
	healthy bool
	// FullyChecked says whether Open ran the full integrity check.
	FullyChecked bool
	cache        policyCache
	counts       countsCache
	peers        peers // other instances on the same database (peers.go)

	writes  chan writeReq // to the group committer
	quit    chan struct{}
	stopped chan struct{}
	stmts   sync.Map // query text -> *sql.Stmt on the read pool
	sloIDs  sync.Map // sloKey -> the SLO's id (sli.go)
	// writeStmts are prepared at open and only read afterwards.
	writeStmts map[string]*sql.Stmt
	full       atomic.Bool  // a write found no space and none has succeeded since (storage.go)
	maxPages   atomic.Int64 // the --max-db-pages cap in force; 0 for none
}

// Options change how a database is opened.
type Options struct {
	// FullCheck runs the full integrity check at start even when the file
	// is as budgetgate left it at its last clean close.
	FullCheck bool
}

// Open opens (creating if needed) the database at path and applies
// migrations. A file that is not a healthy SQLite database is refused.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options. A postgres:// or postgresql:// URL opens
// that PostgreSQL database instead of a file.
func OpenWith(ctx context.Context, path string, o Options) (*DB, error) {
	if IsPostgres(path) {
		return openPostgres(ctx, path)
	}
	if path == "" || path == ":memory:" {
		return nil, errors.New("db: a file path is required (in-memory databases do not work with a pool)")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("db: creating the directory of %s: %w", path, err)
		}
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	clean, err := closedCleanly(path)
	if err != nil {
		return nil, err
	}
	// busy_timeout first: it must be in force before journal_mode may wait on a lock.
	pragmas := "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("db: opening the writer pool of %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("db: opening the reader pool of %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)*2))
	read.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)*2))

	d := newDB(path, write, read, sqliteDialect)
	d.FullyChecked = o.FullCheck || !clean
	if err := d.start(ctx, func() error { return d.check(ctx, d.FullyChecked) }); err != nil {
		return nil, err
	}
	return d, nil
}

// newDB wraps the two pools; start makes it usable.
func newDB(path string, write, read *sql.DB, dl *dialect) *DB {
	d := &DB{Path: path, write: &pool{db: write, dl: dl}, read: &pool{db: read, dl: dl}, dl: dl,
		Now: func() time.Time { return time.Now().UTC() }, Log: slog.Default(), writeStmts: map[string]*sql.Stmt{},
		writes: make(chan writeReq), quit: make(chan struct{}), stopped: make(chan struct{})}
	d.peers.instance = newInstanceID()
	d.peers.live.Store(dl == sqliteDialect)
	var committers sync.WaitGroup
	for range dl.writers {
		committers.Go(d.groupCommitter)
	}
	go func() { committers.Wait(); close(d.stopped) }()
	return d
}

// start checks the database, applies the migrations it lacks and prepares
// the hot writes; on failure it closes d.
func (d *DB) start(ctx context.Context, check func() error) error {
	for _, step := range []func() error{check, func() error { return d.migrate(ctx) }, func() error { return d.prepareWrites(ctx) }} {
		if err := step(); err != nil {
			d.Close()
			return err
		}
	}
	d.healthy = true
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	close(d.quit)
	<-d.stopped
	d.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	for _, st := range d.writeStmts {
		st.Close()
	}
	if err := errors.Join(d.read.Close(), d.write.Close()); err != nil {
		return err
	}
	if d.healthy && d.dl == sqliteDialect {
		return markClean(d.Path)
	}
	return nil
}

// prepared returns a statement prepared once on the read pool. SQLite
// spends more time parsing a long statement than running it, so the hot
// read (window sums) keeps to a few fixed shapes.
func (d *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := d.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := d.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	if prior, loaded := d.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prior.(*sql.Stmt), nil
	}
	return st, nil
}

// prepareWrites prepares the hot write statements on the one write
// connection. It runs at open, while no transaction holds that connection.
func (d *DB) prepareWrites(ctx context.Context) error {
	hot := []string{insertDecisionSQL, insertAuditSQL, liveExceptionSQL, storedTotalSQL}
	for _, table := range []string{"sli_minute", "sli_hour", "sli_day"} {
		hot = append(hot, upsertQuery(table, insertChunk))
	}
	for _, q := range hot {
		st, err := d.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("db: preparing %q: %w", q, err)
		}
		d.writeStmts[q] = st
	}
	return nil
}

// migrate applies, in a transaction each, the embedded migrations not yet
// recorded in schema_migrations.
func (d *DB) migrate(ctx context.Context) error {
	unlock, err := d.lockMigrations(ctx)
	if err != nil {
		return fmt.Errorf("db: waiting for another instance's migrations: %w", err)
	}
	defer unlock()
	if _, err := d.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("db: migrations table: %w", err)
	}
	for _, name := range d.migrationNames() {
		if err := d.migrateOne(ctx, name); err != nil {
			return fmt.Errorf("db: migration %s: %w", name, err)
		}
	}
	return nil
}

// migrationNames lists the dialect's migration files in order. Both
// backends record a migration under the same name (its SQLite file's), so
// that two databases can be compared migration for migration.
func (d *DB) migrationNames() []string {
	names, _ := fs.Glob(migrations, d.dl.migrations+"/*.sql")
	sort.Strings(names)
	return names
}

// recordedName is the name schema_migrations keeps for a migration file.
func recordedName(file string) string { return "migrations/" + path.Base(file) }

func (d *DB) migrateOne(ctx context.Context, file string) error {
	name := recordedName(file)
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(file)
	if err != nil {
		return err
	}
	// Not rebound: a migration is a script with no parameters.
	if _, err := tx.Tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, d.stamp()); err != nil {
		return err
	}
	return tx.Commit()
}

// Ready reports whether the database answers and every migration is applied.
func (d *DB) Ready(ctx context.Context) error {
	names := d.migrationNames()
	var n int
	if err := d.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return budgetgate.Errorf(budgetgate.EUNAVAILABLE, "database not reachable")
	}
	if n < len(names) {
		return budgetgate.Errorf(budgetgate.EUNAVAILABLE, "migrations pending: %d of %d applied", n, len(names))
	}
	return d.storageReady(ctx)
}

// querier is what reads need: a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// scannable is what the scan functions read: a *sql.Row or the current row of
// *sql.Rows.
type scannable = interface{ Scan(...any) error }

// scanAll reads every row of rows with scan, and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(scannable) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Tx is a write transaction with the instant it is stamped with.
type Tx struct {
	*txConn
	db    *DB
	now   time.Time
	after []func() // run once the transaction has committed
	// topics name what the transaction changes in the caches (peers.go).
	topics []string
}

// Commit commits and then runs what waited for the commit (cache invalidation).
func (tx *Tx) Commit() error {
	if err := tx.db.announce(context.Background(), tx.txConn, tx.topics); err != nil {
		return err
	}
	if err := tx.Tx.Commit(); err != nil {
		return mapErr(err)
	}
	tx.db.drop(tx.topics)
	for _, f := range tx.after {
		f()
	}
	return nil
}

// exec runs query in the transaction, with the statement prepared at open
// if there is one.
func (tx *Tx) exec(ctx context.Context, query string, args ...any) error {
	_, err := tx.result(ctx, query, args...)
	return err
}

// query reads inside the transaction, with the statement prepared at open
// if there is one.
func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := tx.db.writeStmts[query]; ok {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// queryRow is query for one row.
func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := tx.db.writeStmts[query]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// result is exec for callers that need the sql.Result (an inserted id).
func (tx *Tx) result(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	var err error
	if st, ok := tx.db.writeStmts[query]; ok {
		res, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		res, err = tx.ExecContext(ctx, query, args...)
	}
	return res, mapErr(err)
}

// BeginTx starts a write transaction. Callers defer tx.Rollback() and end with tx.Commit().
func (d *DB) BeginTx(ctx context.Context) (*Tx, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(err)
	}
	return &Tx{txConn: tx, db: d, now: d.Now().UTC()}, nil
}

func (d *DB) stamp() string { return formatTime(d.Now()) }

// timeFormat is fixed-width so that stored times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// parseTime reads a time as formatTime wrote it; "" is a time never set
// (the zero time). Anything else that does not parse is a damaged row,
// reported with the text found rather than read as year one.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// parseOptionalTime is parseTime for a column that may be empty: nil then.
func parseOptionalTime(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// errBusy is a write that lost a lock conflict: retrying it may succeed.
var errBusy = &budgetgate.Error{Code: budgetgate.EUNAVAILABLE, Message: "database busy; retry"}

// mapErr turns SQLite's out-of-space and busy conditions into EUNAVAILABLE so
// that clients get a 503 and retry, and leaves other errors alone.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return errStorageFull()
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return errBusy
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN:
			return &budgetgate.Error{Code: budgetgate.EUNAVAILABLE, Message: "storage unavailable; nothing was stored"}
		}
	}
	if mapped := mapPgErr(err); mapped != nil {
		return mapped
	}
	if strings.Contains(err.Error(), "database or disk is full") {
		return errStorageFull()
	}
	return err
}

// Now is the instant the transaction stamps on what it writes.
func (tx *Tx) Now() time.Time { return tx.now }
