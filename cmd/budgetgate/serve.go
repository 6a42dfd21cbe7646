package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/cluster"
	"github.com/budgetgate/budgetgate/db"
	"github.com/budgetgate/budgetgate/demo"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/budgetgate/budgetgate/notify"
	"github.com/budgetgate/budgetgate/policyfile"
	"github.com/budgetgate/budgetgate/sloimport"
	"github.com/budgetgate/budgetgate/web"
)

// webhooksFlag collects role=URL pairs, from repeated flags or a
// comma-separated environment variable.
type webhooksFlag app.Webhooks

func (w webhooksFlag) String() string {
	var parts []string
	for k, v := range w {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (w webhooksFlag) Set(s string) error {
	for _, pair := range strings.Split(s, ",") {
		role, url, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || role == "" || !(strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")) {
			return fmt.Errorf("want ROLE=http(s)://URL, got %q", pair)
		}
		w[role] = url
	}
	return nil
}

type serveConfig struct {
	addr, dbPath, policies, publicURL, logFormat string
	demo, fullDBCheck                            bool
	retention, requestTimeout, grace, leaseTTL   time.Duration
	timeouts                                     web.Timeouts
	bodyLimit                                    int64
	webhooks                                     webhooksFlag
	auth                                         authConfig
	ops                                          opsConfig
	limits                                       limitsConfig
	out                                          io.Writer // where serve prints what the user must see (the demo token)
	repos, owners                                *pairsFlag
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := serveConfig{webhooks: webhooksFlag{}, out: stdout, repos: newReposFlag(), owners: newOwnersFlag()}
	fs := newFlags("serve", "serve [flags]", stderr)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on; port 0 picks a free port and logs it")
	fs.StringVar(&cfg.dbPath, "db", "data/budgetgate.db", "SQLite database `file` (created if missing), or a postgres:// URL (docs/OPERATIONS.md, PostgreSQL)")
	fs.StringVar(&cfg.policies, "policies", "", "`directory` of error-budget policy files (*.yaml) loaded at start")
	fs.BoolVar(&cfg.demo, "demo", false, "load demo services, history and decisions into an empty database")
	fs.BoolVar(&cfg.fullDBCheck, "full-db-check", false, "run SQLite's full integrity check at start even after a clean shutdown (seconds on a large database)")
	fs.StringVar(&cfg.publicURL, "url", "", "public base `URL` of the dashboard (default http:// + the listen address)")
	fs.DurationVar(&cfg.retention, "retention", errorbudget.DefaultRetention, "how long SLI data is accepted and kept (never less than the longest window)")
	fs.DurationVar(&cfg.requestTimeout, "request-timeout", 30*time.Second, "deadline for one request")
	fs.DurationVar(&cfg.timeouts.ReadHeader, "read-header-timeout", web.DefaultTimeouts.ReadHeader, "deadline for a client to send a request's headers")
	fs.DurationVar(&cfg.timeouts.Read, "read-timeout", web.DefaultTimeouts.Read, "deadline for a client to send a whole request, headers and body; slower bodies are cut off")
	fs.DurationVar(&cfg.timeouts.Idle, "idle-timeout", web.DefaultTimeouts.Idle, "how long an idle keep-alive connection is kept open")
	fs.DurationVar(&cfg.grace, "shutdown-grace", 20*time.Second, "how long in-flight requests may finish after SIGTERM")
	fs.Int64Var(&cfg.bodyLimit, "body-limit", handlers.MaxBodyBytes, "largest request body in `bytes`")
	fs.Var(cfg.webhooks, "webhook", "`ROLE=URL` to post notifications for ROLE to (repeatable; comma-separated in the environment)")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&cfg.leaseTTL, "lease-ttl", cluster.DefaultTTL, "how long an instance holds background work (escalations, webhooks, sweeps, purges) without renewing; another instance takes it over once it expires")
	cfg.auth.register(fs)
	cfg.ops.register(fs)
	cfg.limits.register(fs)
	fs.Var(cfg.repos, "repo", "`PROJECT=PATH` of a git repository the server analyses on POST /api/v1/budget/analyze (repeatable; comma-separated in the environment)")
	fs.Var(cfg.owners, "project-owner", "`PROJECT=ROLE` told of the project's new variant-budget violations (default role platform; repeatable)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := cfg.ops.validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	log := newLogger(cfg.logFormat, stderr)
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("budgetgate stopped", "err", err)
		return exitError
	}
	return exitOK
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func serve(ctx context.Context, cfg serveConfig, log *slog.Logger) error {
	store, err := db.OpenWith(ctx, cfg.dbPath, db.Options{FullCheck: cfg.fullDBCheck})
	if err != nil {
		return err
	}
	defer store.Close()
	store.Log = log
	log.Info("database opened", "db", store.Path, "full_integrity_check", store.FullyChecked)
	if err := cfg.ops.apply(ctx, store, log); err != nil {
		return err
	}
	if cfg.policies != "" {
		if err := loadPolicies(ctx, store, cfg.policies, cfg.retention, log); err != nil {
			return err
		}
	}
	if err := store.ConfigureRepositories(ctx, cfg.repos.m, cfg.owners.m); err != nil {
		return err
	}
	if cfg.demo {
		start := time.Now()
		if err := demo.Seed(ctx, store, time.Now().UTC()); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if err := demo.SeedCCB(ctx, store, app.CCBNotify{}); err != nil {
			return fmt.Errorf("demo CCB requests: %w", err)
		}
		log.Info("demo data ready", "took", time.Since(start).Round(time.Millisecond))
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if cfg.publicURL == "" {
		cfg.publicURL = "http://" + addr
	}
	now := func() time.Time { return time.Now().UTC() }
	rules, err := cfg.auth.rules()
	if err != nil {
		return err
	}
	auth, stopAuth, err := cfg.auth.setup(ctx, store, addr, cfg.publicURL, cfg.out, log)
	if err != nil {
		return err
	}
	defer stopAuth()
	ccbNotify := app.CCBNotify{Hooks: app.Webhooks(cfg.webhooks), BaseURL: cfg.publicURL}
	notifier := notify.New(store, app.Webhooks(cfg.webhooks), log, now)
	decisions := &handlers.DecisionCounts{}
	api := &handlers.API{Store: store, Releases: app.NewReleases(store, now), Now: now, Retention: cfg.retention, Ingested: notifier.Touched, Decisions: decisions}
	ccbVariants := &app.CCBVariants{Store: store, Rules: rules, Notify: ccbNotify, Now: now}
	board := &app.Board{Store: store, Rules: rules, Notify: ccbNotify}
	variants := &handlers.Variants{Store: store, PublicURL: cfg.publicURL, Now: now,
		Analyses: &app.Analyses{Store: store, Hooks: app.Webhooks(cfg.webhooks), PublicURL: cfg.publicURL, Cover: ccbVariants, CCB: ccbVariants, Log: log,
			Repositories: app.Repositories{Now: now}}}
	variantPages := &handlers.VariantPages{Store: store, Now: now, Exceptions: ccbVariants.ProjectExceptions, Gate: variants.Analyses.Gate, Log: log}
	pages := &handlers.Pages{Store: store, Now: now, Retention: cfg.retention, Projects: variantPages.ProjectSummaries}
	e := web.New(web.Config{PublicURL: cfg.publicURL, RequestTimeout: cfg.requestTimeout, BodyLimit: cfg.bodyLimit, Log: log, Metrics: cfg.ops.metrics,
		RateLogin: cfg.limits.login.Rate, RateIngest: cfg.limits.ingest.Rate, TrustedProxies: cfg.limits.proxies.nets},
		web.Handlers{API: api, Pages: pages, Variants: variants, VariantPages: variantPages, Ready: store.Ready, Auth: auth,
			CCB:   &handlers.CCB{Store: store, Board: board, Now: now, VariantSubject: ccbVariants.VariantSubject},
			Audit: &handlers.AuditPages{Store: store}, Tokens: &handlers.TokenPages{Store: store}, Metrics: &handlers.Metrics{Store: store, Now: now, Log: log, Decisions: decisions}})

	// Background work stops after the server has drained and before the
	// store closes (deferred above, so it runs last). Each loop runs on one
	// instance of those sharing the database: the holder of its lease.
	leases := cluster.New(store, cfg.leaseTTL, log)
	notifier.Holder = leases.Holder
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { stopBG(); wg.Wait() }()
	// Caches follow the other instances' writes; SLI data stored elsewhere
	// gets its escalations checked as promptly as data stored here.
	store.RemoteData(notifier.Touched)
	wg.Go(func() { store.Listen(bg) })
	wg.Go(func() { leases.Run(bg, "notifier", notifier.Run) })
	wg.Go(func() {
		leases.Run(bg, "ccb-sweep", func(ctx context.Context) { notify.SweepExceptions(ctx, board, log, 30*time.Second) })
	})
	if cfg.policies != "" {
		wg.Go(func() { reloadOnHangup(bg, store, cfg.policies, cfg.retention, log) })
	}
	wg.Go(func() {
		keep := db.Keep{SLI: cfg.retention, Idempotency: 7 * 24 * time.Hour, EndedSession: 30 * 24 * time.Hour}
		leases.Run(bg, "purge", func(ctx context.Context) { purgeEvery(ctx, store, time.Hour, keep, log) })
	})

	log.Info("budgetgate listening", "addr", addr, "url", cfg.publicURL, "db", store.Path)
	cfg.timeouts.Write = web.WriteTimeoutFor(cfg.requestTimeout, cfg.timeouts.Read)
	return web.Serve(ctx, e, ln, cfg.grace, cfg.timeouts)
}

// purgeEvery deletes what the store keeps only for a while (SLI counts past
// the retention, old Idempotency-Key replies, ended sessions), at start and
// then every interval.
func purgeEvery(ctx context.Context, store *db.DB, interval time.Duration, keep db.Keep, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if n, err := store.Purge(ctx, keep); err != nil && ctx.Err() == nil {
			log.Error("purge", "err", err)
		} else if n > 0 {
			log.Info("purged", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// reloadOnHangup reloads the policy directory on SIGHUP. A bad file is
// logged and the policies in force stay as they were.
func reloadOnHangup(ctx context.Context, store *db.DB, dir string, retention time.Duration, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := loadPolicies(ctx, store, dir, retention, log); err != nil {
				log.Error("policy reload failed; the policies in force are unchanged", "err", err)
			}
		}
	}
}

// loadPolicies parses every policy file of dir (budgetgate's own, Sloth and
// OpenSLO) before storing any: one bad file stops the (re)load, since a
// half-loaded policy set would gate releases on a mix of old and new rules.
func loadPolicies(ctx context.Context, store *db.DB, dir string, retention time.Duration, log *slog.Logger) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if err != nil {
		return fmt.Errorf("policies in %s: %w", dir, err)
	}
	read := make([]sloimport.File, len(files))
	for i, f := range files {
		if read[i].Data, err = policyfile.ReadPolicyFile(f); err != nil {
			return err
		}
		read[i].Name = filepath.Base(f)
	}
	loaded, err := sloimport.Directory(read)
	if err != nil {
		return fmt.Errorf("policies in %s: %w", dir, err)
	}
	batch := make([]app.PolicyFile, len(loaded))
	for i, l := range loaded {
		if err := l.Policy.FitsRetention(retention); err != nil {
			return fmt.Errorf("policy %s in %s: %w", l.Origin, dir, err)
		}
		batch[i] = app.PolicyFile{Policy: l.Policy, Origin: l.Origin}
	}
	changed, err := store.SavePolicies(ctx, batch, budgetgate.SystemActor)
	if err != nil {
		return err
	}
	for _, service := range changed {
		log.Info("policy loaded", "service", service, "dir", dir)
	}
	return nil
}
