// Command budgetgate is the budgetgate server and CLI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: budgetgate analyze [PATH] [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "analyze":
		os.Exit(runAnalyze(ctx, os.Args[2:], os.Stdout, os.Stderr))
	}
	fmt.Fprintf(os.Stderr, "budgetgate: unknown command %q\n", os.Args[1])
	os.Exit(2)
}
