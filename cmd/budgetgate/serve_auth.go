package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/devidp"
	"github.com/budgetgate/budgetgate/web"
)

// authConfig holds the sign-in, session and CCB flags of serve.
type authConfig struct {
	issuer, clientID, clientSecret, clientSecretFile string
	scopes, groupsClaim                              string
	roleGroups                                       budgetgate.RoleGroups
	sessionKeyFile                                   string
	idle, lifetime                                   time.Duration
	devIdP                                           bool
	devOpenAPI                                       bool
	devIdPAddr                                       string
	approvalsRelease, approvalsVariant               int
	releaseExpiry                                    time.Duration
}

func (a *authConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&a.issuer, "oidc-issuer", "", "OIDC issuer `URL` (discovery at URL/.well-known/openid-configuration)")
	fs.StringVar(&a.clientID, "oidc-client-id", "", "OIDC client id")
	fs.StringVar(&a.clientSecret, "oidc-client-secret", "", "OIDC client secret (prefer --oidc-client-secret-file: flags show in process listings)")
	fs.StringVar(&a.clientSecretFile, "oidc-client-secret-file", "", "`file` holding the OIDC client secret")
	fs.StringVar(&a.scopes, "oidc-scopes", "openid profile email groups", "scopes asked of the identity provider, space-separated")
	fs.StringVar(&a.groupsClaim, "oidc-groups-claim", "groups", "ID token claim that lists the user's groups")
	fs.StringVar(&a.roleGroups.CCB, "ccb-group", budgetgate.DefaultRoleGroups.CCB, "group whose members vote on CCB requests")
	fs.StringVar(&a.roleGroups.SRE, "sre-group", budgetgate.DefaultRoleGroups.SRE, "group whose members are SREs")
	fs.StringVar(&a.roleGroups.Admin, "admin-group", budgetgate.DefaultRoleGroups.Admin, "group whose members are admins (API tokens)")
	fs.StringVar(&a.sessionKeyFile, "session-key-file", "", "`file` with at least 32 bytes of secret for session cookies (default: a random key, so sessions end at restart)")
	fs.DurationVar(&a.idle, "session-idle-timeout", 8*time.Hour, "a session ends after this long without a request")
	fs.DurationVar(&a.lifetime, "session-lifetime", 24*time.Hour, "a session ends this long after sign-in, whatever the activity")
	fs.BoolVar(&a.devIdP, "dev-idp", false, "start the development identity provider with demo users (loopback only; never in production)")
	fs.BoolVar(&a.devOpenAPI, "dev-open-api", false, "with --dev-idp: API requests without a token act as a developer with every scope, so the README's variant-budget quick-start curl works as written (never in production)")
	fs.StringVar(&a.devIdPAddr, "dev-idp-addr", "127.0.0.1:0", "loopback `host:port` of the development identity provider")
	fs.IntVar(&a.approvalsRelease, "ccb-approvals-release", 1, "distinct CCB approvals that approve a release exception")
	fs.IntVar(&a.approvalsVariant, "ccb-approvals-variant", 1, "distinct CCB approvals that approve a variant exception")
	fs.DurationVar(&a.releaseExpiry, "ccb-release-expiry", 24*time.Hour, "how long an approved release exception lasts unless the request asks for less")
}

// rules returns the board's settings from the flags.
func (a *authConfig) rules() (ccb.CCBRules, error) {
	r := ccb.DefaultCCBRules()
	r.ApprovalsRequired[ccb.ExceptionRelease] = a.approvalsRelease
	r.ApprovalsRequired[ccb.ExceptionVariant] = a.approvalsVariant
	lim := r.Expiry[ccb.ExceptionRelease]
	lim.Default = a.releaseExpiry
	r.Expiry[ccb.ExceptionRelease] = lim
	return r, r.Validate()
}

// readSecretFile reads a secret kept in a file so that it does not show in
// a process listing; surrounding whitespace (a trailing newline) is dropped.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return web.IsLoopbackHost(host)
}

// demoTokenName names the CI token that --dev-idp makes at every start.
const demoTokenName = "demo-ci"

// setup prepares sign-in: the development provider when asked for, else the
// configured one. It returns a function that stops what it started.
func (a *authConfig) setup(ctx context.Context, store *db.DB, listenAddr, publicURL string, out io.Writer, log *slog.Logger) (*web.Auth, func(), error) {
	stop := func() {}
	cfg := web.AuthConfig{
		Issuer: a.issuer, ClientID: a.clientID, ClientSecret: a.clientSecret, Scopes: strings.Fields(a.scopes),
		GroupsClaim: a.groupsClaim, RoleGroups: a.roleGroups, PublicURL: publicURL,
		Limits: app.SessionLimits{Idle: a.idle, Absolute: a.lifetime}, Log: log,
	}
	if a.idle <= 0 || a.lifetime <= 0 {
		return nil, stop, errors.New("--session-idle-timeout and --session-lifetime must be positive")
	}
	if a.clientSecretFile != "" {
		s, err := readSecretFile(a.clientSecretFile)
		if err != nil {
			return nil, stop, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		cfg.ClientSecret = s
	}
	if a.sessionKeyFile != "" {
		key, err := os.ReadFile(a.sessionKeyFile)
		if err != nil {
			return nil, stop, fmt.Errorf("--session-key-file: %w", err)
		}
		if len(key) < 32 {
			return nil, stop, fmt.Errorf("--session-key-file: %s holds %d bytes; at least 32 are needed (head -c 64 /dev/urandom > FILE)", a.sessionKeyFile, len(key))
		}
		cfg.SessionKey = key
	} else {
		cfg.SessionKey = make([]byte, 32)
		rand.Read(cfg.SessionKey)
		if db.IsPostgres(store.Path) {
			// Instances sharing a database share sessions only if they
			// sign cookies alike: a sign-in begun on one would fail on another.
			log.Warn("session key generated for this run: sessions end when the server restarts, and other instances on this database refuse them (give every instance the same --session-key-file)")
		} else {
			log.Info("session key generated for this run: sessions end when the server restarts (set --session-key-file to keep them)")
		}
	}

	if a.devOpenAPI && !a.devIdP {
		return nil, stop, errors.New("--dev-open-api is for development only and needs --dev-idp")
	}
	cfg.OpenAPI = a.devOpenAPI
	if a.devIdP {
		if a.issuer != "" {
			return nil, stop, errors.New("--dev-idp and --oidc-issuer exclude each other")
		}
		if !isLoopbackAddr(listenAddr) {
			return nil, stop, fmt.Errorf("--dev-idp signs anyone in as anyone, so the server must listen on loopback only, not %s", listenAddr)
		}
		idp, err := devidp.Start(a.devIdPAddr, devidp.DemoUsers)
		if err != nil {
			return nil, stop, err
		}
		stop = func() { idp.Close() }
		cfg.Issuer, cfg.ClientID, cfg.ClientSecret = idp.Issuer, idp.ClientID, idp.ClientSecret
		log.Warn("development identity provider started: anyone on this machine can sign in as a demo user", "issuer", idp.Issuer)
		if err := printDemoToken(ctx, store, demoTokenOwner(idp.Issuer), out); err != nil {
			stop()
			return nil, func() {}, err
		}
	}
	auth, err := web.NewAuth(ctx, cfg, store)
	if err != nil {
		stop()
		return nil, func() {}, err
	}
	return auth, stop, nil
}

// demoTokenOwner is the demo user the demo CI token belongs to: the
// developer who asks for exceptions, so that a request the README's
// examples open is hers, shows her name, and is hers to complete (its
// refactoring plan) in the browser.
func demoTokenOwner(issuer string) budgetgate.Actor {
	for _, u := range devidp.DemoUsers {
		if u.Subject == demoRequesterSubject {
			return budgetgate.Actor{Issuer: issuer, Subject: u.Subject, Name: u.Name}
		}
	}
	return budgetgate.Actor{Issuer: issuer, Subject: demoRequesterSubject, Name: demoRequesterSubject}
}

// demoRequesterSubject is the development provider's requester.
const demoRequesterSubject = "dev-rita"

// printDemoToken makes a CI token with every scope for the README's
// examples, owned by owner, revoking the one of the previous run.
func printDemoToken(ctx context.Context, store *db.DB, owner budgetgate.Actor, out io.Writer) error {
	tokens, err := store.Tokens(ctx)
	if err != nil {
		return fmt.Errorf("demo token: %w", err)
	}
	for _, t := range tokens {
		if t.Name == demoTokenName && t.RevokedAt == nil {
			if err := store.RevokeToken(ctx, t.ID, budgetgate.SystemActor); err != nil {
				return fmt.Errorf("demo token: %w", err)
			}
		}
	}
	secret, _, err := store.CreateOwnedToken(ctx, demoTokenName, budgetgate.TokenScopes, owner)
	if err != nil {
		return fmt.Errorf("demo token: %w", err)
	}
	fmt.Fprintf(out, "Demo CI token (scopes %s; belongs to %s; replaced at every start):\nexport BUDGETGATE_TOKEN=%s\n", strings.Join(budgetgate.TokenScopes, ", "), owner.Name, secret)
	return nil
}
