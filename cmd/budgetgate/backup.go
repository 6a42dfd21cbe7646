package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/budgetgate/budgetgate/db"
)

// runBackup copies the database while the server runs:
//
//	budgetgate backup --db FILE [--force] OUT
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var dbPath string
	var force bool
	fs := newFlags("backup", "backup [--db FILE] [--force] OUT", stderr)
	fs.StringVar(&dbPath, "db", "data/budgetgate.db", "SQLite database `file` to copy (the server's --db); it is only read")
	fs.BoolVar(&force, "force", false, "replace OUT if it exists")
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(stderr, `
Writes a consistent copy of the database to OUT while the server keeps running
and writing: every write committed before the backup began, none half. The
copy is checked with PRAGMA integrity_check before it replaces anything.
To restore, stop the server, move the database and its -wal and -shm files
aside, copy OUT to the database's path, and start the server.
A PostgreSQL database (a postgres:// --db) is backed up with pg_dump instead.
`)
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	// Flags may follow OUT too (backup OUT --force).
	var rest []string
	for fs.NArg() > 0 {
		rest = append(rest, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitError
		}
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "budgetgate backup: want one OUT file")
		fs.Usage()
		return exitError
	}
	start := time.Now()
	res, err := db.Backup(ctx, dbPath, rest[0], force)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate", err)
		return exitError
	}
	fmt.Fprintf(stdout, "backup of %s written to %s: %d bytes, %d migrations, integrity ok, %s\n",
		dbPath, res.Path, res.Bytes, res.Migrations, time.Since(start).Round(time.Millisecond))
	return exitOK
}
