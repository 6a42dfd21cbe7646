package errorbudget

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"sort"

	"gopkg.in/yaml.v3"
)

// Canonical is the effective policy, defaults included, as a YAML policy file
// that ParsePolicy accepts and that parses to the same Version. Comments, key
// order, layout and the way defaults were reached do not change it; its
// sha256 is the policy's Version. `budgetgate policy check` prints it.
func (p *Policy) Canonical() []byte {
	root := mapNode()
	addPair(root, "service", strNode(p.Service))
	if p.singleForm() {
		addPair(root, "slo_target", floatNode(p.SLOs[0].Objective))
		addPair(root, "window", strNode(p.SLOs[0].WindowText))
	} else {
		addPair(root, "slos", slosNode(p.SLOs))
	}
	if p.Description != "" && p.Description != p.PolicyDescription {
		addPair(root, "description", strNode(p.Description))
	}
	addPair(root, "burn_rate_window", strNode(p.BurnWindowText))
	addPair(root, "on_no_data", strNode(p.OnNoData))

	pol := mapNode()
	if p.PolicyDescription != "" {
		addPair(pol, "description", strNode(p.PolicyDescription))
	}
	if len(p.Objectives) > 0 {
		addPair(pol, "objectives", strsNode(p.Objectives))
	}
	gates := mapNode()
	for _, s := range severityOrder {
		g := p.Gates[s]
		if g == nil {
			continue
		}
		gn := mapNode()
		crit := make([]string, len(g.Criteria))
		for i, c := range g.Criteria {
			crit[i] = c.Text
		}
		addPair(gn, "criteria", strsNode(crit))
		if len(g.AllowedReleases) > 0 {
			addPair(gn, "allowed_releases", strsNode(g.AllowedReleases))
		}
		if g.DeploymentPace != "" {
			addPair(gn, "deployment_pace", strNode(g.DeploymentPace))
		}
		if len(g.AdditionalRequirements) > 0 {
			addPair(gn, "additional_requirements", strsNode(g.AdditionalRequirements))
		}
		if len(g.Actions) > 0 {
			addPair(gn, "actions", strsNode(g.Actions))
		}
		addPair(gn, "min_budget_pct", numberNode(g.MinBudgetPct))
		addPair(gn, "max_burn_rate", numberNode(g.MaxBurnRate))
		addPair(gn, "allowed_risk_levels", strsNode(g.AllowedRiskLevels))
		addPair(gn, "allowed_release_types", strsNode(g.AllowedReleaseTypes))
		addPair(gates, string(s), gn)
	}
	addPair(pol, "gates", gates)

	exc := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	types := make([]string, 0, len(p.Exceptions))
	for t := range p.Exceptions {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		r := p.Exceptions[t]
		en := mapNode()
		addPair(en, "type", strNode(t))
		addPair(en, "override", strNode(cmp.Or(r.Override, OverrideAlwaysAllow)))
		if len(r.Requirements) > 0 {
			addPair(en, "requirements", strsNode(r.Requirements))
		}
		exc.Content = append(exc.Content, en)
	}
	addPair(pol, "exceptions", exc)

	if len(p.Escalations) > 0 {
		escs := mapNode()
		for _, e := range p.Escalations {
			en := mapNode()
			addPair(en, "notify", strsNode(e.Notify))
			if e.Action != "" {
				addPair(en, "action", strNode(e.Action))
			}
			addPair(escs, e.Name, en)
		}
		addPair(pol, "escalation", escs)
	}
	if len(p.Reviews) > 0 {
		rev := mapNode()
		for _, r := range p.Reviews {
			addPair(rev, r.Cadence, strNode(r.Name))
		}
		addPair(pol, "review_cadence", rev)
	}
	addPair(root, "policy", pol)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		// Encoding a tree of plain strings cannot fail; if it ever does, a
		// version that changes is better than one that collides.
		return fmt.Appendf(nil, "# cannot encode policy: %v\n", err)
	}
	enc.Close()
	return buf.Bytes()
}

// slosNode writes the slos list, each SLO with its window and, where it is
// pulled, its sli block.
func slosNode(slos []SLO) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, s := range slos {
		n := mapNode()
		addPair(n, "name", strNode(s.Name))
		addPair(n, "objective", floatNode(s.Objective))
		addPair(n, "window", strNode(s.WindowText))
		if s.Description != "" {
			addPair(n, "description", strNode(s.Description))
		}
		if s.SLI != nil && s.SLI.Prometheus != nil {
			q, pn := s.SLI.Prometheus, mapNode()
			if q.URL != "" {
				addPair(pn, "url", strNode(q.URL))
			}
			if q.Good != "" {
				addPair(pn, "good", strNode(q.Good))
			}
			if q.Bad != "" {
				addPair(pn, "bad", strNode(q.Bad))
			}
			addPair(pn, "total", strNode(q.Total))
			if q.MaxStalenessText != "" {
				addPair(pn, "max_staleness", strNode(q.MaxStalenessText))
			}
			sli := mapNode()
			addPair(sli, "prometheus", pn)
			addPair(n, "sli", sli)
		}
		list.Content = append(list.Content, n)
	}
	return list
}

func mapNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func strsNode(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, s := range ss {
		n.Content = append(n.Content, strNode(s))
	}
	return n
}

func floatNode(f float64) *yaml.Node {
	return numberNode(Number{Value: f})
}

// numberNode writes n so that it reads back with the same value and the same
// int-ness, since both show in the gate's messages.
func numberNode(n Number) *yaml.Node {
	switch {
	case math.IsInf(n.Value, 1):
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".inf"}
	case math.IsInf(n.Value, -1):
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: "-.inf"}
	case n.IsInt:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: n.String()}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: pyFloatRepr(n.Value)}
}

func addPair(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, strNode(key), v)
}
