// Package deploy holds what operators deploy beside budgetgate: the
// Prometheus alerting rules and the Grafana dashboard over its /metrics.
// Its tests check them with Prometheus's own promtool and against the
// metric families the server exposes.
package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	rulesFile     = "prometheus/budgetgate-rules.yml"
	rulesTestFile = "prometheus/budgetgate-rules.test.yml"
	dashboardFile = "grafana/budgetgate.json"
)

// needPromtool returns the path of promtool (Debian's prometheus package);
// a missing one skips the test, except under CI, where it fails.
func needPromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not installed (apt-get install prometheus)")
		}
		t.Skip("promtool is not installed")
	}
	return p
}

func promtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(needPromtool(t), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAlertingRules: the rules load in Prometheus and fire as their unit
// tests say, each alert with its labels and annotations.
func TestAlertingRules(t *testing.T) {
	t.Run("check", func(t *testing.T) { promtool(t, ".", "check", "rules", rulesFile) })
	t.Run("unit tests", func(t *testing.T) { promtool(t, "prometheus", "test", "rules", filepath.Base(rulesTestFile)) })
	t.Run("every alert tested", func(t *testing.T) {
		var rules struct {
			Groups []struct {
				Rules []struct{ Alert string }
			}
		}
		readYAML(t, rulesFile, &rules)
		tests := string(readFile(t, rulesTestFile))
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if !strings.Contains(tests, "alertname: "+r.Alert+"\n") {
					t.Errorf("alert %s has no unit test in %s", r.Alert, rulesTestFile)
				}
			}
		}
	})
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		ID      int    `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		GridPos struct {
			H, W, X, Y int
		} `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// grafanaVars stand in for the dashboard's variables, so that promtool can
// parse its queries.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$service", ".*", "$slo", ".*", "$window", ".*")

// TestDashboard: the dashboard is valid JSON with unique panel ids, laid
// out on Grafana's 24-column grid, and every query parses as PromQL (each
// is checked by promtool as a recording rule).
func TestDashboard(t *testing.T) {
	var d dashboard
	if err := json.Unmarshal(readFile(t, dashboardFile), &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("uid %q, title %q, %d panels", d.UID, d.Title, len(d.Panels))
	}
	ids := map[int]string{}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for _, p := range d.Panels {
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W <= 0 || p.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v is off the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			expr, err := json.Marshal(grafanaVars.Replace(q.Expr))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&rules, "      - record: panel%d_%s\n        expr: %s\n", p.ID, q.RefID, expr)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard-rules.yml"), []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, dir, "check", "rules", "dashboard-rules.yml")
}

// metricNameRe finds budgetgate's metric names in queries; quotedNameRe
// finds them as string literals in the server's sources, and histogramRe
// the histograms among them, whose series carry suffixes.
var (
	metricNameRe = regexp.MustCompile(`budgetgate_[a-z0-9_]+`)
	quotedNameRe = regexp.MustCompile(`"(budgetgate_[a-z0-9_]+)"`)
	histogramRe  = regexp.MustCompile(`Family\("(budgetgate_[a-z0-9_]+)", "histogram"`)
)

// TestMetricNames: every budgetgate metric the rules and the dashboard
// read is one the server exposes (found in its sources), so that a renamed
// family cannot leave an alert silently watching nothing.
func TestMetricNames(t *testing.T) {
	exposed := map[string]bool{}
	for _, dir := range []string{"../handlers", "../web"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src := string(readFile(t, f))
			for _, m := range quotedNameRe.FindAllStringSubmatch(src, -1) {
				exposed[m[1]] = true
			}
			for _, m := range histogramRe.FindAllStringSubmatch(src, -1) {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					exposed[m[1]+s] = true
				}
			}
		}
	}
	if len(exposed) < 10 {
		t.Fatalf("found only %d families in the server's sources: has the exposition moved?", len(exposed))
	}
	for _, file := range []string{rulesFile, dashboardFile} {
		for _, name := range metricNameRe.FindAllString(string(readFile(t, file)), -1) {
			if !exposed[name] {
				t.Errorf("%s reads %s, which the server does not expose", file, name)
			}
		}
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	if err := yaml.Unmarshal(readFile(t, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
