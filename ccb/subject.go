package ccb

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/variant"
)

// ExceptionSubject is what a request would cover. Release requests fill the
// release fields, variant requests the variant ones.
type ExceptionSubject struct {
	DecisionID int64  `json:"decision_id,omitempty"`
	Service    string `json:"service,omitempty"`
	Version    string `json:"version,omitempty"`

	AnalysisID int64   `json:"analysis_id,omitempty"`
	Project    string  `json:"project,omitempty"`
	Commit     string  `json:"commit,omitempty"`
	Dimension  string  `json:"dimension,omitempty"`
	Variant    string  `json:"variant,omitempty"`
	Metric     string  `json:"metric,omitempty"`
	Value      float64 `json:"value,omitempty"` // the measured value an approval allows, no more
	// Covers lists every violation of a blocked analysis a request is for
	// (the fields above name the worst); an approval allows each up to its
	// own measured delta.
	Covers []VariantLimit `json:"covers,omitempty"`
}

// VariantLimit is one (dimension, variant, metric) an exception allows up
// to Value.
type VariantLimit struct {
	Dimension string  `json:"dimension"`
	Variant   string  `json:"variant"`
	Metric    string  `json:"metric"`
	Value     float64 `json:"value"`
}

// VariantExceptionFor builds the subject and evidence of a request for a
// blocked analysis: its violations, worst first, each allowed up to the
// delta it measured.
func VariantExceptionFor(project, commit string, analysisID int64, a *variant.Analysis) (ExceptionSubject, ExceptionEvidence, error) {
	if len(a.Violations) == 0 {
		return ExceptionSubject{}, ExceptionEvidence{}, budgetgate.FieldErrorf("analysis_id", "analysis %d has no violation to except", analysisID)
	}
	worst := a.Violations[0]
	s := ExceptionSubject{AnalysisID: analysisID, Project: project, Commit: commit,
		Dimension: worst.Dimension, Variant: worst.Variant, Metric: worst.Metric, Value: worst.Delta}
	for _, v := range a.Violations {
		s.Covers = append(s.Covers, VariantLimit{Dimension: v.Dimension, Variant: v.Variant, Metric: v.Metric, Value: v.Delta})
	}
	doc, err := json.Marshal(a)
	return s, ExceptionEvidence{Analysis: doc}, err
}

// Key identifies what an approval covers, so that a store can find the
// exception for a release or a violation without reading every request.
func (s ExceptionSubject) Key(kind string) string {
	if kind == ExceptionVariant {
		return strings.Join([]string{s.Project, s.Dimension, s.Variant, s.Metric}, "/")
	}
	return s.Service + "@" + s.Version
}

// Title is a one-line description for lists and notifications. A variant
// request names its project, every dimension/variant it covers, how many
// metrics, and a short commit: the worst metric alone would hide the others.
func (s ExceptionSubject) Title(kind string) string {
	if kind != ExceptionVariant {
		return s.Service + " " + s.Version
	}
	limits := s.Limits()
	var where []string
	for _, l := range limits {
		if dv := l.Dimension + "/" + l.Variant; !slices.Contains(where, dv) {
			where = append(where, dv)
		}
	}
	metrics := "1 metric"
	if len(limits) != 1 {
		metrics = fmt.Sprintf("%d metrics", len(limits))
	}
	return fmt.Sprintf("%s %s: %s over budget at %s", s.Project, strings.Join(where, ", "), metrics, ShortCommit(s.Commit))
}

// Limits lists every (dimension, variant, metric) a variant request covers,
// worst first.
func (s ExceptionSubject) Limits() []VariantLimit {
	if len(s.Covers) > 0 {
		return s.Covers
	}
	return []VariantLimit{{Dimension: s.Dimension, Variant: s.Variant, Metric: s.Metric, Value: s.Value}}
}

// ShortCommit abbreviates a commit id as people read one (git shows 7
// characters by default); other names stay whole.
func ShortCommit(c string) string {
	if len(c) == 40 || len(c) == 64 {
		return c[:7]
	}
	return c
}

// ExceptionEvidence is what the board reviews: the gate's decision for a
// release, the analysis for a variant request.
type ExceptionEvidence struct {
	Decision *errorbudget.Decision `json:"decision,omitempty"`
	Analysis json.RawMessage       `json:"analysis,omitempty"`
}
