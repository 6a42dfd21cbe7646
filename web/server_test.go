package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
)

// newBudgetServer is the test server with the reference gate's api-service policy
// and a token with every scope.
func newBudgetServer(t testing.TB) (*testServer, string) {
	t.Helper()
	s := newTestServer(t)
	ctx := context.Background()
	p, err := errorbudget.ParsePolicy("api-service.yaml", []byte("service: api-service\nslo_target: 99.9\nwindow: 30d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.SavePolicy(ctx, p, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	token, _, err := s.Store.CreateToken(ctx, "test", []string{"ingest", "gate", "read", "policy"}, budgetgate.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	return s, token
}

// rfc3339 formats a time relative to now, as clients post them.
func rfc3339(d time.Duration) string { return time.Now().UTC().Add(d).Format(time.RFC3339) }

type apiError struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

func do(t *testing.T, token, method, url, body string, header ...string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func TestSLIIngestRefusesBadInput(t *testing.T) {
	srv, token := newBudgetServer(t)
	url := srv.URL + "/api/v1/services/api-service/sli"
	hourAgo := rfc3339(-time.Hour)
	ok := `{"time":"` + hourAgo + `","good":995,"total":1000}`
	big := "[" + strings.Repeat(ok+",", errorbudget.MaxSLIEventsPerRequest) + ok + "]"
	tests := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"malformed", `{"events":[`, 400, "bad_request", ""},
		{"not json", `hello`, 400, "bad_request", ""},
		{"trailing data", `{"events":[` + ok + `]} {}`, 400, "bad_request", ""},
		{"unknown top-level field", `{"events":[` + ok + `],"extra":1}`, 422, "invalid", "extra"},
		{"unknown event field", `{"events":[` + ok + `,{"time":"` + hourAgo + `","good":1,"total":1,"bad":0}]}`, 422, "invalid", "events[1].bad"},
		{"string count", `{"events":[` + ok + `,` + ok + `,{"time":"` + hourAgo + `","good":"1","total":1}]}`, 422, "invalid", "events[2].good"},
		{"fractional count", `{"events":[{"time":"` + hourAgo + `","good":1.5,"total":2}]}`, 422, "invalid", "events[0].good"},
		{"bad time", `{"events":[{"time":"yesterday","good":1,"total":2}]}`, 422, "invalid", "events[0].time"},
		{"missing total", `{"events":[{"time":"` + hourAgo + `","good":1}]}`, 422, "invalid", "events[0].total"},
		{"negative", `{"events":[{"time":"` + hourAgo + `","good":-1,"total":2}]}`, 422, "invalid", "events[0].good"},
		{"good over total", `{"events":[` + ok + `,{"time":"` + hourAgo + `","good":3,"total":2}]}`, 422, "invalid", "events[1].good"},
		{"future", `{"events":[{"time":"` + rfc3339(10*time.Minute) + `","good":1,"total":2}]}`, 422, "invalid", "events[0].time"},
		{"too old", `{"events":[{"time":"2024-01-01T00:00:00Z","good":1,"total":2}]}`, 422, "invalid", "events[0].time"},
		{"empty", `{"events":[]}`, 422, "invalid", "events"},
		{"no events", `{}`, 422, "invalid", "events"},
		{"too many", `{"events":` + big + `}`, 413, "too_large", "events"},
		{"body over limit", `{"events":[` + strings.Repeat(" ", handlers.MaxBodyBytes) + `]}`, 413, "too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := do(t, token, "POST", url, tt.body)
			var e apiError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if status != tt.status || e.Error.Code != tt.code || e.Error.Field != tt.field {
				t.Fatalf("got %d %s field=%q (%s), want %d %s field=%q", status, e.Error.Code, e.Error.Field, e.Error.Message, tt.status, tt.code, tt.field)
			}
		})
	}
	// Nothing of the refused requests was stored.
	status, body, _ := do(t, token, "GET", srv.URL+"/api/v1/services/api-service/status", "")
	var m errorbudget.Metrics
	json.Unmarshal(body, &m)
	if status != 200 || m.TotalEvents != 0 {
		t.Fatalf("after refused posts: status %d, total_events %d, want 0", status, m.TotalEvents)
	}
}

func TestSLIIngestAndStatus(t *testing.T) {
	srv, token := newBudgetServer(t)
	// the worked example of docs/BUDGET_MATH.md, Error budget: 1,000,000 events, 250 bad, at 99.9%.
	var events []string
	for i := 0; i < 1000; i++ {
		at := time.Now().UTC().Add(-time.Duration(i+1) * time.Minute)
		bad := 0
		if i < 250 {
			bad = 1
		}
		events = append(events, fmt.Sprintf(`{"time":%q,"good":%d,"total":1000}`, at.Format(time.RFC3339), 1000-bad))
	}
	body := `{"events":[` + strings.Join(events, ",") + `]}`
	status, resp, _ := do(t, token, "POST", srv.URL+"/api/v1/services/api-service/sli", body, "Idempotency-Key", "batch-1")
	if status != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", status, resp)
	}
	status, resp, hdr := do(t, token, "POST", srv.URL+"/api/v1/services/api-service/sli", body, "Idempotency-Key", "batch-1")
	if status != http.StatusAccepted || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s replayed=%q", status, resp, hdr.Get("Idempotent-Replayed"))
	}
	status, resp, _ = do(t, token, "POST", srv.URL+"/api/v1/services/api-service/sli", `{"events":[`+events[0]+`]}`, "Idempotency-Key", "batch-1")
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body: %d %s, want 422", status, resp)
	}

	status, resp, _ = do(t, token, "GET", srv.URL+"/api/v1/services/api-service/status", "")
	if status != 200 {
		t.Fatalf("status: %d %s", status, resp)
	}
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"service", "slo_target", "window", "status", "remaining_pct", "consumed_pct", "burn_rate", "burn_rates",
		"total_events", "bad_events", "allowed_bad_events", "projected_exhaustion", "alerts", "computed_at"} {
		if _, ok := m[field]; !ok {
			t.Errorf("status lacks %q", field)
		}
	}
	if m["total_events"] != 1e6 || m["bad_events"] != 250.0 || m["consumed_pct"].(float64)-25 > 1e-9 || m["remaining_pct"].(float64)-75 > 1e-9 {
		t.Errorf("figures: total %v bad %v consumed %v remaining %v; want 1e6, 250, 25, 75", m["total_events"], m["bad_events"], m["consumed_pct"], m["remaining_pct"])
	}

	status, resp, _ = do(t, token, "GET", srv.URL+"/api/v1/services/nope/status", "")
	if status != 404 {
		t.Errorf("unknown service: %d %s, want 404", status, resp)
	}
	status, _, _ = do(t, token, "POST", srv.URL+"/api/v1/services/nope/sli", `{"events":[`+events[0]+`]}`)
	if status != 404 {
		t.Errorf("ingest for unknown service: %d, want 404", status)
	}
}

func TestEvaluateRelease(t *testing.T) {
	srv, token := newBudgetServer(t)
	url := srv.URL + "/api/v1/releases/evaluate"
	status, resp, _ := do(t, token, "POST", url, `{"service":"api-service","version":"1.0.0"}`)
	var dec errorbudget.Decision
	if err := json.Unmarshal(resp, &dec); err != nil || status != 200 {
		t.Fatalf("no data: %d %s", status, resp)
	}
	if dec.Approved || dec.ID == 0 || dec.PolicyVersion == "" {
		t.Fatalf("no data: %+v, want a stored denial citing its policy", dec)
	}
	for _, tt := range []struct{ body, field string }{
		{`{"version":"1"}`, "service"},
		{`{"service":"api-service"}`, "version"},
		{`{"service":"api-service","version":"1","risk_level":"extreme"}`, "risk_level"},
		{`{"service":"api-service","version":"1","release_type":"yolo"}`, "release_type"},
		{`{"service":"api-service","version":"1","has_tests":"yes"}`, "has_tests"},
	} {
		status, resp, _ := do(t, token, "POST", url, tt.body)
		var e apiError
		json.Unmarshal(resp, &e)
		if status != 422 || e.Error.Field != tt.field {
			t.Errorf("%s: %d field %q, want 422 naming %q", tt.body, status, e.Error.Field, tt.field)
		}
	}
	if status, _, _ := do(t, token, "POST", url, `{"service":"nope","version":"1"}`); status != 404 {
		t.Errorf("unknown service: %d, want 404", status)
	}
	status, resp, _ = do(t, token, "GET", fmt.Sprintf("%s/api/v1/decisions/%d", srv.URL, dec.ID), "")
	if status != 200 || !strings.Contains(string(resp), dec.Reason) {
		t.Errorf("stored decision: %d %s", status, resp)
	}
}

func TestPagesAndHeaders(t *testing.T) {
	srv, token := newBudgetServer(t)
	viewer := srv.signIn(t, "dev-rita")
	for _, path := range []string{"/", "/services/api-service", "/policies"} {
		resp, body := get(t, viewer, srv.URL+path)
		hdr := resp.Header
		if resp.StatusCode != 200 || !strings.Contains(body, "api-service") {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		csp := hdr.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Referrer-Policy") == "" {
			t.Errorf("%s: missing nosniff or Referrer-Policy", path)
		}
	}
	resp, body := get(t, viewer, srv.URL+"/services/nope")
	if resp.StatusCode != 404 || !strings.Contains(body, "<html") {
		t.Errorf("unknown service page: %d, want an HTML 404", resp.StatusCode)
	}
	if status, _, _ := do(t, token, "GET", srv.URL+"/ready", ""); status != 200 {
		t.Errorf("/ready: %d", status)
	}
}

func TestPolicyUpload(t *testing.T) {
	srv, token := newBudgetServer(t)
	store := srv.Store
	url := srv.URL + "/api/v1/services/api-service/policy"
	status, body, _ := do(t, token, "PUT", url, "service: api-service\nslo_target: 99.5\nwindow: 7d\n")
	if status != 200 || !strings.Contains(string(body), `"changed":true`) {
		t.Fatalf("upload: %d %s", status, body)
	}
	_, body, _ = do(t, token, "GET", srv.URL+"/api/v1/services/api-service/status", "")
	var m errorbudget.Metrics
	json.Unmarshal(body, &m)
	if m.SLOTarget != 99.5 || m.Window != "7d" {
		t.Fatalf("after upload: target %v window %q, want 99.5 and 7d", m.SLOTarget, m.Window)
	}
	history, err := store.PolicyHistory(context.Background(), "api-service")
	if err != nil || len(history) != 2 {
		t.Fatalf("policy history: %d versions (%v), want both kept", len(history), err)
	}
	status, body, _ = do(t, token, "PUT", url, "service: api-service\nslo_target: 99.5\nwindow: 7d\nsfot_limit: 3\n")
	var e apiError
	json.Unmarshal(body, &e)
	if status != 422 || e.Error.Field != "api-service.yaml:4:1" {
		t.Fatalf("typo: %d field %q (%s), want 422 at api-service.yaml:4:1", status, e.Error.Field, e.Error.Message)
	}
	if status, _, _ := do(t, token, "PUT", url, "service: other\nslo_target: 99.5\n"); status != 422 {
		t.Fatalf("policy for another service: %d, want 422", status)
	}
}

func TestSREChangesAPolicyOnTheDashboard(t *testing.T) {
	srv, _ := newBudgetServer(t)
	form := func(c *http.Client, policy string) (*http.Response, string) {
		_, page := get(t, c, srv.URL+"/policies")
		return postForm(t, c, srv.URL+"/policies", url.Values{"csrf": {csrfOf(t, page)}, "policy": {policy}})
	}
	sre := srv.signIn(t, "sre-sam")
	resp, _ := form(sre, "service: api-service\nslo_target: 99.5\nwindow: 7d\n")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/services/api-service" {
		t.Fatalf("SRE saving a policy: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	p, err := srv.Store.Policy(context.Background(), "api-service")
	if err != nil || p.SLOs[0].Objective != 99.5 {
		t.Fatalf("policy in force: %v %v, want the new 99.5", p, err)
	}
	resp, body := form(sre, "service: api-service\nslo_target: 99.5\nwindow: 7d\nsfot_limit: 3\n")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "policy.yaml:4:1") || !strings.Contains(body, "sfot_limit: 3") {
		t.Fatalf("a typo: %d; want 422 naming line 4 and the text kept to correct", resp.StatusCode)
	}
	viewer := srv.signIn(t, "dev-rita")
	if _, page := get(t, viewer, srv.URL+"/policies"); strings.Contains(page, `data-testid="policy-form"`) {
		t.Error("a viewer is offered the policy form")
	}
	_, page := get(t, viewer, srv.URL+"/ccb")
	resp, _ = postForm(t, viewer, srv.URL+"/policies", url.Values{"csrf": {csrfOf(t, page)}, "policy": {"service: api-service\nslo_target: 90\n"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer saving a policy: %d, want 403", resp.StatusCode)
	}
}
