package handlers

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
)

// Policies handles GET /policies. ?service= chooses the policy the form
// starts from (the first service by default); ?done= and ?change= say what
// the last action did.
func (p *Pages) Policies(c echo.Context) error {
	ctx := c.Request().Context()
	ps, err := p.Store.Policies(ctx)
	if err != nil {
		return err
	}
	v, err := p.policiesView(c, ps)
	if err != nil {
		return err
	}
	v.Service = c.QueryParam("service")
	if !c.QueryParams().Has("service") && len(v.Services) > 0 {
		v.Service = v.Services[0]
	}
	if pol, ok := ps[v.Service]; ok {
		v.Draft = string(pol.Source)
	} else {
		v.Service = ""
	}
	v.Outcome = policyOutcome(c.QueryParam("done"), c.QueryParam("change"), v.Service, ps[v.Service])
	return Render(c, http.StatusOK, views.Policies(v))
}

// SavePolicyForm handles POST /policies: an SRE's draft is first shown as
// a diff against the policy in force (action=preview), then saved
// (action=save) through the review: at once, or pending review if it
// loosens a gate. A refused draft comes back with its text and the error.
func (p *Pages) SavePolicyForm(c echo.Context) error {
	ctx := c.Request().Context()
	// Browsers send a textarea's lines ending in CRLF; the policy is kept
	// with the newlines it was shown with, so that its diff is the edit.
	draft := strings.ReplaceAll(c.FormValue("policy"), "\r\n", "\n")
	pol, err := readPolicy(ctx, p.Store, "policy.yaml", "", []byte(draft))
	if err == nil {
		err = pol.FitsRetention(p.Retention)
	}
	if budgetgate.ErrorCode(err) == budgetgate.EINVALID {
		return p.refusedDraft(c, draft, err)
	} else if err != nil {
		return err
	}
	if c.FormValue("action") == "save" {
		out, err := (&app.PolicyReview{Store: p.Store}).Propose(ctx, pol, "dashboard", Requester(c))
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, outcomeURL(pol.Service, out))
	}
	ps, err := p.Store.Policies(ctx)
	if err != nil {
		return err
	}
	v, err := p.policiesView(c, ps)
	if err != nil {
		return err
	}
	v.Service, v.Draft, v.Preview = pol.Service, draft, previewOf(ps[pol.Service], pol)
	return Render(c, http.StatusOK, views.Policies(v))
}

func (p *Pages) refusedDraft(c echo.Context, draft string, problem error) error {
	ps, err := p.Store.Policies(c.Request().Context())
	if err != nil {
		return err
	}
	v, err := p.policiesView(c, ps)
	if err != nil {
		return err
	}
	v.Draft, v.Error = draft, problem.Error()
	return Render(c, http.StatusUnprocessableEntity, views.Policies(v))
}

// previewOf is what saving next over the policy in force would change.
func previewOf(current, next *errorbudget.Policy) *views.PolicyPreview {
	pv := &views.PolicyPreview{Service: next.Service, New: current == nil}
	if current == nil {
		return pv
	}
	pv.Same = current.Version == next.Version
	pv.Diff = views.LineDiff(string(current.Source), string(next.Source))
	pv.Loosens = errorbudget.Loosenings(current, next)
	return pv
}

// RestorePolicy handles POST /policies/:service/restore: an earlier
// version proposed again, reviewed like any change.
func (p *Pages) RestorePolicy(c echo.Context) error {
	service := c.Param("service")
	out, err := (&app.PolicyReview{Store: p.Store}).Restore(c.Request().Context(), service, c.FormValue("version"), Requester(c))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, outcomeURL(service, out))
}

// ReviewPolicyChange handles POST /policies/changes/:id: decision is
// approve or reject, comment is required to reject.
func (p *Pages) ReviewPolicyChange(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return budgetgate.FieldErrorf("id", "not a policy change id")
	}
	u, ok := CurrentUser(c)
	if !ok {
		return budgetgate.Errorf(budgetgate.EUNAUTHORIZED, "sign in first")
	}
	d := app.PolicyDecision{ChangeID: id, Comment: c.FormValue("comment")}
	switch c.FormValue("decision") {
	case "approve":
		d.Approve = true
	case "reject":
	default:
		return budgetgate.FieldErrorf("decision", "approve or reject")
	}
	ch, err := (&app.PolicyReview{Store: p.Store}).Decide(c.Request().Context(), d, u)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/policies?service=%s&done=%s&change=%d", url.QueryEscape(ch.Service), ch.Status, ch.ID))
}

// outcomeURL is where a saved change sends the browser: the policies
// page, saying what became of it.
func outcomeURL(service string, out app.PolicyOutcome) string {
	u := "/policies?service=" + url.QueryEscape(service)
	switch {
	case out.Change != nil:
		return fmt.Sprintf("%s&done=pending&change=%d#change-%d", u, out.Change.ID, out.Change.ID)
	case out.Changed:
		return u + "&done=saved"
	}
	return u + "&done=unchanged"
}

// policyOutcome is the line that says what the last action did; it names
// only what the server knows (the kind, a change number, the version in
// force), never text from the query.
func policyOutcome(done, change, service string, inForce *errorbudget.Policy) views.PolicyOutcome {
	id, _ := strconv.ParseInt(change, 10, 64)
	version := "the new version"
	if inForce != nil {
		version = service + "'s policy " + inForce.Version
	}
	switch done {
	case "saved":
		return views.PolicyOutcome{Kind: "saved", Title: "Saved", Message: version + " is in force."}
	case "unchanged":
		return views.PolicyOutcome{Kind: "unchanged", Title: "No change", Message: "that is already the policy in force."}
	case "pending":
		return views.PolicyOutcome{Kind: "pending", Title: "Pending review", Message: fmt.Sprintf(
			"change %d loosens the policy, so it takes effect only when another person with the sre or ccb role approves it. Until then %s governs.", id, version)}
	case "approved":
		return views.PolicyOutcome{Kind: "approved", Title: "Approved", Message: fmt.Sprintf("change %d is in force: %s.", id, version)}
	case "rejected":
		return views.PolicyOutcome{Kind: "rejected", Title: "Rejected", Message: fmt.Sprintf("change %d will not take effect.", id)}
	}
	return views.PolicyOutcome{}
}

// policiesView is the policies page without its form's text: every policy
// in force with its history, and the changes waiting for review.
func (p *Pages) policiesView(c echo.Context, ps map[string]*errorbudget.Policy) (views.PoliciesView, error) {
	ctx, now := c.Request().Context(), p.Now()
	v := views.PoliciesView{Page: PageOf(c, "Policies", "policies"), Services: slices.Sorted(maps.Keys(ps))}
	var err error
	if v.Pending, err = p.pendingChanges(c, ""); err != nil {
		return v, err
	}
	waiting := map[string]int64{}
	for _, ch := range v.Pending {
		waiting[ch.Service] = ch.ID
	}
	for _, name := range v.Services {
		history, err := p.Store.PolicyHistory(ctx, name)
		if err != nil {
			return v, err
		}
		row := views.PolicyRow{Policy: ps[name], Pending: waiting[name]}
		row.History, row.Reviews = policyRows(ps[name], history, now)
		v.Policies = append(v.Policies, row)
	}
	return v, nil
}

// pendingChanges are the changes waiting for review (of service, or of
// every service), with whether the reader may decide each.
func (p *Pages) pendingChanges(c echo.Context, service string) ([]views.PolicyChangeRow, error) {
	changes, err := p.Store.PolicyChanges(c.Request().Context(), app.PolicyChangeFilter{Service: service, Status: app.PolicyChangePending})
	if err != nil {
		return nil, err
	}
	u, signedIn := CurrentUser(c)
	rows := make([]views.PolicyChangeRow, 0, len(changes))
	for _, ch := range changes {
		row := views.PolicyChangeRow{ID: ch.ID, Service: ch.Service, Version: ch.Version, BaseVersion: ch.BaseVersion, Origin: ch.Origin,
			Loosens: ch.Loosens, Author: ch.Author.Name, CreatedAt: ch.CreatedAt, Diff: views.LineDiff(string(ch.BaseSource), string(ch.Source))}
		if signedIn {
			why := app.MayReview(ch, u)
			row.CanDecide = why == nil
			if why != nil {
				row.WhyNot = sentence(budgetgate.ErrorMessage(why))
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// sentence capitalises an error message to stand alone on a page.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// pendingChangeOf is the change waiting for service, for its page; nil if none.
func (p *Pages) pendingChangeOf(c echo.Context, service string) (*views.PolicyChangeRow, error) {
	rows, err := p.pendingChanges(c, service)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}
