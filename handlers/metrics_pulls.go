package handlers

import (
	"time"

	"github.com/budgetgate/budgetgate/promsli"
	"github.com/budgetgate/budgetgate/views"
)

// PullProgress is the progress of the SLIs pulled from Prometheus.
type PullProgress interface {
	Progress() []promsli.Progress
	// ProgressOf is one SLO's; false when it is not pulled.
	ProgressOf(service, slo string) (promsli.Progress, bool)
}

// pullStatus is an SLO's pull progress for its page; nil when not pulled.
func pullStatus(pulls PullProgress, service, slo string, now time.Time) *views.PullStatus {
	if pulls == nil {
		return nil
	}
	pr, ok := pulls.ProgressOf(service, slo)
	if !ok {
		return nil
	}
	return &views.PullStatus{State: pr.State(now), Pulled: pr.Pulled, ToPull: pr.ToPull, Percent: 100 * pr.Ratio(),
		Newest: pr.Newest, Error: pr.Error, ErrorAt: pr.ErrorAt}
}

var pullStates = []string{promsli.StateWaiting, promsli.StateBackfilling, promsli.StateFollowing, promsli.StateStale}

// exposePulls writes each pulled SLO's state, backfill progress, newest
// data and last error, in Prometheus's own words, so that an alert can say
// why a source is stale.
func exposePulls(x *Exposition, all []promsli.Progress, now time.Time) {
	x.Family("budgetgate_sli_pull_state", "gauge", "1 for the pulled SLO's current state (waiting, backfilling, following, stale), 0 for the others.")
	for _, p := range all {
		state := p.State(now)
		for _, s := range pullStates {
			x.Sample("", oneIf(s == state), "service", p.Service, "slo", p.SLO, "state", s)
		}
	}
	x.Family("budgetgate_sli_pull_progress_ratio", "gauge", "Share of the current catch-up pulled: a backfill on first sight or after an outage, one interval when following.")
	for _, p := range all {
		x.Sample("", p.Ratio(), "service", p.Service, "slo", p.SLO)
	}
	x.Family("budgetgate_sli_pull_newest_timestamp_seconds", "gauge", "Unix time of the end of the newest pulled interval with data; absent before any.")
	for _, p := range all {
		if !p.Newest.IsZero() {
			x.Sample("", float64(p.Newest.Unix()), "service", p.Service, "slo", p.SLO)
		}
	}
	x.Family("budgetgate_sli_pull_failing", "gauge", "1 while the last pull of the SLO failed.")
	for _, p := range all {
		x.Sample("", oneIf(p.Error != ""), "service", p.Service, "slo", p.SLO)
	}
	x.Family("budgetgate_sli_pull_error_info", "gauge", "The last pull's error, with the source's own message, while it fails.")
	for _, p := range all {
		if p.Error != "" {
			x.Sample("", 1, "service", p.Service, "slo", p.SLO, "error", p.Error)
		}
	}
}
