package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
)

// postAnswer is what analyze --post reads of the server's answer; the rest
// of it (every figure again) is for scripts that call the API themselves.
type postAnswer struct {
	AnalysisID int64  `json:"analysis_id"`
	Status     string `json:"status"`
	URL        string `json:"url"`
	CCBRequest *struct {
		ID  int64  `json:"id"`
		URL string `json:"url"`
	} `json:"ccb_request"`
}

// postAnalysis posts the analysis (with the branch CI built) to the server
// and returns its answer.
func postAnalysis(ctx context.Context, base string, a *variant.Analysis, branch string) (*postAnswer, error) {
	body, err := json.Marshal(struct {
		*variant.Analysis
		Branch string `json:"branch,omitempty"`
	}{a, branch})
	if err != nil {
		return nil, err
	}
	raw, _, err := apiCall(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/api/v1/budget/analyze", body)
	if err != nil {
		return nil, err
	}
	var ans postAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, fmt.Errorf("the server's answer: %w", err)
	}
	ans.Status = cmp.Or(ans.Status, a.Status)
	return &ans, nil
}

// requestURL is the CCB request's link, "" without one (or without an answer).
func (p *postAnswer) requestURL() string {
	if p == nil || p.CCBRequest == nil {
		return ""
	}
	return p.CCBRequest.URL
}

// writePostSummary tells CI's log what the server made of the analysis in
// a few lines: the verdict, what fails (failures first), the files that
// put a variant over (each once) and the CCB request's link.
func writePostSummary(w io.Writer, a *variant.Analysis, p *postAnswer) {
	fmt.Fprintf(w, "budgetgate: %s is %s on the server (analysis %d)\n", header(a), statusLabel(p.Status), p.AnalysisID)
	if p.Status == variant.AnalysisPass || p.Status == variant.AnalysisWarn {
		if p.URL != "" {
			fmt.Fprintf(w, "Project: %s\n", p.URL)
		}
		return
	}
	for _, v := range failuresFirst(a.Violations) {
		measured, lim, change := violationFigures(v)
		if change != "-" {
			lim += " (" + change + ")"
		}
		fmt.Fprintf(w, "  %-10s %s/%s %s: %s, over %s\n", statusLabel(v.Status), v.Dimension, v.Variant, v.Metric, measured, lim)
	}
	if files, _ := variant.SplitFailing(a.FilesOver()); len(files) > 0 {
		fmt.Fprintln(w, "Files that put a variant over (moving one into core):")
		for _, f := range files {
			fmt.Fprintf(w, "  %s: %s\n", f.Path, fileMoves(f))
		}
	}
	switch {
	case p.CCBRequest != nil:
		fmt.Fprintf(w, "CCB request: %s (add the refactoring plan there)\n", p.CCBRequest.URL)
	case p.URL != "":
		fmt.Fprintf(w, "Project: %s\n", p.URL)
	}
}

// wait returns the exit code of a posted analysis: 0 unless blocked; with
// a wait, a blocked analysis's CCB request is polled until decided.
func (p *postAnswer) wait(ctx context.Context, base string, wait time.Duration, w io.Writer) int {
	if p.Status != variant.AnalysisBlocked {
		return exitOK
	}
	if p.CCBRequest == nil || wait <= 0 {
		return exitBlocked
	}
	id := p.CCBRequest.ID
	e, err := pollException(ctx, strings.TrimRight(base, "/"), id, wait, 2*time.Second, w)
	switch {
	case err != nil:
		fmt.Fprintf(w, "budgetgate analyze: --wait: %v\n", err)
		return exitError
	case e.Status == ccb.ExceptionApproved:
		fmt.Fprintf(w, "CCB request %d approved: the change may merge\n", id)
		return exitOK
	case e.Status == ccb.ExceptionPending:
		fmt.Fprintf(w, "CCB request %d still pending after %s: the change stays blocked\n", id, wait)
		return exitBlocked
	}
	fmt.Fprintf(w, "CCB request %d %s%s: the change stays blocked\n", id, e.Status, rejectionNote(e))
	return exitBlocked
}
