package budgetgate_test

import (
	"errors"
	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/variant"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// domainError fails the test unless err is a *Error with a code other than
// internal and a message: what users see when they get something wrong.
func domainError(t *testing.T, err error) {
	t.Helper()
	var e *budgetgate.Error
	if !errors.As(err, &e) || e.Code == "" || e.Code == budgetgate.EINTERNAL || e.Message == "" {
		t.Fatalf("error %#v is not a user-facing error", err)
	}
}

// FuzzParseDurations: the lifetimes a request asks for (ParseExpiry) and the
// policy windows (ParseWindow) are positive and mean what they say: N days
// are N times 24 hours, never a wrapped-around value; an expiry written
// back by FormatExpiry reads as the same duration.
func FuzzParseDurations(f *testing.F) {
	for _, s := range []string{"24h", "90d", "36h", "90m", "30d", "4w", "0d", "-1d", "106752d", "99999999999d", "1h30m", "7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ccb.ParseExpiry(s); err == nil {
			if d <= 0 {
				t.Fatalf("ParseExpiry(%q) = %v", s, d)
			}
			if days, ok := strings.CutSuffix(s, "d"); ok {
				n, _ := strconv.ParseInt(days, 10, 64)
				if d%(24*time.Hour) != 0 || int64(d/(24*time.Hour)) != n {
					t.Fatalf("ParseExpiry(%q) = %v, not %d days", s, d, n)
				}
			}
			if again, err := ccb.ParseExpiry(ccb.FormatExpiry(d)); err != nil || again != d {
				t.Fatalf("%v written as %q reads back as %v, %v", d, ccb.FormatExpiry(d), again, err)
			}
		}
		if d, err := errorbudget.ParseWindow(s); err == nil {
			if d <= 0 || d%(24*time.Hour) != 0 || d > errorbudget.MaxWindowDays*24*time.Hour {
				t.Fatalf("ParseWindow(%q) = %v", s, d)
			}
		} else {
			domainError(t, err)
		}
	})
}

// FuzzParseScopes: an accepted list is a non-empty set of known scopes in
// TokenScopes order, and parsing it again changes nothing.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"ingest,gate,read", "read", " read , read ", "policy,ingest", "", ",", "admin", "read,,gate"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scopes, err := budgetgate.ParseScopes(s)
		if err != nil {
			domainError(t, err)
			if budgetgate.ErrorField(err) != "scopes" {
				t.Fatalf("error names %q", budgetgate.ErrorField(err))
			}
			return
		}
		if len(scopes) == 0 {
			t.Fatal("no scope accepted")
		}
		last := -1
		for _, sc := range scopes {
			i := slices.Index(budgetgate.TokenScopes, sc)
			if i <= last {
				t.Fatalf("%q: scopes %v unknown, repeated or out of order", s, scopes)
			}
			last = i
		}
		if again, err := budgetgate.ParseScopes(strings.Join(scopes, ",")); err != nil || !slices.Equal(again, scopes) {
			t.Fatalf("%v parses again as %v, %v", scopes, again, err)
		}
	})
}

// FuzzParseCriterion: a criterion that parses is written back in a
// normal form that parses to itself.
func FuzzParseCriterion(f *testing.F) {
	for _, s := range []string{"budget_remaining >= 50%", "burn_rate < 1.5x", "budget_remaining >= 25% AND < 50%", "budget_remaining <= 0%",
		"burn_rate >= 2", "budget_remaining > 10 and budget_remaining < 20%", "burn_rate == 1x", "latency < 5ms", "budget_remaining >= 1e400%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := errorbudget.ParseCriterion(s)
		if err != nil {
			domainError(t, err)
			return
		}
		if c.Metric != errorbudget.MetricBudgetRemaining && c.Metric != errorbudget.MetricBurnRate || len(c.Bounds) == 0 || len(c.Bounds) > 2 {
			t.Fatalf("%q parsed as %+v", s, c)
		}
		again, err := errorbudget.ParseCriterion(c.Text)
		if err != nil || again.Text != c.Text || len(again.Bounds) != len(c.Bounds) {
			t.Fatalf("normal form %q of %q parses as %+v, %v", c.Text, s, again, err)
		}
	})
}

// FuzzCompileGlob: any pattern compiles or is refused with a domain error;
// a compiled one compiles again from its text and matches any path without
// panicking, naming a variant only when it has {variant}.
func FuzzCompileGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"vehicles/{variant}/**", "vehicles/truck/a/b.go"}, {"*.go", "a/b/c.go"}, {"[a-c]?/**/x", "b1/y/z/x"},
		{"[!", "x"}, {"{variant}/{variant}", "a/b"}, {"a/**/**/b/", "a/b"}, {"\\*", "*"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		g, err := variant.CompileGlob(pattern)
		if err != nil {
			domainError(t, err)
			return
		}
		if _, err := variant.CompileGlob(g.Text); err != nil {
			t.Fatalf("%q compiled, its text does not: %v", pattern, err)
		}
		variant, ok := g.Match(path)
		if !ok && variant != "" || variant != "" && !g.HasVariant() {
			t.Fatalf("%q on %q: variant %q, ok %v", pattern, path, variant, ok)
		}
		g.MatchDir(path)
	})
}
