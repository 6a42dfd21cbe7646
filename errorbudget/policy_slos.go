package errorbudget

import (
	"fmt"
	"net/url"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/policyfile"
	"gopkg.in/yaml.v3"
)

// MaxSLOs bounds how many SLOs one service may have.
const MaxSLOs = 50

var (
	sloKeys        = []string{"name", "objective", "window", "description", "sli"}
	sliKeys        = []string{"prometheus"}
	prometheusKeys = []string{"url", "good", "bad", "total", "max_staleness"}
)

// slos reads the service's SLOs: the slos list, or the one SLO that
// slo_target and window (or their defaults) describe.
func (ps *policyParser) slos(root *yaml.Node, top map[string]policyfile.Entry) ([]SLO, error) {
	list, ok := top["slos"]
	if !ok {
		s, err := ps.singleSLO(top)
		return []SLO{s}, err
	}
	for _, k := range []string{"slo_target", "window"} {
		if e, ok := top[k]; ok {
			return nil, ps.Errorf(e.Key, "%s cannot be given with slos (line %d): give each SLO its own objective and window", k, list.Key.Line)
		}
	}
	if err := ps.NoAlias(list.Value); err != nil {
		return nil, err
	}
	if list.Value.Kind != yaml.SequenceNode {
		return nil, ps.Errorf(list.Value, "slos must be a list of SLOs, not %s", policyfile.Describe(list.Value))
	}
	n := len(list.Value.Content)
	if n == 0 {
		return nil, ps.Errorf(list.Value, "slos must list at least one SLO")
	}
	if n > MaxSLOs {
		return nil, ps.Errorf(list.Value, "slos lists %d SLOs; at most %d", n, MaxSLOs)
	}
	out := make([]SLO, 0, n)
	seen := map[string]int{}
	for i, item := range list.Value.Content {
		s, err := ps.slo(item, fmt.Sprintf("slos[%d]", i))
		if err != nil {
			return nil, err
		}
		if first, dup := seen[s.Name]; dup {
			return nil, ps.Errorf(item, "slos[%d].name %q is already the name of slos[%d]", i, s.Name, first)
		}
		seen[s.Name] = i
		out = append(out, s)
	}
	return out, nil
}

// singleSLO is the SLO of a policy written with slo_target and window at
// the top level.
func (ps *policyParser) singleSLO(top map[string]policyfile.Entry) (SLO, error) {
	s := SLO{Name: DefaultSLO, Objective: DefaultSLOTarget, WindowText: DefaultWindow}
	if e, ok := top["slo_target"]; ok {
		v, err := ps.objective(e.Value, "slo_target")
		if err != nil {
			return s, err
		}
		s.Objective = v
	}
	var w *yaml.Node
	if e, ok := top["window"]; ok {
		w = e.Value
	}
	err := ps.window(w, "window", &s)
	return s, err
}

// slo reads one entry of slos.
func (ps *policyParser) slo(n *yaml.Node, where string) (SLO, error) {
	var s SLO
	es, err := ps.mapping(n, where, sloKeys)
	if err != nil {
		return s, err
	}
	f := policyfile.ByKey(es)
	ne, ok := f["name"]
	if !ok {
		return s, ps.Errorf(n, "%s.name is required", where)
	}
	if s.Name, err = ps.Text(ne.Value, where+".name"); err != nil {
		return s, err
	}
	if !ValidSLOName(s.Name) {
		return s, ps.Errorf(ne.Value, "%s.name %q must match %s", where, s.Name, serviceName.String())
	}
	oe, ok := f["objective"]
	if !ok {
		return s, ps.Errorf(n, "%s.objective is required (a percentage, as 99.9)", where)
	}
	if s.Objective, err = ps.objective(oe.Value, where+".objective"); err != nil {
		return s, err
	}
	var w *yaml.Node
	if e, ok := f["window"]; ok {
		w = e.Value
	}
	if err := ps.window(w, where+".window", &s); err != nil {
		return s, err
	}
	if e, ok := f["description"]; ok {
		if s.Description, err = ps.Text(e.Value, where+".description"); err != nil {
			return s, err
		}
	}
	if e, ok := f["sli"]; ok {
		if s.SLI, err = ps.sli(e.Value, where+".sli"); err != nil {
			return s, err
		}
	}
	return s, nil
}

// objective reads a target percentage, 0 < x < 100.
func (ps *policyParser) objective(n *yaml.Node, what string) (float64, error) {
	v, err := ps.number(n, what)
	if err != nil {
		return 0, err
	}
	if !(v.Value > 0 && v.Value < 100) {
		return 0, ps.Errorf(n, "%s must be a percentage between 0 and 100 (exclusive), not %s", what, n.Value)
	}
	return v.Value, nil
}

// window reads a rolling window into s; n nil means the default.
func (ps *policyParser) window(n *yaml.Node, what string, s *SLO) error {
	if n == nil {
		s.WindowText = DefaultWindow
		s.Window, _ = ParseWindow(DefaultWindow)
		return nil
	}
	var err error
	if s.WindowText, err = ps.Text(n, what); err != nil {
		return err
	}
	if s.Window, err = ParseWindow(s.WindowText); err != nil {
		return ps.Errorf(n, "%s: %s", what, budgetgate.ErrorMessage(err))
	}
	return nil
}

// sli reads an SLO's sli block.
func (ps *policyParser) sli(n *yaml.Node, where string) (*SLISource, error) {
	es, err := ps.mapping(n, where, sliKeys)
	if err != nil {
		return nil, err
	}
	f := policyfile.ByKey(es)
	pe, ok := f["prometheus"]
	if !ok {
		return nil, ps.Errorf(n, "%s must say where the SLI comes from (prometheus); leave sli out for counts posted to the API", where)
	}
	q, err := ps.prometheus(pe.Value, where+".prometheus")
	if err != nil {
		return nil, err
	}
	return &SLISource{Prometheus: q}, nil
}

// prometheus reads sli.prometheus: good or bad, and total, each a PromQL
// query; an optional source URL and staleness bound.
func (ps *policyParser) prometheus(n *yaml.Node, where string) (*PromQueries, error) {
	es, err := ps.mapping(n, where, prometheusKeys)
	if err != nil {
		return nil, err
	}
	q := &PromQueries{}
	for _, e := range es {
		k, what := e.Key.Value, where+"."+e.Key.Value
		var v string
		if v, err = ps.Text(e.Value, what); err != nil {
			return nil, err
		}
		switch k {
		case "url":
			u, perr := url.Parse(v)
			if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, ps.Errorf(e.Value, "%s %q must be an http or https URL", what, v)
			}
			q.URL = v
		case "good":
			q.Good = v
		case "bad":
			q.Bad = v
		case "total":
			q.Total = v
		case "max_staleness":
			d, perr := time.ParseDuration(v)
			if perr != nil || d <= 0 {
				return nil, ps.Errorf(e.Value, "%s %q must be a positive duration, as 10m", what, v)
			}
			q.MaxStaleness, q.MaxStalenessText = d, v
		}
		if v == "" && k != "url" && k != "max_staleness" {
			return nil, ps.Errorf(e.Value, "%s must be a PromQL query, not empty", what)
		}
	}
	f := policyfile.ByKey(es)
	switch {
	case q.Good != "" && q.Bad != "":
		return nil, ps.Errorf(f["bad"].Key, "%s: give good or bad, not both", where)
	case q.Good == "" && q.Bad == "":
		return nil, ps.Errorf(n, "%s: good or bad is required (a query for the good or the bad events)", where)
	case q.Total == "":
		return nil, ps.Errorf(n, "%s.total is required (a query for all events)", where)
	}
	return q, nil
}
