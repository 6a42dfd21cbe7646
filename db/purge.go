package db

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Keep says how long what the store only needs for a while is kept.
type Keep struct {
	SLI          time.Duration // SLI counts: the retention (never less than the longest window)
	Idempotency  time.Duration // replies to Idempotency-Key retries
	EndedSession time.Duration // sessions after they can no longer be used
}

// purgeBatch bounds one DELETE, so that a purge never holds the one
// writer long.
const purgeBatch = 5000

// Purge deletes what has outlived keep, a batch at a time, and returns how
// many rows went. Decisions, analyses and the audit log are records and are
// never purged.
func (d *DB) Purge(ctx context.Context, keep Keep) (int64, error) {
	now := d.Now().UTC()
	cutoff := now.Add(-keep.SLI).Unix()
	type job struct {
		query string
		arg   any
	}
	var jobs []job
	for _, l := range []struct {
		table string
		width int64
	}{{"sli_minute", 60}, {"sli_hour", 3600}, {"sli_day", 86400}} {
		// A bucket goes once all of it is older than the retention.
		jobs = append(jobs, job{`DELETE FROM ` + l.table + ` WHERE (slo_id, t) IN
			(SELECT slo_id, t FROM ` + l.table + ` WHERE t < ? LIMIT ` + strconv.Itoa(purgeBatch) + `)`, cutoff - l.width})
	}
	jobs = append(jobs,
		job{`DELETE FROM idempotency_keys WHERE (scope, key) IN
			(SELECT scope, key FROM idempotency_keys WHERE created_at < ? LIMIT ` + strconv.Itoa(purgeBatch) + `)`, formatTime(now.Add(-keep.Idempotency))},
		job{`DELETE FROM sessions WHERE id_hash IN
			(SELECT id_hash FROM sessions WHERE last_seen < ? LIMIT ` + strconv.Itoa(purgeBatch) + `)`, now.Add(-keep.EndedSession).Unix()},
	)
	var total int64
	for _, j := range jobs {
		for {
			var n int64
			err := d.writeTx(ctx, func(tx *Tx) error {
				res, err := tx.result(ctx, j.query, j.arg)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return total, fmt.Errorf("db: purging old rows: %w", err)
			}
			total += n
			if n < purgeBatch {
				break
			}
		}
	}
	return total, nil
}
