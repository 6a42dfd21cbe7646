package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/devidp"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
)

// instance is the web layer of one instance: its own store handle on the
// shared database, its own Auth with the given session key, and the
// load balancer's address as public URL.
func instance(t *testing.T, dbPath string, idp *devidp.Provider, public string, key []byte) http.Handler {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := func() time.Time { return time.Now().UTC() }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth, err := NewAuth(ctx, AuthConfig{
		Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RoleGroups: budgetgate.DefaultRoleGroups, PublicURL: public, SessionKey: key,
		Limits: app.SessionLimits{Idle: 8 * time.Hour, Absolute: 24 * time.Hour}, Log: log,
	}, store)
	if err != nil {
		t.Fatal(err)
	}
	h := Handlers{
		API:   &handlers.API{Store: store, Releases: app.NewReleases(store, now), Now: now, Retention: errorbudget.DefaultRetention},
		Pages: &handlers.Pages{Store: store, Now: now, Retention: errorbudget.DefaultRetention}, Ready: store.Ready, Auth: auth,
		CCB:   &handlers.CCB{Store: store, Board: &app.Board{Store: store, Rules: ccb.DefaultCCBRules(), Notify: app.CCBNotify{BaseURL: public}}, Now: now},
		Audit: &handlers.AuditPages{Store: store}, Tokens: &handlers.TokenPages{Store: store},
	}
	return New(Config{PublicURL: public, RequestTimeout: 10 * time.Second, BodyLimit: handlers.MaxBodyBytes, Log: log}, h)
}

// TestSignInAcrossInstances signs in through a load balancer that sends
// each request to the next of two instances: /login lands on one, the
// callback on the other, and the session then holds on both. Instances
// with the same session key share sign-ins; with different keys the
// callback cannot read the sign-in state the other instance set.
func TestSignInAcrossInstances(t *testing.T) {
	tests := []struct {
		name       string
		keys       [2]string
		signedInOK bool
	}{
		{"the same session key", [2]string{strings.Repeat("k", 32), strings.Repeat("k", 32)}, true},
		{"a key per instance", [2]string{strings.Repeat("k", 32), strings.Repeat("q", 32)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp, err := devidp.Start("127.0.0.1:0", devidp.DemoUsers)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { idp.Close() })
			dbPath := filepath.Join(t.TempDir(), "shared.db")
			front := httptest.NewUnstartedServer(nil)
			public := "http://" + front.Listener.Addr().String()
			var backends []*url.URL
			for _, key := range tt.keys {
				srv := httptest.NewServer(instance(t, dbPath, idp, public, []byte(key)))
				t.Cleanup(srv.Close)
				u, _ := url.Parse(srv.URL)
				backends = append(backends, u)
			}
			var next atomic.Int64
			var served [2]atomic.Int64
			front.Config.Handler = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
				i := next.Add(1) % 2
				served[i].Add(1)
				r.SetURL(backends[i])
				r.Out.Host = r.In.Host
			}}
			front.Start()
			t.Cleanup(front.Close)

			c := browser(t)
			resp, _ := get(t, c, public+"/login?next=/ccb") // the first instance
			authorize := resp.Header.Get("Location")
			resp, _ = get(t, c, authorize+"&login_as=ccb-alice")
			callback := resp.Header.Get("Location")
			if !strings.HasPrefix(callback, public+"/auth/callback?") {
				t.Fatalf("provider redirected to %q", callback)
			}
			resp, _ = get(t, c, callback) // the second instance
			signedIn := resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/ccb"
			if signedIn != tt.signedInOK {
				t.Fatalf("callback on the other instance: %d to %q; signed in %v, want %v", resp.StatusCode, resp.Header.Get("Location"), signedIn, tt.signedInOK)
			}
			if !signedIn {
				return
			}
			for range 4 { // both instances, twice
				resp, body := get(t, c, public+"/ccb")
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Alice") {
					t.Fatalf("GET /ccb after signing in: %d (signed-in page: %v)", resp.StatusCode, strings.Contains(body, "Alice"))
				}
			}
			if served[0].Load() < 3 || served[1].Load() < 3 {
				t.Fatalf("requests per instance: %d and %d; the test wants both used", served[0].Load(), served[1].Load())
			}
		})
	}
}
