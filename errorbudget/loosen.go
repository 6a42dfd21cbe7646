package errorbudget

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Loosenings lists, one line each, the ways in which next lets through a
// release that prev would hold (see docs/POLICY.md, Changes under review).
// An empty list means next is as strict as prev or stricter everywhere, so
// it may take effect at once; anything listed waits for a second person.
// A first policy for a service loosens nothing: before it the service had
// no gate at all, and releases of unknown services are refused.
func Loosenings(prev, next *Policy) []string {
	if prev == nil || next == nil {
		return nil
	}
	out := sloLoosenings(prev.SLOs, next.SLOs)
	if prev.OnNoData != OnNoDataAllow && next.OnNoData == OnNoDataAllow {
		out = append(out, "on_no_data changed to allow: releases pass without SLI data")
	}
	for _, s := range severityOrder {
		out = append(out, gateLoosenings(s, prev.Gates[s], next.Gates[s])...)
	}
	for _, t := range sortedKeys(next.Exceptions) {
		if _, ok := prev.Exceptions[t]; !ok {
			out = append(out, fmt.Sprintf("new exception: %s releases always allowed", t))
		}
	}
	return out
}

// sloLoosenings compares SLOs by name: one removed no longer holds releases
// back, and a lower objective allows more bad events. The one SLO of a
// policy written with slo_target is named as "objective" alone.
func sloLoosenings(prev, next []SLO) []string {
	var out []string
	for _, p := range prev {
		i := slices.IndexFunc(next, func(n SLO) bool { return n.Name == p.Name })
		if i < 0 {
			out = append(out, fmt.Sprintf("SLO %s removed", p.Name))
			continue
		}
		if n := next[i]; n.Objective < p.Objective {
			what := "objective"
			if p.Name != DefaultSLO {
				what = "SLO " + p.Name + ": objective"
			}
			out = append(out, fmt.Sprintf("%s lowered from %s%% to %s%%", what, pyFloatRepr(p.Objective), pyFloatRepr(n.Objective)))
		}
		if why := sliLoosening(p.SLI, next[i].SLI); why != "" {
			out = append(out, fmt.Sprintf("SLO %s: %s", p.Name, why))
		}
	}
	return out
}

// sliLoosening says how next's source of a pulled SLO's counts could let
// through what prev's held: without it the counts are posted by anyone
// with an ingest token, other queries may count fewer bad events, and a
// longer max_staleness keeps the gate open longer after the source falls
// silent. A posted SLO that becomes pulled loosens nothing by itself.
func sliLoosening(prev, next *SLISource) string {
	if prev == nil || prev.Prometheus == nil {
		return ""
	}
	p := prev.Prometheus
	if next == nil || next.Prometheus == nil {
		return "SLI no longer pulled from Prometheus (its counts could then be posted)"
	}
	n := next.Prometheus
	if n.URL != p.URL || n.Good != p.Good || n.Bad != p.Bad || n.Total != p.Total {
		return "SLI queries or source changed"
	}
	if n.MaxStaleness != p.MaxStaleness && (p.MaxStaleness == 0 || n.MaxStaleness == 0 || n.MaxStaleness > p.MaxStaleness) {
		return fmt.Sprintf("max_staleness changed from %s to %s", orServerDefault(p.MaxStalenessText), orServerDefault(n.MaxStalenessText))
	}
	return ""
}

func orServerDefault(s string) string {
	if s == "" {
		return "the server's default"
	}
	return s
}

// gateLoosenings compares what one state's gate lets through and how easily
// the state is reached. A state other than healthy that is harder to reach
// leaves services longer in a milder state, whose gate allows more.
func gateLoosenings(s Status, prev, next *Gate) []string {
	if prev == nil || next == nil {
		return nil
	}
	var out []string
	if next.MinBudgetPct.Value < prev.MinBudgetPct.Value {
		out = append(out, fmt.Sprintf("%s: min_budget_pct lowered from %s to %s", s, prev.MinBudgetPct, next.MinBudgetPct))
	}
	if next.MaxBurnRate.Value > prev.MaxBurnRate.Value {
		out = append(out, fmt.Sprintf("%s: max_burn_rate raised from %s to %s", s, prev.MaxBurnRate, next.MaxBurnRate))
	}
	if added := addedTo(prev.AllowedRiskLevels, next.AllowedRiskLevels); len(added) > 0 {
		out = append(out, fmt.Sprintf("%s: allowed_risk_levels adds %s", s, strings.Join(added, ", ")))
	}
	if added := addedTo(prev.AllowedReleaseTypes, next.AllowedReleaseTypes); len(added) > 0 {
		out = append(out, fmt.Sprintf("%s: allowed_release_types adds %s", s, strings.Join(added, ", ")))
	}
	if s == StatusHealthy {
		return out
	}
	if !entryCovers(next.EnterRemaining, prev.EnterRemaining) {
		out = append(out, fmt.Sprintf("%s is harder to reach: %s becomes %s", s,
			entryText(MetricBudgetRemaining, prev.EnterRemaining), entryText(MetricBudgetRemaining, next.EnterRemaining)))
	}
	if !entryCovers(next.EnterBurn, prev.EnterBurn) {
		out = append(out, fmt.Sprintf("%s is harder to reach: %s becomes %s", s,
			entryText(MetricBurnRate, prev.EnterBurn), entryText(MetricBurnRate, next.EnterBurn)))
	}
	return out
}

// entryCovers reports whether every figure that meets prev also meets next:
// both are one-sided bounds of the same direction (an entry bound on
// budget_remaining is an upper one, on burn_rate a lower one), and nil
// matches nothing.
func entryCovers(next, prev *Threshold) bool {
	switch {
	case prev == nil:
		return true
	case next == nil:
		return false
	case next.Value != prev.Value:
		if prev.upper() {
			return next.Value > prev.Value
		}
		return next.Value < prev.Value
	}
	// Same value: only a strict bound turning inclusive-to-strict loses the value itself.
	strict := func(t *Threshold) bool { return t.Op == "<" || t.Op == ">" }
	return !strict(next) || strict(prev)
}

func entryText(metric string, t *Threshold) string {
	if t == nil {
		return "no " + metric + " bound"
	}
	return metric + " " + t.Op + " " + formatBound(metric, t.Value)
}

// addedTo lists what next holds and prev does not, in next's order.
func addedTo(prev, next []string) []string {
	var out []string
	for _, x := range next {
		if !slices.Contains(prev, x) {
			out = append(out, x)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
