package demo

import (
	"context"
	"fmt"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/db"
)

// demoRequester asks for the demo's exceptions. The issuer is not the
// development provider's, so the demo board members may all vote on them.
var demoRequester = budgetgate.Actor{Issuer: "demo", Subject: "release-train", Name: "release-train"}

var demoReasons = []string{
	"Fixes the checkout timeout that is burning the budget; holding it back makes the burn worse.",
	"Security patch for a dependency advisory; the release only bumps the library and has a tested rollback.",
}

// SeedCCB opens CCB requests for a couple of the demo's denied releases, on
// a database that has none yet, so that the board's queue has something to
// review.
func SeedCCB(ctx context.Context, d *db.DB, n app.CCBNotify) error {
	existing, err := d.Exceptions(ctx, app.ExceptionFilter{Limit: 1})
	if err != nil || len(existing) > 0 {
		return err
	}
	decisions, err := d.Decisions(ctx, "", 200)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, dec := range decisions {
		if dec.Approved || seen[dec.Release.Service] || len(seen) == len(demoReasons) {
			continue
		}
		req := ccb.ExceptionRequest{Kind: ccb.ExceptionRelease,
			Subject: ccb.ExceptionSubject{DecisionID: dec.ID}, Reason: demoReasons[len(seen)]}
		if _, _, err := (&app.Board{Store: d, Rules: ccb.DefaultCCBRules(), Notify: n}).Open(ctx, req, demoRequester); err != nil {
			return fmt.Errorf("demo CCB request for decision %d: %w", dec.ID, err)
		}
		seen[dec.Release.Service] = true
	}
	return nil
}
