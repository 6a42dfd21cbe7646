// Package sloimport reads SLOs written as Sloth or OpenSLO documents, so
// that teams can give budgetgate the specs they already keep (see
// docs/POLICY.md, Importing Sloth and OpenSLO documents). It yields SLOs
// only: the rules that govern them (gates, exceptions, escalation) come
// from a budgetgate policy, or are the default policy.
//
// What budgetgate cannot honour is refused with the field named, never
// skipped: an SLO imported without its budgeting method or its window would
// gate releases on figures its authors did not mean.
package sloimport

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/policyfile"
	"gopkg.in/yaml.v3"
)

// Format is the family of a policy document.
type Format string

const (
	// Native is budgetgate's own policy form.
	Native  Format = ""
	Sloth   Format = "sloth"
	OpenSLO Format = "openslo"
)

// SLO is one imported SLO.
type SLO struct {
	Service     string
	Name        string
	Description string
	Objective   float64 // percent, 0 < x < 100
	Window      string  // as budgetgate writes it: "30d", "4w"
	// Good or Bad is set, and Total: PromQL per-second rates over
	// {{.window}}, as Sloth writes them.
	Good, Bad, Total string
	// URL is the Prometheus the queries go to when the document names one
	// (an OpenSLO DataSource); "" is the server's default source.
	URL    string
	Format Format
	At     string // file:line:column of the SLO's name, for messages
}

// DefaultWindow is the window of an SLO whose document gives none: Sloth's,
// which is the only one a Sloth document can have.
const DefaultWindow = "30d"

// Parse reads a policy file. A file in budgetgate's own form gives Native
// and no SLOs (errorbudget.ParsePolicy reads it); a Sloth or OpenSLO file
// gives every SLO of its documents, or an error naming file:line:column
// and the field, and no SLO at all.
func Parse(file string, data []byte) (Format, []SLO, error) {
	docs, err := policyfile.Documents(file, data)
	if err != nil {
		return Native, nil, err
	}
	r := policyfile.Reader{File: file}
	docs = flatten(r, docs)
	formats := make([]Format, len(docs))
	for i, d := range docs {
		if formats[i], err = detect(r, d); err != nil {
			return Native, nil, err
		}
		if formats[0] == Native {
			// A budgetgate policy is one document; ParsePolicy says so.
			return Native, nil, nil
		}
		if formats[i] == Native {
			return Native, nil, r.Errorf(d, "a Sloth or OpenSLO file holds only Sloth and OpenSLO documents: this one has neither version nor apiVersion")
		}
	}
	var slos []SLO
	var open []*yaml.Node
	for i, d := range docs {
		if formats[i] == Sloth {
			got, err := slothDocument(r, d)
			if err != nil {
				return Native, nil, err
			}
			slos = append(slos, got...)
		} else {
			open = append(open, d)
		}
	}
	if len(open) > 0 {
		got, err := openSLODocuments(r, open)
		if err != nil {
			return Native, nil, err
		}
		slos = append(slos, got...)
	}
	if err := unique(slos); err != nil {
		return Native, nil, err
	}
	if len(slos) == 0 {
		return Native, nil, policyfile.ErrorAt(file, docs[0], "the file defines no SLO")
	}
	return formats[0], slos, nil
}

// flatten lists the objects of documents that are lists of OpenSLO or
// Sloth objects (as the OpenSLO tools write several objects in one
// document) beside the documents that are one object. budgetgate's own
// form is never a list, so a list of anything else is left for its parser
// to refuse.
func flatten(r policyfile.Reader, docs []*yaml.Node) []*yaml.Node {
	out := make([]*yaml.Node, 0, len(docs))
	for _, d := range docs {
		if d.Kind == yaml.SequenceNode && len(d.Content) > 0 {
			if f, err := detect(r, d.Content[0]); err != nil || f != Native {
				out = append(out, d.Content...)
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// detect tells a document's family by its version key: budgetgate's own
// form has neither version nor apiVersion.
func detect(r policyfile.Reader, doc *yaml.Node) (Format, error) {
	if doc.Kind != yaml.MappingNode {
		return Native, nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "version":
			if v.Value != slothVersion {
				return Native, r.Errorf(v, "version %q is not supported: a Sloth document is version %q", v.Value, slothVersion)
			}
			return Sloth, nil
		case "apiVersion":
			switch v.Value {
			case openSLOv1, openSLOv1alpha:
				return OpenSLO, nil
			case "sloth.slok.dev/v1":
				return Native, r.Errorf(v, "apiVersion %q (Sloth's Kubernetes resource) is not supported: write the Sloth document as version %q", v.Value, slothVersion)
			}
			return Native, r.Errorf(v, "apiVersion %q is not supported (budgetgate reads %s and %s)", v.Value, openSLOv1, openSLOv1alpha)
		}
	}
	return Native, nil
}

// unique refuses two SLOs of the same name in a service.
func unique(slos []SLO) error {
	seen := map[[2]string]string{}
	for _, s := range slos {
		key := [2]string{s.Service, s.Name}
		if at, dup := seen[key]; dup {
			return budgetgate.FieldErrorf(s.At, "SLO %q of service %q is defined twice (first at %s)", s.Name, s.Service, at)
		}
		seen[key] = s.At
	}
	return nil
}

// windowVarRe is the range placeholder of a query, spaced as Go templates
// allow.
var windowVarRe = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// counter is what a document says of the kind of its metrics: OpenSLO's
// ratioMetric.counter (v1) or ratioMetrics.incremental (v1alpha). Sloth
// has no such mark.
type counter struct {
	key  string     // the mark's path, for messages; "" where the format has none
	node *yaml.Node // the mark's value; nil when the document leaves it out
	on   bool
}

// readCounter reads the mark key of m, if the document gives it.
func readCounter(r policyfile.Reader, m map[string]policyfile.Entry, key string) (counter, error) {
	c := counter{key: key}
	e, ok := m[key[strings.LastIndex(key, ".")+1:]]
	if !ok || policyfile.IsNull(e.Value) {
		return c, nil
	}
	var err error
	c.node = e.Value
	c.on, err = r.Bool(e.Value, key)
	return c, err
}

// query reads a PromQL query, which must give a per-second rate over
// {{.window}}: budgetgate evaluates it at intervals of its own and turns
// the rates into event counts, so a query over a fixed range or a gauge
// would give counts that mean nothing. A query the document marks as a
// counter (OpenSLO's own examples write them so) is a running total of
// events, and becomes its rate (counterRate); an unmarked one is refused
// rather than guessed to be a counter (docs/DECISIONS.md).
func query(r policyfile.Reader, n *yaml.Node, what string, c counter) (string, error) {
	q, err := r.Text(n, what)
	if err != nil {
		return "", err
	}
	q = strings.TrimSpace(q)
	if q == "" {
		return "", r.Errorf(n, "%s is empty", what)
	}
	if windowVarRe.MatchString(q) {
		return windowVarRe.ReplaceAllString(q, "{{.window}}"), nil
	}
	switch {
	case c.key == "":
		return "", r.Errorf(n, "%s must be a per-second rate over {{.window}}, as Sloth writes it (%s): budgetgate fills in the range", what, rateExample)
	case c.node == nil:
		return "", r.Errorf(n, "%s has no {{.window}}: if it is a counter, say so with %s: true and budgetgate takes its rate; otherwise write a per-second rate over {{.window}} (%s)", what, c.key, rateExample)
	case !c.on:
		return "", unsupported(r, c.node, c.key+" false", fmt.Sprintf("%s has no {{.window}}, and a gauge is no count of events: write a per-second rate over {{.window}} (%s)", what, rateExample))
	}
	if rateFuncRe.MatchString(q) {
		return "", r.Errorf(n, "%s takes a rate over a fixed range, so it is no counter whatever %s says: write it over {{.window}} (%s)", what, c.key, rateExample)
	}
	return counterRate(q), nil
}

// rateFuncRe finds the functions that turn a counter into a rate or an
// increase: a query using one over a fixed range is no counter.
var rateFuncRe = regexp.MustCompile(`\b(rate|irate|increase|delta|idelta|deriv)\s*\(`)

const rateExample = "sum(rate(http_requests_total[{{.window}}]))"

// counterRate is the per-second rate of a counter query, over {{.window}}:
// rate() of a subquery that evaluates the query once a minute. A query
// with a comment ('#' runs to the end of its line) goes on lines of its
// own, so that the comment does not swallow the closing brackets.
func counterRate(q string) string {
	if strings.Contains(q, "#") {
		q = "\n" + q + "\n"
	}
	return "rate((" + q + ")[{{.window}}:1m])"
}

// percent reads an objective given as a percentage, 0 < x < 100.
func percent(r policyfile.Reader, n *yaml.Node, what string) (float64, error) {
	v, _, err := r.Number(n, what)
	if err != nil {
		return 0, err
	}
	if !(v > 0 && v < 100) {
		return 0, r.Errorf(n, "%s must be a percentage between 0 and 100 (exclusive), not %s", what, n.Value)
	}
	return v, nil
}

// ratioAsPercent reads an objective given as a ratio, 0 < x < 1, as the
// percentage it stands for, computed on the decimal as written: 0.999 is
// 99.9 exactly, where 0.999*100 in floating point is not.
func ratioAsPercent(r policyfile.Reader, n *yaml.Node, what string) (float64, error) {
	v, _, err := r.Number(n, what)
	if err != nil {
		return 0, err
	}
	if !(v > 0 && v < 1) {
		return 0, r.Errorf(n, "%s must be a ratio between 0 and 1 (exclusive), not %s", what, n.Value)
	}
	exact, ok := new(big.Rat).SetString(n.Value)
	if !ok {
		return v * 100, nil
	}
	pct, _ := exact.Mul(exact, big.NewRat(100, 1)).Float64()
	return pct, nil
}

// name reads a service or SLO name (one rule for both), which budgetgate
// uses in URLs.
func name(r policyfile.Reader, n *yaml.Node, what string) (string, error) {
	s, err := r.Text(n, what)
	if err != nil {
		return "", err
	}
	if !errorbudget.ValidServiceName(s) {
		return "", r.Errorf(n, "%s %q must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, at most 63 characters", what, s)
	}
	return s, nil
}

// unsupported is the error for a field budgetgate does not support.
func unsupported(r policyfile.Reader, n *yaml.Node, what, why string) error {
	return r.Errorf(n, "%s is not supported: %s", what, why)
}

// required returns the entry key of m, or an error at parent.
func required(r policyfile.Reader, m map[string]policyfile.Entry, parent *yaml.Node, key, what string) (policyfile.Entry, error) {
	e, ok := m[key]
	if !ok || policyfile.IsNull(e.Value) {
		return policyfile.Entry{}, r.Errorf(parent, "%s is required", what)
	}
	return e, nil
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func index(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }
