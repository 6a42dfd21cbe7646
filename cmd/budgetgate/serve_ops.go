package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/web"
)

// opsConfig holds the operational flags of serve: who may scrape /metrics
// and how large the database may grow.
type opsConfig struct {
	metrics  string
	maxPages int64
}

func (o *opsConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&o.metrics, "metrics", web.MetricsPublic, "who may read /metrics: public (anyone, like /health), token (an API token with the read scope) or off")
	fs.Int64Var(&o.maxPages, "max-db-pages", 0, "cap the database file at this many `pages` (4 KiB each); writes past it get 503 as on a full disk (0: no cap)")
}

func (o *opsConfig) validate() error {
	switch o.metrics {
	case web.MetricsPublic, web.MetricsToken, web.MetricsOff:
		return nil
	}
	return fmt.Errorf("--metrics: want public, token or off, not %q", o.metrics)
}

// apply sets what the store must know before the server takes requests.
func (o *opsConfig) apply(ctx context.Context, store *db.DB, log *slog.Logger) error {
	if o.maxPages <= 0 {
		return nil
	}
	got, err := store.SetMaxPages(ctx, o.maxPages)
	if err != nil {
		return fmt.Errorf("--max-db-pages: %w", err)
	}
	if got != o.maxPages {
		log.Warn("the database is already larger than --max-db-pages: it may not grow at all", "max_db_pages", o.maxPages, "pages", got)
	} else {
		log.Info("database size capped", "max_db_pages", got)
	}
	return nil
}
