package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/analyze"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/variant"
)

// DemoProject is the project of the generated repository: the one the
// README's quick-start curl analyses.
const DemoProject = "fleet-core"

// DemoBranch is a change on top of main that breaks the vehicle budget.
// It is named so that the README's quick start
// ({"commit_sha":"abc123","baseline":"main"}) finds a revision.
const DemoBranch = "abc123"

// demoCommits is how many commits main gets, spread over demoSpan.
const (
	demoCommits = 36
	demoSpan    = 90 * 24 * time.Hour
	demoTagEach = 6 // a release tag every this many commits
)

// fleetPolicy is the generated repository's .budgetgate.yaml: docs/POLICY.md, Variant policy,
// with the documented budget blocks verbatim and metric patterns that find the
// sector overlays' files under sectors/.
const fleetPolicy = `project: fleet-core
baseline: main
exclude: ["vendor/**", "third_party/**"]
tests: ["**/*_test.go", "**/test_*.py", "tests/**", "testing/**"]
dimensions:
  vehicle:
    variants: ["vehicles/{variant}/**", "**/*_{variant}.go"]
  sector:
    variants:
      mining: ["sectors/mining/**"]
      ports: ["sectors/ports/**"]
  platform:
    variants: ["platform/{variant}/**"]
vehicle_budget:
  hard_limit: 5.0          # Maximum 5% code delta
  soft_limit: 3.0          # Warning at 3% delta
  trend_limit: 0.5         # Max 0.5% growth per release

  exclusions:
    - "configs/vehicles/"   # Vehicle profiles excluded
    - "testing/vehicle/"    # Vehicle-specific tests excluded

  metrics:
    - lines_of_code
    - cyclomatic_complexity
    - function_count
    - class_count
sector_budget:
  hard_limit: 5.0          # Maximum 5% code delta
  soft_limit: 3.0          # Warning at 3% delta
  trend_limit: 0.5         # Max 0.5% growth per release

  exclusions:
    - "configs/sectors/"    # Sector overlays excluded
    - "ui/sector-themes/"   # Sector UI themes excluded

  metrics:
    - policy_rules
    - ui_components
    - workflow_definitions
    - integration_adapters
platform_budget: {hard_limit: 5.0, soft_limit: 3.0, trend_limit: 0.5, metrics: [lines_of_code]}
test_budget:
  hard_limit: 25.0         # Maximum 25% test delta
  soft_limit: 20.0         # Warning at 20% delta
  trend_limit: 2.0         # Max 2% growth per release

  metrics:
    - test_execution_time
    - test_case_count
    - test_data_volume
    - infrastructure_cost
metrics:
  policy_rules: {files: ["**/policies/**/*.rego"]}
  ui_components: {files: ["**/ui/components/**/*.tsx"]}
  workflow_definitions: {files: ["**/workflows/**/*.y*ml"]}
  integration_adapters: {dirs: ["**/adapters/*"]}
  test_data_volume: {bytes: ["**/testdata/**", "**/fixtures/**"]}
  infrastructure_cost: {reported: true}
`

// SeedVariants makes the variant-budget demo: a real git repository under
// the database's directory, configured as project fleet-core and analysed
// commit by commit, and two more projects with three months of baseline
// history, one of them with an open violation. What exists is kept, so a
// second start costs little.
func SeedVariants(ctx context.Context, d *db.DB, now time.Time) error {
	repo := filepath.Join(filepath.Dir(d.Path), "demo-repo")
	if _, err := exec.LookPath("git"); err == nil {
		if err := seedRepository(ctx, d, repo, now); err != nil {
			return fmt.Errorf("demo repository: %w", err)
		}
	}
	for _, sp := range syntheticProjects {
		if err := seedSynthetic(ctx, d, sp, now); err != nil {
			return fmt.Errorf("demo project %s: %w", sp.name, err)
		}
	}
	return nil
}

func hasAnalyses(ctx context.Context, d *db.DB, project string) (bool, error) {
	as, err := d.RecentAnalyses(ctx, project, 1)
	return len(as) > 0, err
}

func seedRepository(ctx context.Context, d *db.DB, repo string, now time.Time) error {
	if _, err := os.Stat(filepath.Join(repo, ".git")); errors.Is(err, os.ErrNotExist) {
		if err := GenerateRepository(ctx, repo, now); err != nil {
			os.RemoveAll(repo)
			return err
		}
	}
	if err := d.AddRepository(ctx, DemoProject, repo); err != nil {
		return err
	}
	done, err := hasAnalyses(ctx, d, DemoProject)
	if err != nil || done {
		return err
	}
	out, err := gitIn(ctx, repo, nil, "rev-list", "--first-parent", "--reverse", "--format=%H %ct", "main")
	if err != nil {
		return err
	}
	type commit struct {
		sha string
		at  time.Time
	}
	var commits []commit
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var c commit
		var unix int64
		if strings.HasPrefix(line, "commit ") {
			continue
		}
		if _, err := fmt.Sscanf(line, "%s %d", &c.sha, &unix); err != nil {
			return fmt.Errorf("rev-list: %q: %w", line, err)
		}
		c.at = time.Unix(unix, 0).UTC()
		commits = append(commits, c)
	}
	// Analyse two at a time (the cache makes later commits cheap), then
	// store in commit order, each at its commit's time.
	results := make([]*analyze.Result, len(commits))
	errs := make([]error, len(commits))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, c := range commits {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = analyze.Run(ctx, analyze.Options{Dir: repo, Rev: c.sha, BaselineSet: true, NoCache: false, Workers: 1})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	restore := d.Now
	defer func() { d.Now = restore }()
	actor := budgetgate.Actor{Issuer: "demo", Subject: "ci", Name: "ci"}
	for i, c := range commits {
		d.Now = func() time.Time { return c.at }
		a := results[i].Analysis
		a.Project = DemoProject
		if err := saveDemo(ctx, d, a, true, app.SourceServer, actor); err != nil {
			return err
		}
	}
	return nil
}

func saveDemo(ctx context.Context, d *db.DB, a *variant.Analysis, onBaseline bool, source string, actor budgetgate.Actor) error {
	_, _, err := d.Idempotent(ctx, nil, func(tx app.Tx) (app.Reply, error) {
		_, err := tx.SaveAnalysis(ctx, app.NewAnalysis{Analysis: a, OnBaseline: onBaseline, Source: source, Actor: actor,
			Link: "/projects/" + a.Project})
		return app.Reply{}, err
	})
	return err
}

// gitIn runs git in dir with the demo's identity and no user configuration.
func gitIn(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Fleet Dev", "GIT_AUTHOR_EMAIL=dev@fleet.example", "GIT_COMMITTER_NAME=Fleet Dev", "GIT_COMMITTER_EMAIL=dev@fleet.example")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// GenerateRepository writes the demo repository at dir: demoCommits
// commits on main over the 90 days before now, release tags v1.0, v1.1, ...,
// and the branch abc123 with a change that breaks the vehicle budget. It
// builds the history with one git fast-import, so it takes well under a
// second.
func GenerateRepository(ctx context.Context, dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := gitIn(ctx, dir, nil, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	var stream bytes.Buffer
	start := now.Add(-demoSpan).Truncate(time.Hour)
	step := demoSpan / demoCommits
	mark := 0
	for i := 0; i < demoCommits; i++ {
		files := fleetTree(i, false)
		at := start.Add(time.Duration(i) * step)
		mark++
		writeCommit(&stream, "refs/heads/main", mark, at, fmt.Sprintf("fleet-core: step %d of the platform work", i+1), files)
		if (i+1)%demoTagEach == 0 {
			fmt.Fprintf(&stream, "reset refs/tags/v1.%d\nfrom :%d\n\n", (i+1)/demoTagEach-1, mark)
		}
	}
	// The change: a truck autonomy stack written only for trucks, on top
	// of main's last commit.
	mark++
	writeCommit(&stream, "refs/heads/"+DemoBranch, mark, now.Add(-2*time.Hour), "vehicles/truck: autonomy stack for the new truck profile", fleetTree(demoCommits-1, true))
	if _, err := gitIn(ctx, dir, stream.Bytes(), "fast-import", "--quiet"); err != nil {
		return err
	}
	_, err := gitIn(ctx, dir, nil, "reset", "-q", "--hard", "main")
	return err
}

// writeCommit appends a commit to a fast-import stream, child of the
// previous mark: the whole tree (deleteall, then every file), so that each
// commit is exactly the tree fleetTree gives.
func writeCommit(b *bytes.Buffer, ref string, mark int, at time.Time, msg string, files map[string]string) {
	fmt.Fprintf(b, "commit %s\nmark :%d\n", ref, mark)
	fmt.Fprintf(b, "author Fleet Dev <dev@fleet.example> %d +0000\n", at.Unix())
	fmt.Fprintf(b, "committer Fleet Dev <dev@fleet.example> %d +0000\n", at.Unix())
	fmt.Fprintf(b, "data %d\n%s\n", len(msg), msg)
	if mark > 1 {
		fmt.Fprintf(b, "from :%d\n", mark-1)
	}
	b.WriteString("deleteall\n")
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(b, "M 100644 inline %s\ndata %d\n%s\n", p, len(files[p]), files[p])
	}
	b.WriteString("\n")
}
