package app

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/analyze"
	"github.com/budgetgate/budgetgate/variant"
)

// RepositoryRequest asks for an analysis of a configured repository.
type RepositoryRequest struct {
	Project   string // "" names the only configured repository
	CommitSHA string
	Baseline  string // what to compare with; ignored for a baseline commit
}

// Repositories is what analysing configured repositories needs besides
// the AnalysisStore: the analyzer, and its clock.
type Repositories struct {
	// Analyze runs the analyzer; analyze.Run unless a test says otherwise.
	Analyze func(ctx context.Context, opts analyze.Options) (*analyze.Result, error)
	Now     func() time.Time

	repoLocks sync.Map // repository path -> chan struct{} of one slot
}

// notBaseline is the note of a posted analysis that claims to be of the
// baseline branch without a token that may say so.
const notBaseline = "recorded as a change analysis: only a token with the baseline scope (the CI job of the baseline branch) records the project's baseline"

// PostedBaseline decides whether an analysis posted by CI is recorded as a
// baseline of its project. What a client says of itself (claimed) is
// believed only from a token with the baseline scope (mayRecord), and for
// a project the server has a repository of, only when the server's own
// check agrees. Otherwise it is a change, and note says why.
func (s *Analyses) PostedBaseline(ctx context.Context, a *variant.Analysis, claimed, mayRecord bool) (base bool, note string, err error) {
	switch {
	case !claimed:
		return false, "", nil
	case !mayRecord:
		return false, notBaseline, nil
	}
	return s.checkPostedBaseline(ctx, a)
}

// AnalyzeRepository runs the analyzer on a repository the server is
// configured with, at the commit asked for, and says whether the commit is
// a baseline of the project. The server decides that, not the request
// (see docs/OPERATIONS.md, Variant analyses).
func (s *Analyses) AnalyzeRepository(ctx context.Context, req RepositoryRequest) (*variant.Analysis, bool, error) {
	if err := variant.CheckName("commit_sha", req.CommitSHA); err != nil {
		return nil, false, err
	}
	if req.Baseline != "" {
		if err := variant.CheckName("baseline", req.Baseline); err != nil {
			return nil, false, err
		}
	}
	p, err := s.configuredProject(ctx, req.Project)
	if err != nil {
		return nil, false, err
	}
	// One analysis of a repository at a time: they share its cache, and
	// two would only compete for the same cores. Waiting for the repository,
	// like the analysis itself, ends at the request's deadline (the request
	// timeout, see docs/OPERATIONS.md): a slow analysis gives the repository
	// back when it is cut, and nothing of it is stored.
	slot, _ := s.repoLocks.LoadOrStore(p.RepoPath, make(chan struct{}, 1))
	select {
	case slot.(chan struct{}) <- struct{}{}:
	case <-ctx.Done():
		return nil, false, analysisCut(p.Name, "waiting for another analysis of its repository")
	}
	defer func() { <-slot.(chan struct{}) }()
	run := s.Analyze
	if run == nil {
		run = analyze.Run
	}
	// The server decides what is a baseline analysis: a commit reachable
	// from the tip of the baseline branch and not behind the project's
	// latest baseline, whatever the request calls its baseline. Such a
	// commit is compared as the analyzer does by itself (with the baseline
	// branch or the last release), so that a chosen comparison cannot hide
	// a trend failure from the baseline's record.
	last, err := s.lastBaselineCommit(ctx, p.Name)
	if err != nil {
		return nil, false, err
	}
	commit, base, err := analyze.OnBaselineBranch(ctx, p.RepoPath, req.CommitSHA, last)
	if err != nil && ctx.Err() != nil {
		return nil, false, analysisCut(p.Name, "finding the baseline branch")
	}
	if err != nil {
		return nil, false, err
	}
	if commit == "" {
		return nil, false, unknownRevision("commit_sha", req.CommitSHA)
	}
	// The commit checked is the one analysed: rev names it no longer once
	// a push moves the branch.
	opts := analyze.Options{Dir: p.RepoPath, Rev: commit, Baseline: req.Baseline, BaselineSet: req.Baseline != "", Now: s.Now}
	if base {
		// The baseline asked for is not used, but must still be one.
		if req.Baseline != "" {
			if _, err := analyze.NewGitTree(ctx, p.RepoPath, req.Baseline); err != nil {
				if ctx.Err() != nil {
					return nil, false, analysisCut(p.Name, "reading the baseline")
				}
				return nil, false, revisionError(err, req)
			}
		}
		opts.Baseline, opts.BaselineSet = "", false
	}
	res, err := run(ctx, opts)
	if err != nil && ctx.Err() != nil {
		return nil, false, analysisCut(p.Name, "analysing")
	}
	if err != nil {
		return nil, false, revisionError(err, req)
	}
	a := res.Analysis
	a.Project = p.Name // the server's name for it rules
	return a, base, nil
}

// checkPostedBaseline applies the server's own check to a posted baseline
// analysis of a project the server has a repository for: its commit must
// be, in that repository, on the baseline branch and not behind the latest
// baseline, as for an analysis the server runs itself. Otherwise it is
// recorded as a change, and note says why.
func (s *Analyses) checkPostedBaseline(ctx context.Context, a *variant.Analysis) (bool, string, error) {
	p, err := s.Store.Project(ctx, a.Project)
	if budgetgate.ErrorCode(err) == budgetgate.ENOTFOUND || (err == nil && p.RepoPath == "") {
		return true, "", nil
	}
	if err != nil {
		return false, "", err
	}
	last, err := s.lastBaselineCommit(ctx, p.Name)
	if err != nil {
		return false, "", err
	}
	commit, on, err := analyze.OnBaselineBranch(ctx, p.RepoPath, a.Commit, last)
	if err != nil && ctx.Err() != nil {
		return false, "", analysisCut(p.Name, "finding the baseline branch")
	}
	switch {
	case err != nil:
		return false, "", err
	case commit == "" || commit != a.Commit:
		// A branch or tag name, or an abbreviation, names whatever it
		// names now, not necessarily what was analysed.
		return false, "recorded as a change analysis: " + strconv.Quote(a.Commit) + " is not the full id of a commit in the server's repository of the project", nil
	case !on:
		return false, "recorded as a change analysis: in the server's repository of the project, the commit is not on the baseline branch or is behind the latest baseline", nil
	}
	return true, "", nil
}

// lastBaselineCommit is the commit of the project's latest baseline
// analysis, "" when it has none.
func (s *Analyses) lastBaselineCommit(ctx context.Context, project string) (string, error) {
	pa, err := s.Store.LatestBaselineAnalysis(ctx, project)
	switch {
	case err == nil:
		return pa.Commit, nil
	case budgetgate.ErrorCode(err) == budgetgate.ENOTFOUND:
		return "", nil
	}
	return "", err
}

// analysisCut is the answer to an analysis of a configured repository cut
// at its deadline: 503, to be tried later; the gate stays as it was.
func analysisCut(project, doing string) error {
	return budgetgate.Errorf(budgetgate.EUNAVAILABLE, "the analysis of project %s did not finish within the request timeout (it was %s); nothing was stored, the gate is unchanged", project, doing)
}

// revisionError names the field of a revision git does not know, without
// the repository's path on the server.
func revisionError(err error, req RepositoryRequest) error {
	msg := budgetgate.ErrorMessage(err)
	if budgetgate.ErrorCode(err) != budgetgate.EINVALID || budgetgate.ErrorField(err) != "" {
		return err
	}
	for _, f := range []struct{ field, rev string }{{"commit_sha", req.CommitSHA}, {"baseline", req.Baseline}} {
		if f.rev != "" && strings.HasPrefix(msg, f.rev+" is not a commit") {
			return unknownRevision(f.field, f.rev)
		}
	}
	return err
}

func unknownRevision(field, rev string) error {
	return budgetgate.FieldErrorf(field, "%q is not a revision of the repository (a commit, branch or tag git knows)", rev)
}

// configuredProject returns the configured repository's project: the one
// named, or the only one.
func (s *Analyses) configuredProject(ctx context.Context, name string) (*Project, error) {
	ps, err := s.Store.Projects(ctx)
	if err != nil {
		return nil, err
	}
	var repos []string
	for _, p := range ps {
		if p.RepoPath == "" {
			continue
		}
		repos = append(repos, p.Name)
	}
	if name == "" {
		switch len(repos) {
		case 0:
			return nil, budgetgate.FieldErrorf("project", "the server is configured with no repository (serve --repo NAME=PATH); post a complete analysis instead")
		case 1:
			name = repos[0]
		default:
			return nil, budgetgate.FieldErrorf("project", "required: the server analyses %d repositories (%s)", len(repos), strings.Join(repos, ", "))
		}
	}
	for _, p := range ps {
		if p.Name == name && p.RepoPath != "" {
			return p, nil
		}
	}
	if !variant.ValidProjectName(name) {
		return nil, budgetgate.FieldErrorf("project", "%q is not a project name", name)
	}
	return nil, budgetgate.FieldErrorf("project", "no repository is configured for project %q (configured: %s)", name, joinOrNone(repos))
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
