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
func runVariantGate(ctx context.Context, server, project string, asJSON bool, stdout, stderr io.Writer) int {
	u := strings.TrimRight(server, "/") + "/api/v1/budget/gate?project=" + url.QueryEscape(project)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	raw, _, err := apiCall(ctx, http.MethodGet, u, nil)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate gate:", err)
		return exitError
	}
	var ans app.GateAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		fmt.Fprintln(stderr, "budgetgate gate: the server's answer:", err)
		return exitError
	}
	if asJSON {
		stdout.Write(raw)
		fmt.Fprintln(stdout)
	} else {
		verdict := "ALLOWED"
		if !ans.Allowed {
			verdict = "BLOCKED"
		}
		fmt.Fprintf(stdout, "%s: %s: %s\n", verdict, ans.Project, ans.Reason)
		for _, v := range ans.Blocking {
			fmt.Fprintf(stdout, "  - %s/%s %s %.2f%% > %g (commit %s, violation %d)\n", v.Dimension, v.Variant, v.Metric, v.Delta, v.Limit, v.Commit, v.ID)
		}
		for _, v := range ans.Excepted {
			fmt.Fprintf(stdout, "  ~ %s/%s %s %.2f%%: covered by an exception\n", v.Dimension, v.Variant, v.Metric, v.Delta)
		}
		if ans.ProjectAt != "" {
			fmt.Fprintln(stdout, ans.ProjectAt)
		}
	}
	if !ans.Allowed {
		return exitBlocked
	}
	return exitOK
}
