package main

import (
	"flag"
	"net"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/web"
)

// limitsConfig holds serve's rate-limit and proxy flags.
type limitsConfig struct {
	login, ingest rateFlag
	proxies       proxiesFlag
}

// Defaults: a person signs in with two requests (/login and the callback),
// so thirty a minute leaves room for an office behind one address; CI posts
// a batch per job, so a hundred a second only stops a runaway client.
var (
	defaultRateLogin  = web.Rate{N: 30, Per: time.Minute}
	defaultRateIngest = web.Rate{N: 100, Per: time.Second}
)

func (l *limitsConfig) register(fs *flag.FlagSet) {
	l.login.Rate, l.ingest.Rate = defaultRateLogin, defaultRateIngest
	fs.Var(&l.login, "rate-login", "sign-in requests (/login and /auth/callback) per client address: a `RATE` such as 30/m (N/s, N/m or N/h), or off")
	fs.Var(&l.ingest, "rate-ingest", "ingest requests (SLI data, analyses) per client address: a `RATE` such as 100/s (N/s, N/m or N/h), or off")
	fs.Var(&l.proxies, "trusted-proxy", "`CIDR` or address of a reverse proxy whose X-Forwarded-For names the client (repeatable; comma-separated); without one the client is the connection's peer, whatever the headers say")
}

// rateFlag is a web.Rate as a flag.
type rateFlag struct{ web.Rate }

func (r *rateFlag) Set(s string) error {
	v, err := web.ParseRate(s)
	if err != nil {
		return err
	}
	r.Rate = v
	return nil
}

// proxiesFlag collects trusted proxy networks from repeated flags or a
// comma-separated list.
type proxiesFlag struct{ nets []*net.IPNet }

func (p *proxiesFlag) Set(s string) error {
	nets, err := web.ParseTrustedProxies(s)
	if err != nil {
		return err
	}
	p.nets = append(p.nets, nets...)
	return nil
}

func (p *proxiesFlag) String() string {
	var parts []string
	for _, n := range p.nets {
		parts = append(parts, n.String())
	}
	return strings.Join(parts, ",")
}
