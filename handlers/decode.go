// Package handlers turns HTTP requests into calls on the domain and the store,
// and their results into JSON or pages. Each handler declares the interface it
// needs; nothing here knows SQL.
package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// MaxBodyBytes is the default limit on a request body (see docs/POLICY.md, Limits).
const MaxBodyBytes = 10 << 20

// decodeStrict decodes one JSON value into v, refusing unknown fields,
// trailing data and wrong types, and names the field at fault.
func decodeStrict(body []byte, v any) error {
	if err := decodeJSON(body, v); err != nil {
		return jsonError(err, "")
	}
	return nil
}

var errTrailingData = errors.New("unexpected data after the JSON value")

func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailingData
	}
	return nil
}

// jsonError turns encoding/json's errors into one that names the field,
// prefixed with path (as "events[3]").
func jsonError(err error, path string) error {
	join := func(field string) string {
		switch {
		case path == "":
			return field
		case field == "":
			return path
		}
		return path + "." + field
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tim *time.ParseError
	switch {
	case errors.As(err, &syn):
		return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Field: path, Message: fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Field: path, Message: "malformed JSON: unexpected end of input"}
	case errors.As(err, &typ):
		if join(typ.Field) == "" {
			return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Message: fmt.Sprintf("want %s, got JSON %s", jsonKind(typ.Type), typ.Value)}
		}
		return budgetgate.FieldErrorf(join(typ.Field), "want %s, got JSON %s", jsonKind(typ.Type), typ.Value)
	case errors.As(err, &tim):
		return budgetgate.FieldErrorf(join("time"), "not an RFC 3339 time: %q", tim.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil || name == "" {
			name = quoted // the empty key is named "", as written
		}
		return budgetgate.FieldErrorf(join(name), "unknown field")
	}
	return &budgetgate.Error{Code: budgetgate.EBADREQUEST, Field: path, Message: "malformed JSON: " + err.Error()}
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
// well-formed shape takes a fast path; anything else goes through
// encoding/json, which decodes the whole list in one pass and, only when
// that fails, entry by entry, so that the error can name events[i].field.
func DecodeSLI(body []byte, now time.Time, retention time.Duration) ([]errorbudget.SLIEvent, error) {
	if events, ok := decodeSLIFast(body); ok && len(events) > 0 {
		if err := errorbudget.ValidateSLIEvents(events, now, retention); err != nil {
			return nil, err
		}
		return events, nil
	}
	return decodeSLIStrict(body, now, retention)
}

// decodeSLIStrict is DecodeSLI through encoding/json.
func decodeSLIStrict(body []byte, now time.Time, retention time.Duration) ([]errorbudget.SLIEvent, error) {
	var req struct {
		Events []sliEvent `json:"events"`
	}
	if err := decodeStrict(body, &req); err != nil {
		var raw struct {
			Events []json.RawMessage `json:"events"`
		}
		if json.Unmarshal(body, &raw) != nil || len(raw.Events) > errorbudget.MaxSLIEventsPerRequest {
			return nil, err
		}
		for i, r := range raw.Events {
			var e sliEvent
			if err := decodeJSON(r, &e); err != nil {
				return nil, jsonError(err, fmt.Sprintf("events[%d]", i))
			}
		}
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
