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
func Label(s string) string { return strings.ReplaceAll(s, "_", " ") }

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
