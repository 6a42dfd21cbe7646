package sloimport

import (
	"github.com/budgetgate/budgetgate/policyfile"
	"gopkg.in/yaml.v3"
)

const slothVersion = "prometheus/v1"

// The keys of a Sloth document. labels and alerting are read by the tools
// that write Prometheus rules from the document; they do not change the
// SLO's figures, and budgetgate escalates by its own policy.
var (
	slothTopKeys    = []string{"version", "service", "labels", "slos", "slo_plugins"}
	slothSLOKeys    = []string{"name", "objective", "description", "labels", "sli", "alerting", "plugins"}
	slothSLIKeys    = []string{"events", "raw", "plugin"}
	slothEventsKeys = []string{"error_query", "total_query"}
)

// slothDocument reads one Sloth prometheus/v1 document: a service and its
// SLOs, each over Sloth's window of 30 days.
func slothDocument(r policyfile.Reader, doc *yaml.Node) ([]SLO, error) {
	es, err := r.Mapping(doc, "", slothTopKeys)
	if err != nil {
		return nil, err
	}
	top := policyfile.ByKey(es)
	if e, ok := top["slo_plugins"]; ok {
		return nil, unsupported(r, e.Key, "slo_plugins", "Sloth's plugins rewrite SLOs with code budgetgate does not run")
	}
	e, err := required(r, top, doc, "service", "service")
	if err != nil {
		return nil, err
	}
	service, err := name(r, e.Value, "service")
	if err != nil {
		return nil, err
	}
	e, err = required(r, top, doc, "slos", "slos")
	if err != nil {
		return nil, err
	}
	items, err := r.List(e.Value, "slos")
	if err != nil {
		return nil, err
	}
	out := make([]SLO, 0, len(items))
	for i, item := range items {
		s, err := slothSLO(r, item, index("slos", i))
		if err != nil {
			return nil, err
		}
		s.Service = service
		out = append(out, s)
	}
	return out, nil
}

func slothSLO(r policyfile.Reader, n *yaml.Node, where string) (SLO, error) {
	s := SLO{Format: Sloth, Window: DefaultWindow}
	es, err := r.Mapping(n, where, slothSLOKeys)
	if err != nil {
		return s, err
	}
	m := policyfile.ByKey(es)
	if e, ok := m["plugins"]; ok {
		return s, unsupported(r, e.Key, join(where, "plugins"), "Sloth's plugins rewrite SLOs with code budgetgate does not run")
	}
	e, err := required(r, m, n, "name", join(where, "name"))
	if err != nil {
		return s, err
	}
	if s.Name, err = name(r, e.Value, join(where, "name")); err != nil {
		return s, err
	}
	s.At = r.At(e.Value)
	if e, ok := m["description"]; ok && !policyfile.IsNull(e.Value) {
		if s.Description, err = r.Text(e.Value, join(where, "description")); err != nil {
			return s, err
		}
	}
	if e, err = required(r, m, n, "objective", join(where, "objective")); err != nil {
		return s, err
	}
	if s.Objective, err = percent(r, e.Value, join(where, "objective")); err != nil {
		return s, err
	}
	if e, err = required(r, m, n, "sli", join(where, "sli")); err != nil {
		return s, err
	}
	s.Bad, s.Total, err = slothSLI(r, e.Value, join(where, "sli"))
	return s, err
}

// slothSLI reads sli.events, the only SLI budgetgate can count: raw SLIs
// are error ratios without the events they came from, and plugin SLIs are
// code.
func slothSLI(r policyfile.Reader, n *yaml.Node, where string) (bad, total string, err error) {
	es, err := r.Mapping(n, where, slothSLIKeys)
	if err != nil {
		return "", "", err
	}
	m := policyfile.ByKey(es)
	if e, ok := m["raw"]; ok {
		return "", "", unsupported(r, e.Key, join(where, "raw"), "a raw SLI is an error ratio without the events behind it, and budgetgate counts events: use sli.events with error_query and total_query")
	}
	if e, ok := m["plugin"]; ok {
		return "", "", unsupported(r, e.Key, join(where, "plugin"), "a plugin SLI is code that budgetgate does not run: use sli.events with error_query and total_query")
	}
	e, err := required(r, m, n, "events", join(where, "events"))
	if err != nil {
		return "", "", err
	}
	where, events := join(where, "events"), e.Value
	es, err = r.Mapping(events, where, slothEventsKeys)
	if err != nil {
		return "", "", err
	}
	m = policyfile.ByKey(es)
	if e, err = required(r, m, events, "error_query", join(where, "error_query")); err != nil {
		return "", "", err
	}
	if bad, err = query(r, e.Value, join(where, "error_query"), counter{}); err != nil {
		return "", "", err
	}
	if e, err = required(r, m, events, "total_query", join(where, "total_query")); err != nil {
		return "", "", err
	}
	total, err = query(r, e.Value, join(where, "total_query"), counter{})
	return bad, total, err
}
