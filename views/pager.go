package views

import (
	"strconv"
	"strings"
)

// Pager links the pages of a list that grows, newest first: back to the
// newest rows, and on to older ones. Links, so that paging works without
// JavaScript.
type Pager struct {
	NewestHref string // "" on the newest page
	OlderHref  string // "" on the last page
}

// WithCursor is href asking for the rows after the row with id before.
func WithCursor(href string, before int64) string {
	sep := "?"
	if strings.Contains(href, "?") {
		sep = "&"
		if strings.HasSuffix(href, "?") {
			sep = ""
		}
	}
	return href + sep + "before=" + strconv.FormatInt(before, 10)
}
