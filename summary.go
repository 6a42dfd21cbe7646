package budgetgate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Summarize joins items with "; " in at most limit characters: as many
// items as fit, in the order given (callers put the worst first), then
// "and N more". Text the server writes itself, such as the reason of a
// request it opens, goes through here so that it never fails a limit that
// a person's text is held to.
func Summarize(items []string, limit int) string {
	if all := strings.Join(items, "; "); utf8.RuneCountInString(all) <= limit {
		return all
	}
	var b strings.Builder
	used, shown := 0, 0
	for i, item := range items {
		sep := ""
		if i > 0 {
			sep = "; "
		}
		need := len(sep) + utf8.RuneCountInString(item)
		if i < len(items)-1 {
			// Keep room for the tail in case the next item does not fit.
			need += len(moreText(len(items) - i - 1))
		}
		if used+need > limit {
			break
		}
		b.WriteString(sep)
		b.WriteString(item)
		used += len(sep) + utf8.RuneCountInString(item)
		shown++
	}
	switch rest := len(items) - shown; {
	case rest == 0:
	case shown == 0:
		b.WriteString(truncateRunes(fmt.Sprintf("%d items", rest), limit))
	default:
		b.WriteString(moreText(rest))
	}
	return b.String()
}

func moreText(n int) string { return fmt.Sprintf("; and %d more", n) }

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:max(n, 0)])
}
