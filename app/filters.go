package app

import (
	"time"

	"github.com/budgetgate/budgetgate/ccb"
)

// HistoryFilter narrows the figures history; zero fields do not filter.
type HistoryFilter struct {
	Project   string
	Dimension string
	From, To  time.Time // [From, To)
	Limit     int       // default and cap: MaxHistoryPoints
}

// AuditFilter narrows the audit log; zero fields do not filter.
type AuditFilter struct {
	Action  string
	Subject string
	Actor   string // matches name or subject
	From    time.Time
	To      time.Time
	Before  int64 // only entries listed after this entry id (older), for paging
	Limit   int
}

// ExceptionFilter narrows a listing; zero fields do not filter.
type ExceptionFilter struct {
	Statuses []ccb.ExceptionStatus
	Kind     string
	Service  string
	Project  string // variant requests of this project
	Limit    int
}

// ViolationFilter narrows the violations listed; zero fields do not filter.
type ViolationFilter struct {
	Project    string
	State      string
	OnBaseline bool  // only violations opened on the baseline branch
	Before     int64 // only violations with a lower id (older), for paging
	Limit      int   // default and cap: MaxViolations
}
