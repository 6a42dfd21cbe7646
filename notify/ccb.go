package notify

import (
	"context"
	"log/slog"
	"time"
)

// Sweeper is the CCB sweep (app.Board).
type Sweeper interface {
	Sweep(ctx context.Context) (expired, reminded int, err error)
}

// SweepExceptions records the expiry of CCB requests and approvals and
// queues the reminders due before approvals end, every interval until ctx is
// done. The messages go out through the same outbox as escalations.
func SweepExceptions(ctx context.Context, board Sweeper, log *slog.Logger, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		expired, reminded, err := board.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("CCB sweep", "err", err)
		case expired > 0 || reminded > 0:
			log.Info("CCB sweep", "expired", expired, "reminders", reminded)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
