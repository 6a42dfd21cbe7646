package sloimport

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
)

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func noBase(string) (*errorbudget.Policy, error) { return nil, nil }

// TestReadGivesPolicies: an imported SLO becomes a budgetgate policy that
// reads back as itself (its source is budgetgate's own form), with the
// default policy's rules, or those of the service's policy in force.
func TestReadGivesPolicies(t *testing.T) {
	defaults, err := errorbudget.ParsePolicy("d.yaml", []byte("service: checkout\n"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := errorbudget.ParsePolicy("own.yaml", []byte("service: checkout\nslo_target: 95\nwindow: 7d\non_no_data: allow\npolicy:\n  gates:\n    healthy:\n      min_budget_pct: 60\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		base     Base
		onNoData string
		minPct   float64
	}{
		{"default rules", noBase, "deny", 50},
		{"the rules in force", func(s string) (*errorbudget.Policy, error) { return own, nil }, "allow", 60},
	} {
		t.Run(tt.name, func(t *testing.T) {
			format, ps, err := Read("sloth.yml", testdata(t, "sloth-getting-started.yml"), tt.base)
			if err != nil {
				t.Fatal(err)
			}
			if format != Sloth || len(ps) != 1 {
				t.Fatalf("%q, %d policies", format, len(ps))
			}
			p := ps[0]
			want := []errorbudget.SLO{{
				Name: "requests-availability", Objective: 99.9, Window: 30 * 24 * time.Hour, WindowText: "30d",
				Description: "Requests answered without a server error.",
				SLI: &errorbudget.SLISource{Prometheus: &errorbudget.PromQueries{
					Bad:   `sum(rate(http_request_duration_seconds_count{job="checkout",code=~"(5..|429)"}[{{.window}}]))`,
					Total: `sum(rate(http_request_duration_seconds_count{job="checkout"}[{{.window}}]))`,
				}},
			}}
			if p.Service != "checkout" || !reflect.DeepEqual(p.SLOs, want) {
				t.Errorf("service %q SLOs\n%s\nwant\n%s", p.Service, describe(p.SLOs), describe(want))
			}
			if p.OnNoData != tt.onNoData || p.Gates[errorbudget.StatusHealthy].MinBudgetPct.Value != tt.minPct {
				t.Errorf("on_no_data %q, healthy min_budget_pct %v; want %q and %v", p.OnNoData, p.Gates[errorbudget.StatusHealthy].MinBudgetPct.Value, tt.onNoData, tt.minPct)
			}
			if !strings.HasPrefix(string(p.Source), "# The SLOs of checkout come from sloth.yml (sloth).\n") {
				t.Errorf("source does not say where its SLOs came from:\n%s", p.Source)
			}
			again, err := errorbudget.ParsePolicy("again.yaml", p.Source)
			if err != nil || again.Version != p.Version {
				t.Errorf("the stored source reads back as %v (%v), want version %s", again, err, p.Version)
			}
		})
	}
	_, ps, err := Read("own.yaml", []byte("service: checkout\n"), noBase)
	if err != nil || len(ps) != 1 || ps[0].Version != defaults.Version {
		t.Errorf("budgetgate's own form: %v %v, want it read as ParsePolicy reads it", ps, err)
	}
}

// TestDirectory: a policy directory's budgetgate files give the rules of
// the services whose SLOs come from Sloth or OpenSLO files; a file that
// would define a service twice, or both SLOs and imported SLOs, refuses the
// whole directory.
func TestDirectory(t *testing.T) {
	sloth := testdata(t, "sloth-getting-started.yml")
	inline := testdata(t, "openslo-v1-inline.yml")
	for _, tt := range []struct {
		name    string
		files   []File
		want    map[string]string // service -> origin
		wantErr string
	}{
		{"own files and documents", []File{
			{"api.yaml", []byte("service: api-service\n")},
			{"checkout.yaml", []byte("service: checkout\non_no_data: allow\n")},
			{"slos.yml", sloth},
			{"web.yml", inline},
		}, map[string]string{"api-service": "api.yaml", "checkout": "checkout.yaml, slos.yml", "web-shop": "web.yml"}, ""},
		{"own file defines SLOs too", []File{
			{"checkout.yaml", []byte("service: checkout\nslo_target: 99\n")},
			{"slos.yml", sloth},
		}, nil, "checkout.yaml:2:1: slo_target: the SLOs of checkout come from slos.yml"},
		{"service defined twice", []File{
			{"a.yaml", []byte("service: checkout\n")},
			{"b.yaml", []byte("service: checkout\n")},
		}, nil, `a.yaml and b.yaml both define service "checkout"`},
		{"SLO defined in two documents", []File{
			{"one.yml", sloth},
			{"two.yml", sloth},
		}, nil, `two.yml:11:11: SLO "requests-availability" of service "checkout" is defined twice (first at one.yml:11:11)`},
		{"one bad file", []File{
			{"api.yaml", []byte("service: api-service\n")},
			{"bad.yml", []byte("version: prometheus/v1\nservice: x\nslo_plugins: {}\n")},
		}, nil, "bad.yml:3:1: slo_plugins is not supported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			loaded, err := Directory(tt.files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%v; want an error saying %q", err, tt.wantErr)
				}
				if loaded != nil {
					t.Errorf("an error and %d policies", len(loaded))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, l := range loaded {
				got[l.Policy.Service] = l.Origin
			}
			if len(got) != len(tt.want) {
				t.Errorf("services %v, want %v", got, tt.want)
			}
			for s, origin := range tt.want {
				if got[s] != origin {
					t.Errorf("%s from %q, want %q", s, got[s], origin)
				}
			}
			for _, l := range loaded {
				if l.Policy.Service == "checkout" && (l.Policy.OnNoData != "allow" || len(l.Policy.SLOs) != 1 || l.Policy.SLOs[0].Objective != 99.9) {
					t.Errorf("checkout: on_no_data %q SLOs %s, want checkout.yaml's rules and the document's SLO of 99.9", l.Policy.OnNoData, describe(l.Policy.SLOs))
				}
			}
		})
	}
}

func describe(slos []errorbudget.SLO) string {
	b, _ := json.MarshalIndent(slos, "", "  ")
	return string(b)
}

// TestReadSeveralSLOs: every SLO of a file becomes an SLO of its service,
// pulled from the Prometheus its document names (or the server's).
func TestReadSeveralSLOs(t *testing.T) {
	type slo struct {
		name      string
		objective float64
		window    string
		url       string
		good      bool
	}
	for _, tt := range []struct {
		file, service string
		want          []slo
	}{
		{"openslo-v1alpha.yml", "k8s-apiserver", []slo{
			{"requests-availability", 99.9, "30d", "", true},
			{"requests-latency-0", 99, "4w", "", true},
			{"requests-latency-1", 99.9, "4w", "", true},
		}},
		{"openslo-v1-refs.yml", "checkout", []slo{{"payment-latency", 99.5, "2w", "http://thanos-query.monitoring:9090", false}}},
		{"sloth-multifile.yml", "k8s-apiserver", []slo{
			{"requests-availability", 99.9, "30d", "", false},
			{"requests-latency", 99, "30d", "", false},
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			_, ps, err := Read(tt.file, testdata(t, tt.file), noBase)
			if err != nil {
				t.Fatal(err)
			}
			var p *errorbudget.Policy
			for _, q := range ps {
				if q.Service == tt.service {
					p = q
				}
			}
			if p == nil {
				t.Fatalf("no policy of %s among %d", tt.service, len(ps))
			}
			var got []slo
			for _, s := range p.SLOs {
				q := s.SLI.Prometheus
				got = append(got, slo{s.Name, s.Objective, s.WindowText, q.URL, q.Good != ""})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			again, err := errorbudget.ParsePolicy("again.yaml", p.Canonical())
			if err != nil || again.Version != p.Version {
				t.Errorf("the canonical form reads back as %v (%v)", again, err)
			}
		})
	}
}
