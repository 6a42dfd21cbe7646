package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/handlers"
)

// sameOrigin refuses a form that the browser says was sent from another
// site. Browsers send Sec-Fetch-Site with every request and Origin with
// every POST; either one naming another site is enough. "same-site" is
// refused as well: a sibling subdomain is another application, and
// SameSite=Lax cookies would go along with its forms. The form token is
// still checked afterwards, for browsers that send neither header.
func (a *Auth) sameOrigin(r *http.Request) error {
	refused := budgetgate.Errorf(budgetgate.EFORBIDDEN, "cross-site form submissions are refused")
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return refused
	}
	if o := r.Header.Get("Origin"); o != "" && originOf(o) != originOf(a.cfg.PublicURL) {
		return refused
	}
	return nil
}

// originOf reduces a URL to scheme://host[:port] as browsers write an
// Origin: lower case, without a default port. It returns "" for what is not
// an absolute URL (such as the Origin "null"), which matches nothing.
func originOf(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Hostname() == "" {
		return ""
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		if net.ParseIP(host) == nil {
			return "" // not an IPv6 address: no host a browser would name
		}
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// formReadError says why a form body could not be read, as for any body
// (over the limit: 413, too slow: 408, broken off: 400) in a form's words.
func formReadError(err error) error {
	e := handlers.BodyReadError(err)
	switch {
	case budgetgate.ErrorCode(e) == budgetgate.ETOOLARGE || strings.Contains(err.Error(), "too large"):
		return &budgetgate.Error{Code: budgetgate.ETOOLARGE, Message: "the form is too large for this server"}
	case budgetgate.ErrorCode(e) == budgetgate.EBADREQUEST:
		return budgetgate.Errorf(budgetgate.EBADREQUEST, "unreadable form: %v", err)
	}
	return e
}
