package analyze

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/budgetgate/budgetgate/analyze/lang"
	"github.com/budgetgate/budgetgate/variant"
)

// ScannerVersion is bumped whenever what the analyzer stores per blob
// changes meaning. The cache key also carries the executable's identity
// (see scannerVersion), so a new build of the scanners never reads results
// measured by an old one.
const ScannerVersion = 2

// measured is what the cache keeps per (blob, file name, test, want).
type measured struct {
	Size   int64
	Skip   string // "", variant.SkipBinary, SkipGenerated, SkipUnknown
	Lang   string
	Counts lang.Counts
	extra
}

// extra is what the cache keeps beyond the counts, for the files that have
// it: kept as JSON, since few files do.
type extra struct {
	BuildTags []string             `json:"t,omitempty"`
	InFile    []variant.InFileCode `json:"i,omitempty"`
	Deps      []variant.Dependency `json:"d,omitempty"`
}

func (e *extra) empty() bool { return len(e.BuildTags) == 0 && len(e.InFile) == 0 && len(e.Deps) == 0 }

// statEntry lets a working-tree file skip hashing when unchanged since
// the last run: git's index does the same.
type statEntry struct {
	Size    int64
	ModTime int64
	BlobID  string
}

// Cache keeps measurements per blob, persisted in one file that is read
// once per run and written back at the end. It is safe for concurrent use.
type Cache struct {
	path    string
	version string

	mu      sync.Mutex
	entries map[string]measured
	stats   map[string]statEntry
	fresh   map[string]bool // keys put by this run
	dirty   bool
}

// cacheKey is the blob id, the file's base name (language detection may
// depend on it), whether it is a test, what was measured, and what the
// policy asks about variants inside files (inFile.key).
func cacheKey(blobID, base string, isTest bool, want lang.Want, inFileKey string) string {
	t := byte('c')
	if isTest {
		t = 't'
	}
	return blobID + "\x00" + base + "\x00" + string([]byte{t, byte(want)}) + inFileKey
}

const cacheMagic = "budgetgate analyze cache\n"

// scannerVersion identifies the scanners: ScannerVersion and the running
// executable's size and modification time, which change with every build.
func scannerVersion() string {
	v := strconv.Itoa(ScannerVersion)
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			v += fmt.Sprintf(" %d %d", st.Size(), st.ModTime().UnixNano())
		}
	}
	return v
}

// OpenCache loads the cache file at path; a missing, corrupt or outdated
// file gives an empty cache (it is only a cache).
func OpenCache(path string) *Cache {
	c := &Cache{path: path, version: scannerVersion(), entries: map[string]measured{}, stats: map[string]statEntry{}, fresh: map[string]bool{}}
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	if err := c.decode(data); err != nil {
		c.entries, c.stats = map[string]measured{}, map[string]statEntry{}
	}
	return c
}

func (c *Cache) get(key string) (measured, bool) {
	if c == nil {
		return measured{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.entries[key]
	return m, ok
}

func (c *Cache) put(key string, m measured) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.entries[key] = m
	c.fresh[key] = true
	c.dirty = true
	c.mu.Unlock()
}

// blobFor returns the blob id recorded for an unchanged working-tree file.
func (c *Cache) blobFor(e Entry) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.stats[e.Path]
	if !ok || s.Size != e.Size || s.ModTime != e.ModTime {
		return "", false
	}
	return s.BlobID, true
}

// setBlob records a working-tree file's blob id. Files modified in the
// last two seconds are not recorded: a change within the file system's
// timestamp resolution would go unseen.
func (c *Cache) setBlob(e Entry, id string, now time.Time) {
	if c == nil || e.ModTime >= now.Add(-2*time.Second).UnixNano() {
		return
	}
	c.mu.Lock()
	if c.stats[e.Path] != (statEntry{e.Size, e.ModTime, id}) {
		c.stats[e.Path] = statEntry{e.Size, e.ModTime, id}
		c.dirty = true
	}
	c.mu.Unlock()
}

// maxCacheEntries bounds the file: past it, only what this run measured is
// kept, and the cache fills again from there.
const maxCacheEntries = 500_000

// Save writes the cache back if it changed, atomically.
func (c *Cache) Save() error {
	if c == nil || !c.dirty {
		return nil
	}
	c.mu.Lock()
	data := c.encode()
	c.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(c.path, data)
}

// writeFileAtomic writes through a temporary file and a rename, so that a
// concurrent run reads the old file or the new one, never half of one.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// The file: magic, version, then entries and stat records, each field a
// uvarint or a length-prefixed string.
func (c *Cache) encode() []byte {
	var b bytes.Buffer
	b.WriteString(cacheMagic)
	putString(&b, c.version)
	entries := c.entries
	if len(entries) > maxCacheEntries {
		entries = map[string]measured{}
		for k := range c.fresh {
			entries[k] = c.entries[k]
		}
	}
	putUint(&b, uint64(len(entries)))
	for k, m := range entries {
		putString(&b, k)
		putUint(&b, uint64(m.Size))
		putString(&b, m.Skip)
		putString(&b, m.Lang)
		n := m.Counts
		for _, x := range []int{n.Code, n.Comment, n.Blank, n.Complexity, n.Functions, n.Classes, n.TestCases} {
			putUint(&b, uint64(x))
		}
		var ex []byte
		if !m.extra.empty() {
			ex, _ = json.Marshal(&m.extra)
		}
		putString(&b, string(ex))
	}
	putUint(&b, uint64(len(c.stats)))
	for p, s := range c.stats {
		putString(&b, p)
		putUint(&b, uint64(s.Size))
		putUint(&b, uint64(s.ModTime))
		putString(&b, s.BlobID)
	}
	return b.Bytes()
}

var errCorrupt = errors.New("corrupt cache")

func (c *Cache) decode(data []byte) error {
	r := &reader{data: data}
	if !bytes.HasPrefix(data, []byte(cacheMagic)) {
		return errCorrupt
	}
	r.data = data[len(cacheMagic):]
	if r.string() != c.version {
		return errCorrupt // other scanners: start afresh
	}
	n := r.uint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		k := r.string()
		var m measured
		m.Size = int64(r.uint())
		m.Skip = r.string()
		m.Lang = r.string()
		for _, x := range []*int{&m.Counts.Code, &m.Counts.Comment, &m.Counts.Blank, &m.Counts.Complexity, &m.Counts.Functions, &m.Counts.Classes, &m.Counts.TestCases} {
			*x = int(r.uint())
		}
		if ex := r.string(); ex != "" {
			if err := json.Unmarshal([]byte(ex), &m.extra); err != nil {
				return errCorrupt
			}
		}
		c.entries[k] = m
	}
	n = r.uint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		p := r.string()
		s := statEntry{Size: int64(r.uint()), ModTime: int64(r.uint())}
		s.BlobID = r.string()
		c.stats[p] = s
	}
	return r.err
}

func putUint(b *bytes.Buffer, x uint64) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], x)])
}

func putString(b *bytes.Buffer, s string) {
	putUint(b, uint64(len(s)))
	b.WriteString(s)
}

type reader struct {
	data []byte
	err  error
}

func (r *reader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.data = r.data[n:]
	return x
}

func (r *reader) string() string {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.data)) {
		r.err = errCorrupt
		return ""
	}
	s := string(r.data[:n])
	r.data = r.data[n:]
	return s
}

// defaultCachePath is inside the repository's .git directory when there is
// one, else under the user's cache directory, keyed by the tree's path.
func defaultCachePath(commonDir, root string) (string, error) {
	if commonDir != "" {
		return filepath.Join(commonDir, "budgetgate", "analyze.cache"), nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	return filepath.Join(dir, "budgetgate", hex.EncodeToString(sum[:8])+".cache"), nil
}

// gitBlobID is the id git gives content as a blob, so that working-tree
// files and committed blobs share cache entries.
func gitBlobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}
