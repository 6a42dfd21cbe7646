package sloimport

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/policyfile"
	"gopkg.in/yaml.v3"
)

// Base finds the budgetgate policy whose rules (gates, exceptions,
// escalation, reviews, burn_rate_window, on_no_data) govern a service's
// imported SLOs: nil when there is none, and the default policy governs.
type Base func(service string) (*errorbudget.Policy, error)

// Read parses a policy file of any form into the policies it defines:
// budgetgate's own form is one policy; a Sloth or OpenSLO file is one
// policy per service it names, its SLOs under the rules of base. An error
// names the file, line and column, and no policy comes back.
func Read(file string, data []byte, base Base) (Format, []*errorbudget.Policy, error) {
	format, slos, err := Parse(file, data)
	if err != nil {
		return format, nil, err
	}
	if format == Native {
		p, err := errorbudget.ParsePolicy(file, data)
		if err != nil {
			return format, nil, err
		}
		return format, []*errorbudget.Policy{p}, nil
	}
	var out []*errorbudget.Policy
	for _, service := range services(slos) {
		b, err := base(service)
		if err != nil {
			return format, nil, fmt.Errorf("reading the policy of %s: %w", service, err)
		}
		p, err := Policy(file, service, b, of(slos, service))
		if err != nil {
			return format, nil, err
		}
		out = append(out, p)
	}
	return format, out, nil
}

// services lists the services of slos in the order they first appear.
func services(slos []SLO) []string {
	var out []string
	for _, s := range slos {
		if !slices.Contains(out, s.Service) {
			out = append(out, s.Service)
		}
	}
	return out
}

func of(slos []SLO, service string) []SLO {
	return slices.DeleteFunc(slices.Clone(slos), func(s SLO) bool { return s.Service != service })
}

// sloKeys are the keys of budgetgate's own form that define SLOs: where a
// service's SLOs come from imported documents, its own policy gives only
// the rules.
var sloKeys = []string{"slo_target", "window", "slos"}

// Policy is the budgetgate policy of a service whose SLOs were imported:
// those SLOs under the rules of base (nil: the default policy). It is built
// as budgetgate's own form and parsed as such, so that it is stored,
// versioned and read back like any other policy; its source says where its
// SLOs came from.
func Policy(file, service string, base *errorbudget.Policy, slos []SLO) (*errorbudget.Policy, error) {
	if base == nil {
		var err error
		if base, err = errorbudget.ParsePolicy(file, []byte("service: "+service+"\n")); err != nil {
			return nil, err
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(base.Canonical(), &root); err != nil || len(root.Content) == 0 {
		return nil, fmt.Errorf("re-reading the policy of %s: %v", service, err)
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); {
		if slices.Contains(sloKeys, top.Content[i].Value) {
			top.Content = slices.Delete(top.Content, i, i+2)
			continue
		}
		i += 2
	}
	addSLOs(top, slos)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# The SLOs of %s come from %s (%s).\n", service, origins(slos), slos[0].Format)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(top); err != nil {
		return nil, fmt.Errorf("writing the policy of %s: %w", service, err)
	}
	enc.Close()
	p, err := errorbudget.ParsePolicy(file, buf.Bytes())
	if err != nil {
		// The documents were checked field by field; what budgetgate's own
		// form refuses beyond that is named at the first SLO.
		return nil, budgetgate.FieldErrorf(slos[0].At, "the SLOs of %s do not make a valid budgetgate policy: %s", service, budgetgate.ErrorMessage(err))
	}
	return p, nil
}

// addSLOs writes the SLOs in budgetgate's own form: a slos list, each
// pulled from Prometheus with the document's queries.
func addSLOs(top *yaml.Node, slos []SLO) {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range slos {
		n := &yaml.Node{Kind: yaml.MappingNode}
		add(n, "name", str(s.Name))
		add(n, "objective", number(s.Objective))
		add(n, "window", str(s.Window))
		if s.Description != "" {
			add(n, "description", str(s.Description))
		}
		prom := &yaml.Node{Kind: yaml.MappingNode}
		if s.URL != "" {
			add(prom, "url", str(s.URL))
		}
		if s.Good != "" {
			add(prom, "good", str(s.Good))
		} else {
			add(prom, "bad", str(s.Bad))
		}
		add(prom, "total", str(s.Total))
		sli := &yaml.Node{Kind: yaml.MappingNode}
		add(sli, "prometheus", prom)
		add(n, "sli", sli)
		list.Content = append(list.Content, n)
	}
	add(top, "slos", list)
}

func origins(slos []SLO) string {
	var files []string
	for _, s := range slos {
		if f := fileOf(s.At); !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	return strings.Join(files, ", ")
}

// fileOf is the file of a "file:line:column" position.
func fileOf(at string) string {
	for range 2 {
		if i := strings.LastIndexByte(at, ':'); i >= 0 {
			at = at[:i]
		}
	}
	return at
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func number(f float64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatFloat(f, 'g', -1, 64)}
}

// File is one file of a policy directory.
type File struct {
	Name string
	Data []byte
}

// Loaded is a policy read from a policy directory, and the files it came
// from.
type Loaded struct {
	Policy *errorbudget.Policy
	Origin string
}

// Directory reads the files of a policy directory into one policy per
// service: a budgetgate policy file as it is; the SLOs of Sloth and
// OpenSLO files under the rules of their service's budgetgate policy file
// when there is one (which then may not define SLOs itself), else of the
// default policy. One bad file, or one service defined twice, refuses the
// whole directory.
func Directory(files []File) ([]Loaded, error) {
	var out []Loaded
	own := map[string]int{} // service -> index in out
	var imported []SLO
	for _, f := range files {
		format, slos, err := Parse(f.Name, f.Data)
		if err != nil {
			return nil, err
		}
		if format != Native {
			imported = append(imported, slos...)
			continue
		}
		p, err := errorbudget.ParsePolicy(f.Name, f.Data)
		if err != nil {
			return nil, err
		}
		if i, dup := own[p.Service]; dup {
			return nil, budgetgate.Errorf(budgetgate.EINVALID, "%s and %s both define service %q", out[i].Origin, f.Name, p.Service)
		}
		own[p.Service] = len(out)
		out = append(out, Loaded{Policy: p, Origin: f.Name})
	}
	if err := unique(imported); err != nil {
		return nil, err
	}
	for _, service := range services(imported) {
		slos := of(imported, service)
		var base *errorbudget.Policy
		from := origins(slos)
		i, hasOwn := own[service]
		if hasOwn {
			base = out[i].Policy
			if err := rulesOnly(out[i].Origin, base.Source, service, from); err != nil {
				return nil, err
			}
			from = out[i].Origin + ", " + from
		}
		p, err := Policy(fileOf(slos[0].At), service, base, slos)
		if err != nil {
			return nil, err
		}
		if hasOwn {
			out[i] = Loaded{Policy: p, Origin: from}
		} else {
			out = append(out, Loaded{Policy: p, Origin: from})
		}
	}
	return out, nil
}

// rulesOnly refuses a budgetgate policy file that defines SLOs for a
// service whose SLOs come from imported documents: which of the two was
// meant cannot be told, and dropping either would change a gate silently.
func rulesOnly(file string, src []byte, service, from string) error {
	root, err := policyfile.Document(file, src)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; slices.Contains(sloKeys, k.Value) {
			return policyfile.ErrorAt(file, k, "%s: the SLOs of %s come from %s, so this file may give only its rules (policy, burn_rate_window, on_no_data, description)", k.Value, service, from)
		}
	}
	return nil
}
