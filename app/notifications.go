package app

import (
	"fmt"
	"strings"
	"time"
)

// CCBNotify says where CCB notifications go: the webhooks by role (the
// board is role "ccb") and the dashboard's base URL for links.
type CCBNotify struct {
	Hooks   Webhooks
	BaseURL string
}

// CCBRole is the notification target for the change-control board.
const CCBRole = "ccb"

// Link is the dashboard link to request id, with a leading space, or "".
func (n CCBNotify) Link(id int64) string {
	if n.BaseURL == "" {
		return ""
	}
	return fmt.Sprintf(" %s/ccb/%d", strings.TrimSuffix(n.BaseURL, "/"), id)
}

// Notification is one message in the outbox.
type Notification struct {
	ID          int64
	Kind        string
	Subject     string
	SLO         string // the SLO of the service an escalation is about; "" for other kinds
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

// Webhooks maps a notification target (a role such as sre_oncall) to the URL
// its messages are posted to.
type Webhooks map[string]string
