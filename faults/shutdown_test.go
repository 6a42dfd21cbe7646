package faults

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// outcome is what one client request came to.
type outcome struct {
	kind   string // "ingest" (checked by its Idempotency-Key) or "release" (by its version)
	key    string
	status int   // 0 when the request failed in transport
	err    error // the transport error
}

// TestTermDrainsInFlight sends SIGTERM while clients keep the server busy
// and one request is still sending its body. Every request must either be
// answered 2xx, and then be stored, or never have been accepted: failed in
// transport (refused, or closed before the server read it) and stored
// nowhere. No 5xx, no accepted request left unanswered. The slow request
// is accepted before the signal and finishes after it.
func TestTermDrainsInFlight(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "bg.db")
	srv := startServer(t, "--db", dbPath, "--policies", policyDir(t))
	// Every version and key on the wire, so that the database can be
	// searched for each.
	var (
		mu       sync.Mutex
		outcomes []outcome
		wg       sync.WaitGroup
		httpc    = client(8)
	)
	record := func(o outcome) {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
	}
	// The slow request: its headers and half its body before the signal,
	// the rest after it.
	body := sliBody(100, 7, 2000)
	pr, pw := io.Pipe()
	slowDone := make(chan outcome, 1)
	go func() {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/services/api-service/sli", pr)
		req.Header.Set("Authorization", "Bearer "+srv.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "slow")
		req.ContentLength = int64(len(body))
		o := outcome{kind: "ingest", key: "slow"}
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			o.status = resp.StatusCode
		}
		o.err = err
		slowDone <- o
	}()
	if _, err := io.WriteString(pw, body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}

	// Only once the server is reading it (in flight, beside the scrape
	// itself) may the load and the signal come.
	for deadline := time.Now().Add(30 * time.Second); metric(t, srv, "budgetgate_http_requests_in_flight") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow request is not in flight after 30s")
		}
	}

	begin := time.Now()
	for w := 0; w < 6; w++ {
		wg.Go(func() {
			// Until refused: every client sees the server stop taking requests.
			for i := 0; time.Since(begin) < time.Minute; i++ {
				var o outcome
				var status int
				var err error
				if (w+i)%2 == 0 {
					o = outcome{kind: "ingest", key: fmt.Sprintf("w%d-%d", w, i)}
					status, _, err = srv.call(context.Background(), httpc, "POST", "/api/v1/services/api-service/sli", sliBody(100, 10, i%1000), "Idempotency-Key", o.key)
				} else {
					o = outcome{kind: "release", key: fmt.Sprintf("%d.%d.0", w, i)}
					status, _, err = srv.call(context.Background(), httpc, "POST", "/api/v1/releases/evaluate", releaseBody(o.key))
				}
				o.status, o.err = status, err
				record(o)
				if err != nil && isRefused(err) {
					return // the listener is closed: nothing more will be accepted
				}
			}
		})
	}

	// Let the load run, then stop the server.
	time.Sleep(500 * time.Millisecond)
	srv.signal(t, syscall.SIGTERM)

	// The listener closes at once: a new connection is refused while the
	// slow request is still being read.
	refusedAt := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.URL, "http://"), time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(refusedAt) {
			t.Fatal("the server still accepts connections 10s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-srv.exited:
		t.Fatal("the server exited with a request still in flight")
	default:
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := io.WriteString(pw, body[len(body)/2:]); err != nil {
		t.Fatalf("finishing the slow body: %v", err)
	}
	pw.Close()
	slow := <-slowDone
	if slow.err != nil || slow.status != 202 {
		t.Fatalf("request in flight at SIGTERM: %d %v, want 202", slow.status, slow.err)
	}
	record(slow)
	wg.Wait()
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("server exited %d after SIGTERM, want 0", code)
	}

	stored := storedKeys(t, dbPath)
	var answered, refused int
	for _, o := range outcomes {
		in := stored[o.kind+":"+o.key]
		switch {
		case o.err == nil && o.status/100 == 2:
			answered++
			if !in {
				t.Errorf("%s %s was answered %d but is not stored", o.kind, o.key, o.status)
			}
		case o.err == nil:
			t.Errorf("%s %s was answered %d during shutdown", o.kind, o.key, o.status)
		default:
			refused++
			if in {
				t.Errorf("%s %s is stored but its client got %v instead of an answer", o.kind, o.key, o.err)
			}
		}
	}
	if refused == 0 {
		t.Error("no client saw the server stop taking requests")
	}
	t.Logf("%d requests answered, %d never accepted", answered, refused)
}

// isRefused says whether err is a refused connection: nothing was sent.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// storedKeys reads which requests the stopped server stored:
// "ingest:KEY" by idempotency key and "release:VERSION" by decision.
func storedKeys(t *testing.T, path string) map[string]bool {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out := map[string]bool{}
	for prefix, q := range map[string]string{"ingest:": `SELECT key FROM idempotency_keys`, "release:": `SELECT version FROM decisions`} {
		rows, err := conn.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			rows.Scan(&k)
			out[prefix+k] = true
		}
		rows.Close()
	}
	return out
}
