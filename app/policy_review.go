package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// Policy change states (see docs/POLICY.md, Changes under review).
const (
	PolicyChangePending    = "pending"
	PolicyChangeApproved   = "approved"
	PolicyChangeRejected   = "rejected"
	PolicyChangeSuperseded = "superseded" // another version took effect, or a newer change waits
)

// MaxPolicyComment bounds a reviewer's comment.
const MaxPolicyComment = 4000

// PolicyDirectoryActor is who the audit log names for a policy file of the
// policy directory taking effect: the operator, who reviews those files
// where they are kept; trigger says when ("loaded at start", "reloaded on
// SIGHUP").
func PolicyDirectoryActor(trigger string) budgetgate.Actor {
	return budgetgate.Actor{Issuer: budgetgate.SystemActor.Issuer, Subject: policyDirectorySubject, Name: "policy directory, " + trigger}
}

const policyDirectorySubject = "policy-directory"

// PolicyActivation is the audit action for a policy taking effect:
// policy.load for the policy directory's files, policy.update otherwise.
func PolicyActivation(actor budgetgate.Actor) string {
	if actor.Issuer == budgetgate.SystemActor.Issuer && actor.Subject == policyDirectorySubject {
		return "policy.load"
	}
	return "policy.update"
}

// PolicyChange is a policy version that loosens the one in force and waits
// for a second person.
type PolicyChange struct {
	ID          int64            `json:"id"`
	Service     string           `json:"service"`
	Version     string           `json:"version"`
	BaseVersion string           `json:"base_version"` // in force when proposed
	Origin      string           `json:"origin"`
	Loosens     []string         `json:"loosens"`
	Author      budgetgate.Actor `json:"author"`
	CreatedAt   time.Time        `json:"created_at"`
	Status      string           `json:"status"`
	DecidedBy   budgetgate.Actor `json:"decided_by"`
	DecidedAt   time.Time        `json:"decided_at"`
	Comment     string           `json:"comment"`

	// Source and BaseSource are the proposed text and the text in force
	// when it was proposed, for the diff.
	Source     []byte `json:"-"`
	BaseSource []byte `json:"-"`
}

// PolicyChangeFilter selects changes, newest first.
type PolicyChangeFilter struct {
	Service string // "" for every service
	Status  string // "" for every status
	Limit   int
}

// PolicyTx is what reviewing a policy change writes through, in one
// transaction.
type PolicyTx interface {
	Now() time.Time
	// PolicyInForce is the version governing service and its text; "" if
	// the service has no policy yet.
	PolicyInForce(ctx context.Context, service string) (version string, source []byte, err error)
	// StoredPolicy is any version ever stored, nil if there is none.
	StoredPolicy(ctx context.Context, version string) (*errorbudget.Policy, error)
	// ActivatePolicy makes p the service's policy in force (a no-op when it
	// already is) and supersedes the changes still pending for it.
	ActivatePolicy(ctx context.Context, p *errorbudget.Policy, origin string, actor budgetgate.Actor) (bool, error)
	// InsertPolicyChange stores c as pending, with its policy, superseding
	// an older pending change of the same service; it sets c.ID.
	InsertPolicyChange(ctx context.Context, c *PolicyChange, p *errorbudget.Policy) error
	// PendingPolicyChange is the change waiting for service, nil if none.
	PendingPolicyChange(ctx context.Context, service string) (*PolicyChange, error)
	// PolicyChange reads change id; nil if there is none.
	PolicyChange(ctx context.Context, id int64) (*PolicyChange, error)
	// DecidePolicyChange records c's status, decider, time and comment.
	DecidePolicyChange(ctx context.Context, c *PolicyChange) error
	Audit(ctx context.Context, actor budgetgate.Actor, action, subject, detail string) error
}

// PolicyReviewStore runs a policy review in a write transaction.
type PolicyReviewStore interface {
	UpdatePolicies(ctx context.Context, fn func(tx PolicyTx) error) error
}

// PolicyReview applies policy changes made through the API or the
// dashboard: one that loosens what a gate allows waits for another person
// with the sre or ccb role; any other takes effect at once. Files of the
// policy directory do not come through here: they are the operator's.
type PolicyReview struct {
	Store PolicyReviewStore
}

// PolicyOutcome says what became of a proposed policy.
type PolicyOutcome struct {
	Policy  *errorbudget.Policy
	Active  bool          // in force now (Changed says whether it was already)
	Changed bool          // a new version took effect, or a new change waits
	Change  *PolicyChange // the change waiting for review, when not Active
}

// Propose applies p, written by author through origin ("api",
// "dashboard"): at once if it loosens nothing, else as a pending change.
func (r *PolicyReview) Propose(ctx context.Context, p *errorbudget.Policy, origin string, author budgetgate.Actor) (out PolicyOutcome, err error) {
	err = r.Store.UpdatePolicies(ctx, func(tx PolicyTx) error {
		out, err = propose(ctx, tx, p, origin, author)
		return err
	})
	return out, err
}

// Restore proposes an earlier version of service's policy again. It is a
// change like any other: if it loosens the policy in force, it waits.
func (r *PolicyReview) Restore(ctx context.Context, service, version string, author budgetgate.Actor) (out PolicyOutcome, err error) {
	err = r.Store.UpdatePolicies(ctx, func(tx PolicyTx) error {
		p, err := tx.StoredPolicy(ctx, version)
		if err != nil {
			return err
		}
		if p == nil || p.Service != service {
			return budgetgate.FieldErrorf("version", "%s has no stored policy version %s", service, version)
		}
		out, err = propose(ctx, tx, p, "restore of "+version, author)
		return err
	})
	return out, err
}

func propose(ctx context.Context, tx PolicyTx, p *errorbudget.Policy, origin string, author budgetgate.Actor) (PolicyOutcome, error) {
	out := PolicyOutcome{Policy: p}
	base, baseSource, err := tx.PolicyInForce(ctx, p.Service)
	if err != nil {
		return out, err
	}
	if base == p.Version {
		out.Active = true
		return out, nil
	}
	pending, err := tx.PendingPolicyChange(ctx, p.Service)
	if err != nil {
		return out, err
	}
	if pending != nil && pending.Version == p.Version && pending.BaseVersion == base {
		// The same change sent again (a retried PUT): it keeps waiting as it was.
		out.Change = pending
		return out, nil
	}
	loosens := loosenings(base, baseSource, p)
	out.Changed = true
	if len(loosens) == 0 {
		if _, err := tx.ActivatePolicy(ctx, p, origin, author); err != nil {
			return out, err
		}
		out.Active = true
		return out, nil
	}
	c := &PolicyChange{Service: p.Service, Version: p.Version, BaseVersion: base, Origin: origin, Loosens: loosens,
		Author: author, CreatedAt: tx.Now(), Status: PolicyChangePending, Source: p.Source, BaseSource: baseSource}
	if err := tx.InsertPolicyChange(ctx, c, p); err != nil {
		return out, err
	}
	out.Change = c
	detail := fmt.Sprintf("change %d: policy %s waits for review (in force: %s); loosens: %s", c.ID, p.Version, base, strings.Join(loosens, "; "))
	return out, tx.Audit(ctx, author, "policy.propose", p.Service, detail)
}

// loosenings compares p with the policy in force. A policy in force that
// no longer parses cannot be compared, so the change waits for review:
// fail closed.
func loosenings(base string, baseSource []byte, p *errorbudget.Policy) []string {
	if base == "" {
		return nil
	}
	prev, err := errorbudget.ParsePolicy(p.Service+".yaml", baseSource)
	if err != nil {
		return []string{"the policy in force no longer parses, so what this change loosens is unknown"}
	}
	return errorbudget.Loosenings(prev, p)
}

// PolicyDecision is a reviewer's approve or reject.
type PolicyDecision struct {
	ChangeID int64
	Approve  bool
	Comment  string // required to reject
}

// Decide approves or rejects change d.ChangeID as decider, who must hold
// the sre or ccb role and must not be its author. An approved change takes
// effect at once, provided the version it was written against still
// governs; otherwise it is superseded and must be made again.
func (r *PolicyReview) Decide(ctx context.Context, d PolicyDecision, decider budgetgate.User) (c *PolicyChange, err error) {
	d.Comment = strings.TrimSpace(d.Comment)
	if !d.Approve && d.Comment == "" {
		return nil, budgetgate.FieldErrorf("comment", "say why the change is rejected")
	}
	if len(d.Comment) > MaxPolicyComment {
		return nil, budgetgate.FieldErrorf("comment", "at most %d characters", MaxPolicyComment)
	}
	err = r.Store.UpdatePolicies(ctx, func(tx PolicyTx) error {
		c, err = decide(ctx, tx, d, decider)
		return err
	})
	return c, err
}

// MayReview says whether u may approve or reject c, and if not, why not.
func MayReview(c *PolicyChange, u budgetgate.User) error {
	if !u.Has(budgetgate.RoleSRE) && !u.Has(budgetgate.RoleCCB) {
		return budgetgate.Errorf(budgetgate.EFORBIDDEN, "only the sre and ccb roles review policy changes")
	}
	if c.Author.Issuer == u.Issuer && c.Author.Subject == u.Subject {
		return budgetgate.Errorf(budgetgate.EFORBIDDEN, "you made policy change %d: another person with the sre or ccb role reviews it", c.ID)
	}
	return nil
}

func decide(ctx context.Context, tx PolicyTx, d PolicyDecision, decider budgetgate.User) (*PolicyChange, error) {
	c, err := tx.PolicyChange(ctx, d.ChangeID)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "no policy change %d", d.ChangeID)
	}
	if c.Status != PolicyChangePending {
		return nil, budgetgate.Errorf(budgetgate.ECONFLICT, "policy change %d is already %s", c.ID, c.Status)
	}
	if err := MayReview(c, decider); err != nil {
		return nil, err
	}
	c.DecidedBy, c.DecidedAt, c.Comment = decider.Actor(), tx.Now(), d.Comment
	subject := fmt.Sprintf("change %d: policy %s", c.ID, c.Version)
	if !d.Approve {
		c.Status = PolicyChangeRejected
		if err := tx.DecidePolicyChange(ctx, c); err != nil {
			return nil, err
		}
		return c, tx.Audit(ctx, c.DecidedBy, "policy.reject", c.Service, subject+" rejected: "+c.Comment)
	}
	base, _, err := tx.PolicyInForce(ctx, c.Service)
	if err != nil {
		return nil, err
	}
	if base != c.BaseVersion {
		// Activations supersede pending changes, so this is a safeguard only.
		return nil, budgetgate.Errorf(budgetgate.ECONFLICT, "the policy of %s changed since change %d was made; make the change again", c.Service, c.ID)
	}
	p, err := tx.StoredPolicy(ctx, c.Version)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, budgetgate.Errorf(budgetgate.EINTERNAL, "policy change %d: version %s is not stored", c.ID, c.Version)
	}
	c.Status = PolicyChangeApproved
	if err := tx.DecidePolicyChange(ctx, c); err != nil {
		return nil, err
	}
	detail := subject + " by " + c.Author.Name + " approved"
	if c.Comment != "" {
		detail += ": " + c.Comment
	}
	if err := tx.Audit(ctx, c.DecidedBy, "policy.approve", c.Service, detail); err != nil {
		return nil, err
	}
	_, err = tx.ActivatePolicy(ctx, p, c.Origin, c.DecidedBy)
	return c, err
}
