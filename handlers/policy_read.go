package handlers

import (
	"context"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/sloimport"
)

// policiesInForce is what reading an uploaded policy needs from storage:
// the policies in force, whose rules govern the SLOs of a Sloth or OpenSLO
// document.
type policiesInForce interface {
	Policies(ctx context.Context) (map[string]*errorbudget.Policy, error)
}

// readPolicy reads an uploaded policy of any form (budgetgate's own, Sloth
// or OpenSLO; see docs/POLICY.md) as the one service's policy it must
// define: the SLOs of a document under the rules of that service's policy
// in force, else the default policy's. service, when not "", is the one
// the request names.
func readPolicy(ctx context.Context, store policiesInForce, file, service string, data []byte) (*errorbudget.Policy, error) {
	var inForce map[string]*errorbudget.Policy
	_, ps, err := sloimport.Read(file, data, func(s string) (*errorbudget.Policy, error) {
		if inForce == nil {
			var err error
			if inForce, err = store.Policies(ctx); err != nil {
				return nil, err
			}
		}
		return inForce[s], nil
	})
	if err != nil {
		return nil, err
	}
	if len(ps) > 1 {
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Service
		}
		return nil, budgetgate.FieldErrorf("service", "the file defines SLOs of several services (%s): upload one service's at a time, or put the file in the policy directory", strings.Join(names, ", "))
	}
	if service != "" && ps[0].Service != service {
		return nil, budgetgate.FieldErrorf("service", "the file names %q, the URL %q", ps[0].Service, service)
	}
	return ps[0], nil
}
