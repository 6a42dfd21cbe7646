// Package budgetgate is the shared kernel of budgetgate: the one error type
// with its codes, identity (users, roles, API tokens) and the audit entry.
// The subdomains live in errorbudget, variant and ccb; the use cases that
// span them, the store and notifications live in app.
package budgetgate

import (
	"errors"
	"fmt"
)

// Error codes. The web package maps each to one HTTP status, in one place.
const (
	EBADREQUEST   = "bad_request"        // the body is not well-formed JSON
	EINVALID      = "invalid"            // the input is wrong; Field says where
	ENOTFOUND     = "not_found"          // no such thing
	ECONFLICT     = "conflict"           // the state forbids it (decided request, reused key)
	EUNAUTHORIZED = "unauthorized"       // who are you?
	EFORBIDDEN    = "forbidden"          // you may not
	ETOOLARGE     = "too_large"          // body or list over its limit
	EUNAVAILABLE  = "unavailable"        // try later: storage full, not ready
	ESLOWBODY     = "slow_body"          // the request body did not arrive within the read timeout
	EMETHOD       = "method_not_allowed" // the path exists, under other methods
	EINTERNAL     = "internal"           // a bug or a failure we did not expect
)

// Error is the one error type the domain, the store and the handlers return
// for anything a user should see. Field names the offending input, as
// "events[3].good" for a request body or "policy.yaml:12:5" for a file.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error naming the field at fault.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or EINTERNAL for errors that are not *Error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message a user may see: the *Error's own, or a
// generic one so that internal details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field an *Error names, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
