// Package cli implements the northstar command: one type per subcommand,
// each with its own flag set.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/store"
)

// command is one subcommand.
type command interface {
	// flags returns the command's flag set, bound to its fields.
	flags() *flag.FlagSet
	// run executes the command with the arguments left after the flags.
	run(ctx context.Context, args []string) error
}

// Env is what a command may touch of the outside world, so tests can run
// commands in-process.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	Getenv         func(string) string
}

// ExitUsage is the exit status for a wrong command line.
const ExitUsage = 2

var errUsage = errors.New("usage")

// Run runs the command line args (without the program name) and returns the
// process's exit status.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	cmds := map[string]func(env Env) command{
		"serve":    func(env Env) command { return newServe(env) },
		"migrate":  func(env Env) command { return &migrateCmd{env: env, db: dbFlags{env: env}} },
		"user":     func(env Env) command { return &userCmd{env: env, db: dbFlags{env: env}} },
		"backup":   func(env Env) command { return &backupCmd{env: env, db: dbFlags{env: env}} },
		"restore":  func(env Env) command { return &restoreCmd{env: env, db: dbFlags{env: env}} },
		"version":  func(env Env) command { return &versionCmd{env: env} },
		"seed":     func(env Env) command { return &seedCmd{env: env, db: dbFlags{env: env}} },
		"bench":    func(env Env) command { return &benchCmd{env: env} },
		"login":    func(env Env) command { return &loginCmd{env: env} },
		"logout":   func(env Env) command { return &logoutCmd{env: env} },
		"products": func(env Env) command { return &productsCmd{env: env} },
		"stories":  func(env Env) command { return &storiesCmd{env: env} },
		"feedback": func(env Env) command { return &feedbackCmd{env: env} },
		"import":   func(env Env) command { return &importCmd{env: env, db: dbFlags{env: env}} },
		"export":   func(env Env) command { return &exportCmd{env: env, db: dbFlags{env: env}} },
		"estimate": func(env Env) command { return &estimateCmd{env: env} },
		"forecast": func(env Env) command { return &forecastCmd{env: env} },
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stderr, cmds)
		if len(args) == 0 {
			return ExitUsage
		}
		return 0
	}
	mk, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "northstar: unknown command %q\n\n", args[0])
		usage(env.Stderr, cmds)
		return ExitUsage
	}
	cmd := mk(env)
	fs := cmd.flags()
	fs.SetOutput(env.Stderr)
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return ExitUsage
	}
	if err := cmd.run(ctx, rest); err != nil {
		if errors.Is(err, errUsage) {
			fs.Usage()
			return ExitUsage
		}
		fmt.Fprintf(env.Stderr, "northstar %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// parseFlags parses flags wherever they appear among the arguments, so that
// "user create --email x" works as the usage texts show, and not only
// "user --email x create": the flag package alone stops at the first
// argument that is not a flag. Everything after "--" is an argument.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			return append(rest, left...), nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

func usage(w io.Writer, cmds map[string]func(Env) command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, `northstar: product management from first conversation to retirement.

Usage: northstar <command> [flags]

Commands:
  serve     run the web server and API (migrates the database first)
  migrate   apply database migrations (up) or list them (status)
  user      manage accounts: create, list, reset-password, make-admin
  backup    write a consistent copy of a running SQLite database
  restore   put a backup in place as the database of a new installation
  version   print the version
  import    bring in a Jira CSV export, any CSV with a column mapping, or a Northstar export file
  export    write a product (or all of them) as JSON, or a ZIP of JSON and CSV
  estimate  eval: measure the story-point suggestions on files of past stories
  forecast  eval: measure the sprint delivery forecast on files of past sprints
  seed      fill a database with products and stories for trying Northstar at scale
  bench     drive a running server's API with concurrent clients and report latencies
  login     sign in to a server and keep an API token for the commands below
  logout    forget the kept token
  products  list the products you can see (products list)
  stories   list, create, show, move and update stories over the API
  feedback  record and list end users' feedback over the API

Run "northstar <command> -h" for a command's flags.
`)
}

// envOr returns the environment variable name's value, or def.
func envOr(env Env, name, def string) string {
	if v := env.Getenv(name); v != "" {
		return v
	}
	return def
}

// dbFlags are the flags every command that opens the database shares.
type dbFlags struct {
	env      Env
	dsn      string
	dataDir  string
	sync     string
	maxConns int
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.dataDir, "data", envOr(d.env, "NORTHSTAR_DATA", "data"), "data directory for the SQLite database (env NORTHSTAR_DATA)")
	fs.StringVar(&d.dsn, "db", envOr(d.env, "NORTHSTAR_DB", ""), "database: a SQLite file path, or a postgres:// URL (env NORTHSTAR_DB; default <data>/northstar.db)")
	fs.StringVar(&d.sync, "sqlite-sync", envOr(d.env, "NORTHSTAR_SQLITE_SYNC", "FULL"), "SQLite synchronous mode: FULL survives power loss, NORMAL is faster and survives crashes (env NORTHSTAR_SQLITE_SYNC)")
	maxConns, _ := strconv.Atoi(envOr(d.env, "NORTHSTAR_DB_MAX_CONNS", "20"))
	fs.IntVar(&d.maxConns, "db-max-conns", maxConns, "PostgreSQL connections this process may open, e.g. to fit several processes under the server's max_connections (env NORTHSTAR_DB_MAX_CONNS)")
}

// DSN returns the database to open.
func (d *dbFlags) DSN() string {
	if d.dsn != "" {
		return d.dsn
	}
	return filepath.Join(d.dataDir, "northstar.db")
}

// open opens the database without migrating it.
func (d *dbFlags) open(ctx context.Context) (*store.DB, error) {
	if d.maxConns < 0 {
		return nil, fmt.Errorf("--db-max-conns (env NORTHSTAR_DB_MAX_CONNS) must be a whole number above 0")
	}
	return store.Open(ctx, d.DSN(), store.Options{Synchronous: d.sync, MaxConns: d.maxConns})
}

// openApp opens and migrates the database and returns the app on top.
func (d *dbFlags) openApp(ctx context.Context, log *slog.Logger) (*app.App, *store.DB, error) {
	db, err := d.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return app.New(db, log), db, nil
}

// redact hides the password in a database URL for logs.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if colon := strings.Index(dsn[i+3:at], ":"); colon >= 0 {
				return dsn[:i+3+colon] + ":***" + dsn[at:]
			}
		}
	}
	return dsn
}
