package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// slothAPIService is a Sloth document of api-service's one SLO.
const slothAPIService = `version: "prometheus/v1"
service: "api-service"
labels:
  owner: "platform"
slos:
  - name: "requests-availability"
    objective: 99.5
    description: "Requests answered without a server error."
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="api"}[{{.window}}]))
    alerting:
      name: ApiServiceErrors
`

// openSLOAPIService is an OpenSLO v1 document of api-service's one SLO,
// over a rolling 28 days.
const openSLOAPIService = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: requests-availability
spec:
  service: api-service
  indicator:
    metadata:
      name: responses
    spec:
      ratioMetric:
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{job="api",code!~"5.."}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{job="api"}[{{.window}}]))
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.995
`

// TestPolicyUploadImports: PUT /api/v1/services/{service}/policy takes
// Sloth and OpenSLO documents: their SLO under the rules of the policy in
// force, reviewed like any change (one that loosens the policy waits for
// another person: 202); what budgetgate does not support is refused naming
// the field, line and column, and leaves the policy in force as it was.
func TestPolicyUploadImports(t *testing.T) {
	srv, token := newBudgetServer(t)
	ctx := context.Background()
	put := func(body string) (int, []byte) {
		status, raw, _ := do(t, token, "PUT", srv.URL+"/api/v1/services/api-service/policy", body)
		return status, raw
	}
	// Rules of the service's own, from the operator: these must survive the import.
	own, err := errorbudget.ParsePolicy("api-service.yaml", []byte("service: api-service\nslo_target: 99.9\nwindow: 30d\non_no_data: allow\npolicy:\n  exceptions:\n    - type: rollback\n      override: always_allow\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Store.SavePolicy(ctx, own, "test", budgetgate.SystemActor); err != nil {
		t.Fatal(err)
	}
	reviewer := srv.signIn(t, "sre-sam")
	for _, tt := range []struct {
		name, body, window string
		objective          float64
		loosens            string // "" when the upload takes effect at once
	}{
		{"sloth replacing the objective", slothAPIService, "30d", 99.5, "SLO default removed"},
		// The two formats write the queries differently: other queries may
		// count fewer bad events, so switching between them is reviewed.
		{"openslo over 28 days, same objective", openSLOAPIService, "28d", 99.5, "SLO requests-availability: SLI queries or source changed"},
		{"sloth raising the objective", strings.Replace(slothAPIService, "99.5", "99.9", 1), "30d", 99.9, "SLO requests-availability: SLI queries or source changed"},
		{"sloth again, same objective", strings.Replace(slothAPIService, "99.5", "99.9", 1), "30d", 99.9, ""},
		{"openslo lowering it", openSLOAPIService, "28d", 99.5, "SLO requests-availability: objective lowered from 99.9% to 99.5%"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, err := srv.Store.Policy(ctx, "api-service")
			if err != nil {
				t.Fatal(err)
			}
			status, raw := put(tt.body)
			var answer struct {
				Status string           `json:"status"`
				Change app.PolicyChange `json:"change"`
			}
			json.Unmarshal(raw, &answer)
			if tt.loosens == "" {
				if status != http.StatusOK || answer.Status != "active" {
					t.Fatalf("upload: %d %s, want 200 active", status, raw)
				}
			} else {
				if status != http.StatusAccepted || answer.Status != "pending" || !slices.Contains(answer.Change.Loosens, tt.loosens) {
					t.Fatalf("upload: %d %s, want 202 pending, loosening %q", status, raw, tt.loosens)
				}
				if p, err := srv.Store.Policy(ctx, "api-service"); err != nil || p.Version != before.Version {
					t.Fatalf("the pending change governs already: %v (%v)", p.Version, err)
				}
				approve(t, srv, reviewer, answer.Change.ID)
			}
			p, err := srv.Store.Policy(ctx, "api-service")
			if err != nil {
				t.Fatal(err)
			}
			if len(p.SLOs) != 1 || p.SLOs[0].Name != "requests-availability" || p.SLOs[0].Objective != tt.objective || p.SLOs[0].WindowText != tt.window || p.SLOs[0].SLI == nil {
				t.Errorf("SLOs %+v, want requests-availability, %v over %s, pulled", p.SLOs, tt.objective, tt.window)
			}
			if p.OnNoData != "allow" || len(p.Exceptions) != 1 {
				t.Errorf("on_no_data %q, exceptions %v: the rules of the policy in force were lost", p.OnNoData, p.Exceptions)
			}
		})
	}
	before, err := srv.Store.Policy(ctx, "api-service")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, body, field, want string
	}{
		{"timeslices", strings.Replace(openSLOAPIService, "Occurrences", "Timeslices", 1), "api-service.yaml:25:20", "spec.budgetingMethod Timeslices is not supported"},
		{"calendar window", strings.Replace(openSLOAPIService, "isRolling: true", "calendar: {startTime: 2026-01-01 00:00:00, timeZone: UTC}", 1), "api-service.yaml:24:7", "calendar windows"},
		{"sloth raw SLI", strings.Replace(slothAPIService, "      events:", "      raw:\n        error_ratio_query: x\n      events:", 1), "api-service.yaml:10:7", "slos[0].sli.raw is not supported"},
		{"another service", strings.Replace(slothAPIService, `service: "api-service"`, `service: "billing"`, 1), "service", `the file names "billing", the URL "api-service"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := put(tt.body)
			var e apiError
			json.Unmarshal(raw, &e)
			if status != 422 || e.Error.Field != tt.field || !strings.Contains(e.Error.Message, tt.want) {
				t.Errorf("%d field %q message %q; want 422 at %s saying %q", status, e.Error.Field, e.Error.Message, tt.field, tt.want)
			}
			if p, err := srv.Store.Policy(ctx, "api-service"); err != nil || p.Version != before.Version {
				t.Errorf("policy in force changed to %v (%v)", p.Version, err)
			}
		})
	}
}

// approve has reviewer approve policy change id on the dashboard.
func approve(t *testing.T, srv *testServer, reviewer *http.Client, id int64) {
	t.Helper()
	_, body := get(t, reviewer, srv.URL+"/policies")
	u := fmt.Sprintf("%s/policies/changes/%d", srv.URL, id)
	if resp, body := postForm(t, reviewer, u, url.Values{"csrf": {csrfOf(t, body)}, "decision": {"approve"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approving change %d: %d %s", id, resp.StatusCode, body)
	}
}

// TestPoliciesPageImports: an SRE pastes an OpenSLO document on /policies;
// it is shown as a diff against the policy in force first, and since it
// drops the service's SLO it waits for another person's approval; a
// refused one comes back with its text and the position of the problem.
func TestPoliciesPageImports(t *testing.T) {
	srv, _ := newBudgetServer(t)
	ctx := context.Background()
	sre := srv.signIn(t, "sre-sam")
	form := func(policy, action string) (*http.Response, string) {
		_, page := get(t, sre, srv.URL+"/policies")
		return postForm(t, sre, srv.URL+"/policies", url.Values{"csrf": {csrfOf(t, page)}, "policy": {policy}, "action": {action}})
	}
	before, err := srv.Store.Policy(ctx, "api-service")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := form(openSLOAPIService, "preview")
	doc := page(t, body)
	if diff := testidText(doc, "preview-diff"); resp.StatusCode != http.StatusOK || !strings.Contains(diff, "- slo_target: 99.9") || !strings.Contains(diff, "+ - name: requests-availability") {
		t.Fatalf("preview of the OpenSLO document: %d, diff %q", resp.StatusCode, diff)
	}
	if loosens := testidText(doc, "loosens"); !strings.Contains(loosens, "SLO default removed") {
		t.Errorf("preview says it loosens %q", loosens)
	}
	if draft, _ := doc.Find(`[data-testid="policy-preview"] input[name="policy"]`).Attr("value"); draft != openSLOAPIService {
		t.Errorf("the preview would save %q, not the document", draft)
	}
	resp, _ = form(openSLOAPIService, "save")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/policies?service=api-service&done=pending&change=1#change-1" {
		t.Fatalf("saving the OpenSLO document: %d %s", resp.StatusCode, loc)
	}
	if p, err := srv.Store.Policy(ctx, "api-service"); err != nil || p.Version != before.Version {
		t.Fatalf("the pending change governs already: %v (%v)", p.Version, err)
	}
	approve(t, srv, srv.signIn(t, "ccb-alice"), 1)
	if p, err := srv.Store.Policy(ctx, "api-service"); err != nil || len(p.SLOs) != 1 || p.SLOs[0].WindowText != "28d" || p.SLOs[0].Objective != 99.5 {
		t.Fatalf("policy in force: %+v %v, want the document's 99.5 over 28d", p, err)
	}
	resp, body = form(strings.Replace(openSLOAPIService, "type: Prometheus", "type: Datadog", 1), "preview")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "policy.yaml:14:19") || !strings.Contains(body, "is not supported") || !strings.Contains(body, "ratioMetric") {
		t.Fatalf("an unsupported source: %d; want 422 naming policy.yaml:14:19 and the text kept", resp.StatusCode)
	}
}
