// Package devidp is budgetgate's development identity provider: a real
// OIDC provider (github.com/oauth2-proxy/mockoidc) with a page to choose one
// of a few demo users, so that `make run` signs people in through the same
// authorisation-code flow as production. It listens on loopback only and
// starts only when asked for (serve --dev-idp).
package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"slices"
	"sync"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// User is a demo identity.
type User struct {
	Subject string
	Name    string
	Email   string
	Groups  []string
	About   string // what the user is for, shown on the chooser
}

// DemoUsers cover every role: two board members (so that a request can
// collect two approvals), a requester without a role, an SRE and an admin.
var DemoUsers = []User{
	{Subject: "ccb-alice", Name: "Alice Chen", Email: "alice@example.test", Groups: []string{"ccb", "engineering"}, About: "CCB member: votes on exception requests"},
	{Subject: "ccb-bruno", Name: "Bruno Diaz", Email: "bruno@example.test", Groups: []string{"ccb", "architecture"}, About: "CCB member: votes on exception requests"},
	{Subject: "dev-rita", Name: "Rita Patel", Email: "rita@example.test", Groups: []string{"engineering"}, About: "Requester: a developer who asks for exceptions (viewer)"},
	{Subject: "sre-sam", Name: "Sam Okafor", Email: "sam@example.test", Groups: []string{"sre", "engineering"}, About: "SRE: budgets and policies"},
	{Subject: "admin-ada", Name: "Ada Novak", Email: "ada@example.test", Groups: []string{"admin"}, About: "Admin: API tokens and settings"},
}

// Provider is a running development identity provider.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string

	m     *mockoidc.MockOIDC
	users []User
	// mockoidc keeps its sessions in a map without a lock, and pops the
	// signed-in user from a queue: one request at a time keeps a chosen
	// user from being handed to someone else's sign-in.
	mu sync.Mutex
}

// Start starts the provider on addr, which must be a loopback address
// (127.0.0.1:0 picks a free port).
func Start(addr string, users []User) (*Provider, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}
	if !isLoopback(host) {
		return nil, fmt.Errorf("devidp: refusing to listen on %s: the development identity provider signs anyone in as anyone, so it runs on loopback only", addr)
	}
	// A fresh key per start: mockoidc's default key is public, so tokens
	// signed with it could be forged by anyone.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	m, err := mockoidc.NewServer(key)
	if err != nil {
		return nil, err
	}
	m.CodeChallengeMethodsSupported = []string{"S256"}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("devidp: %s did not resolve to a loopback address", addr)
	}
	p := &Provider{m: m, users: users}
	if err := m.AddMiddleware(p.middleware); err != nil {
		ln.Close()
		return nil, err
	}
	if err := m.Start(ln, nil); err != nil {
		ln.Close()
		return nil, err
	}
	p.Issuer, p.ClientID, p.ClientSecret = m.Issuer(), m.ClientID, m.ClientSecret
	return p, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Close stops the provider.
func (p *Provider) Close() error { return p.m.Shutdown() }

// middleware serialises requests and puts the chooser in front of the
// authorisation endpoint: without a chosen user it shows the list; with one
// it queues that user and lets mockoidc issue the code.
func (p *Provider) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if r.URL.Path != mockoidc.AuthorizationEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		chosen := r.Form.Get("login_as")
		if chosen == "" {
			p.chooser(w, r)
			return
		}
		i := slices.IndexFunc(p.users, func(u User) bool { return u.Subject == chosen })
		if i < 0 {
			http.Error(w, "unknown demo user", http.StatusBadRequest)
			return
		}
		p.m.QueueUser(&mockUser{p.users[i]})
		next.ServeHTTP(w, r)
	})
}

var chooserPage = template.Must(template.New("chooser").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development sign-in · budgetgate</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 640px; margin: 32px auto; padding: 0 16px; color: #111827; }
.warn { background: #fef9c3; color: #854d0e; border: 1px solid currentColor; border-radius: 6px; padding: 8px 12px; }
ul { list-style: none; padding: 0; }
li { margin: 10px 0; }
button { font: inherit; width: 100%; text-align: left; padding: 10px 14px; border: 1px solid #1d4ed8; border-radius: 8px; background: #fff; cursor: pointer; }
button:hover, button:focus-visible { background: #dbeafe; outline: 3px solid #f59e0b; }
.about { color: #4b5563; font-size: 14px; display: block; }
</style>
</head>
<body>
<h1>Sign in to budgetgate</h1>
<p class="warn" role="note">Development identity provider: choose any demo user. It runs only on this machine and only with <code>--dev-idp</code>.</p>
<form method="get" action="">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<ul>
{{range .Users}}<li><button type="submit" name="login_as" value="{{.Subject}}" data-testid="login-{{.Subject}}"><strong>{{.Name}}</strong> &lt;{{.Email}}&gt;<span class="about">{{.About}} · groups: {{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g}}{{end}}</span></button></li>
{{end}}</ul>
</form>
</body>
</html>
`))

func (p *Provider) chooser(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	chooserPage.Execute(w, map[string]any{"Params": r.Form, "Users": p.users})
}

// mockUser gives mockoidc the claims of a demo user. Groups and the name
// are sent whatever the scopes, so that roles work with any --oidc-scopes.
type mockUser struct{ u User }

func (m *mockUser) ID() string { return m.u.Subject }

func (m *mockUser) Userinfo(scopes []string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": m.u.Subject, "name": m.u.Name, "email": m.u.Email, "groups": m.u.Groups})
}

type claims struct {
	*mockoidc.IDTokenClaims
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Groups            []string `json:"groups"`
}

func (m *mockUser) Claims(scopes []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &claims{IDTokenClaims: base, Name: m.u.Name, PreferredUsername: m.u.Subject, Email: m.u.Email, EmailVerified: true, Groups: m.u.Groups}, nil
}
