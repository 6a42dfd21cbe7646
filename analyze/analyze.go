// Package analyze is the repository analyzer behind `budgetgate analyze`: it
// reads a working tree, a commit or the index, measures every file once per
// content (a cache keyed by git blob id), and hands the figures to the
// domain's variant-budget math.
package analyze

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/analyze/lang"
	"github.com/budgetgate/budgetgate/policyfile"
	"github.com/budgetgate/budgetgate/variant"
)

// PolicyFile is the policy's name at the repository root.
const PolicyFile = ".budgetgate.yaml"

// Options say what to analyse and how.
type Options struct {
	Dir    string // the working tree, or a directory in the repository (default ".")
	Rev    string // analyse this revision from the object store instead of the working tree
	Staged bool   // analyse the index (what would be committed); baseline HEAD

	// Baseline is the revision to compare with. When BaselineSet is false,
	// the policy's baseline is used if the repository has it and it is not
	// the analysed commit itself; Staged defaults it to HEAD.
	Baseline    string
	BaselineSet bool

	PolicyPath string // a policy file on disk to use instead of the tree's (and the baseline's)

	JUnit    []string // JUnit XML reports for test_execution_time and test_case_count
	Coverage []string // line coverage reports (LCOV, Cobertura, JaCoCo, Go cover profiles)
	Reported map[string]map[string]variant.ReportedValues

	Workers   int    // measuring goroutines; default GOMAXPROCS
	NoCache   bool   // measure everything, keep nothing
	CachePath string // default: inside .git, or the user's cache directory

	Progress *Progress // optional: counts for a progress line
	Now      func() time.Time
}

// Progress counts files measured, for a progress line; safe for
// concurrent use.
type Progress struct {
	total, done atomic.Int64
}

// Counts returns the files done and to do so far.
func (p *Progress) Counts() (done, total int64) {
	if p == nil {
		return 0, 0
	}
	return p.done.Load(), p.total.Load()
}

func (p *Progress) add(total int) {
	if p != nil {
		p.total.Add(int64(total))
	}
}

func (p *Progress) tick() {
	if p != nil {
		p.done.Add(1)
	}
}

// Stats say how much work a run did.
type Stats struct {
	Files     int // files listed, in every tree analysed
	Measured  int // files read and measured
	CacheHits int // files whose figures came from the cache
	Trees     int // trees listed and measured: head, baseline, last release

	CommitsCached int // baseline or release analyses taken whole from the cache
}

// Result is an analysis and the work it took.
type Result struct {
	Analysis *variant.Analysis
	Policy   *variant.VariantPolicy
	Stats    Stats
	Warnings []string // JUnit cases that could not be placed, and the like
}

// Run analyses the tree opts name.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Dir == "" {
		opts.Dir = "."
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	head, err := openSource(ctx, opts)
	if err != nil {
		return nil, err
	}
	headPolicy, err := loadPolicy(ctx, opts, head)
	if err != nil {
		return nil, err
	}
	if headPolicy == nil {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "%s has no %s (or give --policy)", head.Name(), PolicyFile)
	}

	// The cache file loads while git resolves the baseline and its policy.
	an := &analyzer{opts: opts, res: &Result{}, cacheReady: make(chan struct{})}
	go func() {
		defer close(an.cacheReady)
		if opts.NoCache {
			return
		}
		p := opts.CachePath
		if p == "" {
			root := opts.Dir
			if w, ok := head.(*WorkTree); ok {
				root = w.Root
			}
			var err error
			if p, err = defaultCachePath(gitCommonDir(ctx, opts.Dir), root); err != nil {
				an.res.Warnings = append(an.res.Warnings, "no cache: "+err.Error())
				return
			}
		}
		an.cache = OpenCache(p)
	}()
	defer func() { <-an.cacheReady }()

	baseRev := opts.Baseline
	if !opts.BaselineSet {
		baseRev = defaultBaseline(ctx, opts, head, headPolicy)
	}
	var base *GitTree
	policy := headPolicy
	if baseRev != "" {
		if base, err = NewGitTree(ctx, opts.Dir, baseRev); err != nil {
			return nil, fmt.Errorf("read the baseline %s: %w", baseRev, err)
		}
		// docs/POLICY.md, Variant policy: the baseline's policy rules, so that a change cannot
		// loosen its own budget. A baseline without one (the change that
		// introduces the policy) leaves the head's.
		if opts.PolicyPath == "" {
			bp, err := readPolicy(ctx, base)
			if err != nil {
				return nil, err
			}
			if bp != nil {
				policy = bp
			}
		}
	}
	if err := checkLanguages(policy); err != nil {
		return nil, err
	}
	an.policy = policy
	an.want = wantFor(policy)
	an.inFile = newInFile(policy)
	an.res.Policy = policy

	// The head, the baseline and the last release are independent: list,
	// read and measure them at once (they share the cache).
	from := head.Commit()
	if base != nil {
		from = base.Commit()
	}
	var (
		wg               sync.WaitGroup
		headTree         *tree
		baseA            *variant.Analysis
		headErr, baseErr error
		tag              string
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if headTree, headErr = an.tree(ctx, head); headErr == nil && len(opts.JUnit) > 0 {
			headErr = an.applyJUnit(headTree.in)
		}
		if headErr == nil && len(opts.Coverage) > 0 {
			headErr = an.applyCoverage(headTree.in)
		}
	}()
	go func() {
		defer wg.Done()
		if from != "" {
			tag = lastReleaseTag(ctx, opts.Dir, from, policy.ReleaseTags)
		}
		if base != nil {
			baseA, baseErr = an.commitAnalysis(ctx, base)
		}
	}()
	wg.Wait()
	if err := cmpErr(headErr, baseErr); err != nil {
		return nil, err
	}
	headTree.in.Reported = opts.Reported
	headTree.in.Baseline = baseRev
	a, err := policy.AnalyzeContext(ctx, headTree.in)
	if err != nil {
		return nil, err
	}

	// Trend limits compare with the last release tag reachable from the
	// baseline (or from the analysed commit when there is no baseline), or
	// else with the baseline itself.
	var trendA *variant.Analysis
	trendRef := ""
	if tag != "" {
		tagTree, err := NewGitTree(ctx, opts.Dir, tag)
		if err != nil {
			return nil, fmt.Errorf("read the release tag %s: %w", tag, err)
		}
		trendRef = tag
		switch {
		case base != nil && tagTree.Commit() == base.Commit():
			// The baseline is the release.
		case base == nil && tagTree.Commit() == head.Commit() && !isWorkTree(head) && !opts.Staged:
			// Analysing the release itself: nothing to compare.
			trendRef = ""
		default:
			if trendA, err = an.commitAnalysis(ctx, tagTree); err != nil {
				return nil, fmt.Errorf("analyse the release tag %s: %w", tag, err)
			}
			if baseA == nil {
				baseA, trendA = trendA, nil
				a.Baseline = tag
			}
		}
	}
	if baseA != nil {
		a.CompareBaseline(baseA, trendA, trendRef)
	}

	if dims := a.NeedsRecommendations(); len(dims) > 0 {
		dups, err := an.duplicates(ctx, head, headTree, dims)
		if err != nil {
			return nil, fmt.Errorf("find duplicated code: %w", err)
		}
		a.RecommendContext(ctx, policy, headTree.in, dups)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := an.cache.Save(); err != nil {
		an.res.Warnings = append(an.res.Warnings, "could not save the cache: "+err.Error())
	}
	an.res.Analysis = a
	return an.res, nil
}

// commitAnalysis analyses a commit under the run's policy. Commits do not
// change, so the result is kept beside the blob cache, keyed by commit,
// policy, scanners and what was measured: a baseline analysed once is
// not even listed again.
func (an *analyzer) commitAnalysis(ctx context.Context, src *GitTree) (*variant.Analysis, error) {
	<-an.cacheReady
	var file string
	if an.cache != nil {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%s", an.policy.Version, an.cache.version, an.want, an.inFile.key))
		file = filepath.Join(filepath.Dir(an.cache.path), "commits", src.Commit()+"-"+hex.EncodeToString(sum[:8])+".json")
		if data, err := os.ReadFile(file); err == nil {
			var a variant.Analysis
			if json.Unmarshal(data, &a) == nil && a.Commit == src.Commit() {
				an.mu.Lock()
				an.res.Stats.CommitsCached++
				an.mu.Unlock()
				return &a, nil
			}
		}
	}
	t, err := an.tree(ctx, src)
	if err != nil {
		return nil, err
	}
	a, err := an.policy.AnalyzeContext(ctx, t.in)
	if err != nil {
		return nil, err
	}
	if file != "" {
		if data, err := json.Marshal(a); err == nil {
			// Only a cache: a failed write costs the next run some time.
			if os.MkdirAll(filepath.Dir(file), 0o755) == nil && writeFileAtomic(file, data) == nil {
				pruneOldest(filepath.Dir(file), maxCommitAnalyses)
			}
		}
	}
	return a, nil
}

// maxCommitAnalyses bounds the commit analyses kept: a few KB each.
const maxCommitAnalyses = 500

// pruneOldest removes the least recently written files of dir beyond keep.
func pruneOldest(dir string, keep int) {
	des, err := os.ReadDir(dir)
	if err != nil || len(des) <= keep {
		return
	}
	type aged struct {
		name string
		mod  time.Time
	}
	var files []aged
	for _, de := range des {
		if info, err := de.Info(); err == nil {
			files = append(files, aged{de.Name(), info.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b aged) int { return b.mod.Compare(a.mod) })
	for _, f := range files[min(keep, len(files)):] {
		os.Remove(filepath.Join(dir, f.name))
	}
}

// sizer is a source that can tell sizes without reading contents.
type sizer interface {
	sizes(ctx context.Context, entries []Entry) error
}

// needSizes reports whether the policy has a bytes metric.
func (an *analyzer) needSizes() bool {
	for _, m := range an.policy.Metrics {
		if m.Kind == variant.MetricBytes {
			return true
		}
	}
	return false
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func isWorkTree(s Source) bool { _, ok := s.(*WorkTree); return ok }

func openSource(ctx context.Context, opts Options) (Source, error) {
	switch {
	case opts.Staged && opts.Rev != "":
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "--staged and --rev cannot be used together")
	case opts.Staged:
		return NewIndex(ctx, opts.Dir)
	case opts.Rev != "":
		return NewGitTree(ctx, opts.Dir, opts.Rev)
	}
	return NewWorkTree(ctx, opts.Dir)
}

// defaultBaseline is HEAD for the index, else the policy's baseline branch
// when the repository has it and it is not the analysed commit.
func defaultBaseline(ctx context.Context, opts Options, head Source, p *variant.VariantPolicy) string {
	if opts.Staged {
		if head.Commit() != "" {
			return "HEAD"
		}
		return ""
	}
	if p.Baseline == "" || gitCommonDir(ctx, opts.Dir) == "" {
		return ""
	}
	c, err := resolveCommit(ctx, opts.Dir, p.Baseline)
	if err != nil || (c == head.Commit() && !isWorkTree(head)) {
		return ""
	}
	return p.Baseline
}

func loadPolicy(ctx context.Context, opts Options, s Source) (*variant.VariantPolicy, error) {
	if opts.PolicyPath != "" {
		data, err := policyfile.ReadPolicyFile(opts.PolicyPath)
		if err != nil {
			return nil, err
		}
		return variant.ParseVariantPolicy(opts.PolicyPath, data)
	}
	return readPolicy(ctx, s)
}

// readPolicy reads the tree's policy; nil if it has none.
func readPolicy(ctx context.Context, s Source) (*variant.VariantPolicy, error) {
	data, err := s.ReadFile(ctx, PolicyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	name := PolicyFile
	if _, ok := s.(*WorkTree); !ok {
		name = s.Name() + ":" + PolicyFile
	}
	return variant.ParseVariantPolicy(name, data)
}

func checkLanguages(p *variant.VariantPolicy) error {
	for i, name := range p.Languages {
		if lang.ByName(name) == nil {
			return budgetgate.FieldErrorf(p.LanguagesAt[i], "unknown language %q", name)
		}
	}
	return nil
}

// wantFor says what the scanners must compute for the policy's metrics.
func wantFor(p *variant.VariantPolicy) lang.Want {
	var w lang.Want
	for _, d := range p.Dimensions {
		for _, b := range p.Budgets(d) {
			for _, m := range b.Metrics {
				switch m {
				case variant.MetricLinesOfCode:
					w |= lang.WantLines
				case variant.MetricCyclomaticComplexity:
					w |= lang.WantComplexity
				case variant.MetricFunctionCount, variant.MetricClassCount:
					w |= lang.WantStructure
				case variant.MetricTestCaseCount:
					w |= lang.WantTests
				}
			}
		}
	}
	// Duplicate detection needs line counts of the variants' files.
	return w | lang.WantLines
}

type analyzer struct {
	opts   Options
	policy *variant.VariantPolicy
	want   lang.Want
	inFile *inFile
	cache  *Cache
	res    *Result
	mu     sync.Mutex // guards res while trees are analysed concurrently

	cacheReady chan struct{} // closed once cache is loaded (or left nil)
}

// tree is one analysed tree: the domain's input, and the entries its files
// came from (same order as in.Files).
type tree struct {
	in      *variant.AnalysisInput
	entries []Entry
}

func (an *analyzer) isCode(language string) bool {
	if language == "" {
		return false
	}
	if slices.ContainsFunc(an.policy.Languages, func(n string) bool { return strings.EqualFold(n, language) }) {
		return true
	}
	return lang.ByName(language).IsCode()
}

// tree lists, classifies and measures one source's files.
func (an *analyzer) tree(ctx context.Context, src Source) (*tree, error) {
	var st Stats
	st.Trees++
	defer func() {
		an.mu.Lock()
		an.res.Stats.Trees += st.Trees
		an.res.Stats.Files += st.Files
		an.res.Stats.CacheHits += st.CacheHits
		an.res.Stats.Measured += st.Measured
		an.mu.Unlock()
	}()
	entries, ignored, err := src.Files(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the files to analyse: %w", err)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	st.Files += len(entries)

	<-an.cacheReady
	attrs := &attributes{}
	for _, p := range attributeFiles(entries) {
		if data, err := src.ReadFile(ctx, p); err == nil {
			attrs.add(strings.TrimSuffix(path.Dir(p), "."), data)
		}
	}
	in := &variant.AnalysisInput{Commit: src.Commit(), Skipped: map[string]int{}}
	if ignored > 0 {
		in.Skipped[variant.SkipIgnored] = ignored
	}
	t := &tree{in: in}
	var toRead []int // indexes into in.Files
	var readEntries []Entry
	isWT := isWorkTree(src)
	for _, e := range entries {
		// Matching paths against the policy's patterns is long on a big
		// tree: it must stop when the run is cancelled.
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		generated, vendored := attrs.lookup(e.Path)
		if vendored || isVendored(e.Path) {
			in.Skipped[variant.SkipVendored]++
			continue
		}
		f := variant.FileFacts{Path: e.Path, Size: max(e.Size, 0)}
		switch {
		case an.policy.Excluded(e.Path):
			// The domain counts it; nothing to read.
		case generated:
			f.Skip = variant.SkipGenerated
		default:
			f.Test = an.policy.IsTest(e.Path)
			id := e.BlobID
			if id == "" && isWT {
				id, _ = an.cache.blobFor(e)
			}
			m, hit := measured{}, false
			if id != "" {
				m, hit = an.cache.get(cacheKey(id, path.Base(e.Path), f.Test, an.want, an.inFile.key))
			}
			if hit {
				an.fill(&f, m)
				st.CacheHits++
			} else {
				toRead = append(toRead, len(in.Files))
				readEntries = append(readEntries, e)
			}
		}
		in.Files = append(in.Files, f)
		t.entries = append(t.entries, e)
	}
	// Files neither read nor cached may still need their size, for bytes
	// metrics: git gives sizes only by opening the objects, so ask only then.
	if s, ok := src.(sizer); ok && an.needSizes() {
		var idx []int
		var unsized []Entry
		reading := map[int]bool{}
		for _, i := range toRead {
			reading[i] = true
		}
		for i, e := range t.entries {
			if e.Size < 0 && !reading[i] && in.Files[i].Size == 0 {
				idx = append(idx, i)
				unsized = append(unsized, e)
			}
		}
		if err := s.sizes(ctx, unsized); err != nil {
			return nil, err
		}
		for k, i := range idx {
			in.Files[i].Size = unsized[k].Size
		}
	}
	an.opts.Progress.add(len(readEntries))
	now := an.opts.Now()
	var measuredN, hits atomic.Int64
	err = src.Read(ctx, readEntries, an.opts.Workers, func(i int, data []byte) error {
		f := &in.Files[toRead[i]]
		e := readEntries[i]
		defer an.opts.Progress.tick()
		id := e.BlobID
		if an.cache != nil && id == "" {
			id = gitBlobID(data)
			an.cache.setBlob(e, id, now)
			if m, ok := an.cache.get(cacheKey(id, path.Base(e.Path), f.Test, an.want, an.inFile.key)); ok {
				an.fill(f, m)
				hits.Add(1)
				return nil
			}
		}
		m, err := measure(e.Path, data, f.Test, an.want, an.inFile)
		if err != nil {
			return err
		}
		measuredN.Add(1)
		if id != "" {
			an.cache.put(cacheKey(id, path.Base(e.Path), f.Test, an.want, an.inFile.key), m)
		}
		an.fill(f, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src.Name(), err)
	}
	st.Measured += int(measuredN.Load())
	st.CacheHits += int(hits.Load())
	return t, nil
}

// measure classifies and measures one file's contents; in says what to
// find about variants inside it.
func measure(p string, data []byte, isTest bool, want lang.Want, in *inFile) (measured, error) {
	m := measured{Size: int64(len(data))}
	head := data[:min(len(data), 8000)]
	switch {
	case lang.IsBinary(head):
		m.Skip = variant.SkipBinary
		return m, nil
	case lang.IsGenerated(head):
		m.Skip = variant.SkipGenerated
		return m, nil
	}
	l := lang.Detect(p, head)
	if l == nil {
		m.Skip = variant.SkipUnknown
		return m, nil
	}
	m.Lang = l.Name
	m.Counts = lang.Measure(l, data, isTest, want)
	return m, in.measure(&m, p, l, data, isTest, want)
}

func (an *analyzer) fill(f *variant.FileFacts, m measured) {
	f.Size = m.Size
	f.Skip = m.Skip
	f.Code = m.Skip == "" && an.isCode(m.Lang)
	f.BuildTags = m.BuildTags
	if !f.Code {
		return
	}
	f.InFile = m.InFile
	f.Deps = m.Deps
	f.Lines = m.Counts.Code
	f.Complexity = m.Counts.Complexity
	f.Functions = m.Counts.Functions
	f.Classes = m.Counts.Classes
	f.TestCases = m.Counts.TestCases
}
