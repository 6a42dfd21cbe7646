package faults

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/pgtest"
)

// hookLog records what a webhook receiver was sent.
type hookLog struct {
	mu    sync.Mutex
	posts []string
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.posts = append(h.posts, string(b))
	h.mu.Unlock()
}

func (h *hookLog) matching(s string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, p := range h.posts {
		if strings.Contains(p, s) {
			n++
		}
	}
	return n
}

// leaseTaken is the log line of an instance that starts a lease's work.
func leaseTaken(name string) *regexp.Regexp {
	return regexp.MustCompile(`msg="lease taken: running its work here" lease=` + name + ` `)
}

// waitLog waits until the instance's log matches re.
func waitLog(t *testing.T, p *proc, re *regexp.Regexp, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !re.MatchString(p.log.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q within %v", re, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoInstancesOneDies runs two instances on one PostgreSQL database
// behind a client that, like a load balancer, sends each request to either
// and a failed one to the other. Under load the instance running the
// background work is killed with SIGKILL: the survivor answers every
// request throughout, every event of every acknowledged batch is counted
// exactly once (a batch cut off on the dead instance is retried on the
// survivor with the same Idempotency-Key), and the background work moves
// to the survivor, which then fires an escalation and posts it once.
func TestTwoInstancesOneDies(t *testing.T) {
	dsn := pgtest.DSN(t)
	hooks := &hookLog{}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()
	dir := filepath.Join(t.TempDir(), "policies")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	policy := "service: api-service\nslo_target: 99.9\nwindow: 30d\npolicy:\n  escalation:\n    budget_50pct:\n      notify: [sre]\n"
	if err := os.WriteFile(filepath.Join(dir, "api-service.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--db", dsn, "--policies", dir, "--lease-ttl", "2s", "--webhook", "sre=" + receiver.URL}
	first := startServer(t, args...)
	waitLog(t, first, leaseTaken("notifier"), 10*time.Second)
	second := startServer(t, args...)
	// Tokens live in the shared database; the development token is replaced
	// at every start, so both instances take the newest. A retry keeps its
	// key's scope.
	first.Token = second.Token
	instances := []*proc{first, second}

	const (
		ingesters, gaters = 4, 4
		eventsPer, total  = 50, 20
	)
	var (
		mu         sync.Mutex
		acked      int64 // events of the batches acknowledged, each counted once
		failures   []string
		ctx, stop  = context.WithCancel(context.Background())
		wg         sync.WaitGroup
		httpc      = client(ingesters + gaters)
		firstAlive = make(chan struct{})
	)
	defer stop()
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// send sends a request to instance i, and on a transport error (the
	// instance is dead) to the other, as a load balancer's retry would.
	// A request is never cut off by the end of the load: one cut off after
	// the server committed would be stored yet never counted as acknowledged.
	reqCtx := context.WithoutCancel(ctx)
	send := func(i int, method, path, body string, header ...string) (int, []byte, string) {
		status, b, err := instances[i].call(reqCtx, httpc, method, path, body, header...)
		if err == nil || ctx.Err() != nil || i == 1 {
			if err != nil && ctx.Err() == nil {
				fail("%s %s on the survivor: %v", method, path, err)
			}
			return status, b, instances[i].URL
		}
		status, b, err = second.call(reqCtx, httpc, method, path, body, header...)
		if err != nil && ctx.Err() == nil {
			fail("%s %s retried on the survivor: %v", method, path, err)
		}
		return status, b, second.URL
	}
	for w := range ingesters {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("ingest-%d-%d", w, i)
				body := sliBody(eventsPer, total, (w*200+i%200)*eventsPer%1400)
				status, b, where := send((w+i)%2, "POST", "/api/v1/services/api-service/sli", body, "Idempotency-Key", key)
				switch {
				case status == http.StatusAccepted:
					mu.Lock()
					acked += eventsPer * total
					mu.Unlock()
				case status != 0:
					fail("ingest on %s: %d %s", where, status, b)
				}
			}
		})
	}
	for g := range gaters {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				status, b, where := send((g+i)%2, "POST", "/api/v1/releases/evaluate", releaseBody(fmt.Sprintf("1.%d.%d", g, i)))
				if status != 0 && status != http.StatusOK {
					fail("evaluate on %s: %d %s", where, status, b)
				}
			}
		})
	}
	go func() {
		time.Sleep(2 * time.Second)
		first.signal(t, syscall.SIGKILL)
		close(firstAlive)
	}()
	<-firstAlive
	time.Sleep(3 * time.Second) // load on the survivor alone
	stop()
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if acked == 0 {
		t.Fatal("no batch was acknowledged")
	}
	t.Logf("%d events acknowledged", acked)
	if got := second.totalEvents(t); got != acked {
		t.Errorf("the survivor counts %d events, want %d: the events of every acknowledged batch, once", got, acked)
	}

	waitLog(t, second, leaseTaken("notifier"), 10*time.Second)
	// Burn the budget: the survivor's notifier fires the escalation.
	bad := fmt.Sprintf(`{"events":[{"time":%q,"good":0,"total":%d}]}`, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339), acked/100)
	second.mustCall(t, "POST", "/api/v1/services/api-service/sli", bad, http.StatusAccepted)
	deadline := time.Now().Add(15 * time.Second)
	for hooks.matching("below 50%") == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a second post would come now
	if n := hooks.matching("below 50%"); n != 1 {
		t.Errorf("the escalation was posted %d times, want once, by the survivor", n)
	}
}
