package devidp

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestStartRefusesNonLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"192.0.2.10:0", false}, // refused before any listening
		{"example.test:0", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			p, err := Start(tt.addr, DemoUsers)
			if (err == nil) != tt.ok {
				t.Fatalf("Start(%q) err = %v, want ok=%v", tt.addr, err, tt.ok)
			}
			if p != nil {
				p.Close()
			}
		})
	}
}

func TestChooserListsDemoUsersAndKeepsTheRequest(t *testing.T) {
	p, err := Start("127.0.0.1:0", DemoUsers)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q := url.Values{"client_id": {p.ClientID}, "response_type": {"code"}, "scope": {"openid groups"},
		"redirect_uri": {"http://127.0.0.1:1/auth/callback"}, "state": {"s1"}, "nonce": {"n1"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	authorize := strings.TrimSuffix(p.Issuer, "/oidc") + "/oidc/authorize?" + q.Encode()
	resp, err := http.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, u := range DemoUsers {
		if !strings.Contains(string(body), `data-testid="login-`+u.Subject+`"`) {
			t.Errorf("chooser lacks %s", u.Subject)
		}
	}
	if !strings.Contains(string(body), `name="state" value="s1"`) {
		t.Error("chooser drops the request's state")
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		user   string
		status int
	}{{"ccb-alice", http.StatusFound}, {"mallory", http.StatusBadRequest}} {
		resp, err := noRedirect.Get(authorize + "&login_as=" + tt.user)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("login_as=%s: %d, want %d", tt.user, resp.StatusCode, tt.status)
		}
		if tt.status == http.StatusFound && !strings.Contains(resp.Header.Get("Location"), "state=s1") {
			t.Errorf("redirect %s lacks the state", resp.Header.Get("Location"))
		}
	}
}
