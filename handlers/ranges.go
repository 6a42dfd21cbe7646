package handlers

import (
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/views"
	"github.com/labstack/echo/v4"
)

// chartRanges are the spans a chart can be drawn over, offered as links so
// that they work without JavaScript.
var chartRanges = []struct {
	Name string
	Span time.Duration
}{
	{"7d", 7 * 24 * time.Hour},
	{"30d", 30 * 24 * time.Hour},
	{"90d", 90 * 24 * time.Hour},
}

const defaultChartRange = "30d"

// chartRange reads ?range= (7d, 30d or 90d; 30d when absent) and returns
// its span and the links to the other ranges; anchor is the part of the
// page the links return to.
func chartRange(c echo.Context, anchor string) (time.Duration, views.RangeLinks, error) {
	name := c.QueryParam("range")
	if name == "" {
		name = defaultChartRange
	}
	links := views.RangeLinks{Current: name, Anchor: anchor}
	var span time.Duration
	for _, r := range chartRanges {
		links.Options = append(links.Options, r.Name)
		if r.Name == name {
			span = r.Span
		}
	}
	if span == 0 {
		return 0, links, budgetgate.FieldErrorf("range", "want 7d, 30d or 90d, got %q", name)
	}
	return span, links, nil
}
