package sloimport

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
)

// TestParsePublishedShapes reads files in the shape of the examples Sloth
// and OpenSLO publish, and checks every SLO field they give.
func TestParsePublishedShapes(t *testing.T) {
	availability := `sum(rate(apiserver_request_total{code=~"(5..|429)"}[{{.window}}]))`
	for _, tt := range []struct {
		file   string
		format Format
		want   []SLO
	}{
		{"sloth-getting-started.yml", Sloth, []SLO{{
			Service: "checkout", Name: "requests-availability", Objective: 99.9, Window: "30d",
			Description: "Requests answered without a server error.",
			Bad:         `sum(rate(http_request_duration_seconds_count{job="checkout",code=~"(5..|429)"}[{{.window}}]))`,
			Total:       `sum(rate(http_request_duration_seconds_count{job="checkout"}[{{.window}}]))`,
			Format:      Sloth, At: "sloth-getting-started.yml:11:11",
		}}},
		{"sloth-multifile.yml", Sloth, []SLO{
			{
				Service: "search", Name: "requests-availability", Objective: 99.5, Window: "30d",
				Description: "Search answers without a server error.",
				Bad:         "sum(\n  rate(http_request_duration_seconds_count{job=\"search\", code=~\"(5..|429)\"}[{{.window}}])\n)",
				Total:       "sum(\n  rate(http_request_duration_seconds_count{job=\"search\"}[{{.window}}])\n)",
				Format:      Sloth, At: "sloth-multifile.yml:8:11",
			},
			{
				Service: "k8s-apiserver", Name: "requests-availability", Objective: 99.9, Window: "30d",
				Description: "Requests to the API server answered without a server error.",
				Bad:         availability, Total: `sum(rate(apiserver_request_total[{{.window}}]))`,
				Format: Sloth, At: "sloth-multifile.yml:34:11",
			},
			{
				Service: "k8s-apiserver", Name: "requests-latency", Objective: 99, Window: "30d",
				Description: "Requests to the API server answered within 400ms.",
				Bad:         "(\n  sum(rate(apiserver_request_duration_seconds_count{verb!=\"WATCH\"}[{{.window}}]))\n  -\n  sum(rate(apiserver_request_duration_seconds_bucket{le=\"0.4\",verb!=\"WATCH\"}[{{.window}}]))\n)",
				Total:       `sum(rate(apiserver_request_duration_seconds_count{verb!="WATCH"}[{{.window}}]))`,
				Format:      Sloth, At: "sloth-multifile.yml:51:11",
			},
		}},
		{"openslo-v1alpha.yml", OpenSLO, []SLO{
			{
				Service: "k8s-apiserver", Name: "requests-availability", Objective: 99.9, Window: "30d",
				Description: "Requests answered without a server error.",
				Good:        `sum(rate(apiserver_request_total{code!~"(5..|429)"}[{{.window}}]))`,
				Total:       `sum(rate(apiserver_request_total[{{.window}}]))`,
				Format:      OpenSLO, At: "openslo-v1alpha.yml:7:9",
			},
			{
				Service: "k8s-apiserver", Name: "requests-latency-0", Objective: 99, Window: "4w",
				Description: "Requests answered fast enough.",
				Good:        `sum(rate(apiserver_request_duration_seconds_bucket{le="0.4",verb!="WATCH"}[{{.window}}]))`,
				Total:       `sum(rate(apiserver_request_duration_seconds_count{verb!="WATCH"}[{{.window}}]))`,
				Format:      OpenSLO, At: "openslo-v1alpha.yml:32:9",
			},
			{
				Service: "k8s-apiserver", Name: "requests-latency-1", Objective: 99.9, Window: "4w",
				Description: "Requests answered fast enough.",
				Good:        `sum(rate(apiserver_request_duration_seconds_bucket{le="5",verb!="WATCH"}[{{.window}}]))`,
				Total:       `sum(rate(apiserver_request_duration_seconds_count{verb!="WATCH"}[{{.window}}]))`,
				Format:      OpenSLO, At: "openslo-v1alpha.yml:32:9",
			},
		}},
		{"openslo-v1-inline.yml", OpenSLO, []SLO{{
			Service: "web-shop", Name: "main-page", Objective: 99.5, Window: "28d",
			Description: "The main page answers without a server error.",
			Good:        `sum(rate(http_requests_total{handler="/",code!~"5.."}[{{.window}}]))`,
			Total:       `sum(rate(http_requests_total{handler="/"}[{{.window}}]))`,
			Format:      OpenSLO, At: "openslo-v1-inline.yml:6:9",
		}}},
		{"openslo-v1-refs.yml", OpenSLO, []SLO{{
			Service: "checkout", Name: "payment-latency", Objective: 99.5, Window: "2w",
			Description: "Payments answered within 300ms.",
			Bad:         `sum(rate(payment_duration_seconds_count{job="checkout"}[{{.window}}])) - sum(rate(payment_duration_seconds_bucket{job="checkout",le="0.3"}[{{.window}}]))`,
			Total:       `sum(rate(payment_duration_seconds_count{job="checkout"}[{{.window}}]))`,
			URL:         "http://thanos-query.monitoring:9090",
			Format:      OpenSLO, At: "openslo-v1-refs.yml:15:9",
		}}},
		{"openslo-v1-list.yml", OpenSLO, []SLO{{
			Service: "search", Name: "search-availability", Objective: 99.5, Window: "1w",
			Description: "Searches answered without a server error.",
			Good:        `sum(rate(http_requests_total{component="search",code=~"2..|4.."}[{{.window}}]))`,
			Total:       `sum(rate(http_requests_total{component="search"}[{{.window}}]))`,
			Format:      OpenSLO, At: "openslo-v1-list.yml:12:11",
		}}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			format, got, err := Parse(tt.file, data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if format != tt.format {
				t.Errorf("format %q, want %q", format, tt.format)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

// TestParseNative: budgetgate's own form is left to its own parser.
func TestParseNative(t *testing.T) {
	for _, src := range []string{
		"service: checkout\nslo_target: 99.9\n",
		"service: checkout\n---\nservice: other\n",
		"- a list\n",
	} {
		format, slos, err := Parse("p.yaml", []byte(src))
		if format != Native || slos != nil || err != nil {
			t.Errorf("%q: %q, %v, %v; want the native form, no SLOs, no error", src, format, slos, err)
		}
	}
}

const slothHead = "version: prometheus/v1\nservice: checkout\nslos:\n  - name: availability\n    objective: 99.9\n"

const openSLOHead = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: availability
spec:
  service: checkout
`

const v1Indicator = `  indicator:
    metadata:
      name: responses
    spec:
      ratioMetric:
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(ok_total[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(all_total[{{.window}}]))
`

const v1Objectives = "  objectives:\n    - target: 0.999\n"

// rawV1 is an SLO whose good query is a raw counter, sum(ok_total), with
// the ratioMetric's counter line (or none) given.
func rawV1(counterLine string) string {
	src := strings.Replace(openSLOHead+v1Indicator+v1Objectives, "ratioMetric:\n", "ratioMetric:\n"+counterLine, 1)
	return strings.Replace(src, "sum(rate(ok_total[{{.window}}]))", "sum(ok_total)", 1)
}

// TestParseRefusals: what budgetgate does not support, and what is wrong,
// is refused naming the field with its line and column, and no SLO comes
// back.
func TestParseRefusals(t *testing.T) {
	for _, tt := range []struct {
		name, src, field, want string
	}{
		{"sloth raw SLI", slothHead + "    sli:\n      raw:\n        error_ratio_query: x\n", "f.yaml:7:7", "slos[0].sli.raw is not supported"},
		{"sloth plugin SLI", slothHead + "    sli:\n      plugin:\n        id: x\n", "f.yaml:7:7", "slos[0].sli.plugin is not supported"},
		{"sloth SLO plugins", slothHead + "    plugins:\n      chain: []\n", "f.yaml:6:5", "slos[0].plugins is not supported"},
		{"sloth service plugins", "version: prometheus/v1\nservice: a\nslo_plugins:\n  chain: []\nslos: []\n", "f.yaml:3:1", "slo_plugins is not supported"},
		{"sloth unknown key", slothHead + "    objectve: 99\n", "f.yaml:6:5", `unknown key "objectve" in slos[0]`},
		{"sloth objective out of range", "version: prometheus/v1\nservice: a\nslos:\n  - name: x\n    objective: 100\n", "f.yaml:5:16", "objective must be a percentage between 0 and 100"},
		{"sloth missing total", slothHead + "    sli:\n      events:\n        error_query: sum(rate(e[{{.window}}]))\n", "f.yaml:8:9", "slos[0].sli.events.total_query is required"},
		{"sloth query without window", slothHead + "    sli:\n      events:\n        error_query: sum(e)\n        total_query: sum(rate(t[{{.window}}]))\n", "f.yaml:8:22", "must be a per-second rate over {{.window}}"},
		{"sloth bad service name", "version: prometheus/v1\nservice: Checkout\nslos: []\n", "f.yaml:2:10", `service "Checkout" must be lower-case`},
		{"sloth other version", "version: prometheus/v2\nservice: a\n", "f.yaml:1:10", `version "prometheus/v2" is not supported`},
		{"sloth kubernetes resource", "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\n", "f.yaml:1:13", "Sloth's Kubernetes resource"},
		{"sloth no SLOs", "version: prometheus/v1\nservice: a\nslos: []\n", "f.yaml:1:1", "the file defines no SLO"},
		{"sloth duplicate SLO", "version: prometheus/v1\nservice: a\nslos:\n" +
			"  - {name: x, objective: 99, sli: {events: {error_query: 'rate(e[{{.window}}])', total_query: 'rate(t[{{.window}}])'}}}\n" +
			"  - {name: x, objective: 98, sli: {events: {error_query: 'rate(e[{{.window}}])', total_query: 'rate(t[{{.window}}])'}}}\n",
			"f.yaml:5:12", `SLO "x" of service "a" is defined twice (first at f.yaml:4:12)`},

		{"openslo timeslices", openSLOHead + "  budgetingMethod: Timeslices\n", "f.yaml:7:20", "spec.budgetingMethod Timeslices is not supported"},
		{"openslo ratio timeslices", openSLOHead + "  budgetingMethod: RatioTimeslices\n", "f.yaml:7:20", "spec.budgetingMethod RatioTimeslices is not supported"},
		{"openslo time slice target", openSLOHead + v1Indicator + "  objectives:\n    - target: 0.99\n      timeSliceTarget: 0.9\n", "f.yaml:24:7", "spec.objectives[0].timeSliceTarget is not supported: Timeslices"},
		{"openslo calendar window", openSLOHead + "  timeWindow:\n    - duration: 1M\n      calendar:\n        startTime: 2020-01-21 12:30:00\n        timeZone: UTC\n", "f.yaml:9:7", "spec.timeWindow[0].calendar is not supported: calendar windows"},
		{"openslo not rolling", openSLOHead + "  timeWindow:\n    - duration: 30d\n      isRolling: false\n", "f.yaml:9:18", "isRolling false is not supported"},
		{"openslo month window", openSLOHead + "  timeWindow:\n    - duration: 1M\n      isRolling: true\n", "f.yaml:8:17", `spec.timeWindow[0].duration "1M" is not supported`},
		{"openslo two windows", openSLOHead + "  timeWindow:\n    - duration: 7d\n    - duration: 30d\n", "f.yaml:8:5", "exactly one window, not 2"},
		{"openslo threshold metric", openSLOHead + "  indicator:\n    metadata:\n      name: latency\n    spec:\n      thresholdMetric:\n        metricSource:\n          type: Prometheus\n", "f.yaml:11:7", "spec.indicator.spec.thresholdMetric is not supported"},
		{"openslo raw ratio", openSLOHead + "  indicator:\n    spec:\n      ratioMetric:\n        rawType: success\n        raw:\n          metricSource: {type: Prometheus}\n", "f.yaml:11:9", "spec.indicator.spec.ratioMetric.raw is not supported"},
		{"openslo other source", strings.Replace(openSLOHead+v1Indicator+v1Objectives, "type: Prometheus", "type: Datadog", 1), "f.yaml:14:19", `metric source type "Datadog" is not supported`},
		{"openslo gauge without window", rawV1("        counter: false\n"), "f.yaml:12:18", "spec.indicator.spec.ratioMetric.counter false is not supported: spec.indicator.spec.ratioMetric.good.metricSource.spec.query has no {{.window}}, and a gauge is no count of events"},
		{"openslo unmarked without window", rawV1(""), "f.yaml:16:22", "spec.indicator.spec.ratioMetric.good.metricSource.spec.query has no {{.window}}: if it is a counter, say so with spec.indicator.spec.ratioMetric.counter: true"},
		{"openslo counter not a bool", rawV1("        counter: 1\n"), "f.yaml:12:18", "spec.indicator.spec.ratioMetric.counter must be true or false"},
		{"openslo counter over a fixed range", strings.Replace(rawV1("        counter: true\n"), "sum(ok_total)", "sum(rate(ok_total[5m]))", 1), "f.yaml:17:22", "takes a rate over a fixed range, so it is no counter whatever spec.indicator.spec.ratioMetric.counter says"},
		{"openslo v1alpha not incremental", "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: a\n  objectives:\n    - target: 0.9\n      ratioMetrics:\n        incremental: false\n        good: {source: prometheus, query: sum(ok)}\n        total: {source: prometheus, query: sum(all)}\n", "f.yaml:9:22", "spec.objectives[0].ratioMetrics.incremental false is not supported"},
		{"openslo v1alpha unmarked", "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: a\n  objectives:\n    - target: 0.9\n      ratioMetrics:\n        good: {source: prometheus, query: sum(ok)}\n        total: {source: prometheus, query: sum(all)}\n", "f.yaml:9:43", "say so with spec.objectives[0].ratioMetrics.incremental: true"},
		{"openslo good and bad", openSLOHead + "  indicator:\n    spec:\n      ratioMetric:\n        good: {}\n        bad: {}\n", "f.yaml:10:9", "give good or bad (not both), and total"},
		{"openslo missing indicator", openSLOHead + v1Objectives, "f.yaml:6:3", "spec.indicator or spec.indicatorRef is required"},
		{"openslo dangling indicatorRef", openSLOHead + "  indicatorRef: nowhere\n" + v1Objectives, "f.yaml:7:17", `no SLI named "nowhere" in this file`},
		{"openslo dangling data source", strings.Replace(openSLOHead+v1Indicator+v1Objectives, "type: Prometheus", "metricSourceRef: prom", 1), "f.yaml:14:30", `no DataSource named "prom" in this file`},
		{"openslo target out of range", openSLOHead + v1Indicator + "  objectives:\n    - target: 99.9\n", "f.yaml:23:15", "target must be a ratio between 0 and 1"},
		{"openslo target and percent", openSLOHead + v1Indicator + "  objectives:\n    - target: 0.99\n      targetPercent: 99\n", "f.yaml:24:7", "give target or targetPercent, not both"},
		{"openslo no target", openSLOHead + v1Indicator + "  objectives:\n    - displayName: x\n", "f.yaml:23:7", "target (0 to 1) or targetPercent is required"},
		{"openslo composite", openSLOHead + v1Indicator + "  objectives:\n    - target: 0.99\n      indicatorRef: other\n", "f.yaml:24:7", "spec.objectives[0].indicatorRef is not supported: a composite SLO"},
		{"openslo unknown key", openSLOHead + "  budgetMethod: Occurrences\n", "f.yaml:7:3", `unknown key "budgetMethod" in spec`},
		{"openslo unknown kind", "apiVersion: openslo/v1\nkind: Dashboard\nmetadata: {name: x}\n", "f.yaml:2:7", `kind "Dashboard" is not an openslo/v1 kind`},
		{"openslo other version", "apiVersion: openslo/v2alpha\nkind: SLO\n", "f.yaml:1:13", `apiVersion "openslo/v2alpha" is not supported`},
		{"openslo bad name", strings.Replace(openSLOHead, "name: availability", "name: Availability", 1), "f.yaml:4:9", `metadata.name "Availability" must be lower-case`},
		{"openslo data source URL", strings.Replace(openSLOHead+v1Indicator+v1Objectives, "type: Prometheus", "metricSourceRef: prom", 1) +
			"---\napiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: prom}\nspec:\n  type: Prometheus\n  connectionDetails: {url: 'prom:9090'}\n",
			"f.yaml:30:28", `spec.connectionDetails.url "prom:9090" must be an http or https URL`},
		{"a list of objects, one unsupported", "- apiVersion: openslo/v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: openslo/v1\n  kind: SLO\n  metadata: {name: b}\n  spec:\n    service: c\n    budgetingMethod: Timeslices\n", "f.yaml:9:22", "spec.budgetingMethod Timeslices is not supported"},
		{"a list that is no OpenSLO", "- a\n- b\n", "", ""},
		{"openslo v1alpha threshold", "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: a\n  indicator:\n    thresholdMetric: {}\n", "f.yaml:6:3", "spec.indicator is not supported"},
		{"openslo v1alpha other source", "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: a\n  objectives:\n    - target: 0.9\n      ratioMetrics:\n        good: {source: datadog, query: x}\n        total: {source: prometheus, query: x}\n", "f.yaml:9:24", `spec.objectives[0].ratioMetrics.good.source "datadog" is not supported`},
		{"openslo v1alpha hours", "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: a\n  timeWindows:\n    - {count: 12, unit: Hour}\n", "f.yaml:7:25", `spec.timeWindows[0].unit "Hour" is not supported`},
		{"a native document after an OpenSLO one", "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: a}\n---\nservice: a\n", "f.yaml:5:1", "has neither version nor apiVersion"},
		{"an OpenSLO document after a native one", "service: a\n---\napiVersion: openslo/v1\n", "", ""},
		{"second document broken", openSLOHead + v1Indicator + v1Objectives + "---\nkind: [\n", "f.yaml:25", "invalid YAML"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			format, slos, err := Parse("f.yaml", []byte(tt.src))
			if tt.want == "" {
				if format != Native || err != nil {
					t.Fatalf("%q, %v; want the native parser to take the file", format, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want %q (got %d SLOs)", tt.want, len(slos))
			}
			if slos != nil {
				t.Errorf("an error and %d SLOs: nothing may be half-imported", len(slos))
			}
			e, ok := err.(*budgetgate.Error)
			if !ok || e.Code != budgetgate.EINVALID {
				t.Fatalf("%T %v; want an invalid-input error", err, err)
			}
			if e.Field != tt.field || !strings.Contains(e.Message, tt.want) {
				t.Errorf("field %q, message %q; want field %q and a message saying %q", e.Field, e.Message, tt.field, tt.want)
			}
		})
	}
}

// TestParseTargets: an OpenSLO target is a ratio, read as the decimal it
// was written as, so that 0.999 is 99.9 on the dot.
func TestParseTargets(t *testing.T) {
	for _, tt := range []struct {
		objective string
		want      float64
	}{
		{"target: 0.999", 99.9},
		{"target: 0.9995", 99.95},
		{"target: 0.99", 99},
		{"targetPercent: 99.95", 99.95},
		{"targetPercent: 95", 95},
	} {
		t.Run(tt.objective, func(t *testing.T) {
			_, slos, err := Parse("f.yaml", []byte(openSLOHead+v1Indicator+"  objectives:\n    - "+tt.objective+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if slos[0].Objective != tt.want {
				t.Errorf("objective %v, want %v", slos[0].Objective, tt.want)
			}
		})
	}
}

// TestParseCounters: a query without {{.window}} that the document marks
// as a counter (OpenSLO v1 ratioMetric.counter, v1alpha
// ratioMetrics.incremental) is pulled as its per-second rate over
// {{.window}}; a query that is already a rate is kept as written.
func TestParseCounters(t *testing.T) {
	v1 := func(counter, good, total string) string {
		return openSLOHead + "  indicator:\n    spec:\n      ratioMetric:\n" + counter +
			"        good:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: " + good +
			"\n        total:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: " + total +
			"\n" + v1Objectives
	}
	alpha := func(incremental, good, total string) string {
		return "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: a\n  objectives:\n    - target: 0.99\n      ratioMetrics:\n" +
			incremental + "        good: {source: prometheus, query: '" + good + "'}\n        total: {source: prometheus, query: '" + total + "'}\n"
	}
	for _, tt := range []struct {
		name, src, good, total string
	}{
		// The shape of OpenSLO's own ratioMetric example.
		{"v1 counter sums", v1("        counter: true\n", `'sum(localhost_server_requests{code=~"2xx|3xx"})'`, `'sum(localhost_server_requests{code="total"})'`),
			`rate((sum(localhost_server_requests{code=~"2xx|3xx"}))[{{.window}}:1m])`, `rate((sum(localhost_server_requests{code="total"}))[{{.window}}:1m])`},
		{"v1 counter rates kept", v1("        counter: true\n", "sum(rate(ok_total[{{ .window }}]))", "sum(rate(all_total[{{.window}}]))"),
			"sum(rate(ok_total[{{.window}}]))", "sum(rate(all_total[{{.window}}]))"},
		{"v1 counter, one query a rate", v1("        counter: true\n", "sum(ok_total)", "sum(rate(all_total[{{.window}}]))"),
			"rate((sum(ok_total))[{{.window}}:1m])", "sum(rate(all_total[{{.window}}]))"},
		{"v1 gauge rates kept", v1("        counter: false\n", "sum(rate(ok_total[{{.window}}]))", "sum(rate(all_total[{{.window}}]))"),
			"sum(rate(ok_total[{{.window}}]))", "sum(rate(all_total[{{.window}}]))"},
		{"v1 counter with a comment", v1("        counter: true\n", "'sum(ok_total) # served'", "all_total"),
			"rate((\nsum(ok_total) # served\n)[{{.window}}:1m])", "rate((all_total)[{{.window}}:1m])"},
		{"v1alpha incremental", alpha("        incremental: true\n", "sum(ok_total)", "sum(all_total)"),
			"rate((sum(ok_total))[{{.window}}:1m])", "rate((sum(all_total))[{{.window}}:1m])"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, slos, err := Parse("f.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if len(slos) != 1 || slos[0].Good != tt.good || slos[0].Total != tt.total {
				t.Fatalf("got %+v\nwant good %q, total %q", slos, tt.good, tt.total)
			}
		})
	}
}
