package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/variant"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
)

// CCBStore is what the change-control board's API and pages need.
type CCBStore interface {
	Idempotent(ctx context.Context, idem *app.Idempotency, write func(tx app.Tx) (app.Reply, error)) (app.Reply, bool, error)
	Exception(ctx context.Context, id int64) (*ccb.Exception, error)
	Exceptions(ctx context.Context, f app.ExceptionFilter) ([]*ccb.Exception, error)
	// UsersWithRole lists who held role at their last sign-in.
	UsersWithRole(ctx context.Context, role budgetgate.Role) ([]budgetgate.User, error)
}

// VariantSubjectFunc fills a variant request's subject and evidence from
// the analysis it names. The variant-budget side provides it; until then
// variant requests are refused with a clear message.
type VariantSubjectFunc func(ctx context.Context, analysisID int64) (ccb.ExceptionSubject, ccb.ExceptionEvidence, error)

// CCB serves exception requests: the API CI uses and the board's pages.
type CCB struct {
	Store          CCBStore
	Board          *app.Board
	Now            func() time.Time
	VariantSubject VariantSubjectFunc // nil until variant budgets land
}

// exceptionRequestBody is the body of POST /api/v1/exceptions.
type exceptionRequestBody struct {
	DecisionID int64                `json:"decision_id"`
	AnalysisID int64                `json:"analysis_id"`
	Reason     string               `json:"reason"`
	Expiry     string               `json:"expiry"`
	Plan       *ccb.RefactoringPlan `json:"refactoring_plan"`
}

// exceptionJSON is a request as the API shows it: with its current expiry
// (end of the wait while pending, end of the approval once approved).
type exceptionJSON struct {
	*ccb.Exception
	Expiry          *time.Time `json:"expiry"`
	RequestedExpiry string     `json:"requested_expiry"`
}

func toJSON(e *ccb.Exception) exceptionJSON {
	return exceptionJSON{Exception: e, Expiry: e.Expiry(), RequestedExpiry: ccb.FormatExpiry(e.RequestedExpiry)}
}

// request builds the domain request from what the client sent.
func (h *CCB) request(ctx context.Context, b exceptionRequestBody) (ccb.ExceptionRequest, error) {
	req := ccb.ExceptionRequest{Reason: b.Reason, Expiry: b.Expiry, Plan: b.Plan}
	switch {
	case b.DecisionID != 0 && b.AnalysisID != 0:
		return req, budgetgate.FieldErrorf("decision_id", "give decision_id or analysis_id, not both")
	case b.DecisionID > 0:
		req.Kind = ccb.ExceptionRelease
		req.Subject.DecisionID = b.DecisionID
	case b.AnalysisID > 0:
		if h.VariantSubject == nil {
			return req, budgetgate.FieldErrorf("analysis_id", "variant exceptions are not available on this server yet")
		}
		req.Kind = ccb.ExceptionVariant
		var err error
		if req.Subject, req.Evidence, err = h.VariantSubject(ctx, b.AnalysisID); err != nil {
			return req, err
		}
		req.Subject.AnalysisID = b.AnalysisID
	default:
		return req, budgetgate.FieldErrorf("decision_id", "required: the id of the denied decision (or analysis_id for a blocked analysis)")
	}
	return req, nil
}

// PostException handles POST /api/v1/exceptions: 201 with a new request, or
// 200 with the request already open for the same release. A retry with the
// same Idempotency-Key gets the first answer again.
func (h *CCB) PostException(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var b exceptionRequestBody
	if err := decodeStrict(body, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	req, err := h.request(ctx, b)
	if err != nil {
		return err
	}
	idem, err := idempotency(c, "exceptions", body)
	if err != nil {
		return err
	}
	requester := Requester(c)
	r, replayed, err := h.Store.Idempotent(ctx, idem, func(tx app.Tx) (app.Reply, error) {
		e, created, err := h.Board.OpenIn(ctx, tx, req, requester)
		if err != nil {
			return app.Reply{}, err
		}
		out, err := json.Marshal(toJSON(e))
		return app.Reply{Body: out, Created: created}, err
	})
	if err != nil {
		return err
	}
	// The headers follow from the answer, which a replay only has as JSON.
	var e struct {
		ID     int64               `json:"id"`
		Status ccb.ExceptionStatus `json:"status"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return err
	}
	c.Response().Header().Set("Location", fmt.Sprintf("/api/v1/exceptions/%d", e.ID))
	if e.Status == ccb.ExceptionPending {
		setRetryAfter(c)
	}
	status := http.StatusOK
	if r.Created {
		status = http.StatusCreated
	}
	return replyJSON(c, status, r, replayed)
}

func setRetryAfter(c echo.Context) {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(ccb.PollInterval/time.Second)))
}

func exceptionID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, budgetgate.Errorf(budgetgate.ENOTFOUND, "no CCB request %q", c.Param("id"))
	}
	return id, nil
}

// GetException handles GET /api/v1/exceptions/:id. A pending request
// carries Retry-After, which waiting clients honour.
func (h *CCB) GetException(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	e, err := h.Store.Exception(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if e.Status == ccb.ExceptionPending {
		setRetryAfter(c)
	}
	return c.JSON(http.StatusOK, toJSON(e))
}

// ListExceptions handles GET /api/v1/exceptions?status=pending&service=S
// (or &project=P for a project's variant requests).
func (h *CCB) ListExceptions(c echo.Context) error {
	f := app.ExceptionFilter{Service: c.QueryParam("service"), Project: c.QueryParam("project"), Kind: c.QueryParam("kind"), Limit: 200}
	if f.Service != "" && !errorbudget.ValidServiceName(f.Service) {
		return budgetgate.FieldErrorf("service", "%q is not a service name", f.Service)
	}
	if f.Project != "" && !variant.ValidProjectName(f.Project) {
		return budgetgate.FieldErrorf("project", "%q is not a project name", f.Project)
	}
	if f.Kind != "" && f.Kind != ccb.ExceptionRelease && f.Kind != ccb.ExceptionVariant {
		return budgetgate.FieldErrorf("kind", "want release or variant, got %q", f.Kind)
	}
	if s := c.QueryParam("status"); s != "" {
		for _, one := range strings.Split(s, ",") {
			switch st := ccb.ExceptionStatus(one); st {
			case ccb.ExceptionPending, ccb.ExceptionApproved, ccb.ExceptionRejected, ccb.ExceptionExpired, ccb.ExceptionCancelled:
				f.Statuses = append(f.Statuses, st)
			default:
				return budgetgate.FieldErrorf("status", "unknown status %q", one)
			}
		}
	}
	list, err := h.Store.Exceptions(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]exceptionJSON, len(list))
	for i, e := range list {
		out[i] = toJSON(e)
	}
	return c.JSON(http.StatusOK, map[string]any{"exceptions": out})
}

// CancelExceptionAPI handles POST /api/v1/exceptions/:id/cancel: the token
// that opened a request may withdraw it. The body is empty or {}: anything
// else is refused rather than ignored, so that a client that thinks it is
// sending something learns that it is not.
func (h *CCB) CancelExceptionAPI(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeStrict(body, &struct{}{}); err != nil {
			return err
		}
	}
	u, _ := CurrentUser(c)
	e, err := h.Board.Cancel(c.Request().Context(), id, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(e))
}

// PutPlan handles PUT /api/v1/exceptions/:id/plan with {"steps": [...], "target_date": "YYYY-MM-DD"}.
func (h *CCB) PutPlan(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var plan ccb.RefactoringPlan
	if err := decodeStrict(body, &plan); err != nil {
		return err
	}
	e, err := h.Board.SetPlan(c.Request().Context(), id, plan, Requester(c))
	if err != nil {
		// The body is the plan: its fields are named from there.
		if de, ok := err.(*budgetgate.Error); ok {
			de.Field = strings.TrimPrefix(de.Field, "refactoring_plan.")
		}
		return err
	}
	return c.JSON(http.StatusOK, toJSON(e))
}

// Queue handles GET /ccb.
func (h *CCB) Queue(c echo.Context) error {
	return h.renderQueue(c, http.StatusOK, views.NewRequestForm{DecisionID: c.QueryParam("decision_id")}, "")
}

func (h *CCB) renderQueue(c echo.Context, status int, form views.NewRequestForm, formErr string) error {
	ctx := c.Request().Context()
	pending, err := h.Store.Exceptions(ctx, app.ExceptionFilter{Statuses: []ccb.ExceptionStatus{ccb.ExceptionPending}})
	if err != nil {
		return err
	}
	decided, err := h.Store.Exceptions(ctx, app.ExceptionFilter{Statuses: []ccb.ExceptionStatus{
		ccb.ExceptionApproved, ccb.ExceptionRejected, ccb.ExceptionExpired, ccb.ExceptionCancelled}, Limit: 50})
	if err != nil {
		return err
	}
	// Oldest first: the request closest to expiring is the most urgent.
	for i, j := 0, len(pending)-1; i < j; i, j = i+1, j-1 {
		pending[i], pending[j] = pending[j], pending[i]
	}
	lim := h.Board.Rules.Expiry[ccb.ExceptionRelease]
	u, _ := CurrentUser(c)
	now := h.Now()
	return Render(c, status, views.CCBQueue(views.CCBQueueView{
		Page: PageOf(c, "CCB queue", "ccb"), Now: now, Pending: pending, Decided: decided, Form: form, Error: formErr,
		Marks:         views.QueueMarks(u, now, pending, decided),
		DefaultExpiry: ccb.FormatExpiry(lim.Default), MaxExpiry: ccb.FormatExpiry(lim.Max),
	}))
}

// NewRequest handles POST /ccb: a signed-in user asks the board about a
// denied release from the dashboard.
func (h *CCB) NewRequest(c echo.Context) error {
	if c.FormValue("analysis_id") != "" {
		return h.newVariantRequest(c)
	}
	form := views.NewRequestForm{DecisionID: strings.TrimSpace(c.FormValue("decision_id")), Reason: c.FormValue("reason"), Expiry: strings.TrimSpace(c.FormValue("expiry"))}
	id, err := strconv.ParseInt(strings.TrimPrefix(form.DecisionID, "#"), 10, 64)
	if err != nil || id <= 0 {
		return h.renderQueue(c, http.StatusUnprocessableEntity, form, "Decision number: give the number of a denied decision, such as 42.")
	}
	e, _, err := h.Board.Open(c.Request().Context(), ccb.ExceptionRequest{
		Kind: ccb.ExceptionRelease, Subject: ccb.ExceptionSubject{DecisionID: id}, Reason: form.Reason, Expiry: form.Expiry,
	}, Actor(c))
	if err != nil {
		if status, msg, ok := formError(err); ok {
			return h.renderQueue(c, status, form, msg)
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ccb/%d", e.ID))
}

// newVariantRequest opens a request for a blocked analysis from a
// project's page or the violations list (form fields analysis_id and
// reason), and shows it; a refusal is shown on the queue page.
func (h *CCB) newVariantRequest(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.NewRequestForm{Reason: c.FormValue("reason")}
	refuse := func(err error) error {
		if status, msg, ok := formError(err); ok {
			return h.renderQueue(c, status, form, "Asking about analysis "+c.FormValue("analysis_id")+": "+msg)
		}
		return err
	}
	id, err := strconv.ParseInt(c.FormValue("analysis_id"), 10, 64)
	if err != nil || id <= 0 {
		return refuse(budgetgate.FieldErrorf("analysis_id", "want the number of a blocked analysis, got %q", c.FormValue("analysis_id")))
	}
	req, err := h.request(ctx, exceptionRequestBody{AnalysisID: id, Reason: form.Reason})
	if err != nil {
		return refuse(err)
	}
	e, _, err := h.Board.Open(ctx, req, Actor(c))
	if err != nil {
		return refuse(err)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ccb/%d", e.ID))
}

// formError turns a refusal the user can act on into a status and a message
// to show beside the form; other errors go to the error page.
func formError(err error) (int, string, bool) {
	code := budgetgate.ErrorCode(err)
	switch code {
	case budgetgate.EINVALID, budgetgate.ECONFLICT, budgetgate.EFORBIDDEN, budgetgate.ENOTFOUND:
	default:
		return 0, "", false
	}
	status := StatusOf(code)
	msg := budgetgate.ErrorMessage(err)
	if f := budgetgate.ErrorField(err); f != "" {
		msg = strings.ReplaceAll(f, "_", " ") + ": " + msg
	}
	return status, msg, true
}

// Request handles GET /ccb/:id.
func (h *CCB) Request(c echo.Context) error {
	return h.renderRequest(c, http.StatusOK, nil, func(v *views.CCBRequestView) {
		if c.QueryParam("saved") != "" {
			v.Notice = "Saved: the board now reads your reason and plan."
		}
	})
}

// renderRequest shows request e (read by id when nil) to the signed-in
// user; with changes a refused form is shown again with what was typed.
func (h *CCB) renderRequest(c echo.Context, status int, e *ccb.Exception, with func(*views.CCBRequestView)) error {
	ctx := c.Request().Context()
	if e == nil {
		id, err := exceptionID(c)
		if err != nil {
			return err
		}
		if e, err = h.Store.Exception(ctx, id); err != nil {
			return err
		}
	}
	members, err := h.Store.UsersWithRole(ctx, budgetgate.RoleCCB)
	if err != nil {
		return err
	}
	now := h.Now()
	u, _ := CurrentUser(c)
	v := views.CCBRequestView{Page: PageOf(c, fmt.Sprintf("Request %d", e.ID), "ccb"), Now: now, E: e,
		Variant: views.VariantEvidenceOf(e), Members: len(members), Edit: views.EditFormOf(e)}
	for _, m := range e.MayStillVote(members, now) {
		v.MayStillVote = append(v.MayStillVote, m.Name)
	}
	probe := *e // the checks settle their receiver; the page shows e as loaded
	if err := probe.CanVote(u, now); err != nil {
		v.VoteBlocked = budgetgate.ErrorMessage(err)
		if e.Status == ccb.ExceptionPending {
			if prior, ok := e.VoteOf(u.Actor()); ok {
				v.VoteBlocked = "You voted to " + prior.Decision + " this request."
			}
		}
	}
	if err := e.ApprovalBlocked(); err != nil {
		v.ApproveBlocked = budgetgate.ErrorMessage(err)
	}
	v.CanCancel = e.CanCancel(u) == nil
	v.CanEdit = u.Subject != "" && probe.CanEdit(u.Actor(), now) == nil
	v.CanRevoke = probe.CanRevoke(u, now) == nil
	with(&v)
	return Render(c, status, views.CCBRequest(v))
}

// Edit handles POST /ccb/:id/edit: the requester's reason and plan, the
// plan's steps one a line. A refused edit shows the form again with what
// was typed and why.
func (h *CCB) Edit(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	form := views.EditForm{Reason: c.FormValue("reason"), Steps: c.FormValue("plan_steps"), TargetDate: strings.TrimSpace(c.FormValue("plan_target"))}
	var plan *ccb.RefactoringPlan
	if steps := planSteps(form.Steps); len(steps) > 0 || form.TargetDate != "" {
		plan = &ccb.RefactoringPlan{Steps: steps, TargetDate: form.TargetDate}
	}
	u, _ := CurrentUser(c)
	if _, err := h.Board.Edit(c.Request().Context(), id, form.Reason, plan, u.Actor()); err != nil {
		if status, msg, ok := formError(err); ok && status != http.StatusNotFound {
			return h.renderRequest(c, status, nil, func(v *views.CCBRequestView) { v.Edit, v.EditError = form, msg })
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ccb/%d?saved=1", id))
}

// planSteps splits the typed steps, one a line, dropping blank lines.
func planSteps(text string) []string {
	var steps []string
	for _, line := range strings.Split(text, "\n") {
		if s := strings.TrimSpace(line); s != "" {
			steps = append(steps, s)
		}
	}
	return steps
}

// Revoke handles POST /ccb/:id/revoke with revoke_reason: a CCB member
// ends an approved exception early.
func (h *CCB) Revoke(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	if _, err := h.Board.Revoke(c.Request().Context(), id, u, c.FormValue("revoke_reason")); err != nil {
		if status, msg, ok := formError(err); ok && status != http.StatusNotFound {
			return h.renderRequest(c, status, nil, func(v *views.CCBRequestView) { v.RevokeError = msg })
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ccb/%d", id))
}

// Vote handles POST /ccb/:id/votes with decision=approve|reject and comment.
// A refused vote shows the request again with the reason and the status
// (403, 409 or 422), keeping what was typed.
func (h *CCB) Vote(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	form := views.VoteForm{Decision: c.FormValue("decision"), Comment: c.FormValue("comment")}
	u, _ := CurrentUser(c)
	_, err = h.Board.Vote(c.Request().Context(), id, u, form.Decision, form.Comment)
	if err != nil {
		if status, msg, ok := formError(err); ok && status != http.StatusNotFound {
			return h.renderRequest(c, status, nil, func(v *views.CCBRequestView) { v.Form, v.Error = form, msg })
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ccb/%d", id))
}

// Cancel handles POST /ccb/:id/cancel.
func (h *CCB) Cancel(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	if _, err := h.Board.Cancel(c.Request().Context(), id, u); err != nil {
		if status, msg, ok := formError(err); ok && status != http.StatusNotFound {
			return h.renderRequest(c, status, nil, func(v *views.CCBRequestView) { v.Error = msg })
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ccb/%d", id))
}
