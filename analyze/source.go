package analyze

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/policyfile"
	"github.com/budgetgate/budgetgate/variant"
)

// Entry is one file of a Source.
type Entry struct {
	Path    string // slash-separated, relative to the root
	Size    int64  // -1 when the source cannot tell without reading (git sources)
	BlobID  string // git object id (hex); "" for working-tree files
	ModTime int64  // working tree: modification time in Unix nanoseconds
}

// Source is a tree of files to analyse: a working tree, a commit read from
// the object store, or the index.
type Source interface {
	// Name says what is analysed, for messages: a directory, a revision.
	Name() string
	// Commit is the commit id the tree belongs to ("" when there is none),
	// and for the index and working tree, the HEAD they sit on.
	Commit() string
	// Files lists the files, without .git and, on working trees, without
	// what .gitignore ignores: ignored counts those paths, an ignored
	// directory once, since it is not entered.
	Files(ctx context.Context) (files []Entry, ignored int, err error)
	// ReadFile returns one file's contents, or an error wrapping
	// fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Read calls fn with the contents of each of entries, from up to
	// workers goroutines at once; data is only valid during the call.
	Read(ctx context.Context, entries []Entry, workers int, fn func(i int, data []byte) error) error
}

// WorkTree is a directory on disk.
type WorkTree struct {
	Root   string
	commit string
}

// NewWorkTree returns the working tree at root; commit is its HEAD, if any.
func NewWorkTree(ctx context.Context, root string) (*WorkTree, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "%s: %v", root, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "%s is not a directory", root)
	}
	w := &WorkTree{Root: abs}
	if out, err := git(ctx, abs, "rev-parse", "--verify", "--quiet", "HEAD"); err == nil {
		w.commit = strings.TrimSpace(string(out))
	}
	return w, nil
}

func (w *WorkTree) Name() string   { return w.Root }
func (w *WorkTree) Commit() string { return w.commit }

// ReadFile reads a small file of the tree: the policy, a .gitattributes.
// Only a regular file inside the tree is read, and only up to
// policyfile.MaxPolicyBytes: a symbolic link could lead out of the tree or
// to a device that never ends.
func (w *WorkTree) ReadFile(_ context.Context, p string) ([]byte, error) {
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "%s is outside the tree %s", p, w.Root)
	}
	return policyfile.ReadRegularFile(filepath.Join(w.Root, filepath.FromSlash(p)), false)
}

// Files walks the tree with a goroutine per directory, bounded by a
// semaphore, honouring .gitignore files (nested ones and negations) and
// .git/info/exclude, and never entering .git. Symbolic links are not followed.
func (w *WorkTree) Files(ctx context.Context) ([]Entry, int, error) {
	root := &ignoreRules{}
	if data, err := os.ReadFile(filepath.Join(w.Root, ".git", "info", "exclude")); err == nil {
		root.add("", data)
	}
	var (
		mu      sync.Mutex
		entries []Entry
		ignored int
		firstEr error
		wg      sync.WaitGroup
		sem     = make(chan struct{}, max(4, 2*runtime.GOMAXPROCS(0)))
	)
	fail := func(err error) {
		mu.Lock()
		if firstEr == nil {
			firstEr = err
		}
		mu.Unlock()
	}
	var walk func(rel string, rules *ignoreRules)
	walk = func(rel string, rules *ignoreRules) {
		defer wg.Done()
		if ctx.Err() != nil {
			fail(ctx.Err())
			return
		}
		sem <- struct{}{}
		dir := filepath.Join(w.Root, filepath.FromSlash(rel))
		des, err := os.ReadDir(dir)
		var gitignore []byte
		if err == nil {
			for _, de := range des {
				if de.Name() == ".gitignore" && de.Type().IsRegular() {
					gitignore, _ = os.ReadFile(filepath.Join(dir, ".gitignore"))
				}
			}
		}
		<-sem
		if err != nil {
			fail(err)
			return
		}
		if gitignore != nil {
			rules = rules.child(rel, gitignore)
		}
		var local []Entry
		localIgnored := 0
		for _, de := range des {
			name := de.Name()
			p := name
			if rel != "" {
				p = rel + "/" + name
			}
			switch {
			case de.IsDir():
				if name == ".git" {
					continue
				}
				if rules.ignored(p, true) {
					localIgnored++
					continue
				}
				wg.Add(1)
				go walk(p, rules)
			case de.Type().IsRegular():
				if rules.ignored(p, false) {
					localIgnored++
					continue
				}
				info, err := de.Info()
				if err != nil {
					if errors.Is(err, fs.ErrNotExist) {
						continue // removed while we walked
					}
					fail(err)
					return
				}
				local = append(local, Entry{Path: p, Size: info.Size(), ModTime: info.ModTime().UnixNano()})
			}
		}
		mu.Lock()
		entries = append(entries, local...)
		ignored += localIgnored
		mu.Unlock()
	}
	wg.Add(1)
	go walk("", root)
	wg.Wait()
	if firstEr != nil {
		return nil, 0, firstEr
	}
	return entries, ignored, nil
}

// Read reads files with workers goroutines, each reusing one buffer.
func (w *WorkTree) Read(ctx context.Context, entries []Entry, workers int, fn func(int, []byte) error) error {
	return parallel(ctx, len(entries), workers, func() func(int) error {
		var buf []byte
		return func(i int) error {
			data, err := readInto(filepath.Join(w.Root, filepath.FromSlash(entries[i].Path)), &buf)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return fn(i, nil) // removed since the walk: empty
				}
				return err
			}
			return fn(i, data)
		}
	})
}

// readInto reads a file into *buf, growing it as needed.
func readInto(name string, buf *[]byte) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := int(st.Size()) + 1 // one more byte to see EOF without another read
	if cap(*buf) < size {
		*buf = make([]byte, 0, size+size/4)
	}
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) { // grew since the stat
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	*buf = b
	return b, nil
}

// parallel runs work(i) for i in [0, n) on workers goroutines; newWorker
// gives each goroutine its own function, for per-worker buffers.
func parallel(ctx context.Context, n, workers int, newWorker func() func(int) error) error {
	if workers < 1 {
		workers = 1
	}
	next := make(chan int, workers*4)
	errc := make(chan error, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := newWorker()
			for i := range next {
				if err := work(i); err != nil {
					errc <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return ctx.Err()
}

// GitTree is a commit read from the object store: no checkout.
type GitTree struct {
	Dir    string // a directory inside the repository
	Rev    string // as given
	commit string
}

// NewGitTree resolves rev in the repository at dir.
func NewGitTree(ctx context.Context, dir, rev string) (*GitTree, error) {
	c, err := resolveCommit(ctx, dir, rev)
	if err != nil {
		return nil, err
	}
	return &GitTree{Dir: dir, Rev: rev, commit: c}, nil
}

func (g *GitTree) Name() string   { return g.Rev }
func (g *GitTree) Commit() string { return g.commit }

func (g *GitTree) Files(ctx context.Context) ([]Entry, int, error) {
	e, err := lsTree(ctx, g.Dir, g.commit)
	return e, 0, err
}

func (g *GitTree) ReadFile(ctx context.Context, p string) ([]byte, error) {
	// <mode> SP <type> SP <object> TAB <path>
	return readSmallBlob(ctx, g.Dir, g.Rev+":"+p, []string{"ls-tree", "-z", "--full-tree", g.commit, "--", p}, 2)
}

// readSmallBlob reads the blob that a git listing of one path (args) names,
// as WorkTree.ReadFile reads a file: a regular file (mode 100644 or 100755,
// not a symbolic link), of at most policyfile.MaxPolicyBytes. The listing's
// records start with the mode; idField is the object id's field.
func readSmallBlob(ctx context.Context, dir, name string, args []string, idField int) ([]byte, error) {
	out, err := git(ctx, dir, args...)
	if err != nil {
		return nil, err
	}
	meta, _, _ := strings.Cut(string(out), "\t")
	f := strings.Fields(meta)
	if len(f) <= idField {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	switch f[0] {
	case "100644", "100755":
	case "120000":
		return nil, policyfile.NotRegularFile(name, fs.ModeSymlink)
	default:
		return nil, policyfile.NotRegularFile(name, fs.ModeIrregular)
	}
	id := f[idField]
	out, err = git(ctx, dir, "cat-file", "-s", id)
	if err != nil {
		return nil, err
	}
	if size, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err != nil || size > policyfile.MaxPolicyBytes {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "%s is larger than %d bytes (1 MiB)", name, policyfile.MaxPolicyBytes)
	}
	return gitShow(ctx, dir, id)
}

func (g *GitTree) sizes(ctx context.Context, entries []Entry) error {
	return blobSizes(ctx, g.Dir, entries)
}

func (g *GitTree) Read(ctx context.Context, entries []Entry, workers int, fn func(int, []byte) error) error {
	return readBlobs(ctx, g.Dir, entries, workers, fn)
}

// Index is the staging area, for pre-commit hooks: what `git commit` would
// record, read from the object store.
type Index struct {
	Dir    string
	commit string // HEAD, "" before the first commit
}

// NewIndex returns the index of the repository at dir.
func NewIndex(ctx context.Context, dir string) (*Index, error) {
	if gitCommonDir(ctx, dir) == "" {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "%s is not in a git repository", dir)
	}
	x := &Index{Dir: dir}
	if c, err := resolveCommit(ctx, dir, "HEAD"); err == nil {
		x.commit = c
	}
	return x, nil
}

func (x *Index) Name() string   { return "the index" }
func (x *Index) Commit() string { return x.commit }

func (x *Index) Files(ctx context.Context) ([]Entry, int, error) {
	e, err := lsIndex(ctx, x.Dir)
	return e, 0, err
}

func (x *Index) ReadFile(ctx context.Context, p string) ([]byte, error) {
	// <mode> SP <object> SP <stage> TAB <path>
	return readSmallBlob(ctx, x.Dir, "the index:"+p, []string{"ls-files", "-s", "-z", "--", ":(top,literal)" + p}, 1)
}

func (x *Index) sizes(ctx context.Context, entries []Entry) error {
	return blobSizes(ctx, x.Dir, entries)
}

func (x *Index) Read(ctx context.Context, entries []Entry, workers int, fn func(int, []byte) error) error {
	return readBlobs(ctx, x.Dir, entries, workers, fn)
}

func gitShow(ctx context.Context, dir, object string) ([]byte, error) {
	out, err := git(ctx, dir, "cat-file", "blob", object)
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "Not a valid object") || strings.Contains(err.Error(), "not a valid") {
			return nil, &fs.PathError{Op: "read", Path: object, Err: fs.ErrNotExist}
		}
		return nil, err
	}
	return out, nil
}

// readBlobs streams blobs from one git process and hands them to workers,
// copying each into a pooled buffer, since git's output arrives in order on
// one pipe but measuring is the expensive part.
func readBlobs(ctx context.Context, dir string, entries []Entry, workers int, fn func(int, []byte) error) error {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.BlobID
	}
	type job struct {
		i    int
		data *[]byte
	}
	pool := sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
	jobs := make(chan job, workers*4)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	setErr := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if firstErr == nil {
					if err := fn(j.i, *j.data); err != nil {
						setErr(err)
					}
				}
				pool.Put(j.data)
			}
		}()
	}
	err := catFile(ctx, dir, ids, func(i int, data []byte) error {
		b := pool.Get().(*[]byte)
		*b = append((*b)[:0], data...)
		select {
		case jobs <- job{i, b}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return err
}

// ignoreRules are the .gitignore patterns of one directory, chained to
// those of the directories above it.
type ignoreRules struct {
	parent   *ignoreRules
	base     string // directory of the .gitignore, relative to the root
	patterns []ignorePattern
}

type ignorePattern struct {
	glob   *variant.Glob
	negate bool
}

func (r *ignoreRules) child(base string, data []byte) *ignoreRules {
	c := &ignoreRules{parent: r, base: base}
	c.add(base, data)
	if len(c.patterns) == 0 {
		return r
	}
	return c
}

// add parses gitignore lines: comments, blank lines, "!" negation, "\#" and
// "\!" escapes, trailing spaces dropped unless escaped.
func (r *ignoreRules) add(base string, data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\\ ") {
			line = line[:len(line)-1]
		}
		neg := false
		if line[0] == '!' {
			neg, line = true, line[1:]
		} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
			line = line[1:]
		}
		if g, err := variant.CompileGlob(line); err == nil && !g.HasVariant() {
			r.patterns = append(r.patterns, ignorePattern{glob: g, negate: neg})
		}
	}
}

// ignored reports whether p is ignored: the deepest .gitignore with a
// matching pattern decides, and within a file the last matching line.
func (r *ignoreRules) ignored(p string, isDir bool) bool {
	for ; r != nil; r = r.parent {
		rel, ok := under(r.base, p)
		if !ok {
			continue
		}
		for i := len(r.patterns) - 1; i >= 0; i-- {
			pat := r.patterns[i]
			var ok bool
			if isDir {
				_, ok = pat.glob.MatchDir(rel)
			} else {
				_, ok = pat.glob.Match(rel)
			}
			if ok {
				return !pat.negate
			}
		}
	}
	return false
}

// isVendored reports whether a path is under vendor/, third_party/ or
// node_modules/ at any depth.
func isVendored(p string) bool {
	if !strings.Contains(p, "vendor/") && !strings.Contains(p, "third_party/") && !strings.Contains(p, "node_modules/") {
		return false
	}
	for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
		switch path.Base(dir) {
		case "vendor", "third_party", "node_modules":
			return true
		}
	}
	return false
}

// under returns p relative to the directory base ("" is the root), and
// whether p is under it at all.
func under(base, p string) (string, bool) {
	if base == "" {
		return p, true
	}
	return strings.CutPrefix(p, base+"/")
}
