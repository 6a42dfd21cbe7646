// Package handlers turns HTTP requests into calls on the domain and the store,
// and their results into JSON or pages. Each handler declares the interface it
// needs; nothing here knows SQL.
package handlers

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxBodyBytes is the default limit on a request body (see docs/POLICY.md, Limits).
const MaxBodyBytes = 10 << 20

// decodeStrict decodes one JSON value into v, refusing unknown fields,
// duplicate keys, keys that differ from the field's name in case, trailing
// data and wrong types, and names the field at fault. It is the one
// decoder of the API's JSON bodies (docs/OPERATIONS.md, "Strict input").
func decodeStrict(body []byte, v any) error {
	if err := decodeJSON(body, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// decodeJSON decodes with the JSON v2 rules: duplicate names are an error
// and names match case-sensitively, so that no two readers of one body
// (a proxy, a log, this server) can disagree on what it says.
func decodeJSON(body []byte, v any) error {
	return jsonv2.Unmarshal(body, v, jsonv2.RejectUnknownMembers(true))
}

// jsonError turns the decoder's errors into one that names the field (as
// "events[3].good"): 400 for what is not JSON, 422 for JSON that does not
// fit.
func jsonError(err error) error {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	var tim *time.ParseError
	switch {
	case errors.As(err, &syn):
		field := fieldOf(syn.JSONPointer)
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return budgetgate.FieldErrorf(field, "duplicate key: each key may appear once in an object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Message: "malformed JSON: unexpected end of input"}
		}
		return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Message: fmt.Sprintf("malformed JSON at byte %d: %v", syn.ByteOffset, syn.Err)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Message: "malformed JSON: unexpected end of input"}
	case errors.As(err, &sem):
		field := fieldOf(sem.JSONPointer)
		switch {
		case errors.Is(sem.Err, jsonv2.ErrUnknownName):
			return budgetgate.FieldErrorf(field, "unknown field")
		case errors.As(sem.Err, &tim):
			return budgetgate.FieldErrorf(field, "not an RFC 3339 time: %q", tim.Value)
		case sem.GoType == reflect.TypeFor[time.Time]():
			return budgetgate.FieldErrorf(field, "not an RFC 3339 time: %s", sem.JSONValue)
		case field == "":
			return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Message: fmt.Sprintf("want %s, got JSON %s", jsonKind(sem.GoType), kindName(sem.JSONKind))}
		}
		return budgetgate.FieldErrorf(field, "want %s, got JSON %s", jsonKind(sem.GoType), kindName(sem.JSONKind))
	}
	return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Message: "malformed JSON: " + err.Error()}
}

// fieldOf writes a JSON pointer ("/events/3/good") as the API names fields
// ("events[3].good"): a token of digits is a list index.
func fieldOf(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if tok == "" {
			tok = `""` // the empty key is named as written
		}
		b.WriteString(tok)
	}
	return b.String()
}

// kindName says what a JSON value was, in JSON's words.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "bool"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

// jsonKind says in JSON's words what a Go type is decoded from, rather
// than naming the Go type.
func jsonKind(t reflect.Type) string {
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// sliEvent is the wire form of an SLI entry: pointers tell a missing count
// from a zero one.
type sliEvent struct {
	Time  *time.Time `json:"time"`
	Good  *int64     `json:"good"`
	Total *int64     `json:"total"`
}

// DecodeSLI decodes and validates an SLI ingest body (see docs/API.md, Error budgets). The common
// well-formed shape takes a fast path; anything else goes through the
// strict decoder, which names events[i].field at fault.
func DecodeSLI(body []byte, now time.Time, retention time.Duration) ([]errorbudget.SLIEvent, error) {
	if events, ok := decodeSLIFast(body); ok && len(events) > 0 {
		if err := errorbudget.ValidateSLIEvents(events, now, retention); err != nil {
			return nil, err
		}
		return events, nil
	}
	return decodeSLIStrict(body, now, retention)
}

// decodeSLIStrict is DecodeSLI through the strict decoder.
func decodeSLIStrict(body []byte, now time.Time, retention time.Duration) ([]errorbudget.SLIEvent, error) {
	var req struct {
		Events []sliEvent `json:"events"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if req.Events == nil {
		return nil, budgetgate.FieldErrorf("events", "required")
	}
	if len(req.Events) > errorbudget.MaxSLIEventsPerRequest {
		return nil, &budgetgate.Error{Code: budgetgate.ETOOLARGE, Field: "events",
			Message: fmt.Sprintf("%d events; at most %d a request", len(req.Events), errorbudget.MaxSLIEventsPerRequest)}
	}
	events := make([]errorbudget.SLIEvent, len(req.Events))
	for i, e := range req.Events {
		switch {
		case e.Time == nil:
			return nil, budgetgate.FieldErrorf(fmt.Sprintf("events[%d].time", i), "required")
		case e.Good == nil:
			return nil, budgetgate.FieldErrorf(fmt.Sprintf("events[%d].good", i), "required")
		case e.Total == nil:
			return nil, budgetgate.FieldErrorf(fmt.Sprintf("events[%d].total", i), "required")
		}
		events[i] = errorbudget.SLIEvent{Time: e.Time.UTC(), Good: *e.Good, Total: *e.Total}
	}
	if err := errorbudget.ValidateSLIEvents(events, now, retention); err != nil {
		return nil, err
	}
	return events, nil
}

// DecodeRelease decodes and validates a release evaluation request (see docs/BUDGET_MATH.md, Release gate).
func DecodeRelease(body []byte) (errorbudget.Release, error) {
	var r errorbudget.Release
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	return r, r.Validate()
}
