package handlers

import (
	"net/http"

	"github.com/budgetgate/budgetgate"
)

// statusOf maps the domain's error codes to HTTP, in this one place: the
// server's error handler and the forms that show an error beside
// themselves both read it.
var statusOf = map[string]int{
	budgetgate.EBADREQUEST:   http.StatusBadRequest,
	budgetgate.EINVALID:      http.StatusUnprocessableEntity,
	budgetgate.ENOTFOUND:     http.StatusNotFound,
	budgetgate.ECONFLICT:     http.StatusConflict,
	budgetgate.EUNAUTHORIZED: http.StatusUnauthorized,
	budgetgate.EFORBIDDEN:    http.StatusForbidden,
	budgetgate.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	budgetgate.EUNAVAILABLE:  http.StatusServiceUnavailable,
	budgetgate.ESLOWBODY:     http.StatusRequestTimeout,
	budgetgate.EMETHOD:       http.StatusMethodNotAllowed,
	budgetgate.EINTERNAL:     http.StatusInternalServerError,
}

// StatusOf is the HTTP status of an error code; 500 for a code it does not
// know.
func StatusOf(code string) int {
	if status, ok := statusOf[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}
