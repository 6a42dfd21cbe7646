package db

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/variant"
)

const fleetPolicy = `project: fleet-core
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**"]
vehicle_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code, function_count]}
`

// fleetAnalysis analyses 9,500 core lines and 100 functions against the
// truck's and bus's lines (docs/BUDGET_MATH.md, Variant deltas: truck 500 warns, 600 fails).
func fleetAnalysis(t testing.TB, commit string, truck, bus int) *variant.Analysis {
	t.Helper()
	p, err := variant.ParseVariantPolicy(".budgetgate.yaml", []byte(fleetPolicy))
	if err != nil {
		t.Fatal(err)
	}
	return p.Analyze(&variant.AnalysisInput{Commit: commit, Baseline: "main", Files: []variant.FileFacts{
		{Path: "core/a.go", Code: true, Lines: 9500, Functions: 100},
		{Path: "vehicles/truck/t.go", Code: true, Lines: truck, Functions: 1},
		{Path: "vehicles/bus/b.go", Code: true, Lines: bus, Functions: 1},
	}})
}

func save(t testing.TB, d *DB, in app.NewAnalysis) *app.SavedAnalysis {
	t.Helper()
	ctx := context.Background()
	tx, err := d.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if in.Source == "" {
		in.Source = app.SourceCI
	}
	out, err := tx.SaveAnalysis(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

func states(t testing.TB, d *DB, project string) map[string]int {
	t.Helper()
	counts, err := d.ViolationCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[project] == nil {
		return map[string]int{}
	}
	return counts[project]
}

// TestViolationLifecycle walks violations through a sequence of analyses:
// they open on failure, are seen again rather than reopened, and resolve
// when a later baseline analysis is back within limits.
func TestViolationLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		d := openAt(t, b, start)
		steps := []struct {
			name       string
			commit     string
			onBaseline bool
			truck, bus int
			covered    []bool
			status     string
			newV       int
			resolved   int
			want       map[string]int // violation states of the project afterwards
		}{
			{"baseline within limits", "b1", true, 400, 100, nil, variant.AnalysisWarn, 0, 0, map[string]int{}},
			{"change fails truck lines", "c1", false, 600, 100, nil, variant.AnalysisBlocked, 1, 0, map[string]int{"open": 1}},
			{"same change again: same violation", "c1", false, 600, 100, nil, variant.AnalysisBlocked, 0, 0, map[string]int{"open": 1}},
			{"baseline moves on without it: resolved", "b2", true, 450, 100, nil, variant.AnalysisWarn, 0, 1, map[string]int{"resolved": 1}},
			{"merged with an exception: excepted on the baseline", "b3", true, 600, 100, []bool{true}, variant.AnalysisExcepted, 1, 0, map[string]int{"resolved": 1, "excepted": 1}},
			{"a change carries the baseline's violation: not new", "c2", false, 600, 100, nil, variant.AnalysisBlocked, 0, 0, map[string]int{"resolved": 1, "excepted": 1}},
			{"exception gone: the baseline's violation opens, bus fails too", "b4", true, 600, 700, []bool{false, false}, variant.AnalysisBlocked, 1, 0, map[string]int{"resolved": 1, "open": 2}},
			{"refactored: both resolve", "b5", true, 100, 100, nil, variant.AnalysisPass, 0, 2, map[string]int{"resolved": 3}},
		}
		for i, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				d.Now = func() time.Time { return start.Add(time.Duration(i) * time.Hour) }
				a := fleetAnalysis(t, s.commit, s.truck, s.bus)
				out := save(t, d, app.NewAnalysis{Analysis: a, OnBaseline: s.onBaseline, Covered: s.covered, Actor: budgetgate.SystemActor})
				if out.Status != s.status {
					t.Errorf("status %s, want %s", out.Status, s.status)
				}
				newV := 0
				for _, v := range out.Violations {
					if v.New {
						newV++
					}
				}
				if newV != s.newV || len(out.Resolved) != s.resolved {
					t.Errorf("%d new, %d resolved; want %d and %d", newV, len(out.Resolved), s.newV, s.resolved)
				}
				if len(out.Violations) != len(a.Violations) {
					t.Errorf("%d tracked violations for %d failures", len(out.Violations), len(a.Violations))
				}
				got := states(t, d, "fleet-core")
				for _, st := range variant.ViolationStates {
					if got[st] != s.want[st] {
						t.Errorf("states %v, want %v", got, s.want)
						break
					}
				}
			})
		}

		t.Run("resolution is recorded", func(t *testing.T) {
			vs, err := d.Violations(context.Background(), app.ViolationFilter{Project: "fleet-core", State: variant.ViolationResolved})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				if v.ResolvedAt == nil || v.ResolvedBy == 0 || v.ResolvedBy == v.OpenedBy {
					t.Errorf("violation %d: resolved at %v by %d (opened by %d)", v.ID, v.ResolvedAt, v.ResolvedBy, v.OpenedBy)
				}
			}
			first := vs[len(vs)-1]
			if first.Commit != "c1" || first.OnBaseline || first.Metric != variant.MetricLinesOfCode || first.Variant != "truck" || first.Value != 600 || first.Limit != 5 {
				t.Errorf("first violation %+v", first)
			}
		})

		t.Run("one notification per analysis with new violations", func(t *testing.T) {
			ns, err := d.Notifications(context.Background(), "fleet-core", 100)
			if err != nil {
				t.Fatal(err)
			}
			// c1, b3 and b4 opened violations.
			if len(ns) != 3 {
				t.Fatalf("%d notifications, want 3", len(ns))
			}
			if ns[0].Target != DefaultOwnerRole || ns[0].State != app.NotifyRecorded || !strings.Contains(ns[0].Message, "vehicle/bus lines_of_code") {
				t.Errorf("latest notification %+v", ns[0])
			}
		})

		t.Run("compliance kept for baseline analyses only", func(t *testing.T) {
			hist, err := d.ComplianceHistory(context.Background(), "fleet-core")
			if err != nil {
				t.Fatal(err)
			}
			var commits []string
			for _, h := range hist {
				commits = append(commits, h.Commit)
			}
			if strings.Join(commits, ",") != "b1,b2,b3,b4,b5" {
				t.Errorf("compliance commits %v", commits)
			}
			// b1: truck 400 lines is 4.04% (over soft 3), functions 1% within: 50.
			// b5: everything within: 100.
			if hist[0].Score != 50 || hist[0].Pairs != 2 || hist[4].Score != 100 {
				t.Errorf("scores %+v", hist)
			}
		})

		t.Run("history filters", func(t *testing.T) {
			ctx := context.Background()
			all, err := d.History(ctx, app.HistoryFilter{Project: "fleet-core"})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 10 { // 5 baseline analyses x 2 metrics
				t.Fatalf("%d points, want 10", len(all))
			}
			for i := 1; i < len(all); i++ {
				if all[i].At.Before(all[i-1].At) {
					t.Fatalf("points out of order at %d", i)
				}
			}
			ranged, err := d.History(ctx, app.HistoryFilter{Project: "fleet-core", Dimension: "vehicle", From: start.Add(3 * time.Hour), To: start.Add(6 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			var commits []string
			for _, p := range ranged {
				if p.Metric == variant.MetricLinesOfCode {
					commits = append(commits, p.Commit)
				}
			}
			if strings.Join(commits, ",") != "b2,b3" { // b4 is at hour 6: excluded
				t.Errorf("ranged commits %v", commits)
			}
			none, err := d.History(ctx, app.HistoryFilter{Project: "fleet-core", Dimension: "sector"})
			if err != nil || len(none) != 0 {
				t.Errorf("unknown dimension: %d points, %v", len(none), err)
			}
			latest, err := d.History(ctx, app.HistoryFilter{Project: "fleet-core", Limit: 2})
			if err != nil || len(latest) != 2 || latest[0].Commit != "b5" {
				t.Errorf("limited: %+v, %v", latest, err)
			}
		})
	})
}

func TestCCBRequestLink(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d := openAt(t, b, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		ctx := context.Background()
		out := save(t, d, app.NewAnalysis{Analysis: fleetAnalysis(t, "c9", 600, 0), Actor: budgetgate.SystemActor})
		tx, err := d.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if l, err := tx.CCBRequestFor(ctx, "fleet-core", "c9"); err != nil || l != nil {
			t.Fatalf("before linking: %v, %v", l, err)
		}
		if err := tx.LinkCCBRequest(ctx, out.ID, app.CCBLink{ID: 7, URL: "http://x/ccb/7"}); err != nil {
			t.Fatal(err)
		}
		l, err := tx.CCBRequestFor(ctx, "fleet-core", "c9")
		if err != nil || l == nil || l.ID != 7 || l.URL != "http://x/ccb/7" {
			t.Fatalf("after linking: %+v, %v", l, err)
		}
		if err := tx.LinkCCBRequest(ctx, out.ID, app.CCBLink{ID: 8}); err == nil {
			t.Error("a second request for the same commit was linked")
		}
	})
}

func TestConfigureRepositories(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d := openAt(t, b, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		ctx := context.Background()
		if err := d.ConfigureRepositories(ctx, map[string]string{"fleet-core": "/srv/a", "ops": "/srv/b"}, map[string]string{"ops": "ops_team"}); err != nil {
			t.Fatal(err)
		}
		if err := d.ConfigureRepositories(ctx, map[string]string{"fleet-core": "/srv/c"}, nil); err != nil {
			t.Fatal(err)
		}
		ps, err := d.Projects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]string{}
		for _, p := range ps {
			got[p.Name] = [2]string{p.RepoPath, p.OwnerRole}
		}
		want := map[string][2]string{"fleet-core": {"/srv/c", DefaultOwnerRole}, "ops": {"", "ops_team"}}
		if len(got) != len(want) || got["fleet-core"] != want["fleet-core"] || got["ops"] != want["ops"] {
			t.Errorf("projects %v, want %v", got, want)
		}
		if err := d.AddRepository(ctx, "../x", "/srv/x"); budgetgate.ErrorField(err) != "repo" {
			t.Errorf("bad name: %v", err)
		}
	})
}
