package app

import (
	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/variant"
)

// Analysis sources.
const (
	SourceCI     = "ci"     // posted by `budgetgate analyze --post`
	SourceServer = "server" // analysed by the server from a configured repository
)

// NewAnalysis is an evaluated analysis to store, with what the server
// knows about it.
type NewAnalysis struct {
	Analysis   *variant.Analysis // statuses already derived from the figures
	OnBaseline bool              // the commit is on the baseline branch
	Source     string
	// Covered[i] says an approved exception covers Analysis.Violations[i]
	// up to its value; nil covers nothing.
	Covered []bool
	Actor   budgetgate.Actor
	Hooks   Webhooks
	Link    string // the project's page, for notifications
}

// SavedAnalysis is what storing an analysis did.
type SavedAnalysis struct {
	variant.ProjectAnalysis
	Violations []variant.TrackedViolation // the analysis's failures, in its order
	Resolved   []variant.TrackedViolation // resolved by this (baseline) analysis
	Notified   int                        // notifications queued
}

// CCBLink is the CCB request a blocked commit opened.
type CCBLink struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
}
