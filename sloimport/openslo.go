package sloimport

import (
	"fmt"
	neturl "net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/policyfile"
	"gopkg.in/yaml.v3"
)

const (
	openSLOv1      = "openslo/v1"
	openSLOv1alpha = "openslo/v1alpha"
)

// The keys budgetgate reads in OpenSLO objects. Those about alerting
// (alertPolicies and the alert kinds) are for the tools that write alert
// rules: they do not change an SLO's figures, and budgetgate escalates by
// its own policy. displayName, labels and annotations are descriptive.
var (
	openSLOTopKeys      = []string{"apiVersion", "kind", "metadata", "spec"}
	openSLOMetaKeys     = []string{"name", "displayName", "labels", "annotations"}
	sloV1Keys           = []string{"description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives", "alertPolicies"}
	sloV1alphaKeys      = []string{"description", "service", "indicator", "timeWindows", "budgetingMethod", "objectives"}
	objectiveV1Keys     = []string{"displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow", "indicator", "indicatorRef", "compositeWeight"}
	objectiveAlphaKeys  = []string{"displayName", "op", "value", "target", "timeSliceTarget", "ratioMetrics"}
	inlineSLIKeys       = []string{"metadata", "spec"}
	sliSpecKeys         = []string{"description", "thresholdMetric", "ratioMetric"}
	ratioMetricKeys     = []string{"counter", "good", "bad", "total", "rawType", "raw"}
	metricKeys          = []string{"metricSource"}
	metricSourceKeys    = []string{"metricSourceRef", "type", "spec"}
	promSpecKeys        = []string{"query"}
	dataSourceKeys      = []string{"description", "type", "connectionDetails"}
	ratioMetricsKeys    = []string{"good", "total", "incremental"}
	alphaMetricKeys     = []string{"source", "queryType", "query", "metadata"}
	timeWindowKeys      = []string{"duration", "isRolling", "calendar"}
	timeWindowAlphaKeys = []string{"count", "unit", "isRolling", "calendar"}
	openSLOKinds        = map[string][]string{
		openSLOv1:      {"SLO", "SLI", "DataSource", "Service", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"},
		openSLOv1alpha: {"SLO", "Service"},
	}
)

// object is one OpenSLO document: its header read, its spec not yet.
type object struct {
	version, kind, name string
	nameNode, spec      *yaml.Node
}

// openSLODocuments reads the OpenSLO documents of a file. An SLO may refer
// to an SLI and a DataSource of the same file, in any order.
func openSLODocuments(r policyfile.Reader, docs []*yaml.Node) ([]SLO, error) {
	objs := make([]object, len(docs))
	slis, sources := map[string]object{}, map[string]object{}
	for i, d := range docs {
		o, err := header(r, d)
		if err != nil {
			return nil, err
		}
		objs[i] = o
		byName := map[string]map[string]object{"SLI": slis, "DataSource": sources}[o.kind]
		if byName == nil {
			continue
		}
		if first, dup := byName[o.name]; dup {
			return nil, r.Errorf(o.nameNode, "%s %q is defined twice (first at %s)", o.kind, o.name, r.At(first.nameNode))
		}
		byName[o.name] = o
	}
	var out []SLO
	for _, o := range objs {
		if o.kind != "SLO" {
			continue
		}
		got, err := openSLO(r, o, slis, sources)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func header(r policyfile.Reader, doc *yaml.Node) (object, error) {
	var o object
	es, err := r.Mapping(doc, "", openSLOTopKeys)
	if err != nil {
		return o, err
	}
	m := policyfile.ByKey(es)
	o.version = m["apiVersion"].Value.Value
	e, err := required(r, m, doc, "kind", "kind")
	if err != nil {
		return o, err
	}
	if o.kind, err = r.Text(e.Value, "kind"); err != nil {
		return o, err
	}
	if !slices.Contains(openSLOKinds[o.version], o.kind) {
		return o, r.Errorf(e.Value, "kind %q is not an %s kind (%s)", o.kind, o.version, strings.Join(openSLOKinds[o.version], ", "))
	}
	if e, err = required(r, m, doc, "metadata", "metadata"); err != nil {
		return o, err
	}
	meta, err := r.Mapping(e.Value, "metadata", openSLOMetaKeys)
	if err != nil {
		return o, err
	}
	if e, err = required(r, policyfile.ByKey(meta), e.Value, "name", "metadata.name"); err != nil {
		return o, err
	}
	o.nameNode = e.Value
	// An SLO's name becomes budgetgate's; the others only name what
	// refers to them.
	read := r.Text
	if o.kind == "SLO" {
		read = func(n *yaml.Node, what string) (string, error) { return name(r, n, what) }
	}
	if o.name, err = read(e.Value, "metadata.name"); err != nil {
		return o, err
	}
	if e, ok := m["spec"]; ok && !policyfile.IsNull(e.Value) {
		o.spec = e.Value
	} else if o.kind == "SLO" || o.kind == "SLI" || o.kind == "DataSource" {
		return o, r.Errorf(doc, "spec is required in a %s", o.kind)
	}
	return o, nil
}

// ratio is what an SLI says: the queries and where they go.
type ratio struct {
	good, bad, total, url string
}

// openSLO reads one SLO object: one budgetgate SLO per objective, named
// after the object (and, with several objectives, numbered as Sloth does).
func openSLO(r policyfile.Reader, o object, slis, sources map[string]object) ([]SLO, error) {
	keys := sloV1Keys
	if o.version == openSLOv1alpha {
		keys = sloV1alphaKeys
	}
	es, err := r.Mapping(o.spec, "spec", keys)
	if err != nil {
		return nil, err
	}
	m := policyfile.ByKey(es)
	base := SLO{Format: OpenSLO, Name: o.name, At: r.At(o.nameNode)}
	e, err := required(r, m, o.spec, "service", "spec.service")
	if err != nil {
		return nil, err
	}
	if base.Service, err = name(r, e.Value, "spec.service"); err != nil {
		return nil, err
	}
	if e, ok := m["description"]; ok && !policyfile.IsNull(e.Value) {
		if base.Description, err = r.Text(e.Value, "spec.description"); err != nil {
			return nil, err
		}
	}
	if e, ok := m["budgetingMethod"]; ok {
		if err := budgetingMethod(r, e.Value); err != nil {
			return nil, err
		}
	}
	if base.Window, err = window(r, o.version, m); err != nil {
		return nil, err
	}
	var shared *ratio // the SLO's own indicator (v1), shared by its objectives
	if o.version == openSLOv1 {
		if shared, err = indicator(r, m, o.spec, "spec", slis, sources); err != nil {
			return nil, err
		}
		if shared == nil {
			return nil, r.Errorf(o.spec, "spec.indicator or spec.indicatorRef is required")
		}
	} else if e, ok := m["indicator"]; ok {
		return nil, unsupported(r, e.Key, "spec.indicator", "in openslo/v1alpha it is a threshold metric, and budgetgate counts good and total events: use objectives[].ratioMetrics")
	}
	e, err = required(r, m, o.spec, "objectives", "spec.objectives")
	if err != nil {
		return nil, err
	}
	items, err := r.List(e.Value, "spec.objectives")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, r.Errorf(e.Value, "spec.objectives must list at least one objective")
	}
	out := make([]SLO, 0, len(items))
	for i, item := range items {
		s := base
		if len(items) > 1 {
			s.Name = fmt.Sprintf("%s-%d", o.name, i)
			if !errorbudget.ValidSLOName(s.Name) {
				return nil, r.Errorf(o.nameNode, "metadata.name %q with the number of its objective, %q, is longer than 63 characters", o.name, s.Name)
			}
		}
		rt, err := objective(r, o.version, item, index("spec.objectives", i), &s)
		if err != nil {
			return nil, err
		}
		if rt == nil {
			rt = shared
		}
		s.Good, s.Bad, s.Total, s.URL = rt.good, rt.bad, rt.total, rt.url
		out = append(out, s)
	}
	return out, nil
}

func budgetingMethod(r policyfile.Reader, n *yaml.Node) error {
	method, err := r.Text(n, "spec.budgetingMethod")
	if err != nil {
		return err
	}
	switch method {
	case "Occurrences":
		return nil
	case "Timeslices", "RatioTimeslices":
		return unsupported(r, n, "spec.budgetingMethod "+method, "budgetgate counts good and total events (Occurrences)")
	}
	return r.Errorf(n, "spec.budgetingMethod %q is not one of Occurrences, Timeslices, RatioTimeslices", method)
}

// objective reads one objective's target into s, and its ratio metric when
// it has its own (v1alpha).
func objective(r policyfile.Reader, version string, n *yaml.Node, where string, s *SLO) (*ratio, error) {
	keys := objectiveV1Keys
	if version == openSLOv1alpha {
		keys = objectiveAlphaKeys
	}
	es, err := r.Mapping(n, where, keys)
	if err != nil {
		return nil, err
	}
	m := policyfile.ByKey(es)
	for _, k := range []string{"timeSliceTarget", "timeSliceWindow"} {
		if e, ok := m[k]; ok {
			return nil, unsupported(r, e.Key, join(where, k), "Timeslices budgeting: budgetgate counts good and total events (Occurrences)")
		}
	}
	for _, k := range []string{"indicator", "indicatorRef", "compositeWeight"} {
		if e, ok := m[k]; ok {
			return nil, unsupported(r, e.Key, join(where, k), "a composite SLO: give each indicator an SLO of its own")
		}
	}
	target, hasTarget := m["target"]
	pct, hasPct := m["targetPercent"]
	switch {
	case hasTarget && hasPct:
		return nil, r.Errorf(pct.Key, "%s: give target or targetPercent, not both", where)
	case hasTarget:
		s.Objective, err = ratioAsPercent(r, target.Value, join(where, "target"))
	case hasPct:
		s.Objective, err = percent(r, pct.Value, join(where, "targetPercent"))
	default:
		err = r.Errorf(n, "%s: target (0 to 1) or targetPercent is required", where)
	}
	if err != nil {
		return nil, err
	}
	if version == openSLOv1 {
		return nil, nil
	}
	e, err := required(r, m, n, "ratioMetrics", join(where, "ratioMetrics"))
	if err != nil {
		return nil, err
	}
	return ratioMetrics(r, e.Value, join(where, "ratioMetrics"))
}

// indicator reads an SLO's inline indicator or the SLI its indicatorRef
// names; nil when it has neither.
func indicator(r policyfile.Reader, m map[string]policyfile.Entry, parent *yaml.Node, where string, slis, sources map[string]object) (*ratio, error) {
	inline, hasInline := m["indicator"]
	ref, hasRef := m["indicatorRef"]
	switch {
	case hasInline && hasRef:
		return nil, r.Errorf(ref.Key, "%s: give indicator or indicatorRef, not both", where)
	case hasRef:
		refName, err := r.Text(ref.Value, join(where, "indicatorRef"))
		if err != nil {
			return nil, err
		}
		sli, ok := slis[refName]
		if !ok {
			return nil, r.Errorf(ref.Value, "%s: no SLI named %q in this file", join(where, "indicatorRef"), refName)
		}
		return sliSpec(r, sli.spec, "spec", sources)
	case hasInline:
		es, err := r.Mapping(inline.Value, join(where, "indicator"), inlineSLIKeys)
		if err != nil {
			return nil, err
		}
		e, err := required(r, policyfile.ByKey(es), inline.Value, "spec", join(where, "indicator.spec"))
		if err != nil {
			return nil, err
		}
		return sliSpec(r, e.Value, join(where, "indicator.spec"), sources)
	}
	return nil, nil
}

func sliSpec(r policyfile.Reader, n *yaml.Node, where string, sources map[string]object) (*ratio, error) {
	es, err := r.Mapping(n, where, sliSpecKeys)
	if err != nil {
		return nil, err
	}
	m := policyfile.ByKey(es)
	if e, ok := m["thresholdMetric"]; ok {
		return nil, unsupported(r, e.Key, join(where, "thresholdMetric"), "budgetgate counts good and total events: use a ratioMetric")
	}
	e, err := required(r, m, n, "ratioMetric", join(where, "ratioMetric"))
	if err != nil {
		return nil, err
	}
	return ratioMetric(r, e.Value, join(where, "ratioMetric"), sources)
}

// ratioMetric reads a v1 ratioMetric: good or bad, and total, and whether
// their queries are counters.
func ratioMetric(r policyfile.Reader, n *yaml.Node, where string, sources map[string]object) (*ratio, error) {
	es, err := r.Mapping(n, where, ratioMetricKeys)
	if err != nil {
		return nil, err
	}
	m := policyfile.ByKey(es)
	for _, k := range []string{"raw", "rawType"} {
		if e, ok := m[k]; ok {
			return nil, unsupported(r, e.Key, join(where, k), "a raw ratio metric is a ratio without the events behind it, and budgetgate counts events: use good or bad, and total")
		}
	}
	good, hasGood := m["good"]
	bad, hasBad := m["bad"]
	if hasGood == hasBad {
		return nil, r.Errorf(n, "%s: give good or bad (not both), and total", where)
	}
	mark, err := readCounter(r, m, join(where, "counter"))
	if err != nil {
		return nil, err
	}
	var rt ratio
	numerator, field, into := good, "good", &rt.good
	if hasBad {
		numerator, field, into = bad, "bad", &rt.bad
	}
	var numURL string
	if *into, numURL, err = metric(r, numerator.Value, join(where, field), mark, sources); err != nil {
		return nil, err
	}
	total, err := required(r, m, n, "total", join(where, "total"))
	if err != nil {
		return nil, err
	}
	if rt.total, rt.url, err = metric(r, total.Value, join(where, "total"), mark, sources); err != nil {
		return nil, err
	}
	if numURL != rt.url {
		return nil, r.Errorf(total.Value, "%s: %s and total must come from the same Prometheus", where, field)
	}
	return &rt, nil
}

// metric reads a v1 metric: a Prometheus query, typed inline or through a
// DataSource of the file; it returns the query and the data source's URL.
func metric(r policyfile.Reader, n *yaml.Node, where string, mark counter, sources map[string]object) (q, url string, err error) {
	es, err := r.Mapping(n, where, metricKeys)
	if err != nil {
		return "", "", err
	}
	e, err := required(r, policyfile.ByKey(es), n, "metricSource", join(where, "metricSource"))
	if err != nil {
		return "", "", err
	}
	where, src := join(where, "metricSource"), e.Value
	es, err = r.Mapping(src, where, metricSourceKeys)
	if err != nil {
		return "", "", err
	}
	m := policyfile.ByKey(es)
	var typ string
	var typNode *yaml.Node
	if e, ok := m["type"]; ok {
		if typ, err = r.Text(e.Value, join(where, "type")); err != nil {
			return "", "", err
		}
		typNode = e.Value
	}
	if e, ok := m["metricSourceRef"]; ok {
		if url, typ, typNode, err = dataSource(r, e.Value, join(where, "metricSourceRef"), typ, typNode, sources); err != nil {
			return "", "", err
		}
	}
	if typNode == nil {
		return "", "", r.Errorf(src, "%s: type is required (Prometheus)", where)
	}
	if !strings.EqualFold(typ, "Prometheus") {
		return "", "", unsupported(r, typNode, fmt.Sprintf("metric source type %q", typ), "budgetgate queries Prometheus, or a store that speaks its query API")
	}
	e, err = required(r, m, src, "spec", join(where, "spec"))
	if err != nil {
		return "", "", err
	}
	es, err = r.Mapping(e.Value, join(where, "spec"), promSpecKeys)
	if err != nil {
		return "", "", err
	}
	qe, err := required(r, policyfile.ByKey(es), e.Value, "query", join(where, "spec.query"))
	if err != nil {
		return "", "", err
	}
	q, err = query(r, qe.Value, join(where, "spec.query"), mark)
	return q, url, err
}

// dataSource resolves a metricSourceRef to a DataSource of the file, which
// gives the metric's type (when the metric does not) and the URL of its
// Prometheus. Credentials are the server's to hold (docs/OPERATIONS.md),
// so connectionDetails other than url are not read.
func dataSource(r policyfile.Reader, n *yaml.Node, where, typ string, typNode *yaml.Node, sources map[string]object) (url, _ string, _ *yaml.Node, err error) {
	ref, err := r.Text(n, where)
	if err != nil {
		return "", "", nil, err
	}
	ds, ok := sources[ref]
	if !ok {
		return "", "", nil, r.Errorf(n, "%s: no DataSource named %q in this file", where, ref)
	}
	es, err := r.Mapping(ds.spec, "spec", dataSourceKeys)
	if err != nil {
		return "", "", nil, err
	}
	m := policyfile.ByKey(es)
	te, err := required(r, m, ds.spec, "type", "spec.type")
	if err != nil {
		return "", "", nil, err
	}
	dsType, err := r.Text(te.Value, "spec.type")
	if err != nil {
		return "", "", nil, err
	}
	if typNode != nil && !strings.EqualFold(typ, dsType) {
		return "", "", nil, r.Errorf(typNode, "%s: type %q, but DataSource %q is of type %q", where, typ, ref, dsType)
	}
	if e, ok := m["connectionDetails"]; ok && e.Value.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(e.Value.Content); i += 2 {
			if k, v := e.Value.Content[i], e.Value.Content[i+1]; k.Value == "url" {
				if url, err = r.Text(v, "spec.connectionDetails.url"); err != nil {
					return "", "", nil, err
				}
				if u, err := neturl.Parse(url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return "", "", nil, r.Errorf(v, "spec.connectionDetails.url %q must be an http or https URL", url)
				}
			}
		}
	}
	return url, dsType, te.Value, nil
}

// ratioMetrics reads a v1alpha ratioMetrics, as Sloth reads it: good and
// total PromQL queries; incremental is v1alpha's name for counter.
func ratioMetrics(r policyfile.Reader, n *yaml.Node, where string) (*ratio, error) {
	es, err := r.Mapping(n, where, ratioMetricsKeys)
	if err != nil {
		return nil, err
	}
	m := policyfile.ByKey(es)
	mark, err := readCounter(r, m, join(where, "incremental"))
	if err != nil {
		return nil, err
	}
	var rt ratio
	for _, f := range []struct {
		key  string
		into *string
	}{{"good", &rt.good}, {"total", &rt.total}} {
		e, err := required(r, m, n, f.key, join(where, f.key))
		if err != nil {
			return nil, err
		}
		if *f.into, err = alphaMetric(r, e.Value, join(where, f.key), mark); err != nil {
			return nil, err
		}
	}
	return &rt, nil
}

func alphaMetric(r policyfile.Reader, n *yaml.Node, where string, mark counter) (string, error) {
	es, err := r.Mapping(n, where, alphaMetricKeys)
	if err != nil {
		return "", err
	}
	m := policyfile.ByKey(es)
	e, err := required(r, m, n, "source", join(where, "source"))
	if err != nil {
		return "", err
	}
	source, err := r.Text(e.Value, join(where, "source"))
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(source, "prometheus") {
		return "", unsupported(r, e.Value, fmt.Sprintf("%s %q", join(where, "source"), source), "budgetgate queries Prometheus, or a store that speaks its query API")
	}
	if e, ok := m["queryType"]; ok {
		qt, err := r.Text(e.Value, join(where, "queryType"))
		if err != nil {
			return "", err
		}
		if !strings.EqualFold(qt, "promql") {
			return "", unsupported(r, e.Value, fmt.Sprintf("%s %q", join(where, "queryType"), qt), "budgetgate runs PromQL")
		}
	}
	e, err = required(r, m, n, "query", join(where, "query"))
	if err != nil {
		return "", err
	}
	return query(r, e.Value, join(where, "query"), mark)
}

// window reads the SLO's rolling window: v1 timeWindow (duration), v1alpha
// timeWindows (count and unit); none is Sloth's 30 days.
func window(r policyfile.Reader, version string, m map[string]policyfile.Entry) (string, error) {
	key, keys := "timeWindow", timeWindowKeys
	if version == openSLOv1alpha {
		key, keys = "timeWindows", timeWindowAlphaKeys
	}
	e, ok := m[key]
	if !ok || policyfile.IsNull(e.Value) {
		return DefaultWindow, nil
	}
	where := "spec." + key
	items, err := r.List(e.Value, where)
	if err != nil {
		return "", err
	}
	if len(items) != 1 {
		return "", r.Errorf(e.Value, "%s must hold exactly one window, not %d", where, len(items))
	}
	where = index(where, 0)
	es, err := r.Mapping(items[0], where, keys)
	if err != nil {
		return "", err
	}
	w := policyfile.ByKey(es)
	if e, ok := w["calendar"]; ok {
		return "", unsupported(r, e.Key, join(where, "calendar"), "calendar windows: budgetgate's windows are rolling")
	}
	if e, ok := w["isRolling"]; ok {
		rolling, err := r.Bool(e.Value, join(where, "isRolling"))
		if err != nil {
			return "", err
		}
		if !rolling {
			return "", unsupported(r, e.Value, join(where, "isRolling")+" false", "calendar windows: budgetgate's windows are rolling")
		}
	}
	text, at, err := windowText(r, version, items[0], w, where)
	if err != nil {
		return "", err
	}
	if _, err := errorbudget.ParseWindow(text); err != nil {
		return "", r.Errorf(at, "%s: %s", where, budgetgate.ErrorMessage(err))
	}
	return text, nil
}

// windowText is the window as budgetgate writes it ("30d", "4w"), and the
// node it was read from.
func windowText(r policyfile.Reader, version string, n *yaml.Node, w map[string]policyfile.Entry, where string) (string, *yaml.Node, error) {
	if version == openSLOv1 {
		e, err := required(r, w, n, "duration", join(where, "duration"))
		if err != nil {
			return "", nil, err
		}
		d, err := r.Text(e.Value, join(where, "duration"))
		if err != nil {
			return "", nil, err
		}
		m := durationRe.FindStringSubmatch(d)
		if m == nil {
			return "", nil, r.Errorf(e.Value, "%s %q must be a whole number with a unit (m, h, d, w, M, Q or Y), as in 28d", join(where, "duration"), d)
		}
		if unit := m[2]; unit != "d" && unit != "w" {
			return "", nil, unsupported(r, e.Value, fmt.Sprintf("%s %q", join(where, "duration"), d), windowUnits)
		}
		return d, e.Value, nil
	}
	e, err := required(r, w, n, "count", join(where, "count"))
	if err != nil {
		return "", nil, err
	}
	count, isInt, err := r.Number(e.Value, join(where, "count"))
	if err != nil {
		return "", nil, err
	}
	if !isInt || count < 1 || count > errorbudget.MaxWindowDays {
		return "", nil, r.Errorf(e.Value, "%s must be a whole number from 1 to %d, not %s", join(where, "count"), errorbudget.MaxWindowDays, e.Value.Value)
	}
	u, err := required(r, w, n, "unit", join(where, "unit"))
	if err != nil {
		return "", nil, err
	}
	unit, err := r.Text(u.Value, join(where, "unit"))
	if err != nil {
		return "", nil, err
	}
	suffix := map[string]string{"day": "d", "week": "w"}[strings.ToLower(unit)]
	if suffix == "" {
		return "", nil, unsupported(r, u.Value, fmt.Sprintf("%s %q", join(where, "unit"), unit), windowUnits)
	}
	return fmt.Sprintf("%d%s", int(count), suffix), e.Value, nil
}

// durationRe is OpenSLO's duration shorthand.
var durationRe = regexp.MustCompile(`^([1-9][0-9]*)([mhdwMQY])$`)

const windowUnits = "budgetgate's windows are whole days or weeks (months, quarters and years vary in length; hours and minutes are too short for an error budget)"
