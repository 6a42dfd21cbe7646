package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/db"
)

// runMigrate moves a SQLite database into an empty PostgreSQL one:
//
//	budgetgate migrate --from FILE.db --to postgres://...
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var from, to string
	fs := newFlags("migrate", "migrate --from FILE.db --to postgres://USER@HOST:5432/NAME", stderr)
	fs.StringVar(&from, "from", "", "SQLite database `file` to copy (required); stop the server that uses it first")
	fs.StringVar(&to, "to", "", "`URL` of an empty PostgreSQL database to copy it into (required)")
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(stderr, `
Copies every table of the SQLite database into the PostgreSQL one in a single
transaction, and commits only once each table's row count and column sums in
PostgreSQL equal the file's. A target that already holds rows is refused; the
file is only read (after the migrations it lacks, as a server start would).
`)
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if from == "" || to == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "budgetgate migrate: want --from FILE and --to URL, and nothing else")
		fs.Usage()
		return exitError
	}
	start := time.Now()
	rep, err := db.CopyToPostgres(ctx, from, to)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate", err)
		return exitError
	}
	var rows int64
	for _, t := range rep.Tables {
		fmt.Fprintf(stdout, "%-22s %9d rows  count and sums match (%s)\n", t.Table, t.Rows, strings.Join(t.Checked, ", "))
		rows += t.Rows
	}
	fmt.Fprintf(stdout, "copied %s to %s: %d tables, %d rows, %d migrations, %s\n",
		rep.From, rep.To, len(rep.Tables), rows, rep.Migrations, time.Since(start).Round(time.Millisecond))
	return exitOK
}
