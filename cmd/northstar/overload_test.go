//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/northstar-pm/northstar/internal/httpx"
)

// The overload test offers the real server two, three and five times the
// request rate it sustains, open loop (requests go out on schedule
// whatever the answers, as real clients arrive), and checks what an
// overloaded server must do:
//
//   - answer every request with 2xx, 429 or 503: never 500, never a
//     reset connection, never silence (each request has a timeout, and one
//     that runs out fails the test);
//   - answer the requests it admits in bounded time (p99 under
//     overloadMaxP99: not a speed check, a check that admitted requests
//     do not queue without end);
//   - keep an open event stream through the load;
//   - answer a plain GET within overloadRecovery of the load stopping.
//
// The sustainable rate is measured first, with overloadClients clients
// that each send their next request when the last is answered. The mix is
// the API's everyday one: story reads, backlog pages, updates, creations.
//
// The load comes from overloadConnections kept-alive connections, opened
// before the load rises, as from the many people already using a server
// when a surge comes; each sends its requests one after the other. A
// request due while every connection waits for an answer is not sent, and
// counted. The connections are bare (net/http writes the requests and
// reads the answers, without a Transport's goroutines and pool), so that
// the load generator, which shares the machine's processors with the
// server, costs as little as it can. With -v the test logs the curve:
// offered and admitted rates, latencies, answers by status.

const (
	overloadProduct = "LOAD"
	overloadStories = 200
	// overloadClients is enough clients to keep the server busy, and
	// fewer than it admits at once, so that none is refused.
	overloadClients = 32
	// overloadMeasure is how long the sustainable rate is measured, and
	// overloadPhase how long each multiple of it is offered.
	overloadMeasure = 3 * time.Second
	overloadPhase   = 4 * time.Second
	// overloadTimeout is a client's patience: a request unanswered by
	// then counts as a hang.
	overloadTimeout     = 10 * time.Second
	overloadMaxP99      = 5 * time.Second
	overloadRecovery    = 10 * time.Second
	overloadConnections = 2000
)

// The overload tests do not run in parallel with the other tests: the
// machine's processors are what is measured, and they run before the
// parallel tests start.

func TestOverloadSQLite(t *testing.T) {
	runOverload(t, "--data", t.TempDir())
}

func TestOverloadPostgres(t *testing.T) {
	runOverload(t, "--db", postgresDSN(t))
}

func runOverload(t *testing.T, dbArgs ...string) {
	if testing.Short() {
		t.Skip("the overload test takes about half a minute; skipped with -short")
	}
	p, url := serve(t, dbArgs...)
	g := prepareLoad(t, url)
	stream := subscribe(t, url, g.token, "product="+overloadProduct)
	var streamed atomic.Int64
	go func() {
		for range stream.changes {
			streamed.Add(1)
		}
	}()

	base := g.closedLoop(overloadClients, overloadMeasure)
	sustainable := base.admittedRate()
	if sustainable <= 0 {
		t.Fatalf("no request answered 2xx in %s of closed-loop load: %s", overloadMeasure, base.summary())
	}
	phases := []loadPhase{{fmt.Sprintf("closed loop, %d clients", overloadClients), base}}
	pool := g.newPool(overloadConnections)
	var stopped time.Time
	for _, factor := range []float64{2, 3, 5} {
		res := pool.openLoop(factor*sustainable, overloadPhase)
		phases = append(phases, loadPhase{fmt.Sprintf("%g× sustainable", factor), res})
		stopped = res.stopped
	}
	pool.close()
	recovered := g.recovery(stopped)

	t.Logf("overload curve (sustainable rate %.0f/s, %d requests in flight at most, load from %d connections):", sustainable, httpx.DefaultMaxInFlight, overloadConnections)
	t.Logf("  %-24s %10s %10s %9s %9s  %s", "load", "offered/s", "admitted/s", "p50", "p99", "answers")
	for _, ph := range phases {
		r := ph.res
		t.Logf("  %-24s %10.0f %10.0f %9s %9s  %s", ph.name, r.offeredRate(), r.admittedRate(),
			r.percentile(0.50).Round(100*time.Microsecond), r.percentile(0.99).Round(100*time.Microsecond), r.summary())
	}
	t.Logf("  a GET answered 200 %s after the load stopped; the event stream got %d changes during the load", recovered.Round(time.Millisecond), streamed.Load())

	for _, ph := range phases {
		r := ph.res
		if r.failures > 0 || r.unexpected > 0 {
			t.Errorf("%s: %d requests unanswered within %s or cut off, %d answered other than 2xx, 429 or 503; first ones:\n%s",
				ph.name, r.failures, overloadTimeout, r.unexpected, strings.Join(r.examples, "\n"))
		}
		if p99 := r.percentile(0.99); p99 > overloadMaxP99 {
			t.Errorf("%s: p99 of admitted requests %s, want under %s", ph.name, p99.Round(time.Millisecond), overloadMaxP99)
		}
		if len(r.admitted) == 0 {
			t.Errorf("%s: no request admitted", ph.name)
		}
	}
	if recovered > overloadRecovery {
		t.Errorf("the server answered a plain GET %s after the load stopped, want within %s", recovered.Round(time.Millisecond), overloadRecovery)
	}
	select {
	case <-stream.ended:
		t.Error("the event stream ended during the load")
	default:
	}
	if streamed.Load() == 0 {
		t.Error("the event stream got no change during the load")
	}
	p.stop()
}

// loadPhase is one point of the overload curve.
type loadPhase struct {
	name string
	res  *loadResult
}

// loadTarget is a server ready for load: a product with stories, and the
// token of its admin.
type loadTarget struct {
	t     *testing.T
	url   string
	token string
	refs  []string
	seq   atomic.Int64
	// idle holds the stories no request is changing. Two changes of one
	// story at once would make one of them a 409 (the version it read is
	// stale by the time it writes), a conflict of the test's own making.
	idle chan string
}

// prepareLoad signs up the first account (the admin) on a fresh server,
// creates the product and its stories, and returns the target.
func prepareLoad(t *testing.T, url string) *loadTarget {
	t.Helper()
	g := &loadTarget{t: t, url: url}
	g.token = signUpWithProduct(t, url, "Load Admin", "load@northstar.test", overloadProduct, "Load test")
	for i := range overloadStories {
		var s struct{ Ref string }
		if code := call(t, "POST", url+"/api/v1/products/"+overloadProduct+"/stories", g.token, map[string]any{"title": fmt.Sprintf("Seeded story %d", i+1), "points": 3}, &s); code != http.StatusCreated {
			t.Fatalf("POST /api/v1/products/%s/stories: %d", overloadProduct, code)
		}
		g.refs = append(g.refs, s.Ref)
	}
	g.idle = make(chan string, len(g.refs))
	for _, ref := range g.refs {
		g.idle <- ref
	}
	return g
}

// nextRequest returns a request of the mix, and a function to call once
// it is answered.
func (g *loadTarget) nextRequest() (*http.Request, func()) {
	ref := g.refs[rand.IntN(len(g.refs))]
	n := g.seq.Add(1)
	done := func() {}
	var method, path string
	var body any
	switch r := rand.IntN(100); {
	case r < 40:
		method, path = "GET", "/api/v1/stories/"+ref
	case r < 60:
		method, path = "GET", "/api/v1/products/"+overloadProduct+"/stories?limit=20"
	case r < 85:
		select {
		case ref = <-g.idle:
			done = func() { g.idle <- ref }
			method, path, body = "PATCH", "/api/v1/stories/"+ref, map[string]any{"description": fmt.Sprintf("changed by request %d", n), "points": []int{1, 2, 3, 5, 8}[n%5]}
		default: // every story is being changed: read one instead
			method, path = "GET", "/api/v1/stories/"+ref
		}
	default:
		method, path, body = "POST", "/api/v1/products/"+overloadProduct+"/stories", map[string]any{"title": fmt.Sprintf("Load story %d", n)}
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.url+path, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	return req, done
}

// answer is what became of one request.
type answer struct {
	status int // 0: no answer
	took   time.Duration
	err    error
	body   string // of an unexpected answer
}

// allowedUnderLoad reports whether an overloaded server may answer so.
func allowedUnderLoad(status int) bool {
	return status/100 == 2 || status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// loadConn is one kept-alive connection of the load.
type loadConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func (g *loadTarget) dial() (*loadConn, error) {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(g.url, "http://"), overloadTimeout)
	if err != nil {
		return nil, err
	}
	return &loadConn{conn: c, r: bufio.NewReader(c)}, nil
}

// exchange sends req and reads the answer. After an error the connection
// is unusable.
func (c *loadConn) exchange(req *http.Request) answer {
	begin := time.Now()
	c.conn.SetDeadline(begin.Add(overloadTimeout))
	fail := func(err error) answer {
		return answer{took: time.Since(begin), err: fmt.Errorf("%s %s: %w", req.Method, req.URL.RequestURI(), err)}
	}
	if err := req.Write(c.conn); err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(c.r, req)
	if err != nil {
		return fail(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fail(fmt.Errorf("%d, reading the body: %w", resp.StatusCode, err))
	}
	a := answer{status: resp.StatusCode, took: time.Since(begin)}
	if !allowedUnderLoad(resp.StatusCode) {
		a.body = fmt.Sprintf("%s %s: %d %.200s", req.Method, req.URL.RequestURI(), resp.StatusCode, data)
	}
	if resp.Close {
		a.err = errConnClosed
	}
	return a
}

// errConnClosed marks an answer after which the server closed the
// connection: not a failure, but the connection must be dialled again.
var errConnClosed = errors.New("the server closed the connection")

// loadResult gathers the answers of one phase of load.
type loadResult struct {
	mu         sync.Mutex
	statuses   map[int]int
	admitted   []time.Duration // latencies of the 2xx answers
	failures   int             // no answer: timeouts, refused or cut connections
	unexpected int             // answers other than 2xx, 429 and 503
	examples   []string        // the first few failures and unexpected answers
	sent       int
	unsent     int            // due while every connection waited for an answer
	pending    sync.WaitGroup // requests sent and not answered yet
	sending    time.Duration  // from the first request sent to the last
	elapsed    time.Duration  // until the last answer
	stopped    time.Time      // when the last request was sent
}

func newLoadResult() *loadResult { return &loadResult{statuses: map[int]int{}} }

func (r *loadResult) add(a answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent++
	switch {
	case a.err != nil && a.err != errConnClosed:
		r.failures++
		r.example(a.err.Error())
	case a.body != "":
		r.unexpected++
		r.example(a.body)
	}
	if a.status != 0 {
		r.statuses[a.status]++
	}
	if a.status/100 == 2 {
		r.admitted = append(r.admitted, a.took)
	}
}

func (r *loadResult) example(s string) {
	if len(r.examples) < 10 {
		r.examples = append(r.examples, "  "+s)
	}
}

func (r *loadResult) offeredRate() float64 {
	return float64(r.sent) / r.sending.Seconds()
}

func (r *loadResult) admittedRate() float64 {
	return float64(len(r.admitted)) / r.elapsed.Seconds()
}

// percentile returns the q-quantile of the admitted requests' latencies.
func (r *loadResult) percentile(q float64) time.Duration {
	if len(r.admitted) == 0 {
		return 0
	}
	s := slices.Clone(r.admitted)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// summary counts the answers by status: "2xx: 1200, 503: 3400, no answer: 0".
func (r *loadResult) summary() string {
	var twoxx int
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(r.statuses)) {
		if st/100 == 2 {
			twoxx += r.statuses[st]
			continue
		}
		parts = append(parts, fmt.Sprintf("%d: %d", st, r.statuses[st]))
	}
	parts = append([]string{fmt.Sprintf("2xx: %d", twoxx)}, parts...)
	parts = append(parts, fmt.Sprintf("no answer: %d", r.failures))
	if r.unsent > 0 {
		parts = append(parts, fmt.Sprintf("not sent (every connection busy): %d", r.unsent))
	}
	return strings.Join(parts, ", ")
}

// loadPool is a set of connections, each sending the requests it is
// handed one after the other.
type loadPool struct {
	g    *loadTarget
	jobs chan *loadResult // a request to send, and where its answer goes
	done sync.WaitGroup
}

// newPool opens n connections, a few at a time.
func (g *loadTarget) newPool(n int) *loadPool {
	p := &loadPool{g: g, jobs: make(chan *loadResult)}
	conns := make(chan *loadConn, n)
	dialing := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for range n {
		dialing <- struct{}{}
		wg.Go(func() {
			defer func() { <-dialing }()
			c, err := g.dial()
			if err != nil {
				g.t.Errorf("connect to the server: %v", err)
				return
			}
			conns <- c
		})
	}
	wg.Wait()
	close(conns)
	// The pool is ready once every connection waits for work: a request
	// due before then would be counted as unsent.
	var ready sync.WaitGroup
	for c := range conns {
		ready.Add(1)
		p.done.Go(func() { p.work(c, ready.Done) })
	}
	ready.Wait()
	return p
}

// work sends the requests handed to one connection, dialling again when
// the connection fails or the server closes it.
func (p *loadPool) work(c *loadConn, ready func()) {
	ready()
	for res := range p.jobs {
		if c == nil {
			var err error
			if c, err = p.g.dial(); err != nil {
				res.add(answer{err: fmt.Errorf("connect: %w", err)})
				res.pending.Done()
				continue
			}
		}
		req, release := p.g.nextRequest()
		a := c.exchange(req)
		release()
		if a.err != nil {
			c.conn.Close()
			c = nil
		}
		res.add(a)
		res.pending.Done()
	}
	if c != nil {
		c.conn.Close()
	}
}

// close ends the pool's connections.
func (p *loadPool) close() {
	close(p.jobs)
	p.done.Wait()
}

// closedLoop keeps every connection of the pool busy for d: each sends its
// next request as soon as the last is answered.
func (p *loadPool) closedLoop(d time.Duration) *loadResult {
	res := newLoadResult()
	begin := time.Now()
	for time.Since(begin) < d {
		res.pending.Add(1)
		p.jobs <- res
	}
	res.stopped = time.Now()
	res.pending.Wait()
	res.elapsed = time.Since(begin)
	res.sending = res.elapsed
	return res
}

// closedLoop measures the rate that clients sending one request after the
// other get answered, on connections of their own.
func (g *loadTarget) closedLoop(clients int, d time.Duration) *loadResult {
	p := g.newPool(clients)
	defer p.close()
	return p.closedLoop(d)
}

// openLoop sends requests at rate per second for d, each on schedule
// whether or not the earlier ones were answered, and waits for the
// answers.
func (p *loadPool) openLoop(rate float64, d time.Duration) *loadResult {
	res := newLoadResult()
	unsent := 0
	begin := time.Now()
	for i := 0; ; i++ {
		at := begin.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if at.Sub(begin) >= d {
			break
		}
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		res.pending.Add(1)
		select {
		case p.jobs <- res:
		default:
			res.pending.Done()
			unsent++
		}
	}
	res.stopped = time.Now()
	res.sending = res.stopped.Sub(begin)
	res.pending.Wait()
	res.elapsed = time.Since(begin)
	res.unsent = unsent
	return res
}

// recovery sends a plain GET until one is answered 200, and returns how
// long after since that was.
func (g *loadTarget) recovery(since time.Time) time.Duration {
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	for time.Since(since) < 2*overloadRecovery {
		req, err := http.NewRequest("GET", g.url+"/api/v1/products/"+overloadProduct, nil)
		if err != nil {
			panic(err)
		}
		req.Header.Set("Authorization", "Bearer "+g.token)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(since)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(since)
}

func TestServeLimitsInFlight(t *testing.T) {
	t.Parallel()
	t.Run("refuses what it has no room for", func(t *testing.T) {
		t.Parallel()
		_, url := serve(t, "--data", t.TempDir(), "--max-inflight", "1")
		// The connections are open before the requests go, so that the
		// requests arrive together.
		const n = 200
		client := &http.Client{Timeout: overloadTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
		defer client.CloseIdleConnections()
		get := func(path string) (int, string, error) {
			resp, err := client.Get(url + path)
			if err != nil {
				return 0, "", err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Retry-After"), nil
		}
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { get("/healthz") })
		}
		wg.Wait()
		var mu sync.Mutex
		statuses := map[int]int{}
		for range n {
			wg.Go(func() {
				status, retry, err := get("/login")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("GET /login: %v", err)
				case status == http.StatusServiceUnavailable && retry != "1":
					t.Errorf("GET /login: 503 with Retry-After %q, want 1", retry)
				}
				statuses[status]++
			})
		}
		wg.Wait()
		if statuses[http.StatusOK] == 0 || statuses[http.StatusServiceUnavailable] == 0 || statuses[http.StatusOK]+statuses[http.StatusServiceUnavailable] != n {
			t.Errorf("%d requests at once with --max-inflight 1: %v, want some 200 and the rest 503", n, statuses)
		}
	})
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"refuses --max-inflight 0", nil, []string{"--max-inflight", "0"}},
		{"refuses NORTHSTAR_MAX_INFLIGHT=many", []string{"NORTHSTAR_MAX_INFLIGHT=many"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, c.env, append([]string{"serve", "--addr", freeAddr(t), "--data", t.TempDir()}, c.args...)...)
			if code := p.wait(30 * time.Second); code == 0 {
				t.Errorf("exit status 0, want a failure")
			}
			if !strings.Contains(p.out.String(), "--max-inflight (env NORTHSTAR_MAX_INFLIGHT) must be") {
				t.Errorf("the output does not say what is wrong:\n%s", p.out)
			}
		})
	}
}
