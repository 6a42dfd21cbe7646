package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// The store of SLIs pulled from Prometheus: the same tables as pushed
// counts, so that every figure is computed one way. Until counts are kept
// per SLO, slo names a service's only SLO.

// NewestSLI is the start of the newest minute stored for the service, zero
// when it has none: where a puller resumes after a restart.
func (d *DB) NewestSLI(ctx context.Context, service, slo string) (time.Time, error) {
	var t sql.NullInt64
	err := d.read.QueryRowContext(ctx, `SELECT MAX(t) FROM sli_minute WHERE service_id = (SELECT id FROM services WHERE name = ?)`,
		service).Scan(&t)
	if err != nil {
		return time.Time{}, mapErr(err)
	}
	if !t.Valid {
		return time.Time{}, nil
	}
	return time.Unix(t.Int64, 0).UTC(), nil
}

// AddPulledSLI adds pulled counts in one write transaction.
func (d *DB) AddPulledSLI(ctx context.Context, service, slo string, events []errorbudget.SLIEvent) error {
	return d.Write(ctx, func(tx app.Tx) error { return tx.AddSLI(ctx, service, events) })
}
