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
}

type countsEntry struct {
	gen     uint64
	minute  int64
	version string
	counts  errorbudget.WindowCounts
}

func (c *countsCache) get(key, version string, minute int64) (errorbudget.WindowCounts, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gen[key]
	e, ok := c.entries[key]
	if ok && e.gen == g && e.minute == minute && e.version == version {
		return e.counts, g, true
	}
	return errorbudget.WindowCounts{}, g, false
}

func (c *countsCache) put(key, version string, minute int64, gen uint64, counts errorbudget.WindowCounts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[key] != gen {
		return // data arrived while these sums were read
	}
	if c.entries == nil {
		c.entries = map[string]countsEntry{}
	}
	c.entries[key] = countsEntry{gen: gen, minute: minute, version: version, counts: counts}
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
