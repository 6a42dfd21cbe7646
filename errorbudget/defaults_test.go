package errorbudget

import (
	"time"

	"github.com/budgetgate/budgetgate/policyfile"
)

// DefaultPolicy is the policy a file naming only its service parses to:
// 99.9% over 30 days with the reference gate's Python defaults, built
// without YAML so that tests can compare the two. It is also what the
// differential test runs against the reference gate's Python gate.
func DefaultPolicy(service string) *Policy {
	p := &Policy{
		Service:        service,
		SLOs:           []SLO{{Name: DefaultSLO, Objective: DefaultSLOTarget, WindowText: DefaultWindow}},
		BurnWindowText: DefaultBurnRateWindow,
		BurnRateWindow: time.Hour,
		OnNoData:       OnNoDataDeny,
		Gates:          map[Status]*Gate{},
		Exceptions:     map[string]ExceptionRule{},
	}
	p.SLOs[0].Window, _ = ParseWindow(DefaultWindow)
	for _, s := range GateStatuses {
		p.Gates[s] = &Gate{}
	}
	ps := &policyParser{Reader: policyfile.Reader{File: "default"}}
	if err := ps.finishGates(p, nil); err != nil {
		panic("budgetgate: default gates are inconsistent: " + err.Error())
	}
	for _, t := range defaultExceptions {
		p.Exceptions[t] = ExceptionRule{Type: t, Override: OverrideAlwaysAllow}
	}
	p.Version = versionOf(p.Canonical())
	return p
}
