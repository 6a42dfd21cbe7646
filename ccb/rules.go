package ccb

import (
	"time"

	"github.com/budgetgate/budgetgate"
)

// Limits of a request (see docs/API.md, Exceptions).
const (
	MaxReasonChars  = 4000
	MaxCommentChars = 4000
	MaxPlanSteps    = 50
	MaxPlanStepLen  = 1000
	// PendingTTL is how long a request waits for the board before it expires.
	PendingTTL = 7 * 24 * time.Hour
	// PollInterval is what clients waiting on a pending request are told to
	// wait (Retry-After) between polls.
	PollInterval = 5 * time.Second
)

// ExpiryLimits are how long an approval lasts unless the request asks for
// less, and the most it may ask for.
type ExpiryLimits struct {
	Default time.Duration
	Max     time.Duration
}

// CCBRules are the board's settings.
type CCBRules struct {
	// ApprovalsRequired is how many distinct approvals approve a request, by kind.
	ApprovalsRequired map[string]int
	// Expiry is the default and maximum lifetime of an approval, by kind.
	Expiry map[string]ExpiryLimits
}

// DefaultCCBRules are the defaults of docs/API.md, Exceptions: one approval; release exceptions
// last 24h (at most 7 days, a choice: a release that needs longer should be
// a new request), variant exceptions 90 days (at most 180).
func DefaultCCBRules() CCBRules {
	return CCBRules{
		ApprovalsRequired: map[string]int{ExceptionRelease: 1, ExceptionVariant: 1},
		Expiry: map[string]ExpiryLimits{
			ExceptionRelease: {Default: 24 * time.Hour, Max: 7 * 24 * time.Hour},
			ExceptionVariant: {Default: 90 * 24 * time.Hour, Max: 180 * 24 * time.Hour},
		},
	}
}

// Validate checks settings given on the command line.
func (r CCBRules) Validate() error {
	for _, kind := range []string{ExceptionRelease, ExceptionVariant} {
		if n := r.ApprovalsRequired[kind]; n < 1 || n > 20 {
			return budgetgate.FieldErrorf("approvals_required."+kind, "must be between 1 and 20, got %d", n)
		}
		lim := r.Expiry[kind]
		if lim.Default <= 0 || lim.Default > lim.Max {
			return budgetgate.FieldErrorf("expiry."+kind, "default %s must be positive and at most %s", FormatExpiry(lim.Default), FormatExpiry(lim.Max))
		}
	}
	return nil
}
