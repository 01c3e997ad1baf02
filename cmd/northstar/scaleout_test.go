//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// The scale-out test runs two "northstar serve" processes on one
// PostgreSQL schema behind a round-robin reverse proxy, as behind a load
// balancer without sticky sessions, and checks what must hold whichever
// process answers: browser sessions and API tokens, live updates, webhook
// deliveries (each once, in order) and the backlog order under concurrent
// moves through both processes.

const (
	scaleWebhookChanges = 50 // story changes, each one webhook delivery
	scaleStories        = 24 // stories in the backlog moved concurrently
	scaleMovers         = 3  // concurrent clients on each process
	scaleMoves          = 30 // moves by each client
)

// backendHeader tells the test which process answered through the proxy.
const backendHeader = "X-Test-Backend"

// roundRobin is a reverse proxy that sends each request to the next
// backend in turn, as a load balancer without sticky sessions does.
type roundRobin struct {
	URL      string // the proxy's address: the servers' public base URL
	srv      *httptest.Server
	backends []*url.URL
	next     atomic.Uint64
	served   []atomic.Int64 // requests sent to each backend

	mu   sync.Mutex
	last map[string]string // path → backend of its latest request
}

// newRoundRobin listens on a free port. The servers need its URL before
// they start, so it proxies only once start names them.
func newRoundRobin(t *testing.T) *roundRobin {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	return &roundRobin{URL: "http://" + srv.Listener.Addr().String(), srv: srv, last: map[string]string{}}
}

func (rr *roundRobin) start(t *testing.T, backends ...string) {
	t.Helper()
	for _, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		rr.backends = append(rr.backends, u)
	}
	rr.served = make([]atomic.Int64, len(backends))
	rr.srv.Config.Handler = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			i := int((rr.next.Add(1) - 1) % uint64(len(rr.backends)))
			rr.served[i].Add(1)
			rr.mu.Lock()
			rr.last[r.In.URL.Path] = backendName(i)
			rr.mu.Unlock()
			r.SetURL(rr.backends[i])
			// Load balancers pass the Host header on: the servers'
			// cross-origin check compares it with the browser's Origin.
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		ModifyResponse: func(resp *http.Response) error {
			for i, b := range rr.backends {
				if resp.Request.URL.Host == b.Host {
					resp.Header.Set(backendHeader, backendName(i))
				}
			}
			return nil
		},
		// Server-sent events must reach the client as they are written.
		FlushInterval: -1,
		// A stream the test closes is a proxy error; it is no news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	rr.srv.Start()
}

// servedBy returns the backend of the latest request for path.
func (rr *roundRobin) servedBy(path string) string {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.last[path]
}

func backendName(i int) string { return string(rune('A' + i)) }

// send sends a JSON request and returns the status and the body. Unlike
// call it may run on any goroutine.
func send(client *http.Client, method, url, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// page is one answer to a browser.
type page struct {
	status   int
	location string
	backend  string
	body     string
}

// browser plays a web browser against the proxy: it keeps cookies, sends
// the headers a browser sends with a form, and follows no redirect, so
// that each answer, and which process gave it, can be checked.
type browser struct {
	t      *testing.T
	origin string
	client *http.Client
}

func newBrowser(t *testing.T, origin string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, origin: origin, client: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(client *http.Client, req *http.Request) page {
	b.t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), backend: resp.Header.Get(backendHeader), body: string(body)}
}

// get loads a page. With a cookie other than "" it sends that session
// cookie instead of the jar's, as a stale or stolen copy would be sent.
func (b *browser) get(path, cookie string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.origin+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie == "" {
		return b.do(b.client, req)
	}
	req.Header.Set("Cookie", httpx.SessionCookie+"="+cookie)
	noJar := *b.client
	noJar.Jar = nil
	return b.do(&noJar, req)
}

// submit posts a form as a browser does from a page of origin; site is
// its Sec-Fetch-Site header, which browsers leave out on plain HTTP but
// for localhost: then the server's origin check compares Origin with Host.
func (b *browser) submit(path string, form url.Values, origin, site string) page {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.origin+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
	}
	return b.do(b.client, req)
}

// signedIn reports whether a page was shown to a signed-in person.
func (p page) signedIn() bool {
	return p.status == http.StatusOK && strings.Contains(p.body, `action="/logout"`)
}

// toLogin reports whether a page sends the browser to sign in.
func (p page) toLogin() bool {
	return p.status == http.StatusSeeOther && strings.HasPrefix(p.location, "/login")
}

func TestScaleOutPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" && os.Getenv("CI") != "true" {
		t.Skipf("%s is not set: several server processes share one PostgreSQL database (on SQLite one process serves)", storetest.PostgresEnv)
	}
	t.Parallel()
	begin := time.Now()
	dsn := postgresDSN(t) // fails under CI without PostgreSQL
	lb := newRoundRobin(t)
	args := []string{"--db", dsn, "--base-url", lb.URL, "--webhooks-allow-private"}
	procA, urlA := serve(t, args...)
	procB, urlB := serve(t, args...)
	direct := map[string]string{"A": urlA, "B": urlB}
	lb.start(t, urlA, urlB)

	const email, password = "ada@example.com", "correct horse battery"
	var admin struct{ Token string }
	if code := call(t, "POST", lb.URL+"/api/v1/signup", "", map[string]string{"name": "Ada Admin", "email": email, "password": password}, &admin); code != http.StatusCreated || admin.Token == "" {
		t.Fatalf("POST /api/v1/signup through the proxy: %d", code)
	}
	token := admin.Token

	t.Run("sessions", func(t *testing.T) {
		br := newBrowser(t, lb.URL)
		if p := br.get("/login", ""); p.status != http.StatusOK {
			t.Fatalf("GET /login: %d", p.status)
		}
		// Without Sec-Fetch-Site, as over plain HTTP to another host: the
		// proxy must pass the Host on for Origin to match it.
		p := br.submit("/login", url.Values{"email": {email}, "password": {password}, "next": {""}}, lb.URL, "")
		if p.status != http.StatusSeeOther || p.location != "/products" {
			t.Fatalf("POST /login on %s: %d to %q, want 303 to /products\n%s", p.backend, p.status, p.location, p.body)
		}
		var session string
		for _, c := range br.client.Jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(lb.URL, "http://")}) {
			if c.Name == httpx.SessionCookie {
				session = c.Value
			}
		}
		if session == "" {
			t.Fatalf("signed in on %s without a %s cookie", p.backend, httpx.SessionCookie)
		}

		// Consecutive pages land on both processes, signed in on each.
		pages := map[string]int{}
		for i := range 6 {
			p := br.get("/products", "")
			if !p.signedIn() {
				t.Errorf("page %d, on %s: %d to %q, not signed in", i+1, p.backend, p.status, p.location)
			}
			pages[p.backend]++
		}
		if pages["A"] == 0 || pages["B"] == 0 {
			t.Errorf("pages per process %v: the proxy did not alternate", pages)
		}

		// The origin check still works behind the proxy: another site's
		// form cannot sign us out.
		for _, site := range []string{"cross-site", ""} {
			if p := br.submit("/logout", nil, "https://evil.example", site); p.status != http.StatusForbidden {
				t.Errorf("a cross-site POST /logout (Sec-Fetch-Site %q) on %s: %d, want 403", site, p.backend, p.status)
			}
		}
		if p := br.get("/products", ""); !p.signedIn() {
			t.Errorf("after a refused cross-site sign-out, on %s: %d, not signed in", p.backend, p.status)
		}

		// Sign out on one: the session ends in the database, so the other
		// refuses the old cookie on the next request, and so does the first.
		out := br.submit("/logout", nil, lb.URL, "same-origin")
		if !out.toLogin() {
			t.Fatalf("POST /logout on %s: %d to %q, want 303 to /login", out.backend, out.status, out.location)
		}
		for i := range 2 {
			p := br.get("/products", session)
			if i == 0 && p.backend == out.backend {
				t.Errorf("the request after the sign-out on %s landed on %s too", out.backend, p.backend)
			}
			if !p.toLogin() {
				t.Errorf("the old session cookie on %s after signing out on %s: %d to %q, want 303 to /login", p.backend, out.backend, p.status, p.location)
			}
		}
		if p := br.get("/products", ""); !p.toLogin() {
			t.Errorf("after signing out, on %s: %d to %q, want 303 to /login", p.backend, p.status, p.location)
		}
	})

	t.Run("tokens", func(t *testing.T) {
		var created struct {
			Token string
			ID    int64
		}
		if code := call(t, "POST", lb.URL+"/api/v1/tokens", token, map[string]string{"name": "scale-out"}, &created); code != http.StatusCreated || created.Token == "" {
			t.Fatalf("POST /api/v1/tokens through the proxy: %d", code)
		}
		for _, name := range []string{"A", "B"} {
			var me struct{ Email string }
			if code := call(t, "GET", direct[name]+"/api/v1/me", created.Token, nil, &me); code != http.StatusOK || me.Email != email {
				t.Errorf("GET /api/v1/me on %s with the new token: %d %q", name, code, me.Email)
			}
		}
		// Revoked on A, it is refused on B.
		if code := call(t, "DELETE", fmt.Sprintf("%s/api/v1/tokens/%d", urlA, created.ID), token, nil, nil); code != http.StatusNoContent {
			t.Fatalf("DELETE /api/v1/tokens/%d on A: %d", created.ID, code)
		}
		if code := call(t, "GET", urlB+"/api/v1/me", created.Token, nil, nil); code != http.StatusUnauthorized {
			t.Errorf("GET /api/v1/me on B with the token revoked on A: %d, want 401", code)
		}
	})

	t.Run("live updates", func(t *testing.T) {
		if code := call(t, "POST", lb.URL+"/api/v1/products", token, map[string]string{"key": "LIVE", "name": "Live"}, nil); code != http.StatusCreated {
			t.Fatalf("POST /api/v1/products: %d", code)
		}
		var story struct{ Ref string }
		if code := call(t, "POST", lb.URL+"/api/v1/products/LIVE/stories", token, map[string]string{"title": "Watched"}, &story); code != http.StatusCreated {
			t.Fatalf("POST /api/v1/products/LIVE/stories: %d", code)
		}
		stream := subscribe(t, lb.URL, token, "product=LIVE")
		on := lb.servedBy("/api/v1/events")
		other := map[string]string{"A": "B", "B": "A"}[on]
		if other == "" {
			t.Fatalf("the event stream landed on %q", on)
		}
		since := time.Now()
		if code := call(t, "PATCH", direct[other]+"/api/v1/stories/"+story.Ref, token, map[string]any{"points": 3}, nil); code != http.StatusOK {
			t.Fatalf("PATCH /api/v1/stories/%s on %s: %d", story.Ref, other, code)
		}
		took := stream.await(t, "the proxy", story.Ref, since)
		t.Logf("a change on %s reached a stream opened through the proxy (on %s) in %s", other, on, took.Round(time.Microsecond))
	})

	t.Run("webhooks", func(t *testing.T) {
		testScaleOutWebhooks(t, lb.URL, token, []string{urlA, urlB})
	})

	t.Run("backlog order", func(t *testing.T) {
		testScaleOutBacklog(t, lb.URL, token, []string{urlA, urlB})
	})

	t.Logf("through the proxy: %d requests to A, %d to B", lb.served[0].Load(), lb.served[1].Load())
	procA.stop()
	procB.stop()
	for name, p := range map[string]*proc{"A": procA, "B": procB} {
		if log := p.out.String(); strings.Contains(log, "level=ERROR") {
			t.Errorf("%s logged errors:\n%s", name, log)
		}
	}
	t.Logf("took %s", time.Since(begin).Round(time.Millisecond))
}

// hookDelivery is a webhook delivery as the receiver got it.
type hookDelivery struct {
	id          string // X-Northstar-Delivery
	event       string
	activity    int64
	description string // the story's new description
	signed      bool
}

// hookReceiver records the deliveries it gets, in order.
type hookReceiver struct {
	mu     sync.Mutex
	secret string
	got    []hookDelivery
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var payload struct {
		Event    string                  `json:"event"`
		Activity int64                   `json:"activity_id"`
		Changes  []northstar.FieldChange `json:"changes"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := hookDelivery{id: r.Header.Get("X-Northstar-Delivery"), event: r.Header.Get("X-Northstar-Event"), activity: payload.Activity}
	for _, c := range payload.Changes {
		if s, ok := c.New.(string); ok && c.Field == "description" {
			d.description = s
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d.signed = h.secret != "" && r.Header.Get("X-Northstar-Signature") == app.Sign(h.secret, body)
	h.got = append(h.got, d)
}

func (h *hookReceiver) deliveries() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// testScaleOutWebhooks changes one story scaleWebhookChanges times,
// alternately on each process, and checks that the receiver gets each
// change once, signed, in the order the changes were made.
func testScaleOutWebhooks(t *testing.T, proxy, token string, backends []string) {
	recv := &hookReceiver{}
	hooks := httptest.NewServer(recv)
	t.Cleanup(hooks.Close)

	if code := call(t, "POST", proxy+"/api/v1/products", token, map[string]string{"key": "HOOK", "name": "Hooked"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/products: %d", code)
	}
	var story struct{ Ref string }
	if code := call(t, "POST", proxy+"/api/v1/products/HOOK/stories", token, map[string]string{"title": "Changed often"}, &story); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/products/HOOK/stories: %d", code)
	}
	var created struct {
		Webhook struct{ ID int64 }
		Secret  string
	}
	if code := call(t, "POST", proxy+"/api/v1/products/HOOK/webhooks", token, map[string]any{"url": hooks.URL, "events": []string{"story.updated"}}, &created); code != http.StatusCreated || created.Secret == "" {
		t.Fatalf("POST /api/v1/products/HOOK/webhooks: %d", code)
	}
	recv.mu.Lock()
	recv.secret = created.Secret
	recv.mu.Unlock()

	begin := time.Now()
	for i := range scaleWebhookChanges {
		u := backends[i%len(backends)] + "/api/v1/stories/" + story.Ref
		if code := call(t, "PATCH", u, token, map[string]string{"description": fmt.Sprintf("change %02d", i)}, nil); code != http.StatusOK {
			t.Fatalf("PATCH %s: %d", u, code)
		}
	}
	changed := time.Since(begin)

	// Wait for all, then a while longer for any delivery sent twice: both
	// processes look at the queue every second.
	deadline := time.Now().Add(20 * time.Second)
	for len(recv.deliveries()) < scaleWebhookChanges && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	all := time.Since(begin)
	time.Sleep(2500 * time.Millisecond)

	got := recv.deliveries()
	ids, activities := map[string]int{}, map[int64]int{}
	var order []string
	for _, d := range got {
		ids[d.id]++
		activities[d.activity]++
		order = append(order, d.description)
		if d.event != "story.updated" || !d.signed {
			t.Errorf("delivery %s: event %q, signed %v", d.id, d.event, d.signed)
		}
	}
	var twice []string
	for id, n := range ids {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s (%d times)", id, n))
		}
	}
	if len(twice) > 0 {
		slices.Sort(twice)
		t.Errorf("%d deliveries arrived more than once: %s", len(twice), strings.Join(twice, ", "))
	}
	if len(activities) != len(ids) {
		t.Errorf("%d distinct deliveries carry %d distinct changes: a change was queued twice", len(ids), len(activities))
	}
	var want []string
	for i := range scaleWebhookChanges {
		want = append(want, fmt.Sprintf("change %02d", i))
	}
	if !slices.Equal(order, want) {
		t.Errorf("the receiver got %d deliveries, %d distinct, in the order\n%q\nwant each change once in the order made:\n%q", len(got), len(ids), order, want)
	}
	t.Logf("webhooks: %d changes made alternately on %d processes in %s; %d deliveries received (%d distinct), all within %s of the first change",
		scaleWebhookChanges, len(backends), changed.Round(time.Millisecond), len(got), len(ids), all.Round(time.Millisecond))
}

// testScaleOutBacklog moves the stories of one product from concurrent
// clients, scaleMovers pinned to each process, and checks that both
// processes then list the same backlog: every story once, ranks unique
// and ascending. Then moves alternate between the processes, each read
// back at once on the other.
func testScaleOutBacklog(t *testing.T, proxy, token string, backends []string) {
	const key = "RANK"
	if code := call(t, "POST", proxy+"/api/v1/products", token, map[string]string{"key": key, "name": "Ranked"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/products: %d", code)
	}
	var refs []string
	for i := range scaleStories {
		var s struct{ Ref string }
		if code := call(t, "POST", proxy+"/api/v1/products/"+key+"/stories", token, map[string]string{"title": fmt.Sprintf("Story %02d", i)}, &s); code != http.StatusCreated {
			t.Fatalf("POST /api/v1/products/%s/stories: %d", key, code)
		}
		refs = append(refs, s.Ref)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("backlog moves: seed %d", seed)
	var moved, conflicts atomic.Int64
	perBackend := make([]atomic.Int64, len(backends))
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	begin := time.Now()
	var wg sync.WaitGroup
	for b, base := range backends {
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: scaleMovers}}
		defer client.CloseIdleConnections()
		for m := range scaleMovers {
			rng := rand.New(rand.NewPCG(seed, uint64(b*scaleMovers+m)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range scaleMoves {
					ref := refs[rng.IntN(len(refs))]
					other := refs[rng.IntN(len(refs))]
					move := map[string]string{}
					switch {
					case other == ref || rng.IntN(4) == 0:
						move["position"] = []string{"top", "bottom"}[rng.IntN(2)]
					case rng.IntN(2) == 0:
						move["before"] = other
					default:
						move["after"] = other
					}
					for attempt := 1; ; attempt++ {
						code, body, err := send(client, "POST", base+"/api/v1/stories/"+ref+"/move", token, move)
						switch {
						case err != nil:
							fail("move %s %v on %s: %v", ref, move, backendName(b), err)
						case code == http.StatusConflict && attempt < 10:
							conflicts.Add(1)
							continue
						case code != http.StatusOK:
							fail("move %s %v on %s: %d %s", ref, move, backendName(b), code, body)
						default:
							moved.Add(1)
							perBackend[b].Add(1)
						}
						break
					}
				}
			}()
		}
	}
	wg.Wait()
	took := time.Since(begin)
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("backlog: %d concurrent moves done in %s (%d on A, %d on B), %d conflicts retried",
		moved.Load(), took.Round(time.Millisecond), perBackend[0].Load(), perBackend[1].Load(), conflicts.Load())

	lists := make([][]string, len(backends))
	for b, base := range backends {
		backlog := fetchBacklog(t, base, token, key)
		seen := map[string]bool{}
		for i, s := range backlog {
			lists[b] = append(lists[b], s.Ref)
			if seen[s.Ref] {
				t.Errorf("%s lists %s twice", backendName(b), s.Ref)
			}
			seen[s.Ref] = true
			if !northstar.ValidRank(s.Rank) {
				t.Errorf("%s: %s has an invalid rank %q", backendName(b), s.Ref, s.Rank)
			}
			if i > 0 && backlog[i-1].Rank >= s.Rank {
				t.Errorf("%s lists %s (rank %q) after %s (rank %q): ranks not unique and ascending", backendName(b), s.Ref, s.Rank, backlog[i-1].Ref, backlog[i-1].Rank)
			}
		}
		if got, want := slices.Sorted(slices.Values(lists[b])), slices.Sorted(slices.Values(refs)); !slices.Equal(got, want) {
			t.Errorf("%s lists the stories %q, want %q", backendName(b), got, want)
		}
	}
	if !slices.Equal(lists[0], lists[1]) {
		t.Errorf("the processes list different backlogs:\nA: %q\nB: %q", lists[0], lists[1])
	}

	// A move on one process is seen at once on the other.
	order := lists[0]
	rng := rand.New(rand.NewPCG(seed, 1000))
	for i := range 10 {
		on, readOn := backends[i%2], backends[(i+1)%2]
		ref := order[rng.IntN(len(order))]
		var move map[string]string
		if i%3 == 0 {
			move = map[string]string{"position": "top"}
			order = append([]string{ref}, slices.DeleteFunc(slices.Clone(order), func(r string) bool { return r == ref })...)
		} else {
			target := ref
			for target == ref {
				target = order[rng.IntN(len(order))]
			}
			move = map[string]string{"after": target}
			order = slices.DeleteFunc(slices.Clone(order), func(r string) bool { return r == ref })
			k := slices.Index(order, target)
			order = slices.Insert(order, k+1, ref)
		}
		if code := call(t, "POST", on+"/api/v1/stories/"+ref+"/move", token, move, nil); code != http.StatusOK {
			t.Fatalf("move %s %v on %s: %d", ref, move, backendName(i%2), code)
		}
		var got []string
		for _, s := range fetchBacklog(t, readOn, token, key) {
			got = append(got, s.Ref)
		}
		if !slices.Equal(got, order) {
			t.Fatalf("after moving %s %v on %s, %s lists\n%q\nwant\n%q", ref, move, backendName(i%2), backendName((i+1)%2), got, order)
		}
	}
}
