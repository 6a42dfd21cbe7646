package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/golang-jwt/jwt/v5"
)

// fakeIdP is an OIDC provider small enough to lie on purpose: discovery, a
// JWKS with one RSA key, and a token endpoint that answers with whatever ID
// token the test crafted for the next exchange. It records what the client
// sent, so that a test can check the PKCE verifier and the client's secret.
type fakeIdP struct {
	URL, ClientID, Secret string
	Key                   *rsa.PrivateKey

	mu       sync.Mutex
	idToken  string     // answered by the next exchange; "" answers without one
	exchange url.Values // the last token request's form
	basic    [2]string  // its HTTP basic credentials
}

func newFakeIdP(t testing.TB) *fakeIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIdP{ClientID: "budgetgate", Secret: "the-client-secret", Key: key}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.URL, "authorization_endpoint": f.URL + "/authorize", "token_endpoint": f.URL + "/token",
			"jwks_uri": f.URL + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			// Advertising HS256 and none must not make the client accept them.
			"id_token_signing_alg_values_supported": []string{"RS256", "HS256", "none"},
			"code_challenge_methods_supported":      []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.exchange = r.PostForm
		f.basic[0], f.basic[1], _ = r.BasicAuth()
		ans := map[string]any{"access_token": "opaque", "token_type": "Bearer", "expires_in": 300}
		if f.idToken != "" {
			ans["id_token"] = f.idToken
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(ans)
	})
	return f
}

// claims are an honest ID token's for nonce, which the cases then spoil.
func (f *fakeIdP) claims(nonce string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": f.URL, "sub": "u-1", "aud": f.ClientID, "nonce": nonce, "name": "Olga Idp",
		"groups": []string{"ccb"}, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
}

func (f *fakeIdP) sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// callback runs /login, has the provider answer the code exchange with the
// ID token craft makes for the nonce /login chose, and returns the
// callback's answer. Cookies travel by hand, so that Secure ones work over
// the test's plain http.
func (f *fakeIdP) callback(t *testing.T, h *harness, craft func(nonce string) string) (*http.Response, string) {
	t.Helper()
	anon := &agent{h: h}
	resp, _ := anon.get(t, "/login?next=/ccb")
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), f.URL+"/authorize?") {
		t.Fatalf("/login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	f.mu.Lock()
	f.idToken = craft(q.Get("nonce"))
	f.mu.Unlock()
	var flow *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "flow") {
			flow = c
		}
	}
	if flow == nil {
		t.Fatalf("/login set no flow cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	back := &agent{h: h, Cookie: flow}
	resp, body := back.get(t, "/auth/callback?code=the-code&state="+url.QueryEscape(q.Get("state")))
	// PKCE: the verifier sent with the code is the one the challenge was made from.
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := sha256.Sum256([]byte(f.exchange.Get("code_verifier")))
	if q.Get("code_challenge_method") != "S256" || base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") {
		t.Errorf("PKCE: challenge %q (%s), verifier %q", q.Get("code_challenge"), q.Get("code_challenge_method"), f.exchange.Get("code_verifier"))
	}
	if f.exchange.Get("code") != "the-code" || f.basic != [2]string{f.ClientID, f.Secret} {
		t.Errorf("code exchange: code %q, client %q", f.exchange.Get("code"), f.basic[0])
	}
	return resp, body
}

// TestIDTokenRefusals drives /login -> /auth/callback against a provider
// that answers with forged or spoiled ID tokens: only the honest one signs
// anyone in.
func TestIDTokenRefusals(t *testing.T) {
	idp := newFakeIdP(t)
	h := newHarness(t, harnessOptions{idp: idp})
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	spoil := func(change func(jwt.MapClaims)) func(string) string {
		return func(nonce string) string {
			c := idp.claims(nonce)
			change(c)
			return idp.sign(t, jwt.SigningMethodRS256, idp.Key, c)
		}
	}
	tests := []struct {
		name  string
		craft func(nonce string) string
		ok    bool
	}{
		{"honest", spoil(func(jwt.MapClaims) {}), true},
		{"wrong issuer", spoil(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }), false},
		{"wrong audience", spoil(func(c jwt.MapClaims) { c["aud"] = "another-client" }), false},
		{"expired", spoil(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		}), false},
		{"another sign-in's nonce", spoil(func(c jwt.MapClaims) { c["nonce"] = "someone-elses" }), false},
		{"no nonce", spoil(func(c jwt.MapClaims) { delete(c, "nonce") }), false},
		{"alg none", func(nonce string) string {
			return idp.sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, idp.claims(nonce))
		}, false},
		{"HS256 keyed with the client secret", func(nonce string) string {
			return idp.sign(t, jwt.SigningMethodHS256, []byte(idp.Secret), idp.claims(nonce))
		}, false},
		{"RS256 by a key not in the JWKS", func(nonce string) string {
			return idp.sign(t, jwt.SigningMethodRS256, otherKey, idp.claims(nonce))
		}, false},
		{"signature of another token", func(nonce string) string {
			honest := idp.sign(t, jwt.SigningMethodRS256, idp.Key, idp.claims(nonce))
			c := idp.claims(nonce)
			c["groups"] = []string{"admin"}
			forged := idp.sign(t, jwt.SigningMethodRS256, otherKey, c)
			return forged[:strings.LastIndex(forged, ".")] + honest[strings.LastIndex(honest, "."):]
		}, false},
		{"no ID token", func(string) string { return "" }, false},
		{"not a JWT", func(string) string { return "not.a.jwt" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := idp.callback(t, h, tt.craft)
			var session *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == h.Auth.sessionName && c.MaxAge >= 0 {
					session = c
				}
			}
			if !tt.ok {
				if resp.StatusCode != http.StatusUnauthorized || session != nil || !strings.Contains(body, "sign-in failed") {
					t.Fatalf("refused token: %d, session cookie %v", resp.StatusCode, session != nil)
				}
				return
			}
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ccb" || session == nil {
				t.Fatalf("honest token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if _, page := (&agent{h: h, Cookie: session}).get(t, "/ccb"); !strings.Contains(page, "Signed in as Olga Idp") {
				t.Error("the session does not sign Olga in")
			}
		})
	}
	logins, err := h.Store.AuditLog(context.Background(), app.AuditFilter{Action: "login"})
	if err != nil || len(logins) != 1 || logins[0].Actor.Subject != "u-1" {
		t.Errorf("logins audited: %+v, %v; want the honest one only", logins, err)
	}
}

// TestHTTPSCookies: under an https public URL, both cookies carry the
// __Host- prefix (Secure, Path=/, no Domain), HttpOnly and SameSite=Lax,
// and the callback clears the flow cookie as it sets the session.
func TestHTTPSCookies(t *testing.T) {
	idp := newFakeIdP(t)
	h := newHarness(t, harnessOptions{idp: idp, publicURL: "https://budgetgate.test"})
	anon := &agent{h: h}
	login, _ := anon.get(t, "/login")
	resp, _ := idp.callback(t, h, func(nonce string) string {
		return idp.sign(t, jwt.SigningMethodRS256, idp.Key, idp.claims(nonce))
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in under https: %d", resp.StatusCode)
	}
	set := map[string]string{}
	for _, r := range []*http.Response{login, resp} {
		for _, line := range r.Header.Values("Set-Cookie") {
			name, _, _ := strings.Cut(line, "=")
			if r == login || !strings.Contains(line, "Max-Age=0") {
				set[name] = line
			}
		}
	}
	for _, name := range []string{"__Host-budgetgate-flow", "__Host-budgetgate"} {
		line, ok := set[name]
		if !ok {
			t.Errorf("no %s cookie set: %v", name, set)
			continue
		}
		for _, attr := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
			if !strings.Contains(line, attr) {
				t.Errorf("%s lacks %s: %s", name, attr, line)
			}
		}
		if strings.Contains(strings.ToLower(line), "domain=") {
			t.Errorf("%s names a domain: %s", name, line)
		}
	}
	cleared := false
	for _, line := range resp.Header.Values("Set-Cookie") {
		cleared = cleared || (strings.HasPrefix(line, "__Host-budgetgate-flow=") && strings.Contains(line, "Max-Age=0"))
	}
	if !cleared {
		t.Errorf("the callback does not clear the flow cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS under https: %q", hsts)
	}
}
