package handlers

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/a-h/templ"
	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
)

// PageStore is what the dashboard's budget pages read.
type PageStore interface {
	AllMetrics(ctx context.Context, now time.Time) ([]errorbudget.ServiceMetrics, error)
	ServiceMetrics(ctx context.Context, service string, now time.Time) (errorbudget.ServiceMetrics, *errorbudget.Policy, error)
	HourlySLI(ctx context.Context, service, slo string, from, to time.Time) ([]app.SLIPoint, error)
	Decisions(ctx context.Context, service string, limit int) ([]*errorbudget.Decision, error)
	DecisionsPage(ctx context.Context, service string, before int64, limit int) ([]*errorbudget.Decision, error)
	Notifications(ctx context.Context, subject string, limit int) ([]app.Notification, error)
	SLONotifications(ctx context.Context, service, slo string, limit int) ([]app.Notification, error)
	PolicyHistory(ctx context.Context, service string) ([]app.PolicyVersion, error)
	Policies(ctx context.Context) (map[string]*errorbudget.Policy, error)
	PolicyChanges(ctx context.Context, f app.PolicyChangeFilter) ([]*app.PolicyChange, error)
	app.PolicyReviewStore
	Exceptions(ctx context.Context, f app.ExceptionFilter) ([]*ccb.Exception, error)
}

// Pages serves the server-rendered dashboard.
type Pages struct {
	Store     PageStore
	Now       func() time.Time
	Retention time.Duration // SLI retention: a policy's window must fit in it
	// Projects gives the overview's projects part; nil leaves it empty.
	Projects func(ctx context.Context) ([]views.ProjectSummary, error)
	// Pulls is the progress of SLIs pulled from Prometheus; nil for none.
	Pulls PullProgress
}

// Render renders a component into a buffer first, so that a failure becomes
// an error page rather than half a page.
func Render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// PageOf is the layout of any page: title, section, and who is signed in.
func PageOf(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, CSRF: CSRFToken(c)}
	if u, ok := CurrentUser(c); ok {
		p.User, p.Admin, p.SRE = u.Name, u.Has(budgetgate.RoleAdmin), u.Has(budgetgate.RoleSRE)
	}
	return p
}

// Overview handles GET /.
func (p *Pages) Overview(c echo.Context) error {
	now := p.Now()
	ms, err := p.Store.AllMetrics(c.Request().Context(), now)
	if err != nil {
		return err
	}
	pending, err := p.Store.Exceptions(c.Request().Context(), app.ExceptionFilter{Statuses: []ccb.ExceptionStatus{ccb.ExceptionPending}, Limit: 20})
	if err != nil {
		return err
	}
	v := views.OverviewView{Page: PageOf(c, "Overview", "overview"), Now: now, Services: worstOf(ms), PendingCCB: pending}
	if p.Projects != nil {
		if v.Projects, err = p.Projects(c.Request().Context()); err != nil {
			return err
		}
	}
	return Render(c, http.StatusOK, views.Overview(v))
}

// Service handles GET /services/:service.
func (p *Pages) Service(c echo.Context) error {
	ctx, now, name := c.Request().Context(), p.Now(), c.Param("service")
	span, ranges, err := chartRange(c, "charts")
	if err != nil {
		return err
	}
	sm, pol, err := p.Store.ServiceMetrics(ctx, name, now)
	if err != nil {
		return err
	}
	m := sm.Metrics
	slo, err := pol.ResolveSLO(m.SLO)
	if err != nil {
		return err
	}
	notes, err := p.Store.Notifications(ctx, name, 20)
	if err != nil {
		return err
	}
	history, err := p.Store.PolicyHistory(ctx, name)
	if err != nil {
		return err
	}
	ch, err := p.charts(ctx, name, slo, m, history, now, span)
	if err != nil {
		return err
	}
	v := views.ServiceView{
		Page: PageOf(c, name, "overview"), Now: now, Metrics: m, SLOs: sm.SLOs, Policy: pol,
		Chart: ch.burnDown, BurnChart: ch.burnRate, Ranges: ranges, Notifications: notificationRows(notes),
	}
	if v.Decisions, v.DecisionPager, err = p.decisionPage(c, name); err != nil {
		return err
	}
	v.History, v.Reviews = policyRows(pol, history, now)
	if v.PendingPolicy, err = p.pendingChangeOf(c, name); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Service(v))
}

// SLO handles GET /services/:service/slos/:slo.
func (p *Pages) SLO(c echo.Context) error {
	ctx, now, name := c.Request().Context(), p.Now(), c.Param("service")
	span, ranges, err := chartRange(c, "charts")
	if err != nil {
		return err
	}
	sm, pol, err := p.Store.ServiceMetrics(ctx, name, now)
	if err != nil {
		return err
	}
	slo, err := pol.ResolveSLO(c.Param("slo"))
	if err != nil {
		return err
	}
	i := slices.IndexFunc(sm.SLOs, func(m errorbudget.Metrics) bool { return m.SLO == slo.Name })
	if i < 0 {
		return budgetgate.Errorf(budgetgate.EINTERNAL, "no figures for SLO %s of %s", slo.Name, name)
	}
	notes, err := p.Store.SLONotifications(ctx, name, slo.Name, 20)
	if err != nil {
		return err
	}
	history, err := p.Store.PolicyHistory(ctx, name)
	if err != nil {
		return err
	}
	ch, err := p.charts(ctx, name, slo, sm.SLOs[i], history, now, span)
	if err != nil {
		return err
	}
	v := views.SLOView{
		Page: PageOf(c, name+" / "+slo.Name, "overview"), Now: now, Metrics: sm.SLOs[i], SLO: slo, Policy: pol,
		Chart: ch.burnDown, BurnChart: ch.burnRate, Ranges: ranges, Notifications: notificationRows(notes), Worst: sm.SLO,
		Pull: pullStatus(p.Pulls, name, slo.Name, now),
	}
	return Render(c, http.StatusOK, views.SLOPage(v))
}

// notificationRows shows notifications with what became of each delivery.
func notificationRows(notes []app.Notification) []views.NotificationRow {
	var out []views.NotificationRow
	for _, n := range notes {
		detail := n.LastError
		if n.State == app.NotifyRecorded {
			detail = "no webhook configured"
		}
		out = append(out, views.NotificationRow{Time: n.CreatedAt, Target: n.Target, Message: n.Message, State: n.State, Detail: detail, Service: n.Subject, SLO: n.SLO})
	}
	return out
}

// policyRows are a policy's versions and its reviews. No review is
// recorded as held yet: each falls due one period after the policy first
// took effect.
func policyRows(pol *errorbudget.Policy, history []app.PolicyVersion, now time.Time) ([]views.PolicyVersionRow, []views.ReviewRow) {
	var versions []views.PolicyVersionRow
	var reviews []views.ReviewRow
	for _, h := range history {
		versions = append(versions, views.PolicyVersionRow{Version: h.Version, Origin: h.Origin, At: h.ActivatedAt, By: h.ActivatedBy})
	}
	if len(history) > 0 {
		since := history[len(history)-1].ActivatedAt
		for _, r := range pol.Reviews {
			reviews = append(reviews, views.ReviewRow{Cadence: r.Cadence, Name: r.Name, NextDue: r.Next(since), Due: r.Due(since, now)})
		}
	}
	return versions, reviews
}

// worstOf is each service's worst SLO's figures: what the overview shows.
func worstOf(sms []errorbudget.ServiceMetrics) []errorbudget.Metrics {
	out := make([]errorbudget.Metrics, len(sms))
	for i, sm := range sms {
		out[i] = sm.Metrics
	}
	return out
}

// decisionsShown is how many release decisions a page of a service lists.
const decisionsShown = 20

// decisionPage is a page of a service's release decisions, newest first,
// from ?before= (a decision id).
func (p *Pages) decisionPage(c echo.Context, service string) ([]*errorbudget.Decision, views.Pager, error) {
	var pager views.Pager
	before, err := pageCursor(c, "before")
	if err != nil {
		return nil, pager, err
	}
	ds, err := p.Store.DecisionsPage(c.Request().Context(), service, before, decisionsShown+1)
	if err != nil {
		return nil, pager, err
	}
	href := "/services/" + service
	if before > 0 {
		pager.NewestHref = href + "#decisions"
	}
	if len(ds) > decisionsShown {
		ds = ds[:decisionsShown]
		pager.OlderHref = views.WithCursor(href, ds[decisionsShown-1].ID) + "#decisions"
	}
	return ds, pager, nil
}
