// Package errorbudget owns error budgets: SLOs and their policies (read from
// YAML), the SLI math, statuses, escalations and the release gate. It does
// no I/O; see docs/BUDGET_MATH.md for the figures it computes.
package errorbudget

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"time"

	"github.com/budgetgate/budgetgate"
)

// Status is a service's error-budget state, most severe first.
type Status string

const (
	StatusExhausted Status = "exhausted"
	StatusCritical  Status = "critical"
	StatusWarning   Status = "warning"
	StatusAttention Status = "attention"
	StatusHealthy   Status = "healthy"
	StatusNoData    Status = "no_data"
	// StatusUnknown is a service whose figures could not be computed (its
	// stored data is damaged, or reading it failed): no gate opens on it.
	StatusUnknown Status = "unknown"
	// StatusStale is an SLO pulled from Prometheus whose newest data is
	// older than it may be: no gate opens on old figures (see stale.go).
	StatusStale Status = "stale"
)

// GateStatuses are the states a policy's gates are keyed by, most severe first.
var GateStatuses = []Status{StatusExhausted, StatusCritical, StatusWarning, StatusAttention, StatusHealthy}

// BurnWindow is one of the fixed windows burn rates are reported for.
type BurnWindow struct {
	Name     string // "5m", "30m", "1h", "6h", "24h", "72h"
	Duration time.Duration
}

// BurnWindows lists the burn-rate windows in increasing length.
var BurnWindows = []BurnWindow{
	{"5m", 5 * time.Minute},
	{"30m", 30 * time.Minute},
	{"1h", time.Hour},
	{"6h", 6 * time.Hour},
	{"24h", 24 * time.Hour},
	{"72h", 72 * time.Hour},
}

// Counts are SLI event counts over some interval.
type Counts struct {
	Good  int64
	Total int64
}

// Bad is the number of events that were not good.
func (c Counts) Bad() int64 { return c.Total - c.Good }

// WindowCounts are the sums a store provides for one service at one instant:
// over the policy window, and over each burn window (keyed by BurnWindow.Name,
// plus the policy's burn_rate_window if it is not one of those).
type WindowCounts struct {
	Window      Counts
	BurnWindows map[string]Counts
}

// Alert is one multi-window, multi-burn-rate alert rule and whether it fires.
type Alert struct {
	Name        string  `json:"name"`     // "page_fast", "page_slow", "ticket"
	Severity    string  `json:"severity"` // "page" or "ticket"
	LongWindow  string  `json:"long_window"`
	ShortWindow string  `json:"short_window"`
	Threshold   float64 `json:"threshold"` // burn-rate factor, scaled to the policy window
	Firing      bool    `json:"firing"`
	// NoData is set when one of the rule's windows held no event: the rule
	// cannot fire, and "ok" would claim more than is known.
	NoData bool `json:"no_data,omitempty"`
}

// Metrics are one SLO's error-budget figures at ComputedAt (see docs/BUDGET_MATH.md, Error budget).
type Metrics struct {
	Service             string             `json:"service"`
	SLO                 string             `json:"slo"`
	SLOTarget           float64            `json:"slo_target"`
	Window              string             `json:"window"`
	Status              Status             `json:"status"`
	StatusReason        string             `json:"status_reason"` // what set Status: "critical: 1h burn rate 15.99x >= 5x"
	RemainingPct        float64            `json:"remaining_pct"`
	ConsumedPct         float64            `json:"consumed_pct"`
	BurnRate            float64            `json:"burn_rate"`
	BurnRateWindow      string             `json:"burn_rate_window"` // the window of BurnRate, the gate's
	BurnRates           map[string]float64 `json:"burn_rates"`
	NoDataWindows       []string           `json:"no_data_windows,omitempty"` // burn windows without events
	TotalEvents         int64              `json:"total_events"`
	BadEvents           int64              `json:"bad_events"`
	AllowedBadEvents    float64            `json:"allowed_bad_events"`
	ProjectedExhaustion *time.Time         `json:"projected_exhaustion"`
	ForecastWindow      string             `json:"forecast_window"` // the burn window the forecast projects with
	Alerts              []Alert            `json:"alerts"`
	ComputedAt          time.Time          `json:"computed_at"`
	// Error says why Status is unknown; the figures above are then zero.
	Error string `json:"error,omitempty"`
	// Stale is set, with Status stale, when pulled data is too old.
	Stale *Staleness `json:"stale,omitempty"`
}

// UnknownMetrics stands for an SLO (s may be nil when there is none to
// name) whose figures could not be computed, so that a list still shows
// it, as failing.
func UnknownMetrics(p *Policy, s *SLO, now time.Time) Metrics {
	m := Metrics{
		Service: p.Service, Status: StatusUnknown,
		BurnRateWindow: p.BurnWindowText, ForecastWindow: ForecastWindow,
		BurnRates: map[string]float64{}, Alerts: []Alert{}, ComputedAt: now,
		Error:        "figures could not be computed from the stored data; see the server log",
		StatusReason: "unknown: figures could not be computed from the stored data; see the server log",
	}
	if s != nil {
		m.SLO, m.SLOTarget, m.Window = s.Name, s.Objective, s.WindowText
	}
	return m
}

// MaxWindowDays bounds policy windows to ten years, far beyond any SLO window
// and far inside what time.Duration can hold.
const MaxWindowDays = 3660

var windowRe = regexp.MustCompile(`^([1-9][0-9]{0,5})([dw])$`)

// ParseWindow reads a rolling window written as days or weeks: "30d", "28d",
// "4w", "7d", "90d".
func ParseWindow(s string) (time.Duration, error) {
	m := windowRe.FindStringSubmatch(s)
	if m == nil {
		return 0, budgetgate.Errorf(budgetgate.EINVALID, "window %q must be a positive number of days or weeks, as in 30d or 4w", s)
	}
	days, _ := strconv.Atoi(m[1])
	if m[2] == "w" {
		days *= 7
	}
	if days > MaxWindowDays {
		return 0, budgetgate.Errorf(budgetgate.EINVALID, "window %q is longer than %d days", s, MaxWindowDays)
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// ComputeMetrics works out the error-budget figures of the SLO s of p at
// now from the event counts the store summed (see docs/BUDGET_MATH.md, Error budget). With no events in the window the
// status is no_data, remaining 100 and consumed 0, and there is no forecast;
// burn windows without events are listed in NoDataWindows. StatusReason
// names the bound that set the status.
//
// The figures are the formulas of docs/BUDGET_MATH.md, Error budget, evaluated exactly, with the target read
// as the decimal it was written as, and rounded once to float64. Evaluating
// them in floating point instead makes 1 - 99.9/100 come out as
// 0.000999999999999890, so that 500 bad events in a million would leave
// 49.99999999999449% and turn a healthy service to attention exactly at the
// boundary; done exactly, the worked example gives 1000, 25 and 75 on the dot.
func ComputeMetrics(p *Policy, s *SLO, c WindowCounts, now time.Time) Metrics {
	share := budgetShare(s.Objective)
	m := Metrics{
		Service:     p.Service,
		SLO:         s.Name,
		SLOTarget:   s.Objective,
		Window:      s.WindowText,
		TotalEvents: c.Window.Total,
		BadEvents:   c.Window.Bad(),
		BurnRates:   make(map[string]float64, len(BurnWindows)),
		ComputedAt:  now,

		BurnRateWindow: p.BurnWindowText,
		ForecastWindow: ForecastWindow,
	}
	allowed := new(big.Rat).Mul(share, ratInt(c.Window.Total))
	m.AllowedBadEvents, _ = allowed.Float64()
	for _, w := range BurnWindows {
		m.BurnRates[w.Name] = burnRate(c.BurnWindows[w.Name], share)
		if c.BurnWindows[w.Name].Total == 0 {
			m.NoDataWindows = append(m.NoDataWindows, w.Name)
		}
	}
	m.BurnRate = burnRate(c.BurnWindows[p.BurnWindowText], share)
	if c.BurnWindows[p.BurnWindowText].Total == 0 && m.HasData(p.BurnWindowText) {
		// A gate window other than the six fixed ones.
		m.NoDataWindows = append(m.NoDataWindows, p.BurnWindowText)
	}

	if c.Window.Total == 0 {
		m.Status = StatusNoData
		m.RemainingPct = 100
		m.ConsumedPct = 0
	}
	m.Alerts = Alerts(s.Window, m.BurnRates)
	for i, a := range m.Alerts {
		m.Alerts[i].NoData = !m.HasData(a.LongWindow) || !m.HasData(a.ShortWindow)
	}
	if m.Status == StatusNoData {
		m.StatusReason = p.StatusReason(m)
		return m
	}
	// consumed = 100 x bad / allowed_bad; remaining = 100 - consumed.
	consumed := new(big.Rat).Mul(big.NewRat(100, 1), ratInt(m.BadEvents))
	consumed.Quo(consumed, allowed)
	remaining := new(big.Rat).Sub(big.NewRat(100, 1), consumed)
	m.ConsumedPct, _ = consumed.Float64()
	m.RemainingPct, _ = remaining.Float64()
	m.Status = p.StatusOf(m.RemainingPct, m.BurnRate)
	m.StatusReason = p.StatusReason(m)
	m.ProjectedExhaustion = ProjectExhaustion(now, m.RemainingPct, s.Window, m.BurnRates[ForecastWindow])
	return m
}

// budgetShare is 1 - T/100, the fraction of events allowed to be bad, with T
// taken as the shortest decimal that reads back as the float (99.9, not
// 99.900000000000005684...).
func budgetShare(target float64) *big.Rat {
	t, ok := new(big.Rat).SetString(strconv.FormatFloat(target, 'g', -1, 64))
	if !ok {
		// Only NaN and infinities fail, and policies refuse those.
		t = new(big.Rat)
	}
	t.Quo(t, big.NewRat(100, 1))
	return t.Sub(big.NewRat(1, 1), t)
}

func ratInt(n int64) *big.Rat { return new(big.Rat).SetInt64(n) }

// burnRate is how fast c spends budget: its error rate over the error rate
// the SLO allows, (bad/total)/share. 1 spends exactly the budget over the
// window.
func burnRate(c Counts, share *big.Rat) float64 {
	if c.Total == 0 || share.Sign() == 0 {
		return 0
	}
	r := new(big.Rat).Mul(ratInt(c.Total), share)
	r.Quo(ratInt(c.Bad()), r)
	f, _ := r.Float64()
	return f
}

// latestRepresentable is the last instant RFC 3339 can write.
var latestRepresentable = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// ProjectExhaustion is when the budget runs out if it keeps burning at
// burnRate: a full budget lasts window/burnRate, so remainingPct of it lasts
// (remainingPct/100) x window / burnRate. It is nil when nothing burns (or
// the date would lie past year 9999), and now when the budget is already
// spent.
func ProjectExhaustion(now time.Time, remainingPct float64, window time.Duration, burnRate float64) *time.Time {
	if !(burnRate > 0) || math.IsNaN(remainingPct) {
		return nil
	}
	if remainingPct <= 0 {
		return &now
	}
	ns := remainingPct / 100 * float64(window) / burnRate
	var t time.Time
	if ns < math.MaxInt64 {
		t = now.Add(time.Duration(math.Round(ns)))
	} else {
		secs := ns / 1e9
		if secs > float64(latestRepresentable.Unix()-now.Unix()) {
			return nil
		}
		t = time.Unix(now.Unix()+int64(secs), int64(now.Nanosecond())).In(now.Location())
	}
	if t.After(latestRepresentable) {
		return nil
	}
	return &t
}

// alertRules are the SRE Workbook's multi-window, multi-burn-rate alerts:
// page when 2% of a 30-day budget goes in an hour or 5% in six hours, ticket
// when 10% goes in three days. Each fires when both its long and its short
// window burn at least at the factor.
var alertRules = []struct {
	name, severity, long, short string
	sharePct                    float64
}{
	{"page_fast", "page", "1h", "5m", 2},
	{"page_slow", "page", "6h", "30m", 5},
	{"ticket", "ticket", "72h", "6h", 10},
}

// AlertFactor is the burn rate at which sharePct of the budget of window goes
// in long: sharePct% x window / long (14.4 for 2% in 1h of 30 days). It is
// computed as sharePct x window / long / 100 so that the 30-day factors come
// out as exactly 14.4, 6 and 1.
func AlertFactor(sharePct float64, window, long time.Duration) float64 {
	return sharePct * float64(window) / float64(long) / 100
}

// Alerts evaluates the alert rules for a policy window against burn rates
// keyed by BurnWindow.Name.
func Alerts(window time.Duration, burnRates map[string]float64) []Alert {
	out := make([]Alert, 0, len(alertRules))
	for _, r := range alertRules {
		factor := AlertFactor(r.sharePct, window, burnWindowDuration(r.long))
		out = append(out, Alert{
			Name:        r.name,
			Severity:    r.severity,
			LongWindow:  r.long,
			ShortWindow: r.short,
			Threshold:   factor,
			Firing:      burnRates[r.long] >= factor && burnRates[r.short] >= factor,
		})
	}
	return out
}

func burnWindowDuration(name string) time.Duration {
	for _, w := range BurnWindows {
		if w.Name == name {
			return w.Duration
		}
	}
	panic("budgetgate: unknown burn window " + name)
}

// Below reports whether remaining is past the escalation's threshold: under
// ThresholdPct, or at or under 0 for budget_exhausted (the exhausted of docs/BUDGET_MATH.md, Status).
func (e Escalation) Below(remainingPct float64) bool {
	if e.ThresholdPct == 0 {
		return remainingPct <= 0
	}
	return remainingPct < e.ThresholdPct
}

// Above reports whether remaining is back above the threshold, which re-arms
// the escalation (see docs/BUDGET_MATH.md, Escalations and reviews). Exactly at a percentage threshold is neither
// below nor above, so hovering there neither fires nor re-arms.
func (e Escalation) Above(remainingPct float64) bool {
	return remainingPct > e.ThresholdPct
}

// EscalationState holds, by name, the escalations that have fired and not yet
// re-armed. The server keeps one per service.
type EscalationState map[string]bool

// Escalate moves state to a new remaining figure. It returns the escalations
// to notify now (in p.Escalations order, one per crossing) and the new state;
// state itself is not changed. An escalation fires when remaining is below
// its threshold and it is armed, and re-arms only once remaining is above the
// threshold again. From an empty state, every escalation already below
// fires: a service first seen at 5% has crossed 25% and 10% as far as anyone
// was told. A NaN figure changes nothing.
func (p *Policy) Escalate(state EscalationState, remainingPct float64) ([]Escalation, EscalationState) {
	next := make(EscalationState, len(p.Escalations))
	var fire []Escalation
	for _, e := range p.Escalations {
		fired := state[e.Name]
		switch {
		case math.IsNaN(remainingPct):
		case !fired && e.Below(remainingPct):
			fire = append(fire, e)
			fired = true
		case fired && e.Above(remainingPct):
			fired = false
		}
		if fired {
			next[e.Name] = true
		}
	}
	return fire, next
}

// EscalationsCrossed is the stateless form of Escalate for callers that keep
// only the previous figure: the escalations that prevRemaining was not below
// and nowRemaining is.
func (p *Policy) EscalationsCrossed(prevRemaining, nowRemaining float64) []Escalation {
	var out []Escalation
	for _, e := range p.Escalations {
		if !e.Below(prevRemaining) && e.Below(nowRemaining) {
			out = append(out, e)
		}
	}
	return out
}
