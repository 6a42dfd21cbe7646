package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// fakeBoard answers like a server whose request 9 stays pending for a few
// polls, then ends as final; it records when each poll came.
type fakeBoard struct {
	mu         sync.Mutex
	pendingFor int
	final      string
	retryAfter string
	polls      []time.Time
}

func (f *fakeBoard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/releases/evaluate":
		// gate asks again only once the board approved.
		json.NewEncoder(w).Encode(errorbudget.Decision{ID: 2, Approved: true, Reason: "CCB exception 9 approved by Alice", Conditions: []string{"Monitor closely"}})
	case r.URL.Path == "/api/v1/exceptions" && r.Method == http.MethodPost:
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":9,"status":"pending"}`)
	case r.URL.Path == "/api/v1/exceptions":
		fmt.Fprint(w, `{"exceptions":[{"id":8,"status":"pending","subject":{"service":"ledger","version":"0.9"}},{"id":9,"status":"pending","subject":{"service":"ledger","version":"1.0"}}]}`)
	case r.URL.Path == "/api/v1/exceptions/9":
		f.polls = append(f.polls, time.Now())
		status := "pending"
		if len(f.polls) > f.pendingFor {
			status = f.final
		}
		if status == "pending" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		fmt.Fprintf(w, `{"id":9,"status":%q,"votes":[{"voter":{"name":"Bruno"},"decision":"reject","comment":"split it"}]}`, status)
	default:
		http.NotFound(w, r)
	}
}

func TestGateWaitsForTheBoard(t *testing.T) {
	tests := []struct {
		name       string
		ask        exceptionAsk
		board      fakeBoard
		code       int
		out        string
		minBetween time.Duration // least time between the first two polls
	}{
		{"approved after two polls", exceptionAsk{reason: "why", wait: time.Minute, firstDelay: 10 * time.Millisecond},
			fakeBoard{pendingFor: 2, final: "approved", retryAfter: "0"}, exitOK, "APPROVED: CCB exception 9 approved by Alice", 0},
		{"Retry-After is honoured", exceptionAsk{reason: "why", wait: time.Minute, firstDelay: 10 * time.Millisecond},
			fakeBoard{pendingFor: 1, final: "approved", retryAfter: "1"}, exitOK, "APPROVED", time.Second},
		{"rejected", exceptionAsk{reason: "why", wait: time.Minute, firstDelay: 10 * time.Millisecond},
			fakeBoard{pendingFor: 1, final: "rejected", retryAfter: "0"}, exitBlocked, "was rejected by Bruno: split it", 0},
		{"expired", exceptionAsk{reason: "why", wait: time.Minute, firstDelay: 10 * time.Millisecond},
			fakeBoard{pendingFor: 0, final: "expired", retryAfter: "0"}, exitBlocked, "was expired", 0},
		{"still pending when the wait ends", exceptionAsk{reason: "why", wait: 100 * time.Millisecond, firstDelay: 10 * time.Millisecond},
			fakeBoard{pendingFor: 1000, final: "approved", retryAfter: "0"}, exitBlocked, "still pending", 0},
		{"waits on the open request without asking again", exceptionAsk{wait: time.Minute, firstDelay: 10 * time.Millisecond},
			fakeBoard{pendingFor: 1, final: "approved", retryAfter: "0"}, exitOK, "Waiting on CCB request 9", 0},
		{"without --wait it stops at the request", exceptionAsk{reason: "why"},
			fakeBoard{final: "approved"}, exitBlocked, "CCB request 9 is pending", 0},
	}
	for i := range tests {
		tt := &tests[i]
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&tt.board)
			defer srv.Close()
			rel := errorbudget.Release{Service: "ledger", Version: "1.0"}
			dec := &errorbudget.Decision{ID: 1}
			var out, errb bytes.Buffer
			code := tt.ask.run(context.Background(), srv.URL, rel, dec, false, &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.out) {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
			if p := tt.board.polls; tt.minBetween > 0 && (len(p) < 2 || p[1].Sub(p[0]) < tt.minBetween) {
				t.Errorf("polls at %v: Retry-After %s not honoured", p, tt.board.retryAfter)
			}
		})
	}
}

func TestGateWaitStopsOnClientErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id":9,"status":"pending"}`)
			return
		}
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"code":"forbidden","message":"token \"ci\" lacks the read scope this route needs"}}`)
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	ask := exceptionAsk{reason: "why", wait: time.Minute, firstDelay: 10 * time.Millisecond}
	code := ask.run(context.Background(), srv.URL, errorbudget.Release{Service: "ledger", Version: "1"}, &errorbudget.Decision{ID: 1}, false, &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), "lacks the read scope") {
		t.Errorf("exit %d; stderr %s", code, errb.String())
	}
}

// fakeProjectBoard is a server whose project fleet-core is blocked until
// request 5 (about its baseline analysis 31) is decided.
type fakeProjectBoard struct {
	mu       sync.Mutex
	final    string // what request 5 ends as after one pending poll
	open     bool   // request 5 exists before the gate asks
	polls    int
	asked    map[string]any // the body of POST /api/v1/exceptions
	approved bool
}

func (f *fakeProjectBoard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/budget/gate" && r.URL.Query().Get("project") == "fleet-core":
		if f.approved {
			fmt.Fprint(w, `{"project":"fleet-core","allowed":true,"status":"pass","reason":"every open violation (1) is covered by an approved exception","analysis":{"analysis_id":31,"commit_sha":"c31"},"blocking":[],"excepted":[]}`)
			return
		}
		fmt.Fprint(w, `{"project":"fleet-core","allowed":false,"status":"blocked","reason":"1 open variant-budget violation(s) on the baseline without an approved exception","analysis":{"analysis_id":31,"commit_sha":"c31"},"blocking":[{"id":4,"dimension":"vehicle","variant":"truck","metric":"lines_of_code","delta":5.94,"limit":5,"commit_sha":"c31"}],"excepted":[]}`)
	case r.URL.Path == "/api/v1/exceptions" && r.Method == http.MethodPost:
		json.NewDecoder(r.Body).Decode(&f.asked)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":5,"status":"pending"}`)
	case r.URL.Path == "/api/v1/exceptions" && r.URL.Query().Get("project") == "fleet-core":
		if !f.open {
			fmt.Fprint(w, `{"exceptions":[]}`)
			return
		}
		fmt.Fprint(w, `{"exceptions":[{"id":4,"status":"pending","subject":{"project":"fleet-core","commit":"c30"}},{"id":5,"status":"pending","subject":{"project":"fleet-core","commit":"c31"}}]}`)
	case r.URL.Path == "/api/v1/exceptions/5":
		f.polls++
		status := "pending"
		if f.polls > 1 {
			status = f.final
		}
		f.approved = status == "approved"
		w.Header().Set("Retry-After", "0")
		fmt.Fprintf(w, `{"id":5,"status":%q,"votes":[{"voter":{"name":"Bruno"},"decision":"reject","comment":"move it to core"}]}`, status)
	default:
		http.NotFound(w, r)
	}
}

func TestProjectGateAsksTheBoard(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		board  fakeProjectBoard
		code   int
		out    string
		asked  bool // a request was opened with the reason and the baseline analysis
		polled bool
	}{
		{"asks, waits, approved: allowed", []string{"--request-exception", "Truck launch", "--wait", "1m"},
			fakeProjectBoard{final: "approved"}, exitOK, "ALLOWED: fleet-core", true, true},
		{"asks, waits, rejected", []string{"--request-exception", "Truck launch", "--wait", "1m"},
			fakeProjectBoard{final: "rejected"}, exitBlocked, "CCB request 5 was rejected by Bruno: move it to core; fleet-core stays blocked", true, true},
		{"asks without waiting", []string{"--request-exception", "Truck launch"},
			fakeProjectBoard{final: "approved"}, exitBlocked, "CCB request 5 is pending", true, false},
		{"waits on the request open for the baseline commit", []string{"--wait", "1m"},
			fakeProjectBoard{final: "approved", open: true}, exitOK, "Waiting on CCB request 5", false, true},
		{"nothing to wait on", []string{"--wait", "1m"},
			fakeProjectBoard{final: "approved"}, exitBlocked, "BLOCKED: fleet-core", false, false},
		{"no flag: blocked, nothing asked", nil,
			fakeProjectBoard{final: "approved"}, exitBlocked, "BLOCKED: fleet-core", false, false},
	}
	for i := range tests {
		tt := &tests[i]
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&tt.board)
			defer srv.Close()
			var out, errb bytes.Buffer
			args := append([]string{"--server", srv.URL, "--project", "fleet-core"}, tt.args...)
			code := runGate(context.Background(), args, &out, &errb)
			if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.out) {
				t.Fatalf("exit %d, want %d with %q; stdout:\n%s\nstderr:\n%s", code, tt.code, tt.out, out.String(), errb.String())
			}
			asked := tt.board.asked != nil
			if asked != tt.asked || (asked && (tt.board.asked["analysis_id"] != float64(31) || tt.board.asked["reason"] != "Truck launch")) {
				t.Errorf("asked the board with %v, want asked=%v about analysis 31", tt.board.asked, tt.asked)
			}
			if polled := tt.board.polls > 0; polled != tt.polled {
				t.Errorf("polled %d times, want polled=%v", tt.board.polls, tt.polled)
			}
		})
	}
}
