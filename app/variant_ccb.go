package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
)

// CCBVariantStore is what the variant side needs of CCB exceptions.
type CCBVariantStore interface {
	Exceptions(ctx context.Context, f ExceptionFilter) ([]*ccb.Exception, error)
	VariantException(ctx context.Context, s ccb.ExceptionSubject, value float64) (*ccb.Exception, error)
	AnalysisByID(ctx context.Context, id int64) (*variant.ProjectAnalysis, error)
}

// CCBVariants connects variant budgets to the CCB: it opens a request for a
// blocked analysis, tells which violations approved exceptions cover, and
// fills a variant request's subject from its analysis.
type CCBVariants struct {
	Store  CCBVariantStore
	Rules  ccb.CCBRules
	Notify CCBNotify
}

// Covered implements ExceptionCover.
func (c *CCBVariants) Covered(ctx context.Context, project string, vs []variant.Violation) ([]bool, error) {
	out := make([]bool, len(vs))
	for i, v := range vs {
		e, err := c.Store.VariantException(ctx, ccb.ExceptionSubject{Project: project, Dimension: v.Dimension, Variant: v.Variant, Metric: v.Metric}, v.Delta)
		if err != nil {
			return nil, err
		}
		out[i] = e != nil
	}
	return out, nil
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
	var failed []string
	for _, v := range a.Violations {
		failed = append(failed, fmt.Sprintf("%s/%s %s %.2f%% (limit %.2f)", v.Dimension, v.Variant, v.Metric, v.Delta, v.Limit))
	}
	req := ccb.ExceptionRequest{Kind: ccb.ExceptionVariant, Subject: subject, Evidence: evidence,
		Reason: fmt.Sprintf("Opened automatically: %s at %s is over its variant budget: %s.", project, commit, strings.Join(failed, "; "))}
	board := Board{Rules: c.Rules, Notify: c.Notify}
	e, _, err := board.OpenIn(ctx, tx, req, actor)
	if err != nil {
		return 0, "", err
	}
	return e.ID, fmt.Sprintf("%s/ccb/%d", strings.TrimSuffix(c.Notify.BaseURL, "/"), e.ID), nil
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
