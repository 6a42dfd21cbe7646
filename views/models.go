// Package views holds the dashboard's templ components and the view models
// they render. Views format; they decide nothing.
package views

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// Page is what every page's layout needs.
type Page struct {
	Title  string
	Nav    string // which top-level section is current: "overview", "ccb", ...
	User   string // signed-in user's name, "" when signed out
	Admin  bool   // the user may manage API tokens
	SRE    bool   // the user may change policies
	CSRF   string
	Notice string
}

// ErrorView is an error page.
type ErrorView struct {
	Page
	Status  int
	Message string
	Field   string
}

// Pct formats a percentage with one decimal.
func Pct(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", v)
}

// Rate formats a burn rate.
func Rate(v float64) string { return fmt.Sprintf("%.2fx", v) }

// When formats a time for people, in UTC.
func When(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Until says how long from now until t, roughly.
func Until(now time.Time, t *time.Time) string {
	if t == nil {
		return "not projected"
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "exhausted"
	case d < time.Hour:
		return fmt.Sprintf("in %d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("in %.0f h", d.Hours())
	}
	return fmt.Sprintf("in %.0f days", d.Hours()/24)
}

// StatusSymbol gives each status a symbol so that it never relies on colour.
func StatusSymbol(status string) string {
	switch status {
	case "healthy", "pass", "approved", "delivered", "resolved":
		return "✓"
	case "excepted":
		return "≈"
	case "attention", "warn", "pending":
		return "!"
	case "warning":
		return "!!"
	case "critical", "exhausted", "fail", "trend_fail", "denied", "blocked", "rejected", "failed", "firing", "open", "unknown":
		return "✗"
	}
	return "–"
}

// Label makes an identifier readable: "no_data" -> "no data".
func Label(s string) string { return errorbudget.Readable(s) }

func joinOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}

func sortedExceptions(p *errorbudget.Policy) []errorbudget.ExceptionRule {
	out := make([]errorbudget.ExceptionRule, 0, len(p.Exceptions))
	for _, e := range p.Exceptions {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b errorbudget.ExceptionRule) int { return strings.Compare(a.Type, b.Type) })
	return out
}

// noData is how a figure without events reads: never 100% or 0.00x.
const noData = "no data"

// missing says why m has no figure: no data, or figures that could not
// be computed.
func missing(m errorbudget.Metrics) string {
	if m.Status == errorbudget.StatusUnknown {
		return "unknown"
	}
	return noData
}

// hasFigures reports whether m's budget figures mean anything.
func hasFigures(m errorbudget.Metrics) bool {
	return m.Status != errorbudget.StatusNoData && m.Status != errorbudget.StatusUnknown
}

// RemainingText is the budget left, or why there is no figure.
func RemainingText(m errorbudget.Metrics) string {
	if !hasFigures(m) {
		return missing(m)
	}
	return Pct(m.RemainingPct)
}

// ConsumedText is the budget spent, or why there is no figure.
func ConsumedText(m errorbudget.Metrics) string {
	if !hasFigures(m) {
		return missing(m)
	}
	return Pct(m.ConsumedPct)
}

// BurnText is the burn rate over window w, or "no data" when w held no event.
func BurnText(m errorbudget.Metrics, w string) string {
	if !m.HasData(w) {
		return missing(m)
	}
	if w == m.BurnRateWindow {
		return Rate(m.BurnRate)
	}
	return Rate(m.BurnRates[w])
}

// ForecastText is when the budget runs out at the forecast window's burn
// rate, or why there is no forecast.
func ForecastText(now time.Time, m errorbudget.Metrics) string {
	if !hasFigures(m) {
		return missing(m)
	}
	if !m.HasData(m.ForecastWindow) {
		return "no data in the last " + m.ForecastWindow
	}
	if m.ProjectedExhaustion == nil && m.BurnRates[m.ForecastWindow] == 0 {
		return "not burning"
	}
	return Until(now, m.ProjectedExhaustion)
}

// ForecastBasis says which burn rate the forecast projects with.
func ForecastBasis(m errorbudget.Metrics) string {
	return "at the " + m.ForecastWindow + " burn rate, " + BurnText(m, m.ForecastWindow)
}

// StatusCause is the reason for m's status without the status itself,
// for where a badge already names it.
func StatusCause(m errorbudget.Metrics) string {
	_, cause, _ := strings.Cut(m.StatusReason, ": ")
	return cause
}

// AlertTitle names an alert rule for people.
func AlertTitle(a errorbudget.Alert) string {
	switch a.Name {
	case "page_fast":
		return "Fast burn (page)"
	case "page_slow":
		return "Slow burn (page)"
	case "ticket":
		return "Steady burn (ticket)"
	}
	return Label(a.Name) + " (" + a.Severity + ")"
}

// AlertState is an alert's state as a badge status.
func AlertState(a errorbudget.Alert) string {
	switch {
	case a.Firing:
		return "firing"
	case a.NoData:
		return "no_data"
	}
	return "ok"
}

// anyAllowedReleases reports whether any gate lists allowed_releases, so
// that an empty column is not shown.
func anyAllowedReleases(p *errorbudget.Policy) bool {
	for _, g := range p.Gates {
		if len(g.AllowedReleases) > 0 {
			return true
		}
	}
	return false
}

// LimitText writes a policy number that may be unbounded: "none" for inf.
func LimitText(n errorbudget.Number, unit string) string {
	if math.IsInf(n.Value, 1) {
		return "none"
	}
	return n.String() + unit
}

// eventsText is bad over allowed events in the window, or no data.
func eventsText(m errorbudget.Metrics) string {
	if !hasFigures(m) {
		return missing(m)
	}
	return fmt.Sprintf("%d / %.0f", m.BadEvents, m.AllowedBadEvents)
}

// windowUse says what reads the burn rate over window w: the gate and the
// status, the forecast, the alerts.
func windowUse(m errorbudget.Metrics, w string) string {
	var uses []string
	if w == m.BurnRateWindow {
		uses = append(uses, "gate and status")
	}
	if w == m.ForecastWindow {
		uses = append(uses, "forecast")
	}
	if slices.ContainsFunc(m.Alerts, func(a errorbudget.Alert) bool { return a.LongWindow == w || a.ShortWindow == w }) {
		uses = append(uses, "alerts")
	}
	return strings.Join(uses, ", ")
}
