package loadtest

import (
	"context"
	"database/sql"
	_ "modernc.org/sqlite" // the driver the store uses
	"strings"
)

// plainInsert writes rows (service, minute, good, total) into a bare table of
// a new database at path, in transactions of batch rows with multi-row
// INSERTs and the same pragmas as the store. It is the reference the ingest
// benchmark is measured against: what SQLite itself does with the same rows.
func plainInsert(ctx context.Context, path string, rows [][4]int64, batch int) error {
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE plain (service_id INTEGER, t INTEGER, good INTEGER, total INTEGER)`); err != nil {
		return err
	}
	for len(rows) > 0 {
		n := min(batch, len(rows))
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for chunk := rows[:n]; len(chunk) > 0; {
			k := min(len(chunk), plainChunk)
			q := "INSERT INTO plain VALUES " + strings.Repeat("(?,?,?,?),", k-1) + "(?,?,?,?)"
			args := make([]any, 0, 4*k)
			for _, r := range chunk[:k] {
				args = append(args, r[0], r[1], r[2], r[3])
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				tx.Rollback()
				return err
			}
			chunk = chunk[k:]
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// plainChunk is how many rows go in one multi-row INSERT, as the store
// does.
const plainChunk = 1000
