package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// replay looks the key up inside the write transaction, so that two
// concurrent retries cannot both write.
func (tx *Tx) replay(ctx context.Context, idem *app.Idempotency) (*app.Reply, error) {
	if idem == nil || idem.Key == "" {
		return nil, nil
	}
	// Another instance may be answering the same key: wait for it, then
	// read what it stored.
	if err := tx.lockKey(ctx, "idempotency\n"+idem.Scope+"\n"+idem.Key); err != nil {
		return nil, err
	}
	var hash string
	var r app.Reply
	err := tx.QueryRowContext(ctx, `SELECT body_hash, created, response FROM idempotency_keys WHERE scope = ? AND key = ?`,
		idem.Scope, idem.Key).Scan(&hash, &r.Created, &r.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if hash != idem.Hash() {
		return nil, &budgetgate.Error{Code: budgetgate.EINVALID, Field: "Idempotency-Key",
			Message: "this key was used with a different body"}
	}
	return &r, nil
}

func (tx *Tx) remember(ctx context.Context, idem *app.Idempotency, r app.Reply) error {
	if idem == nil || idem.Key == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, body_hash, created, response, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		idem.Scope, idem.Key, idem.Hash(), r.Created, r.Body, formatTime(tx.now))
	return mapErr(err)
}

// Idempotent runs write through the group committer unless the request was
// already answered, in which case the stored reply is returned with
// replayed = true. write returns the reply to store and send.
func (d *DB) Idempotent(ctx context.Context, idem *app.Idempotency, write func(tx app.Tx) (app.Reply, error)) (r app.Reply, replayed bool, err error) {
	err = d.writeTx(ctx, func(tx *Tx) error {
		prior, err := tx.replay(ctx, idem)
		if err != nil {
			return err
		}
		if prior != nil {
			r, replayed = *prior, true
			return nil
		}
		if r, err = write(tx); err != nil {
			return err
		}
		return tx.remember(ctx, idem, r)
	})
	if err != nil {
		return app.Reply{}, false, err
	}
	return r, replayed, nil
}

// sloKey is how the caches name an SLO of a service.
func sloKey(service, slo string) string { return service + "\x00" + slo }

const sloIDSQL = `SELECT s.id FROM slos s JOIN services v ON v.id = s.service_id WHERE v.name = ? AND s.name = ?`

// sloID returns the id under which an SLO's counts are kept, reading it
// with q on a miss. An id never changes once committed (SLOs are never
// deleted, so that an SLO taken out of a policy and put back finds its
// history), so one read from the read pool is cached for good; one read
// inside a write transaction is not, as that transaction may yet fail.
// ENOTFOUND when no policy of the service ever had the SLO.
func (d *DB) sloID(ctx context.Context, q rowQuerier, service, slo string) (int64, error) {
	key := sloKey(service, slo)
	if id, ok := d.sloIDs.Load(key); ok {
		return id.(int64), nil
	}
	var id int64
	err := q.QueryRowContext(ctx, sloIDSQL, service, slo).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, budgetgate.Errorf(budgetgate.ENOTFOUND, "unknown SLO %q of service %q: no policy defines it", slo, service)
	}
	if err != nil {
		return 0, fmt.Errorf("looking up SLO %s of %s: %w", slo, service, mapErr(err))
	}
	if q == rowQuerier(d.read) {
		d.sloIDs.Store(key, id)
	}
	return id, nil
}

type bucket struct {
	t           int64
	good, total int64
}

// rollup adds events into buckets of the given width (seconds), sorted by time.
func rollup(events []errorbudget.SLIEvent, width int64) []bucket {
	index := make(map[int64]int, len(events))
	out := make([]bucket, 0, len(events))
	for _, e := range events {
		t := e.Time.Unix()
		t -= mod(t, width)
		if i, ok := index[t]; ok {
			out[i].good += e.Good
			out[i].total += e.Total
			continue
		}
		index[t] = len(out)
		out = append(out, bucket{t: t, good: e.Good, total: e.Total})
	}
	slices.SortFunc(out, func(a, b bucket) int { return cmp.Compare(a.t, b.t) })
	return out
}

func mod(a, b int64) int64 { return ((a % b) + b) % b }

// insertChunk is how many buckets go in one multi-row INSERT; SQLite
// statements are cheaper per row when they carry many.
const insertChunk = 1000

// addBuckets upserts buckets into table, adding to counts already there.
// Statements carry up to insertChunk rows; only the last one of a batch has
// another shape.
func (tx *Tx) addBuckets(ctx context.Context, table string, sloID int64, bs []bucket) error {
	args := make([]any, 0, min(len(bs), insertChunk)*4)
	for len(bs) > 0 {
		n := min(len(bs), insertChunk)
		args = args[:0]
		for _, b := range bs[:n] {
			args = append(args, sloID, b.t, b.good, b.total)
		}
		if err := tx.exec(ctx, upsertQuery(table, n), args...); err != nil {
			return err
		}
		bs = bs[n:]
	}
	return nil
}

func upsertQuery(table string, rows int) string {
	return "INSERT INTO " + table + " (slo_id, t, good, total) VALUES " + strings.Repeat("(?,?,?,?),", rows-1) + "(?,?,?,?)" +
		" ON CONFLICT (slo_id, t) DO UPDATE SET good = " + table + ".good + excluded.good, total = " + table + ".total + excluded.total"
}

// AddSLI adds validated events to the counts of a service's SLO in tx: per
// minute, hour and day, so that any window is read from a few hundred rows.
func (tx *Tx) AddSLI(ctx context.Context, service, slo string, events []errorbudget.SLIEvent) error {
	id, err := tx.db.sloID(ctx, tx, service, slo)
	if err != nil {
		return err
	}
	if err := tx.checkStoredTotal(ctx, id, events); err != nil {
		return err
	}
	// Bump before and after commit: a reader that started before the commit
	// may not store what it read, and one that starts after it reads new data.
	key := sloKey(service, slo)
	tx.db.counts.bump(key)
	tx.changed(sliTopic(service, slo))
	tx.after = append(tx.after, func() {
		// Committed now: the id is for good, and the next batch need not read it.
		tx.db.sloIDs.Store(key, id)
	})
	for _, level := range []struct {
		table string
		width int64
	}{{"sli_minute", 60}, {"sli_hour", 3600}, {"sli_day", 86400}} {
		if err := tx.addBuckets(ctx, level.table, id, rollup(events, level.width)); err != nil {
			return err
		}
	}
	return nil
}

// storedTotalSQL sums an SLO's totals over all the data kept, from the
// day roll-up: a few hundred rows.
const storedTotalSQL = `SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM sli_day WHERE slo_id = ?`

// checkStoredTotal refuses a batch that would carry the SLO's total over
// all its stored data past budgetgate.MaxExact, naming the entry that would.
// Every bucket and every window sum is part of that total, and good never
// exceeds total, so bounding it bounds every count and sum read later. It
// runs in the write transaction, so batches committed together are counted.
func (tx *Tx) checkStoredTotal(ctx context.Context, sloID int64, events []errorbudget.SLIEvent) error {
	var sum int64
	if err := tx.queryRow(ctx, storedTotalSQL, sloID).Scan(&sum); err != nil {
		return fmt.Errorf("reading the stored total: %w", mapErr(err))
	}
	stored := sum
	for i, e := range events {
		sum += e.Total // each entry is at most MaxSLICount: no int64 overflow
		if sum > budgetgate.MaxExact {
			return budgetgate.FieldErrorf(fmt.Sprintf("events[%d].total", i),
				"would carry the SLO's stored total (%d) past %d, the largest count kept exactly; nothing of this batch was stored",
				stored, budgetgate.MaxExact)
		}
	}
	return nil
}

// span is a half-open range [from, to) of unix seconds.
type span struct{ from, to int64 }

// segmentTables names the roll-up table each of segments' five pieces reads.
var segmentTables = [5]string{"sli_minute", "sli_hour", "sli_day", "sli_hour", "sli_minute"}

// segments splits a minute-aligned range into five pieces, some of them
// empty: minutes up to the first whole hour, hours up to the first whole
// day, whole days, then hours and minutes to the end. Always five, so that
// the query summing them has one shape and is prepared once.
func segments(r span) [5]span {
	const h, d = 3600, 86400
	up := func(t, w int64) int64 { return t + mod(-t, w) }
	down := func(t, w int64) int64 { return t - mod(t, w) }
	var out [5]span
	if r.to <= r.from {
		return out
	}
	h1, h2 := up(r.from, h), down(r.to, h)
	if h1 >= h2 {
		out[0] = r
		return out
	}
	out[0], out[4] = span{r.from, h1}, span{h2, r.to}
	d1, d2 := up(h1, d), down(h2, d)
	if d1 >= d2 {
		out[1] = span{h1, h2}
		return out
	}
	out[1], out[2], out[3] = span{h1, d1}, span{d1, d2}, span{d2, h2}
	return out
}

// windowSpan is the range of minute buckets inside (now-w, now]: a bucket
// counts when its start lies in the window.
func windowSpan(now time.Time, w time.Duration) span {
	n := now.Unix()
	start := n - int64(w/time.Second)
	return span{from: start - mod(start, 60) + 60, to: n - mod(n, 60) + 60}
}

// windowQuery sums n windows' five segments each, for the SLO id ?1, with
// how many of the rows summed are bad (dialect.badCount: a row no write of
// budgetgate's stores; such rows come only from outside edits or damage,
// and the SLO's figures are then refused rather than computed from them).
// The sums are cast back to integers: PostgreSQL sums BIGINTs as NUMERIC.
func (dl *dialect) windowQuery(n int) string {
	var q strings.Builder
	for i := 0; i < n; i++ {
		for _, table := range segmentTables {
			if q.Len() > 0 {
				q.WriteString(" UNION ALL ")
			}
			fmt.Fprintf(&q, "SELECT %d, CAST(COALESCE(SUM(good),0) AS BIGINT), CAST(COALESCE(SUM(total),0) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN %s THEN 1 ELSE 0 END),0) AS BIGINT) FROM %s WHERE slo_id = ?1 AND t >= ? AND t < ?", i, dl.badCount, table)
		}
	}
	return q.String()
}

// WindowCounts sums the counts of the SLO s of p over its window and each
// burn window: from the cache within the same minute, else in one prepared
// query over the roll-up tables.
func (d *DB) WindowCounts(ctx context.Context, p *errorbudget.Policy, s *errorbudget.SLO, now time.Time) (errorbudget.WindowCounts, error) {
	minute := now.Unix() - mod(now.Unix(), 60)
	key := sloKey(p.Service, s.Name)
	c, gen, ok := d.counts.get(key, p.Version, minute)
	if ok && d.cachesLive() {
		return c, nil
	}
	c, err := d.windowCounts(ctx, p, s, now)
	if err != nil {
		return c, err
	}
	d.counts.put(key, p.Version, minute, gen, c)
	return c, nil
}

func (d *DB) windowCounts(ctx context.Context, p *errorbudget.Policy, s *errorbudget.SLO, now time.Time) (errorbudget.WindowCounts, error) {
	out := errorbudget.WindowCounts{BurnWindows: map[string]errorbudget.Counts{}}
	id, err := d.sloID(ctx, d.read, p.Service, s.Name)
	if err != nil {
		return out, err
	}
	names := []string{""}
	durs := []time.Duration{s.Window}
	for _, bw := range errorbudget.BurnWindows {
		names, durs = append(names, bw.Name), append(durs, bw.Duration)
	}
	if p.BurnWindowText != "" && !slices.Contains(names, p.BurnWindowText) {
		names, durs = append(names, p.BurnWindowText), append(durs, p.BurnRateWindow)
	}
	args := make([]any, 0, 1+len(durs)*10)
	args = append(args, id)
	for _, w := range durs {
		for _, sp := range segments(windowSpan(now, w)) {
			args = append(args, sp.from, sp.to)
		}
	}
	st, err := d.prepared(ctx, d.dl.windowQuery(len(durs)))
	if err != nil {
		return out, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return out, mapErr(err)
	}
	defer rows.Close()
	sums := make([]errorbudget.Counts, len(durs))
	for rows.Next() {
		var i int
		var good, total, bad int64
		if err := rows.Scan(&i, &good, &total, &bad); err != nil {
			return out, fmt.Errorf("summing the SLI counts of %q: %w", p.Subject(s.Name), err)
		}
		if bad > 0 {
			return out, fmt.Errorf("summing the SLI counts of %q: %d stored rows are not valid counts", p.Subject(s.Name), bad)
		}
		// Checked per segment, so that adding five of them cannot overflow.
		if total > budgetgate.MaxExact || sums[i].Total+total > budgetgate.MaxExact {
			return out, fmt.Errorf("summing the SLI counts of %q: a window holds more than %d events", p.Subject(s.Name), budgetgate.MaxExact)
		}
		sums[i].Good += good
		sums[i].Total += total
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("summing the SLI counts of %q: %w", p.Subject(s.Name), err)
	}
	out.Window = sums[0]
	for i, name := range names[1:] {
		out.BurnWindows[name] = sums[i+1]
	}
	return out, nil
}

// HourlySLI returns the hourly counts of a service's SLO in [from, to).
func (d *DB) HourlySLI(ctx context.Context, service, slo string, from, to time.Time) ([]app.SLIPoint, error) {
	id, err := d.sloID(ctx, d.read, service, slo)
	if err != nil {
		return nil, err
	}
	rows, err := d.read.QueryContext(ctx, `SELECT t, good, total FROM sli_hour
		WHERE slo_id = ? AND t >= ? AND t < ? ORDER BY t`, id, from.Unix(), to.Unix())
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []app.SLIPoint
	for rows.Next() {
		var t int64
		var p app.SLIPoint
		if err := rows.Scan(&t, &p.Good, &p.Total); err != nil {
			return nil, err
		}
		p.Time = time.Unix(t, 0).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}
