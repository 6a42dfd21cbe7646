package promsli

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
)

// Source is how to reach the default Prometheus: its URL, extra headers
// (such as a Mimir tenant's X-Scope-OrgID) and a bearer token file, read
// at every request so that a rotated token is picked up.
type Source struct {
	URL             string
	Headers         map[string]string
	BearerTokenFile string
}

// ParseHeader reads a --prometheus-header value, NAME=VALUE.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", "", fmt.Errorf("--prometheus-header %q: want NAME=VALUE", s)
	}
	if _, reserved := config.ReservedHeaders[http.CanonicalHeaderKey(name)]; reserved {
		return "", "", fmt.Errorf("--prometheus-header %q: %s is set by budgetgate itself", s, http.CanonicalHeaderKey(name))
	}
	return name, value, nil
}

// CheckURL refuses what is not an http or https URL, naming field.
func CheckURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q: want an http or https URL", field, raw)
	}
	return nil
}

// newAPI is the query client of one source. Headers and the token go only
// to the default source: a policy that names another URL must not be able
// to collect the server's credentials.
func newAPI(address string, s *Source) (v1.API, error) {
	rt := api.DefaultRoundTripper
	if s != nil {
		if len(s.Headers) > 0 {
			hs := &config.Headers{Headers: map[string]config.Header{}}
			for name, value := range s.Headers {
				hs.Headers[name] = config.Header{Values: []string{value}}
			}
			rt = config.NewHeadersRoundTripper(hs, rt)
		}
		if s.BearerTokenFile != "" {
			rt = config.NewAuthorizationCredentialsRoundTripper("Bearer", config.NewFileSecret(s.BearerTokenFile), rt)
		}
	}
	c, err := api.NewClient(api.Config{Address: address, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", address, err)
	}
	return v1.NewAPI(c), nil
}
