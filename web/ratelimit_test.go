package web

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		bad  bool
	}{
		{in: "30/m", want: Rate{30, time.Minute}},
		{in: "100/s", want: Rate{100, time.Second}},
		{in: " 500/h ", want: Rate{500, time.Hour}},
		{in: "off"},
		{in: "0"},
		{in: "30", bad: true},
		{in: "30/d", bad: true},
		{in: "-1/s", bad: true},
		{in: "0/s", bad: true},
		{in: "x/m", bad: true},
		{in: "2000000/s", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if (err != nil) != tt.bad || got != tt.want {
				t.Fatalf("ParseRate(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
			}
			if err == nil {
				if again, err := ParseRate(got.String()); err != nil || again != got {
					t.Errorf("%v does not read back: %v, %v", got, again, err)
				}
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "10.0.0.0/8, 192.168.1.7", want: []string{"10.0.0.0/8", "192.168.1.7/32"}},
		{in: "fd00::/8,::1", want: []string{"fd00::/8", "::1/128"}},
		{in: "", want: nil},
		{in: "10.0.0.0/33", bad: true},
		{in: "proxy.internal", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			nets, err := ParseTrustedProxies(tt.in)
			if (err != nil) != tt.bad {
				t.Fatalf("error %v, want error %v", err, tt.bad)
			}
			var got []string
			for _, n := range nets {
				got = append(got, n.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func mustCIDRs(t *testing.T, s string) []*net.IPNet {
	t.Helper()
	n, err := ParseTrustedProxies(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRateLimits: sign-in and ingest are limited per client address with a
// 429 and Retry-After; other routes are not. The client address is the
// connection's unless a trusted proxy says otherwise, and a client cannot
// pick its own by sending X-Forwarded-For.
func TestRateLimits(t *testing.T) {
	t.Run("sign-in", func(t *testing.T) {
		// Per hour: no allowance comes back while the test runs, however slow.
		h := newHarness(t, harnessOptions{config: func(c *Config) { c.RateLogin = Rate{3, time.Hour} }})
		anon := &agent{h: h}
		for i := range 3 {
			// A forged X-Forwarded-For changes nothing: no proxy is trusted.
			if resp, _ := anon.do(t, "GET", "/login", "", nil, "X-Forwarded-For", "203.0.113."+string(rune('1'+i))); resp.StatusCode != http.StatusFound {
				t.Fatalf("sign-in %d: %d", i+1, resp.StatusCode)
			}
		}
		resp, body := anon.do(t, "GET", "/auth/callback?code=x&state=y", "", nil, "X-Forwarded-For", "198.51.100.9")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1200" || !strings.Contains(body, "<html") {
			t.Fatalf("fourth sign-in request: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if resp, _ := anon.get(t, "/health"); resp.StatusCode != http.StatusOK {
			t.Errorf("/health after the limit: %d", resp.StatusCode)
		}
	})
	t.Run("ingest", func(t *testing.T) {
		h := newHarness(t, harnessOptions{config: func(c *Config) { c.RateIngest = Rate{2, time.Hour} }})
		sli := `{"events":[{"time":"` + time.Now().UTC().Add(-time.Hour).Format(time.RFC3339) + `","good":1,"total":1}]}`
		for i := range 2 {
			if status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/services/ledger/sli", sli); status != http.StatusAccepted {
				t.Fatalf("ingest %d: %d %s", i+1, status, raw)
			}
		}
		for _, path := range []string{"/api/v1/services/ledger/sli", "/api/v1/budget/analyze"} {
			status, raw, hdr := h.api(t, h.Token, "POST", path, sli)
			var e apiError
			json.Unmarshal([]byte(raw), &e)
			if status != http.StatusTooManyRequests || e.Error.Code != "rate_limited" || hdr.Get("Retry-After") != "1800" {
				t.Errorf("%s over the limit: %d %s, Retry-After %q", path, status, raw, hdr.Get("Retry-After"))
			}
		}
		// Unauthenticated floods are counted too: the limit comes first.
		if status, _, _ := h.api(t, "", "POST", "/api/v1/services/ledger/sli", sli); status != http.StatusTooManyRequests {
			t.Errorf("without a token over the limit: %d", status)
		}
		if status, _, _ := h.api(t, h.Token, "POST", "/api/v1/releases/evaluate", `{"service":"ledger","version":"1"}`); status != http.StatusOK {
			t.Errorf("the gate is not ingest: %d", status)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		h := newHarness(t, harnessOptions{config: func(c *Config) {
			c.RateLogin = Rate{1, time.Hour}
			c.TrustedProxies = mustCIDRs(t, "127.0.0.1")
		}})
		anon := &agent{h: h}
		steps := []struct {
			xff    string
			status int
		}{
			{"203.0.113.1", http.StatusFound},
			{"203.0.113.1", http.StatusTooManyRequests},
			{"203.0.113.2", http.StatusFound}, // another client behind the proxy
			// A client that writes its own X-Forwarded-For before the
			// proxy's entry is still known by the address the proxy saw.
			{"192.0.2.50, 203.0.113.1", http.StatusTooManyRequests},
		}
		for i, s := range steps {
			if resp, _ := anon.do(t, "GET", "/login", "", nil, "X-Forwarded-For", s.xff); resp.StatusCode != s.status {
				t.Errorf("step %d (%s): %d, want %d", i, s.xff, resp.StatusCode, s.status)
			}
		}
	})
	t.Run("an untrusted peer's X-Forwarded-For", func(t *testing.T) {
		// Proxies are configured, but the peer (loopback) is not one of
		// them: Echo would trust loopback by default; here it must not.
		h := newHarness(t, harnessOptions{config: func(c *Config) {
			c.RateLogin = Rate{1, time.Hour}
			c.TrustedProxies = mustCIDRs(t, "10.0.0.0/8")
		}})
		anon := &agent{h: h}
		anon.do(t, "GET", "/login", "", nil, "X-Forwarded-For", "203.0.113.1")
		if resp, _ := anon.do(t, "GET", "/login", "", nil, "X-Forwarded-For", "203.0.113.2"); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("another X-Forwarded-For from an untrusted peer: %d, want 429", resp.StatusCode)
		}
	})
}
