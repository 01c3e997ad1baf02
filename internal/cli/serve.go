package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
	"github.com/northstar-pm/northstar/internal/server"
)

type serveCmd struct {
	env       Env
	db        dbFlags
	addr      string
	baseURL   string
	demo      bool
	logFormat string
	grace     time.Duration

	smtpAddr, smtpFrom, smtpUser string
	mailWindow                   time.Duration
	allowPrivateWebhooks         bool
	sessionIdle, sessionMax      time.Duration
	maxInFlight                  int
	trustedProxies               string
	oidc                         oidcFlags
}

func newServe(env Env) *serveCmd { return &serveCmd{env: env, db: dbFlags{env: env}} }

func (c *serveCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.db.register(fs)
	fs.StringVar(&c.addr, "addr", envOr(c.env, "NORTHSTAR_ADDR", "127.0.0.1:8080"), "address to listen on (env NORTHSTAR_ADDR)")
	fs.StringVar(&c.baseURL, "base-url", envOr(c.env, "NORTHSTAR_BASE_URL", ""), "public URL of this server, used in invitation links (env NORTHSTAR_BASE_URL; default http://<addr>)")
	demo, _ := strconv.ParseBool(envOr(c.env, "NORTHSTAR_DEMO", "false"))
	fs.BoolVar(&c.demo, "demo", demo, "seed demo data into an empty database (env NORTHSTAR_DEMO)")
	fs.StringVar(&c.logFormat, "log-format", envOr(c.env, "NORTHSTAR_LOG_FORMAT", "text"), "log format: text or json (env NORTHSTAR_LOG_FORMAT)")
	fs.DurationVar(&c.grace, "shutdown-grace", 20*time.Second, "how long in-flight requests may take to finish on shutdown")
	fs.StringVar(&c.smtpAddr, "smtp-addr", envOr(c.env, "NORTHSTAR_SMTP_ADDR", ""), "SMTP server (host:port) for notification e-mail; none when empty (env NORTHSTAR_SMTP_ADDR; password in NORTHSTAR_SMTP_PASSWORD)")
	fs.StringVar(&c.smtpFrom, "smtp-from", envOr(c.env, "NORTHSTAR_SMTP_FROM", "northstar@localhost"), "sender address of notification e-mail (env NORTHSTAR_SMTP_FROM)")
	fs.StringVar(&c.smtpUser, "smtp-user", envOr(c.env, "NORTHSTAR_SMTP_USER", ""), "SMTP user name, if the server wants one (env NORTHSTAR_SMTP_USER)")
	fs.DurationVar(&c.mailWindow, "mail-window", time.Minute, "how long notifications gather before they go out in one e-mail")
	allowPrivate, _ := strconv.ParseBool(envOr(c.env, "NORTHSTAR_WEBHOOKS_ALLOW_PRIVATE", "false"))
	fs.BoolVar(&c.allowPrivateWebhooks, "webhooks-allow-private", allowPrivate, "let webhooks call loopback and private addresses (env NORTHSTAR_WEBHOOKS_ALLOW_PRIVATE)")
	fs.DurationVar(&c.sessionIdle, "session-idle", app.DefaultSessionTTL, "browser sessions end after this long without use")
	fs.DurationVar(&c.sessionMax, "session-max", app.DefaultSessionMaxAge, "browser sessions end this long after sign-in, however much they are used")
	maxInFlight, _ := strconv.Atoi(envOr(c.env, "NORTHSTAR_MAX_INFLIGHT", strconv.Itoa(httpx.DefaultMaxInFlight)))
	fs.StringVar(&c.trustedProxies, "trusted-proxies", envOr(c.env, "NORTHSTAR_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDR ranges of load balancers whose X-Forwarded-For names the client, for per-address limits and the log (env NORTHSTAR_TRUSTED_PROXIES; none: the peer is the client)")
	fs.IntVar(&c.maxInFlight, "max-inflight", maxInFlight, "requests handled at once; more wait up to "+httpx.DefaultQueueWait.String()+" for a slot, then get 503 (env NORTHSTAR_MAX_INFLIGHT; event streams and health checks not counted)")
	c.oidc.register(fs, c.env)
	return fs
}

func (c *serveCmd) run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	start := time.Now()
	var log *slog.Logger
	switch c.logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(c.env.Stderr, nil))
	case "json":
		log = slog.New(slog.NewJSONHandler(c.env.Stderr, nil))
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", c.logFormat)
	}
	slog.SetDefault(log)

	db, err := c.db.open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close database", "err", err)
		} else {
			log.Info("database closed")
		}
	}()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("database", "engine", db.Engine(), "dsn", redact(c.db.DSN()), "migrations_applied", applied)
	a := app.New(db, log)
	if c.demo {
		seeded, err := a.SeedDemo(ctx, func(step string) { log.Info("demo data", "step", step) })
		if err != nil {
			return err
		}
		if !seeded {
			log.Info("demo data: the database already has accounts; nothing seeded")
		}
		c.printDemoUsers()
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	base := c.baseURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	if err := c.oidc.enable(ctx, a, base, log); err != nil {
		ln.Close()
		return err
	}
	srv, err := server.New(a, base, log)
	if err != nil {
		ln.Close()
		return err
	}
	a.AllowPrivateWebhooks = c.allowPrivateWebhooks
	if c.sessionIdle <= 0 || c.sessionMax <= 0 {
		ln.Close()
		return fmt.Errorf("--session-idle and --session-max must be positive")
	}
	a.SessionTTL, a.SessionMaxAge = c.sessionIdle, c.sessionMax
	if c.maxInFlight < 1 {
		ln.Close()
		return fmt.Errorf("--max-inflight (env NORTHSTAR_MAX_INFLIGHT) must be a whole number above 0")
	}
	srv.Limits.MaxInFlight = c.maxInFlight
	if srv.TrustedProxies, err = httpx.ParseTrustedProxies(c.trustedProxies); err != nil {
		ln.Close()
		return fmt.Errorf("--trusted-proxies (env NORTHSTAR_TRUSTED_PROXIES): %w", err)
	}
	if c.smtpAddr != "" {
		a.Mail = &app.MailConfig{Addr: c.smtpAddr, From: c.smtpFrom, Username: c.smtpUser, Password: c.env.Getenv("NORTHSTAR_SMTP_PASSWORD"),
			Window: c.mailWindow, BaseURL: base}
	}
	// Background work: changes from other servers (PostgreSQL), webhook
	// deliveries and notification e-mail. They stop with the server.
	workers, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){a.ListenForEvents, a.RunWebhooks, a.RunMail} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(workers)
		}()
	}
	defer func() {
		stopWorkers()
		wg.Wait()
	}()
	// Shutdown begins when ctx ends: end the event streams then, or it waits for them.
	defer context.AfterFunc(ctx, srv.StopStreams)()
	log.Info("northstar ready", "version", northstar.Version, "url", base, "startup", time.Since(start).Round(time.Millisecond))
	err = httpx.Serve(ctx, ln, srv.Handler(), c.grace)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("shut down cleanly")
	return nil
}

func (c *serveCmd) printDemoUsers() {
	w := c.env.Stdout
	fmt.Fprintf(w, "\nDemo accounts (password for all: %s)\n", app.DemoPassword)
	for _, u := range app.DemoUsers {
		fmt.Fprintf(w, "  %-28s %-14s %s\n", u.Email, u.Name, u.Role)
	}
	fmt.Fprintln(w)
}
