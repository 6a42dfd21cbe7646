package db

import (
	"sync"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// countsCache keeps each SLO's window sums for the current minute, keyed
// by sloKey. Sums depend on the clock only through the minute (buckets are
// minutes and windows whole minutes), so an entry stays exact until the
// minute turns or the SLO gets data; ingest bumps the SLO's generation, and
// an entry computed under an older generation is never stored.
type countsCache struct {
	mu      sync.Mutex
	gen     map[string]uint64
	entries map[string]countsEntry
	// resets counts reset calls; a read begun before one is not stored.
	resets uint64
}

type countsEntry struct {
	gen     uint64
	minute  int64
	version string
	counts  errorbudget.WindowCounts
}

// countsStamp is what a key's sums were read under: put keeps them
// only if nothing changed since.
type countsStamp struct{ gen, resets uint64 }

func (c *countsCache) get(key, version string, minute int64) (errorbudget.WindowCounts, countsStamp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gen[key]
	e, ok := c.entries[key]
	if ok && e.gen == g && e.minute == minute && e.version == version {
		return e.counts, countsStamp{g, c.resets}, true
	}
	return errorbudget.WindowCounts{}, countsStamp{g, c.resets}, false
}

func (c *countsCache) put(key, version string, minute int64, stamp countsStamp, counts errorbudget.WindowCounts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[key] != stamp.gen || c.resets != stamp.resets {
		return // data arrived while these sums were read
	}
	if c.entries == nil {
		c.entries = map[string]countsEntry{}
	}
	c.entries[key] = countsEntry{gen: stamp.gen, minute: minute, version: version, counts: counts}
}

// bump invalidates an SLO's sums; called when its data changes.
func (c *countsCache) bump(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == nil {
		c.gen = map[string]uint64{}
	}
	c.gen[key]++
}

// reset drops every SLO's sums, for when changes may have gone unheard.
func (c *countsCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resets++
	c.entries = nil
}
