package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// TestServicePageExplainsItself reads a service page as an SRE would: the
// status names the bound that set it, the burn rate and the forecast name
// their windows, the charts offer their ranges, and a service without data
// says so instead of showing a full budget.
func TestServicePageExplainsItself(t *testing.T) {
	srv, token := newBudgetServer(t)
	// The last hour: 1,000 events a minute, 16 bad, a burn rate of 16 at
	// 99.9%, over critical's 5x; a quiet month before it keeps most of the
	// budget, so that the burn rate alone sets the status.
	var events []string
	for i := 0; i < 60; i++ {
		events = append(events, fmt.Sprintf(`{"time":%q,"good":984,"total":1000}`, rfc3339(-time.Duration(i+1)*time.Minute)))
	}
	for d := 2; d < 29; d++ {
		events = append(events, fmt.Sprintf(`{"time":%q,"good":10000000,"total":10000000}`, rfc3339(-time.Duration(d)*24*time.Hour)))
	}
	if status, body, _ := do(t, token, "POST", srv.URL+"/api/v1/services/api-service/sli", `{"events":[`+strings.Join(events, ",")+`]}`); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", status, body)
	}
	viewer := srv.signIn(t, "dev-rita")

	_, body := get(t, viewer, srv.URL+"/services/api-service")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name, sel, want string
	}{
		{"status reason", `[data-testid="status-reason"]`, "Critical: 1h burn rate 16.00x >= 5x"},
		{"gate burn rate names its window", `[data-testid="figures"]`, "Burn rate (1h, the gate's)"},
		{"forecast names its window", `[data-testid="figures"]`, "Exhaustion forecast (6h burn rate)"},
		{"ranges", `[data-testid="ranges"]`, "7 days"},
		{"alert names", `[data-testid="alerts"]`, "Fast burn (page)"},
		{"criteria joined by OR", `[data-testid="gates"]`, "OR"},
		{"unbounded burn reads none", `[data-testid="gates"]`, "none"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Join(strings.Fields(doc.Find(c.sel).First().Text()), " "); !strings.Contains(got, c.want) {
				t.Errorf("%s reads %q, want %q in it", c.sel, got, c.want)
			}
		})
	}
	if got := doc.Find(`[data-testid="gates"]`).Text(); strings.Contains(got, "infx") {
		t.Errorf("the policy table says infx: %s", got)
	}
	if n := doc.Find(`[data-testid="chart"]`).Length(); n != 2 {
		t.Errorf("%d charts, want the burn-down and the burn rate", n)
	}
	if resp, body := get(t, viewer, srv.URL+"/services/api-service?range=13d"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "range") {
		t.Errorf("?range=13d: %d, want 422 naming the field range", resp.StatusCode)
	}

	// A service without data: no 100%, no 0.00x, no "ok" alert, no chart.
	if status, body, _ := do(t, token, "PUT", srv.URL+"/api/v1/services/ledger/policy", "service: ledger\nslo_target: 99.9\nwindow: 30d\n"); status != http.StatusOK {
		t.Fatalf("policy: %d %s", status, body)
	}
	_, body = get(t, viewer, srv.URL+"/services/ledger")
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(body))
	figures := doc.Find(`[data-testid="figures"]`).Text()
	for _, wrong := range []string{"100.0%", "0.00x", "not projected"} {
		if strings.Contains(figures, wrong) {
			t.Errorf("ledger, without data, shows %q:\n%s", wrong, figures)
		}
	}
	if !strings.Contains(figures, "no data") {
		t.Errorf("ledger's figures do not say no data:\n%s", figures)
	}
	if got := doc.Find(`[data-testid="alerts"]`).Text(); strings.Contains(got, "ok") || !strings.Contains(got, "no data") {
		t.Errorf("ledger's alerts: %s", got)
	}
	if n := doc.Find(`[data-testid="chart"]`).Length(); n != 0 {
		t.Errorf("ledger draws %d empty charts", n)
	}
	_, body = get(t, viewer, srv.URL+"/")
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(body))
	if got := doc.Find(`[data-testid="service-ledger"] [data-testid="remaining"]`).Text(); got != "no data" {
		t.Errorf("overview: ledger's remaining reads %q, want no data", got)
	}
}
