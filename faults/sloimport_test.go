package faults

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slothCheckout is a Sloth document of checkout's one SLO.
const slothCheckout = `version: "prometheus/v1"
service: "checkout"
slos:
  - name: "requests-availability"
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutErrors
`

// TestPolicyDirectoryImports starts the server on a policy directory
// holding a Sloth document beside checkout's own policy file, which gives
// only its rules: checkout's SLO is the document's, under those rules. A
// directory holding what budgetgate does not support is refused at start,
// naming the file, line and column; on SIGHUP it leaves the policies in
// force as they were.
func TestPolicyDirectoryImports(t *testing.T) {
	dir := policyDir(t)
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("checkout.yaml", "service: checkout\non_no_data: allow\n")
	write("checkout-slos.yml", slothCheckout)
	srv := startServer(t, "--db", filepath.Join(t.TempDir(), "bg.db"), "--policies", dir)
	status := func() (target float64, window string) {
		t.Helper()
		resp, body, err := srv.do(context.Background(), client(1), "GET", "/api/v1/services/checkout/status", "")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("status: %v %s", err, body)
		}
		var m struct {
			SLOTarget float64 `json:"slo_target"`
			Window    string  `json:"window"`
			Status    string  `json:"status"`
		}
		json.Unmarshal(body, &m)
		return m.SLOTarget, m.Window
	}
	if target, window := status(); target != 99.5 || window != "30d" {
		t.Fatalf("checkout: target %v window %q, want the document's 99.5 over Sloth's 30d", target, window)
	}
	// The release gate judges by the document's SLO under the file's
	// rules: no data, which checkout's own policy allows.
	resp, body, err := srv.do(context.Background(), client(1), "POST", "/api/v1/releases/evaluate", `{"service":"checkout","version":"1.0.0","risk_level":"low"}`)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"approved":true`) {
		t.Fatalf("gate: %v %s; want an approval on no data, as checkout.yaml allows", err, body)
	}

	// An unsupported document: SIGHUP keeps what is in force.
	write("checkout-slos.yml", strings.Replace(slothCheckout, "      events:", "      plugin:\n        id: x\n      events:", 1))
	srv.signal(t, syscall.SIGHUP)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(srv.log.String(), "policy reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload failure logged:\n%s", srv.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(srv.log.String(), "checkout-slos.yml:7:7") || !strings.Contains(srv.log.String(), "slos[0].sli.plugin is not supported") {
		t.Errorf("the reload failure does not name checkout-slos.yml:7:7 and the field:\n%s", srv.log)
	}
	if target, _ := status(); target != 99.5 {
		t.Errorf("after a refused reload the target is %v, want 99.5 still", target)
	}

	// At start, the same directory is refused.
	p, err := launch(t, "--db", filepath.Join(t.TempDir(), "bg.db"), "--policies", dir)
	if err == nil || p.exitCode != 2 || !strings.Contains(p.log.String(), "checkout-slos.yml:7:7") {
		t.Errorf("start on an unsupported document: %v, exit %d, want 2 naming checkout-slos.yml:7:7:\n%s", err, p.exitCode, p.log)
	}
}
