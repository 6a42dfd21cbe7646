package budgetgate

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Policy is one service's error-budget policy (SPEC 2.1), after defaults.
type Policy struct {
	Service     string
	SLOTarget   float64       // percent, 0 < x < 100
	Window      time.Duration // rolling window
	WindowText  string        // as written: "30d"
	Description string        // top-level description, else policy.description
	Objectives  []string

	// PolicyDescription is policy.description as written; the seed puts its
	// prose there rather than at the top level.
	PolicyDescription string

	// Gates holds all five GateStatuses, each filled from the file and the
	// seed's defaults.
	Gates map[Status]*Gate

	// Exceptions maps a release type to its rule. critical_security_vulnerability
	// is stored as critical_security_fix.
	Exceptions map[string]ExceptionRule

	Escalations    []Escalation // in decreasing threshold order; budget_exhausted last (ThresholdPct 0)
	Reviews        []Review
	BurnRateWindow time.Duration // default 1h
	BurnWindowText string        // as written: "1h"
	OnNoData       string        // "deny" (default) or "allow"

	Version string // "sha256:" + hex of the canonical form
	Source  []byte // the file as given
}

// Number is a policy number that remembers whether it was written as an
// integer, so that messages print it as Python's str() would (50, 1.5, 2.0, inf).
type Number struct {
	Value float64
	IsInt bool
}

// Threshold is "metric op value" parsed from a criteria string.
type Threshold struct {
	Op    string // "<", "<=", ">", ">=" ("==" is refused by the parser)
	Value float64
}

// Holds reports whether x satisfies the threshold.
func (t Threshold) Holds(x float64) bool {
	switch t.Op {
	case "<":
		return x < t.Value
	case "<=":
		return x <= t.Value
	case ">":
		return x > t.Value
	case ">=":
		return x >= t.Value
	case "==":
		return x == t.Value
	}
	return false
}

func (t Threshold) upper() bool { return t.Op == "<" || t.Op == "<=" }

// Criterion is one parsed criteria string: a metric with one or two bounds
// ("budget_remaining >= 25% AND < 50%").
type Criterion struct {
	Text   string // normalised: single spaces, "AND", the metric's unit
	Metric string // "budget_remaining" or "burn_rate"
	Bounds []Threshold
}

// Gate is what a policy says for one status.
type Gate struct {
	Criteria               []Criterion
	MinBudgetPct           Number
	MaxBurnRate            Number
	AllowedRiskLevels      []string
	AllowedReleaseTypes    []string
	AllowedReleases        []string
	DeploymentPace         string
	AdditionalRequirements []string
	Actions                []string

	// EnterRemaining and EnterBurn are the bounds that put a service in this
	// state (SPEC 2.3): the criteria's upper bound on budget_remaining and
	// lower bound on burn_rate where given, else the seed's. Healthy has
	// neither (it is what is left); exhausted has no burn bound by default.
	EnterRemaining *Threshold
	EnterBurn      *Threshold
}

// ExceptionRule lets a release type through whatever the budget.
type ExceptionRule struct {
	Type         string
	Override     string // "always_allow"
	Requirements []string
}

// Escalation notifies roles when remaining budget falls below ThresholdPct.
type Escalation struct {
	Name         string  // "budget_25pct", "budget_exhausted"
	ThresholdPct float64 // 25, 10, 0 for budget_exhausted
	Notify       []string
	Action       string
}

// Review is a named recurring review from review_cadence.
type Review struct {
	Cadence string // "weekly", "monthly", "quarterly"
	Name    string // "budget_status_review"
	Every   time.Duration
}

// Policy defaults, from SPEC 2.1 and the seed's Python _default_policy.
const (
	DefaultSLOTarget      = 99.9
	DefaultWindow         = "30d"
	DefaultBurnRateWindow = "1h"
	OnNoDataDeny          = "deny"
	OnNoDataAllow         = "allow"
	OverrideAlwaysAllow   = "always_allow"
	ExhaustedEscalation   = "budget_exhausted"
)

// RiskLevels and ReleaseTypes are the values a release may name (SPEC 3).
// Policies are checked against them so that a misspelt level or type cannot
// silently make a rule never match.
var (
	RiskLevels   = []string{"low", "medium", "high"}
	ReleaseTypes = []string{"feature", "bugfix", "security", "critical_security_fix", "slo_improvement", "rollback"}
)

// securityAlias is the seed YAML's name for the Python's critical_security_fix.
const securityAlias = "critical_security_vulnerability"

// gateDefault is one state of the seed's Python _default_policy, plus the
// seed YAML's criteria for that state (which give SPEC 2.3's thresholds).
type gateDefault struct {
	minBudget Number
	maxBurn   Number
	risks     []string
	criteria  []string
}

var gateDefaults = map[Status]gateDefault{
	StatusHealthy:   {Number{50, true}, Number{1.5, false}, []string{"low", "medium", "high"}, []string{"budget_remaining >= 50%", "burn_rate < 1.5x"}},
	StatusAttention: {Number{25, true}, Number{2.0, false}, []string{"low", "medium"}, []string{"budget_remaining >= 25% AND < 50%", "burn_rate >= 1.5x AND < 2.0x"}},
	StatusWarning:   {Number{10, true}, Number{3.0, false}, []string{"low"}, []string{"budget_remaining >= 10% AND < 25%", "burn_rate >= 2.0x AND < 5.0x"}},
	StatusCritical:  {Number{0, true}, Number{math.Inf(1), false}, []string{}, []string{"budget_remaining < 10%", "burn_rate >= 5.0x"}},
	StatusExhausted: {Number{0, true}, Number{math.Inf(1), false}, []string{}, []string{"budget_remaining <= 0%"}},
}

// defaultExceptions is the Python map form {critical_security_fix: True,
// slo_improvement: True, rollback: True}.
var defaultExceptions = []string{"critical_security_fix", "slo_improvement", "rollback"}

// severityOrder lists the gate states from least to most severe: each state's
// lower bounds must meet the entry bounds of the states after it.
var severityOrder = []Status{StatusHealthy, StatusAttention, StatusWarning, StatusCritical, StatusExhausted}

// reviewCadences are the review_cadence keys, in canonical order.
var reviewCadences = []string{"weekly", "monthly", "quarterly"}

var (
	escalationRe = regexp.MustCompile(`^budget_([0-9]+(?:\.[0-9]+)?)pct$`)
)

// DefaultPolicy is the policy a service gets without a file: 99.9% over 30
// days with the seed's Python defaults. It is also what the differential test
// runs against the seed's Python gate.
func DefaultPolicy(service string) *Policy {
	p := &Policy{
		Service:        service,
		SLOTarget:      DefaultSLOTarget,
		WindowText:     DefaultWindow,
		BurnWindowText: DefaultBurnRateWindow,
		BurnRateWindow: time.Hour,
		OnNoData:       OnNoDataDeny,
		Gates:          map[Status]*Gate{},
		Exceptions:     map[string]ExceptionRule{},
	}
	p.Window, _ = ParseWindow(DefaultWindow)
	for _, s := range GateStatuses {
		p.Gates[s] = &Gate{}
	}
	ps := &policyParser{file: "default"}
	if err := ps.finishGates(p, nil); err != nil {
		panic("budgetgate: default gates are inconsistent: " + err.Error())
	}
	for _, t := range defaultExceptions {
		p.Exceptions[t] = ExceptionRule{Type: t, Override: OverrideAlwaysAllow}
	}
	p.Version = versionOf(p.Canonical())
	return p
}

// ParsePolicy reads an error-budget policy file (SPEC 2.1) and fills in the
// defaults. filename only labels errors: each is an EINVALID *Error whose
// Field is "file:line:col" ("file:line" for YAML syntax errors, which yaml.v3
// reports without a column).
//
// Choices where the spec is silent:
//   - burn_rate_window and on_no_data are accepted both at the top level and
//     inside policy: (the spec lists them with the top-level keys, while the
//     seed keeps its rules under policy:); giving one in both places is an
//     error.
//   - slo_target and window default to 99.9 and 30d, as DefaultPolicy.
//   - Description is the top-level description, else policy.description.
//   - A key whose value is null counts as absent; YAML aliases are refused.
//   - Risk levels, release types and exception types must be ones SPEC 3
//     names, so that a misspelling is an error rather than a dead rule.
//   - Criteria must fit together (see thresholds); a bound a state's criteria
//     leave out keeps its default on its own.
func ParsePolicy(filename string, data []byte) (*Policy, error) {
	ps := &policyParser{file: filename}
	root, err := yamlDocument(ps.file, data)
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
	file string
	// bounds are the criteria bounds given in the file, per state, kept with
	// their nodes for the consistency checks that run once all gates are read.
	bounds map[Status]*stateBounds
	gates  *yaml.Node
	root   *yaml.Node
}

func (ps *policyParser) at(n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", ps.file, n.Line, n.Column)
}

func (ps *policyParser) errorf(n *yaml.Node, format string, args ...any) error {
	if n == nil {
		return FieldErrorf(ps.file, format, args...)
	}
	return FieldErrorf(ps.at(n), format, args...)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// document decodes the single YAML document in data. yaml.v3 reports syntax
// errors with a line but no column, so those name "file:line".
// yamlDocument decodes the one YAML document of a policy file (of either
// kind) into its root node, refusing empty files and second documents.
func yamlDocument(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a policy upload, or
		// a repository's policy read by the server, must never take it down.
		if r := recover(); r != nil {
			root, err = nil, FieldErrorf(file+":1:1", "cannot parse YAML: %v", r)
		}
	}()
	if err := checkYAMLBounds(file, data); err != nil {
		return nil, err
	}
	ps := &policyParser{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, FieldErrorf(ps.file+":1:1", "empty policy file")
		}
		return nil, ps.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, ps.errorf(&extra, "a policy file holds one YAML document, this is a second")
	} else if !errors.Is(err, io.EOF) {
		return nil, ps.syntaxError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, FieldErrorf(ps.file+":1:1", "empty policy file")
	}
	if err := checkExpandedSize(file, doc.Content[0]); err != nil {
		return nil, err
	}
	return doc.Content[0], nil
}

// yamlCollectionProblems are the parser errors about an unfinished list or
// mapping. yaml.v3 counts their line from 0 (the line where the collection
// starts, or where the problem is when that is the first line), and gives
// no line at all for the first line: one is added to name it as people count.
var yamlCollectionProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected key", "did not find expected '-' indicator",
}

func (ps *policyParser) syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if slices.Contains(yamlCollectionProblems, msg) {
		line++
	}
	if line == 0 {
		return FieldErrorf(ps.file+":1:1", "invalid YAML: %s", msg)
	}
	return FieldErrorf(fmt.Sprintf("%s:%d", ps.file, line), "invalid YAML: %s", msg)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// entry is one key and value of a mapping.
type entry struct {
	key, val *yaml.Node
}

// mapping returns the entries of the mapping n in document order, with null
// values left out. It refuses duplicate keys and, when known is not nil, keys
// not in known; where names the mapping in messages.
func (ps *policyParser) mapping(n *yaml.Node, where string, known []string) ([]entry, error) {
	if err := ps.noAlias(n); err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, ps.errorf(n, "%s must be a mapping, not %s", where, describe(n))
	}
	seen := map[string]bool{}
	var out []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := ps.noAlias(k); err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, ps.errorf(k, "keys in %s must be plain names, not %s", where, describe(k))
		}
		if known != nil && !slices.Contains(known, k.Value) {
			in := "in " + where
			if where == "" {
				in = "at top level"
			}
			return nil, ps.errorf(k, "unknown key %q %s (known keys: %s)", k.Value, in, strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return nil, ps.errorf(k, "key %q given twice in %s", k.Value, orTop(where))
		}
		seen[k.Value] = true
		if err := ps.noAlias(v); err != nil {
			return nil, err
		}
		if isNull(v) {
			continue
		}
		out = append(out, entry{k, v})
	}
	return out, nil
}

func orTop(where string) string {
	if where == "" {
		return "the top level"
	}
	return where
}

func byKey(es []entry) map[string]entry {
	m := make(map[string]entry, len(es))
	for _, e := range es {
		m[e.key.Value] = e
	}
	return m
}

// noAlias refuses YAML aliases: a policy has no use for them, and expanding
// them is how small files become huge ones.
func (ps *policyParser) noAlias(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		return ps.errorf(n, "YAML aliases are not supported in a policy")
	}
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a " + strings.TrimLeft(n.ShortTag(), "!") + " value"
	}
	return "an alias"
}

// text reads a scalar as text. Free-text fields take any non-null scalar as
// written, so "allowed_releases: [2024 freeze]"-style items need no quotes.
func (ps *policyParser) text(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", ps.errorf(n, "%s must be a string, not %s", what, describe(n))
	}
	if utf8.RuneCountInString(n.Value) > MaxPolicyText {
		return "", ps.errorf(n, "%s: at most %d characters", what, MaxPolicyText)
	}
	return n.Value, nil
}

// MaxPolicyText bounds any one string of a policy file, and MaxPolicyList
// any one list: far above what a policy needs, and low enough that every
// stored version stays small.
const (
	MaxPolicyText = 4000
	MaxPolicyList = 1000
)

func (ps *policyParser) texts(n *yaml.Node, what string) ([]string, error) {
	if err := ps.noAlias(n); err != nil {
		return nil, err
	}
	if n.Kind != yaml.SequenceNode {
		return nil, ps.errorf(n, "%s must be a list of strings, not %s", what, describe(n))
	}
	if len(n.Content) > MaxPolicyList {
		return nil, ps.errorf(n, "%s: at most %d items", what, MaxPolicyList)
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		if err := ps.noAlias(item); err != nil {
			return nil, err
		}
		s, err := ps.text(item, fmt.Sprintf("%s[%d]", what, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// oneOf reads a list whose items must come from allowed, without repeats.
func (ps *policyParser) oneOf(n *yaml.Node, what string, allowed []string) ([]string, error) {
	vals, err := ps.texts(n, what)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if !slices.Contains(allowed, v) {
			return nil, ps.errorf(n.Content[i], "%s: unknown value %q (want one of: %s)", what, v, strings.Join(allowed, ", "))
		}
		if slices.Contains(vals[:i], v) {
			return nil, ps.errorf(n.Content[i], "%s: %q listed twice", what, v)
		}
	}
	return vals, nil
}

func (ps *policyParser) number(n *yaml.Node, what string) (Number, error) {
	if n.Kind != yaml.ScalarNode {
		return Number{}, ps.errorf(n, "%s must be a number, not %s", what, describe(n))
	}
	tag := n.ShortTag()
	if tag != "!!int" && tag != "!!float" {
		return Number{}, ps.errorf(n, "%s must be a number, not %s", what, describe(n))
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		return Number{}, ps.errorf(n, "%s: cannot read %q as a number", what, n.Value)
	}
	if math.IsNaN(f) {
		return Number{}, ps.errorf(n, "%s must not be NaN", what)
	}
	return Number{Value: f, IsInt: tag == "!!int"}, nil
}

var (
	topKeys    = []string{"service", "slo_target", "window", "description", "policy", "burn_rate_window", "on_no_data"}
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
	t := byKey(top)

	e, ok := t["service"]
	if !ok {
		return ps.errorf(root, "service is required")
	}
	if p.Service, err = ps.text(e.val, "service"); err != nil {
		return err
	}
	if !ValidServiceName(p.Service) {
		return ps.errorf(e.val, "service %q must match %s", p.Service, serviceName.String())
	}

	p.SLOTarget = DefaultSLOTarget
	if e, ok := t["slo_target"]; ok {
		n, err := ps.number(e.val, "slo_target")
		if err != nil {
			return err
		}
		if !(n.Value > 0 && n.Value < 100) {
			return ps.errorf(e.val, "slo_target must be a percentage between 0 and 100 (exclusive), not %s", e.val.Value)
		}
		p.SLOTarget = n.Value
	}

	p.WindowText = DefaultWindow
	if e, ok := t["window"]; ok {
		if p.WindowText, err = ps.text(e.val, "window"); err != nil {
			return err
		}
		if p.Window, err = ParseWindow(p.WindowText); err != nil {
			return ps.errorf(e.val, "window: %s", ErrorMessage(err))
		}
	} else {
		p.Window, _ = ParseWindow(DefaultWindow)
	}

	if e, ok := t["description"]; ok {
		if p.Description, err = ps.text(e.val, "description"); err != nil {
			return err
		}
	}

	// burn_rate_window and on_no_data may sit at either level; collect both.
	settings := map[string]entry{}
	for _, k := range []string{"burn_rate_window", "on_no_data"} {
		if e, ok := t[k]; ok {
			settings[k] = e
		}
	}

	var pol map[string]entry
	if e, ok := t["policy"]; ok {
		es, err := ps.mapping(e.val, "policy", policyKeys)
		if err != nil {
			return err
		}
		pol = byKey(es)
	}
	for _, k := range []string{"burn_rate_window", "on_no_data"} {
		if e, ok := pol[k]; ok {
			if first, dup := settings[k]; dup {
				return ps.errorf(e.key, "%s is given both at top level (line %d) and in policy", k, first.key.Line)
			}
			settings[k] = e
		}
	}

	p.BurnWindowText, p.BurnRateWindow = DefaultBurnRateWindow, time.Hour
	if e, ok := settings["burn_rate_window"]; ok {
		if p.BurnWindowText, err = ps.text(e.val, "burn_rate_window"); err != nil {
			return err
		}
		i := slices.IndexFunc(BurnWindows, func(w BurnWindow) bool { return w.Name == p.BurnWindowText })
		if i < 0 {
			return ps.errorf(e.val, "burn_rate_window %q must be one of %s", p.BurnWindowText, strings.Join(burnWindowNames(), ", "))
		}
		p.BurnRateWindow = BurnWindows[i].Duration
	}
	p.OnNoData = OnNoDataDeny
	if e, ok := settings["on_no_data"]; ok {
		if p.OnNoData, err = ps.text(e.val, "on_no_data"); err != nil {
			return err
		}
		if p.OnNoData != OnNoDataDeny && p.OnNoData != OnNoDataAllow {
			return ps.errorf(e.val, "on_no_data must be %q or %q, not %q", OnNoDataDeny, OnNoDataAllow, p.OnNoData)
		}
	}

	if e, ok := pol["description"]; ok {
		if p.PolicyDescription, err = ps.text(e.val, "policy.description"); err != nil {
			return err
		}
	}
	if p.Description == "" {
		p.Description = p.PolicyDescription
	}
	if e, ok := pol["objectives"]; ok {
		if p.Objectives, err = ps.texts(e.val, "objectives"); err != nil {
			return err
		}
	}

	p.Gates = map[Status]*Gate{}
	for _, s := range GateStatuses {
		p.Gates[s] = &Gate{}
	}
	given := map[Status]map[string]bool{}
	if e, ok := pol["gates"]; ok {
		ps.gates = e.key
		if given, err = ps.gatesSection(e.val, p); err != nil {
			return err
		}
	}
	if err := ps.finishGates(p, given); err != nil {
		return err
	}

	if e, ok := pol["exceptions"]; ok {
		if p.Exceptions, err = ps.exceptions(e.val); err != nil {
			return err
		}
	} else {
		p.Exceptions = map[string]ExceptionRule{}
		for _, t := range defaultExceptions {
			p.Exceptions[t] = ExceptionRule{Type: t, Override: OverrideAlwaysAllow}
		}
	}

	if e, ok := pol["escalation"]; ok {
		if p.Escalations, err = ps.escalations(e.val); err != nil {
			return err
		}
	}
	if e, ok := pol["review_cadence"]; ok {
		if p.Reviews, err = ps.reviews(e.val); err != nil {
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
		s := Status(ge.key.Value)
		where := "gates." + string(s)
		fields, err := ps.mapping(ge.val, where, gateKeys)
		if err != nil {
			return nil, err
		}
		g := p.Gates[s]
		given[s] = map[string]bool{}
		b := &stateBounds{}
		ps.bounds[s] = b
		for _, f := range fields {
			k, v := f.key.Value, f.val
			what := where + "." + k
			given[s][k] = true
			switch k {
			case "criteria":
				if err := ps.noAlias(v); err != nil {
					return nil, err
				}
				if v.Kind != yaml.SequenceNode {
					return nil, ps.errorf(v, "%s must be a list of strings, not %s", what, describe(v))
				}
				g.Criteria = []Criterion{}
				for i, item := range v.Content {
					text, err := ps.text(item, fmt.Sprintf("%s[%d]", what, i))
					if err != nil {
						return nil, err
					}
					c, err := ParseCriterion(text)
					if err != nil {
						return nil, ps.errorf(item, "%s[%d]: %s", what, i, ErrorMessage(err))
					}
					if err := b.add(ps, s, c, item); err != nil {
						return nil, err
					}
					g.Criteria = append(g.Criteria, c)
				}
			case "allowed_releases":
				g.AllowedReleases, err = ps.texts(v, what)
			case "deployment_pace":
				g.DeploymentPace, err = ps.text(v, what)
			case "additional_requirements":
				g.AdditionalRequirements, err = ps.texts(v, what)
			case "actions":
				g.Actions, err = ps.texts(v, what)
			case "min_budget_pct":
				if g.MinBudgetPct, err = ps.number(v, what); err == nil && math.IsInf(g.MinBudgetPct.Value, 0) {
					err = ps.errorf(v, "%s must be finite", what)
				}
			case "max_burn_rate":
				if g.MaxBurnRate, err = ps.number(v, what); err == nil && g.MaxBurnRate.Value < 0 {
					err = ps.errorf(v, "%s must not be negative", what)
				}
			case "allowed_risk_levels":
				g.AllowedRiskLevels, err = ps.oneOf(v, what, RiskLevels)
			case "allowed_release_types":
				g.AllowedReleaseTypes, err = ps.oneOf(v, what, ReleaseTypes)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return given, nil
}

// finishGates fills what the file left out of each gate from the seed's
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
	// for an unchanged policy these are the seed's strings.
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

// effectiveCriteria writes out the criteria a state has: its entry bounds and
// the lower bounds where the next more severe state begins, in the seed's
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
			return ps.errorf(n, "gates.%s: %s repeats the bound %s", s, text, (*slot).text)
		}
		*slot = &bound{t: t, text: text, node: n}
	}
	lo, hi := sb.remLower, sb.remUpper
	if c.Metric == MetricBurnRate {
		lo, hi = sb.burnLower, sb.burnUpper
	}
	if lo != nil && hi != nil && !intervalNonEmpty(lo.t, hi.t) {
		return ps.errorf(n, "gates.%s: %s AND %s matches nothing", s, lo.text, hi.text)
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

// thresholds sets each gate's entry bounds (SPEC 2.3) from the file's criteria
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
				return ps.errorf(given.remUpper.node, "gates.healthy: %s cannot apply: healthy is what no other state claims, so it has no upper bound on budget_remaining", given.remUpper.text)
			}
			if given.burnLower != nil {
				return ps.errorf(given.burnLower.node, "gates.healthy: %s cannot apply: healthy is what no other state claims, so it has no lower bound on burn_rate", given.burnLower.text)
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
				return ps.errorf(nodeOr(r.node, prevRem.node, ps.gates, ps.root),
					"budget_remaining thresholds must fall with severity: %s is not below %s", r.describe(s), prevRem.describe(prevRemS))
			}
			prevRem, prevRemS = r, s
		}
		if b := burn[s]; b != nil {
			if prevBurn != nil && !strictlyWithinLower(b.t, prevBurn.t) {
				return ps.errorf(nodeOr(b.node, prevBurn.node, ps.gates, ps.root),
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
				return ps.errorf(lo.node, "gates.%s: %s leaves lower values to no state; nothing is more severe than %s", s, lo.text, s)
			}
			next := severityOrder[i+1]
			if !complements(lo.t, rem[next].t) {
				return ps.errorf(lo.node, "gates.%s: %s does not meet %s", s, lo.text, rem[next].describe(next))
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
				return ps.errorf(hi.node, "gates.%s: %s leaves higher burn rates to no state; no more severe state has a burn_rate bound", s, hi.text)
			}
			if !complements(next.t, hi.t) {
				return ps.errorf(hi.node, "gates.%s: %s does not meet %s", s, hi.text, next.describe(nextS))
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
		return Criterion{}, Errorf(EINVALID, "cannot parse criterion %q: want a metric, an operator and a number, optionally AND a second bound, as in %q",
			s, "budget_remaining >= 25% AND < 50%")
	}
	metric := m[1]
	unit := map[string]string{MetricBudgetRemaining: "%", MetricBurnRate: "x"}[metric]
	if unit == "" {
		return Criterion{}, Errorf(EINVALID, "criterion %q: unknown metric %q (want %s or %s)", s, metric, MetricBudgetRemaining, MetricBurnRate)
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
				return Criterion{}, Errorf(EINVALID, "criterion %q: both bounds must be on %s, not %s", s, metric, name)
			}
			parts = append(parts, "AND")
		}
		if op == "==" || op == "=" {
			return Criterion{}, Errorf(EINVALID, "criterion %q: %s is not a threshold; use <, <=, > or >=", s, op)
		}
		if u != "" && strings.ToLower(u) != unit {
			return Criterion{}, Errorf(EINVALID, "criterion %q: %s is measured in %s, not %s", s, metric, unit, u)
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return Criterion{}, Errorf(EINVALID, "criterion %q: bad number %q", s, num)
		}
		if metric == MetricBurnRate && v < 0 {
			return Criterion{}, Errorf(EINVALID, "criterion %q: a burn rate is never negative", s)
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
			return Criterion{}, Errorf(EINVALID, "criterion %q: two bounds must be one lower (>, >=) and one upper (<, <=)", s)
		}
		if !intervalNonEmpty(lo, hi) {
			return Criterion{}, Errorf(EINVALID, "criterion %q matches nothing", s)
		}
	}
	c.Text = strings.Join(parts, " ")
	return c, nil
}

// formatBound writes a threshold value as the seed does: percentages plainly
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

func (ps *policyParser) exceptions(n *yaml.Node) (map[string]ExceptionRule, error) {
	if err := ps.noAlias(n); err != nil {
		return nil, err
	}
	out := map[string]ExceptionRule{}
	switch n.Kind {
	case yaml.SequenceNode:
		// The seed YAML's list form: - type: X, override: always_allow, requirements: [...]
		for i, item := range n.Content {
			where := fmt.Sprintf("exceptions[%d]", i)
			es, err := ps.mapping(item, where, exceptionKeys)
			if err != nil {
				return nil, err
			}
			f := byKey(es)
			te, ok := f["type"]
			if !ok {
				return nil, ps.errorf(item, "%s: type is required", where)
			}
			r := ExceptionRule{Override: OverrideAlwaysAllow}
			if r.Type, err = ps.exceptionType(te.val, where+".type"); err != nil {
				return nil, err
			}
			if oe, ok := f["override"]; ok {
				if r.Override, err = ps.text(oe.val, where+".override"); err != nil {
					return nil, err
				}
				if r.Override != OverrideAlwaysAllow {
					return nil, ps.errorf(oe.val, "%s.override must be %q, not %q", where, OverrideAlwaysAllow, r.Override)
				}
			}
			if re, ok := f["requirements"]; ok {
				if r.Requirements, err = ps.texts(re.val, where+".requirements"); err != nil {
					return nil, err
				}
			}
			if _, dup := out[r.Type]; dup {
				return nil, ps.errorf(te.val, "%s: exception for %s given twice", where, r.Type)
			}
			out[r.Type] = r
		}
	case yaml.MappingNode:
		// The seed Python's map form: critical_security_fix: true. False
		// leaves the type out.
		es, err := ps.mapping(n, "exceptions", nil)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			t, err := ps.exceptionType(e.key, "exceptions")
			if err != nil {
				return nil, err
			}
			if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!bool" {
				return nil, ps.errorf(e.val, "exceptions.%s must be true or false, not %s", e.key.Value, describe(e.val))
			}
			var on bool
			if err := e.val.Decode(&on); err != nil {
				return nil, ps.errorf(e.val, "exceptions.%s must be true or false", e.key.Value)
			}
			if _, dup := out[t]; dup {
				return nil, ps.errorf(e.key, "exceptions: %s given twice", t)
			}
			if on {
				out[t] = ExceptionRule{Type: t, Override: OverrideAlwaysAllow}
			}
		}
	default:
		return nil, ps.errorf(n, "exceptions must be a list or a mapping, not %s", describe(n))
	}
	return out, nil
}

func (ps *policyParser) exceptionType(n *yaml.Node, what string) (string, error) {
	t, err := ps.text(n, what)
	if err != nil {
		return "", err
	}
	if t == securityAlias {
		return "critical_security_fix", nil
	}
	if !slices.Contains(ReleaseTypes, t) {
		return "", ps.errorf(n, "%s: unknown release type %q (want one of: %s, or %s)", what, t, strings.Join(ReleaseTypes, ", "), securityAlias)
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
		name := e.key.Value
		esc := Escalation{Name: name}
		if name != ExhaustedEscalation {
			m := escalationRe.FindStringSubmatch(name)
			if m == nil {
				return nil, ps.errorf(e.key, "unknown key %q in escalation (want budget_<N>pct or %s)", name, ExhaustedEscalation)
			}
			esc.ThresholdPct, _ = strconv.ParseFloat(m[1], 64)
			if !(esc.ThresholdPct > 0 && esc.ThresholdPct <= 100) {
				return nil, ps.errorf(e.key, "escalation %s: the percentage must be above 0 and at most 100 (use %s for 0)", name, ExhaustedEscalation)
			}
		}
		if other, dup := seen[esc.ThresholdPct]; dup {
			return nil, ps.errorf(e.key, "escalation %s has the same threshold as %s", name, other)
		}
		seen[esc.ThresholdPct] = name
		where := "escalation." + name
		fs, err := ps.mapping(e.val, where, escalationKeys)
		if err != nil {
			return nil, err
		}
		f := byKey(fs)
		ne, ok := f["notify"]
		if !ok {
			return nil, ps.errorf(e.key, "%s: notify is required", where)
		}
		if esc.Notify, err = ps.texts(ne.val, where+".notify"); err != nil {
			return nil, err
		}
		if len(esc.Notify) == 0 {
			return nil, ps.errorf(ne.val, "%s.notify must name at least one role", where)
		}
		if ae, ok := f["action"]; ok {
			if esc.Action, err = ps.text(ae.val, where+".action"); err != nil {
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
	f := byKey(es)
	var out []Review
	for _, c := range reviewCadences {
		e, ok := f[c]
		if !ok {
			continue
		}
		name, err := ps.text(e.val, "review_cadence."+c)
		if err != nil {
			return nil, err
		}
		out = append(out, Review{Cadence: c, Name: name, Every: cadenceEvery[c]})
	}
	return out, nil
}

// cadenceEvery is each cadence's nominal period; Due uses calendar months.
var cadenceEvery = map[string]time.Duration{
	"weekly":    7 * 24 * time.Hour,
	"monthly":   30 * 24 * time.Hour,
	"quarterly": 91 * 24 * time.Hour,
}

// Due reports whether the review is due at now when it was last held at last
// (the zero time: never). Months are calendar months, so a monthly review
// held on 15 March is due from 15 April.
func (r Review) Due(last, now time.Time) bool {
	if last.IsZero() {
		return true
	}
	return !now.Before(r.Next(last))
}

// Next is when a review held at last falls due again.
func (r Review) Next(last time.Time) time.Time {
	switch r.Cadence {
	case "weekly":
		return last.AddDate(0, 0, 7)
	case "monthly":
		return last.AddDate(0, 1, 0)
	case "quarterly":
		return last.AddDate(0, 3, 0)
	}
	return last.Add(r.Every)
}

// StatusOf classifies figures by the policy's thresholds (SPEC 2.3), most
// severe state first. Callers decide no_data before calling.
func (p *Policy) StatusOf(remainingPct, burnRate float64) Status {
	for _, s := range GateStatuses {
		g := p.Gates[s]
		if g == nil {
			continue
		}
		if g.EnterRemaining != nil && g.EnterRemaining.Holds(remainingPct) ||
			g.EnterBurn != nil && g.EnterBurn.Holds(burnRate) {
			return s
		}
	}
	return StatusHealthy
}

// Canonical is the effective policy, defaults included, as a YAML policy file
// that ParsePolicy accepts and that parses to the same Version. Comments, key
// order, layout and the way defaults were reached do not change it; its
// sha256 is the policy's Version. `budgetgate policy check` prints it.
func (p *Policy) Canonical() []byte {
	root := mapNode()
	addPair(root, "service", strNode(p.Service))
	addPair(root, "slo_target", floatNode(p.SLOTarget))
	addPair(root, "window", strNode(p.WindowText))
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
