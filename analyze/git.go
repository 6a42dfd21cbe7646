package analyze

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate"
)

// git runs the git CLI in dir and returns its standard output.
func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}

// resolveCommit returns the commit id rev names, or an EINVALID error.
func resolveCommit(ctx context.Context, dir, rev string) (string, error) {
	out, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", budgetgate.Errorf(budgetgate.EINVALID, "%s is not a commit in %s", rev, dir)
	}
	return strings.TrimSpace(string(out)), nil
}

// gitCommonDir returns the repository's common .git directory, or "" when
// dir is not inside a repository.
func gitCommonDir(ctx context.Context, dir string) string {
	out, err := git(ctx, dir, "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// lastReleaseTag returns the latest tag matching pattern reachable from rev,
// or "" if there is none.
func lastReleaseTag(ctx context.Context, dir, rev, pattern string) string {
	out, err := git(ctx, dir, "describe", "--tags", "--abbrev=0", "--match", pattern, rev)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// lsTree lists the blobs of a commit: `git ls-tree -r -z --full-tree`.
// Sizes are left unknown: asking for them (-l) makes git open every
// object, ten times slower, and the cache or the read supplies them.
func lsTree(ctx context.Context, dir, commit string) ([]Entry, error) {
	// <mode> SP <type> SP <object> TAB <path>
	return listBlobs(ctx, dir, []string{"ls-tree", "-r", "-z", "--full-tree", commit}, func(f []string, path string) (Entry, bool, error) {
		// Submodules and symbolic links hold no code of ours.
		return Entry{Path: path, Size: -1, BlobID: f[2]}, f[1] == "blob" && f[0] != "120000", nil
	})
}

// lsIndex lists the staged blobs: `git ls-files -s -z`.
func lsIndex(ctx context.Context, dir string) ([]Entry, error) {
	// <mode> SP <object> SP <stage> TAB <path>
	return listBlobs(ctx, dir, []string{"ls-files", "-s", "-z"}, func(f []string, path string) (Entry, bool, error) {
		if f[2] != "0" {
			return Entry{}, false, budgetgate.Errorf(budgetgate.EINVALID, "%s has merge conflicts: resolve them before analysing the index", path)
		}
		return Entry{Path: path, Size: -1, BlobID: f[1]}, f[0] != "120000" && f[0] != "160000", nil
	})
}

// listBlobs runs a git listing of NUL-terminated "three fields TAB path"
// records and keeps the entries entry says to keep.
func listBlobs(ctx context.Context, dir string, args []string, entry func(fields []string, path string) (Entry, bool, error)) ([]Entry, error) {
	out, err := git(ctx, dir, args...)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	for rec := range bytes.SplitSeq(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, path, ok := bytes.Cut(rec, []byte{'\t'})
		f := strings.Fields(string(meta))
		if !ok || len(f) != 3 {
			return nil, fmt.Errorf("git %s: unexpected record %q", args[0], rec)
		}
		e, keep, err := entry(f, string(path))
		if err != nil {
			return nil, err
		}
		if keep {
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// catFile streams blob contents from one `git cat-file --batch` process:
// the ids are written on one goroutine while contents are read on another,
// so that git never waits on a full pipe. fn is called in order, on the
// reading goroutine; data is only valid during the call.
func catFile(ctx context.Context, dir string, ids []string, fn func(i int, data []byte) error) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "cat-file", "--batch")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	go func() {
		w := bufio.NewWriterSize(stdin, 64<<10)
		for _, id := range ids {
			w.WriteString(id)
			w.WriteByte('\n')
		}
		w.Flush()
		stdin.Close()
	}()
	readErr := readBatch(bufio.NewReaderSize(stdout, 256<<10), ids, fn)
	if readErr != nil {
		cancel()
	}
	waitErr := cmd.Wait()
	if readErr != nil {
		return readErr
	}
	if waitErr != nil {
		return fmt.Errorf("git cat-file: %s", cmp.Or(strings.TrimSpace(stderr.String()), waitErr.Error()))
	}
	return nil
}

func readBatch(r *bufio.Reader, ids []string, fn func(i int, data []byte) error) error {
	var buf []byte
	for i, id := range ids {
		header, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("git cat-file: reading %s: %w", id, err)
		}
		f := strings.Fields(header)
		if len(f) == 2 && f[1] == "missing" {
			return fmt.Errorf("git cat-file: object %s is missing", id)
		}
		if len(f) != 3 {
			return fmt.Errorf("git cat-file: unexpected header %q", header)
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("git cat-file: unexpected header %q", header)
		}
		if cap(buf) < size+1 {
			buf = make([]byte, size+1)
		}
		buf = buf[:size+1] // the contents and a newline
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("git cat-file: reading %s: %w", id, err)
		}
		if err := fn(i, buf[:size]); err != nil {
			return err
		}
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		return errors.New("git cat-file: more output than objects asked for")
	}
	return nil
}

// blobSizes fills in the sizes of entries from `git cat-file --batch-check`.
func blobSizes(ctx context.Context, dir string, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var in bytes.Buffer
	for _, e := range entries {
		in.WriteString(e.BlobID)
		in.WriteByte('\n')
	}
	cmd := exec.CommandContext(ctx, "git", "cat-file", "--batch-check=%(objectsize)")
	cmd.Dir = dir
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git cat-file --batch-check: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(entries) {
		return fmt.Errorf("git cat-file --batch-check: %d answers for %d objects", len(lines), len(entries))
	}
	for i, l := range lines {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			return fmt.Errorf("git cat-file --batch-check: %q for %s", l, entries[i].BlobID)
		}
		entries[i].Size = n
	}
	return nil
}

// Branch names the branch checked out in the repository at dir, or "" when
// HEAD is detached or dir is not a repository. CI tells the server with it
// whether an analysis is of the baseline branch.
func Branch(ctx context.Context, dir string) string {
	out, err := git(ctx, dir, "symbolic-ref", "--short", "-q", "HEAD")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// OnBaselineBranch tells whether rev is a commit the server may record as
// the project's baseline: reachable from the tip of refs/heads/BRANCH, where
// BRANCH is the baseline named by the policy at the repository's HEAD (its
// own checkout, which a pushed branch cannot move; the policy of the commit
// asked about could name itself), and not behind last, the commit of the
// project's latest baseline analysis ("" when there is none). Baselines only
// move forward: an older commit of the branch, named again, would otherwise
// resolve the violations the branch has since gained. When last is no longer
// on the branch (its history was rewritten) or unknown to the repository,
// only the branch's tip is a baseline. It returns the commit rev names, to
// be analysed rather than rev (a push in between could move rev), or ""
// when rev names no commit; false without an error when the HEAD has no
// policy or the policy no baseline, or the repository has no such branch.
func OnBaselineBranch(ctx context.Context, dir, rev, last string) (commit string, on bool, err error) {
	commit, err = resolveCommit(ctx, dir, rev)
	if err != nil {
		return "", false, ctx.Err()
	}
	on, err = onBaselineBranch(ctx, dir, commit, last)
	return commit, on, err
}

func onBaselineBranch(ctx context.Context, dir, commit, last string) (bool, error) {
	head, err := NewGitTree(ctx, dir, "HEAD")
	if err != nil {
		return false, nil
	}
	p, err := readPolicy(ctx, head)
	if err != nil || p == nil || p.Baseline == "" {
		return false, err
	}
	tip, err := resolveCommit(ctx, dir, "refs/heads/"+p.Baseline)
	if err != nil {
		return false, nil
	}
	if err := checkFetched(ctx, dir, p.Baseline, tip); err != nil {
		return false, err
	}
	on, err := isAncestor(ctx, dir, commit, tip)
	if err != nil || !on || last == "" {
		return on, err
	}
	prev, err := resolveCommit(ctx, dir, last)
	if err != nil {
		return commit == tip, nil
	}
	if forward, err := isAncestor(ctx, dir, prev, commit); err != nil || forward {
		return forward, err
	}
	if kept, err := isAncestor(ctx, dir, prev, tip); err != nil || kept {
		return false, err
	}
	return commit == tip, nil
}

// checkFetched refuses a baseline branch that its remote-tracking branch
// (refs/remotes/origin/BRANCH) has moved past: the local branch is stale,
// and judging commits by it would freeze the gate on an old baseline.
func checkFetched(ctx context.Context, dir, branch, tip string) error {
	remote, err := resolveCommit(ctx, dir, "refs/remotes/origin/"+branch)
	if err != nil {
		return ctx.Err() // no such remote-tracking branch: nothing to compare
	}
	current, err := isAncestor(ctx, dir, remote, tip)
	if err != nil || current {
		return err
	}
	return budgetgate.Errorf(budgetgate.EUNAVAILABLE, "the server's repository is not current: origin/%[1]s has commits its branch %[1]s lacks, so which commits are on the baseline cannot be told; nothing was stored, the gate is unchanged (fetch it into %[1]s, see docs/OPERATIONS.md)", branch)
}

// isAncestor tells whether commit a is b or one of b's ancestors.
func isAncestor(ctx context.Context, dir, a, b string) (bool, error) {
	cmd := exec.CommandContext(ctx, "git", "merge-base", "--is-ancestor", a, b)
	cmd.Dir = dir
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, nil
	}
	return false, fmt.Errorf("is %s an ancestor of %s: %w", a, b, err)
}
