package views

import (
	"net/url"
	"strings"

	"github.com/budgetgate/budgetgate"
)

// AuditView is the audit log with its filters.
type AuditView struct {
	Page
	Filter  AuditFilterForm
	Entries []budgetgate.AuditEntry
	Actions []string
	Pager   Pager
}

// AuditFilterForm holds the filters as typed (dates as YYYY-MM-DD).
type AuditFilterForm struct {
	Action  string
	Actor   string
	Subject string
	From    string
	To      string
}

// Query is the filter as a query string, for the export links.
func (f AuditFilterForm) Query(format string) string {
	var parts []string
	for _, kv := range [][2]string{{"action", f.Action}, {"actor", f.Actor}, {"subject", f.Subject}, {"from", f.From}, {"to", f.To}, {"format", format}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+url.QueryEscape(kv[1]))
		}
	}
	return "/audit?" + strings.Join(parts, "&")
}
