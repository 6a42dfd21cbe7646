package app

import (
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// PolicyVersion is one stored version of a service's policy.
type PolicyVersion struct {
	Version     string
	Origin      string
	ActivatedAt time.Time
	ActivatedBy string
}

// PolicyFile is a parsed policy and where it came from.
type PolicyFile struct {
	Policy *errorbudget.Policy
	Origin string // a file name, "api", "demo/..."
}

// Project is a variant-budget project: a repository with a .budgetgate.yaml.
type Project struct {
	ID        int64
	Name      string
	OwnerRole string // never empty: DefaultOwnerRole unless set
	RepoPath  string // "" unless the server analyses it itself
	CreatedAt time.Time
}

// SLIPoint is one bucket of a service's history.
type SLIPoint struct {
	Time        time.Time
	Good, Total int64
}

// StorageStats are the database file's size in pages.
type StorageStats struct {
	PageSize, Pages, FreePages int64
}

// Session is a signed-in browser session.
type Session struct {
	ID        string // the secret the cookie carries; set only by Login
	User      budgetgate.User
	CSRF      string // token every state-changing form must carry
	CreatedAt time.Time
	LastSeen  time.Time
}

// SessionLimits are the server-side timeouts of a session (see docs/OPERATIONS.md).
type SessionLimits struct {
	Idle     time.Duration // since the last request
	Absolute time.Duration // since login, whatever the activity
}
