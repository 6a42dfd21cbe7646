package main

import (
	"io"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestPrometheusFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		url       string
		headers   map[string]string
		staleness time.Duration
		wantErr   string
	}{
		{name: "defaults", headers: map[string]string{}, staleness: 10 * time.Minute},
		{name: "flags", args: []string{"--prometheus", "http://mimir:9009/prometheus", "--prometheus-header", "X-Scope-OrgID=team-a",
			"--prometheus-header", "X-Extra=a=b,c", "--prometheus-max-staleness", "15m"},
			url: "http://mimir:9009/prometheus", headers: map[string]string{"X-Scope-OrgID": "team-a", "X-Extra": "a=b,c"}, staleness: 15 * time.Minute},
		{name: "environment", env: map[string]string{"BUDGETGATE_PROMETHEUS": "https://prom.internal", "BUDGETGATE_PROMETHEUS_HEADER": "X-Scope-OrgID=t"},
			url: "https://prom.internal", headers: map[string]string{"X-Scope-OrgID": "t"}, staleness: 10 * time.Minute},
		{name: "a header without a value", args: []string{"--prometheus", "http://p", "--prometheus-header", "X-Scope-OrgID"}, wantErr: "want NAME=VALUE"},
		{name: "a header budgetgate sets", args: []string{"--prometheus", "http://p", "--prometheus-header", "Authorization=Bearer x"},
			wantErr: "Authorization is set by budgetgate itself"},
		{name: "not a URL", args: []string{"--prometheus", "prom:9090"}, wantErr: `--prometheus "prom:9090": want an http or https URL`},
		{name: "staleness under a pull", args: []string{"--prometheus-max-staleness", "90s"}, wantErr: "--prometheus-max-staleness: 1m30s is shorter than one pull"},
		{name: "a token without a source", args: []string{"--prometheus-bearer-token-file", "/run/token"}, wantErr: "need --prometheus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out strings.Builder
			fs := newFlags("serve", "serve", io.Discard)
			fs.SetOutput(&out)
			var c prometheusConfig
			c.register(fs)
			_, ok := parseFlags(fs, tt.args)
			var err error
			if ok {
				err = c.validate()
			}
			if tt.wantErr != "" {
				got := out.String()
				if err != nil {
					got += err.Error()
				}
				if !strings.Contains(got, tt.wantErr) {
					t.Fatalf("error %q, want it to contain %q", got, tt.wantErr)
				}
				return
			}
			if !ok || err != nil {
				t.Fatalf("refused: %s %v", out.String(), err)
			}
			if c.url != tt.url || !maps.Equal(c.headers, tt.headers) || c.maxStaleness != tt.staleness {
				t.Errorf("got %q %v %s, want %q %v %s", c.url, c.headers, c.maxStaleness, tt.url, tt.headers, tt.staleness)
			}
		})
	}
}
