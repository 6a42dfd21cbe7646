package budgetgate

import "time"

// Status is a service's error-budget state, most severe first.
type Status string

const (
	StatusExhausted Status = "exhausted"
	StatusCritical  Status = "critical"
	StatusWarning   Status = "warning"
	StatusAttention Status = "attention"
	StatusHealthy   Status = "healthy"
	StatusNoData    Status = "no_data"
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
}

// Metrics are a service's error-budget figures at ComputedAt (SPEC 2.3).
type Metrics struct {
	Service             string             `json:"service"`
	SLOTarget           float64            `json:"slo_target"`
	Window              string             `json:"window"`
	Status              Status             `json:"status"`
	RemainingPct        float64            `json:"remaining_pct"`
	ConsumedPct         float64            `json:"consumed_pct"`
	BurnRate            float64            `json:"burn_rate"`
	BurnRates           map[string]float64 `json:"burn_rates"`
	TotalEvents         int64              `json:"total_events"`
	BadEvents           int64              `json:"bad_events"`
	AllowedBadEvents    float64            `json:"allowed_bad_events"`
	ProjectedExhaustion *time.Time         `json:"projected_exhaustion"`
	Alerts              []Alert            `json:"alerts"`
	ComputedAt          time.Time          `json:"computed_at"`
}
