package handlers

import (
	"bytes"
	"context"
	"net/http"
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
	AllMetrics(ctx context.Context, now time.Time) ([]errorbudget.Metrics, error)
	ServiceMetrics(ctx context.Context, service string, now time.Time) (errorbudget.Metrics, *errorbudget.Policy, error)
	HourlySLI(ctx context.Context, service string, from, to time.Time) ([]app.SLIPoint, error)
	Decisions(ctx context.Context, service string, limit int) ([]*errorbudget.Decision, error)
	Notifications(ctx context.Context, subject string, limit int) ([]app.Notification, error)
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
	v := views.OverviewView{Page: PageOf(c, "Overview", "overview"), Now: now, Services: ms, PendingCCB: pending}
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
	m, pol, err := p.Store.ServiceMetrics(ctx, name, now)
	if err != nil {
		return err
	}
	hourly, err := p.Store.HourlySLI(ctx, name, now.Add(-pol.Window), now)
	if err != nil {
		return err
	}
	decisions, err := p.Store.Decisions(ctx, name, 20)
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
	v := views.ServiceView{
		Page: PageOf(c, name, "overview"), Now: now, Metrics: m, Policy: pol, Decisions: decisions,
		Chart: burnDownChart(pol, hourly, now),
	}
	for _, n := range notes {
		detail := n.LastError
		if n.State == app.NotifyRecorded {
			detail = "no webhook configured"
		}
		v.Notifications = append(v.Notifications, views.NotificationRow{Time: n.CreatedAt, Target: n.Target, Message: n.Message, State: n.State, Detail: detail})
	}
	v.History, v.Reviews = policyRows(pol, history, now)
	if v.PendingPolicy, err = p.pendingChangeOf(c, name); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Service(v))
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

func burnDownChart(pol *errorbudget.Policy, hourly []app.SLIPoint, now time.Time) views.Chart {
	counts := make([]errorbudget.TimedCounts, len(hourly))
	for i, h := range hourly {
		counts[i] = errorbudget.TimedCounts{Time: h.Time, Counts: errorbudget.Counts{Good: h.Good, Total: h.Total}}
	}
	var actual []views.Point
	for _, b := range errorbudget.BurnDown(pol, counts, now) {
		actual = append(actual, views.Point{T: b.Time, V: b.RemainingPct})
	}
	// At burn rate 1 the budget falls evenly from full to empty over the window.
	ideal := []views.Point{{T: now.Add(-pol.Window), V: 100}, {T: now, V: 0}}
	c := views.NewChart("Error budget remaining (%) over "+pol.WindowText, now.Add(-pol.Window), now, 0, 100,
		map[string][]views.Point{"remaining": actual, "ideal (burn rate 1)": ideal},
		map[string]string{"remaining": "actual", "ideal (burn rate 1)": "ideal"},
		[]string{"ideal (burn rate 1)", "remaining"}, nil)
	if n := len(actual); n > 0 {
		c.Summary = "budget remaining now " + views.Pct(actual[n-1].V)
	}
	return c
}
