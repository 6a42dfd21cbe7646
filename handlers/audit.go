package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
)

// AuditStore reads the audit log.
type AuditStore interface {
	AuditLog(ctx context.Context, f app.AuditFilter) ([]budgetgate.AuditEntry, error)
}

// AuditPages serves the audit log page and its exports.
type AuditPages struct {
	Store AuditStore
}

// auditActions are offered in the filter; others can still be typed in the URL.
var auditActions = []string{
	"release.evaluate", "exception.open", "exception.vote", "exception.approved", "exception.rejected",
	"exception.cancel", "exception.expire", "exception.plan", "exception.edit", "exception.revoke", "login", "logout",
	"token.create", "token.revoke", "policy.update", "policy.load", "policy.propose", "policy.approve",
	"policy.reject", "policy.supersede", "escalation.fire",
}

const (
	auditPageLimit   = listPageSize
	auditExportLimit = 100000
)

// listPageSize is how many rows a page of a growing list shows.
const listPageSize = 50

// Audit handles GET /audit?action=&actor=&subject=&from=&to=&before=&format=csv|json.
// The page shows auditPageLimit entries, newest first; before (an entry id)
// pages to older ones.
func (h *AuditPages) Audit(c echo.Context) error {
	form := views.AuditFilterForm{
		Action: c.QueryParam("action"), Actor: strings.TrimSpace(c.QueryParam("actor")), Subject: strings.TrimSpace(c.QueryParam("subject")),
		From: c.QueryParam("from"), To: c.QueryParam("to"),
	}
	f := app.AuditFilter{Action: form.Action, Actor: form.Actor, Subject: form.Subject}
	before, err := pageCursor(c, "before")
	if err != nil {
		return err
	}
	f.Before = before
	if f.From, err = parseDay("from", form.From); err != nil {
		return err
	}
	if f.To, err = parseDay("to", form.To); err != nil {
		return err
	}
	if !f.To.IsZero() {
		f.To = f.To.Add(24 * time.Hour) // "to" is inclusive of the whole day
	}
	format := c.QueryParam("format")
	switch format {
	case "", "html":
		f.Limit = auditPageLimit + 1
	case "csv", "json":
		f.Limit = auditExportLimit
	default:
		return budgetgate.FieldErrorf("format", "want csv or json")
	}
	entries, err := h.Store.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []budgetgate.AuditEntry{}
	}
	name := "budgetgate-audit-" + time.Now().UTC().Format("20060102T150405Z")
	switch format {
	case "json":
		c.Response().Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".json"))
		return c.JSON(http.StatusOK, map[string]any{"entries": entries})
	case "csv":
		c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		c.Response().Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".csv"))
		c.Response().WriteHeader(http.StatusOK)
		return writeAuditCSV(c.Response(), entries)
	}
	v := views.AuditView{Page: PageOf(c, "Audit log", "audit"), Filter: form, Entries: entries, Actions: auditActions}
	if before > 0 {
		v.Pager.NewestHref = form.Query("")
	}
	if len(entries) > auditPageLimit {
		v.Entries = entries[:auditPageLimit]
		v.Pager.OlderHref = views.WithCursor(form.Query(""), v.Entries[auditPageLimit-1].ID)
	}
	return Render(c, http.StatusOK, views.Audit(v))
}

func parseDay(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, budgetgate.FieldErrorf(field, "want a date as YYYY-MM-DD, got %q", s)
	}
	return t, nil
}

// writeAuditCSV writes the entries with a header row. Cells that a
// spreadsheet would run as a formula are prefixed with a quote.
func writeAuditCSV(w interface{ Write([]byte) (int, error) }, entries []budgetgate.AuditEntry) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "at", "actor_issuer", "actor_subject", "actor_name", "action", "subject", "detail"})
	for _, e := range entries {
		row := []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.Actor.Issuer, e.Actor.Subject, e.Actor.Name, e.Action, e.Subject, e.Detail}
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				row[i] = "'" + cell
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// pageCursor reads a paging cursor, the id of the last row of the page
// before: absent is 0, the first page.
func pageCursor(c echo.Context, field string) (int64, error) {
	s := c.QueryParam(field)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, budgetgate.FieldErrorf(field, "want a positive entry number, got %q", s)
	}
	return n, nil
}
