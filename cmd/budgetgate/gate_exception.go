package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
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

// askSubject is what a request is asked about: a denied release or a
// blocked project.
type askSubject struct {
	what string         // how messages name it: "the release", "fleet-core"
	open map[string]any // the request's body, naming the decision or the analysis
	// find returns the pending or approved request already open for it.
	find func(ctx context.Context) (*exceptionReply, error)
	// recheck asks the gate again once the board approved, printing its
	// answer and returning the exit code it means.
	recheck func(ctx context.Context) int
}

// run opens (or finds) the request for the denied release and, with
// --wait, polls it until the board decides or the wait is over.
func (a *exceptionAsk) run(ctx context.Context, server string, rel errorbudget.Release, dec *errorbudget.Decision, asJSON bool, stdout, stderr io.Writer) int {
	return a.ask(ctx, server, askSubject{
		what: "the release",
		open: map[string]any{"decision_id": dec.ID},
		find: func(ctx context.Context) (*exceptionReply, error) { return findRequest(ctx, server, rel) },
		recheck: func(ctx context.Context) int {
			// The approval is recorded as a decision citing the exception,
			// with its conditions.
			_, code := evaluate(ctx, server, rel, asJSON, stdout, stderr)
			return code
		},
	}, asJSON, stdout, stderr)
}

// ask opens (or, without a reason, finds) the request for s and, with
// --wait, polls it until the board decides or the wait is over; once
// approved, the gate is asked again and has the last word.
func (a *exceptionAsk) ask(ctx context.Context, server string, s askSubject, asJSON bool, stdout, stderr io.Writer) int {
	// With --json, stdout carries only the server's JSON; progress goes to stderr.
	info := stdout
	if asJSON {
		info = stderr
	}
	var e exceptionReply
	if a.reason != "" {
		body := maps.Clone(s.open)
		body["reason"] = a.reason
		if a.expiry != "" {
			body["expiry"] = a.expiry
		}
		if _, err := postJSON(ctx, server+"/api/v1/exceptions", body, &e); err != nil {
			fmt.Fprintln(stderr, "budgetgate gate: requesting an exception:", err)
			return exitError
		}
		fmt.Fprintf(info, "CCB request %d is %s: %s/ccb/%d\n", e.ID, e.Status, strings.TrimSuffix(server, "/"), e.ID)
	} else {
		found, err := s.find(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "budgetgate gate:", err)
			return exitError
		}
		if found == nil {
			fmt.Fprintf(stderr, "budgetgate gate: no CCB request is open for %s; ask with --request-exception \"why\"\n", s.what)
			return exitBlocked
		}
		e = *found
		fmt.Fprintf(info, "Waiting on CCB request %d (%s): %s/ccb/%d\n", e.ID, e.Status, strings.TrimSuffix(server, "/"), e.ID)
	}
	if e.Status == ccb.ExceptionApproved {
		return s.recheck(ctx)
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
		fmt.Fprintf(info, "CCB request %d is still pending after %s; %s stays blocked\n", e.ID, a.wait, s.what)
		return exitBlocked
	}
	if e.Status != ccb.ExceptionApproved {
		fmt.Fprintf(info, "CCB request %d was %s%s; %s stays blocked\n", e.ID, e.Status, rejectionNote(e), s.what)
		return exitBlocked
	}
	return s.recheck(ctx)
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
