package ccb

import (
	"encoding/json"
	"fmt"
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

// Title is a one-line description for lists and notifications.
func (s ExceptionSubject) Title(kind string) string {
	if kind == ExceptionVariant {
		return fmt.Sprintf("%s: %s %s %s (commit %s)", s.Project, s.Dimension, s.Variant, s.Metric, s.Commit)
	}
	return s.Service + " " + s.Version
}

// ExceptionEvidence is what the board reviews: the gate's decision for a
// release, the analysis for a variant request.
type ExceptionEvidence struct {
	Decision *errorbudget.Decision `json:"decision,omitempty"`
	Analysis json.RawMessage       `json:"analysis,omitempty"`
}
