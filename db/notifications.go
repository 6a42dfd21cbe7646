package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// MaxAttempts is how many times a webhook delivery is tried.
const MaxAttempts = 8

// slackText escapes the three characters Slack reads as markup in a
// message's text, so that a reason, a comment or a name cannot ping a
// channel (<!channel>) or pass off a link (<https://...|text>) as the
// server's. The receiver shows them as written; bare links, the server's
// own included, are still linked.
var slackText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Enqueue records a notification in tx; it is delivered after commit. The
// message is plain text, stored as written; the payload is escaped for the
// webhook's receiver (Slack's incoming-webhook format). None of the
// messages carries markup of its own, so the whole text is escaped: no
// caller can forget a part a user wrote.
func (tx *Tx) Enqueue(ctx context.Context, kind, subject, target, message, webhookURL string) error {
	return tx.enqueue(ctx, kind, subject, "", target, message, webhookURL)
}

// EnqueueEscalation is Enqueue for an escalation of one SLO of a service.
func (tx *Tx) EnqueueEscalation(ctx context.Context, service, slo, target, message, webhookURL string) error {
	return tx.enqueue(ctx, "escalation", service, slo, target, message, webhookURL)
}

func (tx *Tx) enqueue(ctx context.Context, kind, subject, slo, target, message, webhookURL string) error {
	payload, err := json.Marshal(map[string]string{"text": slackText.Replace(message)})
	if err != nil {
		return fmt.Errorf("db: encoding a %s notice about %s: %w", kind, subject, err)
	}
	state := app.NotifyPending
	if webhookURL == "" {
		state = app.NotifyRecorded
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO notifications (kind, subject, slo, target, message, payload, webhook_url, state, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, kind, subject, slo, target, message, string(payload), webhookURL, state, tx.now.Unix(), formatTime(tx.now))
	return mapErr(err)
}

// EscalationState is the set of the escalations of a service's SLO that
// have fired and not re-armed, read outside any write.
func (d *DB) EscalationState(ctx context.Context, service, slo string) (errorbudget.EscalationState, error) {
	return escalationState(ctx, d.read, service, slo)
}

// EscalationState is DB.EscalationState under the write lock, where
// another checker cannot fire meanwhile.
func (tx *Tx) EscalationState(ctx context.Context, service, slo string) (errorbudget.EscalationState, error) {
	return escalationState(ctx, tx, service, slo)
}

// SetEscalations stores which of the policy's escalations are armed (not in
// fired) for one SLO, and the remaining budget they were checked at.
func (tx *Tx) SetEscalations(ctx context.Context, p *errorbudget.Policy, slo string, fired errorbudget.EscalationState, remainingPct float64) error {
	for _, e := range p.Escalations {
		if _, err := tx.ExecContext(ctx, `INSERT INTO escalations (service, slo, name, armed, fired_at, remaining) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (service, slo, name) DO UPDATE SET armed = excluded.armed,
			fired_at = CASE WHEN excluded.armed THEN escalations.fired_at ELSE excluded.fired_at END, remaining = excluded.remaining`,
			p.Service, slo, e.Name, !fired[e.Name], formatTime(tx.now), remainingPct); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// escalationState is the set of the escalations of a service's SLO that
// have fired and not re-armed.
func escalationState(ctx context.Context, q querier, service, slo string) (errorbudget.EscalationState, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM escalations WHERE service = ? AND slo = ? AND armed = FALSE`, service, slo)
	if err != nil {
		return nil, fmt.Errorf("db: reading the escalations of %s/%s: %w", service, slo, err)
	}
	defer rows.Close()
	state := errorbudget.EscalationState{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("db: reading the escalations of %s/%s: %w", service, slo, err)
		}
		state[name] = true
	}
	return state, rows.Err()
}

const notificationColumns = `id, kind, subject, slo, target, message, payload, webhook_url, state, attempts, last_error, created_at, COALESCE(delivered_at, '')`

func scanNotification(row interface{ Scan(...any) error }) (app.Notification, error) {
	var n app.Notification
	var payload, created, delivered string
	err := row.Scan(&n.ID, &n.Kind, &n.Subject, &n.SLO, &n.Target, &n.Message, &payload, &n.WebhookURL, &n.State, &n.Attempts, &n.LastError, &created, &delivered)
	if err != nil {
		return n, err
	}
	n.Payload = []byte(payload)
	if n.CreatedAt, err = parseTime(created); err != nil {
		return n, fmt.Errorf("db: notification %d: %w", n.ID, err)
	}
	n.DeliveredAt, err = parseTime(delivered)
	return n, err
}

// Notifications lists notifications about a subject (all when ""), newest first.
func (d *DB) Notifications(ctx context.Context, subject string, limit int) ([]app.Notification, error) {
	q, args := `SELECT `+notificationColumns+` FROM notifications`, []any{}
	if subject != "" {
		q += ` WHERE subject = ?`
		args = append(args, subject)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	return d.queryNotifications(ctx, q, args...)
}

// ClaimNotification claims the oldest pending notification that is due, for
// holder, and returns it (nil when none is due). A claimed notification is
// not due again for hold: if its claimant dies before recording the outcome,
// another instance posts it once hold has passed. The condition is repeated
// outside the subquery so that, of two instances claiming at once, the
// second finds the row no longer due.
func (d *DB) ClaimNotification(ctx context.Context, holder string, now time.Time, hold time.Duration) (*app.Notification, error) {
	var claimed []app.Notification
	err := d.writeTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, `UPDATE notifications SET claimed_by = ?, next_attempt_at = ?
			WHERE id IN (SELECT id FROM notifications WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT 1)
			AND state = 'pending' AND next_attempt_at <= ?
			RETURNING `+notificationColumns, holder, now.Add(hold).Unix(), now.Unix(), now.Unix())
		if err != nil {
			return mapErr(err)
		}
		claimed, err = scanAll(rows, scanNotification)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: claiming a notification: %w", err)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	return &claimed[0], nil
}

// SLONotifications lists the notifications about one SLO of a service
// (its escalations), newest first.
func (d *DB) SLONotifications(ctx context.Context, service, slo string, limit int) ([]app.Notification, error) {
	return d.queryNotifications(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE subject = ? AND slo = ? ORDER BY id DESC LIMIT ?`, service, slo, limit)
}

func (d *DB) queryNotifications(ctx context.Context, q string, args ...any) ([]app.Notification, error) {
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: listing notifications: %w", err)
	}
	out, err := scanAll(rows, scanNotification)
	if err != nil {
		return nil, fmt.Errorf("db: listing notifications: %w", err)
	}
	return out, nil
}

// MarkDelivery records the outcome of holder's attempt to deliver
// notification id. A failure is retried with exponential backoff until
// MaxAttempts. It reports false, writing nothing, when holder's claim had
// lapsed and another instance claimed the notification since.
func (d *DB) MarkDelivery(ctx context.Context, id int64, holder string, deliveryErr error) (bool, error) {
	now := d.Now().UTC()
	var res sql.Result
	var err error
	if deliveryErr == nil {
		res, err = d.write.ExecContext(ctx, `UPDATE notifications SET state = 'delivered', attempts = attempts + 1, last_error = '', delivered_at = ?, claimed_by = ''
			WHERE id = ? AND claimed_by = ?`, formatTime(now), id, holder)
	} else {
		res, err = d.write.ExecContext(ctx, `UPDATE notifications SET attempts = attempts + 1, last_error = ?, claimed_by = '',
			state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END,
			next_attempt_at = CAST(? AS BIGINT) + (CAST(1 AS BIGINT) << CAST(CASE WHEN attempts < 10 THEN attempts ELSE 10 END AS INTEGER)) * 5
			WHERE id = ? AND claimed_by = ?`, deliveryErr.Error(), MaxAttempts, now.Unix(), id, holder)
	}
	if err != nil {
		return false, fmt.Errorf("db: recording the delivery of notification %d: %w", id, mapErr(err))
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
