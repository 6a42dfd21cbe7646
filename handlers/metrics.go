package handlers

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/variant"
)

// MetricsStore is what /metrics reads.
type MetricsStore interface {
	AllMetrics(ctx context.Context, now time.Time) ([]errorbudget.ServiceMetrics, error)
	Projects(ctx context.Context) ([]*app.Project, error)
	LatestBaselineAnalysis(ctx context.Context, project string) (*variant.ProjectAnalysis, error)
	ViolationCounts(ctx context.Context) (map[string]map[string]int, error)
	OutboxDepth(ctx context.Context) (map[string]int, error)
	Storage(ctx context.Context) (app.StorageStats, error)
	StorageFull(ctx context.Context) bool
}

// Metrics exposes the budgets for Prometheus: every service's error budget,
// burn rates and status, every project's latest baseline figures, the
// notification outbox and the database's size. The figures are computed at
// scrape time from the same store the dashboard reads, so they can never
// disagree with it.
type Metrics struct {
	Store MetricsStore
	Now   func() time.Time
	Log   *slog.Logger // one project's failure; nil for slog's default
	// Decisions are the release decisions counted by the API; may be nil.
	Decisions *DecisionCounts
}

// statuses lists every value a state-set family can take, so that each
// series exists with 0 or 1 and an alert on a status never sees a gap.
var (
	serviceStatuses  = append(slices.Clone(errorbudget.GateStatuses), errorbudget.StatusNoData, errorbudget.StatusUnknown)
	analysisStatuses = []string{variant.AnalysisPass, variant.AnalysisWarn, variant.AnalysisBlocked, variant.AnalysisExcepted, "no_data", statusUnknown}
	violationStates  = []string{variant.ViolationOpen, variant.ViolationExcepted, variant.ViolationResolved}
	outboxStates     = []string{"pending", "failed", "delivered", "recorded"}
)

func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Expose writes the store's families to x.
func (m *Metrics) Expose(ctx context.Context, x *Exposition) error {
	services, err := m.Store.AllMetrics(ctx, m.Now())
	if err != nil {
		return err
	}
	m.exposeServices(x, everySLO(services))
	names := make([]string, len(services))
	for i, s := range services {
		names[i] = s.Service
	}
	m.Decisions.expose(x, names)
	if err := m.exposeProjects(ctx, x); err != nil {
		return err
	}
	outbox, err := m.Store.OutboxDepth(ctx)
	if err != nil {
		return err
	}
	x.Family("budgetgate_notifications", "gauge", "Notifications in the outbox by delivery state; pending and failed ones await a webhook.")
	for _, s := range outboxStates {
		x.Sample("", float64(outbox[s]), "state", s)
	}
	st, err := m.Store.Storage(ctx)
	if err != nil {
		return err
	}
	x.Family("budgetgate_db_size_bytes", "gauge", "Size of the SQLite database file (pages times page size).")
	x.Sample("", float64(st.Pages*st.PageSize))
	x.Family("budgetgate_db_free_bytes", "gauge", "Space inside the database file on its free list, reused before the file grows.")
	x.Sample("", float64(st.FreePages*st.PageSize))
	x.Family("budgetgate_storage_full", "gauge", "1 when the last write found no space and none has succeeded since.")
	x.Sample("", oneIf(m.Store.StorageFull(ctx)))
	return nil
}

// everySLO lists every SLO's figures, service by service; a service whose
// policy cannot be read stands as its one unknown entry.
func everySLO(sms []errorbudget.ServiceMetrics) []errorbudget.Metrics {
	var out []errorbudget.Metrics
	for _, sm := range sms {
		if len(sm.SLOs) == 0 {
			out = append(out, sm.Metrics)
			continue
		}
		out = append(out, sm.SLOs...)
	}
	return out
}

// exposeServices writes one series per SLO of each service, labelled
// service and slo.
func (m *Metrics) exposeServices(x *Exposition, all []errorbudget.Metrics) {
	// A service whose figures could not be computed shows only in
	// budgetgate_service_status (as unknown): zeros would read as figures.
	var services []errorbudget.Metrics
	for _, s := range all {
		if s.Status != errorbudget.StatusUnknown {
			services = append(services, s)
		}
	}
	gauge := func(name, help string, value func(errorbudget.Metrics) float64) {
		x.Family(name, "gauge", help)
		for _, s := range services {
			x.Sample("", value(s), "service", s.Service, "slo", s.SLO)
		}
	}
	gauge("budgetgate_service_slo_target_percent", "The SLO's target.", func(s errorbudget.Metrics) float64 { return s.SLOTarget })
	gauge("budgetgate_service_budget_remaining_percent", "Error budget left over the policy window; negative when overspent.", func(s errorbudget.Metrics) float64 { return s.RemainingPct })
	gauge("budgetgate_service_budget_consumed_percent", "Error budget spent over the policy window.", func(s errorbudget.Metrics) float64 { return s.ConsumedPct })
	gauge("budgetgate_service_window_events", "SLI events in the policy window.", func(s errorbudget.Metrics) float64 { return float64(s.TotalEvents) })
	gauge("budgetgate_service_window_bad_events", "Bad SLI events in the policy window.", func(s errorbudget.Metrics) float64 { return float64(s.BadEvents) })
	gauge("budgetgate_service_gate_burn_rate", "Burn rate over the policy's burn_rate_window, the one the release gate uses.", func(s errorbudget.Metrics) float64 { return s.BurnRate })

	x.Family("budgetgate_service_burn_rate", "gauge", "Burn rate per window: the error rate over the one the SLO allows; 1 spends the budget exactly over the policy window.")
	for _, s := range services {
		for _, w := range errorbudget.BurnWindows {
			x.Sample("", s.BurnRates[w.Name], "service", s.Service, "slo", s.SLO, "window", w.Name)
		}
	}
	x.Family("budgetgate_service_status", "gauge", "1 for the SLO's current error-budget status, 0 for the others; unknown when its figures could not be computed.")
	for _, s := range all {
		for _, st := range serviceStatuses {
			x.Sample("", oneIf(s.Status == st), "service", s.Service, "slo", s.SLO, "status", string(st))
		}
	}
	x.Family("budgetgate_service_alert_firing", "gauge", "1 while a multi-window burn-rate alert fires.")
	for _, s := range services {
		for _, a := range s.Alerts {
			x.Sample("", oneIf(a.Firing), "service", s.Service, "slo", s.SLO, "alert", a.Name, "severity", a.Severity)
		}
	}
	x.Family("budgetgate_service_budget_exhaustion_timestamp_seconds", "gauge", "Unix time at which the budget runs out at the 6h burn rate; absent when nothing burns.")
	for _, s := range services {
		if s.ProjectedExhaustion != nil {
			x.Sample("", float64(s.ProjectedExhaustion.Unix()), "service", s.Service, "slo", s.SLO)
		}
	}
}

// projectFigures is one project's latest baseline analysis, or nil.
type projectFigures struct {
	name, status string
	latest       *variant.ProjectAnalysis
}

// statusUnknown is a project's or a service's status when its stored data
// could not be read.
const statusUnknown = string(errorbudget.StatusUnknown)

// latestBaseline returns a project's latest baseline analysis and its
// status: no_data without one, unknown (logged) when it could not be read,
// so that one project's damaged data does not take a whole list down. Only
// a request that ended fails.
func latestBaseline(ctx context.Context, store interface {
	LatestBaselineAnalysis(ctx context.Context, project string) (*variant.ProjectAnalysis, error)
}, log *slog.Logger, project string) (*variant.ProjectAnalysis, string, error) {
	latest, err := store.LatestBaselineAnalysis(ctx, project)
	switch {
	case err == nil:
		return latest, latest.Status, nil
	case budgetgate.ErrorCode(err) == budgetgate.ENOTFOUND:
		return nil, "no_data", nil
	case ctx.Err() != nil:
		return nil, "", err
	}
	if log == nil {
		log = slog.Default()
	}
	log.ErrorContext(ctx, "project figures", "project", project, "err", err)
	return nil, statusUnknown, nil
}

func (m *Metrics) exposeProjects(ctx context.Context, x *Exposition) error {
	projects, err := m.Store.Projects(ctx)
	if err != nil {
		return err
	}
	var figs []projectFigures
	for _, p := range projects {
		latest, status, err := latestBaseline(ctx, m.Store, m.Log, p.Name)
		if err != nil {
			return err
		}
		figs = append(figs, projectFigures{p.Name, status, latest})
	}
	counts, err := m.Store.ViolationCounts(ctx)
	if err != nil {
		return err
	}

	x.Family("budgetgate_project_status", "gauge", "1 for the status of the project's latest baseline analysis, 0 for the others.")
	for _, f := range figs {
		for _, s := range analysisStatuses {
			x.Sample("", oneIf(s == f.status), "project", f.name, "status", s)
		}
	}
	x.Family("budgetgate_project_compliance_percent", "gauge", "Share of (dimension, metric) figures within their soft limit on the latest baseline analysis.")
	for _, f := range figs {
		if f.latest != nil {
			x.Sample("", f.latest.Compliance.Score, "project", f.name)
		}
	}
	x.Family("budgetgate_project_violations", "gauge", "Tracked variant-budget violations by state.")
	for _, f := range figs {
		for _, s := range violationStates {
			x.Sample("", float64(counts[f.name][s]), "project", f.name, "state", s)
		}
	}

	// The dimension figure (its worst variant) beside its limits, then each
	// variant: what a dashboard or an alert compares.
	dimension := func(name, help string, value func(variant.MetricResult) float64) {
		x.Family(name, "gauge", help)
		for _, f := range figs {
			if f.latest == nil || f.latest.Analysis == nil {
				continue
			}
			for _, d := range f.latest.Analysis.Dimensions {
				for _, mr := range d.Metrics {
					x.Sample("", value(mr), "project", f.name, "dimension", d.Name, "metric", mr.Name)
				}
			}
		}
	}
	dimension("budgetgate_dimension_delta_percent", "The dimension's figure: its worst variant's delta.", func(mr variant.MetricResult) float64 { return mr.Delta })
	dimension("budgetgate_dimension_soft_limit_percent", "The dimension's soft limit for the metric.", func(mr variant.MetricResult) float64 { return mr.SoftLimit })
	dimension("budgetgate_dimension_hard_limit_percent", "The dimension's hard limit for the metric.", func(mr variant.MetricResult) float64 { return mr.HardLimit })

	x.Family("budgetgate_variant_delta_percent", "gauge", "Share of what the variant builds that exists only for it, per metric, on the latest baseline analysis.")
	for _, f := range figs {
		if f.latest == nil || f.latest.Analysis == nil {
			continue
		}
		for _, d := range f.latest.Analysis.Dimensions {
			for _, v := range d.Variants {
				names := make([]string, 0, len(v.Metrics))
				for n := range v.Metrics {
					names = append(names, n)
				}
				slices.Sort(names)
				for _, n := range names {
					x.Sample("", v.Metrics[n].Delta, "project", f.name, "dimension", d.Name, "variant", v.Name, "metric", n)
				}
			}
		}
	}
	return nil
}
