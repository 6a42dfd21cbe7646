package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/variant"
)

// pairsFlag collects NAME=VALUE pairs, from repeated flags or a
// comma-separated environment variable; check validates each value.
type pairsFlag struct {
	m     map[string]string
	what  string // how usage names the pair
	check func(name, value string) (string, error)
}

func (p *pairsFlag) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	for k, v := range p.m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (p *pairsFlag) Set(s string) error {
	for _, pair := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !variant.ValidProjectName(name) || value == "" {
			return fmt.Errorf("want %s, got %q", p.what, pair)
		}
		v, err := p.check(name, value)
		if err != nil {
			return err
		}
		p.m[name] = v
	}
	return nil
}

// newReposFlag is --repo PROJECT=PATH: repositories the server analyses
// itself; paths are made absolute so that git runs in the right place.
func newReposFlag() *pairsFlag {
	return &pairsFlag{m: map[string]string{}, what: "PROJECT=PATH", check: func(_, path string) (string, error) {
		if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("%s is not a directory", path)
		}
		return filepath.Abs(path)
	}}
}

// newOwnersFlag is --project-owner PROJECT=ROLE: who hears of a project's
// new violations (default role "platform").
func newOwnersFlag() *pairsFlag {
	return &pairsFlag{m: map[string]string{}, what: "PROJECT=ROLE", check: func(_, role string) (string, error) {
		return role, nil
	}}
}

// runVariantGate is `budgetgate gate --project P`: the deployment gate of
// variant budgets. Exit 1 while the project's baseline has an open
// violation that no approved exception covers, 0 otherwise, 2 on error.
// With --request-exception (or --wait), a blocked project asks the CCB
// about its latest baseline analysis (or waits on the request already
// open for it), and the gate is asked again once the board approves.
func runVariantGate(ctx context.Context, server, project string, ask exceptionAsk, asJSON bool, stdout, stderr io.Writer) int {
	ans, code := variantGate(ctx, server, project, asJSON, stdout, stderr)
	if code != exitBlocked || (ask.reason == "" && ask.wait <= 0) {
		return code
	}
	if ans.Analysis == nil {
		fmt.Fprintln(stderr, "budgetgate gate: the server names no baseline analysis to ask the CCB about")
		return exitError
	}
	commit := ans.Analysis.Commit
	return ask.ask(ctx, server, askSubject{
		what: project,
		open: map[string]any{"analysis_id": ans.Analysis.ID},
		find: func(ctx context.Context) (*exceptionReply, error) {
			return findProjectRequest(ctx, server, project, commit)
		},
		recheck: func(ctx context.Context) int {
			_, code := variantGate(ctx, server, project, asJSON, stdout, stderr)
			return code
		},
	}, asJSON, stdout, stderr)
}

// variantGate asks the server's variant deployment gate about project,
// prints its answer and returns it with the exit code it means.
func variantGate(ctx context.Context, server, project string, asJSON bool, stdout, stderr io.Writer) (*app.GateAnswer, int) {
	u := strings.TrimRight(server, "/") + "/api/v1/budget/gate?project=" + url.QueryEscape(project)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	raw, _, err := apiCall(ctx, http.MethodGet, u, nil)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate gate:", err)
		return nil, exitError
	}
	var ans app.GateAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		fmt.Fprintln(stderr, "budgetgate gate: the server's answer:", err)
		return nil, exitError
	}
	if asJSON {
		stdout.Write(raw)
		fmt.Fprintln(stdout)
	} else {
		printGateAnswer(stdout, &ans)
	}
	if !ans.Allowed {
		return &ans, exitBlocked
	}
	return &ans, exitOK
}

func printGateAnswer(w io.Writer, ans *app.GateAnswer) {
	verdict := "ALLOWED"
	if !ans.Allowed {
		verdict = "BLOCKED"
	}
	fmt.Fprintf(w, "%s: %s: %s\n", verdict, ans.Project, ans.Reason)
	for _, v := range ans.Blocking {
		fmt.Fprintf(w, "  - %s/%s %s %.2f%% > %g (commit %s, violation %d)\n", v.Dimension, v.Variant, v.Metric, v.Delta, v.Limit, v.Commit, v.ID)
	}
	for _, v := range ans.Excepted {
		fmt.Fprintf(w, "  ~ %s/%s %s %.2f%%: covered by an exception\n", v.Dimension, v.Variant, v.Metric, v.Delta)
	}
	if ans.ProjectAt != "" {
		fmt.Fprintln(w, ans.ProjectAt)
	}
}

// findProjectRequest returns the newest pending or approved variant
// request of project about commit (its latest baseline analysis's).
func findProjectRequest(ctx context.Context, server, project, commit string) (*exceptionReply, error) {
	var list struct {
		Exceptions []exceptionReply `json:"exceptions"`
	}
	q := url.Values{"project": {project}, "status": {"pending,approved"}, "kind": {"variant"}}
	if _, err := getJSON(ctx, strings.TrimRight(server, "/")+"/api/v1/exceptions?"+q.Encode(), &list); err != nil {
		return nil, fmt.Errorf("open CCB requests of %s: %w", project, err)
	}
	for _, e := range list.Exceptions {
		if e.Subject.Commit == commit {
			return &e, nil
		}
	}
	return nil, nil
}
