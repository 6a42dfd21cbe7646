package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/budgetgate/budgetgate/errorbudget"
)

func runGate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var rel errorbudget.Release
	var server string
	var asJSON bool
	var ask exceptionAsk
	var project string
	fs := newFlags("gate", "gate --server URL --service S --version V [flags], or gate --project P", stderr)
	fs.StringVar(&project, "project", "", "gate the `PROJECT`'s variant budgets instead: blocked while its baseline has an open violation no exception covers; with --request-exception, a blocked project asks the CCB about its latest baseline analysis")
	fs.StringVar(&server, "server", "http://127.0.0.1:8080", "budgetgate server `URL`")
	fs.StringVar(&rel.Service, "service", "", "service to release (required)")
	fs.StringVar(&rel.Version, "version", "", "version being released (required)")
	fs.StringVar(&rel.CommitSHA, "commit", "", "commit SHA of the release")
	fs.StringVar(&rel.RiskLevel, "risk", "medium", "risk level: low, medium or high")
	fs.StringVar(&rel.ReleaseType, "type", "feature", "release type: feature, bugfix, security, critical_security_fix, slo_improvement or rollback")
	fs.BoolVar(&rel.HasTests, "tests", false, "the release has tests")
	fs.BoolVar(&rel.HasRollbackPlan, "rollback-plan", false, "the release has a documented rollback plan")
	fs.StringVar(&rel.RequestedBy, "requested-by", os.Getenv("USER"), "who asks")
	fs.BoolVar(&asJSON, "json", false, "print the server's JSON answer")
	ask.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if project != "" {
		return runVariantGate(ctx, server, project, ask, asJSON, stdout, stderr)
	}
	if err := rel.Validate(); err != nil {
		fmt.Fprintln(stderr, "budgetgate gate:", err)
		return exitError
	}
	dec, code := evaluate(ctx, server, rel, asJSON, stdout, stderr)
	if code == exitBlocked && (ask.reason != "" || ask.wait > 0) {
		return ask.run(ctx, server, rel, dec, asJSON, stdout, stderr)
	}
	return code
}

// evaluate asks the gate, prints its answer and returns it with the exit
// code it means.
func evaluate(ctx context.Context, server string, rel errorbudget.Release, asJSON bool, stdout, stderr io.Writer) (*errorbudget.Decision, int) {
	var dec errorbudget.Decision
	raw, err := postJSON(ctx, server+"/api/v1/releases/evaluate", rel, &dec)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate gate:", err)
		return nil, exitError
	}
	if asJSON {
		stdout.Write(raw)
		fmt.Fprintln(stdout)
	} else {
		printDecision(stdout, &dec)
	}
	if dec.Approved {
		return &dec, exitOK
	}
	return &dec, exitBlocked
}

func printDecision(w io.Writer, dec *errorbudget.Decision) {
	verdict := "DENIED"
	if dec.Approved {
		verdict = "APPROVED"
	}
	fmt.Fprintf(w, "%s: %s\n", verdict, dec.Reason)
	if dec.Alternative != "" {
		fmt.Fprintf(w, "Alternative: %s\n", dec.Alternative)
	}
	for _, c := range dec.Conditions {
		fmt.Fprintf(w, "  - %s\n", c)
	}
	m := dec.Metrics
	budget := "Budget"
	if len(dec.SLOs) > 1 {
		// The service's worst SLO decided; say which.
		budget = fmt.Sprintf("Budget (worst of %d SLOs: %s)", len(dec.SLOs), m.SLO)
	}
	fmt.Fprintf(w, "%s: %s, %.1f%% remaining, burn rate %.2fx (decision %d, policy %s)\n", budget, m.Status, m.RemainingPct, m.BurnRate, dec.ID, dec.PolicyVersion)
}
