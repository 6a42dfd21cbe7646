package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
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
// force; what budgetgate does not support is refused naming the field,
// line and column, and leaves the policy in force as it was.
func TestPolicyUploadImports(t *testing.T) {
	srv, token := newBudgetServer(t)
	ctx := context.Background()
	put := func(body string) (int, apiError) {
		status, raw, _ := do(t, token, "PUT", srv.URL+"/api/v1/services/api-service/policy", body)
		var e apiError
		json.Unmarshal(raw, &e)
		return status, e
	}
	// Rules of the service's own: these must survive the import.
	if status, e := put("service: api-service\non_no_data: allow\npolicy:\n  exceptions:\n    - type: rollback\n      override: always_allow\n"); status != 200 {
		t.Fatalf("own policy: %d %+v", status, e)
	}
	for _, tt := range []struct {
		name, body, window string
	}{
		{"sloth", slothAPIService, "30d"},
		{"openslo", openSLOAPIService, "28d"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, e := put(tt.body); status != 200 {
				t.Fatalf("upload: %d %+v", status, e)
			}
			p, err := srv.Store.Policy(ctx, "api-service")
			if err != nil {
				t.Fatal(err)
			}
			if len(p.SLOs) != 1 || p.SLOs[0].Name != "requests-availability" || p.SLOs[0].Objective != 99.5 || p.SLOs[0].WindowText != tt.window || p.SLOs[0].SLI == nil {
				t.Errorf("SLOs %+v, want requests-availability, 99.5 over %s, pulled", p.SLOs, tt.window)
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
			status, e := put(tt.body)
			if status != 422 || e.Error.Field != tt.field || !strings.Contains(e.Error.Message, tt.want) {
				t.Errorf("%d field %q message %q; want 422 at %s saying %q", status, e.Error.Field, e.Error.Message, tt.field, tt.want)
			}
			if p, err := srv.Store.Policy(ctx, "api-service"); err != nil || p.Version != before.Version {
				t.Errorf("policy in force changed to %v (%v)", p.Version, err)
			}
		})
	}
}

// TestPoliciesPageImports: an SRE pastes an OpenSLO document on /policies;
// a refused one comes back with its text and the position of the problem.
func TestPoliciesPageImports(t *testing.T) {
	srv, _ := newBudgetServer(t)
	sre := srv.signIn(t, "sre-sam")
	form := func(policy string) (*http.Response, string) {
		_, page := get(t, sre, srv.URL+"/policies")
		return postForm(t, sre, srv.URL+"/policies", url.Values{"csrf": {csrfOf(t, page)}, "policy": {policy}})
	}
	resp, _ := form(openSLOAPIService)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/services/api-service" {
		t.Fatalf("importing OpenSLO: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if p, err := srv.Store.Policy(context.Background(), "api-service"); err != nil || len(p.SLOs) != 1 || p.SLOs[0].WindowText != "28d" || p.SLOs[0].Objective != 99.5 {
		t.Fatalf("policy in force: %+v %v, want the document's 99.5 over 28d", p, err)
	}
	resp, body := form(strings.Replace(openSLOAPIService, "type: Prometheus", "type: Datadog", 1))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "policy.yaml:14:19") || !strings.Contains(body, "is not supported") || !strings.Contains(body, "ratioMetric") {
		t.Fatalf("an unsupported source: %d; want 422 naming policy.yaml:14:19 and the text kept", resp.StatusCode)
	}
}
