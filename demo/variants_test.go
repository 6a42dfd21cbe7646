package demo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/variant"
)

func TestSeedVariants(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Now = func() time.Time { return now }
	start := time.Now()
	if err := SeedVariants(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	t.Logf("first seed took %s", time.Since(start))

	repo := filepath.Join(filepath.Dir(d.Path), "demo-repo")
	tags, err := exec.Command("git", "-C", repo, "tag", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(tags)); len(got) != demoCommits/demoTagEach || got[0] != "v1.0" {
		t.Errorf("tags %v", got)
	}
	if _, err := exec.Command("git", "-C", repo, "rev-parse", "--verify", DemoBranch).Output(); err != nil {
		t.Errorf("branch %s: %v", DemoBranch, err)
	}

	ps, err := d.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].Name != DemoProject || ps[0].RepoPath != repo {
		t.Fatalf("projects %+v", ps)
	}
	for _, tt := range []struct {
		project     string
		analyses    int
		status      string
		openOnBase  int
		firstBefore time.Duration // the history reaches this far back
	}{
		{DemoProject, demoCommits, variant.AnalysisWarn, 0, 80 * 24 * time.Hour},
		{"telematics-gateway", 40, variant.AnalysisBlocked, 2, 80 * 24 * time.Hour},
		{"ops-portal", 34, variant.AnalysisPass, 0, 80 * 24 * time.Hour},
	} {
		t.Run(tt.project, func(t *testing.T) {
			hist, err := d.ComplianceHistory(ctx, tt.project)
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != tt.analyses {
				t.Errorf("%d baseline analyses, want %d", len(hist), tt.analyses)
			}
			if len(hist) > 0 && now.Sub(hist[0].At) < tt.firstBefore {
				t.Errorf("history starts at %v", hist[0].At)
			}
			latest, err := d.LatestBaselineAnalysis(ctx, tt.project)
			if err != nil {
				t.Fatal(err)
			}
			if latest.Status != tt.status {
				t.Errorf("latest status %s, want %s", latest.Status, tt.status)
			}
			open, err := d.UnresolvedBaselineViolations(ctx, tt.project)
			if err != nil {
				t.Fatal(err)
			}
			if len(open) != tt.openOnBase {
				t.Errorf("%d open baseline violations, want %d: %+v", len(open), tt.openOnBase, open)
			}
		})
	}

	start = time.Now()
	if err := SeedVariants(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	t.Logf("second seed took %s", time.Since(start))
	hist, _ := d.ComplianceHistory(ctx, DemoProject)
	if len(hist) != demoCommits {
		t.Errorf("a second seed added analyses: %d", len(hist))
	}
}
