package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
)

// TestAuditLogPages follows the audit page's "Older" links from the newest
// entries to the last, as an auditor would without JavaScript: every entry
// is reached once, newest first, whatever order they were written in.
func TestAuditLogPages(t *testing.T) {
	srv, _ := newBudgetServer(t)
	viewer := srv.signIn(t, "dev-rita")
	ctx := context.Background()
	now := srv.Store.Now
	base := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	const entries = 120
	for i := 0; i < entries; i++ {
		// Written out of time order: minute (i*7) mod entries.
		at := base.Add(time.Duration(i*7%entries) * time.Minute)
		srv.Store.Now = func() time.Time { return at }
		if err := srv.Store.Update(ctx, func(tx app.Tx) error {
			return tx.Audit(ctx, budgetgate.SystemActor, "test.paging", "paging", fmt.Sprintf("minute %03d", i*7%entries))
		}); err != nil {
			t.Fatal(err)
		}
	}
	srv.Store.Now = now

	var seen []string
	next := srv.URL + "/audit?action=test.paging"
	for pages := 0; next != "" && pages < 10; pages++ {
		_, body := get(t, viewer, next)
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		rows := doc.Find(`[data-testid="audit"] tbody tr`)
		if rows.Length() > 50 {
			t.Fatalf("a page of %d entries, want at most 50", rows.Length())
		}
		rows.Each(func(_ int, r *goquery.Selection) { seen = append(seen, strings.TrimSpace(r.Find("td").Last().Text())) })
		next = ""
		if href, ok := doc.Find(`[data-testid="older"]`).Attr("href"); ok {
			next = srv.URL + href
		}
	}
	if len(seen) != entries {
		t.Fatalf("%d entries reached through the pages, want %d", len(seen), entries)
	}
	for i, s := range seen {
		if want := fmt.Sprintf("minute %03d", entries-1-i); s != want {
			t.Fatalf("entry %d reads %q, want %q (newest first)", i, s, want)
		}
	}
}
