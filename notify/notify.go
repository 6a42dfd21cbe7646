// Package notify delivers what budgetgate has to say: it checks escalations
// when budgets move and posts queued notifications to webhooks, retrying
// with backoff. The outbox in the database is the source of truth, so a
// restart loses nothing.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// Store is what the notifier needs.
type Store interface {
	Policies(ctx context.Context) (map[string]*errorbudget.Policy, error)
	ServiceMetrics(ctx context.Context, service string, now time.Time) (errorbudget.ServiceMetrics, *errorbudget.Policy, error)
	app.EscalationStore
	ClaimNotification(ctx context.Context, holder string, now time.Time, hold time.Duration) (*app.Notification, error)
	MarkDelivery(ctx context.Context, id int64, holder string, deliveryErr error) (bool, error)
}

// Notifier runs the escalation checks and the webhook deliveries.
type Notifier struct {
	Store     Store
	Hooks     app.Webhooks
	Escalator *app.Escalations
	Client    *http.Client
	Log       *slog.Logger
	Now       func() time.Time
	Interval  time.Duration // how often every service is checked, and the outbox polled
	// Holder names this instance when it claims a notification to post, so
	// that no other instance posts it too.
	Holder string

	mu    sync.Mutex
	dirty map[string]bool // services that got data since the last check
}

// New returns a Notifier; call Run to start it.
func New(store Store, hooks app.Webhooks, log *slog.Logger, now func() time.Time) *Notifier {
	return &Notifier{Store: store, Hooks: hooks, Escalator: &app.Escalations{Store: store, Hooks: hooks}, Log: log, Now: now, Interval: 30 * time.Second,
		Client: &http.Client{Timeout: 10 * time.Second}, dirty: map[string]bool{}}
}

// Touched says a service received data; its escalations are checked within
// a second. Touches coalesce, so a busy service costs one check a second,
// not one per ingest request.
func (n *Notifier) Touched(service string) {
	n.mu.Lock()
	n.dirty[service] = true
	n.mu.Unlock()
}

// checkTouched checks the services touched since the last call.
func (n *Notifier) checkTouched(ctx context.Context) {
	n.mu.Lock()
	touched := n.dirty
	n.dirty = map[string]bool{}
	n.mu.Unlock()
	for service := range touched {
		n.check(ctx, service)
	}
}

// Run checks every service once, then on each touch and every Interval, and
// delivers due notifications, until ctx is done.
func (n *Notifier) Run(ctx context.Context) {
	// Deliveries run on their own, so that a slow webhook never holds up
	// the escalation checks.
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		deliver := time.NewTicker(time.Second)
		defer deliver.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-deliver.C:
				n.Deliver(ctx)
			}
		}
	})
	n.Sweep(ctx)
	sweep := time.NewTicker(n.Interval)
	defer sweep.Stop()
	touched := time.NewTicker(time.Second)
	defer touched.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-touched.C:
			n.checkTouched(ctx)
		case <-sweep.C:
			n.Sweep(ctx)
		}
	}
}

// Sweep checks every service's escalations: burn rates move with time even
// when no data arrives.
func (n *Notifier) Sweep(ctx context.Context) {
	ps, err := n.Store.Policies(ctx)
	if err != nil {
		n.Log.Error("escalation sweep", "err", err)
		return
	}
	for name := range ps {
		n.check(ctx, name)
	}
}

func (n *Notifier) check(ctx context.Context, service string) {
	m, p, err := n.Store.ServiceMetrics(ctx, service, n.Now())
	if err != nil {
		n.Log.Error("escalation check", "service", service, "err", err)
		return
	}
	queued, err := n.Escalator.Check(ctx, p, m)
	if err != nil {
		n.Log.Error("escalation check", "service", service, "err", err)
		return
	}
	if queued > 0 {
		n.Log.Info("escalation", "service", service, "remaining_pct", m.RemainingPct, "notifications", queued)
	}
}

// deliverBatch bounds one Deliver call, so that the loop looks at its
// context between batches.
const deliverBatch = 100

// Deliver posts every due notification once, claiming each before posting
// it: a claim lasts the client's timeout and a margin, after which another
// instance may post a notification whose claimant died.
func (n *Notifier) Deliver(ctx context.Context) {
	hold := n.Client.Timeout + 30*time.Second
	for range deliverBatch {
		note, err := n.Store.ClaimNotification(ctx, n.Holder, n.Now(), hold)
		if err != nil {
			n.Log.Error("outbox", "err", err)
			return
		}
		if note == nil {
			return
		}
		err = n.post(ctx, *note)
		if err != nil {
			n.Log.Warn("webhook delivery failed", "notification", note.ID, "target", note.Target, "attempt", note.Attempts+1, "err", err)
		}
		recorded, err := n.Store.MarkDelivery(ctx, note.ID, n.Holder, err)
		if err != nil {
			n.Log.Error("outbox", "err", err)
		} else if !recorded {
			n.Log.Warn("webhook delivery outlived its claim; another instance has the notification now", "notification", note.ID)
		}
	}
}

func (n *Notifier) post(ctx context.Context, note app.Notification) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, note.WebhookURL, bytes.NewReader(note.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.Client.Do(req)
	if err != nil {
		// A webhook URL is its secret: keep it out of the logs and the
		// delivery state that the dashboard shows.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s: %w", ue.Op, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
