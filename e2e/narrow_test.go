package e2e

import (
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// phoneWidth is a common phone's viewport width in CSS pixels.
const phoneWidth = 390

// pageKinds are the routes every one of which the narrow test must reach,
// so that a page left out of the links is noticed.
var pageKinds = map[string]*regexp.Regexp{
	"overview":        regexp.MustCompile(`^/$`),
	"service":         regexp.MustCompile(`^/services/[^/]+$`),
	"project":         regexp.MustCompile(`^/projects/[^/]+$`),
	"compliance":      regexp.MustCompile(`^/projects/[^/]+/compliance$`),
	"violations":      regexp.MustCompile(`^/violations$`),
	"ccb queue":       regexp.MustCompile(`^/ccb$`),
	"ccb request":     regexp.MustCompile(`^/ccb/[0-9]+$`),
	"audit":           regexp.MustCompile(`^/audit$`),
	"policies":        regexp.MustCompile(`^/policies$`),
	"tokens":          regexp.MustCompile(`^/tokens$`),
	"variant request": nil, // checked apart: a /ccb/{id} of a blocked analysis
}

// TestNoPageScrollsSidewaysOnAPhone signs in as an admin (who may see
// every page, the API tokens included), follows every link of the
// dashboard at 390px wide, and measures in the browser that no page is
// wider than the viewport: tables and charts scroll inside their own box.
func TestNoPageScrollsSideways(t *testing.T) {
	variantRequest := openVariantRequest(t)
	ctx := newBrowserFor(t, 10*time.Minute)
	do(t, ctx, chromedp.EmulateViewport(phoneWidth, 844))
	signIn(t, ctx, "admin-ada", "/")

	queue := []string{"/", "/ccb", "/violations", "/audit", "/policies", "/tokens", variantRequest}
	seen := map[string]bool{}
	kinds := map[string]bool{}
	for len(queue) > 0 && len(seen) < 80 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		do(t, ctx, chromedp.Navigate(baseURL+path), chromedp.WaitReady("main"))
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scrollingElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		inner, err := chromedp.Run(ctx, chromedp.Evaluate[int](`innerWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if width > inner {
			wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](widestElement))
			t.Errorf("%s is %dpx wide at a %dpx viewport; widest: %s", path, width, inner, wide)
		}
		screenshot(t, ctx, "narrow"+strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path)+".png")
		for name, re := range pageKinds {
			if re != nil && re.MatchString(path) {
				kinds[name] = true
			}
		}
		if path == variantRequest {
			kinds["variant request"] = true
		}
		links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main a[href], header a[href]"), a => a.href)`))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			if p, ok := dashboardPath(l); ok && !seen[p] {
				queue = append(queue, p)
			}
		}
	}
	for name := range pageKinds {
		if !kinds[name] {
			t.Errorf("no %s page reached from the dashboard's links (visited %v)", name, slices.Sorted(maps.Keys(seen)))
		}
	}
}

// widestElement names the innermost element whose content sticks out of
// its box (a long word in a heading, a table too wide) outside any box that
// scrolls, for the failure message.
const widestElement = `(() => {
  const scrolls = el => { for (; el; el = el.parentElement) { const o = getComputedStyle(el).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
  let found = [];
  for (const el of document.querySelectorAll("main *, header *")) {
    if (el.scrollWidth > el.clientWidth + 1 && !scrolls(el)) found.push(el);
  }
  const el = found[found.length - 1];
  return el ? el.tagName.toLowerCase() + "." + el.className + ": " + (el.textContent || "").trim().slice(0, 80) : "(none found)";
})()`

// dashboardPath keeps links to the dashboard's own pages, without queries
// (ranges, filters and pages of the same page) and without the links that
// act or leave: sign-in, exports.
func dashboardPath(link string) (string, bool) {
	u, err := url.Parse(link)
	if err != nil || baseURL != u.Scheme+"://"+u.Host || u.RawQuery != "" {
		return "", false
	}
	p := u.Path
	for _, skip := range []string{"/login", "/logout", "/auth/", "/static/", "/api/"} {
		if strings.HasPrefix(p, skip) {
			return "", false
		}
	}
	if strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".json") {
		return "", false
	}
	return p, true
}

// openVariantRequest posts a blocked analysis of its own project, so that
// the variant request page is among those measured, and returns its path.
func openVariantRequest(t *testing.T) string {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	dir := blockedRepo(t)
	cfg := filepath.Join(dir, ".budgetgate.yaml")
	src, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfg, []byte(strings.Replace(string(src), "project: e2e-fleet", "project: e2e-narrow", 1)), 0o644)
	if out, err := exec.Command("git", "-C", dir, "-c", "user.name=ci", "-c", "user.email=ci@example.test", "commit", "-qam", "narrow").CombinedOutput(); err != nil {
		t.Fatalf("git commit: %v\n%s", err, out)
	}
	cmd := exec.Command(binary, "analyze", dir, "--post", baseURL)
	cmd.Env = append(os.Environ(), "BUDGETGATE_TOKEN="+ciToken)
	out, _ := cmd.CombinedOutput() // blocked: exit 1 is expected
	m := regexp.MustCompile(`/ccb/(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("the blocked analysis opened no CCB request:\n%s", out)
	}
	return "/ccb/" + m[1]
}
