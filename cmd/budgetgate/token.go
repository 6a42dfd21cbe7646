package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/db"
)

// runToken manages API tokens straight in the database, for bootstrapping
// CI before anyone has signed in:
//
//	budgetgate token create --db FILE --name NAME --scopes ingest,gate,read
//	budgetgate token list --db FILE
//	budgetgate token revoke --db FILE ID
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		fmt.Fprintln(stderr, "Usage: budgetgate token create --db FILE --name NAME --scopes ingest,gate,read\n       budgetgate token list --db FILE\n       budgetgate token revoke --db FILE ID")
		if len(args) > 0 && isHelp(args[0]) {
			return exitOK
		}
		return exitError
	}
	sub := args[0]
	var dbPath, name, scopes string
	fs := newFlags("token", "token "+sub+" [flags]", stderr)
	fs.StringVar(&dbPath, "db", "data/budgetgate.db", "SQLite database `file`, or a postgres:// URL")
	if sub == "create" {
		fs.StringVar(&name, "name", "", "name of the token, e.g. ci (required)")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes, any of "+strings.Join(budgetgate.TokenScopes, ", ")+" (required; baseline only for the baseline branch's CI job)")
	}
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	store, err := db.Open(ctx, dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate token:", err)
		return exitError
	}
	defer store.Close()
	// Whoever runs the command on the server's machine, as the audit log shows it.
	actor := budgetgate.Actor{Issuer: "budgetgate:cli", Subject: os.Getenv("USER"), Name: "cli " + os.Getenv("USER")}
	switch sub {
	case "create":
		list, err := budgetgate.ParseScopes(scopes)
		if err != nil {
			fmt.Fprintln(stderr, "budgetgate token:", err)
			return exitError
		}
		secret, _, err := store.CreateToken(ctx, name, list, actor)
		if err != nil {
			fmt.Fprintln(stderr, "budgetgate token:", err)
			return exitError
		}
		fmt.Fprintln(stdout, secret)
	case "list":
		tokens, err := store.Tokens(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "budgetgate token:", err)
			return exitError
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tCREATED\tLAST USED\tREVOKED")
		for _, t := range tokens {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Prefix+"...", strings.Join(t.Scopes, ","),
				t.CreatedAt.Format("2006-01-02 15:04"), timeOrDash(t.LastUsedAt), timeOrDash(t.RevokedAt))
		}
		tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "budgetgate token revoke: give the token's ID (see token list)")
			return exitError
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "budgetgate token revoke: %q is not a token ID\n", fs.Arg(0))
			return exitError
		}
		if err := store.RevokeToken(ctx, id, actor); err != nil {
			fmt.Fprintln(stderr, "budgetgate token:", err)
			return exitError
		}
		fmt.Fprintf(stderr, "token %d revoked\n", id)
	}
	return exitOK
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format("2006-01-02 15:04")
}
