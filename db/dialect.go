package db

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// dialect is what differs between the two backends the store runs on. The
// queries are written once, with SQLite's ? placeholders and SQL both
// databases read the same way (docs/ARCHITECTURE.md, "Store backends");
// only what cannot be written once lives here.
type dialect struct {
	name string
	// dollar numbers placeholders $1, $2, ... as PostgreSQL wants them.
	dollar bool
	// badCount is the condition that makes a stored SLI row invalid. SQLite
	// keeps whatever a column is given (it would sum text as 0 and reals
	// as floats), so it also checks the stored types; PostgreSQL's BIGINT
	// columns hold integers only.
	badCount string
	// forUpdate locks the rows a read inside a write transaction returns.
	// SQLite has one writer (BEGIN IMMEDIATE), which already excludes every
	// other write; PostgreSQL locks the row, so that writers on other
	// connections or instances wait for it.
	forUpdate string
	// lockKey takes a lock on a text key until the transaction ends, for
	// what no row can be locked for yet (an Idempotency-Key not yet
	// stored). SQLite's one writer already holds every key.
	lockKey string
	// writers is how many group commits run at once, each on a connection
	// of its own. One on both: PostgreSQL could take more (it locks rows),
	// but four were no faster on two cores (docs/PERFORMANCE.md) and one
	// keeps an instance's writes in order.
	writers int
	// migrations is the folder of the embedded migrations.
	migrations string
	// rebound caches rebind's output for short queries.
	rebound sync.Map
}

var (
	sqliteDialect = &dialect{
		name:       "sqlite",
		badCount:   "typeof(good) != 'integer' OR typeof(total) != 'integer' OR good < 0 OR good > total",
		writers:    1,
		migrations: "migrations",
	}
	postgresDialect = &dialect{
		name:       "postgres",
		dollar:     true,
		badCount:   "good < 0 OR good > total",
		forUpdate:  " FOR UPDATE",
		writers:    1,
		lockKey:    "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
		migrations: "migrations/postgres",
	}
)

// maxCachedQuery bounds the queries whose rewriting is kept: the multi-row
// inserts of a large batch are long and come in many shapes.
const maxCachedQuery = 2048

// rebind rewrites a query's ? placeholders for the dialect: ?NNN keeps its
// number, and a bare ? takes one more than the largest number before it,
// as SQLite numbers them. Placeholders inside quoted strings, quoted
// names and comments are left alone.
func (dl *dialect) rebind(q string) string {
	if !dl.dollar || !strings.Contains(q, "?") {
		return q
	}
	if s, ok := dl.rebound.Load(q); ok {
		return s.(string)
	}
	out := rebindDollar(q)
	if len(q) <= maxCachedQuery {
		dl.rebound.Store(q, out)
	}
	return out
}

func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + len(q)/8)
	highest := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end])
			i += end - 1
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			n := highest + 1
			if j > i+1 {
				n, _ = strconv.Atoi(q[i+1 : j])
			}
			highest = max(highest, n)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pool is a database/sql pool that speaks the store's dialect: every query
// is rebound before it reaches the driver. It offers only the methods that
// rebind, so that no query can reach PostgreSQL with SQLite's placeholders.
type pool struct {
	db *sql.DB
	dl *dialect
}

func (p *pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.dl.rebind(q), args...)
}

func (p *pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.dl.rebind(q), args...)
}

func (p *pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.dl.rebind(q), args...)
}

func (p *pool) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, p.dl.rebind(q))
}

func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txConn, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &txConn{Tx: tx, dl: p.dl}, nil
}

func (p *pool) PingContext(ctx context.Context) error { return p.db.PingContext(ctx) }

// Conn takes one connection of the pool for a caller that speaks to the
// driver itself (migrate's COPY).
func (p *pool) Conn(ctx context.Context) (*sql.Conn, error) { return p.db.Conn(ctx) }

func (p *pool) Close() error { return p.db.Close() }

// txConn is a database/sql transaction that speaks the store's dialect.
type txConn struct {
	*sql.Tx
	dl *dialect
}

func (t *txConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.dl.rebind(q), args...)
}

func (t *txConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.dl.rebind(q), args...)
}

func (t *txConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.dl.rebind(q), args...)
}

func (t *txConn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.Tx.PrepareContext(ctx, t.dl.rebind(q))
}
