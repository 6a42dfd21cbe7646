package main

import (
	"io"
	"testing"
)

func TestLimitFlags(t *testing.T) {
	tests := []struct {
		name                   string
		args                   []string
		env                    map[string]string
		login, ingest, proxies string
		ok                     bool
	}{
		{name: "defaults", login: "30/m", ingest: "100/s", ok: true},
		{name: "flags", args: []string{"--rate-login", "5/m", "--rate-ingest", "off", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "192.168.0.1"},
			login: "5/m", ingest: "off", proxies: "10.0.0.0/8,192.168.0.1/32", ok: true},
		{name: "environment", env: map[string]string{"BUDGETGATE_RATE_INGEST": "20/s", "BUDGETGATE_TRUSTED_PROXY": "10.1.0.0/16,10.2.0.0/16"},
			login: "30/m", ingest: "20/s", proxies: "10.1.0.0/16,10.2.0.0/16", ok: true},
		{name: "a rate without a period", args: []string{"--rate-login", "30"}},
		{name: "a proxy that is a name", args: []string{"--trusted-proxy", "proxy.internal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs := newFlags("serve", "serve", io.Discard)
			var l limitsConfig
			l.register(fs)
			_, ok := parseFlags(fs, tt.args)
			if ok != tt.ok {
				t.Fatalf("parsed = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if got := [3]string{l.login.String(), l.ingest.String(), l.proxies.String()}; got != [3]string{tt.login, tt.ingest, tt.proxies} {
				t.Errorf("got %v, want %v", got, [3]string{tt.login, tt.ingest, tt.proxies})
			}
		})
	}
}
