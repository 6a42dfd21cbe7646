package faults

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStorageFull caps the database with --max-db-pages, as a full disk
// would: ingest answers 503 with a message that says so, nothing of the
// refused request is stored, /ready and /metrics report it, reads go on;
// restarted with room, the server takes writes again.
func TestStorageFull(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "bg.db")
	policies := policyDir(t)
	// Measure the fresh database (migrated, policies loaded, checkpointed
	// at a clean stop), then cap it a little above that.
	srv := startServer(t, "--db", dbPath, "--policies", policies)
	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("server exited %d after SIGTERM", code)
	}
	st, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	limit := st.Size()/4096 + 30
	srv = startServer(t, "--db", dbPath, "--policies", policies, "--max-db-pages", strconv.FormatInt(limit, 10))

	const eventsPer, total = 500, 3
	var acked int64
	var refusal []byte
	var retryAfter string
	var refusedOffset int
	httpc := client(1)
	for i := 0; i < 200 && refusal == nil; i++ {
		// Distinct minutes each time, so that every request needs new pages.
		resp, b, err := srv.do(context.Background(), httpc, "POST", "/api/v1/services/api-service/sli", sliBody(eventsPer, total, i*eventsPer))
		if err != nil {
			t.Fatal(err)
		}
		switch resp.StatusCode {
		case 202:
			acked++
		case 503:
			refusal, retryAfter, refusedOffset = b, resp.Header.Get("Retry-After"), i*eventsPer
		default:
			t.Fatalf("ingest %d: %d %s", i, resp.StatusCode, b)
		}
	}
	if refusal == nil {
		t.Fatalf("200 ingests of %d events fit in %d pages: the cap did not bite", eventsPer, limit)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(refusal, &e); err != nil || e.Error.Code != "unavailable" || !strings.Contains(e.Error.Message, "storage is full") {
		t.Fatalf("refusal %s, want code unavailable and a message that storage is full", refusal)
	}
	if retryAfter == "" {
		t.Error("a 503 without Retry-After")
	}
	if got, want := srv.totalEvents(t), acked*eventsPer*total; got != want {
		t.Fatalf("%d events stored; %d requests of %d were acknowledged (%d): a refused one left a part behind", got, acked, eventsPer*total, want)
	}
	var notReady struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	ready := srv.mustCall(t, "GET", "/ready", "", 503)
	if err := json.Unmarshal(ready, &notReady); err != nil || !strings.Contains(notReady.Error.Message, "storage full") {
		t.Errorf("/ready on a full database: %s, want JSON saying storage full", ready)
	}
	srv.mustCall(t, "GET", "/health", "", 200) // alive all the same
	if v := metric(t, srv, "budgetgate_storage_full"); v != 1 {
		t.Errorf("budgetgate_storage_full = %v, want 1", v)
	}

	// Room again: restart without the cap.
	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("server exited %d after SIGTERM", code)
	}
	srv = startServer(t, "--db", dbPath, "--policies", policies)
	srv.mustCall(t, "GET", "/ready", "", 200)
	// The refused request, sent again, goes through.
	srv.mustCall(t, "POST", "/api/v1/services/api-service/sli", sliBody(eventsPer, total, refusedOffset), 202)
	if got, want := srv.totalEvents(t), (acked+1)*eventsPer*total; got != want {
		t.Fatalf("after recovery %d events, want %d", got, want)
	}
	if v := metric(t, srv, "budgetgate_storage_full"); v != 0 {
		t.Errorf("budgetgate_storage_full = %v after recovery, want 0", v)
	}
}

// metric reads one unlabelled sample from /metrics.
func metric(t *testing.T, srv *proc, name string) float64 {
	t.Helper()
	b := srv.mustCall(t, "GET", "/metrics", "", 200)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("/metrics has no %s", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
