package server_test

// The test harness: every scenario starts a real HTTP server (server.New on
// a fresh, migrated database of each engine) and talks to it the way a
// program or a browser would. Fixtures are built in Go so each test reads
// as a story: who signs up, what they create, what they try.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// password is every fixture account's password.
const password = "correct horse battery"

// env is one running Northstar server on its own database.
type env struct {
	engine store.Engine
	db     *store.DB
	app    *app.App
	server *server.Server
	url    string
	http   *http.Client
}

// forEachEngine runs fn as a parallel subtest on a fresh server of every
// engine under test (SQLite always, PostgreSQL when configured).
func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, engine))
		})
	}
}

// newEnv starts a server on a fresh database; both go away with the test.
func newEnv(t *testing.T, engine store.Engine) *env {
	t.Helper()
	db := storetest.Open(t, engine)
	// Only warnings and errors: the request log would drown a failure.
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := app.New(db, log)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	s, err := server.New(a, base, log)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts.Config.Handler = s.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	if ts.URL != base {
		t.Fatalf("server URL = %s, want %s", ts.URL, base)
	}
	hc := ts.Client()
	// Redirects are answers to check, not to follow.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &env{engine: engine, db: db, app: a, server: s, url: ts.URL, http: hc}
}

// snapshot digests every table, to prove later that nothing was written.
func (e *env) snapshot(t *testing.T) map[string]string {
	t.Helper()
	snap, err := e.db.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return snap
}

// wantUnchanged fails if any table differs from the snapshot before.
func (e *env) wantUnchanged(t *testing.T, before map[string]string, what string) {
	t.Helper()
	after := e.snapshot(t)
	for _, table := range slices.Sorted(maps.Keys(after)) {
		if before[table] != after[table] {
			t.Errorf("%s changed table %s:\n  before %s\n  after  %s", what, table, before[table], after[table])
		}
	}
	for table := range before {
		if _, ok := after[table]; !ok {
			t.Errorf("%s dropped table %s", what, table)
		}
	}
}

// client makes requests as one person: anonymous, with an API token, or
// with a browser session cookie.
type client struct {
	env     *env
	name    string
	email   string
	token   string
	session *http.Cookie
	// header is sent with every request (Origin, Sec-Fetch-Site, …).
	header http.Header
}

// anon returns a client that is not signed in.
func (e *env) anon() *client { return &client{env: e, name: "anonymous"} }

// withToken returns a copy of the client that sends the given API token.
func (c *client) withToken(token string) *client {
	cp := *c
	cp.token, cp.session = token, nil
	return &cp
}

// withHeader returns a copy of the client that also sends the header.
func (c *client) withHeader(key, value string) *client {
	cp := *c
	cp.header = c.header.Clone()
	if cp.header == nil {
		cp.header = http.Header{}
	}
	cp.header.Set(key, value)
	return &cp
}

// response is what the server answered.
type response struct {
	req    string // "GET /api/v1/me as Ada", for messages
	status int
	header http.Header
	body   []byte
}

// do sends a request. body may be nil, a string or []byte (sent as is, as
// JSON), url.Values (sent as a form) or anything else (marshalled to JSON).
// headers are key, value pairs. Any 5xx answer fails the test: no request
// from outside may produce one.
func (c *client) do(t *testing.T, method, path string, body any, headers ...string) *response {
	t.Helper()
	var r io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case url.Values:
		r = strings.NewReader(b.Encode())
		contentType = "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal %T: %v", body, err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.env.url+path, r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if len(headers)%2 != 0 {
		t.Fatalf("do: headers must be key, value pairs, got %q", headers)
	}
	for i := 0; i < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.session != nil {
		req.AddCookie(&http.Cookie{Name: c.session.Name, Value: c.session.Value})
	}
	res, err := c.env.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, path, c.name, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s as %s: read body: %v", method, path, c.name, err)
	}
	out := &response{req: method + " " + path + " as " + c.name, status: res.StatusCode, header: res.Header, body: b}
	if out.status >= 500 {
		t.Errorf("%s: got %d, want no 5xx; body: %s", out.req, out.status, short(b))
	}
	return out
}

// Shorthands for the common verbs.
func (c *client) get(t *testing.T, path string, headers ...string) *response {
	t.Helper()
	return c.do(t, "GET", path, nil, headers...)
}

func (c *client) post(t *testing.T, path string, body any, headers ...string) *response {
	t.Helper()
	return c.do(t, "POST", path, body, headers...)
}

func (c *client) patch(t *testing.T, path string, body any, headers ...string) *response {
	t.Helper()
	return c.do(t, "PATCH", path, body, headers...)
}

func (c *client) put(t *testing.T, path string, body any, headers ...string) *response {
	t.Helper()
	return c.do(t, "PUT", path, body, headers...)
}

func (c *client) delete(t *testing.T, path string, headers ...string) *response {
	t.Helper()
	return c.do(t, "DELETE", path, nil, headers...)
}

// short trims a body for a failure message.
func short(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// want fails the test unless the status is the one wanted, and returns r
// so that a check and a decode chain.
func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: got status %d, want %d; body: %s", r.req, r.status, status, short(r.body))
	}
	return r
}

// check is want without stopping the test: for table rows.
func (r *response) check(t *testing.T, status int) bool {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: got status %d, want %d; body: %s", r.req, r.status, status, short(r.body))
		return false
	}
	return true
}

// decode reads the JSON body into v.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, want application/json; body: %s", r.req, ct, short(r.body))
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: decode %T: %v; body: %s", r.req, v, err, short(r.body))
	}
}

// apiError is the JSON error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// wantError checks an error answer: its status, its code, that it has a
// message, and its field ("" means the answer must name no field).
func (r *response) wantError(t *testing.T, status int, code, field string) apiError {
	t.Helper()
	var body struct {
		Error *apiError `json:"error"`
	}
	if !r.check(t, status) {
		return apiError{}
	}
	r.decode(t, &body)
	if body.Error == nil {
		t.Errorf("%s: body has no \"error\" object: %s", r.req, short(r.body))
		return apiError{}
	}
	e := *body.Error
	if e.Code != code {
		t.Errorf("%s: error.code = %q, want %q (message %q)", r.req, e.Code, code, e.Message)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Errorf("%s: error.message is empty", r.req)
	}
	if e.Field != field {
		t.Errorf("%s: error.field = %q, want %q (message %q)", r.req, e.Field, field, e.Message)
	}
	return e
}

// The JSON shapes the tests read.
type (
	user struct {
		ID       int64  `json:"id"`
		Email    string `json:"email"`
		Name     string `json:"name"`
		Admin    bool   `json:"admin"`
		Disabled bool   `json:"disabled"`
	}
	credentials struct {
		User  user   `json:"user"`
		Token string `json:"token"`
	}
	product struct {
		Key         string `json:"key"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Vision      string `json:"vision"`
		Stage       string `json:"stage"`
		Archived    bool   `json:"archived"`
		Version     int    `json:"version"`
		Role        string `json:"role"`
	}
	stageChange struct {
		From  string `json:"from"`
		To    string `json:"to"`
		Note  string `json:"note"`
		Actor string `json:"actor"`
		At    string `json:"at"`
	}
	member struct {
		Email string `json:"email"`
		Name  string `json:"name"`
		Role  string `json:"role"`
	}
	token struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Prefix string `json:"prefix"`
	}
	invitation struct {
		ID      int64  `json:"id"`
		Email   string `json:"email"`
		Product string `json:"product"`
		Role    string `json:"role"`
		URL     string `json:"url"`
	}
)

// page is the JSON shape of every list.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// list GETs a list and returns its items.
func list[T any](t *testing.T, c *client, path string) []T {
	t.Helper()
	var p page[T]
	c.get(t, path).want(t, http.StatusOK).decode(t, &p)
	return p.Items
}

// signUpAdmin signs up the installation's first account through the API;
// it becomes the organization's admin.
func (e *env) signUpAdmin(t *testing.T) *client {
	t.Helper()
	return e.signUp(t, "Ada Admin", "ada@example.com")
}

// signUp signs up through the API (which works for the first account and
// while open sign-up is on) and returns a client with the new token.
func (e *env) signUp(t *testing.T, name, email string) *client {
	t.Helper()
	var cr credentials
	e.anon().post(t, "/api/v1/signup", map[string]string{"name": name, "email": email, "password": password}).
		want(t, http.StatusCreated).decode(t, &cr)
	return &client{env: e, name: name, email: email, token: cr.Token}
}

// newUser creates an account directly through the application, as the
// "northstar user create" command does, and gives it an API token. It is
// the fast way to populate a test; sign-up itself is tested through HTTP.
func (e *env) newUser(t *testing.T, name, email string) *client {
	t.Helper()
	ctx := context.Background()
	u, err := e.app.CreateUser(app.SystemContext(ctx), northstar.NewUser{Name: name, Email: email, Password: password}, false)
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	secret, _, err := e.app.CreateToken(northstar.NewContextWithUser(ctx, u), "test")
	if err != nil {
		t.Fatalf("create token for %s: %v", email, err)
	}
	return &client{env: e, name: name, email: email, token: secret}
}

// login signs in through the web form and returns a client with the
// browser session cookie.
func (e *env) login(t *testing.T, email string) *client {
	t.Helper()
	res := e.anon().post(t, "/login", url.Values{"email": {email}, "password": {password}}).want(t, http.StatusSeeOther)
	c := sessionCookie(t, res)
	if c == nil || c.Value == "" {
		t.Fatalf("%s: no session cookie set; headers %v", res.req, res.header)
	}
	return &client{env: e, name: email + " (session)", email: email, session: c}
}

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(t *testing.T, r *response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "northstar_session" || c.Name == "__Host-northstar_session" { // the second over TLS
			return c
		}
	}
	return nil
}

// createProduct creates a product through the API; the caller becomes its
// product manager.
func (c *client) createProduct(t *testing.T, key, name string) product {
	t.Helper()
	var p product
	c.post(t, "/api/v1/products", map[string]string{"key": key, "name": name}).want(t, http.StatusCreated).decode(t, &p)
	return p
}

// getProduct reads a product through the API.
func (c *client) getProduct(t *testing.T, key string) product {
	t.Helper()
	var p product
	c.get(t, "/api/v1/products/"+key).want(t, http.StatusOK).decode(t, &p)
	return p
}

// setMember gives someone a role in a product through the API.
func (c *client) setMember(t *testing.T, key, email, role string) {
	t.Helper()
	c.put(t, "/api/v1/products/"+key+"/members/"+email, map[string]string{"role": role}).want(t, http.StatusOK)
}

// changeStage moves a product through the API.
func (c *client) changeStage(t *testing.T, key, stage, note string) product {
	t.Helper()
	var p product
	c.post(t, "/api/v1/products/"+key+"/stage", map[string]string{"stage": stage, "note": note}).want(t, http.StatusOK).decode(t, &p)
	return p
}

// team is the usual cast: the admin who set the installation up, one
// person per product role and someone who belongs to no product.
type team struct {
	admin, pm, po, dev, stakeholder, viewer, outsider *client
}

// roles maps each member of the team to the role it gets in products.
func (tm *team) roles() map[*client]string {
	return map[*client]string{
		tm.po: "product_owner", tm.dev: "developer", tm.stakeholder: "stakeholder", tm.viewer: "viewer",
	}
}

// newTeam signs the admin up and creates the other accounts.
func (e *env) newTeam(t *testing.T) *team {
	t.Helper()
	return &team{
		admin:       e.signUpAdmin(t),
		pm:          e.newUser(t, "Pat Manager", "pm@example.com"),
		po:          e.newUser(t, "Olu Owner", "po@example.com"),
		dev:         e.newUser(t, "Dev Eloper", "dev@example.com"),
		stakeholder: e.newUser(t, "Sam Stakeholder", "stakeholder@example.com"),
		viewer:      e.newUser(t, "Vic Viewer", "viewer@example.com"),
		outsider:    e.newUser(t, "Otto Outsider", "outsider@example.com"),
	}
}

// product creates a product managed by the team's PM, with every other
// team member (but the admin and the outsider) in their role.
func (tm *team) product(t *testing.T, key, name string) product {
	t.Helper()
	p := tm.pm.createProduct(t, key, name)
	for c, role := range tm.roles() {
		tm.pm.setMember(t, key, c.email, role)
	}
	return p
}
