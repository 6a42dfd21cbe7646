package budgetgate

import "time"

// Actor is who did something: a signed-in user keyed by (issuer, subject), an
// API token, or the system itself.
type Actor struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	Name    string `json:"name"`
}

// SystemActor is recorded for what budgetgate does by itself (policy files
// loaded at start, escalations, expiry).
var SystemActor = Actor{Issuer: "budgetgate", Subject: "system", Name: "budgetgate"}

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   Actor     `json:"actor"`
	Action  string    `json:"action"`  // "policy.update", "release.evaluate", "vote", "login", ...
	Subject string    `json:"subject"` // what it was about: a service, a request id
	Detail  string    `json:"detail"`  // why, or what changed
}
