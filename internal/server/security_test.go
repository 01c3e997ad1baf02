package server_test

// The security baseline (OWASP ASVS level 2 where it applies), one test per
// item: session cookies, session timeouts, the content security policy and
// the other security headers, caching of signed-in answers, the failed
// sign-in limit, audit events, and outbound requests to private addresses.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// overTLS is a client that reached the server through a TLS-terminating
// proxy, as a production installation is reached.
func overTLS(c *client) *client { return c.withHeader("X-Forwarded-Proto", "https") }

func TestSessionCookieAttributes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		res := overTLS(e.anon()).post(t, "/login", url.Values{"email": {admin.email}, "password": {password}}).want(t, http.StatusSeeOther)
		var c *http.Cookie
		for _, k := range (&http.Response{Header: res.header}).Cookies() {
			if strings.Contains(k.Name, "session") {
				c = k
			}
		}
		if c == nil {
			t.Fatalf("no session cookie set over TLS; headers %v", res.header)
		}
		if c.Name != "__Host-northstar_session" {
			t.Errorf("session cookie %q, want the __Host- prefix", c.Name)
		}
		if !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
			t.Errorf("session cookie Secure=%v HttpOnly=%v Path=%q Domain=%q, want Secure, HttpOnly, Path=/ and no Domain", c.Secure, c.HttpOnly, c.Path, c.Domain)
		}
		if c.SameSite != http.SameSiteLaxMode && c.SameSite != http.SameSiteStrictMode {
			t.Errorf("session cookie SameSite %v, want Lax or Strict", c.SameSite)
		}
		// The cookie signs in over TLS; the same secret under the name
		// without the prefix (which a sibling host could plant) does not.
		overTLS(e.anon()).get(t, "/api/v1/me", "Cookie", c.Name+"="+c.Value).want(t, http.StatusOK)
		overTLS(e.anon()).get(t, "/api/v1/me", "Cookie", "northstar_session="+c.Value).want(t, http.StatusUnauthorized)
		// Signing out clears the cookie under its name.
		res = overTLS(e.anon()).post(t, "/logout", nil, "Cookie", c.Name+"="+c.Value)
		cleared := false
		for _, k := range (&http.Response{Header: res.header}).Cookies() {
			cleared = cleared || (k.Name == c.Name && k.MaxAge < 0)
		}
		if !cleared {
			t.Errorf("POST /logout over TLS: %d, does not clear %s; headers %v", res.status, c.Name, res.header)
		}
	})
}

func TestSessionTimeouts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		if e.app.SessionTTL != 30*time.Minute || e.app.SessionMaxAge != 12*time.Hour {
			t.Errorf("session timeouts idle %s, absolute %s; want 30m and 12h by default", e.app.SessionTTL, e.app.SessionMaxAge)
		}
		admin := e.signUpAdmin(t)
		t.Cleanup(func() { e.db.TravelTo(time.Time{}) })
		me := func(c *client) int { return c.get(t, "/api/v1/me").status }

		// Idle: 31 minutes without a request end the session.
		start := time.Now()
		idle := e.login(t, admin.email)
		if got := me(idle); got != http.StatusOK {
			t.Fatalf("fresh session: %d", got)
		}
		e.db.TravelTo(start.Add(31 * time.Minute))
		if got := me(idle); got != http.StatusUnauthorized {
			t.Errorf("after 31 idle minutes: %d, want 401", got)
		}

		// Used every 20 minutes it lives on, but not past 12 hours.
		e.db.TravelTo(time.Time{})
		start = time.Now()
		busy := e.login(t, admin.email)
		for at := 20 * time.Minute; at < 12*time.Hour; at += 20 * time.Minute {
			e.db.TravelTo(start.Add(at))
			if got := me(busy); got != http.StatusOK {
				t.Fatalf("session used every 20 minutes, %s after sign-in: %d, want 200", at, got)
			}
		}
		e.db.TravelTo(start.Add(12*time.Hour + time.Minute))
		if got := me(busy); got != http.StatusUnauthorized {
			t.Errorf("12h01 after sign-in, in use: %d, want 401", got)
		}
		// Signing in again works.
		if got := me(e.login(t, admin.email)); got != http.StatusOK {
			t.Errorf("new session after the absolute timeout: %d", got)
		}
	})
}

// csp parses a Content-Security-Policy into its directives.
func csp(header string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(header, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[strings.ToLower(f[0])] = f[1:]
		}
	}
	return out
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, store.SQLite)
	admin := e.signUpAdmin(t)
	admin.createProduct(t, "SEC", "Secure")
	session := e.login(t, admin.email)
	for _, tc := range []struct {
		name string
		c    *client
		path string
	}{
		{"sign-in page", e.anon(), "/login"},
		{"signed-in page", session, "/products/SEC"},
		{"API answer", admin, "/api/v1/products/SEC"},
		{"API error", e.anon(), "/api/v1/me"},
		{"page not found", session, "/no/such/page"},
		{"static file", e.anon(), "/static/app.js"},
	} {
		res := tc.c.get(t, tc.path)
		h := res.header
		policy := h.Get("Content-Security-Policy")
		d := csp(policy)
		if policy == "" {
			t.Errorf("%s: no Content-Security-Policy", tc.name)
			continue
		}
		scripts, ok := d["script-src"]
		if !ok {
			scripts = d["default-src"]
		}
		if len(scripts) == 0 {
			t.Errorf("%s: CSP %q restricts no scripts", tc.name, policy)
		}
		for _, s := range scripts {
			if s == "'unsafe-inline'" || s == "'unsafe-eval'" || s == "*" || s == "data:" || s == "http:" || s == "https:" {
				t.Errorf("%s: CSP script source %s in %q", tc.name, s, policy)
			}
		}
		for _, name := range []string{"object-src", "base-uri", "frame-ancestors"} {
			if got := strings.Join(d[name], " "); got != "'none'" {
				t.Errorf("%s: CSP %s %q, want 'none' (policy %q)", tc.name, name, got, policy)
			}
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", tc.name, got)
		}
		switch got := h.Get("Referrer-Policy"); got {
		case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
		default:
			t.Errorf("%s: Referrer-Policy %q, want one that keeps paths from other sites", tc.name, got)
		}
	}
}

func TestCacheControlNoStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "SEC", "Secure")
		session := e.login(t, admin.email)
		for _, tc := range []struct {
			name string
			c    *client
			path string
		}{
			{"products page", session, "/products"},
			{"product page", session, "/products/SEC"},
			{"backlog page", session, "/products/SEC/backlog"},
			{"API with a token", admin, "/api/v1/products/SEC"},
			{"API list", admin, "/api/v1/products"},
			{"API with a session", session, "/api/v1/me"},
			{"API error", e.anon(), "/api/v1/me"},
			{"API not found", admin, "/api/v1/products/NONE"},
		} {
			res := tc.c.get(t, tc.path)
			if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("%s: GET %s: %d, Cache-Control %q, want no-store", tc.name, tc.path, res.status, cc)
			}
		}
		// Static files stay cacheable.
		if cc := session.get(t, "/static/app.js").header.Get("Cache-Control"); strings.Contains(cc, "no-store") {
			t.Errorf("static file for a signed-in browser: Cache-Control %q", cc)
		}
	})
}

func TestFailedLoginLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		victim := e.newUser(t, "Vic Tim", "victim@example.com")
		t.Cleanup(func() { e.db.TravelTo(time.Time{}) })
		login := func(email, pw string) int {
			return e.anon().post(t, "/api/v1/tokens", map[string]string{"email": email, "password": pw, "name": "t"}).status
		}

		// An attacker guessing for an hour: count the guesses the server
		// actually checked (401) rather than refused unchecked (429).
		start := time.Now()
		checked, refused := 0, 0
		for i := range 300 {
			e.db.TravelTo(start.Add(time.Duration(i) * 12 * time.Second)) // 300 guesses in 60 minutes
			switch got := login(victim.email, fmt.Sprintf("guess %d", i)); got {
			case http.StatusUnauthorized:
				checked++
			case http.StatusTooManyRequests:
				refused++
			default:
				t.Fatalf("guess %d: %d", i, got)
			}
		}
		t.Logf("an hour of guessing: %d guesses checked, %d refused", checked, refused)
		if checked > 100 {
			t.Errorf("%d failed sign-ins checked for one account in an hour, want at most 100", checked)
		}
		if refused == 0 {
			t.Error("no guess was refused")
		}
		// The right password is refused too while the limit holds…
		if got := login(victim.email, password); got != http.StatusTooManyRequests {
			t.Errorf("right password while limited: %d, want 429", got)
		}
		// …another account is not affected…
		if got := login(admin.email, password); got != http.StatusCreated {
			t.Errorf("another account while the victim is limited: %d, want 201", got)
		}
		// …and there is no permanent lock-out: an hour later it works.
		e.db.TravelTo(start.Add(2 * time.Hour))
		if got := login(victim.email, password); got != http.StatusCreated {
			t.Errorf("right password an hour after the guessing stopped: %d, want 201", got)
		}
	})
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// events returns the audit events logged so far.
func (s *syncBuffer) events(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(s.b.String(), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "audit" {
			out = append(out, m)
		}
	}
	return out
}

func TestAuditEvents(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			// newEnv's server, but logging to a buffer.
			logs := &syncBuffer{}
			log := slog.New(slog.NewJSONHandler(logs, nil))
			db := storetest.Open(t, engine)
			a := app.New(db, log)
			ts := httptest.NewUnstartedServer(nil)
			s, err := server.New(a, "http://"+ts.Listener.Addr().String(), log)
			if err != nil {
				t.Fatal(err)
			}
			ts.Config.Handler = s.Handler()
			ts.Start()
			t.Cleanup(ts.Close)
			hc := ts.Client()
			hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			e := &env{engine: engine, db: db, app: a, server: s, url: ts.URL, http: hc}

			admin := e.signUpAdmin(t)
			admin.createProduct(t, "AUD", "Audited")
			viewer := e.newUser(t, "Vera Viewer", "vera@example.com")
			admin.put(t, "/api/v1/products/AUD/members/vera@example.com", map[string]string{"role": "viewer"}).want(t, http.StatusOK)

			find := func(event string, match func(m map[string]any) bool) bool {
				for _, m := range logs.events(t) {
					if m["event"] == event && match(m) {
						return true
					}
				}
				return false
			}
			field := func(k, v string) func(map[string]any) bool {
				return func(m map[string]any) bool { return m[k] == v }
			}

			e.anon().post(t, "/login", url.Values{"email": {"vera@example.com"}, "password": {"wrong"}}).want(t, http.StatusUnauthorized)
			if !find("login_failed", field("email", "vera@example.com")) {
				t.Errorf("no login_failed audit event for a wrong password; audit events: %v", logs.events(t))
			}
			e.login(t, "vera@example.com")
			if !find("login", field("email", "vera@example.com")) {
				t.Errorf("no login audit event for a sign-in; audit events: %v", logs.events(t))
			}
			e.anon().post(t, "/api/v1/tokens", map[string]string{"email": admin.email, "password": password, "name": "cli"}).want(t, http.StatusCreated)
			if !find("login", field("email", admin.email)) {
				t.Errorf("no login audit event for a token sign-in; audit events: %v", logs.events(t))
			}
			viewer.post(t, "/api/v1/products/AUD/stories", map[string]string{"title": "Not allowed"}).want(t, http.StatusForbidden)
			if !find("permission_denied", func(m map[string]any) bool {
				return m["user"] == "vera@example.com" && m["path"] == "/api/v1/products/AUD/stories" && m["method"] == "POST"
			}) {
				t.Errorf("no permission_denied audit event; audit events: %v", logs.events(t))
			}
			admin.patch(t, "/api/v1/settings", map[string]any{"open_signup": true}).want(t, http.StatusOK)
			if !find("admin_action", func(m map[string]any) bool { return m["user"] == admin.email && m["path"] == "/api/v1/settings" }) {
				t.Errorf("no admin_action audit event; audit events: %v", logs.events(t))
			}
		})
	}
}

// hookSink is a local HTTP server that counts the requests it gets.
type hookSink struct {
	*httptest.Server
	hits atomic.Int64
}

func newHookSink(t *testing.T, h http.HandlerFunc) *hookSink {
	s := &hookSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// waitDelivery waits until the webhook has a delivery attempted and
// returns it.
func waitDelivery(t *testing.T, c *client, product string, hook int64) northstar.Delivery {
	t.Helper()
	path := fmt.Sprintf("/api/v1/products/%s/webhooks/%d/deliveries", product, hook)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, d := range list[northstar.Delivery](t, c, path) {
			if d.Attempts > 0 {
				return d
			}
		}
	}
	t.Fatalf("no delivery attempted within 10s")
	return northstar.Delivery{}
}

func TestOutboundRequestsRefusePrivateAddresses(t *testing.T) {
	t.Run("on saving, after DNS resolution", func(t *testing.T) {
		e := newEnv(t, store.SQLite)
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "OUT", "Outbound")
		for _, u := range []string{"http://127.0.0.1/hook", "http://localhost/hook", "http://[::1]/hook", "http://10.0.0.1/hook",
			"http://172.16.0.1/hook", "http://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data", "http://[fd00::1]/hook", "http://0.0.0.0/hook"} {
			admin.post(t, "/api/v1/products/OUT/webhooks", map[string]any{"url": u}).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "url")
		}
	})

	// A webhook saved while private addresses were allowed (or whose name
	// resolves elsewhere later, DNS rebinding) is still refused when the
	// delivery connects: the dialer checks the address it resolved.
	t.Run("on delivery, after DNS resolution", func(t *testing.T) {
		e := newEnv(t, store.SQLite)
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "OUT", "Outbound")
		sink := newHookSink(t, nil)
		e.app.AllowPrivateWebhooks = true
		hookURL := strings.Replace(sink.URL, "127.0.0.1", "localhost", 1) + "/hook"
		var h apiCreatedWebhook
		admin.post(t, "/api/v1/products/OUT/webhooks", map[string]any{"url": hookURL, "events": []string{"story.*"}}).want(t, http.StatusCreated).decode(t, &h)
		e.app.AllowPrivateWebhooks = false
		runWebhooks(t, e.app)
		admin.post(t, "/api/v1/products/OUT/stories", map[string]string{"title": "Triggers a delivery"}).want(t, http.StatusCreated)
		d := waitDelivery(t, admin, "OUT", h.Webhook.ID)
		if d.Status == "delivered" || d.ResponseCode != nil {
			t.Errorf("delivery to %s: %+v, want it refused", hookURL, d)
		}
		if n := sink.hits.Load(); n != 0 {
			t.Errorf("the loopback server got %d requests", n)
		}
		t.Logf("refused delivery: status %q, error %q", d.Status, d.Error)
	})

	t.Run("on redirects", func(t *testing.T) {
		e := newEnv(t, store.SQLite)
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "OUT", "Outbound")
		inside := newHookSink(t, nil)
		outside := newHookSink(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, inside.URL+"/internal", http.StatusTemporaryRedirect)
		})
		e.app.AllowPrivateWebhooks = true // the test's "outside" server is local too
		var h apiCreatedWebhook
		admin.post(t, "/api/v1/products/OUT/webhooks", map[string]any{"url": outside.URL + "/hook", "events": []string{"story.*"}}).want(t, http.StatusCreated).decode(t, &h)
		runWebhooks(t, e.app)
		admin.post(t, "/api/v1/products/OUT/stories", map[string]string{"title": "Triggers a delivery"}).want(t, http.StatusCreated)
		d := waitDelivery(t, admin, "OUT", h.Webhook.ID)
		if outside.hits.Load() == 0 {
			t.Fatalf("the webhook was not called: %+v", d)
		}
		if n := inside.hits.Load(); n != 0 {
			t.Errorf("the redirect was followed to the inside server (%d requests)", n)
		}
		if d.Status == "delivered" {
			t.Errorf("a redirect counted as delivered: %+v", d)
		}
	})
}

// The sign-in provider is called like a webhook: discovery, keys and the
// token exchange refuse loopback and private addresses unless the server
// allows them (--oidc-allow-private); redirects are checked the same way
// (internal/outbound's tests).
func TestSignInProviderRefusesPrivateAddresses(t *testing.T) {
	provider := newHookSink(t, nil)
	for _, allow := range []bool{false, true} {
		before := provider.hits.Load()
		a := app.New(storetest.Open(t, store.SQLite), slog.New(slog.NewTextHandler(io.Discard, nil)))
		oc, err := a.EnableOIDC(app.OIDCConfig{Issuer: provider.URL, ClientID: "northstar", RedirectURL: "http://northstar.test/login/oidc/callback", AllowPrivate: allow})
		if err != nil {
			t.Fatal(err)
		}
		_, err = oc.Discover(context.Background())
		reached := provider.hits.Load() > before
		switch {
		case !allow && (reached || err == nil || !strings.Contains(err.Error(), "loopback or private address")):
			t.Errorf("provider on %s, private addresses refused: reached %v, error %v; want refused before any request", provider.URL, reached, err)
		case allow && !reached:
			t.Errorf("provider on %s, private addresses allowed: not reached (%v)", provider.URL, err)
		}
	}
}

// runWebhooks delivers webhooks in the background until the test ends.
func runWebhooks(t *testing.T, a *app.App) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.RunWebhooks(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}
