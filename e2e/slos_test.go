package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestServiceWithSeveralSLOs follows a service's SLO list to one SLO's
// page, as an SRE would: the demo's checkout has three SLOs, availability
// deciding.
func TestServiceWithSeveralSLOs(t *testing.T) {
	ctx := newBrowser(t)
	signIn(t, ctx, "sre-sam", "/services/checkout")
	do(t, ctx, chromedp.WaitVisible(testid("slos")))
	slos := text(t, ctx, `[data-testid="slos"]`)
	for _, want := range []string{"availability", "latency", "freshness", "decides the gate"} {
		if !strings.Contains(slos, want) {
			t.Errorf("checkout's SLO list lacks %q:\n%s", want, slos)
		}
	}
	if row := text(t, ctx, `[data-testid="slo-availability"]`); !strings.Contains(row, "decides the gate") {
		t.Errorf("availability, checkout's worst SLO, is not marked as deciding:\n%s", row)
	}
	screenshot(t, ctx, "service-slos.png")
	do(t, ctx, chromedp.Click(`[data-testid="slo-latency"] a`), chromedp.WaitVisible(testid("sli-source")))
	if h1 := text(t, ctx, "h1"); !strings.Contains(h1, "checkout / latency") {
		t.Errorf("SLO page heading %q", h1)
	}
	if figures := text(t, ctx, `[data-testid="figures"]`); !strings.Contains(figures, "99% over 28d") {
		t.Errorf("latency's figures:\n%s", figures)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart polyline").length`)); err != nil || n < 2 {
		t.Errorf("the SLO's burn-down has %d lines (%v), want the budget and the ideal line", n, err)
	}
	screenshot(t, ctx, "slo.png")
}
