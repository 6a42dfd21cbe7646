package faults

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/analysistest"
)

// analysisDoc is a synthetic analysis document of project at commit.
func analysisDoc(t *testing.T, project, commit string, variants, metrics, failing int) string {
	t.Helper()
	b, err := json.Marshal(analysistest.Synthetic(project, commit, 1, variants, metrics, failing))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gateAllowed asks the real server's deployment gate about project.
func gateAllowed(t *testing.T, srv *proc, project string) bool {
	t.Helper()
	var g struct {
		Allowed bool   `json:"allowed"`
		Reason  string `json:"reason"`
	}
	if err := json.Unmarshal(srv.mustCall(t, "GET", "/api/v1/budget/gate?project="+project, "", 200), &g); err != nil {
		t.Fatal(err)
	}
	return g.Allowed
}

// TestGateFailsClosed runs the real binary: a blocked baseline with more
// violations than its generated request reason could list closes the
// gate; then, on a database capped as a full disk would be, an analysis
// that would open the gate again is refused with 503 and the gate stays
// closed; restarted with room, the same analysis goes through.
func TestGateFailsClosed(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "bg.db")
	srv := startServer(t, "--db", dbPath)

	// 150 failing variants: the request's reason names the worst and how
	// many more; the analysis is stored blocked and its request opened.
	var ans struct {
		Status      string `json:"status"`
		OnBaseline  bool   `json:"on_baseline"`
		ExceptionID *int64 `json:"exception_id"`
	}
	raw := srv.mustCall(t, "POST", "/api/v1/budget/analyze", analysisDoc(t, "fleet-core", "b1", 200, 1, 150), 201)
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Status != "blocked" || !ans.OnBaseline || ans.ExceptionID == nil {
		t.Fatalf("answer %.300s: want a blocked baseline with its request", raw)
	}
	if gateAllowed(t, srv, "fleet-core") {
		t.Fatal("the gate is open after a blocked baseline")
	}

	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("server exited %d after SIGTERM", code)
	}
	st, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	limit := st.Size()/4096 + 10
	srv = startServer(t, "--db", dbPath, "--max-db-pages", strconv.FormatInt(limit, 10))
	// A clean baseline large enough not to fit: it would resolve every
	// violation. Refused, it leaves the gate closed.
	clean := analysisDoc(t, "fleet-core", "b2", 2000, 10, 0)
	srv.mustCall(t, "POST", "/api/v1/budget/analyze", clean, 503)
	if gateAllowed(t, srv, "fleet-core") {
		t.Fatal("a refused analysis opened the gate")
	}

	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("server exited %d after SIGTERM", code)
	}
	srv = startServer(t, "--db", dbPath)
	srv.mustCall(t, "POST", "/api/v1/budget/analyze", clean, 201)
	if !gateAllowed(t, srv, "fleet-core") {
		t.Error("with room again, the clean baseline did not resolve the violations")
	}
}
