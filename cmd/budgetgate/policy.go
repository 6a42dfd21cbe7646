package main

import (
	"context"
	"fmt"
	"io"

	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/policyfile"
	"github.com/budgetgate/budgetgate/sloimport"
)

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("policy", "policy check FILE", stderr)
	// The subcommand comes first, so that "policy check --help" is help, not a file.
	if len(args) == 0 || args[0] != "check" {
		fs.Usage()
		if len(args) > 0 && isHelp(args[0]) {
			return exitOK
		}
		return exitError
	}
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError
	}
	file := fs.Arg(0)
	src, err := policyfile.ReadPolicyFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate:", err)
		return exitError
	}
	// A Sloth or OpenSLO file is checked as the policies it makes under
	// the default policy's rules: the server gives its SLOs the rules of
	// the service's own policy where there is one.
	format, ps, err := sloimport.Read(file, src, func(string) (*errorbudget.Policy, error) { return nil, nil })
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	for _, p := range ps {
		if format == sloimport.Native {
			fmt.Fprintf(stdout, "# %s: valid, version %s\n", file, p.Version)
		} else {
			fmt.Fprintf(stdout, "# %s: valid %s, service %s, version %s under the default rules\n", file, format, p.Service, p.Version)
		}
		stdout.Write(p.Canonical())
	}
	return exitOK
}
