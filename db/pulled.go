package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// The store of SLIs pulled from Prometheus: the same tables as posted
// counts, so that every figure is computed one way.

// NewestSLI is the start of the newest minute stored for an SLO, zero when
// it has none: where a puller resumes after a restart, and how stale its
// data is.
func (d *DB) NewestSLI(ctx context.Context, service, slo string) (time.Time, error) {
	id, err := d.sloID(ctx, d.read, service, slo)
	if err != nil {
		return time.Time{}, err
	}
	var t sql.NullInt64
	if err := d.read.QueryRowContext(ctx, `SELECT MAX(t) FROM sli_minute WHERE slo_id = ?`, id).Scan(&t); err != nil {
		return time.Time{}, mapErr(err)
	}
	if !t.Valid {
		return time.Time{}, nil
	}
	return time.Unix(t.Int64, 0).UTC(), nil
}

// AddPulledSLI adds pulled counts in one write transaction.
func (d *DB) AddPulledSLI(ctx context.Context, service, slo string, events []errorbudget.SLIEvent) error {
	return d.Write(ctx, func(tx app.Tx) error { return tx.AddSLI(ctx, service, slo, events) })
}
