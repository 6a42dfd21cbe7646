package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
)

// CCBVariantStore is what the variant side needs of CCB exceptions.
type CCBVariantStore interface {
	Exceptions(ctx context.Context, f ExceptionFilter) ([]*ccb.Exception, error)
	AnalysisByID(ctx context.Context, id int64) (*variant.ProjectAnalysis, error)
}

// CCBVariants connects variant budgets to the CCB: it opens a request for a
// blocked analysis, tells which violations approved exceptions cover, and
// fills a variant request's subject from its analysis.
type CCBVariants struct {
	Store  CCBVariantStore
	Rules  ccb.CCBRules
	Notify CCBNotify
	Now    func() time.Time // the clock exceptions expire by; nil: time.Now
}

// Covered implements ExceptionCover: the project's approved exceptions are
// read and indexed once, so that the check is linear in the violations
// and the exceptions' lists together.
func (c *CCBVariants) Covered(ctx context.Context, project string, vs []variant.Violation) ([]bool, error) {
	list, err := c.Store.Exceptions(ctx, ExceptionFilter{Kind: ccb.ExceptionVariant, Project: project,
		Statuses: []ccb.ExceptionStatus{ccb.ExceptionApproved}})
	if err != nil {
		return nil, err
	}
	cover := ccb.NewVariantCover(list, project, c.now())
	out := make([]bool, len(vs))
	for i, v := range vs {
		out[i] = cover.Covers(v.Dimension, v.Variant, v.Metric, v.Delta)
	}
	return out, nil
}

func (c *CCBVariants) now() time.Time {
	if c.Now == nil {
		return time.Now().UTC()
	}
	return c.Now().UTC()
}

// OpenForAnalysis implements CCBRequester: one request for the blocked
// analysis, written in the transaction that stores it. Its reason says what
// failed; the requester adds the refactoring plan the board needs before it
// can approve.
func (c *CCBVariants) OpenForAnalysis(ctx context.Context, tx Tx, project, commit string, analysisID int64, a *variant.Analysis, actor budgetgate.Actor) (int64, string, error) {
	subject, evidence, err := ccb.VariantExceptionFor(project, commit, analysisID, a)
	if err != nil {
		return 0, "", err
	}
	failed := make([]string, len(a.Violations))
	for i, v := range a.Violations {
		failed[i] = violationWords(v)
	}
	// The reason is held to the limit a person's is: the violations worst
	// first (as the analysis orders them), as many as fit, then how many
	// more; the evidence carries them all.
	intro := fmt.Sprintf("Opened automatically: %s at %s is over its variant budget: ", project, ccb.ShortCommit(commit))
	room := ccb.MaxReasonChars - utf8.RuneCountInString(intro) - 1
	req := ccb.ExceptionRequest{Kind: ccb.ExceptionVariant, Subject: subject, Evidence: evidence,
		Reason: intro + budgetgate.Summarize(failed, room) + "."}
	board := Board{Rules: c.Rules, Notify: c.Notify}
	e, _, err := board.OpenIn(ctx, tx, req, actor)
	if err != nil {
		return 0, "", err
	}
	return e.ID, fmt.Sprintf("%s/ccb/%d", strings.TrimSuffix(c.Notify.BaseURL, "/"), e.ID), nil
}

// violationWords says what a violation measured against the limit it
// broke: a level against a hard limit, or a change in percentage points
// against a trend limit (never a level against a trend limit).
func violationWords(v variant.Violation) string {
	if v.Status == variant.VariantTrendFail && v.ChangePP != nil {
		return fmt.Sprintf("%s/%s %s grew %+.2f pp (trend limit %+.2f pp)", v.Dimension, v.Variant, v.Metric, *v.ChangePP, v.Limit)
	}
	return fmt.Sprintf("%s/%s %s %.2f%% (hard limit %.2f%%)", v.Dimension, v.Variant, v.Metric, v.Delta, v.Limit)
}

// VariantSubject fills a variant request opened through the API from the
// analysis it names.
func (c *CCBVariants) VariantSubject(ctx context.Context, analysisID int64) (ccb.ExceptionSubject, ccb.ExceptionEvidence, error) {
	pa, err := c.Store.AnalysisByID(ctx, analysisID)
	if err != nil {
		if budgetgate.ErrorCode(err) == budgetgate.ENOTFOUND {
			return ccb.ExceptionSubject{}, ccb.ExceptionEvidence{}, &budgetgate.Error{Code: budgetgate.ENOTFOUND, Field: "analysis_id", Message: budgetgate.ErrorMessage(err)}
		}
		return ccb.ExceptionSubject{}, ccb.ExceptionEvidence{}, err
	}
	if pa.Analysis == nil {
		return ccb.ExceptionSubject{}, ccb.ExceptionEvidence{}, budgetgate.FieldErrorf("analysis_id", "analysis %d has no document", analysisID)
	}
	return ccb.VariantExceptionFor(pa.Project, pa.Commit, pa.ID, pa.Analysis)
}

// ProjectExceptions lists a project's variant exceptions, for the project
// page's refactoring plans.
func (c *CCBVariants) ProjectExceptions(ctx context.Context, project string) ([]*ccb.Exception, error) {
	return c.Store.Exceptions(ctx, ExceptionFilter{Kind: ccb.ExceptionVariant, Project: project, Limit: 50})
}
