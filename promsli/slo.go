// Package promsli pulls SLIs from Prometheus, or from any store that speaks
// its query API (Thanos, Mimir, Cortex, VictoriaMetrics): it evaluates an
// SLO's good or bad and total queries at a fixed resolution, turns their
// per-second rates into event counts per interval, and hands those to the
// same store as pushed counts. See docs/OPERATIONS.md, Pulled SLIs.
package promsli

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/budgetgate/budgetgate"
)

// The resolution of pulled SLIs (see docs/OPERATIONS.md, Pulled SLIs).
const (
	// Step is the width of one pulled interval: one count per minute, the
	// store's finest bucket.
	Step = time.Minute
	// HourStep is the width of a backfilled interval older than
	// MinuteDetail: one count per hour, from rate() over the hour.
	HourStep = time.Hour
	// MinuteDetail is how far back pulled counts are kept per minute: the
	// longest burn-rate window and an hour. Older hours are backfilled
	// as one count each, stored on the hour's last minute, so that a
	// month's backfill asks Prometheus for about 5,000 points per query
	// instead of 43,200, and writes as many rows; the window's figures
	// are the same, but for at most an hour's events at its oldest edge.
	MinuteDetail = 73 * time.Hour
	// RateWindow is what {{.window}} stands for. Each minute's count is the
	// average rate over the five minutes ending at it, times 60 s: a range
	// holds enough samples for rate() at scrape intervals up to a minute
	// or two, and over many minutes the averages add up to the increase.
	RateWindow = 5 * time.Minute
	// Delay is how long after an interval ends it is pulled, so that the
	// scrapes covering it have been ingested.
	Delay = time.Minute
	// MaxPoints is the largest number of steps one range query asks for;
	// Prometheus refuses more than 11,000 points per series.
	MaxPoints = 10000
	// DefaultMaxStaleness is how old the newest pulled interval may be
	// before the SLO is stale and its gate fails closed.
	DefaultMaxStaleness = 10 * time.Minute
)

// SLO is one pulled SLI: whose it is, where to ask and what.
type SLO struct {
	Service string
	Name    string
	// Window is the SLO's rolling window: how far back a backfill reaches.
	Window time.Duration
	// URL names a source other than the server's default (--prometheus).
	URL string
	// Good or Bad (one of them), and Total: PromQL per-second rates with
	// {{.window}} standing for the range.
	Good, Bad, Total string
	// MaxStaleness overrides the server's default; zero keeps it.
	MaxStaleness time.Duration
}

// Key names the SLO as the gate and the pages do: "checkout/availability".
func (s SLO) Key() string { return s.Service + "/" + s.Name }

// queries is an SLO's templates expanded for one rate window.
type queries struct {
	good, bad, total string
}

// Validate checks the SLO's queries as templates and names the field at
// fault, as in "sli.prometheus.total".
func (s SLO) Validate() error {
	_, err := s.expand(RateWindow)
	return err
}

// expand checks the SLO and fills its templates' {{.window}} with window.
func (s SLO) expand(window time.Duration) (queries, error) {
	var q queries
	switch {
	case s.Total == "":
		return q, budgetgate.FieldErrorf("sli.prometheus.total", "a query is required")
	case s.Good == "" && s.Bad == "":
		return q, budgetgate.FieldErrorf("sli.prometheus", "good or bad is required")
	case s.Good != "" && s.Bad != "":
		return q, budgetgate.FieldErrorf("sli.prometheus", "give good or bad, not both")
	case s.Window <= 0:
		return q, budgetgate.FieldErrorf("window", "a rolling window is required")
	case s.MaxStaleness < 0:
		return q, budgetgate.FieldErrorf("sli.prometheus.max_staleness", "must not be negative")
	}
	var err error
	for _, f := range []struct {
		field string
		text  string
		out   *string
	}{{"total", s.Total, &q.total}, {"good", s.Good, &q.good}, {"bad", s.Bad, &q.bad}} {
		if f.text == "" {
			continue
		}
		if *f.out, err = expandFor(f.text, window); err != nil {
			return q, budgetgate.FieldErrorf("sli.prometheus."+f.field, "%v", err)
		}
	}
	return q, nil
}

// Expand fills a query template's {{.window}} with RateWindow, as Prometheus
// writes durations ("5m"). Any other field is an error, so that a typo
// cannot reach Prometheus as an empty string.
func Expand(text string) (string, error) { return expandFor(text, RateWindow) }

func expandFor(text string, window time.Duration) (string, error) {
	tmpl, err := template.New("query").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("not a valid template: %w", err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]string{"window": promDuration(window)}); err != nil {
		return "", fmt.Errorf("only {{.window}} may be used: %w", err)
	}
	if strings.TrimSpace(out.String()) == "" {
		return "", fmt.Errorf("the query is empty")
	}
	return out.String(), nil
}

// promDuration writes whole minutes or hours as Prometheus does: "5m", "1h".
func promDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dm", int(d/time.Minute))
}
