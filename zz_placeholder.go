package budgetgate

// Placeholder until the error-budget domain lands; never committed.

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"gopkg.in/yaml.v3"
)

func ParsePolicy(filename string, data []byte) (*Policy, error) {
	var raw struct {
		Service   string  `yaml:"service"`
		SLOTarget float64 `yaml:"slo_target"`
		Window    string  `yaml:"window"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, FieldErrorf(filename, "%v", err)
	}
	w, _ := ParseWindow(raw.Window)
	sum := sha256.Sum256(data)
	p := DefaultPolicy(raw.Service)
	p.SLOTarget, p.Window, p.WindowText = raw.SLOTarget, w, raw.Window
	p.Version = "sha256:" + hex.EncodeToString(sum[:])
	p.Source = data
	return p, nil
}

func ParseWindow(s string) (time.Duration, error) { return 30 * 24 * time.Hour, nil }

func DefaultPolicy(service string) *Policy {
	return &Policy{Service: service, SLOTarget: 99.9, Window: 30 * 24 * time.Hour, WindowText: "30d", BurnRateWindow: time.Hour, BurnWindowText: "1h", OnNoData: "deny", Gates: map[Status]*Gate{}}
}

func (p *Policy) Canonical() []byte { return p.Source }

func ComputeMetrics(p *Policy, c WindowCounts, now time.Time) Metrics {
	m := Metrics{Service: p.Service, SLOTarget: p.SLOTarget, Window: p.WindowText, ComputedAt: now, BurnRates: map[string]float64{}}
	m.TotalEvents, m.BadEvents = c.Window.Total, c.Window.Bad()
	m.AllowedBadEvents = (1 - p.SLOTarget/100) * float64(m.TotalEvents)
	if m.TotalEvents == 0 {
		m.Status, m.RemainingPct = StatusNoData, 100
		return m
	}
	m.ConsumedPct = 100 * float64(m.BadEvents) / m.AllowedBadEvents
	m.RemainingPct = 100 - m.ConsumedPct
	m.Status = StatusHealthy
	return m
}

func EvaluateRelease(p *Policy, m Metrics, r Release) Decision {
	return Decision{Approved: m.Status == StatusHealthy, Reason: "placeholder", Conditions: []string{}, Metrics: m, PolicyVersion: p.Version}
}

func (e Escalation) Breached(remaining float64) bool {
	if e.ThresholdPct == 0 {
		return remaining <= 0
	}
	return remaining < e.ThresholdPct
}

func (r Review) NextDue(since, now time.Time) time.Time { return since.Add(r.Every) }
