package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// gateExit runs `budgetgate gate` for a medium-risk feature of search, as
// a deploy job would, and returns its exit code (0 approved, 1 held).
func gateExit(t *testing.T, version string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, "gate", "--server", baseURL, "--service", "search", "--version", version, "--risk", "medium", "--type", "feature")
	cmd.Env = append(os.Environ(), "BUDGETGATE_TOKEN="+ciToken)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestPolicyReviewJourney is the case: an SRE lowers search's
// objective from 99.5 to 99.0 on the dashboard. The form starts from the
// policy in force and shows the diff before saving; the change is pending
// review, on the policies page and on the service page, and search's
// releases are still held; a CCB member approves it and the new policy
// governs. Then the SRE restores the earlier version, which tightens and
// so takes effect at once.
func TestPolicyReviewJourney(t *testing.T) {
	if code, out := gateExit(t, "5.1.0"); code != 1 {
		t.Fatalf("before the change a medium-risk feature of search (warning) should be held: exit %d\n%s", code, out)
	}
	sre := newBrowser(t)
	signIn(t, sre, "sre-sam", "/policies?service=search")
	current, err := chromedp.Run(sre, chromedp.Value(chromedp.CSS("#policy")))
	if err != nil || !strings.Contains(current, "slo_target: 99.5") {
		t.Fatalf("the form does not start from search's policy in force (%v):\n%s", err, current)
	}
	do(t, sre,
		chromedp.SetValue(chromedp.CSS("#policy"), strings.Replace(current, "slo_target: 99.5", "slo_target: 99.0", 1)),
		chromedp.Click(testid("policy-preview-button")),
		chromedp.WaitVisible(testid("preview-diff")),
	)
	if diff := text(t, sre, `[data-testid="preview-diff"]`); !strings.Contains(diff, "- slo_target: 99.5") || !strings.Contains(diff, "+ slo_target: 99.0") ||
		strings.Contains(diff, "- service: search") {
		t.Errorf("preview diff:\n%s", diff)
	}
	if loosens := text(t, sre, `[data-testid="policy-preview"] [data-testid="loosens"]`); !strings.Contains(loosens, "objective lowered from 99.5% to 99.0%") {
		t.Errorf("the preview does not say what the change loosens: %q", loosens)
	}
	screenshot(t, sre, "policy-preview.png")

	do(t, sre, chromedp.Click(testid("policy-save")), chromedp.WaitVisible(testid("policy-outcome")))
	if outcome := text(t, sre, `[data-testid="policy-outcome"]`); !strings.HasPrefix(outcome, "Pending review:") {
		t.Fatalf("after saving: %q", outcome)
	}
	changeID, err := chromedp.Run(sre, chromedp.Evaluate[string](`document.querySelector('[data-testid="pending-changes"] article').id`))
	if err != nil || !strings.HasPrefix(changeID, "change-") {
		t.Fatalf("no pending change listed (%v): %q", err, changeID)
	}
	card := `[data-testid="` + changeID + `"]`
	if why := text(t, sre, card+` [data-testid="review-why-not"]`); !strings.Contains(why, "another person") {
		t.Errorf("the author is offered the review, or not told why not: %q", why)
	}
	screenshot(t, sre, "policy-pending.png")
	if code, out := gateExit(t, "5.1.1"); code != 1 {
		t.Fatalf("a pending change let search's release through: exit %d\n%s", code, out)
	}

	do(t, sre, chromedp.Navigate(baseURL+"/services/search"), chromedp.WaitVisible(testid("pending-policy")))
	if pending := text(t, sre, `[data-testid="pending-policy"]`); !strings.Contains(pending, "+ slo_target: 99.0") {
		t.Errorf("the service page does not show the pending change's diff:\n%s", pending)
	}
	screenshot(t, sre, "service-pending-policy.png")

	ccb := newBrowser(t)
	signIn(t, ccb, "ccb-alice", "/policies?service=search")
	// The reviewer on a phone: the change and its diff fit, nothing scrolls sideways.
	do(t, ccb, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(card)))
	if w, err := chromedp.Run(ccb, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		// Name what sticks out, for whoever reads the failure.
		wide, _ := chromedp.Run(ccb, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 392).slice(0, 8).map(e => e.tagName + '.' + e.className + '[' + (e.getAttribute('data-testid')||'') + '] ' + Math.round(e.getBoundingClientRect().right)).join('; ')`))
		t.Errorf("/policies with a pending change is %dpx wide at 390px (%v): %s", w, err, wide)
	}
	screenshot(t, ccb, "policy-pending-phone.png")
	do(t, ccb, chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(card)))
	do(t, ccb,
		chromedp.WaitVisible(chromedp.CSS(card+` [data-testid="review-form"]`)),
		chromedp.SendKeys(chromedp.CSS(card+` textarea[name="comment"]`), "Agreed at the reliability review: 99.0 matches the search SLA."),
		chromedp.Click(chromedp.CSS(card+` [data-testid="approve-change"]`)),
		chromedp.WaitVisible(testid("policy-outcome")),
	)
	if outcome := text(t, ccb, `[data-testid="policy-outcome"]`); !strings.HasPrefix(outcome, "Approved:") {
		t.Fatalf("after approval: %q", outcome)
	}
	screenshot(t, ccb, "policy-approved.png")
	if code, out := gateExit(t, "5.1.2"); code != 0 {
		t.Fatalf("the approved policy does not govern: exit %d\n%s", code, out)
	}

	do(t, sre,
		chromedp.Navigate(baseURL+"/policies?service=search"),
		chromedp.Click(chromedp.CSS(`[data-testid="policy-search"] [data-testid="versions"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="policy-search"] [data-testid="restore"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="policy-search"] [data-testid="restore"]`)),
		chromedp.WaitVisible(testid("policy-outcome")),
	)
	if outcome := text(t, sre, `[data-testid="policy-outcome"]`); !strings.HasPrefix(outcome, "Saved:") {
		t.Fatalf("restoring the stricter earlier version: %q", outcome)
	}
	screenshot(t, sre, "policy-restored.png")
	if code, out := gateExit(t, "5.1.3"); code != 1 {
		t.Fatalf("after restoring 99.5 search's release should be held again: exit %d\n%s", code, out)
	}
}
