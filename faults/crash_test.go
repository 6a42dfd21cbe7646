package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/db"
)

// TestKillUnderLoad kills the server with SIGKILL while clients ingest SLI
// data and ask the gate, restarts it on the same database, and finds every
// acknowledged write: the events of every 202 (and never part of a
// request) and every decision id of a 200. The database passes a full
// integrity check afterwards.
func TestKillUnderLoad(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bg.db")
	policies := policyDir(t)
	srv := startServer(t, "--db", dbPath, "--policies", policies)

	const (
		ingesters, gaters = 4, 4
		eventsPer, total  = 50, 20 // each ingest adds eventsPer x total = 1,000 events
		perRequest        = eventsPer * total
	)
	type decision struct {
		id      int64
		version string
	}
	var (
		mu                sync.Mutex
		ingestAcked       int64 // requests answered 202
		ingestSent        int64 // requests sent, answered or not
		decisions         []decision
		unexpected        []string
		wg                sync.WaitGroup
		ctx, stopClients  = context.WithCancel(context.Background())
		httpc             = client(ingesters + gaters)
		ingestsAndDecided = func() (int64, int) { mu.Lock(); defer mu.Unlock(); return ingestAcked, len(decisions) }
	)
	defer stopClients()
	for w := 0; w < ingesters; w++ {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				// Each client writes its own minutes, within the last day.
				body := sliBody(eventsPer, total, (w*200+i%200)*eventsPer%1400)
				mu.Lock()
				ingestSent++
				mu.Unlock()
				status, b, err := srv.call(ctx, httpc, "POST", "/api/v1/services/api-service/sli", body)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				if status == 202 {
					ingestAcked++
				} else {
					unexpected = append(unexpected, fmt.Sprintf("ingest: %d %s", status, b))
				}
				mu.Unlock()
			}
		})
	}
	for w := 0; w < gaters; w++ {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				version := fmt.Sprintf("%d.%d.0", w, i)
				status, b, err := srv.call(ctx, httpc, "POST", "/api/v1/releases/evaluate", releaseBody(version))
				if err != nil {
					return
				}
				var d struct {
					ID int64 `json:"decision_id"`
				}
				mu.Lock()
				if status == 200 && json.Unmarshal(b, &d) == nil && d.ID > 0 {
					decisions = append(decisions, decision{d.ID, version})
				} else {
					unexpected = append(unexpected, fmt.Sprintf("evaluate: %d %s", status, b))
				}
				mu.Unlock()
			}
		})
	}

	// Kill once there is something to lose, with the clients still going.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ing, dec := ingestsAndDecided()
		if ing >= 40 && dec >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d ingests and %d decisions acknowledged in 30s", ing, dec)
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.signal(t, syscall.SIGKILL)
	stopClients()
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("answers other than 2xx before the kill: %v", unexpected[:min(5, len(unexpected))])
	}

	srv = startServer(t, "--db", dbPath, "--policies", policies)
	got := srv.totalEvents(t)
	if got%perRequest != 0 {
		t.Errorf("%d events stored: not a whole number of %d-event requests, so one was stored in part", got, perRequest)
	}
	if got < ingestAcked*perRequest || got > ingestSent*perRequest {
		t.Errorf("%d events stored; %d requests acknowledged (%d events), %d sent", got, ingestAcked, ingestAcked*perRequest, ingestSent)
	}
	for _, d := range decisions {
		var stored struct {
			ID      int64 `json:"decision_id"`
			Release struct {
				Version string `json:"version"`
			} `json:"release"`
		}
		b := srv.mustCall(t, "GET", fmt.Sprintf("/api/v1/decisions/%d", d.id), "", 200)
		if err := json.Unmarshal(b, &stored); err != nil || stored.ID != d.id {
			t.Fatalf("decision %d: %s", d.id, b)
		}
		if stored.Release.Version != d.version {
			t.Errorf("decision %d is for version %q, was acknowledged for %q", d.id, stored.Release.Version, d.version)
		}
	}
	t.Logf("killed after %d ingests acknowledged (%d sent) and %d decisions; %d events found", ingestAcked, ingestSent, len(decisions), got)

	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("server exited %d after SIGTERM", code)
	}
	if err := db.IntegrityCheck(context.Background(), dbPath); err != nil {
		t.Fatal(err)
	}
}
