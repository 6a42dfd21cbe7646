package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// exceptionAsk is what gate does after a denial: open a CCB request and,
// with --wait, wait for the board.
type exceptionAsk struct {
	reason string
	expiry string
	wait   time.Duration
	// firstDelay is the first wait between polls (default 1s), doubling up
	// to 30s; the server's Retry-After is honoured when longer.
	firstDelay time.Duration
}

func (a *exceptionAsk) register(fs *flag.FlagSet) {
	fs.StringVar(&a.reason, "request-exception", "", "if denied, ask the CCB for an exception, giving this `reason`")
	fs.StringVar(&a.expiry, "expiry", "", "how long the exception is needed after approval, e.g. 24h or 3d (default the server's)")
	fs.DurationVar(&a.wait, "wait", 0, "if denied, wait up to this long for the CCB to decide (e.g. 30m); exit 0 approved, 1 rejected or expired")
}

// run opens (or finds) the request for the denied release and, with
// --wait, polls it until the board decides or the wait is over.
func (a *exceptionAsk) run(ctx context.Context, server string, rel errorbudget.Release, dec *errorbudget.Decision, asJSON bool, stdout, stderr io.Writer) int {
	// With --json, stdout carries only the server's JSON; progress goes to stderr.
	info := stdout
	if asJSON {
		info = stderr
	}
	var e exceptionReply
	if a.reason != "" {
		body := map[string]any{"decision_id": dec.ID, "reason": a.reason}
		if a.expiry != "" {
			body["expiry"] = a.expiry
		}
		if _, err := postJSON(ctx, server+"/api/v1/exceptions", body, &e); err != nil {
			fmt.Fprintln(stderr, "budgetgate gate: requesting an exception:", err)
			return exitError
		}
		fmt.Fprintf(info, "CCB request %d is %s: %s/ccb/%d\n", e.ID, e.Status, strings.TrimSuffix(server, "/"), e.ID)
	} else {
		found, err := findRequest(ctx, server, rel)
		if err != nil {
			fmt.Fprintln(stderr, "budgetgate gate:", err)
			return exitError
		}
		if found == nil {
			fmt.Fprintln(stderr, "budgetgate gate: no CCB request is open for this release; ask with --request-exception \"why\"")
			return exitBlocked
		}
		e = *found
		fmt.Fprintf(info, "Waiting on CCB request %d (%s)\n", e.ID, e.Status)
	}
	if a.wait <= 0 {
		return exitBlocked
	}
	e, err := pollException(ctx, server, e.ID, a.wait, cmp.Or(a.firstDelay, time.Second), stderr)
	if err != nil {
		fmt.Fprintln(stderr, "budgetgate gate:", err)
		return exitError
	}
	if e.Status == ccb.ExceptionPending {
		fmt.Fprintf(info, "CCB request %d is still pending after %s; the release stays blocked\n", e.ID, a.wait)
		return exitBlocked
	}
	if e.Status != ccb.ExceptionApproved {
		fmt.Fprintf(info, "CCB request %d was %s%s; the release stays blocked\n", e.ID, e.Status, rejectionNote(e))
		return exitBlocked
	}
	// Ask the gate again: the approval is recorded as a decision citing the
	// exception, with its conditions.
	_, code := evaluate(ctx, server, rel, asJSON, stdout, stderr)
	return code
}

func rejectionNote(e exceptionReply) string {
	for _, v := range e.Votes {
		if v.Decision == ccb.VoteReject {
			return fmt.Sprintf(" by %s: %s", v.Voter.Name, v.Comment)
		}
	}
	return ""
}

// findRequest returns the newest pending or approved request for the release.
func findRequest(ctx context.Context, server string, rel errorbudget.Release) (*exceptionReply, error) {
	var list struct {
		Exceptions []exceptionReply `json:"exceptions"`
	}
	q := url.Values{"service": {rel.Service}, "status": {"pending,approved"}, "kind": {"release"}}
	if _, err := getJSON(ctx, server+"/api/v1/exceptions?"+q.Encode(), &list); err != nil {
		return nil, fmt.Errorf("open CCB requests of %s: %w", rel.Service, err)
	}
	for _, e := range list.Exceptions {
		if e.Subject.Version == rel.Version {
			return &e, nil
		}
	}
	return nil, nil
}
