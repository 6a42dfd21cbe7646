package app

import (
	"context"
	"fmt"
	"maps"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// EscalationStore is what checking escalations needs from the store.
type EscalationStore interface {
	// EscalationState is read outside any write, so that the common case
	// (nothing crossed) costs no write transaction.
	EscalationState(ctx context.Context, service, slo string) (errorbudget.EscalationState, error)
	Update(ctx context.Context, fn func(tx Tx) error) error
}

// Escalations fires a policy's escalations; see docs/BUDGET_MATH.md,
// Escalations and reviews.
type Escalations struct {
	Store EscalationStore
	Hooks Webhooks
}

// Check fires, for each SLO of the service, each escalation of the policy
// whose threshold the SLO's remaining budget has fallen below, once per
// crossing, and re-arms those the budget is back above: every SLO has its
// own state. It writes only when something changes and returns how many
// notifications it queued.
func (s *Escalations) Check(ctx context.Context, p *errorbudget.Policy, sm errorbudget.ServiceMetrics) (int, error) {
	queued := 0
	for _, m := range sm.SLOs {
		n, err := s.checkSLO(ctx, p, m)
		queued += n
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

func (s *Escalations) checkSLO(ctx context.Context, p *errorbudget.Policy, m errorbudget.Metrics) (int, error) {
	if m.Status == errorbudget.StatusNoData || m.Status == errorbudget.StatusUnknown || len(p.Escalations) == 0 {
		return 0, nil
	}
	state, err := s.Store.EscalationState(ctx, p.Service, m.SLO)
	if err != nil {
		return 0, err
	}
	if fire, next := p.Escalate(state, m.RemainingPct); len(fire) == 0 && maps.Equal(state, next) {
		return 0, nil
	}
	queued := 0
	err = s.Store.Update(ctx, func(tx Tx) error {
		// Read again under the write lock: another checker may have fired meanwhile.
		state, err := tx.EscalationState(ctx, p.Service, m.SLO)
		if err != nil {
			return err
		}
		fire, next := p.Escalate(state, m.RemainingPct)
		for _, e := range fire {
			n, err := s.fire(ctx, tx, p, m, e)
			if err != nil {
				return err
			}
			queued += n
		}
		return tx.SetEscalations(ctx, p, m.SLO, next, m.RemainingPct)
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}

// fire queues escalation e's message to each of its roles and audits it.
func (s *Escalations) fire(ctx context.Context, tx Tx, p *errorbudget.Policy, m errorbudget.Metrics, e errorbudget.Escalation) (int, error) {
	subject := p.Subject(m.SLO)
	msg := e.Message(subject, m)
	for _, role := range e.Notify {
		if err := tx.EnqueueEscalation(ctx, p.Service, m.SLO, role, msg, s.Hooks[role]); err != nil {
			return 0, fmt.Errorf("notify %s of escalation %s of %s: %w", role, e.Name, subject, err)
		}
	}
	return len(e.Notify), tx.Audit(ctx, budgetgate.SystemActor, "escalation.fire", p.Service, msg)
}
