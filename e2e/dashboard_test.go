package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDashboardShowsEveryStatus reads the overview and a service page as an
// SRE would: the demo's services cover every budget status, and the
// service burning fastest shows a firing page alert.
func TestDashboardShowsEveryStatus(t *testing.T) {
	ctx := newBrowser(t)
	signIn(t, ctx, "sre-sam", "/")
	services := text(t, ctx, `[data-testid="services"]`)
	for _, status := range []string{"healthy", "attention", "warning", "critical", "exhausted", "no data"} {
		if !strings.Contains(services, status) {
			t.Errorf("overview lacks a service in status %q:\n%s", status, services)
		}
	}
	screenshot(t, ctx, "overview.png")

	do(t, ctx, chromedp.Navigate(baseURL+"/services/auth"), chromedp.WaitVisible(testid("alerts")))
	if alerts := text(t, ctx, `[data-testid="alerts"]`); !strings.Contains(alerts, "firing") {
		t.Errorf("auth burns at 16x in the last hour, yet no alert fires:\n%s", alerts)
	}
	if figures := text(t, ctx, `[data-testid="figures"]`); !strings.Contains(figures, "Budget remaining") {
		t.Errorf("service figures missing:\n%s", figures)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart polyline").length`)); err != nil || n < 2 {
		t.Errorf("burn-down chart has %d lines (%v), want the budget and the ideal line", n, err)
	}
	screenshot(t, ctx, "service.png")
}
