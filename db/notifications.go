package db

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
)

// Notification is one message in the outbox.
type Notification struct {
	ID          int64
	Kind        string
	Subject     string
	Target      string
	Message     string
	Payload     []byte
	WebhookURL  string
	State       string // pending, delivered, failed, recorded
	Attempts    int
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
}

// Notification states.
const (
	NotifyPending   = "pending"
	NotifyDelivered = "delivered"
	NotifyFailed    = "failed"   // gave up after MaxAttempts
	NotifyRecorded  = "recorded" // no webhook configured for the target
)

// MaxAttempts is how many times a webhook delivery is tried.
const MaxAttempts = 8

// slackText escapes the three characters Slack reads as markup in a
// message's text, so that a reason, a comment or a name cannot ping a
// channel (<!channel>) or pass off a link (<https://...|text>) as the
// server's. The receiver shows them as written; bare links, the server's
// own included, are still linked.
var slackText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// enqueue records a notification in tx; it is delivered after commit. The
// message is plain text, stored as written; the payload is escaped for the
// webhook's receiver (Slack's incoming-webhook format). None of the
// messages carries markup of its own, so the whole text is escaped: no
// caller can forget a part a user wrote.
func (tx *Tx) enqueue(ctx context.Context, kind, subject, target, message, webhookURL string) error {
	payload, err := json.Marshal(map[string]string{"text": slackText.Replace(message)})
	if err != nil {
		return err
	}
	state := NotifyPending
	if webhookURL == "" {
		state = NotifyRecorded
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO notifications (kind, subject, target, message, payload, webhook_url, state, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, kind, subject, target, message, string(payload), webhookURL, state, tx.now.Unix(), formatTime(tx.now))
	return mapErr(err)
}

// Webhooks maps a notification target (a role such as sre_oncall) to the URL
// its messages are posted to.
type Webhooks map[string]string

// CheckEscalations fires each escalation of the policy whose threshold the
// remaining budget has fallen below, once per crossing, and re-arms those the
// budget is back above (SPEC 2.4). It writes only when something changes and
// returns how many notifications it queued.
func (d *DB) CheckEscalations(ctx context.Context, p *budgetgate.Policy, m budgetgate.Metrics, hooks Webhooks) (int, error) {
	if m.Status == budgetgate.StatusNoData || len(p.Escalations) == 0 {
		return 0, nil
	}
	state, err := escalationState(ctx, d.read, p.Service)
	if err != nil {
		return 0, err
	}
	if fire, next := p.Escalate(state, m.RemainingPct); len(fire) == 0 && maps.Equal(state, next) {
		return 0, nil
	}
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// Read again under the write lock: another checker may have fired meanwhile.
	if state, err = escalationState(ctx, tx, p.Service); err != nil {
		return 0, err
	}
	fire, next := p.Escalate(state, m.RemainingPct)
	queued := 0
	for _, e := range fire {
		msg := fmt.Sprintf("%s: error budget %s (%.1f%% remaining, status %s). Action: %s.",
			p.Service, e.Name, m.RemainingPct, m.Status, e.Action)
		for _, role := range e.Notify {
			if err := tx.enqueue(ctx, "escalation", p.Service, role, msg, hooks[role]); err != nil {
				return 0, err
			}
			queued++
		}
		if err := tx.audit(ctx, budgetgate.SystemActor, "escalation.fire", p.Service, msg); err != nil {
			return 0, err
		}
	}
	for _, e := range p.Escalations {
		if _, err := tx.ExecContext(ctx, `INSERT INTO escalations (service, name, armed, fired_at, remaining) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (service, name) DO UPDATE SET armed = excluded.armed,
			fired_at = CASE WHEN excluded.armed THEN fired_at ELSE excluded.fired_at END, remaining = excluded.remaining`,
			p.Service, e.Name, !next[e.Name], formatTime(tx.now), m.RemainingPct); err != nil {
			return 0, mapErr(err)
		}
	}
	return queued, mapErr(tx.Commit())
}

// escalationState is the set of a service's escalations that have fired and
// not re-armed.
func escalationState(ctx context.Context, q querier, service string) (budgetgate.EscalationState, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM escalations WHERE service = ? AND armed = 0`, service)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	state := budgetgate.EscalationState{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		state[name] = true
	}
	return state, rows.Err()
}

const notificationColumns = `id, kind, subject, target, message, payload, webhook_url, state, attempts, last_error, created_at, COALESCE(delivered_at, '')`

func scanNotification(row interface{ Scan(...any) error }) (Notification, error) {
	var n Notification
	var payload, created, delivered string
	err := row.Scan(&n.ID, &n.Kind, &n.Subject, &n.Target, &n.Message, &payload, &n.WebhookURL, &n.State, &n.Attempts, &n.LastError, &created, &delivered)
	n.Payload = []byte(payload)
	n.CreatedAt, n.DeliveredAt = parseTime(created), parseTime(delivered)
	return n, err
}

// Notifications lists notifications about a subject (all when ""), newest first.
func (d *DB) Notifications(ctx context.Context, subject string, limit int) ([]Notification, error) {
	q, args := `SELECT `+notificationColumns+` FROM notifications`, []any{}
	if subject != "" {
		q += ` WHERE subject = ?`
		args = append(args, subject)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	return d.queryNotifications(ctx, q, args...)
}

// DueNotifications lists pending notifications whose next attempt is due.
func (d *DB) DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error) {
	return d.queryNotifications(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`, now.Unix(), limit)
}

func (d *DB) queryNotifications(ctx context.Context, q string, args ...any) ([]Notification, error) {
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkDelivery records the outcome of one delivery attempt. A failure is
// retried with exponential backoff until MaxAttempts.
func (d *DB) MarkDelivery(ctx context.Context, id int64, deliveryErr error) error {
	now := d.Now().UTC()
	var err error
	if deliveryErr == nil {
		_, err = d.write.ExecContext(ctx, `UPDATE notifications SET state = 'delivered', attempts = attempts + 1, last_error = '', delivered_at = ? WHERE id = ?`,
			formatTime(now), id)
		return mapErr(err)
	}
	_, err = d.write.ExecContext(ctx, `UPDATE notifications SET attempts = attempts + 1, last_error = ?,
		state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END,
		next_attempt_at = ? + (1 << MIN(attempts, 10)) * 5
		WHERE id = ?`, deliveryErr.Error(), MaxAttempts, now.Unix(), id)
	return mapErr(err)
}
