package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/budgetgate/budgetgate/errorbudget"
)

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("policy", "policy check FILE", stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 || fs.Arg(0) != "check" {
		fs.Usage()
		return exitError
	}
	file := fs.Arg(1)
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate:", err)
		return exitError
	}
	p, err := errorbudget.ParsePolicy(file, src)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	fmt.Fprintf(stdout, "# %s: valid, version %s\n", file, p.Version)
	stdout.Write(p.Canonical())
	return exitOK
}
