package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/northstar-pm/northstar"
)

// benchCmd drives a running server's HTTP API with concurrent clients and
// reports throughput and latency per scenario.
type benchCmd struct {
	env       Env
	url       string
	token     string
	email     string
	password  string
	clients   int
	duration  time.Duration
	warmup    time.Duration
	timeout   time.Duration
	scenarios string
	pid       int
	rndSeed   uint64

	client *http.Client
}

// benchScenarios are the scenarios in the order they run, with the targets
// of the backlog issue (one million stories, 8 clients, SQLite).
var benchScenarios = []struct {
	name, what string
	p99        time.Duration // 0: no latency target
	rate       float64       // 0: no throughput target
}{
	{"backlog-first-page", "GET /api/v1/products/{key}/stories?limit=50", 10 * time.Millisecond, 0},
	{"get-story", "GET /api/v1/stories/{ref}", 2 * time.Millisecond, 10000},
	{"move", "POST /api/v1/stories/{ref}/move", 5 * time.Millisecond, 0},
	{"search", "GET /api/v1/search?q=…", 50 * time.Millisecond, 0},
	{"create", "POST /api/v1/products/{key}/stories", 0, 3000},
	{"update", "PATCH /api/v1/stories/{ref} (status or points)", 0, 5000},
}

func (c *benchCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "the server's base URL")
	fs.StringVar(&c.token, "token", envOr(c.env, "NORTHSTAR_TOKEN", ""), "API token (env NORTHSTAR_TOKEN); or give --email and --password")
	fs.StringVar(&c.email, "email", "", "sign in as this account to get a token (POST /api/v1/tokens)")
	fs.StringVar(&c.password, "password", envOr(c.env, "NORTHSTAR_PASSWORD", ""), "the account's password (env NORTHSTAR_PASSWORD)")
	fs.IntVar(&c.clients, "clients", 8, "concurrent clients, each with its own keep-alive connection")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long each scenario is measured")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "how long each scenario runs before it is measured")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.StringVar(&c.scenarios, "scenario", "all", "comma-separated scenarios to run, in this order: "+benchScenarioNames()+"; or all")
	fs.IntVar(&c.pid, "pid", 0, "process id of the server, to sample its memory (VmRSS from /proc/<pid>/status) during each scenario")
	fs.Uint64Var(&c.rndSeed, "random-seed", 1, "seed of the random choices of products, stories and queries")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: northstar bench [flags]

Drives a running server's API with concurrent clients, one scenario after
another, and prints requests per second, latency percentiles and failed
requests (any answer but 2xx). It picks products, stories and search words
from the server's data: run "northstar seed" first. The create, update and
move scenarios change that data.

Scenarios:
`)
		for _, s := range benchScenarios {
			fmt.Fprintf(fs.Output(), "  %-19s %s\n", s.name, s.what)
		}
		fmt.Fprintf(fs.Output(), "\nExample:\n  northstar bench --url http://127.0.0.1:18080 --email po@northstar.test --password northstar-demo --scenario get-story,move\n\n")
		fs.PrintDefaults()
	}
	return fs
}

func benchScenarioNames() string {
	names := make([]string, len(benchScenarios))
	for i, s := range benchScenarios {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

func (c *benchCmd) run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	if c.clients < 1 || c.duration <= 0 || c.warmup < 0 {
		return fmt.Errorf("--clients must be at least 1 and --duration positive")
	}
	names, err := c.selected()
	if err != nil {
		return err
	}
	c.url = strings.TrimSuffix(c.url, "/")
	tr := &http.Transport{MaxIdleConns: 2 * c.clients, MaxIdleConnsPerHost: 2 * c.clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c.client = &http.Client{Transport: tr, Timeout: c.timeout}

	if c.token == "" {
		if c.email == "" || c.password == "" {
			return fmt.Errorf("give --token, or --email and --password")
		}
		if c.token, err = c.signIn(ctx); err != nil {
			return err
		}
	}
	data, err := c.discover(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stderr, "%d products with %d stories; %d search words; %d clients, %s per scenario after %s warm-up\n",
		len(data.products), data.stories, len(data.words), c.clients, c.duration, c.warmup)

	var results []*benchResult
	for _, name := range names {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(c.env.Stderr, "running %s …\n", name)
		res := c.runScenario(ctx, name, data)
		results = append(results, res)
	}
	c.report(results)
	return ctx.Err()
}

// selected returns the scenarios to run, in the order of benchScenarios.
func (c *benchCmd) selected() ([]string, error) {
	want := map[string]bool{}
	for _, s := range strings.Split(c.scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	var out []string
	for _, s := range benchScenarios {
		if want["all"] || want[s.name] {
			out = append(out, s.name)
			delete(want, s.name)
		}
	}
	delete(want, "all")
	for s := range want {
		return nil, fmt.Errorf("unknown scenario %q (scenarios: %s)", s, benchScenarioNames())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario given (scenarios: %s)", benchScenarioNames())
	}
	return out, nil
}

// do sends one request with the token and reads the whole answer, so the
// connection goes back to the pool.
func (c *benchCmd) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, r)
	if err != nil {
		return 0, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// getJSON sends a request that must answer want, and decodes the answer.
func (c *benchCmd) getJSON(ctx context.Context, method, path string, body []byte, want int, out any) error {
	status, data, err := c.do(ctx, method, path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if status != want {
		return fmt.Errorf("%s %s: %d %s", method, path, status, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

func (c *benchCmd) signIn(ctx context.Context) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": c.email, "password": c.password, "name": "northstar bench"})
	var tok struct {
		Token string `json:"token"`
	}
	if err := c.getJSON(ctx, "POST", "/api/v1/tokens", body, http.StatusCreated, &tok); err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	return tok.Token, nil
}

// benchProduct is a product with stories numbered 1 to last (a few may be
// deleted).
type benchProduct struct {
	key  string
	last atomic.Int64
}

// benchData is what the scenarios pick from.
type benchData struct {
	products []*benchProduct
	stories  int64
	words    []string
	titles   []string
}

// discover lists the products the account can see, finds each one's
// highest story number, and collects search words from the stories' titles.
func (c *benchCmd) discover(ctx context.Context) (*benchData, error) {
	var keys []string
	cursor := ""
	for {
		path := "/api/v1/products?limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items []struct {
				Key string `json:"key"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := c.getJSON(ctx, "GET", path, nil, http.StatusOK, &page); err != nil {
			return nil, fmt.Errorf("list products: %w", err)
		}
		for _, p := range page.Items {
			keys = append(keys, p.Key)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}

	// Probe two products at a time (about 2·log2(n) GETs each), gently:
	// discovery is not what is measured.
	data := &benchData{}
	var mu sync.Mutex
	var firstErr error
	work := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < min(c.clients, 2); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range work {
				last, titles, err := c.lastNumber(ctx, key)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if last > 0 {
					p := &benchProduct{key: key}
					p.last.Store(int64(last))
					data.products = append(data.products, p)
					data.stories += int64(last)
					data.titles = append(data.titles, titles...)
				}
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if len(data.products) == 0 {
		return nil, fmt.Errorf("none of the %d products this account sees has stories: run \"northstar seed\" first", len(keys))
	}
	slices.SortFunc(data.products, func(a, b *benchProduct) int { return strings.Compare(a.key, b.key) })
	seen := map[string]bool{}
	for _, t := range data.titles {
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsLetter(r) }) {
			if len(w) >= 4 && len(w) <= 20 && !seen[w] {
				seen[w] = true
				data.words = append(data.words, w)
			}
		}
	}
	slices.Sort(data.words)
	if len(data.words) == 0 {
		data.words = []string{"error", "update", "test", "page", "user", "support"}
	}
	return data, nil
}

// lastNumber finds the highest story number of a product: the highest on
// the first backlog page, then doubling and bisecting with GET story.
func (c *benchCmd) lastNumber(ctx context.Context, key string) (int, []string, error) {
	var page struct {
		Items []struct {
			Number int    `json:"number"`
			Title  string `json:"title"`
		} `json:"items"`
	}
	if err := c.getJSON(ctx, "GET", "/api/v1/products/"+key+"/stories?limit=200", nil, http.StatusOK, &page); err != nil {
		return 0, nil, fmt.Errorf("backlog of %s: %w", key, err)
	}
	lo := 0
	var titles []string
	for _, s := range page.Items {
		lo = max(lo, s.Number)
		titles = append(titles, s.Title)
	}
	if lo == 0 {
		return 0, nil, nil
	}
	exists := func(n int) (bool, error) {
		status, data, err := c.do(ctx, "GET", "/api/v1/stories/"+northstar.FormatRef(key, n), nil)
		switch {
		case err != nil:
			return false, err
		case status == http.StatusOK:
			return true, nil
		case status == http.StatusNotFound && !bytes.Contains(data, []byte("No API route")):
			return false, nil
		}
		return false, fmt.Errorf("GET story %s: %d %s", northstar.FormatRef(key, n), status, bytes.TrimSpace(data))
	}
	hi := lo * 2
	for {
		ok, err := exists(hi)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 { // lo exists, hi does not
		mid := (lo + hi) / 2
		ok, err := exists(mid)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, titles, nil
}

// benchResult is one scenario's measurements.
type benchResult struct {
	name      string
	latencies []time.Duration
	elapsed   time.Duration
	failed    int64
	errors    []string // the first few failures
	rssMax    int64    // KiB; 0 when not sampled
	rssErr    error
}

// runScenario runs one scenario with every client until the warm-up and
// the measurement are over. Only requests started after the warm-up count.
func (c *benchCmd) runScenario(ctx context.Context, name string, data *benchData) *benchResult {
	res := &benchResult{name: name}
	start := time.Now()
	measureFrom := start.Add(c.warmup)
	end := measureFrom.Add(c.duration)
	ctx, cancel := context.WithDeadline(ctx, end.Add(c.timeout))
	defer cancel()

	rssDone := make(chan struct{})
	if c.pid > 0 {
		go func() {
			defer close(rssDone)
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				kb, err := readRSS(c.pid)
				if err != nil {
					res.rssErr = err
					return
				}
				res.rssMax = max(res.rssMax, kb)
				select {
				case <-t.C:
				case <-ctx.Done():
					return
				}
				if time.Now().After(end) {
					return
				}
			}
		}()
	} else {
		close(rssDone)
	}

	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < c.clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(c.rndSeed, uint64(i)+uint64(len(name))<<32))
			lat := make([]time.Duration, 0, 1<<16)
			var failed int64
			var errs []string
			for {
				t0 := time.Now()
				if !t0.Before(end) || ctx.Err() != nil {
					break
				}
				method, path, body, ok := benchRequest(name, rng, data)
				if !ok {
					break
				}
				status, answer, err := c.do(ctx, method, path, body)
				d := time.Since(t0)
				if status == http.StatusCreated && name == "create" {
					// Later requests may pick the new story.
					var s struct {
						Product string `json:"product"`
						Number  int64  `json:"number"`
					}
					if json.Unmarshal(answer, &s) == nil {
						for _, p := range data.products {
							if p.key == s.Product {
								for last := p.last.Load(); s.Number > last && !p.last.CompareAndSwap(last, s.Number); last = p.last.Load() {
								}
							}
						}
					}
				}
				if t0.Before(measureFrom) {
					continue
				}
				lat = append(lat, d)
				if err != nil || status < 200 || status > 299 {
					failed++
					if len(errs) < 3 {
						msg := fmt.Sprintf("%s %s: ", method, path)
						if err != nil {
							msg += err.Error()
						} else {
							msg += strconv.Itoa(status) + " " + string(bytes.TrimSpace(answer[:min(len(answer), 300)]))
						}
						errs = append(errs, msg)
					}
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.failed += failed
			for _, e := range errs {
				if len(res.errors) < 5 {
					res.errors = append(res.errors, e)
				}
			}
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	res.elapsed = time.Since(measureFrom)
	if res.elapsed > c.duration {
		// The last requests started before the end; count the window.
		res.elapsed = c.duration
	}
	cancel()
	<-rssDone
	slices.Sort(res.latencies)
	return res
}

var (
	benchStatuses = []string{"new", "ready", "in_progress", "in_review", "done"}
	benchTypes    = []string{"story", "story", "story", "bug", "task", "spike"}
)

// benchRequest makes up one request of a scenario.
func benchRequest(name string, rng *rand.Rand, d *benchData) (method, path string, body []byte, ok bool) {
	p := d.products[rng.IntN(len(d.products))]
	last := p.last.Load()
	ref := func() string { return northstar.FormatRef(p.key, int(1+rng.Int64N(last))) }
	switch name {
	case "backlog-first-page":
		return "GET", "/api/v1/products/" + p.key + "/stories?limit=50", nil, true
	case "get-story":
		return "GET", "/api/v1/stories/" + ref(), nil, true
	case "move":
		if last < 2 {
			return "", "", nil, false
		}
		a := 1 + rng.Int64N(last)
		b := 1 + rng.Int64N(last-1)
		if b >= a {
			b++
		}
		var m map[string]string
		switch r := rng.IntN(10); {
		case r < 4:
			m = map[string]string{"before": northstar.FormatRef(p.key, int(b))}
		case r < 8:
			m = map[string]string{"after": northstar.FormatRef(p.key, int(b))}
		case r < 9:
			m = map[string]string{"position": "top"}
		default:
			m = map[string]string{"position": "bottom"}
		}
		body, _ = json.Marshal(m)
		return "POST", "/api/v1/stories/" + northstar.FormatRef(p.key, int(a)) + "/move", body, true
	case "search":
		q := d.words[rng.IntN(len(d.words))]
		switch r := rng.IntN(10); {
		case r < 3: // two words
			q += " " + d.words[rng.IntN(len(d.words))]
		case r < 5: // a prefix, as typed
			q = q[:3+rng.IntN(len(q)-3)]
		}
		return "GET", "/api/v1/search?q=" + url.QueryEscape(q), nil, true
	case "create":
		title := "Bench story"
		if len(d.titles) > 0 {
			title = d.titles[rng.IntN(len(d.titles))]
		}
		pts := northstar.PointScale[rng.IntN(len(northstar.PointScale))]
		s := map[string]any{
			"type": benchTypes[rng.IntN(len(benchTypes))], "title": title,
			"persona": "product owner", "want": "to measure the server", "benefit": "the numbers are real",
			"description": "Created by `northstar bench`.", "points": pts,
			"criteria": []string{"Answers 201", "Shows up at the bottom of the backlog"}, "labels": []string{"bench"},
		}
		body, _ = json.Marshal(s)
		return "POST", "/api/v1/products/" + p.key + "/stories", body, true
	case "update":
		var u map[string]any
		if rng.IntN(2) == 0 {
			u = map[string]any{"status": benchStatuses[rng.IntN(len(benchStatuses))]}
		} else {
			u = map[string]any{"points": northstar.PointScale[rng.IntN(len(northstar.PointScale))]}
		}
		body, _ = json.Marshal(u)
		return "PATCH", "/api/v1/stories/" + ref(), body, true
	}
	return "", "", nil, false
}

// readRSS returns a process's resident set size in KiB, from Linux's
// /proc/<pid>/status.
func readRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func fmtLatency(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0fms", float64(d)/1e6)
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2fms", float64(d)/1e6)
}

// report prints one line per scenario, with the targets checked,
// then the first failures.
func (c *benchCmd) report(results []*benchResult) {
	w := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "scenario\trequests\treq/s\tp50\tp90\tp99\tmax\tfailed\tRSS max\ttarget\t")
	for _, r := range results {
		n := len(r.latencies)
		rate := float64(n) / r.elapsed.Seconds()
		p99 := percentile(r.latencies, 0.99)
		rss := "-"
		if r.rssMax > 0 {
			rss = fmt.Sprintf("%.0f MB", float64(r.rssMax)/1024)
		} else if r.rssErr != nil {
			rss = "?"
		}
		var misses []string
		for _, s := range benchScenarios {
			if s.name != r.name {
				continue
			}
			if s.p99 > 0 && p99 >= s.p99 {
				misses = append(misses, "p99≥"+fmtLatency(s.p99))
			}
			if s.rate > 0 && rate < s.rate {
				misses = append(misses, fmt.Sprintf("<%.0f/s", s.rate))
			}
		}
		if r.failed > 0 {
			misses = append(misses, "failures")
		}
		target := "met"
		if len(misses) > 0 {
			target = "MISSED " + strings.Join(misses, ", ")
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n", r.name, n, rate,
			fmtLatency(percentile(r.latencies, 0.50)), fmtLatency(percentile(r.latencies, 0.90)), fmtLatency(p99),
			fmtLatency(percentile(r.latencies, 1)), r.failed, rss, target)
	}
	w.Flush()
	for _, r := range results {
		if r.rssErr != nil {
			fmt.Fprintf(c.env.Stdout, "%s: memory not sampled: %v\n", r.name, r.rssErr)
		}
		for _, e := range r.errors {
			fmt.Fprintf(c.env.Stdout, "%s failure: %s\n", r.name, e)
		}
	}
}
