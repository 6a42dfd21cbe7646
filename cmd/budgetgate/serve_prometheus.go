package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/promsli"
)

// prometheusConfig holds the flags of pulled SLIs (docs/OPERATIONS.md,
// Pulled SLIs).
type prometheusConfig struct {
	url             string
	headers         headersFlag
	bearerTokenFile string
	maxStaleness    time.Duration
}

// headersFlag collects NAME=VALUE pairs, one a flag: a value may hold commas.
type headersFlag map[string]string

func (h headersFlag) String() string {
	var parts []string
	for k := range h {
		parts = append(parts, k+"=...")
	}
	return strings.Join(parts, ",")
}

func (h headersFlag) Set(s string) error {
	name, value, err := promsli.ParseHeader(s)
	if err != nil {
		return err
	}
	h[name] = value
	return nil
}

func (c *prometheusConfig) register(fs *flag.FlagSet) {
	c.headers = headersFlag{}
	fs.StringVar(&c.url, "prometheus", "", "`URL` of the Prometheus (or Thanos, Mimir, Cortex, VictoriaMetrics) that SLOs with a prometheus SLI are pulled from by default")
	fs.Var(c.headers, "prometheus-header", "`NAME=VALUE` header sent to --prometheus, such as a Mimir tenant's X-Scope-OrgID (repeatable)")
	fs.StringVar(&c.bearerTokenFile, "prometheus-bearer-token-file", "", "`file` holding a bearer token for --prometheus, read at every request")
	fs.DurationVar(&c.maxStaleness, "prometheus-max-staleness", promsli.DefaultMaxStaleness, "how old a pulled SLO's newest data may be before it is stale and its gate denies (an SLO's max_staleness wins)")
}

func (c *prometheusConfig) validate() error {
	if c.url != "" {
		if err := promsli.CheckURL("--prometheus", c.url); err != nil {
			return err
		}
	}
	if c.maxStaleness < promsli.Step+promsli.Delay {
		return fmt.Errorf("--prometheus-max-staleness: %s is shorter than one pull (%s after each minute)", c.maxStaleness, promsli.Delay)
	}
	if (len(c.headers) > 0 || c.bearerTokenFile != "") && c.url == "" {
		return fmt.Errorf("--prometheus-header and --prometheus-bearer-token-file need --prometheus")
	}
	return nil
}

// puller makes the puller of pulled SLIs over store.
func (c *prometheusConfig) puller(store *db.DB, log *slog.Logger) (*promsli.Puller, error) {
	return promsli.New(promsli.Config{
		Source:       promsli.Source{URL: c.url, Headers: c.headers, BearerTokenFile: c.bearerTokenFile},
		MaxStaleness: c.maxStaleness,
		Now:          func() time.Time { return time.Now().UTC() },
		Log:          log,
	}, store)
}

// followPolicies keeps the puller's SLOs those of the policies in force,
// read before every round, so that a policy loaded from the directory or
// the API is pulled within a minute.
func followPolicies(ctx context.Context, store *db.DB, puller *promsli.Puller, log *slog.Logger) {
	puller.Run(ctx, func(ctx context.Context) ([]promsli.SLO, error) {
		ps, err := store.Policies(ctx)
		if err != nil {
			return nil, err
		}
		return promsli.FromPolicies(ps), nil
	})
}

// figures is the store whose figures show pulled SLOs as stale when their
// data is: what the gate, the API, the pages and /metrics read.
type figures struct {
	*db.DB
	puller *promsli.Puller
}

func (f figures) ServiceMetrics(ctx context.Context, service string, now time.Time) (errorbudget.ServiceMetrics, *errorbudget.Policy, error) {
	sm, p, err := f.DB.ServiceMetrics(ctx, service, now)
	if err != nil {
		return sm, p, err
	}
	return sm, p, f.puller.MarkStale(ctx, &sm, p, now)
}

func (f figures) AllMetrics(ctx context.Context, now time.Time) ([]errorbudget.ServiceMetrics, error) {
	ms, err := f.DB.AllMetrics(ctx, now)
	if err != nil {
		return nil, err
	}
	ps, err := f.DB.Policies(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		p := ps[ms[i].Service]
		if p == nil {
			continue // its policy could not be read: already unknown
		}
		// One service's failure must not take the whole list down.
		if err := f.puller.MarkStale(ctx, &ms[i], p, now); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			ms[i].Status, ms[i].Error = errorbudget.StatusUnknown, "whether its pulled SLI data is fresh could not be read; see the server log"
			f.DB.Log.Error("pulled SLI freshness", "service", ms[i].Service, "err", err)
		}
	}
	return ms, nil
}
