package errorbudget

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate"
	"gopkg.in/yaml.v3"
)

// effectiveCriteria writes out the criteria a state has: its entry bounds and
// the lower bounds where the next more severe state begins, in the reference gate's
// style (which leaves out critical's "> 0%", since exhausted comes first).
func effectiveCriteria(p *Policy, s Status) ([]Criterion, error) {
	i := slices.Index(severityOrder, s)
	g := p.Gates[s]
	var texts []string
	var rem []string
	if i+1 < len(severityOrder) && severityOrder[i+1] != StatusExhausted {
		lo := complementOf(*p.Gates[severityOrder[i+1]].EnterRemaining)
		rem = append(rem, lo.Op+" "+formatBound(MetricBudgetRemaining, lo.Value))
	}
	if g.EnterRemaining != nil {
		rem = append(rem, g.EnterRemaining.Op+" "+formatBound(MetricBudgetRemaining, g.EnterRemaining.Value))
	}
	if len(rem) > 0 {
		texts = append(texts, MetricBudgetRemaining+" "+strings.Join(rem, " AND "))
	}
	var burn []string
	if g.EnterBurn != nil {
		burn = append(burn, g.EnterBurn.Op+" "+formatBound(MetricBurnRate, g.EnterBurn.Value))
	}
	for _, m := range severityOrder[i+1:] {
		if e := p.Gates[m].EnterBurn; e != nil {
			hi := complementOf(*e)
			burn = append(burn, hi.Op+" "+formatBound(MetricBurnRate, hi.Value))
			break
		}
	}
	if len(burn) > 0 {
		texts = append(texts, MetricBurnRate+" "+strings.Join(burn, " AND "))
	}
	out := make([]Criterion, 0, len(texts))
	for _, text := range texts {
		c, err := ParseCriterion(text)
		if err != nil {
			return nil, fmt.Errorf("budgetgate: effective criterion %q does not parse: %w", text, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// complementOf is the bound that starts where t ends: ">= v" for "< v",
// "<= v" for "> v", and so on.
func complementOf(t Threshold) Threshold {
	op := map[string]string{"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[t.Op]
	return Threshold{Op: op, Value: t.Value}
}

// bound is one side of a criterion, with the node it came from (nil for a
// default) so that consistency errors can point at it.
type bound struct {
	t    Threshold
	text string
	node *yaml.Node
}

func (b *bound) describe(s Status) string {
	if b.node == nil {
		return fmt.Sprintf("%s's %s (default)", s, b.text)
	}
	return fmt.Sprintf("%s's %s", s, b.text)
}

// stateBounds are the bounds a state's criteria set on each metric.
type stateBounds struct {
	remUpper, remLower, burnUpper, burnLower *bound
}

func (sb *stateBounds) add(ps *policyParser, s Status, c Criterion, n *yaml.Node) error {
	for _, t := range c.Bounds {
		var slot **bound
		switch {
		case c.Metric == MetricBudgetRemaining && t.upper():
			slot = &sb.remUpper
		case c.Metric == MetricBudgetRemaining:
			slot = &sb.remLower
		case t.upper():
			slot = &sb.burnUpper
		default:
			slot = &sb.burnLower
		}
		text := c.Metric + " " + t.Op + " " + formatBound(c.Metric, t.Value)
		if *slot != nil {
			return ps.Errorf(n, "gates.%s: %s repeats the bound %s", s, text, (*slot).text)
		}
		*slot = &bound{t: t, text: text, node: n}
	}
	lo, hi := sb.remLower, sb.remUpper
	if c.Metric == MetricBurnRate {
		lo, hi = sb.burnLower, sb.burnUpper
	}
	if lo != nil && hi != nil && !intervalNonEmpty(lo.t, hi.t) {
		return ps.Errorf(n, "gates.%s: %s AND %s matches nothing", s, lo.text, hi.text)
	}
	return nil
}

func intervalNonEmpty(lo, hi Threshold) bool {
	return lo.Value < hi.Value || lo.Value == hi.Value && lo.Op == ">=" && hi.Op == "<="
}

// complements reports whether the lower bound lo starts exactly where the
// upper bound hi ends (">= 25" after "< 25", "> 0" after "<= 0").
func complements(lo, hi Threshold) bool {
	return lo.Value == hi.Value && (lo.Op == ">=" && hi.Op == "<" || lo.Op == ">" && hi.Op == "<=")
}

// strictlyWithinUpper reports whether {x a.Op a.Value} is a proper part of
// {x b.Op b.Value} for two upper bounds: b's state then keeps some values of
// its own.
func strictlyWithinUpper(a, b Threshold) bool {
	return a.Value < b.Value || a.Value == b.Value && a.Op == "<" && b.Op == "<="
}

// strictlyWithinLower is strictlyWithinUpper for lower bounds.
func strictlyWithinLower(a, b Threshold) bool {
	return a.Value > b.Value || a.Value == b.Value && a.Op == ">" && b.Op == ">="
}

// thresholds sets each gate's entry bounds (see docs/BUDGET_MATH.md, Status) from the file's criteria
// and the defaults, then checks that the states nest: each more severe
// state's region lies strictly inside the less severe one's, and each
// state's lower bound on budget_remaining (upper bound on burn_rate) starts
// exactly where the next more severe state begins, so that no value falls
// between states.
func (ps *policyParser) thresholds(p *Policy, defaults map[Status]*stateBounds) error {
	rem := map[Status]*bound{}
	burn := map[Status]*bound{}
	for _, s := range severityOrder {
		given := ps.bounds[s]
		if s == StatusHealthy {
			// Healthy is what no other state claims: it has no entry bound.
			if given.remUpper != nil {
				return ps.Errorf(given.remUpper.node, "gates.healthy: %s cannot apply: healthy is what no other state claims, so it has no upper bound on budget_remaining", given.remUpper.text)
			}
			if given.burnLower != nil {
				return ps.Errorf(given.burnLower.node, "gates.healthy: %s cannot apply: healthy is what no other state claims, so it has no lower bound on burn_rate", given.burnLower.text)
			}
			continue
		}
		rem[s] = firstBound(given.remUpper, defaults[s].remUpper)
		burn[s] = firstBound(given.burnLower, defaults[s].burnLower)
		g := p.Gates[s]
		r := rem[s].t
		g.EnterRemaining = &r
		if burn[s] != nil {
			t := burn[s].t
			g.EnterBurn = &t
		}
	}

	// Nesting: walk from least to most severe.
	var prevRem, prevBurn *bound
	var prevRemS, prevBurnS Status
	for _, s := range severityOrder[1:] {
		if r := rem[s]; r != nil {
			if prevRem != nil && !strictlyWithinUpper(r.t, prevRem.t) {
				return ps.Errorf(nodeOr(r.node, prevRem.node, ps.gates, ps.root),
					"budget_remaining thresholds must fall with severity: %s is not below %s", r.describe(s), prevRem.describe(prevRemS))
			}
			prevRem, prevRemS = r, s
		}
		if b := burn[s]; b != nil {
			if prevBurn != nil && !strictlyWithinLower(b.t, prevBurn.t) {
				return ps.Errorf(nodeOr(b.node, prevBurn.node, ps.gates, ps.root),
					"burn_rate thresholds must rise with severity: %s is not above %s", b.describe(s), prevBurn.describe(prevBurnS))
			}
			prevBurn, prevBurnS = b, s
		}
	}

	// Lower bounds on remaining (upper bounds on burn) must meet the next
	// more severe state, or some values would belong to no state.
	for i, s := range severityOrder {
		given := ps.bounds[s]
		if lo := given.remLower; lo != nil {
			if i+1 == len(severityOrder) {
				return ps.Errorf(lo.node, "gates.%s: %s leaves lower values to no state; nothing is more severe than %s", s, lo.text, s)
			}
			next := severityOrder[i+1]
			if !complements(lo.t, rem[next].t) {
				return ps.Errorf(lo.node, "gates.%s: %s does not meet %s", s, lo.text, rem[next].describe(next))
			}
		}
		if hi := given.burnUpper; hi != nil {
			var next *bound
			var nextS Status
			for _, m := range severityOrder[i+1:] {
				if burn[m] != nil {
					next, nextS = burn[m], m
					break
				}
			}
			if next == nil {
				return ps.Errorf(hi.node, "gates.%s: %s leaves higher burn rates to no state; no more severe state has a burn_rate bound", s, hi.text)
			}
			if !complements(next.t, hi.t) {
				return ps.Errorf(hi.node, "gates.%s: %s does not meet %s", s, hi.text, next.describe(nextS))
			}
		}
	}
	return nil
}

func firstBound(bs ...*bound) *bound {
	for _, b := range bs {
		if b != nil {
			return b
		}
	}
	return nil
}

func nodeOr(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

// Metrics a criterion may name.
const (
	MetricBudgetRemaining = "budget_remaining"
	MetricBurnRate        = "burn_rate"
)

var criterionRe = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|=|<|>)\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(%|[xX])?` +
	`(?:\s*(?:AND|and|And|&&)\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*)?(<=|>=|==|=|<|>)\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(%|[xX])?)?\s*$`)

// ParseCriterion parses a gate criterion such as "budget_remaining >= 25% AND
// < 50%" or "burn_rate >= 2.0x": a metric, a bound and optionally a second
// bound on the same metric. The unit (% or x) may be left out.
func ParseCriterion(s string) (Criterion, error) {
	m := criterionRe.FindStringSubmatch(s)
	if m == nil {
		return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "cannot parse criterion %q: want a metric, an operator and a number, optionally AND a second bound, as in %q",
			s, "budget_remaining >= 25% AND < 50%")
	}
	metric := m[1]
	unit := map[string]string{MetricBudgetRemaining: "%", MetricBurnRate: "x"}[metric]
	if unit == "" {
		return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "criterion %q: unknown metric %q (want %s or %s)", s, metric, MetricBudgetRemaining, MetricBurnRate)
	}
	c := Criterion{Metric: metric}
	parts := []string{metric}
	for i := 0; i < 2; i++ {
		name, op, num, u := m[1], m[2], m[3], m[4]
		if i == 1 {
			name, op, num, u = m[5], m[6], m[7], m[8]
			if op == "" {
				break
			}
			if name != "" && name != metric {
				return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "criterion %q: both bounds must be on %s, not %s", s, metric, name)
			}
			parts = append(parts, "AND")
		}
		if op == "==" || op == "=" {
			return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "criterion %q: %s is not a threshold; use <, <=, > or >=", s, op)
		}
		if u != "" && strings.ToLower(u) != unit {
			return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "criterion %q: %s is measured in %s, not %s", s, metric, unit, u)
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "criterion %q: bad number %q", s, num)
		}
		if metric == MetricBurnRate && v < 0 {
			return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "criterion %q: a burn rate is never negative", s)
		}
		c.Bounds = append(c.Bounds, Threshold{Op: op, Value: v})
		parts = append(parts, op, strings.TrimPrefix(num, "+")+unit)
	}
	if len(c.Bounds) == 2 {
		lo, hi := c.Bounds[0], c.Bounds[1]
		if lo.upper() {
			lo, hi = hi, lo
		}
		if lo.upper() || !hi.upper() {
			return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "criterion %q: two bounds must be one lower (>, >=) and one upper (<, <=)", s)
		}
		if !intervalNonEmpty(lo, hi) {
			return Criterion{}, budgetgate.Errorf(budgetgate.EINVALID, "criterion %q matches nothing", s)
		}
	}
	c.Text = strings.Join(parts, " ")
	return c, nil
}

// formatBound writes a threshold value as the reference gate does: percentages plainly
// (50%), burn rates with a decimal point (2.0x). It never uses an exponent,
// which the criterion grammar does not accept.
func formatBound(metric string, v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if metric == MetricBurnRate {
		if !strings.ContainsRune(s, '.') {
			s += ".0"
		}
		return s + "x"
	}
	return s + "%"
}
