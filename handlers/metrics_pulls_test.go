package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/budgetgate/budgetgate/promsli"
)

// The pull families parse as Prometheus's own text format, with the
// source's error message intact in a label.
func TestExposePulls(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	msg := `total query: 1:34: parse error: unclosed left parenthesis in "sum(rate(x[5m])"` + "\nsecond line"
	all := []promsli.Progress{
		{Service: "checkout", SLO: "availability", Pulled: 20000, ToPull: 43199, Newest: now.Add(-29 * 24 * time.Hour), MaxStaleness: 10 * time.Minute, LastPull: now},
		{Service: "checkout", SLO: "latency", Pulled: 1, ToPull: 1, Newest: now.Add(-time.Minute), MaxStaleness: 10 * time.Minute, LastPull: now},
		{Service: "search", SLO: "availability", Newest: now.Add(-time.Hour), MaxStaleness: 10 * time.Minute, LastPull: now.Add(-time.Hour), Error: msg},
	}
	var x Exposition
	exposePulls(&x, all, now)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(x.Bytes())))
	if err != nil {
		t.Fatalf("not valid exposition: %v\n%s", err, x.Bytes())
	}
	value := func(family string, labels map[string]string) (float64, bool) {
		for _, m := range families[family].GetMetric() {
			match := 0
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] == l.GetValue() {
					match++
				}
			}
			if match == len(labels) {
				return m.GetGauge().GetValue(), true
			}
		}
		return 0, false
	}
	tests := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"budgetgate_sli_pull_state", map[string]string{"service": "checkout", "slo": "availability", "state": "backfilling"}, 1},
		{"budgetgate_sli_pull_state", map[string]string{"service": "checkout", "slo": "availability", "state": "stale"}, 0},
		{"budgetgate_sli_pull_state", map[string]string{"service": "checkout", "slo": "latency", "state": "following"}, 1},
		{"budgetgate_sli_pull_state", map[string]string{"service": "search", "slo": "availability", "state": "stale"}, 1},
		{"budgetgate_sli_pull_progress_ratio", map[string]string{"service": "checkout", "slo": "availability"}, 20000.0 / 43199},
		{"budgetgate_sli_pull_newest_timestamp_seconds", map[string]string{"service": "checkout", "slo": "latency"}, float64(now.Add(-time.Minute).Unix())},
		{"budgetgate_sli_pull_failing", map[string]string{"service": "search", "slo": "availability"}, 1},
		{"budgetgate_sli_pull_failing", map[string]string{"service": "checkout", "slo": "latency"}, 0},
		{"budgetgate_sli_pull_error_info", map[string]string{"service": "search", "slo": "availability", "error": msg}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.family+"/"+tt.labels["slo"]+"/"+tt.labels["state"], func(t *testing.T) {
			got, ok := value(tt.family, tt.labels)
			if !ok || got != tt.want {
				t.Errorf("%s%v = %v (found %v), want %v", tt.family, tt.labels, got, ok, tt.want)
			}
		})
	}
	if n := len(families["budgetgate_sli_pull_error_info"].GetMetric()); n != 1 {
		t.Errorf("%d error samples, want only the failing SLO's", n)
	}
}
