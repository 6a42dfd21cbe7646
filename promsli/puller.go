package promsli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// Store is where pulled counts go: the same store as pushed counts, so
// that every figure is computed the same way.
type Store interface {
	// NewestSLI is the start of the newest interval stored for the SLO,
	// zero when it has none.
	NewestSLI(ctx context.Context, service, slo string) (time.Time, error)
	// AddPulledSLI adds one entry per pulled interval. The puller never
	// hands the same interval twice: it resumes after the newest stored.
	AddPulledSLI(ctx context.Context, service, slo string, events []errorbudget.SLIEvent) error
}

// Config is how a Puller pulls.
type Config struct {
	// Source is the default Prometheus; its URL may be empty when every
	// SLO names its own.
	Source Source
	// MaxStaleness is the default for SLOs that do not set theirs.
	MaxStaleness time.Duration
	// Concurrency bounds the SLOs pulled at once, each one query at a time.
	Concurrency int
	// QueryTimeout bounds one range query.
	QueryTimeout time.Duration
	Now          func() time.Time
	Log          *slog.Logger
}

// DefaultConcurrency keeps a backfill from flooding Prometheus: four range
// queries at a time.
const DefaultConcurrency = 4

// Puller backfills and then follows the pulled SLOs.
type Puller struct {
	cfg   Config
	store Store

	mu   sync.Mutex
	apis map[string]v1.API
	slos map[string]*tracked
}

// tracked is one SLO's pulling state. The cursor and carry belong to the
// one goroutine pulling it; progress is read by others under Puller.mu.
type tracked struct {
	slo     SLO
	q       queries // rates over RateWindow, per minute
	hourly  queries // rates over the hour, for old hours
	loaded  bool
	cursor  time.Time // end of the newest interval pulled, with data or not
	carry   carry
	progres Progress
}

// New returns a puller writing to store. It checks the default source's URL.
func New(cfg Config, store Store) (*Puller, error) {
	if cfg.Source.URL != "" {
		if err := CheckURL("--prometheus", cfg.Source.URL); err != nil {
			return nil, err
		}
	}
	if cfg.MaxStaleness <= 0 {
		cfg.MaxStaleness = DefaultMaxStaleness
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Puller{cfg: cfg, store: store, apis: map[string]v1.API{}, slos: map[string]*tracked{}}, nil
}

// SetSLOs replaces the SLOs to pull (at start and on every policy reload).
// An SLO whose queries, source and window are unchanged keeps its state;
// a changed one starts again from what the store holds. An SLO that cannot
// be pulled is left out, and the error says why; the others are set.
func (p *Puller) SetSLOs(slos []SLO) error {
	next := make(map[string]*tracked, len(slos))
	var errs []error
	for _, s := range slos {
		q, err := p.check(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("SLO %s: %w", s.Key(), err))
			continue
		}
		hourly, _ := s.expand(HourStep) // valid, as q is
		next[s.Key()] = &tracked{slo: s, q: q, hourly: hourly, progres: Progress{
			Service: s.Service, SLO: s.Name, Source: p.sourceURL(s), MaxStaleness: p.maxStaleness(s)}}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, t := range next {
		if old, ok := p.slos[key]; ok && old.slo == t.slo {
			next[key] = old
		}
	}
	p.slos = next
	return errors.Join(errs...)
}

// check expands an SLO's queries and checks that it has a source.
func (p *Puller) check(s SLO) (queries, error) {
	q, err := s.expand(RateWindow)
	if err != nil {
		return q, err
	}
	if s.URL != "" {
		return q, CheckURL("sli.prometheus.url", s.URL)
	}
	if p.cfg.Source.URL == "" {
		return q, fmt.Errorf("sli.prometheus.url is not set and the server has no --prometheus")
	}
	return q, nil
}

func (p *Puller) sourceURL(s SLO) string {
	if s.URL != "" {
		return s.URL
	}
	return p.cfg.Source.URL
}

// maxStaleness is the SLO's own bound, else the server's.
func (p *Puller) maxStaleness(s SLO) time.Duration {
	if s.MaxStaleness > 0 {
		return s.MaxStaleness
	}
	return p.cfg.MaxStaleness
}

// maxStalenessOf is maxStaleness of the SLO as set, by service and name.
func (p *Puller) maxStalenessOf(s SLO) time.Duration {
	p.mu.Lock()
	t, ok := p.slos[s.Key()]
	p.mu.Unlock()
	if ok {
		return p.maxStaleness(t.slo)
	}
	return p.maxStaleness(s)
}

// api is the client of the SLO's source, made once per URL.
func (p *Puller) api(s SLO) (v1.API, error) {
	url := p.sourceURL(s)
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.apis[url]; ok {
		return a, nil
	}
	var src *Source
	if s.URL == "" {
		src = &p.cfg.Source
	}
	a, err := newAPI(url, src)
	if err != nil {
		return nil, err
	}
	p.apis[url] = a
	return a, nil
}

// Run pulls every SLO once a minute, shortly after each interval is ready,
// until ctx ends. Before every round it asks slos (when not nil) for the
// SLOs to pull, so that policy changes are followed.
func (p *Puller) Run(ctx context.Context, slos func(context.Context) ([]SLO, error)) {
	for {
		if slos != nil {
			list, err := slos(ctx)
			if err == nil {
				err = p.SetSLOs(list)
			}
			if err != nil && ctx.Err() == nil {
				p.cfg.Log.Error("pulled SLOs", "err", err)
			}
		}
		p.Sync(ctx)
		now := p.cfg.Now()
		next := now.Truncate(Step).Add(Step + Delay + time.Second)
		if next.Sub(now) > Step {
			next = next.Add(-Step)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next.Sub(now)):
		}
	}
}

// Sync pulls every SLO up to the newest ready interval: a backfill for
// SLOs seen for the first time or after an outage, one interval otherwise.
// At most Concurrency SLOs are pulled at once. Errors are kept in each
// SLO's progress, not returned: one SLO's failure never stops another's.
func (p *Puller) Sync(ctx context.Context) {
	p.mu.Lock()
	work := make([]*tracked, 0, len(p.slos))
	for _, t := range p.slos {
		work = append(work, t)
	}
	p.mu.Unlock()
	slices.SortFunc(work, func(a, b *tracked) int { return cmp.Compare(a.slo.Key(), b.slo.Key()) })

	next := make(chan *tracked)
	var wg sync.WaitGroup
	for range min(p.cfg.Concurrency, len(work)) {
		wg.Go(func() {
			for t := range next {
				p.syncOne(ctx, t)
			}
		})
	}
	for _, t := range work {
		next <- t
	}
	close(next)
	wg.Wait()
}

// ready is the end of the newest interval that may be pulled at now.
func ready(now time.Time) time.Time { return now.Add(-Delay).Truncate(Step) }

func (p *Puller) syncOne(ctx context.Context, t *tracked) {
	now := p.cfg.Now().UTC()
	if !t.loaded {
		newest, err := p.store.NewestSLI(ctx, t.slo.Service, t.slo.Name)
		if err != nil {
			p.fail(t, now, fmt.Errorf("reading the newest stored interval: %w", err))
			return
		}
		if !newest.IsZero() {
			t.cursor = newest.Add(Step)
			p.update(t, func(pr *Progress) { pr.Newest = t.cursor })
		}
		t.loaded = true
	}
	end := ready(now)
	start := t.cursor.Add(Step)
	if oldest := now.Add(-t.slo.Window).Truncate(Step).Add(Step); start.Before(oldest) {
		start, t.carry = oldest, carry{}
	}
	if start.After(end) {
		return
	}
	segs := plan(start, end, now)
	steps := 0
	for _, sg := range segs {
		steps += sg.points()
	}
	p.update(t, func(pr *Progress) { pr.Pulled, pr.ToPull = 0, steps })
	a, err := p.api(t.slo)
	if err != nil {
		p.fail(t, now, err)
		return
	}
	for _, sg := range segs {
		if !p.pullSegment(ctx, a, t, sg, now) {
			return
		}
	}
}

// segment is a run of intervals of one width, ending at from, from+step,
// ..., to.
type segment struct {
	from, to time.Time
	step     time.Duration
}

func (s segment) points() int { return int(s.to.Sub(s.from)/s.step) + 1 }

// plan splits the intervals that end in [start, end] into whole hours where
// they ended before MinuteDetail, and minutes elsewhere.
func plan(start, end, now time.Time) []segment {
	firstHour := start.Add(-Step).Add(HourStep - 1).Truncate(HourStep) // first hour edge >= start-1m
	lastHour := now.Add(-MinuteDetail).Truncate(HourStep)
	if lastHour.Sub(firstHour) < HourStep {
		return []segment{{start, end, Step}}
	}
	var out []segment
	if !start.After(firstHour) {
		out = append(out, segment{start, firstHour, Step})
	}
	out = append(out, segment{firstHour.Add(HourStep), lastHour, HourStep})
	if first := lastHour.Add(Step); !first.After(end) {
		out = append(out, segment{first, end, Step})
	}
	return out
}

// pullSegment pulls a segment in chunks of at most MaxPoints steps, storing
// each before asking for the next, so that a restart resumes after the last
// one stored. It reports whether the whole segment was pulled.
func (p *Puller) pullSegment(ctx context.Context, a v1.API, t *tracked, sg segment, now time.Time) bool {
	q := t.q
	if sg.step == HourStep {
		q = t.hourly
	}
	for from := sg.from; !from.After(sg.to); {
		to := from.Add((MaxPoints - 1) * sg.step)
		if to.After(sg.to) {
			to = sg.to
		}
		events, err := p.pullChunk(ctx, a, q, &t.carry, from, to, sg.step)
		if err == nil && len(events) > 0 {
			err = p.store.AddPulledSLI(ctx, t.slo.Service, t.slo.Name, events)
			if err != nil {
				err = fmt.Errorf("storing the pulled counts: %w", err)
			}
		}
		if err != nil {
			p.fail(t, now, err)
			return false
		}
		t.cursor = to
		n := int(to.Sub(from)/sg.step) + 1
		p.update(t, func(pr *Progress) {
			pr.Pulled += n
			pr.LastPull, pr.Error = p.cfg.Now().UTC(), ""
			if len(events) > 0 {
				pr.Newest = events[len(events)-1].Time.Add(Step)
			}
		})
		from = to.Add(sg.step)
	}
	return true
}

// pullChunk queries one range of at most MaxPoints steps and turns it into
// events.
func (p *Puller) pullChunk(ctx context.Context, a v1.API, q queries, c *carry, from, to time.Time, step time.Duration) ([]errorbudget.SLIEvent, error) {
	r := v1.Range{Start: from, End: to, Step: step}
	total, err := p.queryRange(ctx, a, "total", q.total, r)
	if err != nil {
		return nil, err
	}
	if len(total) == 0 {
		return nil, nil
	}
	var good, bad rates
	if q.good != "" {
		good, err = p.queryRange(ctx, a, "good", q.good, r)
	} else {
		bad, err = p.queryRange(ctx, a, "bad", q.bad, r)
	}
	if err != nil {
		return nil, err
	}
	return toEvents(from, to, step, total, good, bad, q.good != "", c)
}

func (p *Puller) queryRange(ctx context.Context, a v1.API, field, query string, r v1.Range) (rates, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.QueryTimeout)
	defer cancel()
	v, _, _, err := a.QueryRange(ctx, query, r)
	if err != nil {
		return nil, fmt.Errorf("%s query: %s", field, prometheusMessage(err))
	}
	return seriesRates(field, v)
}

// prometheusMessage is Prometheus's own words where it answered, else the
// transport's error.
func prometheusMessage(err error) string {
	var perr *v1.Error
	if errors.As(err, &perr) {
		return perr.Msg
	}
	return err.Error()
}

func (p *Puller) fail(t *tracked, now time.Time, err error) {
	p.cfg.Log.Warn("pulling an SLI from Prometheus", "slo", t.slo.Key(), "err", err)
	p.update(t, func(pr *Progress) { pr.Error, pr.ErrorAt = err.Error(), now })
}

func (p *Puller) update(t *tracked, f func(*Progress)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&t.progres)
}

// Progress is every pulled SLO's progress, by service and name.
func (p *Puller) Progress() []Progress {
	p.mu.Lock()
	out := make([]Progress, 0, len(p.slos))
	for _, t := range p.slos {
		out = append(out, t.progres)
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b Progress) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.SLO, b.SLO))
	})
	return out
}

// ProgressOf is one SLO's progress; false when it is not pulled.
func (p *Puller) ProgressOf(service, slo string) (Progress, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.slos[service+"/"+slo]
	if !ok {
		return Progress{}, false
	}
	return t.progres, true
}
