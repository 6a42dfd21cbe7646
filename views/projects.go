package views

import (
	"fmt"
	"net/url"
	"time"

	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
)

// ProjectSummary is a project's line on the overview.
type ProjectSummary struct {
	Name       string
	Status     string // of the latest baseline analysis; "no_data" without one
	Commit     string
	At         time.Time
	Compliance *variant.Compliance
	Dimensions []DimensionFigure
	Open       int // unresolved violations on the baseline
}

// DimensionFigure is a dimension's worst figure against its limits.
type DimensionFigure struct {
	Name      string
	Status    string
	Metric    string
	Variant   string
	Delta     float64
	SoftLimit float64
	HardLimit float64
}

// ProjectView is /projects/{project}.
type ProjectView struct {
	Page
	Now        time.Time
	Name       string
	RepoPath   string
	Latest     *variant.ProjectAnalysis // latest baseline analysis, nil before the first
	Dimensions []DimensionPanel
	Recent     []*variant.ProjectAnalysis
	Open       []variant.TrackedViolation
	Compliance []variant.ComplianceRecord
	Plans      []ccb.PlanProgress // of the project's variant exceptions
	Ranges     RangeLinks
	// RecentPager pages Recent, newest first.
	RecentPager Pager
	AskBoard    *AskBoard // how to take the blocked project to the board; nil when nothing blocks it
}

// DimensionPanel is one dimension of the project page.
type DimensionPanel struct {
	Name            string
	Status          string
	Charts          []BudgetChart
	Metrics         []variant.MetricResult
	MetricNames     []string // columns of the variants table
	Variants        []variant.VariantResult
	Recommendations []variant.Recommendation
	Projections     []ProjectionLine
	InFile          []variant.SharedFileCode // variant code inside shared files
	CoreCoverage    *variant.LineCoverage    // with coverage reports, else nil
}

// BudgetChart is the delta over time of a dimension's metrics under one budget.
type BudgetChart struct {
	Budget string
	Chart  Chart
}

// ProjectionLine says in words where a metric's trend is heading.
type ProjectionLine struct {
	Metric string
	Text   string
	Status string // "fail" when over or crossing, "pass" otherwise
}

// ViolationsView is /violations.
type ViolationsView struct {
	Page
	Project    string
	State      string
	Projects   []string
	States     []string
	Violations []variant.TrackedViolation
	Pager      Pager
	AskBoards  []*AskBoard // the blocked projects, to take to the board
}

// ComplianceView is /projects/{project}/compliance.
type ComplianceView struct {
	Page
	Name    string
	Current *variant.ComplianceRecord
	History []variant.ComplianceRecord // newest first
	Chart   Chart
	Pairs   []variant.MetricResult // of the latest baseline analysis, dimension in Budget's place
	Latest  *variant.ProjectAnalysis
}

// ProjectHref is a project's page.
func ProjectHref(name string) string { return "/projects/" + url.PathEscape(name) }

// Short shortens a commit id for display.
func Short(commit string) string {
	if len(commit) > 10 {
		return commit[:10]
	}
	return commit
}

// PctPts formats a delta in percent.
func PctPts(v float64) string { return fmt.Sprintf("%.2f%%", v) }

// Change formats a change in percentage points, signed; "–" when unknown.
func Change(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%+.2f pp", *p)
}

// Limits formats soft and hard limits.
func Limits(soft, hard float64) string { return fmt.Sprintf("soft %g%% · hard %g%%", soft, hard) }

// WithinSoft says whether a figure is within its soft limit, as a status.
func WithinSoft(m variant.MetricResult) string {
	if variant.WithinSoft(m.Delta, m.SoftLimit) {
		return "pass"
	}
	return "warn"
}

// Num formats a metric value.
func Num(x float64) string { return fmt.Sprintf("%g", x) }

// ViolationsHref is /violations with a filter.
func ViolationsHref(project, state string) string {
	q := url.Values{}
	if project != "" {
		q.Set("project", project)
	}
	if state != "" {
		q.Set("state", state)
	}
	if len(q) == 0 {
		return "/violations"
	}
	return "/violations?" + q.Encode()
}

// Locations joins a recommendation's code locations.
func Locations(r variant.Recommendation) []string {
	var out []string
	for _, l := range r.Locations {
		s := l.Path
		if l.StartLine > 0 {
			s += fmt.Sprintf(":%d-%d", l.StartLine, l.EndLine)
		}
		out = append(out, s)
	}
	return out
}
