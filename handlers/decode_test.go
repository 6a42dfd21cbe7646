package handlers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

var fuzzNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// FuzzDecodeSLI: any body either decodes to events that pass validation, or
// fails with a domain error; never a panic, never an error without a code.
func FuzzDecodeSLI(f *testing.F) {
	for _, seed := range []string{
		`{"events":[{"time":"2026-11-22T10:00:00Z","good":995,"total":1000}]}`,
		`{"events":[{"time":"2026-11-22T10:00:00Z","good":995,"total":1000},{"time":"2026-11-22T10:01:00Z","good":1,"total":"2"}]}`,
		`{"events":[{"time":"2026-11-22T10:00:00Z","good":-1,"total":1000,"x":1}]}`,
		`{"events":null}`, `{"events":[{}]}`, `[]`, `{`, `{"events":[1,2]}`, "",
		`{"events":[{"time":"2026-11-22T10:00:00+05:00","good":1e3,"total":1000}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := DecodeSLI(body, fuzzNow, errorbudget.DefaultRetention)
		if err != nil {
			var e *budgetgate.Error
			if !errors.As(err, &e) || e.Code == "" || e.Message == "" {
				t.Fatalf("error %v is not a domain error with a code and message", err)
			}
			if events != nil {
				t.Fatal("events returned with an error")
			}
			return
		}
		if err := errorbudget.ValidateSLIEvents(events, fuzzNow, errorbudget.DefaultRetention); err != nil {
			t.Fatalf("decoded events fail validation: %v", err)
		}
	})
}

func FuzzDecodeRelease(f *testing.F) {
	for _, seed := range []string{
		`{"service":"api-service","version":"1.4.2","risk_level":"low","release_type":"feature","has_tests":true,"has_rollback_plan":true}`,
		`{"service":"API","version":""}`, `{"service":"a","version":"1","extra":true}`, `null`, `{"service":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeRelease(body)
		if err != nil {
			if budgetgate.ErrorCode(err) == budgetgate.EINTERNAL {
				t.Fatalf("error %v has no domain code", err)
			}
			return
		}
		if r.Service == "" || r.Version == "" || r.RiskLevel == "" || r.ReleaseType == "" {
			t.Fatalf("accepted release lacks a required field or default: %+v", r)
		}
	})
}

func TestDecodeSLINamesTheField(t *testing.T) {
	tests := []struct{ body, field string }{
		{`{"events":[{"time":"2026-11-22T10:00:00Z","good":1,"total":2},{"time":"2026-11-22T10:00:00Z","good":"x","total":2}]}`, "events[1].good"},
		{`{"events":[{"time":"2026-11-22T10:00:00Z","good":1,"total":2,"extra":0}]}`, "events[0].extra"},
		{`{"events":[{"time":"soon","good":1,"total":2}]}`, "events[0].time"},
		{`{"events":[{"time":"2026-11-22T10:00:00Z","good":3,"total":2}]}`, "events[0].good"},
		{`{"events":[{"time":"2026-11-22T10:00:00Z","good":1,"total":10000000000000}]}`, "events[0].total"},
		{`{"evnets":[]}`, "evnets"},
		{`{"events":[{"time":"2026-11-22T10:00:00Z","good":1,"total":2,"total":3}]}`, "events[0].total"},
		{`{"events":[],"events":[]}`, "events"},
		{`{"Events":[]}`, "Events"},
		{`{"events":[{"time":"2026-11-22T10:00:00Z","Good":1,"total":2}]}`, "events[0].Good"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			_, err := DecodeSLI([]byte(tt.body), fuzzNow, errorbudget.DefaultRetention)
			if got := budgetgate.ErrorField(err); got != tt.field {
				t.Fatalf("field %q (%v), want %q", got, err, tt.field)
			}
		})
	}
	// Times with an offset are taken as the instant they name.
	events, err := DecodeSLI([]byte(`{"events":[{"time":"2026-11-22T12:00:00+02:00","good":1,"total":1}]}`), fuzzNow, errorbudget.DefaultRetention)
	if err != nil || !events[0].Time.Equal(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("offset time: %v %v", events, err)
	}
	if _, err := DecodeSLI([]byte(`{"events":[`+strings.Repeat(`{"time":"2026-11-22T10:00:00Z","good":1,"total":1},`, 10000)+`{"time":"2026-11-22T10:00:00Z","good":1,"total":1}]}`), fuzzNow, errorbudget.DefaultRetention); budgetgate.ErrorCode(err) != budgetgate.ETOOLARGE {
		t.Fatalf("10,001 events: %v, want too_large", err)
	}
}

// FuzzDecodeSLIFast: whatever the fast path accepts, the strict decoder
// accepts too, with the same events.
func FuzzDecodeSLIFast(f *testing.F) {
	for _, seed := range []string{
		`{"events":[{"time":"2026-11-22T10:00:00Z","good":995,"total":1000}]}`,
		` { "events" : [ { "total" : 7 , "time" : "2026-11-22T10:00:00+01:00" , "good" : 0 } ] } `,
		`{"events":[{"time":"2026-11-22T10:00:00Z","good":01,"total":1000}]}`,
		`{"events":[{"time":"2026-11-22T10:00:00Z","good":1,"good":2,"total":1000}]}`,
		`{"events":[{"time":"2026-11-22T10:00:00.5Z","good":1e2,"total":1000}]}`,
		`{"events":[]}`, `{"events":[{}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeSLIFast(body)
		if !ok || len(fast) == 0 {
			return
		}
		strict, err := decodeSLIStrict(body, fuzzNow, 100*365*24*time.Hour)
		if err != nil {
			if budgetgate.ErrorCode(err) == budgetgate.EINVALID && strings.HasPrefix(budgetgate.ErrorField(err), "events[") {
				return // validation, not decoding: DecodeSLI validates the fast path's events the same way
			}
			t.Fatalf("fast path accepted what the strict decoder refuses: %v", err)
		}
		if len(strict) != len(fast) {
			t.Fatalf("fast %d events, strict %d", len(fast), len(strict))
		}
		for i := range fast {
			if !fast[i].Time.Equal(strict[i].Time) || fast[i].Good != strict[i].Good || fast[i].Total != strict[i].Total {
				t.Fatalf("event %d: fast %+v, strict %+v", i, fast[i], strict[i])
			}
		}
	})
}
