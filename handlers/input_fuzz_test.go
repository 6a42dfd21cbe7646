package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/variant"
)

// userFacing fails the test unless err is a *budgetgate.Error a client can
// act on: bad_request or invalid (or what the caller allows), with a
// message.
func userFacing(t *testing.T, err error, codes ...string) {
	t.Helper()
	var e *budgetgate.Error
	if !errors.As(err, &e) || e.Message == "" {
		t.Fatalf("error %#v is not a domain error with a message", err)
	}
	codes = append(codes, budgetgate.EBADREQUEST, budgetgate.EINVALID)
	for _, c := range codes {
		if e.Code == c {
			if e.Code == budgetgate.EINVALID && e.Field == "" {
				t.Fatalf("invalid without a field: %v", err)
			}
			return
		}
	}
	t.Fatalf("error code %q: %v", e.Code, err)
}

// FuzzDecodeExceptionRequest: the body of POST /api/v1/exceptions decodes
// into a request the domain accepts, or is refused with an error that names
// the field; never a panic or an internal error.
func FuzzDecodeExceptionRequest(f *testing.F) {
	for _, s := range []string{
		`{"decision_id":42,"reason":"Month-end close.","expiry":"3d"}`,
		`{"analysis_id":7,"reason":"x","refactoring_plan":{"steps":["split"],"target_date":"2099-01-01"}}`,
		`{"decision_id":"42"}`, `{"decision_id":1.5,"reason":"x"}`, `{"decision_id":1,"analysis_id":2,"reason":"x"}`,
		`{"decision_id":1,"reason":"x","expiry":"99999999999d"}`, `[]`, `null`, `{"refactoring_plan":{"steps":"x"}}`, `{`,
	} {
		f.Add([]byte(s))
	}
	h := &CCB{VariantSubject: func(_ context.Context, id int64) (ccb.ExceptionSubject, ccb.ExceptionEvidence, error) {
		return ccb.ExceptionSubject{Project: "fleet-core", Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code"}, ccb.ExceptionEvidence{}, nil
	}}
	rules := ccb.DefaultCCBRules()
	f.Fuzz(func(t *testing.T, body []byte) {
		var b exceptionRequestBody
		if err := decodeStrict(body, &b); err != nil {
			userFacing(t, err)
			return
		}
		req, err := h.request(context.Background(), b)
		if err != nil {
			userFacing(t, err)
			return
		}
		if req.Kind == ccb.ExceptionRelease {
			// The store fills a release request's subject from its decision.
			req.Subject.Service, req.Subject.Version = "ledger", "1.0"
		}
		e, err := ccb.NewException(req, budgetgate.SystemActor, rules, fuzzNow)
		if err != nil {
			userFacing(t, err)
			return
		}
		if strings.TrimSpace(e.Reason) == "" || len([]rune(e.Reason)) > ccb.MaxReasonChars || e.RequestedExpiry <= 0 ||
			e.RequestedExpiry > rules.Expiry[e.Kind].Max {
			t.Fatalf("accepted %+v", e)
		}
	})
}

// FuzzDecodePlan: PUT /api/v1/exceptions/{id}/plan bodies are a valid plan
// or a refusal naming the field.
func FuzzDecodePlan(f *testing.F) {
	for _, s := range []string{
		`{"steps":["split the module"],"target_date":"2099-01-01"}`, `{"steps":[],"target_date":"2099-01-01"}`,
		`{"steps":[" "],"target_date":"2099-01-01"}`, `{"steps":["x"],"target_date":"2001-01-01"}`, `{"steps":"x"}`,
		`{"steps":["x"],"target_date":"tomorrow","owner":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p ccb.RefactoringPlan
		if err := decodeStrict(body, &p); err != nil {
			userFacing(t, err)
			return
		}
		if err := p.Validate(fuzzNow); err != nil {
			userFacing(t, err)
			return
		}
		d, err := time.Parse(time.DateOnly, p.TargetDate)
		if len(p.Steps) == 0 || len(p.Steps) > ccb.MaxPlanSteps || err != nil || !d.After(fuzzNow) {
			t.Fatalf("accepted %+v", p)
		}
	})
}

// FuzzDecodePostedAnalysis: form (a) of POST /api/v1/budget/analyze. An
// analysis that is accepted is accepted again, unchanged, once written
// back as JSON: what the server stores is stable.
func FuzzDecodePostedAnalysis(f *testing.F) {
	for _, s := range []string{
		`{"project":"fleet-core","commit":"c1","baseline":"main","status":"pass","analyzed_files":2,"skipped_files":0,"dimensions":[{"name":"vehicle","status":"pass","metrics":[{"name":"lines_of_code","budget":"b","status":"pass","delta":1.5,"variant":"truck","share":1.5,"total":100,"hard_limit":5,"soft_limit":3,"trend_limit":0.5}],"variants":[{"name":"truck","files":1,"metrics":{"lines_of_code":{"value":1,"core":99,"delta":1.5,"status":"pass"}}}]}],"violations":[]}`,
		`{"project":"fleet-core","commit":"c1","status":"blocked","dimensions":[],"branch":"main"}`,
		`{"project":"x","commit":"c","status":"pass","dimensions":[{"name":"d","status":"pass","metrics":[{"name":"m","delta":-1}]}]}`,
		`{"project":"x","commit":"c","status":"pass","dimensions":null,"on_baseline":true}`, `{"commit":1}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	// decodePosted is form (a) as PostAnalyze reads it; a body of the
	// other form is no analysis (nil, nil).
	decodePosted := func(body []byte) (*variant.Analysis, bool, error) {
		req, err := decodeAnalyzeBody(body)
		if err != nil || !req.isAnalysis() {
			return nil, false, err
		}
		return req.posted()
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, base, err := decodePosted(body)
		if err == nil && a == nil {
			return
		}
		if err != nil {
			userFacing(t, err, budgetgate.ETOOLARGE)
			return
		}
		out, err := json.Marshal(postedAnalysis{Analysis: *a, OnBaseline: &base})
		if err != nil {
			t.Fatalf("accepted analysis does not marshal: %v", err)
		}
		again, base2, err := decodePosted(out)
		if err != nil {
			t.Fatalf("accepted %s\nbut not its own JSON %s: %v", body, out, err)
		}
		if base2 != base || again.Status != a.Status || len(again.Dimensions) != len(a.Dimensions) || len(again.Violations) != len(a.Violations) {
			t.Fatalf("written back and read again: %+v, want %+v", again, a)
		}
	})
}

// FuzzQueryDates: the dates and times of query parameters are read or
// refused naming the parameter; what is read prints back as itself.
func FuzzQueryDates(f *testing.F) {
	for _, s := range []string{"2026-01-31", "2026-01-31T10:00:00Z", "2026-01-31T10:00:00+02:00", "yesterday", "2026-13-01", "", "0000-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseDay("from", s); err != nil {
			if budgetgate.ErrorField(err) != "from" {
				t.Fatalf("parseDay(%q): %v", s, err)
			}
		} else if s != "" && d.Format(time.DateOnly) != s {
			t.Fatalf("parseDay(%q) = %v", s, d)
		}
		if tm, err := parseTimeParam("to", s); err != nil {
			if budgetgate.ErrorField(err) != "to" {
				t.Fatalf("parseTimeParam(%q): %v", s, err)
			}
		} else if s != "" && tm.Location() != time.UTC {
			t.Fatalf("parseTimeParam(%q) = %v, not UTC", s, tm)
		}
	})
}

// FuzzSafeNext: whatever ?next= holds, the address signed-in users are sent
// to stays on this site, as a browser reads it: browsers drop tabs and
// newlines from URLs and take a backslash for a slash, so "/\t/evil.test"
// would leave the site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/ccb", "/ccb/4?x=1#v", "//evil.test", "/\\evil.test", "https://evil.test", "/\t/evil.test", "/\n/evil.test", "", "ccb", "/%2F/evil.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		if !strings.HasPrefix(browser, "/") || strings.HasPrefix(browser, "//") {
			t.Fatalf("safeNext(%q) = %q, which a browser reads as %q", next, got, browser)
		}
		if u, err := url.Parse(got); err == nil && (u.Scheme != "" || u.Host != "") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
	})
}
