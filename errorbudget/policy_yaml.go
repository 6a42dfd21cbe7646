package errorbudget

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/policyfile"
	"gopkg.in/yaml.v3"
)

// ParsePolicy reads an error-budget policy file (see docs/POLICY.md, Error-budget policy) and fills in the
// defaults. filename only labels errors: each is an EINVALID *Error whose
// Field is "file:line:col" ("file:line" for YAML syntax errors, which yaml.v3
// reports without a column).
//
// Choices where the reference behaviour is silent (docs/DECISIONS.md):
//   - burn_rate_window and on_no_data are accepted both at the top level and
//     inside policy: (docs/POLICY.md lists them with the top-level keys, while the
//     reference policy keeps its rules under policy:); giving one in both places is an
//     error.
//   - slo_target and window default to 99.9 and 30d, as DefaultPolicy, and
//     describe one SLO named DefaultSLO; slos lists several instead, and
//     giving both forms is an error (docs/POLICY.md, Several SLOs).
//   - Description is the top-level description, else policy.description.
//   - A key whose value is null counts as absent; YAML aliases are refused.
//   - Risk levels, release types and exception types must be ones docs/BUDGET_MATH.md, Release gate
//     names, so that a misspelling is an error rather than a dead rule.
//   - Criteria must fit together (see thresholds); a bound a state's criteria
//     leave out keeps its default on its own.
func ParsePolicy(filename string, data []byte) (*Policy, error) {
	ps := &policyParser{Reader: policyfile.Reader{File: filename}}
	root, err := policyfile.Document(ps.File, data)
	if err != nil {
		return nil, err
	}
	p := &Policy{Source: slices.Clone(data)}
	if err := ps.policy(root, p); err != nil {
		return nil, err
	}
	p.Version = versionOf(p.Canonical())
	return p, nil
}

func versionOf(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// policyParser walks a yaml.Node tree so that every error can name the line
// and column it is about.
type policyParser struct {
	policyfile.Reader
	// bounds are the criteria bounds given in the file, per state, kept with
	// their nodes for the consistency checks that run once all gates are read.
	bounds map[Status]*stateBounds
	gates  *yaml.Node
	root   *yaml.Node
}

// mapping returns the entries of the mapping n with null values left out:
// in an error-budget policy a key given without a value counts as absent.
func (ps *policyParser) mapping(n *yaml.Node, where string, known []string) ([]policyfile.Entry, error) {
	es, err := ps.Mapping(n, where, known)
	return policyfile.Present(es), err
}

// MaxPolicyText bounds any one string of a policy file, and MaxPolicyList
// any one list (see policyfile).
const (
	MaxPolicyText = policyfile.MaxText
	MaxPolicyList = policyfile.MaxList
)

func (ps *policyParser) number(n *yaml.Node, what string) (Number, error) {
	v, isInt, err := ps.Number(n, what)
	return Number{Value: v, IsInt: isInt}, err
}

var (
	topKeys    = []string{"service", "slo_target", "window", "slos", "description", "policy", "burn_rate_window", "on_no_data"}
	policyKeys = []string{"description", "objectives", "gates", "exceptions", "escalation", "review_cadence", "burn_rate_window", "on_no_data"}
	gateKeys   = []string{"criteria", "allowed_releases", "deployment_pace", "additional_requirements", "actions",
		"min_budget_pct", "max_burn_rate", "allowed_risk_levels", "allowed_release_types"}
	exceptionKeys  = []string{"type", "override", "requirements"}
	escalationKeys = []string{"notify", "action"}
)

func (ps *policyParser) policy(root *yaml.Node, p *Policy) error {
	ps.root = root
	top, err := ps.mapping(root, "", topKeys)
	if err != nil {
		return err
	}
	t := policyfile.ByKey(top)

	e, ok := t["service"]
	if !ok {
		return ps.Errorf(root, "service is required")
	}
	if p.Service, err = ps.Text(e.Value, "service"); err != nil {
		return err
	}
	if !ValidServiceName(p.Service) {
		return ps.Errorf(e.Value, "service %q must match %s", p.Service, serviceName.String())
	}

	if p.SLOs, err = ps.slos(root, t); err != nil {
		return err
	}

	if e, ok := t["description"]; ok {
		if p.Description, err = ps.Text(e.Value, "description"); err != nil {
			return err
		}
	}

	// burn_rate_window and on_no_data may sit at either level; collect both.
	settings := map[string]policyfile.Entry{}
	for _, k := range []string{"burn_rate_window", "on_no_data"} {
		if e, ok := t[k]; ok {
			settings[k] = e
		}
	}

	var pol map[string]policyfile.Entry
	if e, ok := t["policy"]; ok {
		es, err := ps.mapping(e.Value, "policy", policyKeys)
		if err != nil {
			return err
		}
		pol = policyfile.ByKey(es)
	}
	for _, k := range []string{"burn_rate_window", "on_no_data"} {
		if e, ok := pol[k]; ok {
			if first, dup := settings[k]; dup {
				return ps.Errorf(e.Key, "%s is given both at top level (line %d) and in policy", k, first.Key.Line)
			}
			settings[k] = e
		}
	}

	p.BurnWindowText, p.BurnRateWindow = DefaultBurnRateWindow, time.Hour
	if e, ok := settings["burn_rate_window"]; ok {
		if p.BurnWindowText, err = ps.Text(e.Value, "burn_rate_window"); err != nil {
			return err
		}
		i := slices.IndexFunc(BurnWindows, func(w BurnWindow) bool { return w.Name == p.BurnWindowText })
		if i < 0 {
			return ps.Errorf(e.Value, "burn_rate_window %q must be one of %s", p.BurnWindowText, strings.Join(burnWindowNames(), ", "))
		}
		p.BurnRateWindow = BurnWindows[i].Duration
	}
	p.OnNoData = OnNoDataDeny
	if e, ok := settings["on_no_data"]; ok {
		if p.OnNoData, err = ps.Text(e.Value, "on_no_data"); err != nil {
			return err
		}
		if p.OnNoData != OnNoDataDeny && p.OnNoData != OnNoDataAllow {
			return ps.Errorf(e.Value, "on_no_data must be %q or %q, not %q", OnNoDataDeny, OnNoDataAllow, p.OnNoData)
		}
	}

	if e, ok := pol["description"]; ok {
		if p.PolicyDescription, err = ps.Text(e.Value, "policy.description"); err != nil {
			return err
		}
	}
	if p.Description == "" {
		p.Description = p.PolicyDescription
	}
	if e, ok := pol["objectives"]; ok {
		if p.Objectives, err = ps.Texts(e.Value, "objectives"); err != nil {
			return err
		}
	}

	p.Gates = map[Status]*Gate{}
	for _, s := range GateStatuses {
		p.Gates[s] = &Gate{}
	}
	given := map[Status]map[string]bool{}
	if e, ok := pol["gates"]; ok {
		ps.gates = e.Key
		if given, err = ps.gatesSection(e.Value, p); err != nil {
			return err
		}
	}
	if err := ps.finishGates(p, given); err != nil {
		return err
	}

	if e, ok := pol["exceptions"]; ok {
		if p.Exceptions, err = ps.exceptions(e.Value); err != nil {
			return err
		}
	} else {
		p.Exceptions = map[string]ExceptionRule{}
		for _, t := range defaultExceptions {
			p.Exceptions[t] = ExceptionRule{Type: t, Override: OverrideAlwaysAllow}
		}
	}

	if e, ok := pol["escalation"]; ok {
		if p.Escalations, err = ps.escalations(e.Value); err != nil {
			return err
		}
	}
	if e, ok := pol["review_cadence"]; ok {
		if p.Reviews, err = ps.reviews(e.Value); err != nil {
			return err
		}
	}
	return nil
}

func burnWindowNames() []string {
	names := make([]string, len(BurnWindows))
	for i, w := range BurnWindows {
		names[i] = w.Name
	}
	return names
}

func statusNames() []string {
	names := make([]string, len(severityOrder))
	for i, s := range severityOrder {
		names[i] = string(s)
	}
	return names
}

// gatesSection reads policy.gates into p.Gates and ps.bounds, and reports
// which keys each gate gave, so that finishGates defaults only the others.
func (ps *policyParser) gatesSection(n *yaml.Node, p *Policy) (map[Status]map[string]bool, error) {
	es, err := ps.mapping(n, "gates", statusNames())
	if err != nil {
		return nil, err
	}
	given := map[Status]map[string]bool{}
	ps.bounds = map[Status]*stateBounds{}
	for _, ge := range es {
		s := Status(ge.Key.Value)
		where := "gates." + string(s)
		fields, err := ps.mapping(ge.Value, where, gateKeys)
		if err != nil {
			return nil, err
		}
		g := p.Gates[s]
		given[s] = map[string]bool{}
		b := &stateBounds{}
		ps.bounds[s] = b
		for _, f := range fields {
			k, v := f.Key.Value, f.Value
			what := where + "." + k
			given[s][k] = true
			switch k {
			case "criteria":
				if err := ps.NoAlias(v); err != nil {
					return nil, err
				}
				if v.Kind != yaml.SequenceNode {
					return nil, ps.Errorf(v, "%s must be a list of strings, not %s", what, policyfile.Describe(v))
				}
				g.Criteria = []Criterion{}
				for i, item := range v.Content {
					text, err := ps.Text(item, fmt.Sprintf("%s[%d]", what, i))
					if err != nil {
						return nil, err
					}
					c, err := ParseCriterion(text)
					if err != nil {
						return nil, ps.Errorf(item, "%s[%d]: %s", what, i, budgetgate.ErrorMessage(err))
					}
					if err := b.add(ps, s, c, item); err != nil {
						return nil, err
					}
					g.Criteria = append(g.Criteria, c)
				}
			case "allowed_releases":
				g.AllowedReleases, err = ps.Texts(v, what)
			case "deployment_pace":
				g.DeploymentPace, err = ps.Text(v, what)
			case "additional_requirements":
				g.AdditionalRequirements, err = ps.Texts(v, what)
			case "actions":
				g.Actions, err = ps.Texts(v, what)
			case "min_budget_pct":
				if g.MinBudgetPct, err = ps.number(v, what); err == nil && math.IsInf(g.MinBudgetPct.Value, 0) {
					err = ps.Errorf(v, "%s must be finite", what)
				}
			case "max_burn_rate":
				if g.MaxBurnRate, err = ps.number(v, what); err == nil && g.MaxBurnRate.Value < 0 {
					err = ps.Errorf(v, "%s must not be negative", what)
				}
			case "allowed_risk_levels":
				g.AllowedRiskLevels, err = ps.OneOf(v, what, RiskLevels)
			case "allowed_release_types":
				g.AllowedReleaseTypes, err = ps.OneOf(v, what, ReleaseTypes)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return given, nil
}

// finishGates fills what the file left out of each gate from the reference gate's
// defaults, derives the status thresholds and checks that they fit together.
// given is nil for the default policy.
func (ps *policyParser) finishGates(p *Policy, given map[Status]map[string]bool) error {
	if ps.bounds == nil {
		ps.bounds = map[Status]*stateBounds{}
	}
	defaults := map[Status]*stateBounds{}
	for _, s := range GateStatuses {
		d, g, has := gateDefaults[s], p.Gates[s], given[s]
		if !has["min_budget_pct"] {
			g.MinBudgetPct = d.minBudget
		}
		if !has["max_burn_rate"] {
			g.MaxBurnRate = d.maxBurn
		}
		if !has["allowed_risk_levels"] {
			g.AllowedRiskLevels = slices.Clone(d.risks)
		}
		if g.AllowedReleaseTypes == nil {
			g.AllowedReleaseTypes = []string{}
		}
		db := &stateBounds{}
		for _, text := range d.criteria {
			c, err := ParseCriterion(text)
			if err != nil {
				return err
			}
			if err := db.add(ps, s, c, nil); err != nil {
				return err
			}
		}
		defaults[s] = db
		if ps.bounds[s] == nil {
			ps.bounds[s] = &stateBounds{}
		}
	}
	if err := ps.thresholds(p, defaults); err != nil {
		return err
	}
	// Given criteria are kept as written (a bound they leave out falls back
	// to the default on its own). A gate without criteria shows the ones it
	// effectively has, so that the dashboard never contradicts the rules;
	// for an unchanged policy these are the reference gate's strings.
	for _, s := range GateStatuses {
		if !given[s]["criteria"] {
			c, err := effectiveCriteria(p, s)
			if err != nil {
				return err
			}
			p.Gates[s].Criteria = c
		}
	}
	return nil
}

func (ps *policyParser) exceptions(n *yaml.Node) (map[string]ExceptionRule, error) {
	if err := ps.NoAlias(n); err != nil {
		return nil, err
	}
	out := map[string]ExceptionRule{}
	switch n.Kind {
	case yaml.SequenceNode:
		// the reference policy file's list form: - type: X, override: always_allow, requirements: [...]
		for i, item := range n.Content {
			where := fmt.Sprintf("exceptions[%d]", i)
			es, err := ps.mapping(item, where, exceptionKeys)
			if err != nil {
				return nil, err
			}
			f := policyfile.ByKey(es)
			te, ok := f["type"]
			if !ok {
				return nil, ps.Errorf(item, "%s: type is required", where)
			}
			r := ExceptionRule{Override: OverrideAlwaysAllow}
			if r.Type, err = ps.exceptionType(te.Value, where+".type"); err != nil {
				return nil, err
			}
			if oe, ok := f["override"]; ok {
				if r.Override, err = ps.Text(oe.Value, where+".override"); err != nil {
					return nil, err
				}
				if r.Override != OverrideAlwaysAllow {
					return nil, ps.Errorf(oe.Value, "%s.override must be %q, not %q", where, OverrideAlwaysAllow, r.Override)
				}
			}
			if re, ok := f["requirements"]; ok {
				if r.Requirements, err = ps.Texts(re.Value, where+".requirements"); err != nil {
					return nil, err
				}
			}
			if _, dup := out[r.Type]; dup {
				return nil, ps.Errorf(te.Value, "%s: exception for %s given twice", where, r.Type)
			}
			out[r.Type] = r
		}
	case yaml.MappingNode:
		// The reference gate Python's map form: critical_security_fix: true. False
		// leaves the type out.
		es, err := ps.mapping(n, "exceptions", nil)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			t, err := ps.exceptionType(e.Key, "exceptions")
			if err != nil {
				return nil, err
			}
			if e.Value.Kind != yaml.ScalarNode || e.Value.ShortTag() != "!!bool" {
				return nil, ps.Errorf(e.Value, "exceptions.%s must be true or false, not %s", e.Key.Value, policyfile.Describe(e.Value))
			}
			var on bool
			if err := e.Value.Decode(&on); err != nil {
				return nil, ps.Errorf(e.Value, "exceptions.%s must be true or false", e.Key.Value)
			}
			if _, dup := out[t]; dup {
				return nil, ps.Errorf(e.Key, "exceptions: %s given twice", t)
			}
			if on {
				out[t] = ExceptionRule{Type: t, Override: OverrideAlwaysAllow}
			}
		}
	default:
		return nil, ps.Errorf(n, "exceptions must be a list or a mapping, not %s", policyfile.Describe(n))
	}
	return out, nil
}

func (ps *policyParser) exceptionType(n *yaml.Node, what string) (string, error) {
	t, err := ps.Text(n, what)
	if err != nil {
		return "", err
	}
	if t == securityAlias {
		return "critical_security_fix", nil
	}
	if !slices.Contains(ReleaseTypes, t) {
		return "", ps.Errorf(n, "%s: unknown release type %q (want one of: %s, or %s)", what, t, strings.Join(ReleaseTypes, ", "), securityAlias)
	}
	return t, nil
}

func (ps *policyParser) escalations(n *yaml.Node) ([]Escalation, error) {
	es, err := ps.mapping(n, "escalation", nil)
	if err != nil {
		return nil, err
	}
	var out []Escalation
	seen := map[float64]string{}
	for _, e := range es {
		name := e.Key.Value
		esc := Escalation{Name: name}
		if name != ExhaustedEscalation {
			m := escalationRe.FindStringSubmatch(name)
			if m == nil {
				return nil, ps.Errorf(e.Key, "unknown key %q in escalation (want budget_<N>pct or %s)", name, ExhaustedEscalation)
			}
			esc.ThresholdPct, _ = strconv.ParseFloat(m[1], 64)
			if !(esc.ThresholdPct > 0 && esc.ThresholdPct <= 100) {
				return nil, ps.Errorf(e.Key, "escalation %s: the percentage must be above 0 and at most 100 (use %s for 0)", name, ExhaustedEscalation)
			}
		}
		if other, dup := seen[esc.ThresholdPct]; dup {
			return nil, ps.Errorf(e.Key, "escalation %s has the same threshold as %s", name, other)
		}
		seen[esc.ThresholdPct] = name
		where := "escalation." + name
		fs, err := ps.mapping(e.Value, where, escalationKeys)
		if err != nil {
			return nil, err
		}
		f := policyfile.ByKey(fs)
		ne, ok := f["notify"]
		if !ok {
			return nil, ps.Errorf(e.Key, "%s: notify is required", where)
		}
		if esc.Notify, err = ps.Texts(ne.Value, where+".notify"); err != nil {
			return nil, err
		}
		if len(esc.Notify) == 0 {
			return nil, ps.Errorf(ne.Value, "%s.notify must name at least one role", where)
		}
		if ae, ok := f["action"]; ok {
			if esc.Action, err = ps.Text(ae.Value, where+".action"); err != nil {
				return nil, err
			}
		}
		out = append(out, esc)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ThresholdPct > out[j].ThresholdPct })
	return out, nil
}

func (ps *policyParser) reviews(n *yaml.Node) ([]Review, error) {
	es, err := ps.mapping(n, "review_cadence", reviewCadences)
	if err != nil {
		return nil, err
	}
	f := policyfile.ByKey(es)
	var out []Review
	for _, c := range reviewCadences {
		e, ok := f[c]
		if !ok {
			continue
		}
		name, err := ps.Text(e.Value, "review_cadence."+c)
		if err != nil {
			return nil, err
		}
		out = append(out, Review{Cadence: c, Name: name, Every: cadenceEvery[c]})
	}
	return out, nil
}
