package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// sliBatch is n events, one a minute ending `from` minutes before now,
// each of 10 requests with one bad.
func sliBatch(from, n int) string {
	now := time.Now().UTC().Truncate(time.Minute)
	events := make([]string, n)
	for i := range events {
		at := now.Add(-time.Duration(from+i+60) * time.Minute).Format(time.RFC3339)
		events[i] = `{"time":"` + at + `","good":9,"total":10}`
	}
	return `{"events":[` + strings.Join(events, ",") + `]}`
}

// TestIdempotencyKeys: every POST that creates something honours
// Idempotency-Key: the same key and body get the first answer again
// (Idempotent-Replayed: true) and create nothing more, even when the
// retries race; the same key with another body is a 422 naming the header.
func TestIdempotencyKeys(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	deny := func(version string) int64 {
		_, raw, _ := h.api(t, h.Token, "POST", "/api/v1/releases/evaluate", `{"service":"ledger","version":"`+version+`"}`)
		var d errorbudget.Decision
		json.Unmarshal([]byte(raw), &d)
		return d.ID
	}
	d1, d2 := deny("0.1"), deny("0.2")
	other, _, err := h.Store.CreateToken(ctx, "other", budgetgate.TokenScopes, budgetgate.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path         string
		body, other, raced string
		status             int
		count              func() int
		perPost            int // what one accepted post adds to count
	}{
		{"SLI ingest", "/api/v1/services/ledger/sli", sliBatch(0, 50), sliBatch(100, 50), sliBatch(200, 50), http.StatusAccepted,
			func() int {
				m, _, err := h.Store.ServiceMetrics(ctx, "ledger", time.Now().UTC())
				if err != nil {
					t.Fatal(err)
				}
				return int(m.TotalEvents)
			}, 500},
		{"release evaluation", "/api/v1/releases/evaluate", `{"service":"ledger","version":"1"}`, `{"service":"ledger","version":"2"}`, `{"service":"ledger","version":"3"}`, http.StatusOK,
			func() int { ds, _ := h.Store.Decisions(ctx, "ledger", 1000); return len(ds) }, 1},
		{"exception request", "/api/v1/exceptions", fmt.Sprintf(`{"decision_id":%d,"reason":"a"}`, d1), fmt.Sprintf(`{"decision_id":%d,"reason":"b"}`, d1), fmt.Sprintf(`{"decision_id":%d,"reason":"c"}`, d2), http.StatusCreated,
			func() int { es, _ := h.Store.Exceptions(ctx, app.ExceptionFilter{}); return len(es) }, 1},
		{"variant analysis", "/api/v1/budget/analyze", fleetDoc(t, "c1", "b0", 200), fleetDoc(t, "c2", "b0", 200), fleetDoc(t, "c3", "b0", 200), http.StatusCreated,
			func() int { as, _ := h.Store.RecentAnalyses(ctx, "fleet-core", 1000); return len(as) }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := tt.count()
			status, first, hdr := h.api(t, h.Token, "POST", tt.path, tt.body, "Idempotency-Key", "key-1")
			if status != tt.status || hdr.Get("Idempotent-Replayed") != "" {
				t.Fatalf("first: %d %s", status, first)
			}
			status, again, hdr := h.api(t, h.Token, "POST", tt.path, tt.body, "Idempotency-Key", "key-1")
			if status != tt.status || hdr.Get("Idempotent-Replayed") != "true" || strings.TrimSpace(again) != strings.TrimSpace(first) {
				t.Errorf("retry: %d replayed %q\n%s\nwant\n%s", status, hdr.Get("Idempotent-Replayed"), again, first)
			}
			status, raw, _ := h.api(t, h.Token, "POST", tt.path, tt.other, "Idempotency-Key", "key-1")
			var e apiError
			json.Unmarshal([]byte(raw), &e)
			if status != http.StatusUnprocessableEntity || e.Error.Field != "Idempotency-Key" {
				t.Errorf("same key, other body: %d %s", status, raw)
			}
			if got := tt.count() - start; got != tt.perPost {
				t.Errorf("three posts with one key added %d, want %d", got, tt.perPost)
			}

			// Retries that race each other still create one.
			const n = 6
			var wg sync.WaitGroup
			answers := make([]string, n)
			fresh := make([]bool, n)
			gate := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					status, body, hdr := h.api(t, h.Token, "POST", tt.path, tt.raced, "Idempotency-Key", "key-2")
					answers[i] = fmt.Sprintf("%d %s", status, strings.TrimSpace(body))
					fresh[i] = hdr.Get("Idempotent-Replayed") == ""
				}()
			}
			close(gate)
			wg.Wait()
			firsts := 0
			for i := range n {
				if fresh[i] {
					firsts++
				}
				if answers[i] != answers[0] || !strings.HasPrefix(answers[i], fmt.Sprint(tt.status)) {
					t.Errorf("racing retry %d: %.200s\nfirst: %.200s", i, answers[i], answers[0])
				}
			}
			if firsts != 1 {
				t.Errorf("%d racing posts were answered fresh, want 1", firsts)
			}
			if got := tt.count() - start; got != 2*tt.perPost {
				t.Errorf("after the race: added %d, want %d", got, 2*tt.perPost)
			}

			// Another token's key is another key: it neither replays the
			// first token's answer nor conflicts with it.
			status, raw, hdr = h.api(t, other, "POST", tt.path, tt.other, "Idempotency-Key", "key-1")
			if status/100 != 2 || hdr.Get("Idempotent-Replayed") != "" {
				t.Errorf("same key from another token: %d replayed %q %s", status, hdr.Get("Idempotent-Replayed"), raw)
			}
		})
	}
}

// TestConcurrentVotes: six board members vote at once on requests that
// need three approvals. Each request gets exactly one outcome: approved by
// exactly three, or rejected by its one dissenter before three approved;
// every other vote is a 409 and stored nowhere.
func TestConcurrentVotes(t *testing.T) {
	rules := ccb.DefaultCCBRules()
	rules.ApprovalsRequired[ccb.ExceptionRelease] = 3
	h := newHarness(t, harnessOptions{rules: &rules})
	ctx := context.Background()
	var members []*agent
	for i := range 6 {
		members = append(members, h.agent(t, member(fmt.Sprintf("board-%d", i), budgetgate.RoleCCB)))
	}
	const requests = 4
	ids := make([]int64, requests)
	for r := range requests {
		ids[r] = openRequest(t, h, fmt.Sprintf("3.%d", r))
	}
	// Requests 2 and 3 have a dissenter: members[5] rejects.
	dissent := func(r, m int) bool { return r >= 2 && m == 5 }
	statuses := make([][]int, requests)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for r := range requests {
		statuses[r] = make([]int, len(members))
		for m, a := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"decision": {"approve"}, "comment": {"ok"}}
				if dissent(r, m) {
					form.Set("decision", "reject")
				}
				<-gate
				resp, _ := a.post(t, fmt.Sprintf("/ccb/%d/votes", ids[r]), form)
				statuses[r][m] = resp.StatusCode
			}()
		}
	}
	close(gate)
	wg.Wait()
	for r, id := range ids {
		e, err := h.Store.Exception(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		accepted, approvals := 0, 0
		for m, s := range statuses[r] {
			switch s {
			case http.StatusSeeOther:
				accepted++
			case http.StatusConflict:
			default:
				t.Errorf("request %d, member %d: %d", id, m, s)
			}
		}
		for _, v := range e.Votes {
			if v.Decision == ccb.VoteApprove {
				approvals++
			}
		}
		if accepted != len(e.Votes) {
			t.Errorf("request %d: %d votes answered 303, %d stored", id, accepted, len(e.Votes))
		}
		switch e.Status {
		case ccb.ExceptionApproved:
			if approvals != 3 || len(e.Votes) != 3 {
				t.Errorf("request %d approved with %d votes, %d approvals; want 3 and 3", id, len(e.Votes), approvals)
			}
		case ccb.ExceptionRejected:
			last := e.Votes[len(e.Votes)-1]
			if r < 2 || last.Decision != ccb.VoteReject || approvals >= 3 {
				t.Errorf("request %d rejected: %+v", id, e.Votes)
			}
		default:
			t.Errorf("request %d is %s after six votes", id, e.Status)
		}
		outcomes := 0
		for _, action := range []string{"exception.approved", "exception.rejected"} {
			es, _ := h.Store.AuditLog(ctx, app.AuditFilter{Action: action, Subject: fmt.Sprintf("exception/%d", id)})
			outcomes += len(es)
		}
		if outcomes != 1 {
			t.Errorf("request %d: %d outcomes audited, want 1", id, outcomes)
		}
	}
}

// TestConcurrentIngest: batches posted at once from many clients, half of
// them retried with their Idempotency-Key while the first is in flight,
// add up to exactly the events sent once each.
func TestConcurrentIngest(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const clients, batches, size = 6, 4, 100
	var wg sync.WaitGroup
	gate := make(chan struct{})
	errs := make(chan string, clients*batches*2)
	for c := range clients {
		for b := range batches {
			body := sliBatch((c*batches+b)*size, size)
			key := fmt.Sprintf("client-%d-batch-%d", c, b)
			for try := range 1 + b%2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					if status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/services/ledger/sli", body, "Idempotency-Key", key); status != http.StatusAccepted {
						errs <- fmt.Sprintf("%s try %d: %d %s", key, try, status, raw)
					}
				}()
			}
		}
	}
	close(gate)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	m, _, err := h.Store.ServiceMetrics(context.Background(), "ledger", time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	const events = clients * batches * size
	if m.TotalEvents != 10*events || m.BadEvents != events {
		t.Errorf("total %v bad %v, want %d and %d", m.TotalEvents, m.BadEvents, 10*events, events)
	}
}
