package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// TableCopy is what moving one table copied and checked.
type TableCopy struct {
	Table string
	Rows  int64
	// Checked names the columns whose sums were compared: numbers and
	// flags by value, text and bytes by their length in bytes.
	Checked []string
}

// CopyReport is what CopyToPostgres did, table by table.
type CopyReport struct {
	From, To   string // To without its password
	Migrations int
	Tables     []TableCopy
}

// CopyToPostgres copies the SQLite database at from into the empty
// PostgreSQL database at to. Both are opened as the server opens them
// (the file is checked and both get every migration), then every table is
// read from one snapshot of the file and written in one PostgreSQL
// transaction, which commits only once each table's row count and column
// sums read back from PostgreSQL equal the file's. A target that already
// holds rows is refused, and so is anything but a file to a postgres:// URL.
func CopyToPostgres(ctx context.Context, from, to string) (*CopyReport, error) {
	if IsPostgres(from) || !IsPostgres(to) {
		return nil, errors.New("migrate: --from is a SQLite file and --to a postgres:// URL")
	}
	src, err := Open(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("migrate: opening %s: %w", from, err)
	}
	defer src.Close()
	dst, err := Open(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("migrate: opening %s: %w", Redact(to), err)
	}
	defer dst.Close()
	rep := &CopyReport{From: from, To: dst.Path}
	read, err := src.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("migrate: reading %s: %w", from, err)
	}
	defer read.Rollback()
	conn, err := dst.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: connecting to %s: %w", dst.Path, err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pg := dc.(*stdlib.Conn).Conn()
		tx, err := pg.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.Background())
		if err := copyAll(ctx, read, tx, rep); err != nil {
			return err
		}
		// The deferred foreign keys are checked here.
		return tx.Commit(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("migrate: %w; nothing was committed to %s", err, dst.Path)
	}
	return rep, nil
}

// pgColumn is a column of the target and how its values and sums are read.
type pgColumn struct {
	name, kind string // kind: int, bool, float, text or bytes
	identity   bool
}

// copyAll copies, table by table, and checks each one.
func copyAll(ctx context.Context, src *txConn, dst pgx.Tx, rep *CopyReport) error {
	migrations, err := sameMigrations(ctx, src, dst)
	if err != nil {
		return err
	}
	rep.Migrations = migrations
	tables, err := tables(ctx, dst)
	if err != nil {
		return fmt.Errorf("listing the tables: %w", err)
	}
	if _, err := dst.Exec(ctx, `SET CONSTRAINTS ALL DEFERRED`); err != nil {
		return err
	}
	cols := map[string][]pgColumn{}
	for _, t := range tables {
		if cols[t], err = columnsOf(ctx, dst, t); err != nil {
			return fmt.Errorf("reading the columns of %s: %w", t, err)
		}
		var n int64
		if err := dst.QueryRow(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return fmt.Errorf("counting %s: %w", t, err)
		}
		if n > 0 {
			return fmt.Errorf("the target is not empty (table %s has %d rows): migrate copies into an empty database only", t, n)
		}
	}
	for _, t := range tables {
		c, err := copyTable(ctx, src, dst, t, cols[t])
		if err != nil {
			return err
		}
		rep.Tables = append(rep.Tables, c)
	}
	return nil
}

// sameMigrations refuses two databases that are not at the same
// migrations, and returns how many there are.
func sameMigrations(ctx context.Context, src *txConn, dst pgx.Tx) (int, error) {
	var a, b []string
	rows, err := src.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return 0, fmt.Errorf("reading the file's migrations: %w", err)
	}
	if a, err = scanAll(rows, func(r scannable) (s string, err error) { return s, r.Scan(&s) }); err != nil {
		return 0, fmt.Errorf("reading the file's migrations: %w", err)
	}
	prow, err := dst.Query(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return 0, fmt.Errorf("reading the target's migrations: %w", err)
	}
	if b, err = pgx.CollectRows(prow, pgx.RowTo[string]); err != nil {
		return 0, fmt.Errorf("reading the target's migrations: %w", err)
	}
	if !slices.Equal(a, b) {
		return 0, fmt.Errorf("the file has migrations %v and the target %v: they must be the same", a, b)
	}
	return len(a), nil
}

// tables lists the target's tables by name. Their foreign keys are
// deferred for the copy (decisions and exceptions point at each other), so
// the order does not matter.
func tables(ctx context.Context, dst pgx.Tx) ([]string, error) {
	rows, err := dst.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname != 'schema_migrations' ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// columnsOf reads a target table's columns in order, with their kinds.
func columnsOf(ctx context.Context, dst pgx.Tx, table string) ([]pgColumn, error) {
	rows, err := dst.Query(ctx, `SELECT column_name, data_type, is_identity = 'YES' FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	var out []pgColumn
	var name, typ string
	var identity bool
	_, err = pgx.ForEachRow(rows, []any{&name, &typ, &identity}, func() error {
		kind, ok := map[string]string{"bigint": "int", "integer": "int", "smallint": "int", "boolean": "bool",
			"double precision": "float", "real": "float", "text": "text", "bytea": "bytes"}[typ]
		if !ok {
			return fmt.Errorf("column %s.%s has type %s, which migrate does not copy", table, name, typ)
		}
		out = append(out, pgColumn{name: name, kind: kind, identity: identity})
		return nil
	})
	return out, err
}

// copyTable streams a table from the file into PostgreSQL (COPY), moves
// its identity sequences past the copied ids, and compares the count and
// sums on both sides.
func copyTable(ctx context.Context, src *txConn, dst pgx.Tx, table string, cols []pgColumn) (TableCopy, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+table)
	if err != nil {
		return TableCopy{}, fmt.Errorf("reading %s from the file: %w", table, err)
	}
	defer rows.Close()
	var row int64
	var badRow error // reported as is, rather than inside the driver's COPY error
	vals := make([]any, len(cols))
	ptrs := pointers(vals)
	source := pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		row++
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(cols))
		for i, c := range cols {
			v, err := convert(vals[i], c.kind)
			if err != nil {
				badRow = fmt.Errorf("row %d, column %s: %w", row, c.name, err)
				return nil, badRow
			}
			out[i] = v
		}
		return out, nil
	})
	n, err := dst.CopyFrom(ctx, pgx.Identifier{table}, names, source)
	if badRow != nil {
		err = badRow
	}
	if err != nil {
		return TableCopy{}, fmt.Errorf("copying %s: %w", table, err)
	}
	for _, c := range cols {
		if !c.identity {
			continue
		}
		if _, err := dst.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(`+c.name+`), 0) + 1, false) FROM `+table, table, c.name); err != nil {
			return TableCopy{}, fmt.Errorf("moving the ids of %s past the copied ones: %w", table, err)
		}
	}
	checked, err := compareSums(ctx, src, dst, table, cols)
	if err != nil {
		return TableCopy{}, err
	}
	return TableCopy{Table: table, Rows: n, Checked: checked}, nil
}

// convert turns a value read from SQLite into the target column's Go
// type. SQLite keeps flags as 0 and 1 and may hand text back as bytes;
// anything else of the wrong kind is a damaged row, refused, and so is
// text PostgreSQL cannot hold.
func convert(v any, kind string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch kind {
	case "bool":
		if i, ok := v.(int64); ok && (i == 0 || i == 1) {
			return i == 1, nil
		}
	case "int":
		if i, ok := v.(int64); ok {
			return i, nil
		}
	case "float":
		switch f := v.(type) {
		case float64:
			return f, nil
		case int64:
			return float64(f), nil
		}
	case "text":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			return nil, fmt.Errorf("%v (%T) is not a stored text", v, v)
		}
		if strings.ContainsRune(s, 0) {
			return nil, errors.New("the text holds a NUL character, which PostgreSQL's text cannot")
		}
		return s, nil
	case "bytes":
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			return []byte(b), nil
		}
	}
	return nil, fmt.Errorf("%v (%T) is not a stored %s", v, v, kind)
}

// sumExprs returns the checksum expressions of both sides for cols: the
// row count, then one sum per column.
func sumExprs(cols []pgColumn) (sqlite, postgres []string) {
	sqlite, postgres = []string{"COUNT(*)"}, []string{"COUNT(*)"}
	for _, c := range cols {
		switch c.kind {
		case "int":
			sqlite = append(sqlite, "COALESCE(SUM("+c.name+"), 0)")
			postgres = append(postgres, "CAST(COALESCE(SUM("+c.name+"), 0) AS BIGINT)")
		case "bool":
			sqlite = append(sqlite, "COALESCE(SUM("+c.name+"), 0)")
			postgres = append(postgres, "COALESCE(SUM(CASE WHEN "+c.name+" THEN 1 ELSE 0 END), 0)")
		case "float":
			sqlite = append(sqlite, "TOTAL("+c.name+")")
			postgres = append(postgres, "COALESCE(SUM("+c.name+"), 0)")
		default: // text and bytes: their length in bytes
			sqlite = append(sqlite, "COALESCE(SUM(length(CAST("+c.name+" AS BLOB))), 0)")
			postgres = append(postgres, "CAST(COALESCE(SUM(octet_length("+c.name+")), 0) AS BIGINT)")
		}
	}
	return sqlite, postgres
}

// compareSums reads the count and the sums of a table on both sides and
// names the first that differs.
func compareSums(ctx context.Context, src *txConn, dst pgx.Tx, table string, cols []pgColumn) ([]string, error) {
	lite, pg := sumExprs(cols)
	a, b := make([]any, len(lite)), make([]any, len(pg))
	if err := src.QueryRowContext(ctx, `SELECT `+strings.Join(lite, ", ")+` FROM `+table).Scan(pointers(a)...); err != nil {
		return nil, fmt.Errorf("summing %s in the file: %w", table, err)
	}
	if err := dst.QueryRow(ctx, `SELECT `+strings.Join(pg, ", ")+` FROM `+table).Scan(pointers(b)...); err != nil {
		return nil, fmt.Errorf("summing %s in PostgreSQL: %w", table, err)
	}
	checked := []string{}
	for i := range a {
		what := "the row count"
		if i > 0 {
			what = "the sum of " + cols[i-1].name
			checked = append(checked, cols[i-1].name)
		}
		if !sameSum(a[i], b[i]) {
			return nil, fmt.Errorf("%s: %s is %v in the file and %v in PostgreSQL", table, what, a[i], b[i])
		}
	}
	return checked, nil
}

// sameSum compares two sums: exactly for integers, and within rounding
// for reals, which two databases may add in different orders.
func sameSum(a, b any) bool {
	ai, aInt := a.(int64)
	bi, bInt := b.(int64)
	if aInt && bInt {
		return ai == bi
	}
	af, aOK := asFloat(a)
	bf, bOK := asFloat(b)
	return aOK && bOK && (af == bf || math.Abs(af-bf) <= 1e-9*math.Max(math.Abs(af), math.Abs(bf)))
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func pointers(xs []any) []any {
	out := make([]any, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}
