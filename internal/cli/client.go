package cli

// The command-line client: "northstar login" keeps a server's address and
// an API token in the user's configuration directory, and the "products"
// and "stories" commands drive the REST API with them. Tables are the
// default output, --json is for scripts. Errors print the API's message
// and exit 1; a wrong command line exits 2.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/client"
)

// clientConfig is what "northstar login" keeps: one server and its token.
type clientConfig struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	Email  string `json:"email,omitempty"`
}

// configPath returns the file the client's configuration lives in:
// $NORTHSTAR_CONFIG, or northstar/config.json in the user's configuration
// directory ($XDG_CONFIG_HOME or ~/.config on Linux).
func configPath(env Env) (string, error) {
	if p := env.Getenv("NORTHSTAR_CONFIG"); p != "" {
		return p, nil
	}
	dir := env.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("find the configuration directory (set NORTHSTAR_CONFIG to a file path): %w", err)
		}
	}
	return filepath.Join(dir, "northstar", "config.json"), nil
}

// loadConfig reads the configuration; NORTHSTAR_SERVER and NORTHSTAR_TOKEN
// override what is stored, so scripts and CI need no file.
func loadConfig(env Env) (clientConfig, error) {
	var cfg clientConfig
	p, err := configPath(env)
	if err != nil {
		return cfg, err
	}
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return cfg, fmt.Errorf("read %s: %w", p, err)
	default:
		if err := json.Unmarshal(b, &cfg); err != nil {
			return cfg, fmt.Errorf("read %s: %w (run \"northstar login\" again)", p, err)
		}
	}
	if v := env.Getenv("NORTHSTAR_SERVER"); v != "" {
		cfg.Server = v
	}
	if v := env.Getenv("NORTHSTAR_TOKEN"); v != "" {
		cfg.Token = v
	}
	if cfg.Server == "" || cfg.Token == "" {
		return cfg, errors.New(`not signed in: run "northstar login --server URL" first (or set NORTHSTAR_SERVER and NORTHSTAR_TOKEN)`)
	}
	return cfg, nil
}

// saveConfig writes the configuration readable by its owner only: it
// holds a token that acts as the user.
func saveConfig(env Env, cfg clientConfig) (string, error) {
	p, err := configPath(env)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	// Write beside it and rename, so a crash never leaves half a file;
	// CreateTemp makes the file 0600 from the start.
	f, err := os.CreateTemp(filepath.Dir(p), ".config-*.json")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return "", err
	}
	return p, nil
}

// newClient returns an API client for the stored server and token.
func newClient(env Env) (*client.Client, error) {
	cfg, err := loadConfig(env)
	if err != nil {
		return nil, err
	}
	return client.New(cfg.Server, cfg.Token), nil
}

// apiError explains a failed request: the API's own message, and what to
// do about a refused token.
func apiError(err error) error {
	var e *client.Error
	if errors.As(err, &e) && e.Status == 401 {
		return fmt.Errorf("%s (run \"northstar login\" again)", e.Message)
	}
	return err
}

// printJSON writes v indented, for scripts.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// loginCmd is "northstar login".
type loginCmd struct {
	env      Env
	server   string
	token    string
	email    string
	name     string
	insecure bool
}

func (c *loginCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.StringVar(&c.server, "server", "", "address of the Northstar server, as https://pm.example.com")
	fs.StringVar(&c.server, "url", "", "same as --server")
	fs.StringVar(&c.token, "token", "", "an API token to keep instead of signing in with e-mail and password (\"-\" reads it from standard input)")
	fs.StringVar(&c.email, "email", "", "e-mail address to sign in with; asked when not given (password from NORTHSTAR_PASSWORD, or asked)")
	fs.StringVar(&c.name, "token-name", "", "name of the new token, as shown in the web UI (default \"northstar CLI on <host>\")")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: northstar login --server URL [--email ADDRESS | --token TOKEN]\n\nSigns in and keeps the server and a new API token in %s (mode 0600).\n\n", "the user's configuration directory")
		fs.PrintDefaults()
	}
	return fs
}

func (c *loginCmd) run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	server := strings.TrimSuffix(strings.TrimSpace(c.server), "/")
	if server == "" {
		server = c.env.Getenv("NORTHSTAR_SERVER")
	}
	if server == "" {
		return errors.New("--server is required, as in --server https://pm.example.com")
	}
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--server %q is not an http:// or https:// address", server)
	}
	in := bufio.NewReader(c.env.Stdin)
	cl := client.New(server, "")
	cfg := clientConfig{Server: server}
	if c.token != "" {
		cfg.Token = c.token
		if c.token == "-" {
			line, err := readLine(in)
			if err != nil {
				return fmt.Errorf("read the token: %w", err)
			}
			cfg.Token = line
		}
		cl.Token = cfg.Token
		u, err := cl.Me(ctx)
		if err != nil {
			return fmt.Errorf("check the token: %w", err)
		}
		cfg.Email = u.Email
	} else {
		email := strings.TrimSpace(c.email)
		if email == "" {
			fmt.Fprint(c.env.Stderr, "E-mail: ")
			line, err := readLine(in)
			if err != nil {
				return fmt.Errorf("read the e-mail address: %w", err)
			}
			email = line
		}
		password := c.env.Getenv("NORTHSTAR_PASSWORD")
		if password == "" {
			fmt.Fprint(c.env.Stderr, "Password: ")
			restore := noEcho(c.env.Stdin)
			line, err := readLine(in)
			if restore != nil {
				restore()
				fmt.Fprintln(c.env.Stderr)
			}
			if err != nil {
				return fmt.Errorf("read the password: %w", err)
			}
			password = line
		}
		name := c.name
		if name == "" {
			host, _ := os.Hostname()
			name = strings.TrimSpace("northstar CLI on " + host)
		}
		token, u, err := cl.CreateToken(ctx, email, password, name)
		if err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		cfg.Token, cfg.Email = token, u.Email
	}
	p, err := saveConfig(c.env, cfg)
	if err != nil {
		return fmt.Errorf("keep the token: %w", err)
	}
	fmt.Fprintf(c.env.Stdout, "signed in to %s as %s; token kept in %s\n", server, cfg.Email, p)
	return nil
}

// readLine reads one line without its line ending; the last line of the
// input may lack one.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("nothing on standard input")
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// noEcho turns off the terminal's echo while a password is typed, if
// standard input is a terminal, and returns what turns it back on (nil
// when nothing was changed). It uses stty, so that no terminal library is
// needed; where stty is missing the password is echoed.
func noEcho(stdin io.Reader) func() {
	f, ok := stdin.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	cmd := exec.Command("stty", "-echo")
	cmd.Stdin = f
	if cmd.Run() != nil {
		return nil
	}
	return func() {
		cmd := exec.Command("stty", "echo")
		cmd.Stdin = f
		cmd.Run()
	}
}

// logoutCmd is "northstar logout": it forgets the stored token.
type logoutCmd struct{ env Env }

func (c *logoutCmd) flags() *flag.FlagSet { return flag.NewFlagSet("logout", flag.ContinueOnError) }

func (c *logoutCmd) run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	p, err := configPath(c.env)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "signed out; removed %s (the token stays valid until revoked in the web UI)\n", p)
	return nil
}

// productsCmd is "northstar products [list]".
type productsCmd struct {
	env      Env
	json     bool
	archived bool
}

func (c *productsCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("products", flag.ContinueOnError)
	fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
	fs.BoolVar(&c.archived, "archived", false, "include archived products")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: northstar products list [--json] [--archived]")
		fs.PrintDefaults()
	}
	return fs
}

func (c *productsCmd) run(ctx context.Context, args []string) error {
	if len(args) > 1 || (len(args) == 1 && args[0] != "list") {
		return errUsage
	}
	cl, err := newClient(c.env)
	if err != nil {
		return err
	}
	ps, err := cl.Products(ctx, c.archived)
	if err != nil {
		return apiError(err)
	}
	if c.json {
		return printJSON(c.env.Stdout, ps)
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tNAME\tSTAGE\tROLE")
	for _, p := range ps {
		role := string(p.Role)
		if role == "" {
			role = "-"
		}
		name := p.Name
		if p.Archived {
			name += " (archived)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Key, oneLine(name, 50), p.Stage, role)
	}
	return tw.Flush()
}

// storiesCmd is "northstar stories list|create|show|move|update".
type storiesCmd struct {
	env      Env
	json     bool
	product  string
	status   string
	typ      string
	assignee string
	label    string
	query    string
	limit    int

	title, description, persona, want, benefit string
	points                                     string
	labels                                     string
	feature                                    string

	top, bottom   bool
	before, after string

	fs *flag.FlagSet
}

const storiesUsage = `Usage:
  northstar stories list   --product KEY [--status S[,S]] [--type T] [--assignee EMAIL|none] [--label L] [--query Q] [--limit N] [--json]
  northstar stories create --product KEY --title TEXT [--points N] [--type T] [--status S] [--description TEXT] [--json]
  northstar stories show   REF [--json]
  northstar stories move   REF --top | --bottom | --before REF | --after REF [--json]
  northstar stories update REF [--status S] [--points N|none] [--title TEXT] [--assignee EMAIL|none] [--type T] [--labels A,B] [--json]

REF names a story, as BOOK-42. "add" and "edit" are other names of create and update.
`

func (c *storiesCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("stories", flag.ContinueOnError)
	fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
	fs.StringVar(&c.product, "product", "", "product key, as BOOK (list, create)")
	fs.StringVar(&c.status, "status", "", "status: "+statusNames()+" (list: several, comma-separated)")
	fs.StringVar(&c.typ, "type", "", "type: story, bug, task or spike")
	fs.StringVar(&c.assignee, "assignee", "", `assignee's e-mail address, or "none"`)
	fs.StringVar(&c.label, "label", "", "list: only stories with this label")
	fs.StringVar(&c.query, "query", "", "list: only stories matching this text")
	fs.IntVar(&c.limit, "limit", 0, "list: at most this many stories (default all)")
	fs.StringVar(&c.title, "title", "", "title")
	fs.StringVar(&c.description, "description", "", "description (Markdown)")
	fs.StringVar(&c.persona, "persona", "", `the "As a …" part of the story`)
	fs.StringVar(&c.want, "want", "", `the "I want …" part of the story`)
	fs.StringVar(&c.benefit, "benefit", "", `the "so that …" part of the story`)
	fs.StringVar(&c.points, "points", "", `story points, one of `+pointNames()+` ("none" clears them)`)
	fs.StringVar(&c.labels, "labels", "", "labels, comma-separated (update: replaces them; \"\" with --labels= clears)")
	fs.StringVar(&c.feature, "feature", "", `ref of the feature the story belongs to ("none" detaches it)`)
	fs.BoolVar(&c.top, "top", false, "move: to the top of the backlog")
	fs.BoolVar(&c.bottom, "bottom", false, "move: to the bottom of the backlog")
	fs.StringVar(&c.before, "before", "", "move: just above this story")
	fs.StringVar(&c.after, "after", "", "move: just below this story")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), storiesUsage, "\nFlags:\n")
		fs.PrintDefaults()
	}
	c.fs = fs
	return fs
}

func statusNames() string {
	s := make([]string, len(northstar.StoryStatuses))
	for i, st := range northstar.StoryStatuses {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

func pointNames() string {
	s := make([]string, len(northstar.PointScale))
	for i, p := range northstar.PointScale {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// given reports whether a flag was on the command line: "--points 0" is
// a change, a missing --points is none.
func (c *storiesCmd) given(name string) bool {
	found := false
	c.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

func (c *storiesCmd) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	action, rest := args[0], args[1:]
	var needRef bool
	switch action {
	case "list", "create", "add":
		if len(rest) > 0 {
			return fmt.Errorf("unexpected arguments %q", rest)
		}
		if strings.TrimSpace(c.product) == "" {
			return fmt.Errorf("--product is required, as in: northstar stories %s --product BOOK", action)
		}
	case "show", "move", "update", "edit":
		needRef = true
	default:
		return errUsage
	}
	var ref string
	if needRef {
		if len(rest) != 1 {
			return fmt.Errorf("name one story, as in: northstar stories %s BOOK-42", action)
		}
		ref = strings.ToUpper(strings.TrimSpace(rest[0]))
	}
	cl, err := newClient(c.env)
	if err != nil {
		return err
	}
	var s *client.Story
	switch action {
	case "list":
		return c.list(ctx, cl)
	case "create", "add":
		s, err = c.create(ctx, cl)
	case "show":
		s, err = cl.Story(ctx, ref)
	case "move":
		s, err = c.move(ctx, cl, ref)
	case "update", "edit":
		s, err = c.update(ctx, cl, ref)
	}
	if err != nil {
		return apiError(err)
	}
	if c.json {
		return printJSON(c.env.Stdout, s)
	}
	switch action {
	case "create", "add":
		fmt.Fprintf(c.env.Stdout, "created %s: %s\n", s.Ref, s.Title)
	case "move":
		fmt.Fprintf(c.env.Stdout, "moved %s\n", s.Ref)
	case "update", "edit":
		fmt.Fprintf(c.env.Stdout, "updated %s (version %d)\n", s.Ref, s.Version)
	default:
		return printStory(c.env.Stdout, s)
	}
	return nil
}

func (c *storiesCmd) list(ctx context.Context, cl *client.Client) error {
	if c.limit < 0 {
		return errors.New("--limit must not be negative")
	}
	f := client.StoryFilter{Assignee: c.assignee, Label: c.label, Query: c.query, Limit: c.limit}
	f.Statuses = splitList(c.status)
	f.Types = splitList(c.typ)
	ss, err := cl.Stories(ctx, strings.ToUpper(strings.TrimSpace(c.product)), f)
	if err != nil {
		return apiError(err)
	}
	if c.json {
		return printJSON(c.env.Stdout, ss)
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tTYPE\tSTATUS\tPOINTS\tASSIGNEE\tTITLE")
	for _, s := range ss {
		assignee := "-"
		if s.Assignee != nil {
			assignee = s.Assignee.Email
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Ref, s.Type, s.Status, points(s.Points), assignee, oneLine(s.Title, 70))
	}
	return tw.Flush()
}

func (c *storiesCmd) create(ctx context.Context, cl *client.Client) (*client.Story, error) {
	in := northstar.NewStory{
		Type: northstar.StoryType(c.typ), Title: c.title, Persona: c.persona, Want: c.want, Benefit: c.benefit,
		Description: c.description, Status: northstar.StoryStatus(c.status), Assignee: c.assignee, Feature: c.feature,
		Labels: splitList(c.labels),
	}
	if strings.TrimSpace(c.title) == "" && !c.given("want") {
		return nil, errors.New("--title is required")
	}
	if c.given("points") && c.points != "none" {
		p, err := parsePoints(c.points)
		if err != nil {
			return nil, err
		}
		in.Points = &p
	}
	return cl.CreateStory(ctx, strings.ToUpper(strings.TrimSpace(c.product)), in)
}

func (c *storiesCmd) move(ctx context.Context, cl *client.Client, ref string) (*client.Story, error) {
	var m northstar.Move
	n := 0
	if c.top {
		m.Position, n = "top", n+1
	}
	if c.bottom {
		m.Position, n = "bottom", n+1
	}
	if c.before != "" {
		m.Before, n = strings.ToUpper(strings.TrimSpace(c.before)), n+1
	}
	if c.after != "" {
		m.After, n = strings.ToUpper(strings.TrimSpace(c.after)), n+1
	}
	if n != 1 {
		return nil, errors.New("give exactly one of --top, --bottom, --before REF or --after REF")
	}
	return cl.MoveStory(ctx, ref, m)
}

func (c *storiesCmd) update(ctx context.Context, cl *client.Client, ref string) (*client.Story, error) {
	change := client.StoryChange{}
	text := map[string]*string{"title": &c.title, "description": &c.description, "persona": &c.persona,
		"want": &c.want, "benefit": &c.benefit, "status": &c.status, "type": &c.typ}
	for name, v := range text {
		if c.given(name) {
			change[name] = *v
		}
	}
	if c.given("points") {
		if c.points == "none" || c.points == "" {
			change["points"] = nil
		} else {
			p, err := parsePoints(c.points)
			if err != nil {
				return nil, err
			}
			change["points"] = p
		}
	}
	for _, name := range []string{"assignee", "feature"} {
		v := map[string]string{"assignee": c.assignee, "feature": c.feature}[name]
		if c.given(name) {
			if v == "none" || v == "" {
				change[name] = nil
			} else {
				change[name] = v
			}
		}
	}
	if c.given("labels") {
		change["labels"] = splitList(c.labels)
		if change["labels"] == nil {
			change["labels"] = []string{}
		}
	}
	if len(change) == 0 {
		return nil, errors.New("nothing to change: give --status, --points, --title, --assignee, --type, --labels, --feature or --description")
	}
	// Send the version just read, so that a change someone made in between
	// is refused (409) rather than silently overwritten.
	cur, err := cl.Story(ctx, ref)
	if err != nil {
		return nil, err
	}
	s, err := cl.UpdateStory(ctx, ref, cur.Version, change)
	if client.IsStatus(err, 409) {
		return nil, fmt.Errorf("%w; look at it again with \"northstar stories show %s\"", err, ref)
	}
	return s, err
}

func parsePoints(s string) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || !northstar.ValidPoints(p) {
		return 0, fmt.Errorf("--points %q is not one of %s (or none)", s, pointNames())
	}
	return p, nil
}

func points(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

// splitList splits a comma-separated flag value, dropping empty parts.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// oneLine keeps a table cell on one line and at most max characters.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max-1]) + "…"
	}
	return s
}

// printStory writes one story for people to read.
func printStory(w io.Writer, s *client.Story) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("Ref", s.Ref)
	row("Title", oneLine(s.Title, 200))
	row("Type", string(s.Type))
	status := string(s.Status)
	if s.Accepted {
		status += " (accepted)"
	}
	row("Status", status)
	row("Points", points(s.Points))
	if s.Assignee != nil {
		row("Assignee", s.Assignee.Name+" <"+s.Assignee.Email+">")
	}
	if s.Feature != nil {
		row("Feature", s.Feature.Ref+" "+oneLine(s.Feature.Title, 100))
	}
	row("Labels", strings.Join(s.Labels, ", "))
	row("Story", oneLine(s.Sentence, 300))
	ready := "yes"
	if !s.Ready {
		ready = "no: " + strings.Join(s.ReadyProblems, "; ")
	}
	row("Ready", ready)
	row("Version", strconv.Itoa(s.Version))
	row("Updated", s.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	if err := tw.Flush(); err != nil {
		return err
	}
	if d := strings.TrimSpace(s.Description); d != "" {
		fmt.Fprintf(w, "\n%s\n", d)
	}
	if len(s.Criteria) > 0 {
		fmt.Fprintf(w, "\nAcceptance criteria (%d of %d met):\n", s.CriteriaMet, len(s.Criteria))
		for _, cr := range s.Criteria {
			mark := " "
			if cr.Met {
				mark = "x"
			}
			fmt.Fprintf(w, "  [%s] %s\n", mark, oneLine(cr.Text, 200))
		}
	}
	if len(s.Tasks) > 0 {
		fmt.Fprintf(w, "\nTasks (%d of %d done):\n", s.TasksDone, len(s.Tasks))
		for _, t := range s.Tasks {
			mark := " "
			if t.Done {
				mark = "x"
			}
			fmt.Fprintf(w, "  [%s] %s\n", mark, oneLine(t.Text, 200))
		}
	}
	return nil
}

// feedbackCmd is "northstar feedback add|list".
type feedbackCmd struct {
	env                  Env
	json                 bool
	product, text, title string
	source               string
	limit                int
}

func (c *feedbackCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("feedback", flag.ContinueOnError)
	fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
	fs.StringVar(&c.product, "product", "", "product key, as BOOK")
	fs.StringVar(&c.text, "text", "", `what the end user said ("-" reads it from standard input)`)
	fs.StringVar(&c.title, "title", "", "a short title (default the text's start)")
	fs.StringVar(&c.source, "source", "", "where it came from: interview, support, sales, survey or other (default other)")
	fs.IntVar(&c.limit, "limit", 0, "list: at most this many (default all)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage:\n  northstar feedback add  --product KEY --text TEXT|- [--title TEXT] [--source S] [--json]\n  northstar feedback list --product KEY [--limit N] [--json]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

func (c *feedbackCmd) run(ctx context.Context, args []string) error {
	if len(args) != 1 || (args[0] != "add" && args[0] != "list") {
		return errUsage
	}
	key := strings.ToUpper(strings.TrimSpace(c.product))
	if key == "" {
		return fmt.Errorf("--product is required, as in: northstar feedback %s --product BOOK", args[0])
	}
	if args[0] == "add" {
		if c.text == "-" {
			b, err := io.ReadAll(io.LimitReader(c.env.Stdin, 1<<20))
			if err != nil {
				return fmt.Errorf("read the text: %w", err)
			}
			c.text = string(b)
		}
		if strings.TrimSpace(c.text) == "" {
			return errors.New("--text is required")
		}
	}
	cl, err := newClient(c.env)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		if c.limit < 0 {
			return errors.New("--limit must not be negative")
		}
		items, err := cl.FeedbackList(ctx, key, c.limit)
		if err != nil {
			return apiError(err)
		}
		if c.json {
			return printJSON(c.env.Stdout, items)
		}
		tw := tabwriter.NewWriter(c.env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSOURCE\tSTATUS\tDATE\tTITLE")
		for _, f := range items {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", f.ID, f.Source, f.Status, f.CreatedAt.UTC().Format("2006-01-02"), oneLine(f.Title, 70))
		}
		return tw.Flush()
	}
	f, err := cl.AddFeedback(ctx, key, northstar.FeedbackInput{Source: northstar.FeedbackSource(c.source), Title: c.title, Text: c.text})
	if err != nil {
		return apiError(err)
	}
	if c.json {
		return printJSON(c.env.Stdout, f)
	}
	fmt.Fprintf(c.env.Stdout, "recorded feedback %d on %s: %s\n", f.ID, f.ProductKey, f.Title)
	return nil
}
