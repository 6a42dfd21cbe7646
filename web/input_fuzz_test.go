package web

import (
	"strings"
	"testing"
)

// FuzzParseRate: a rate that parses is positive and reads back from its
// own String; "off" limits nothing.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"30/m", "100/s", "500/h", "off", "0", "1/d", "-5/s", "999999999999/s", "3/", "/m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.Off() {
			if r != (Rate{}) {
				t.Fatalf("ParseRate(%q) = %+v: off but not zero", s, r)
			}
			return
		}
		if r.N <= 0 || r.Per <= 0 {
			t.Fatalf("ParseRate(%q) = %+v", s, r)
		}
		if again, err := ParseRate(r.String()); err != nil || again != r {
			t.Fatalf("%+v written as %q reads back as %+v, %v", r, r.String(), again, err)
		}
	})
}

// FuzzOriginOf: the origin a form's Origin header is compared by is stable:
// an origin is its own origin, and only absolute URLs have one.
func FuzzOriginOf(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080", "https://Budgetgate.TEST:443/path", "null", "http://[::1]:80", "", "//x", "http://user@x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o := originOf(s)
		if o == "" {
			return
		}
		if again := originOf(o); again != o {
			t.Fatalf("originOf(%q) = %q, whose origin is %q", s, o, again)
		}
		if !strings.Contains(o, "://") || strings.ContainsAny(strings.SplitN(o, "://", 2)[1], "/?#@") {
			t.Fatalf("originOf(%q) = %q is not scheme://host[:port]", s, o)
		}
	})
}
