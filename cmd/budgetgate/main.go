// Command budgetgate is the budget-governance server and its CLI: one binary
// with subcommands. This package parses flags and wires parts together;
// everything else lives in the packages it calls.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes shared by every subcommand (see docs/API.md, Exit codes).
const (
	exitOK      = 0 // success: pass, warn, approved
	exitBlocked = 1 // blocked: fail, denied, rejected
	exitError   = 2 // error or unreachable
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"serve":   {"run the server and dashboard", runServe},
	"gate":    {"ask the release gate whether a release may ship", runGate},
	"policy":  {"check an error-budget policy file (policy check FILE)", runPolicy},
	"analyze": {"measure variant budgets of a working tree or git revision", runAnalyze},
	"token":   {"create, list or revoke API tokens (token create --name ci --scopes ingest,gate,read)", runToken},
	"backup":  {"copy the database consistently while the server runs (backup --db FILE OUT)", runBackup},
	"migrate": {"copy a SQLite database into an empty PostgreSQL one (migrate --from FILE --to postgres://...)", runMigrate},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		usage(stderr)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "budgetgate: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitError
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

// isHelp reports whether arg asks for help rather than naming a command.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "budgetgate enforces error budgets and variant budgets, with CCB exceptions.")
	fmt.Fprintln(w, "\nUsage: budgetgate COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'budgetgate COMMAND --help' for a command's flags. Every flag can also be")
	fmt.Fprintln(w, "set with an environment variable: --oidc-client-id is BUDGETGATE_OIDC_CLIENT_ID.")
	fmt.Fprintln(w, "\nExit codes: 0 success (pass, warn, approved), 1 blocked (fail, denied, rejected), 2 error.")
}

// newFlags returns a flag set whose usage names the command and explains the
// environment variables.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: budgetgate %s\n\nFlags (each also read from BUDGETGATE_<FLAG>, e.g. --db from BUDGETGATE_DB):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, first taking defaults from BUDGETGATE_* variables,
// so that the command line wins over the environment. It returns false with
// the exit code when the command should stop (help or an error).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "BUDGETGATE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s: %w", env, err)
			}
		}
	})
	if envErr != nil {
		fmt.Fprintln(fs.Output(), envErr)
		return exitError, false
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, false
		}
		return exitError, false
	}
	return 0, true
}
