package server_test

// Sign-in with OpenID Connect, driven through the real web handlers
// against a fake provider started inside the test: discovery, JWKS with an
// RSA key made here, an authorization endpoint that "signs in" whoever the
// test says, and a token endpoint that checks the code, the PKCE verifier
// and the client's credentials before it issues a signed ID token.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

const (
	oidcClientID     = "northstar-test"
	oidcClientSecret = "s3cret/with+signs"
)

// person is who is signed in at the fake provider.
type person struct {
	Sub           string
	Email         string
	EmailVerified any // bool, or a string as some providers send
	Name          string
}

// fakeProvider is an OpenID Connect provider for tests.
type fakeProvider struct {
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	key    *rsa.PrivateKey
	kid    string
	old    []jwk // keys still published after a rotation
	who    person
	codes  map[string]grant
	tamper func(header, claims map[string]any) // changes the next ID tokens
	signer *rsa.PrivateKey                     // signs instead of key when set
	quiet  bool                                // do not fail the test on bad requests
}

// grant is what an authorization code stands for.
type grant struct {
	who         person
	nonce       string
	challenge   string
	redirectURI string
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func newRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicJWK(kid string, k *rsa.PrivateKey) jwk {
	return jwk{Kty: "RSA", Kid: kid, Use: "sig", Alg: "RS256",
		N: base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}

func newFakeProvider(t testing.TB) *fakeProvider {
	t.Helper()
	p := &fakeProvider{t: t, key: newRSAKey(t), kid: "key-1", codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.srv.URL,
			"authorization_endpoint":                p.srv.URL + "/authorize",
			"token_endpoint":                        p.srv.URL + "/token",
			"jwks_uri":                              p.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported":      []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"keys": append([]jwk{publicJWK(p.kid, p.key)}, p.old...)})
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// authorize signs the current person in and sends the browser back.
func (p *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": oidcClientID, "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			p.fail("authorize: %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") || !strings.Contains(q.Get("scope"), "email") {
		p.fail("authorize: scope %q lacks openid or email", q.Get("scope"))
	}
	for _, k := range []string{"state", "nonce", "code_challenge", "redirect_uri"} {
		if q.Get(k) == "" {
			p.fail("authorize: no %s", k)
		}
	}
	code := base64.RawURLEncoding.EncodeToString(randomBytes(16))
	p.mu.Lock()
	p.codes[code] = grant{who: p.who, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
	p.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// fail reports a request a real provider would refuse; the fuzz target
// turns it off, since it sends such requests on purpose.
func (p *fakeProvider) fail(format string, args ...any) {
	if !p.quiet {
		p.t.Errorf(format, args...)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func tokenError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// token exchanges a code for an ID token, checking what a real provider
// checks.
func (p *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if id, _ = url.QueryUnescape(id); true {
		secret, _ = url.QueryUnescape(secret)
	}
	if !ok || id != oidcClientID || secret != oidcClientSecret {
		tokenError(w, "invalid_client", "bad client credentials")
		p.fail("token: client %q/%q", id, secret)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, "invalid_request", "bad form")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	code := r.PostForm.Get("code")
	g, found := p.codes[code]
	delete(p.codes, code) // one use only
	if !found {
		tokenError(w, "invalid_grant", "unknown or used code")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		tokenError(w, "invalid_grant", "PKCE verifier does not match")
		p.fail("token: PKCE verifier does not match the challenge")
		return
	}
	if r.PostForm.Get("redirect_uri") != g.redirectURI {
		tokenError(w, "invalid_grant", "redirect_uri differs")
		p.fail("token: redirect_uri %q, want %q", r.PostForm.Get("redirect_uri"), g.redirectURI)
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.srv.URL, "sub": g.who.Sub, "aud": oidcClientID, "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": g.who.Email, "email_verified": g.who.EmailVerified, "name": g.who.Name,
	}
	header := map[string]any{"alg": "RS256", "typ": "JWT", "kid": p.kid}
	if p.tamper != nil {
		p.tamper(header, claims)
	}
	signer := p.key
	if p.signer != nil {
		signer = p.signer
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300,
		"id_token": signJWT(signer, header, claims)})
}

// signJWT signs an RS256 JWT. It panics on failure, which only a broken
// key could cause (and the provider's handler runs in the server's
// goroutine, where a test may not call Fatal).
func signJWT(k *rsa.PrivateKey, header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// signInAs sets who the provider signs in, and how it spoils the tokens.
func (p *fakeProvider) signInAs(who person, tamper func(header, claims map[string]any), signer *rsa.PrivateKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.who, p.tamper, p.signer = who, tamper, signer
}

// rotate starts signing with a new key; the old one stays published when
// keepOld is true.
func (p *fakeProvider) rotate(t testing.TB, kid string, keepOld bool) {
	k := newRSAKey(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	if keepOld {
		p.old = append(p.old, publicJWK(p.kid, p.key))
	} else {
		p.old = nil
	}
	p.key, p.kid = k, kid
}

// newOIDCEnv starts a server with OpenID Connect sign-in through p.
func newOIDCEnv(t testing.TB, engine store.Engine, p *fakeProvider, configure func(*app.OIDCConfig)) *env {
	t.Helper()
	db := storetest.Open(t, engine)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	a := app.New(db, log)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg := app.OIDCConfig{Issuer: p.srv.URL, ClientID: oidcClientID, ClientSecret: oidcClientSecret,
		RedirectURL: base + "/login/oidc/callback", Name: "Fake IdP", AllowPrivate: true} // the fake provider is on loopback
	if configure != nil {
		configure(&cfg)
	}
	if _, err := a.EnableOIDC(cfg); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(a, base, log)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = s.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	hc := ts.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &env{engine: engine, db: db, app: a, server: s, url: ts.URL, http: hc}
}

// forEachOIDCEngine runs fn on every engine with a fresh provider and
// server.
func forEachOIDCEngine(t *testing.T, configure func(*app.OIDCConfig), fn func(t *testing.T, e *env, p *fakeProvider)) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			p := newFakeProvider(t)
			fn(t, newOIDCEnv(t, engine, p, configure), p)
		})
	}
}

// oidcAttempt is one trip through the sign-in.
type oidcAttempt struct {
	next        string
	spoil       func(q url.Values) // changes the query the provider sent back
	dropCookie  bool
	expiredFlow bool
}

// signInOIDC goes through the whole sign-in as a browser would and
// returns the callback's answer.
func (e *env) signInOIDC(t *testing.T, p *fakeProvider, a oidcAttempt) *response {
	t.Helper()
	start := "/login/oidc"
	if a.next != "" {
		start += "?next=" + url.QueryEscape(a.next)
	}
	res := e.anon().get(t, start).want(t, http.StatusFound)
	var flow *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "northstar_oidc" {
			flow = c
		}
	}
	if flow == nil || !flow.HttpOnly || flow.Path != "/login/oidc" || flow.MaxAge <= 0 || flow.MaxAge > 600 || flow.SameSite != http.SameSiteLaxMode {
		t.Fatalf("sign-in start set no proper flow cookie: %+v", flow)
	}
	loc := res.header.Get("Location")
	if !strings.HasPrefix(loc, p.srv.URL+"/authorize?") {
		t.Fatalf("sign-in start sends to %q, not the provider", loc)
	}
	// At the provider.
	pr, err := e.http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	back, err := url.Parse(pr.Header.Get("Location"))
	if err != nil || pr.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %d %q", pr.StatusCode, pr.Header.Get("Location"))
	}
	if !strings.HasPrefix(back.String(), e.url+"/login/oidc/callback?") {
		t.Fatalf("provider sends back to %q", back)
	}
	q := back.Query()
	if a.spoil != nil {
		a.spoil(q)
	}
	c := e.anon()
	if !a.dropCookie {
		value := flow.Value
		if a.expiredFlow {
			value = expireFlowCookie(t, value)
		}
		c = c.withHeader("Cookie", "northstar_oidc="+value)
	}
	return c.get(t, "/login/oidc/callback?"+q.Encode())
}

// expireFlowCookie rewrites the cookie's expiry into the past, as a browser
// that keeps cookies too long would send it.
func expireFlowCookie(t *testing.T, v string) string {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["e"] = time.Now().Add(-time.Minute).Unix()
	b, _ = json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

// wantSignedIn checks that the callback started a session for email and
// sent the browser to next.
func (e *env) wantSignedIn(t *testing.T, res *response, email, next string) *client {
	t.Helper()
	if res.status != http.StatusSeeOther || res.header.Get("Location") != next {
		t.Fatalf("%s: %d to %q, want 303 to %q; body %s", res.req, res.status, res.header.Get("Location"), next, short(res.body))
	}
	sc := sessionCookie(t, res)
	if sc == nil || sc.Value == "" {
		t.Fatalf("%s: no session cookie", res.req)
	}
	c := &client{env: e, name: email + " (oidc)", email: email, session: sc}
	var me northstar.User
	c.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
	if me.Email != email {
		t.Fatalf("signed in as %q, want %q", me.Email, email)
	}
	return c
}

// wantRefused checks that the callback refused with status and a message
// containing want, and started no session.
func (e *env) wantRefused(t *testing.T, what string, res *response, status int, want string) {
	t.Helper()
	if res.status != status {
		t.Errorf("%s: status %d, want %d; body %s", what, res.status, status, short(res.body))
	}
	if sc := sessionCookie(t, res); sc != nil && sc.Value != "" {
		t.Errorf("%s: a session was started", what)
	}
	if body := html.UnescapeString(string(res.body)); !strings.Contains(body, want) {
		t.Errorf("%s: the page does not say %q:\n%s", what, want, short(res.body))
	}
}

func TestOIDCSignIn(t *testing.T) {
	forEachOIDCEngine(t, nil, func(t *testing.T, e *env, p *fakeProvider) {
		admin := e.signUpAdmin(t)
		e.newUser(t, "Bo Developer", "bo@example.com")

		// The login page offers the provider.
		page := e.anon().get(t, "/login?next=/products/BOOK").want(t, http.StatusOK)
		if !strings.Contains(string(page.body), "Sign in with Fake IdP") || !strings.Contains(string(page.body), `href="/login/oidc?next=%2fproducts%2fBOOK"`) {
			t.Errorf("the login page has no proper \"Sign in with\" button:\n%s", short(page.body))
		}

		// An existing account is matched by its verified address and kept
		// linked to the provider's subject.
		p.signInAs(person{Sub: "bo-123", Email: "Bo@Example.com", EmailVerified: true, Name: "Bo"}, nil, nil)
		bo := e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{next: "/products"}), "bo@example.com", "/products")
		p.signInAs(person{Sub: "bo-123", Email: "bo.renamed@example.com", EmailVerified: "true", Name: "Bo"}, nil, nil)
		e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "bo@example.com", "/products")
		// An outside "next" is not followed.
		e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{next: "//evil.example/x"}), "bo@example.com", "/products")

		// Someone already signed in is not sent to the provider again.
		if res := bo.get(t, "/login/oidc?next=/products/BOOK").want(t, http.StatusSeeOther); res.header.Get("Location") != "/products/BOOK" {
			t.Errorf("signed in, /login/oidc sends to %q", res.header.Get("Location"))
		}

		// Key rotation: a token signed with a new key verifies once the
		// provider publishes it.
		p.rotate(t, "key-2", false)
		e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "bo@example.com", "/products")

		// Someone without an account is refused while accounts are by
		// invitation, and gets one when open sign-up is on.
		newcomer := person{Sub: "cy-9", Email: "cy@example.com", EmailVerified: true, Name: "Cy Newcomer"}
		p.signInAs(newcomer, nil, nil)
		users := len(list[northstar.User](t, admin, "/api/v1/users"))
		e.wantRefused(t, "no account", e.signInOIDC(t, p, oidcAttempt{}), http.StatusForbidden, "no Northstar account for cy@example.com")
		if n := len(list[northstar.User](t, admin, "/api/v1/users")); n != users {
			t.Errorf("a refused sign-in created an account: %d users, want %d", n, users)
		}
		admin.patch(t, "/api/v1/settings", map[string]any{"open_signup": true}).want(t, http.StatusOK)
		cy := e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "cy@example.com", "/products")
		var me northstar.User
		cy.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
		if me.Name != "Cy Newcomer" || me.Admin {
			t.Errorf("created account %+v, want name Cy Newcomer and no admin", me)
		}
		// It has no password to sign in with.
		e.anon().post(t, "/login", url.Values{"email": {"cy@example.com"}, "password": {"correct horse battery"}}).want(t, http.StatusUnauthorized)

		// A disabled account is refused, linked or not.
		admin.patch(t, "/api/v1/users/bo@example.com", map[string]any{"disabled": true}).want(t, http.StatusOK)
		p.signInAs(person{Sub: "bo-123", Email: "bo@example.com", EmailVerified: true}, nil, nil)
		e.wantRefused(t, "disabled, linked", e.signInOIDC(t, p, oidcAttempt{}), http.StatusUnauthorized, "disabled")
		p.signInAs(person{Sub: "bo-other", Email: "bo@example.com", EmailVerified: true}, nil, nil)
		e.wantRefused(t, "disabled, by address", e.signInOIDC(t, p, oidcAttempt{}), http.StatusUnauthorized, "disabled")
	})
}

func TestOIDCRefusals(t *testing.T) {
	forEachOIDCEngine(t, nil, func(t *testing.T, e *env, p *fakeProvider) {
		e.signUpAdmin(t)
		e.newUser(t, "Dee", "dee@example.com")
		dee := person{Sub: "dee-1", Email: "dee@example.com", EmailVerified: true, Name: "Dee"}
		otherKey := newRSAKey(t)
		set := func(k string, v any) func(h, c map[string]any) {
			return func(h, c map[string]any) { c[k] = v }
		}
		tests := []struct {
			name    string
			who     person
			tamper  func(h, c map[string]any)
			signer  *rsa.PrivateKey
			attempt oidcAttempt
			status  int
			want    string
		}{
			{name: "wrong nonce", tamper: set("nonce", "someone-elses-nonce"), status: 401, want: "nonce mismatch"},
			{name: "no nonce", tamper: func(h, c map[string]any) { delete(c, "nonce") }, status: 401, want: "nonce mismatch"},
			{name: "wrong audience", tamper: set("aud", "another-app"), status: 401, want: "meant for another application"},
			{name: "several audiences, no azp", tamper: set("aud", []string{oidcClientID, "another-app"}), status: 401, want: "another application"},
			{name: "wrong issuer", tamper: set("iss", "https://evil.example"), status: 401, want: "not by the configured provider"},
			{name: "expired token", tamper: func(h, c map[string]any) {
				c["iat"], c["exp"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-10*time.Minute).Unix()
			}, status: 401, want: "expired"},
			{name: "issued in the future", tamper: set("iat", time.Now().Add(time.Hour).Unix()), status: 401, want: "in the future"},
			{name: "no expiry", tamper: func(h, c map[string]any) { delete(c, "exp") }, status: 401, want: "lacks an expiry"},
			{name: "bad signature", signer: otherKey, status: 401, want: "signature is not valid"},
			{name: "unknown key id", tamper: func(h, c map[string]any) { h["kid"] = "no-such-key" }, status: 401, want: `key ID "no-such-key"`},
			{name: "alg none", tamper: func(h, c map[string]any) { h["alg"] = "none" }, status: 401, want: "only RS256"},
			{name: "alg HS256", tamper: func(h, c map[string]any) { h["alg"] = "HS256" }, status: 401, want: "only RS256"},
			{name: "unverified e-mail", who: person{Sub: "dee-1", Email: "dee@example.com", EmailVerified: false}, status: 401, want: "not verified"},
			{name: "e-mail verified as text false", who: person{Sub: "dee-1", Email: "dee@example.com", EmailVerified: "false"}, status: 401, want: "not verified"},
			{name: "no e-mail", who: person{Sub: "dee-1", EmailVerified: true}, status: 401, want: "did not share your e-mail"},
			{name: "state mismatch", attempt: oidcAttempt{spoil: func(q url.Values) { q.Set("state", "forged") }}, status: 401, want: "state mismatch"},
			{name: "no state", attempt: oidcAttempt{spoil: func(q url.Values) { q.Del("state") }}, status: 401, want: "state mismatch"},
			{name: "no flow cookie", attempt: oidcAttempt{dropCookie: true}, status: 401, want: "not started in this browser"},
			{name: "expired flow", attempt: oidcAttempt{expiredFlow: true}, status: 401, want: "longer than 10 minutes"},
			{name: "forged code", attempt: oidcAttempt{spoil: func(q url.Values) { q.Set("code", "forged") }}, status: 401, want: "refused the sign-in code"},
			{name: "no code", attempt: oidcAttempt{spoil: func(q url.Values) { q.Del("code") }}, status: 401, want: "no sign-in code"},
			{name: "provider refused", attempt: oidcAttempt{spoil: func(q url.Values) {
				q.Del("code")
				q.Set("error", "access_denied")
				q.Set("error_description", "The user said no\x00<script>")
			}}, status: 401, want: "cancelled or refused at the provider: The user said no <script>"},
		}
		before := e.snapshot(t)
		for _, tt := range tests {
			who := dee
			if tt.who != (person{}) {
				who = tt.who
			}
			p.signInAs(who, tt.tamper, tt.signer)
			res := e.signInOIDC(t, p, tt.attempt)
			e.wantRefused(t, tt.name, res, tt.status, tt.want)
			if strings.Contains(string(res.body), "<script>") {
				t.Errorf("%s: the provider's text is not escaped", tt.name)
			}
		}
		e.wantUnchanged(t, before, "refused sign-ins")

		// A code is good once: the browser's back button does not sign in
		// twice.
		p.signInAs(dee, nil, nil)
		start := e.anon().get(t, "/login/oidc").want(t, http.StatusFound)
		cookie := ""
		for _, c := range (&http.Response{Header: start.header}).Cookies() {
			if c.Name == "northstar_oidc" {
				cookie = c.Value
			}
		}
		pr, err := e.http.Get(start.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		pr.Body.Close()
		back, _ := url.Parse(pr.Header.Get("Location"))
		c := e.anon().withHeader("Cookie", "northstar_oidc="+cookie)
		e.wantSignedIn(t, c.get(t, back.RequestURI()), "dee@example.com", "/products")
		e.wantRefused(t, "code used twice", c.get(t, back.RequestURI()), 401, "refused the sign-in code")

		// A key the provider rotated out no longer verifies; its
		// replacement does, and so does the old one while still published.
		p.signInAs(dee, nil, nil)
		p.rotate(t, "key-2", true)
		e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "dee@example.com", "/products")
	})
}

func TestOIDCAllowedDomainsAndCreation(t *testing.T) {
	forEachOIDCEngine(t, func(c *app.OIDCConfig) {
		c.AllowedDomains = []string{"Example.com", " corp.example "}
		c.CreateUsers = true
	}, func(t *testing.T, e *env, p *fakeProvider) {
		// The installation's first account may come through the provider;
		// it becomes the admin, as the first sign-up does.
		p.signInAs(person{Sub: "1", Email: "first@example.com", EmailVerified: true, Name: "First"}, nil, nil)
		first := e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "first@example.com", "/products")
		var me northstar.User
		first.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
		if !me.Admin {
			t.Error("the first account is not an admin")
		}
		// With account creation on, others get plain accounts.
		p.signInAs(person{Sub: "2", Email: "second@corp.example", EmailVerified: true}, nil, nil)
		second := e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "second@corp.example", "/products")
		second.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
		if me.Admin || me.Name != "second" {
			t.Errorf("second account %+v: want no admin, name from the address", me)
		}
		// Other domains may not sign in.
		p.signInAs(person{Sub: "3", Email: "mallory@evil.example", EmailVerified: true}, nil, nil)
		e.wantRefused(t, "other domain", e.signInOIDC(t, p, oidcAttempt{}), http.StatusForbidden, "Accounts of evil.example may not sign in")
		p.signInAs(person{Sub: "4", Email: "x@sub.example.com", EmailVerified: true}, nil, nil)
		e.wantRefused(t, "subdomain", e.signInOIDC(t, p, oidcAttempt{}), http.StatusForbidden, "may not sign in")
	})
}

// TestOIDCClaimsAndAdminGroup checks configurable claim names, trusted
// addresses and the group that makes org admins.
func TestOIDCClaimsAndAdminGroup(t *testing.T) {
	forEachOIDCEngine(t, func(c *app.OIDCConfig) {
		c.EmailClaim, c.NameClaim, c.TrustEmail = "upn", "display_name", true
		c.AdminGroup, c.GroupsClaim = "northstar-admins", "roles"
		c.CreateUsers = true
	}, func(t *testing.T, e *env, p *fakeProvider) {
		e.signUpAdmin(t)
		directory := func(upn, display string, roles ...string) func(h, c map[string]any) {
			return func(h, c map[string]any) {
				delete(c, "email_verified")
				c["upn"], c["display_name"], c["roles"] = upn, display, roles
			}
		}
		p.signInAs(person{Sub: "e1"}, directory("Eve@Example.com", "Eve Directory"), nil)
		eve := e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "eve@example.com", "/products")
		var me northstar.User
		eve.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
		if me.Name != "Eve Directory" || me.Admin {
			t.Errorf("account %+v: want the name claim's name and no admin", me)
		}
		// In the admin group at the next sign-in: an org admin.
		p.signInAs(person{Sub: "e1"}, directory("eve@example.com", "Eve", "readers", "northstar-admins"), nil)
		eve = e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "eve@example.com", "/products")
		eve.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
		if !me.Admin {
			t.Error("a member of the admin group is not an org admin")
		}
		// The standard e-mail claim is not read when another is named.
		p.signInAs(person{Sub: "e2", Email: "x@example.com", EmailVerified: true}, nil, nil)
		e.wantRefused(t, "no upn", e.signInOIDC(t, p, oidcAttempt{}), http.StatusUnauthorized, "did not share your e-mail")
	})
}

// TestOIDCNotConfigured checks that without a provider there is no button
// and the routes lead back to the sign-in form.
func TestOIDCNotConfigured(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		if page := e.anon().get(t, "/login").want(t, http.StatusOK); strings.Contains(string(page.body), "/login/oidc") {
			t.Error("the login page offers a provider that is not configured")
		}
		for _, path := range []string{"/login/oidc", "/login/oidc/callback?code=x&state=y"} {
			res := e.anon().get(t, path).want(t, http.StatusSeeOther)
			if res.header.Get("Location") != "/login" || !strings.Contains(res.header.Get("Set-Cookie"), "not+configured") {
				t.Errorf("GET %s: to %q with %q, want /login with a message", path, res.header.Get("Location"), res.header.Get("Set-Cookie"))
			}
		}
	})
}

// TestOIDCProviderDown checks that a provider that cannot be reached is a
// clear message, not a 5xx.
func TestOIDCProviderDown(t *testing.T) {
	p := newFakeProvider(t)
	e := newOIDCEnv(t, store.SQLite, p, nil)
	p.srv.Close()
	res := e.anon().get(t, "/login/oidc")
	e.wantRefused(t, "provider down", res, http.StatusUnprocessableEntity, "not available right now")
}

// FuzzOIDCCallback sends arbitrary callback queries and flow cookies
// through the whole handler: it must never panic nor answer 5xx. The
// seeds include a real flow, so the fuzzer starts from a query that gets
// as far as the token exchange.
func FuzzOIDCCallback(f *testing.F) {
	p := newFakeProvider(f)
	p.signInAs(person{Sub: "fz", Email: "fz@example.com", EmailVerified: true}, nil, nil)
	e := newOIDCEnv(f, store.SQLite, p, func(c *app.OIDCConfig) { c.CreateUsers = true })
	h := e.server.Handler()
	serve := func(query, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/login/oidc/callback", nil)
		req.URL.RawQuery = query
		if cookie != "" {
			req.Header["Cookie"] = []string{"northstar_oidc=" + cookie}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// A real start and a trip to the provider give a valid cookie and
	// query.
	start := httptest.NewRecorder()
	h.ServeHTTP(start, httptest.NewRequest("GET", "/login/oidc", nil))
	var cookie string
	for _, c := range start.Result().Cookies() {
		if c.Name == "northstar_oidc" {
			cookie = c.Value
		}
	}
	pr, err := e.http.Get(start.Header().Get("Location"))
	if err != nil {
		f.Fatal(err)
	}
	pr.Body.Close()
	back, err := url.Parse(pr.Header.Get("Location"))
	if err != nil || cookie == "" {
		f.Fatalf("no flow to start from: %v", err)
	}
	p.quiet = true
	f.Add(back.RawQuery, cookie)
	f.Add(back.RawQuery, "")
	f.Add("state=x&code=y", cookie)
	f.Add("error=access_denied&error_description=%ff%00", cookie)
	f.Add("state=%zz&code", "%%%")
	f.Add(strings.Repeat("a=b&", 1000), strings.Repeat("A", 3000))
	f.Add("", "eyJmIjp7fX0")
	f.Fuzz(func(t *testing.T, query, cookie string) {
		rec := serve(query, cookie)
		if rec.Code >= 500 {
			t.Fatalf("callback ?%q with cookie %q: %d %s", query, cookie, rec.Code, rec.Body.String())
		}
	})
}
