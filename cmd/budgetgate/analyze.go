package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/budgetgate/budgetgate/analyze"
	"github.com/budgetgate/budgetgate/variant"
)

const analyzeUsage = `Usage: budgetgate analyze [PATH] [flags]

Measures the variant budgets of the repository at PATH (default ".") against
its .budgetgate.yaml: per dimension and variant, the share of what the variant
builds that exists only for it, with statuses against the policy's limits.

What is analysed:
  the working tree at PATH (honouring .gitignore), or
  --rev REV     a commit, read from the object store (no checkout), or
  --staged      the index: what the next commit would hold (for pre-commit hooks).

Baseline: with --baseline REV, REV is analysed too and each figure reports its
change in percentage points; the policy then comes from REV's .budgetgate.yaml,
so a change cannot loosen its own budget. Without --baseline the policy's
baseline branch is used when the repository has it (--baseline= turns this
off); --staged compares with HEAD. Trend limits compare with the latest tag
matching the policy's release_tags (default v*) reachable from the baseline,
or else with the baseline.

Exit status: 0 pass or warn (or an approved exception with --wait),
1 blocked (or rejected, expired), 2 error.

Flags:
`

// runAnalyze is `budgetgate analyze`.
func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts     analyze.Options
		junit    multiFlag
		coverage multiFlag
		format   = fs.String("format", "table", "output: table, json or markdown (a pull-request comment)")
		policy   = fs.String("policy", "", "use this policy `FILE` instead of the tree's and the baseline's")
		reported = fs.String("reported", "", "JSON `FILE` of reported metrics: {\"METRIC\": {\"DIMENSION\": {\"core\": N, \"variants\": {\"VARIANT\": N}}}}")
		post     = fs.String("post", "", "post the analysis to the budgetgate server at `URL` (token in BUDGETGATE_TOKEN)")
		branch   = fs.String("branch", "", "with --post: the `BRANCH` CI built, so the server knows a baseline analysis (default: the checked-out branch; BUDGETGATE_BRANCH)")
		wait     = fs.Duration("wait", 0, "with --post: when blocked, wait up to `DURATION` for the CCB to decide the exception")
		noCache  = fs.Bool("no-cache", false, "measure every file; neither read nor write the cache")
		cache    = fs.String("cache", "", "cache `FILE` (default: inside .git, or the user cache directory)")
	)
	fs.StringVar(&opts.Rev, "rev", "", "analyse the commit `REV` from the object store")
	fs.StringVar(&opts.Baseline, "baseline", "", "compare with the commit `REV`")
	fs.BoolVar(&opts.Staged, "staged", false, "analyse the index against HEAD (pre-commit)")
	fs.Var(&junit, "junit", "JUnit XML `FILE` for test_execution_time and test_case_count (repeatable)")
	fs.Var(&coverage, "coverage", "coverage report `FILE`: LCOV, Cobertura XML, JaCoCo XML or a Go cover profile (repeatable)")
	fs.IntVar(&opts.Workers, "workers", 0, "files measured at once (default: the number of CPUs)")
	fs.Usage = func() {
		fmt.Fprint(stderr, analyzeUsage)
		fs.PrintDefaults()
	}
	paths, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if len(paths) > 1 {
		fmt.Fprintln(stderr, "budgetgate analyze: one PATH at most")
		return 2
	}
	if len(paths) == 1 {
		opts.Dir = paths[0]
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "baseline" {
			opts.BaselineSet = true
		}
	})
	switch *format {
	case "table", "json", "markdown":
	default:
		fmt.Fprintf(stderr, "budgetgate analyze: --format %q: want table, json or markdown\n", *format)
		return 2
	}
	if *wait > 0 && *post == "" {
		fmt.Fprintln(stderr, "budgetgate analyze: --wait needs --post")
		return 2
	}
	opts.PolicyPath, opts.JUnit, opts.NoCache, opts.CachePath = *policy, junit, *noCache, *cache
	opts.Coverage = coverage
	if *reported != "" {
		data, err := os.ReadFile(*reported)
		if err == nil {
			err = json.Unmarshal(data, &opts.Reported)
		}
		if err != nil {
			fmt.Fprintf(stderr, "budgetgate analyze: --reported: %v\n", err)
			return 2
		}
	}

	opts.Progress = &analyze.Progress{}
	stop := startProgress(stderr, opts.Progress)
	res, err := analyze.Run(ctx, opts)
	stop()
	if err != nil && ctx.Err() != nil {
		// SIGINT or SIGTERM: stopped at once, nothing reported.
		fmt.Fprintln(stderr, "budgetgate analyze: stopped by a signal, nothing analysed")
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "budgetgate analyze: %v\n", err)
		return 2
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "budgetgate analyze: warning: %s\n", w)
	}
	a := res.Analysis
	// Posted first, so that the report can carry the CCB request's link.
	var posted *postAnswer
	if *post != "" {
		b := cmp.Or(*branch, os.Getenv("BUDGETGATE_BRANCH"))
		if b == "" && opts.Rev == "" && !opts.Staged {
			b = analyze.Branch(ctx, cmp.Or(opts.Dir, "."))
		}
		var err error
		if posted, err = postAnalysis(ctx, *post, a, b); err != nil {
			fmt.Fprintf(stderr, "budgetgate analyze: --post: %v\n", err)
			return 2
		}
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(a); err != nil {
			fmt.Fprintf(stderr, "budgetgate analyze: %v\n", err)
			return 2
		}
	case "markdown":
		writeMarkdown(stdout, a, posted.requestURL())
	default:
		writeTable(stdout, a)
	}
	if posted != nil {
		writePostSummary(stderr, a, posted)
		return posted.wait(ctx, *post, *wait, stderr)
	}
	if a.Status == variant.AnalysisBlocked {
		return 1
	}
	return 0
}

// parseInterspersed lets PATH come before, between or after flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// startProgress draws "files, rate, time left" on stderr once a run has
// taken a second, and only when stderr is a terminal.
func startProgress(w io.Writer, p *analyze.Progress) (stop func()) {
	f, ok := w.(*os.File)
	if !ok {
		return func() {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		drawn := false
		for {
			select {
			case <-done:
				if drawn {
					fmt.Fprint(f, "\r\033[K")
				}
				return
			case now := <-tick.C:
				elapsed := now.Sub(start)
				if elapsed < time.Second {
					continue
				}
				n, total := p.Counts()
				rate := float64(n) / elapsed.Seconds()
				left := "?"
				if rate > 0 && total >= n {
					left = (time.Duration(float64(total-n)/rate) * time.Second).Round(time.Second).String()
				}
				fmt.Fprintf(f, "\r\033[Kmeasured %d/%d files, %.0f files/s, %s left", n, total, rate, left)
				drawn = true
			}
		}
	}()
	return func() { close(done); <-finished }
}

func statusLabel(s string) string {
	switch s {
	case variant.VariantFail:
		return "FAIL"
	case variant.VariantTrendFail:
		return "TREND FAIL"
	case variant.VariantWarn:
		return "WARN"
	case variant.AnalysisBlocked:
		return "BLOCKED"
	}
	return strings.ToUpper(s)
}

func pct(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) + "%" }

func pp(x *float64) string {
	if x == nil {
		return "-"
	}
	return fmt.Sprintf("%+.2f pp", *x)
}

func limit(x *float64) string {
	if x == nil {
		return "-"
	}
	return strconv.FormatFloat(*x, 'f', -1, 64)
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func skippedSummary(a *variant.Analysis) string {
	s := fmt.Sprintf("%d files analysed, %d skipped", a.AnalyzedFiles, a.SkippedFiles)
	var parts []string
	for _, r := range []string{variant.SkipExcluded, variant.SkipVendored, variant.SkipGenerated, variant.SkipBinary, variant.SkipIgnored, variant.SkipUnknown} {
		if n := a.Skipped[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r, n))
		}
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

func header(a *variant.Analysis) string {
	s := a.Project
	if a.Commit != "" {
		s += " at " + short(a.Commit)
	}
	if a.BaselineCommit != "" {
		s += " against " + a.Baseline + " (" + short(a.BaselineCommit) + ")"
	}
	if a.TrendRef != "" && a.TrendRef != a.Baseline {
		s += ", trend against " + a.TrendRef
	}
	return s
}

func describeRecommendation(r variant.Recommendation) string {
	switch r.Kind {
	case variant.RecommendMoveConditional:
		return describeMoveConditional(r)
	case variant.RecommendDeduplicate:
		var locs []string
		for _, l := range r.Locations {
			locs = append(locs, fmt.Sprintf("%s:%d-%d", l.Path, l.StartLine, l.EndLine))
		}
		return fmt.Sprintf("deduplicate %.0f lines shared by %s into core (%s): worst of them %s -> %s, dimension -> %s",
			r.Value, strings.Join(r.Variants, ", "), strings.Join(locs, ", "), pct(r.Before), pct(r.After), pct(r.DimAfter))
	default:
		return fmt.Sprintf("move %s (%s %s) into core: %s %s -> %s, dimension -> %s",
			r.Locations[0].Path, strconv.FormatFloat(r.Value, 'f', -1, 64), r.Metric, strings.Join(r.Variants, ", "), pct(r.Before), pct(r.After), pct(r.DimAfter))
	}
}

func writeTable(w io.Writer, a *variant.Analysis) {
	fmt.Fprintf(w, "%s: %s\n%s\n\n", header(a), statusLabel(a.Status), skippedSummary(a))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DIMENSION\tMETRIC\tSTATUS\tDELTA\tVARIANT\tCHANGE\tSOFT\tHARD\tTREND\tSHARE")
	for _, d := range a.Dimensions {
		for _, m := range d.Metrics {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, m.Name, statusLabel(m.Status), pct(m.Delta), dash(m.Variant), pp(m.ChangePP),
				limit(&m.SoftLimit), limit(&m.HardLimit), limit(m.TrendLimit), pct(m.Share))
		}
	}
	tw.Flush()
	for _, d := range a.Dimensions {
		if len(d.Variants) == 0 || len(d.Metrics) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s variants (delta per metric):\n", d.Name)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprint(tw, "  VARIANT\tFILES")
		for _, m := range d.Metrics {
			fmt.Fprintf(tw, "\t%s", m.Name)
		}
		fmt.Fprintln(tw)
		for _, v := range d.Variants {
			fmt.Fprintf(tw, "  %s\t%d", v.Name, v.Files)
			for _, m := range d.Metrics {
				vm := v.Metrics[m.Name]
				cell := pct(vm.Delta)
				if vm.Status != variant.VariantPass {
					cell += " " + statusLabel(vm.Status)
				}
				fmt.Fprintf(tw, "\t%s", cell)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		if len(d.Overlaps) > 0 {
			fmt.Fprintf(w, "  %d files belong to more than one variant, e.g. %s (%s)\n", len(d.Overlaps), d.Overlaps[0].Path, strings.Join(d.Overlaps[0].Variants, ", "))
		}
		writeInFileTable(w, d)
		writeDependenciesTable(w, d)
	}
	writeCoverageTable(w, a)
	if len(a.Violations) > 0 {
		fmt.Fprintln(w, "\nViolations:")
		for _, v := range a.Violations {
			fmt.Fprintf(w, "  %s %s/%s %s: %s over %s%s\n", statusLabel(v.Status), v.Dimension, v.Variant, v.Metric, pct(v.Delta), violationLimit(v), changeNote(v))
		}
	}
	for _, d := range a.Dimensions {
		if len(d.Recommendations) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nRecommendations for %s:\n", d.Name)
		for _, r := range d.Recommendations {
			fmt.Fprintf(w, "  - %s\n", describeRecommendation(r))
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func violationLimit(v variant.Violation) string {
	if v.Status == variant.VariantTrendFail {
		return fmt.Sprintf("a trend limit of %s pp", strconv.FormatFloat(v.Limit, 'f', -1, 64))
	}
	return "the hard limit of " + pct(v.Limit)
}

func changeNote(v variant.Violation) string {
	if v.ChangePP == nil {
		return ""
	}
	return " (" + pp(v.ChangePP) + ")"
}

func mdStatus(s string) string {
	switch s {
	case variant.VariantFail, variant.AnalysisBlocked:
		return "❌ " + s
	case variant.VariantTrendFail:
		return "📈 trend fail"
	case variant.VariantWarn:
		return "⚠️ warn"
	}
	return "✅ " + s
}

// writeMarkdown writes the pull-request comment: the verdict, the CCB
// request's link when there is one, what fails (failures before trend
// failures), the files that put a variant over (each once), and the rest
// folded away.
func writeMarkdown(w io.Writer, a *variant.Analysis, requestURL string) {
	fmt.Fprintf(w, "## Variant budgets: %s\n\n", mdStatus(a.Status))
	fmt.Fprintf(w, "%s. %s.\n", header(a), skippedSummary(a))
	if requestURL != "" {
		fmt.Fprintf(w, "\n**CCB request:** %s (the refactoring plan is added there; the board decides there).\n", requestURL)
	}
	if failing := failuresFirst(a.Violations); len(failing) > 0 {
		fmt.Fprintf(w, "\n### Failing (%d)\n\n", len(failing))
		fmt.Fprintln(w, "| Dimension / variant | Metric | Measured | Limit | Change against the baseline |")
		fmt.Fprintln(w, "|---|---|---:|---|---:|")
		for _, v := range failing {
			measured, lim, change := violationFigures(v)
			fmt.Fprintf(w, "| %s %s / %s | `%s` | %s | %s | %s |\n", mdStatus(v.Status), v.Dimension, v.Variant, v.Metric, measured, lim, change)
		}
		if requestURL == "" {
			fmt.Fprintln(w, "\nA blocked change needs a refactoring or an approved CCB exception.")
		}
	}
	failingFiles, otherFiles := variant.SplitFailing(a.FilesOver())
	if len(failingFiles) > 0 {
		fmt.Fprintln(w, "\n### Files that put a variant over (moving one into core)")
		fmt.Fprintln(w)
		writeFileList(w, failingFiles)
	}
	fmt.Fprintf(w, "\n<details><summary>Every figure (%d metrics)</summary>\n\n", metricCount(a))
	fmt.Fprintln(w, "| Dimension | Metric | Status | Delta | Worst variant | Change | Soft | Hard | Trend | Share |")
	fmt.Fprintln(w, "|---|---|---|---:|---|---:|---:|---:|---:|---:|")
	for _, d := range a.Dimensions {
		for _, m := range d.Metrics {
			fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", d.Name, m.Name, mdStatus(m.Status), pct(m.Delta), dash(m.Variant), pp(m.ChangePP),
				pct(m.SoftLimit), pct(m.HardLimit), limit(m.TrendLimit), pct(m.Share))
		}
	}
	fmt.Fprintln(w, "\n</details>")
	if len(otherFiles) > 0 {
		fmt.Fprintf(w, "\n<details><summary>Other files to move into core (%d)</summary>\n\n", len(otherFiles))
		writeFileList(w, otherFiles)
		fmt.Fprintln(w, "\n</details>")
	}
	for _, d := range a.Dimensions {
		var others []variant.Recommendation
		for _, r := range d.Recommendations {
			if r.Kind != variant.RecommendMoveToCore {
				others = append(others, r)
			}
		}
		if len(others) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n<details><summary>Other refactorings for %s (%d)</summary>\n\n", d.Name, len(others))
		for _, r := range others {
			fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(describeRecommendation(r), "|", "\\|"))
		}
		fmt.Fprintln(w, "\n</details>")
	}
	writeCoverageMarkdown(w, a)
	writeDependenciesMarkdown(w, a)
	writeInFileMarkdown(w, a)
	for _, d := range a.Dimensions {
		if len(d.Variants) == 0 || len(d.Metrics) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n<details><summary>%s: %d variants</summary>\n\n| Variant | Files |", d.Name, len(d.Variants))
		for _, m := range d.Metrics {
			fmt.Fprintf(w, " `%s` |", m.Name)
		}
		fmt.Fprint(w, "\n|---|---:|")
		for range d.Metrics {
			fmt.Fprint(w, "---:|")
		}
		fmt.Fprintln(w)
		for _, v := range d.Variants {
			fmt.Fprintf(w, "| %s | %d |", v.Name, v.Files)
			for _, m := range d.Metrics {
				vm := v.Metrics[m.Name]
				cell := pct(vm.Delta)
				if vm.Status != variant.VariantPass {
					cell = mdStatus(vm.Status) + " " + cell
				}
				fmt.Fprintf(w, " %s |", cell)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "\n</details>")
	}
}
