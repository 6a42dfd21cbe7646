package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	_ "modernc.org/sqlite"
)

// bigBatch is n entries of total events each (a tenth of them bad), all in
// the minute at.
func bigBatch(at time.Time, n int, total int64) string {
	e := fmt.Sprintf(`{"time":%q,"good":%d,"total":%d}`, at.Format(time.RFC3339), total-total/10, total)
	return `{"events":[` + strings.Repeat(e+",", n-1) + e + `]}`
}

// numbersHarness is the harness with /metrics served, a signed-in viewer
// for the pages, and the store's log discarded.
func numbersHarness(t *testing.T) (*harness, *agent) {
	h := newHarness(t, harnessOptions{metrics: true})
	h.Store.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return h, h.agent(t, member("m-viewer"))
}

// listed is GET /api/v1/services, by service.
func listed(t *testing.T, h *harness) map[string]errorbudget.Metrics {
	t.Helper()
	status, body, _ := h.api(t, h.Token, "GET", "/api/v1/services", "")
	if status != 200 {
		t.Fatalf("GET /api/v1/services: %d %s", status, body)
	}
	var out struct{ Services []errorbudget.Metrics }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	m := map[string]errorbudget.Metrics{}
	for _, s := range out.Services {
		m[s.Service] = s
	}
	return m
}

// exposed reads /metrics.
func exposed(t *testing.T, h *harness) exposition {
	t.Helper()
	status, body, _ := h.api(t, "", "GET", "/metrics", "")
	if status != 200 {
		t.Fatalf("/metrics: %d %.300s", status, body)
	}
	return parseExposition(t, body)
}

// pagesAnswer checks that each page answers 200 to a signed-in viewer.
func pagesAnswer(t *testing.T, a *agent, paths ...string) {
	t.Helper()
	for _, path := range paths {
		if resp, body := a.get(t, path); resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %.300s", path, resp.StatusCode, body)
		}
	}
}

// TestSLITotalsStayExact posts batches until the service's total would pass
// 2^53: that batch is refused with 422 naming the entry that would carry it
// over, in the same minute or any other, nothing of it is stored, and every
// page and list still answers with the exact figures.
func TestSLITotalsStayExact(t *testing.T) {
	h, viewer := numbersHarness(t)
	at := time.Now().UTC().Add(-90 * time.Minute)
	sli := "/api/v1/services/ledger/sli"
	post := func(body string) (int, apiError) {
		t.Helper()
		status, raw, _ := h.api(t, h.Token, "POST", sli, body)
		var e apiError
		if status != 202 {
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				t.Fatalf("%d, not a JSON error: %s", status, raw)
			}
		}
		return status, e
	}

	const per = errorbudget.MaxSLICount // the most one entry may carry
	if status, e := post(bigBatch(at, 5000, per)); status != 202 {
		t.Fatalf("first batch: %d %+v", status, e)
	}
	// 5e15 stored: the 4008th entry of the next batch would pass 2^53,
	// whether it lands in the same minute or in another day.
	for _, when := range []time.Time{at, at.Add(-49 * time.Hour)} {
		if status, e := post(bigBatch(when, 5000, per)); status != 422 || e.Error.Field != "events[4007].total" {
			t.Fatalf("batch past 2^53 at %s: %d %+v, want 422 on events[4007].total", when, status, e)
		}
	}
	// Up to the bound exactly is accepted; one more event is not.
	rest := budgetgate.MaxExact - 5000*per
	if status, e := post(bigBatch(at.Add(-49*time.Hour), int(rest/per), per)); status != 202 {
		t.Fatalf("batch up to the bound: %d %+v", status, e)
	}
	last := `{"events":[{"time":"` + at.Format(time.RFC3339) + `","good":0,"total":%d}]}`
	if status, e := post(fmt.Sprintf(last, rest%per)); status != 202 {
		t.Fatalf("the last events up to 2^53: %d %+v", status, e)
	}
	if status, e := post(fmt.Sprintf(last, 1)); status != 422 || e.Error.Field != "events[0].total" {
		t.Fatalf("one event past 2^53: %d %+v", status, e)
	}

	if m := listed(t, h)["ledger"]; m.TotalEvents != budgetgate.MaxExact || m.Status == errorbudget.StatusUnknown {
		t.Fatalf("listed: %d events, status %s; want %d", m.TotalEvents, m.Status, budgetgate.MaxExact)
	}
	if got := exposed(t, h).value(t, "budgetgate_service_window_events", "service", "ledger", "slo", "default"); got != float64(budgetgate.MaxExact) {
		t.Fatalf("window events exposed as %v, want %d", got, budgetgate.MaxExact)
	}
	pagesAnswer(t, viewer, "/", "/services/ledger")
	if status, body, _ := h.api(t, h.Token, "GET", "/api/v1/services/ledger/status", ""); status != 200 {
		t.Fatalf("status: %d %s", status, body)
	}
}

// TestOneServiceDamagedDataIsolated damages one service's stored counts
// directly in the database file, in each way SQLite lets a column hold what
// no write of the server's stores: the other service's pages, list and
// /metrics still answer with its exact figures, the damaged one is listed
// as unknown, and its release is never approved.
func TestOneServiceDamagedDataIsolated(t *testing.T) {
	counts := func(set string) []string {
		var out []string
		for _, table := range []string{"sli_minute", "sli_hour", "sli_day"} {
			out = append(out, `UPDATE `+table+` SET `+set+` WHERE slo_id IN (SELECT s.id FROM slos s JOIN services v ON v.id = s.service_id WHERE v.name = 'payments')`)
		}
		return out
	}
	damage := []struct {
		name string
		sql  []string
	}{
		{"text count", counts("good = 'many'")},
		{"fractional count", counts("total = total + 0.5")},
		{"count past int64", counts("good = 1e19, total = 1e19")},
		{"negative count", counts("good = -5")},
		{"good over total", counts("good = total + 1")},
		{"sum past int64", counts("good = 9000000000000000000, total = 9000000000000000000")},
		{"policy no longer valid", []string{`UPDATE policies SET source = 'service: payments' || char(10) || 'slo_target: 200' WHERE service = 'payments'`}},
	}
	for _, tc := range damage {
		t.Run(tc.name, func(t *testing.T) {
			h, viewer := numbersHarness(t)
			ctx := context.Background()
			p, err := errorbudget.ParsePolicy("payments.yaml", []byte("service: payments\nslo_target: 99\nwindow: 30d\n"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.Store.SavePolicy(ctx, p, "test", budgetgate.SystemActor); err != nil {
				t.Fatal(err)
			}
			// The worked example, split over two days: a million events,
			// 250 bad, leave 75% of a 99.9% budget.
			now := time.Now().UTC()
			for _, service := range []string{"ledger", "payments"} {
				for _, ago := range []time.Duration{90 * time.Minute, 50 * time.Hour} {
					body := `{"events":[{"time":"` + now.Add(-ago).Format(time.RFC3339) + `","good":499875,"total":500000}]}`
					if status, out, _ := h.api(t, h.Token, "POST", "/api/v1/services/"+service+"/sli", body); status != 202 {
						t.Fatalf("ingest %s: %d %s", service, status, out)
					}
				}
			}
			raw, err := sql.Open("sqlite", h.Store.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			for _, q := range tc.sql {
				if _, err := raw.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			// Ingest read the policies, which the server keeps parsed until
			// a policy changes: change another's, so that the damaged one
			// is read again from the file.
			other, err := errorbudget.ParsePolicy("other.yaml", []byte("service: other\n"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.Store.SavePolicy(ctx, other, "test", budgetgate.SystemActor); err != nil {
				t.Fatal(err)
			}

			m := listed(t, h)
			if l := m["ledger"]; l.TotalEvents != 1_000_000 || l.BadEvents != 250 || l.RemainingPct != 75 {
				t.Fatalf("ledger listed as %+v; want 1,000,000 events, 250 bad, 75%% left", l)
			}
			if pay := m["payments"]; pay.Status != errorbudget.StatusUnknown || pay.Error == "" {
				t.Fatalf("payments listed as %+v; want unknown", pay)
			}
			x := exposed(t, h)
			if got := x.value(t, "budgetgate_service_budget_remaining_percent", "service", "ledger", "slo", "default"); got != 75 {
				t.Fatalf("ledger remaining exposed as %v, want 75", got)
			}
			// A policy that cannot be read names no SLO.
			slo := "default"
			if tc.name == "policy no longer valid" {
				slo = ""
			}
			if got := x.value(t, "budgetgate_service_status", "service", "payments", "slo", slo, "status", "unknown"); got != 1 {
				t.Fatalf("payments status unknown exposed as %v, want 1", got)
			}
			pagesAnswer(t, viewer, "/", "/services/ledger")
			if _, page := viewer.get(t, "/"); !strings.Contains(page, "75") {
				t.Fatalf("the overview does not show ledger's 75%%:\n%.3000s", page)
			}
			if status, body, _ := h.api(t, h.Token, "GET", "/api/v1/services/ledger/status", ""); status != 200 {
				t.Fatalf("ledger status: %d %s", status, body)
			}
			status, body, _ := h.api(t, h.Token, "POST", "/api/v1/releases/evaluate", `{"service":"payments","version":"2.0.0","risk_level":"low","release_type":"bugfix","has_tests":true,"has_rollback_plan":true}`)
			var dec errorbudget.Decision
			switch {
			case status == 503:
			case status == 200 && json.Unmarshal([]byte(body), &dec) == nil && !dec.Approved:
			default:
				t.Fatalf("payments release: %d %s; want 503 or a denial", status, body)
			}
		})
	}
}

// TestOneProjectDamagedDataIsolated damages one project's stored analysis:
// the overview and /metrics still answer, with the other project's figures,
// and show the damaged one as unknown.
func TestOneProjectDamagedDataIsolated(t *testing.T) {
	h, viewer := numbersHarness(t)
	for project, truck := range map[string]int{"fleet-core": 500, "rail-core": 600} {
		doc := strings.Replace(fleetDoc(t, "c1", "", truck), `"project":"fleet-core"`, `"project":"`+project+`"`, 1)
		if status, body, _ := h.api(t, h.Token, "POST", "/api/v1/budget/analyze", doc); status != 201 {
			t.Fatalf("analysis of %s: %d %.300s", project, status, body)
		}
	}
	raw, err := sql.Open("sqlite", h.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE analyses SET document = '{"dimensions":' WHERE project_id = (SELECT id FROM projects WHERE name = 'rail-core')`); err != nil {
		t.Fatal(err)
	}
	x := exposed(t, h)
	if got := x.value(t, "budgetgate_project_status", "project", "fleet-core", "status", "warn"); got != 1 {
		t.Errorf("fleet-core warn exposed as %v, want 1", got)
	}
	if got := x.value(t, "budgetgate_project_status", "project", "rail-core", "status", "unknown"); got != 1 {
		t.Errorf("rail-core unknown exposed as %v, want 1", got)
	}
	resp, page := viewer.get(t, "/")
	if resp.StatusCode != 200 || !strings.Contains(page, "fleet-core") || !strings.Contains(page, "rail-core") {
		t.Fatalf("overview: %d\n%.3000s", resp.StatusCode, page)
	}
}
