package variant

import (
	"cmp"
	"slices"
	"time"
)

// Violation states (see docs/BUDGET_MATH.md, Compliance and projection): open until a later baseline analysis is
// back within limits; excepted while an approved exception covers it.
const (
	ViolationOpen     = "open"
	ViolationExcepted = "excepted"
	ViolationResolved = "resolved"
)

// ViolationStates lists the states in the order pages offer them.
var ViolationStates = []string{ViolationOpen, ViolationExcepted, ViolationResolved}

// ProjectAnalysis is an analysis as the server keeps it: the document, and
// what the server made of it.
type ProjectAnalysis struct {
	ID         int64      `json:"analysis_id"`
	Project    string     `json:"project"`
	Commit     string     `json:"commit_sha"`
	Baseline   string     `json:"baseline"`
	OnBaseline bool       `json:"on_baseline"` // the commit is on the baseline branch: it counts for history, compliance and resolution
	Status     string     `json:"status"`      // pass, warn, blocked or excepted
	Source     string     `json:"source"`      // "ci" (posted) or "server" (analysed by the server)
	By         string     `json:"requested_by"`
	Compliance Compliance `json:"compliance"`
	CreatedAt  time.Time  `json:"analyzed_at"`
	Analysis   *Analysis  `json:"-"`
}

// TrackedViolation is a violation as the server tracks it across analyses.
type TrackedViolation struct {
	ID           int64      `json:"id"`
	Project      string     `json:"project"`
	Commit       string     `json:"commit_sha"`
	OnBaseline   bool       `json:"on_baseline"`
	Dimension    string     `json:"dimension"`
	Variant      string     `json:"variant"`
	Metric       string     `json:"metric"`
	Kind         string     `json:"status"` // fail or trend_fail
	Value        float64    `json:"value"`
	Delta        float64    `json:"delta"`
	Limit        float64    `json:"limit"`
	State        string     `json:"state"`
	OpenedAt     time.Time  `json:"opened_at"`
	OpenedBy     int64      `json:"opened_by_analysis"`
	LastAnalysis int64      `json:"last_analysis"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy   int64      `json:"resolved_by_analysis,omitempty"`
	New          bool       `json:"new,omitempty"` // opened by the analysis being answered
}

// Violation returns the figure the violation was last seen at.
func (v *TrackedViolation) Violation() Violation {
	return Violation{Dimension: v.Dimension, Variant: v.Variant, Metric: v.Metric, Status: v.Kind, Value: v.Value, Delta: v.Delta, Limit: v.Limit}
}

// ComplianceRecord is a project's compliance at one baseline analysis.
type ComplianceRecord struct {
	AnalysisID int64     `json:"analysis_id"`
	Commit     string    `json:"commit_sha"`
	At         time.Time `json:"at"`
	Compliance
}

// FigurePoint is one (dimension, metric) figure of one baseline analysis:
// a point of the history.
type FigurePoint struct {
	AnalysisID int64     `json:"analysis_id"`
	Commit     string    `json:"commit_sha"`
	At         time.Time `json:"at"`
	Dimension  string    `json:"dimension"`
	Metric     string    `json:"metric"`
	Budget     string    `json:"budget"`
	Status     string    `json:"status"`
	Delta      float64   `json:"delta"`
	Variant    string    `json:"variant"`
	Share      float64   `json:"share"`
	ChangePP   *float64  `json:"change_pp"`
	SoftLimit  float64   `json:"soft_limit"`
	HardLimit  float64   `json:"hard_limit"`
	TrendLimit *float64  `json:"trend_limit"`
}

// ProjectionWindow is how many recent baseline figures a projection fits.
const ProjectionWindow = 20

// MetricProjection is the projection of one (dimension, metric) towards
// its hard limit.
type MetricProjection struct {
	Dimension string `json:"dimension"`
	Metric    string `json:"metric"`
	Budget    string `json:"budget"`
	Projection
}

// ProjectHistory fits, for every (dimension, metric) of points, a line
// through its last ProjectionWindow figures towards the hard limit of the
// latest one, soonest crossing first (those already over before them).
func ProjectHistory(points []FigurePoint) []MetricProjection {
	type key struct{ dim, metric string }
	series := map[key][]FigurePoint{}
	var order []key
	for _, p := range points {
		k := key{p.Dimension, p.Metric}
		if _, ok := series[k]; !ok {
			order = append(order, k)
		}
		series[k] = append(series[k], p)
	}
	var out []MetricProjection
	for _, k := range order {
		s := series[k]
		slices.SortStableFunc(s, func(x, y FigurePoint) int { return x.At.Compare(y.At) })
		s = s[max(0, len(s)-ProjectionWindow):]
		tps := make([]TrendPoint, len(s))
		for i, p := range s {
			tps[i] = TrendPoint{Time: p.At, Value: p.Delta}
		}
		last := s[len(s)-1]
		if pr, ok := ProjectCrossing(tps, last.HardLimit); ok {
			out = append(out, MetricProjection{Dimension: k.dim, Metric: k.metric, Budget: last.Budget, Projection: pr})
		}
	}
	slices.SortStableFunc(out, func(x, y MetricProjection) int { return CompareProjections(x.Projection, y.Projection) })
	return out
}

// CompareProjections orders projections by urgency: those already over
// their limit first, then those that cross it, soonest first, then the
// rest. Projections it cannot tell apart compare equal, so a stable sort
// keeps their order. See docs/BUDGET_MATH.md, Compliance and projection.
func CompareProjections(a, b Projection) int {
	return cmp.Or(cmp.Compare(rankProjection(a), rankProjection(b)), compareCrossing(a.Crosses, b.Crosses))
}

func rankProjection(p Projection) int {
	switch {
	case p.Over:
		return 0
	case p.Crosses != nil:
		return 1
	}
	return 2
}

func compareCrossing(a, b *time.Time) int {
	if a == nil || b == nil {
		return 0
	}
	return a.Compare(*b)
}

// releaseTag matches the default release tags (v1.2, ...).
var releaseTag = MustCompileGlob(DefaultReleaseTags)

// OfBaseline tells whether an analysis says it is of the baseline branch
// itself: compared with nothing, with its own commit, or only with the last
// release, which the analyzer does when the commit is the baseline's (it
// then names the release tag as the baseline). A change compared with its
// branch in a repository without release tags names the branch there, so
// only a name that looks like a release tag counts. A poster can say outright
// with "on_baseline" or "branch"; only a token with the baseline scope is
// believed (app.Analyses.PostedBaseline).
func (a *Analysis) OfBaseline() bool {
	if a.BaselineCommit == "" || a.BaselineCommit == a.Commit {
		return true
	}
	_, tag := releaseTag.Match(a.Baseline)
	return a.TrendRef != "" && a.Baseline == a.TrendRef && tag
}
