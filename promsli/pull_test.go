package promsli_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/promsli"
	"github.com/budgetgate/budgetgate/promtest"
)

func TestValidate(t *testing.T) {
	ok := promsli.SLO{Service: "checkout", Name: "availability", Window: 30 * 24 * time.Hour,
		Bad: `sum(rate(x{code=~"5.."}[{{.window}}]))`, Total: `sum(rate(x[{{.window}}]))`}
	tests := []struct {
		name    string
		edit    func(s *promsli.SLO)
		wantErr string
	}{
		{"valid", func(*promsli.SLO) {}, ""},
		{"no total", func(s *promsli.SLO) { s.Total = "" }, "sli.prometheus.total: a query is required"},
		{"neither good nor bad", func(s *promsli.SLO) { s.Bad = "" }, "sli.prometheus: good or bad is required"},
		{"both good and bad", func(s *promsli.SLO) { s.Good = "sum(rate(y[{{.window}}]))" }, "sli.prometheus: give good or bad, not both"},
		{"unknown field", func(s *promsli.SLO) { s.Bad = "sum(rate(x[{{.windw}}]))" }, "sli.prometheus.bad: only {{.window}} may be used"},
		{"broken template", func(s *promsli.SLO) { s.Total = "sum(rate(x[{{.window]))" }, "sli.prometheus.total: not a valid template"},
		{"blank after expansion", func(s *promsli.SLO) { s.Total = "  " }, "sli.prometheus.total: the query is empty"},
		{"negative staleness", func(s *promsli.SLO) { s.MaxStaleness = -time.Minute }, "sli.prometheus.max_staleness: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			err := s.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if q, err := promsli.Expand("sum(rate(x[{{.window}}]))"); err != nil || q != "sum(rate(x[5m]))" {
		t.Errorf("Expand = %q, %v; want sum(rate(x[5m]))", q, err)
	}
}

// availability is the shared server's checkout SLO with a window of w.
func availability(w time.Duration) promsli.SLO {
	s := cases()[0].slo
	s.Window = w
	return s
}

// TestQueryErrorsKeepPrometheusMessage: what Prometheus refuses shows in
// the SLO's progress in Prometheus's own words, and nothing is stored.
func TestQueryErrorsKeepPrometheusMessage(t *testing.T) {
	promtest.Need(t)
	now := historyEnd
	tests := []struct {
		name    string
		edit    func(s *promsli.SLO)
		wantErr string
	}{
		{"parse error", func(s *promsli.SLO) { s.Total = `sum(rate(http_requests_total[{{.window}}])` },
			`total query: 1:34: parse error: unclosed left parenthesis`},
		{"several series", func(s *promsli.SLO) { s.Total = `rate(http_requests_total[{{.window}}])` },
			`total: the query returns 2 series`},
		{"bad query error", func(s *promsli.SLO) { s.Bad = `sum(rate(http_requests_total{code=~"5.."}))` },
			`bad query: 1:10: parse error: expected type range vector in call to function "rate", got instant vector`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := openStore(t, now, cases()[:1])
			s := availability(24 * time.Hour)
			tt.edit(&s)
			p := newPuller(t, prom.URL, d, &now, []promsli.SLO{s})
			p.Sync(promtest.Ctx(t))
			pr, _ := p.ProgressOf(s.Service, s.Name)
			if !strings.Contains(pr.Error, tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", pr.Error, tt.wantErr)
			}
			if newest, err := d.NewestSLI(context.Background(), s.Service, s.Name); err != nil || !newest.IsZero() {
				t.Errorf("newest stored %s, %v: want nothing stored", newest, err)
			}
		})
	}
}

// TestFollowAndResume: after a backfill, each sync pulls only the new
// intervals; a new puller over the same store (a restart) resumes where the
// store ends; and the counts equal one backfill over the same range.
func TestFollowAndResume(t *testing.T) {
	promtest.Need(t)
	start := historyEnd.Add(-3 * time.Hour)
	now := start
	const window = 2 * time.Hour
	d, _ := openStore(t, now, cases()[:1])
	s := availability(window)
	p := newPuller(t, prom.URL, d, &now, []promsli.SLO{s})
	ctx := promtest.Ctx(t)
	p.Sync(ctx)
	pr, _ := p.ProgressOf(s.Service, s.Name)
	if pr.ToPull != int(window/time.Minute)-1 || pr.Pulled != pr.ToPull || pr.Error != "" {
		t.Fatalf("backfill progress %+v", pr)
	}
	for _, step := range []time.Duration{time.Minute, 30 * time.Second, 7 * time.Minute} {
		now = now.Add(step)
		p.Sync(ctx)
		pr, _ = p.ProgressOf(s.Service, s.Name)
		want := int(now.Add(-promsli.Delay).Truncate(time.Minute).Sub(pr.Newest.Add(-time.Duration(pr.ToPull)*time.Minute)) / time.Minute)
		if pr.Pulled != pr.ToPull || pr.ToPull != want {
			t.Errorf("at +%s: pulled %d of %d, want %d new intervals", now.Sub(start), pr.Pulled, pr.ToPull, want)
		}
	}
	// A restart 20 minutes later resumes after the newest stored interval.
	now = now.Add(20 * time.Minute)
	restarted := newPuller(t, prom.URL, d, &now, []promsli.SLO{s})
	restarted.Sync(ctx)
	pr, _ = restarted.ProgressOf(s.Service, s.Name)
	if pr.ToPull != 20 || pr.Error != "" {
		t.Errorf("after the restart: %+v, want the 20 missed intervals", pr)
	}

	// One backfill of the same range, in a store of its own.
	once, _ := openStore(t, now, cases()[:1])
	whole := s
	whole.Window = now.Sub(start) + window
	newPuller(t, prom.URL, once, &now, []promsli.SLO{whole}).Sync(ctx)
	got, _, err := d.ServiceMetrics(ctx, s.Service, now)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := once.ServiceMetrics(ctx, s.Service, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"1h", "6h", "24h"} {
		if got.BurnRates[w] != want.BurnRates[w] {
			t.Errorf("burn rate %s: followed %v, backfilled at once %v", w, got.BurnRates[w], want.BurnRates[w])
		}
	}
	if got.TotalEvents == 0 {
		t.Error("nothing stored")
	}
}

// TestStaleWhenDataStops: once the newest interval with data is older than
// max_staleness the SLO is stale, in the puller's progress and in the
// figures the gate reads, which then deny in the gate's words.
func TestStaleWhenDataStops(t *testing.T) {
	promtest.Need(t)
	now := historyEnd.Add(2 * time.Minute)
	d, _ := openStore(t, now, cases()[:1])
	s := availability(6 * time.Hour)
	p := newPuller(t, prom.URL, d, &now, []promsli.SLO{s})
	// An instance of the same cluster that does not hold the pull lease
	// pulls nothing itself, yet its gate must see the same staleness.
	idle := newPuller(t, prom.URL, d, &now, nil)
	ctx := promtest.Ctx(t)
	p.Sync(ctx)
	if m, pol, err := d.ServiceMetrics(ctx, s.Service, now); err != nil {
		t.Fatal(err)
	} else if err := p.MarkStale(ctx, &m, pol, now); err != nil || m.Status == errorbudget.StatusStale {
		t.Fatalf("fresh data: status %s, %v", m.Status, err)
	}
	// The history ends at historyEnd; rate() over five minutes still sees
	// it four minutes later.
	newest := historyEnd.Add(4 * time.Minute)
	for _, tt := range []struct {
		after     time.Duration
		wantStale bool
	}{{10 * time.Minute, false}, {10*time.Minute + time.Second, true}, {time.Hour, true}} {
		now = newest.Add(tt.after)
		p.Sync(ctx)
		pr, _ := p.ProgressOf(s.Service, s.Name)
		if !pr.Newest.Equal(newest) || pr.Stale(now) != tt.wantStale {
			t.Errorf("%s after the newest data: progress newest %s stale %v; want %s, %v", tt.after, pr.Newest, pr.Stale(now), newest, tt.wantStale)
		}
		m, pol, err := d.ServiceMetrics(ctx, s.Service, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.MarkStale(ctx, &m, pol, now); err != nil {
			t.Fatal(err)
		}
		if got := m.Status == errorbudget.StatusStale; got != tt.wantStale {
			t.Errorf("%s after: status %s", tt.after, m.Status)
		}
		other, _, err := d.ServiceMetrics(ctx, s.Service, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := idle.MarkStale(ctx, &other, pol, now); err != nil {
			t.Fatal(err)
		}
		if other.Status != m.Status {
			t.Errorf("%s after: an instance that does not pull says %s, the puller %s", tt.after, other.Status, m.Status)
		}
		if tt.wantStale {
			dec := errorbudget.EvaluateRelease(pol, m, errorbudget.Release{Service: s.Service, RiskLevel: "low"})
			want := "SLI data for checkout/availability is stale: newest " + newest.Format(time.RFC3339)
			if dec.Approved || dec.Reason != want {
				t.Errorf("gate: approved %v %q, want denied %q", dec.Approved, dec.Reason, want)
			}
		}
	}
}

// TestSourceHeadersAndToken: the default source gets the configured headers
// and the bearer token (read anew at each request); a source an SLO names
// itself gets neither.
func TestSourceHeadersAndToken(t *testing.T) {
	promtest.Need(t)
	target, _ := url.Parse(prom.URL)
	var mu sync.Mutex
	seen := map[string]http.Header{}
	proxy := func(name string) *httptest.Server {
		rp := httputil.NewSingleHostReverseProxy(target)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[name] = r.Header.Clone()
			mu.Unlock()
			rp.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	def, other := proxy("default"), proxy("other")
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := historyEnd
	d, _ := openStore(t, now, cases()[:2])
	a, b := availability(time.Hour), cases()[1].slo
	b.Window, b.URL = time.Hour, other.URL
	p, err := promsli.New(promsli.Config{Source: promsli.Source{URL: def.URL, Headers: map[string]string{"X-Scope-OrgID": "team-a"}, BearerTokenFile: token},
		Now: func() time.Time { return now }, Log: quiet}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetSLOs([]promsli.SLO{a, b}); err != nil {
		t.Fatal(err)
	}
	p.Sync(promtest.Ctx(t))
	for _, pr := range p.Progress() {
		if pr.Error != "" || pr.Newest.IsZero() {
			t.Errorf("%s/%s: %+v", pr.Service, pr.SLO, pr)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if h := seen["default"]; h.Get("X-Scope-OrgID") != "team-a" || h.Get("Authorization") != "Bearer s3cret" {
		t.Errorf("default source got X-Scope-OrgID %q, Authorization %q", h.Get("X-Scope-OrgID"), h.Get("Authorization"))
	}
	if h := seen["other"]; h == nil || h.Get("X-Scope-OrgID") != "" || h.Get("Authorization") != "" {
		t.Errorf("an SLO's own source got headers %v", h)
	}
}
