package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/cli"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
)

// clientEnv runs the command-line client against one server, with its
// configuration in a temporary file.
type clientEnv struct {
	t      *testing.T
	url    string
	config string
	env    map[string]string
}

// runIn runs a command line with stdin as standard input and the
// environment variables of ce.
func (ce *clientEnv) runIn(stdin string, args ...string) result {
	ce.t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Env{
		Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader(stdin),
		Getenv: func(k string) string {
			if k == "NORTHSTAR_CONFIG" {
				return ce.config
			}
			return ce.env[k]
		},
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (ce *clientEnv) run(args ...string) result {
	ce.t.Helper()
	return ce.runIn("", args...)
}

func (ce *clientEnv) mustRun(args ...string) result {
	ce.t.Helper()
	r := ce.run(args...)
	if r.code != 0 {
		ce.t.Fatalf("northstar %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

const clientPassword = "correct horse battery"

// startClientServer starts a real server on a fresh database with an
// admin (ada), a developer of BOOK (dev) and a product BOOK.
func startClientServer(t *testing.T, dsn string) *clientEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	a := app.New(db, quiet)
	sys := app.SystemContext(ctx)
	ada, err := a.CreateUser(sys, northstar.NewUser{Email: "ada@example.com", Name: "Ada", Password: clientPassword}, true)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := a.CreateUser(sys, northstar.NewUser{Email: "dev@example.com", Name: "Dev", Password: clientPassword}, false)
	if err != nil {
		t.Fatal(err)
	}
	adaCtx := northstar.NewContextWithUser(ctx, ada)
	if _, err := a.CreateProduct(adaCtx, northstar.NewProduct{Key: "BOOK", Name: "Book inventory"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetMember(adaCtx, "BOOK", dev.Email, northstar.RoleDeveloper); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	srv, err := server.New(a, "http://"+ts.Listener.Addr().String(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &clientEnv{t: t, url: ts.URL, config: filepath.Join(t.TempDir(), "cfg", "northstar", "config.json"), env: map[string]string{}}
}

// TestClientDrivesAStory signs in and drives a story from creation to
// done through the command-line client, on both engines.
func TestClientDrivesAStory(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		ce := startClientServer(t, dsn)

		// Before login every client command says how to sign in.
		if r := ce.run("products"); r.code != 1 || !strings.Contains(r.stderr, "northstar login") {
			t.Errorf("products before login: exit %d, stderr %q", r.code, r.stderr)
		}

		// Login asks for the e-mail and password on standard input.
		r := ce.runIn("ada@example.com\n"+clientPassword+"\n", "login", "--server", ce.url)
		if r.code != 0 {
			t.Fatalf("login: exit %d: %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "signed in to "+ce.url+" as ada@example.com") {
			t.Errorf("login printed %q", r.stdout)
		}
		if !strings.Contains(r.stderr, "E-mail: ") || !strings.Contains(r.stderr, "Password: ") {
			t.Errorf("login did not prompt: %q", r.stderr)
		}
		st, err := os.Stat(ce.config)
		if err != nil {
			t.Fatalf("login kept no configuration: %v", err)
		}
		if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
			t.Errorf("configuration mode %v, want 0600", st.Mode().Perm())
		}
		var cfg struct{ Server, Token string }
		b, _ := os.ReadFile(ce.config)
		if err := json.Unmarshal(b, &cfg); err != nil || cfg.Server != ce.url || !strings.HasPrefix(cfg.Token, "ns_") && len(cfg.Token) < 20 {
			t.Errorf("configuration %s: %+v (%v)", b, cfg, err)
		}

		// products
		r = ce.mustRun("products", "list")
		if !regexp.MustCompile(`(?m)^KEY\s+NAME\s+STAGE\s+ROLE\s*$`).MatchString(r.stdout) ||
			!regexp.MustCompile(`(?m)^BOOK\s+Book inventory\s+\S+`).MatchString(r.stdout) {
			t.Errorf("products list:\n%s", r.stdout)
		}
		var ps []map[string]any
		if err := json.Unmarshal([]byte(ce.mustRun("products", "--json").stdout), &ps); err != nil || len(ps) != 1 || ps[0]["key"] != "BOOK" {
			t.Errorf("products --json: %v %v", ps, err)
		}

		// create three stories
		r = ce.mustRun("stories", "create", "--product", "book", "--title", "Scan ISBN barcodes", "--points", "5")
		if r.stdout != "created BOOK-1: Scan ISBN barcodes\n" {
			t.Errorf("create printed %q", r.stdout)
		}
		ce.mustRun("stories", "add", "--product", "BOOK", "--title", "Import a price list", "--type", "task")
		var created map[string]any
		r = ce.mustRun("stories", "create", "--product", "BOOK", "--title", "Fix the search crash", "--type", "bug", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created["ref"] != "BOOK-3" || created["type"] != "bug" {
			t.Errorf("create --json: %s (%v)", r.stdout, err)
		}

		// list: a table in backlog order.
		r = ce.mustRun("stories", "list", "--product", "BOOK")
		if got := refsIn(r.stdout); strings.Join(got, " ") != "BOOK-1 BOOK-2 BOOK-3" {
			t.Errorf("list order %v\n%s", got, r.stdout)
		}
		if !regexp.MustCompile(`(?m)^BOOK-1\s+story\s+new\s+5\s+-\s+Scan ISBN barcodes$`).MatchString(r.stdout) {
			t.Errorf("list row of BOOK-1 is not aligned as expected:\n%s", r.stdout)
		}

		// move
		ce.mustRun("stories", "move", "BOOK-3", "--top")
		ce.mustRun("stories", "move", "book-2", "--before", "BOOK-1")
		r = ce.mustRun("stories", "list", "--product", "BOOK")
		if got := refsIn(r.stdout); strings.Join(got, " ") != "BOOK-3 BOOK-2 BOOK-1" {
			t.Errorf("after moves, order %v\n%s", got, r.stdout)
		}

		// update through the workflow to done.
		for _, status := range []string{"ready", "in_progress", "in_review", "done"} {
			ce.mustRun("stories", "update", "BOOK-1", "--status", status)
		}
		r = ce.mustRun("stories", "update", "BOOK-1", "--points", "8")
		if !strings.HasPrefix(r.stdout, "updated BOOK-1 (version ") {
			t.Errorf("update printed %q", r.stdout)
		}
		r = ce.mustRun("stories", "show", "BOOK-1")
		for _, want := range []string{"Ref:", "BOOK-1", "Status:   done", "Points:   8", "Scan ISBN barcodes"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("show does not contain %q:\n%s", want, r.stdout)
			}
		}
		var shown map[string]any
		if err := json.Unmarshal([]byte(ce.mustRun("stories", "show", "BOOK-1", "--json").stdout), &shown); err != nil ||
			shown["status"] != "done" || shown["points"] != 8.0 {
			t.Errorf("show --json: %v (%v)", shown, err)
		}
		ce.mustRun("stories", "update", "BOOK-1", "--points", "none")
		if r := ce.mustRun("stories", "show", "BOOK-1"); !strings.Contains(r.stdout, "Points:   -") {
			t.Errorf("points not cleared:\n%s", r.stdout)
		}

		// list filters, and --json for scripts.
		r = ce.mustRun("stories", "list", "--product", "BOOK", "--status", "done,new", "--json")
		var listed []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed) != 3 {
			t.Fatalf("list --json: %v\n%s", err, r.stdout)
		}
		r = ce.mustRun("stories", "list", "--product", "BOOK", "--status", "done")
		if got := refsIn(r.stdout); strings.Join(got, " ") != "BOOK-1" {
			t.Errorf("list --status done: %v", got)
		}
		r = ce.mustRun("stories", "list", "--product", "BOOK", "--limit", "2", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed) != 2 {
			t.Errorf("list --limit 2 gave %d stories (%v)", len(listed), err)
		}

		// Errors print the API's message and exit 1.
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"stories", "show", "BOOK-99"}, "not found"},
			{[]string{"stories", "list", "--product", "NOPE"}, "not found"},
			{[]string{"stories", "list", "--product", "BOOK", "--status", "doing"}, `status "doing" is not one of`},
			{[]string{"stories", "update", "BOOK-1", "--status", "flying"}, "status"},
			{[]string{"stories", "create", "--product", "BOOK", "--title", "X", "--points", "4"}, "not one of"},
			{[]string{"stories", "move", "BOOK-1", "--top", "--before", "BOOK-2"}, "exactly one"},
			{[]string{"stories", "move", "BOOK-1", "--before", "BOOK-77"}, "BOOK-77"},
			{[]string{"stories", "update", "BOOK-1"}, "nothing to change"},
			{[]string{"stories", "create", "--product", "BOOK"}, "--title is required"},
			{[]string{"stories", "list"}, "--product is required"},
		} {
			r := ce.run(tt.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("northstar %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
			}
		}
		for _, args := range [][]string{{"stories"}, {"stories", "fly"}, {"products", "delete"}} {
			if r := ce.run(args...); r.code != cli.ExitUsage {
				t.Errorf("northstar %s: exit %d, want %d", strings.Join(args, " "), r.code, cli.ExitUsage)
			}
		}

		// A developer may not create stories: the API's 403 message shows.
		dev := *ce
		dev.config = filepath.Join(t.TempDir(), "dev.json")
		dev.env = map[string]string{"NORTHSTAR_PASSWORD": clientPassword}
		dev.mustRun("login", "--url", ce.url, "--email", "dev@example.com")
		if r := dev.run("stories", "create", "--product", "BOOK", "--title", "Not mine"); r.code != 1 || !strings.Contains(r.stderr, "may not") {
			t.Errorf("developer create: exit %d, stderr %q", r.code, r.stderr)
		}
		// but may change a status.
		dev.mustRun("stories", "update", "BOOK-2", "--status", "in_progress")

		// A token given directly is checked, then kept.
		tokCfg := *ce
		tokCfg.config = filepath.Join(t.TempDir(), "tok.json")
		tokCfg.mustRun("login", "--server", ce.url, "--token", cfg.Token)
		tokCfg.mustRun("products")
		if r := tokCfg.run("login", "--server", ce.url, "--token", "ns_wrong"); r.code != 1 || r.stderr == "" {
			t.Errorf("login with a wrong token: exit %d, stderr %q", r.code, r.stderr)
		}

		// NORTHSTAR_SERVER and NORTHSTAR_TOKEN need no file; a refused
		// token says to log in again.
		envOnly := *ce
		envOnly.config = filepath.Join(t.TempDir(), "none.json")
		envOnly.env = map[string]string{"NORTHSTAR_SERVER": ce.url, "NORTHSTAR_TOKEN": cfg.Token}
		envOnly.mustRun("stories", "show", "BOOK-1")
		envOnly.env["NORTHSTAR_TOKEN"] = "ns_revoked"
		if r := envOnly.run("products"); r.code != 1 || !strings.Contains(r.stderr, "northstar login") {
			t.Errorf("refused token: exit %d, stderr %q", r.code, r.stderr)
		}

		// Wrong password: the API's message, nothing kept.
		bad := *ce
		bad.config = filepath.Join(t.TempDir(), "bad.json")
		if r := bad.runIn("ada@example.com\nwrong password\n", "login", "--server", ce.url); r.code != 1 || !strings.Contains(r.stderr, "Wrong email or password") {
			t.Errorf("login with a wrong password: exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(bad.config); err == nil {
			t.Error("a failed login kept a configuration")
		}
		for _, args := range [][]string{{"login"}, {"login", "--server", "ftp://x"}} {
			if r := bad.run(args...); r.code != 1 || !strings.Contains(r.stderr, "--server") {
				t.Errorf("northstar %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
			}
		}

		// feedback: add (text from standard input too) and list.
		r = ce.mustRun("feedback", "add", "--product", "BOOK", "--text", "We count stock by hand every Friday.", "--source", "interview")
		if !strings.HasPrefix(r.stdout, "recorded feedback ") || !strings.Contains(r.stdout, "on BOOK: We count stock") {
			t.Errorf("feedback add printed %q", r.stdout)
		}
		if r := ce.runIn("Barcode scanning would save us hours.\n", "feedback", "add", "--product", "BOOK", "--text", "-", "--title", "Scanning"); r.code != 0 {
			t.Errorf("feedback add from stdin: exit %d: %s", r.code, r.stderr)
		}
		r = ce.mustRun("feedback", "list", "--product", "BOOK")
		if !regexp.MustCompile(`(?m)^ID\s+SOURCE\s+STATUS\s+DATE\s+TITLE$`).MatchString(r.stdout) ||
			!strings.Contains(r.stdout, "Scanning") || !regexp.MustCompile(`(?m)^\d+\s+interview\s+\S+\s+\d{4}-\d\d-\d\d\s+We count stock`).MatchString(r.stdout) {
			t.Errorf("feedback list:\n%s", r.stdout)
		}
		var fb []map[string]any
		if err := json.Unmarshal([]byte(ce.mustRun("feedback", "list", "--product", "BOOK", "--json").stdout), &fb); err != nil || len(fb) != 2 {
			t.Errorf("feedback list --json: %d items (%v)", len(fb), err)
		}
		if r := ce.run("feedback", "add", "--product", "BOOK", "--text", "x", "--source", "portal"); r.code != 1 || !strings.Contains(r.stderr, "source") {
			t.Errorf("feedback add --source portal: exit %d, stderr %q", r.code, r.stderr)
		}
		if r := ce.run("feedback", "add", "--product", "BOOK"); r.code != 1 || !strings.Contains(r.stderr, "--text is required") {
			t.Errorf("feedback add without text: exit %d, stderr %q", r.code, r.stderr)
		}
		if r := ce.run("feedback"); r.code != cli.ExitUsage {
			t.Errorf("feedback without action: exit %d", r.code)
		}

		// serve checks its OpenID Connect flags.
		if r := run(t, "serve", "--db", filepath.Join(t.TempDir(), "s.db"), "--addr", "127.0.0.1:0", "--oidc-issuer", "https://idp.example"); r.code != 1 || !strings.Contains(r.stderr, "--oidc-client-id") {
			t.Errorf("serve --oidc-issuer without a client: exit %d, stderr %q", r.code, r.stderr)
		}

		// logout forgets the token.
		ce.mustRun("logout")
		if r := ce.run("products"); r.code != 1 || !strings.Contains(r.stderr, "northstar login") {
			t.Errorf("products after logout: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestClientUnreachableServer checks that a server that is down is a
// clear error, not a hang or a panic.
func TestClientUnreachableServer(t *testing.T) {
	ts := httptest.NewServer(nil)
	url := ts.URL
	ts.Close()
	ce := &clientEnv{t: t, config: filepath.Join(t.TempDir(), "c.json"), env: map[string]string{"NORTHSTAR_PASSWORD": "x"}}
	if r := ce.run("login", "--server", url, "--email", "a@example.com"); r.code != 1 || !strings.Contains(r.stderr, "sign in") {
		t.Errorf("login to a closed server: exit %d, stderr %q", r.code, r.stderr)
	}
	ce.env = map[string]string{"NORTHSTAR_SERVER": url, "NORTHSTAR_TOKEN": "t"}
	if r := ce.run("stories", "show", "BOOK-1"); r.code != 1 || !strings.Contains(r.stderr, "connect") {
		t.Errorf("show against a closed server: exit %d, stderr %q", r.code, r.stderr)
	}
}

// refsIn returns the story refs that start the lines of a table.
func refsIn(table string) []string {
	var refs []string
	for _, m := range regexp.MustCompile(`(?m)^([A-Z][A-Z0-9]*-\d+)\s`).FindAllStringSubmatch(table, -1) {
		refs = append(refs, m[1])
	}
	return refs
}
