package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
)

// The OpenAPI document lists exactly the routes the server answers under
// /api/ plus the health checks, each with the path parameters it uses.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	forEachEngine(t, testOpenAPIMatchesRoutes)
}

func testOpenAPIMatchesRoutes(t *testing.T, e *env) {
	res := e.anon().get(t, "/api/v1/openapi.json").want(t, http.StatusOK)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage
	}
	res.decode(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}

	type operation struct {
		Parameters []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Responses map[string]json.RawMessage `json:"responses"`
		Security  []map[string][]string      `json:"security"`
	}
	documented := map[string]operation{}
	pathParams := map[string][]string{} // declared once for a whole path
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				var ps []struct {
					Name string `json:"name"`
					In   string `json:"in"`
				}
				if err := json.Unmarshal(raw, &ps); err != nil {
					t.Fatalf("%s parameters: %v", path, err)
				}
				for _, p := range ps {
					if p.In == "path" {
						pathParams[path] = append(pathParams[path], p.Name)
					}
				}
				continue
			}
			if method == "summary" || method == "description" || method == "servers" {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			documented[strings.ToUpper(method)+" "+path] = op
		}
	}

	routed := map[string]bool{}
	for _, rt := range e.server.Routes() {
		if strings.HasPrefix(rt.Pattern, "/api/") || rt.Pattern == "/healthz" || rt.Pattern == "/readyz" {
			routed[rt.Method+" "+rt.Pattern] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(routed)) {
		if _, ok := documented[k]; !ok {
			t.Errorf("route %s is not in the OpenAPI document", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(documented)) {
		if !routed[k] {
			t.Errorf("the OpenAPI document describes %s, which the server does not route", k)
		}
	}
	if len(routed) == 0 {
		t.Fatal("no API routes found")
	}

	wildcard := regexp.MustCompile(`\{([^}]+)\}`)
	for _, k := range slices.Sorted(maps.Keys(documented)) {
		op := documented[k]
		_, path, _ := strings.Cut(k, " ")
		declared := slices.Clone(pathParams[path])
		for _, p := range op.Parameters {
			if p.In == "path" {
				declared = append(declared, p.Name)
			}
		}
		var used []string
		for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
			used = append(used, m[1])
		}
		slices.Sort(declared)
		slices.Sort(used)
		if !slices.Equal(declared, used) {
			t.Errorf("%s: path parameters declared %v, used in the path %v", k, declared, used)
		}
		if len(op.Responses) == 0 {
			t.Errorf("%s: no responses documented", k)
		}
	}
}

// The operations the document marks as open to anonymous callers
// (security: [{}]) are exactly the API routes that do not answer 401 to
// an anonymous request.
func TestOpenAPISecurityMatchesRoutes(t *testing.T) {
	forEachEngine(t, testOpenAPISecurityMatchesRoutes)
}

func testOpenAPISecurityMatchesRoutes(t *testing.T, e *env) {
	admin := e.signUpAdmin(t)
	admin.createProduct(t, "BOOK", "Book inventory")
	var doc struct {
		Paths map[string]map[string]struct {
			Security *[]map[string][]string `json:"security"`
		}
	}
	e.anon().get(t, "/api/v1/openapi.json").want(t, http.StatusOK).decode(t, &doc)
	values := map[string]string{"key": "BOOK", "email": "ada@example.com", "id": "1", "ref": "BOOK-1", "kr": "1", "insight": "1", "column": "1", "secret": "rm_unknown"}
	for _, rt := range e.server.APIRoutes() {
		op := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]
		anonymous := op.Security != nil && slices.ContainsFunc(*op.Security, func(s map[string][]string) bool { return len(s) == 0 })
		res := e.anon().do(t, rt.Method, fillPattern(t, rt.Pattern, values), "{}")
		if got := res.status != http.StatusUnauthorized; got != anonymous {
			t.Errorf("%s %s: documented open to anonymous callers: %v, but answered %d", rt.Method, rt.Pattern, anonymous, res.status)
		}
	}
}

// No GET route changes anything: every one of them, with real values for
// its parameters, signed in as an admin (by session cookie and by token)
// and anonymously, leaves every table as it was. This is what makes the
// CSRF protection (which lets GET through) sound.
// walkSeed holds what the GET walk fills route patterns with: values by
// parameter name, {id} values by the collection before them, and query
// strings some routes need.
type walkSeed struct {
	values, ids, required map[string]string
}

// walkSeeders let each area's test file seed items for the GET walk and
// add their path values (register them in an init function).
var walkSeeders []func(t *testing.T, e *env, tm *team, seed *walkSeed)

func TestGETRoutesChangeNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.pm.changeStage(t, "BOOK", "growth", "")
		tm.pm.changeStage(t, "BOOK", "development", "Relaunch.")
		tm.admin.createProduct(t, "EBOOK", "Ebooks")
		tm.admin.patch(t, "/api/v1/settings", map[string]bool{"open_signup": true}).want(t, http.StatusOK)
		var inv invitation
		tm.admin.post(t, "/api/v1/invitations", map[string]string{"email": "new@example.com", "product": "BOOK", "role": "developer"}).
			want(t, http.StatusCreated).decode(t, &inv)
		_, secret, _ := strings.Cut(inv.URL, "/invitations/")
		tokens := list[token](t, tm.admin, "/api/v1/tokens")
		if len(tokens) == 0 {
			t.Fatal("the admin has no token")
		}
		// A story with a criterion and a task, so that the story pages
		// have a real {ref} to show.
		ctx := context.Background()
		pm, err := e.app.UserByToken(ctx, tm.pm.token)
		if err != nil {
			t.Fatal(err)
		}
		story, err := e.app.CreateStory(northstar.NewContextWithUser(ctx, pm), "BOOK",
			northstar.NewStory{Title: "Scan a barcode", Criteria: []string{"It beeps"}, Tasks: []string{"Camera access"}})
		if err != nil {
			t.Fatal(err)
		}
		// Discovery: a persona and a segment, a company objective and a
		// product objective rolling up to it with a checked-in key
		// result, a customer, an interview linked to an idea, and an open
		// portal with an end user's idea, a vote and a comment.
		persona := decodeAs[apiPersona](t, tm.pm.post(t, "/api/v1/products/BOOK/personas", map[string]string{"name": "Shop owner"}).want(t, http.StatusCreated))
		segment := decodeAs[apiSegment](t, tm.pm.post(t, "/api/v1/products/BOOK/segments", map[string]string{"name": "Independents"}).want(t, http.StatusCreated))
		company := decodeAs[apiObjective](t, tm.admin.post(t, "/api/v1/objectives", map[string]string{"title": "Grow", "start": "2026-01-01", "end": "2026-12-31"}).
			want(t, http.StatusCreated))
		objective := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{
			"title": "Win shops", "start": "2026-01-01", "end": "2026-06-30", "parent_id": company.ID,
			"key_results": []map[string]any{{"name": "Shops", "start": 0, "target": 10}},
		}).want(t, http.StatusCreated))
		kr := objective.KeyResults[0].ID
		tm.pm.post(t, fmt.Sprintf("/api/v1/objectives/%d/key-results/%d/check-ins", objective.ID, kr), map[string]any{"value": 4}).want(t, http.StatusCreated)
		customer := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]string{"name": "Ana", "email": "ana@example.com", "segment": "Independent"}).
			want(t, http.StatusCreated))
		feedback := decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{
			"source": "interview", "text": "We count stock by hand.", "customer_id": customer.ID,
			"insights": []map[string]string{{"passage": "count stock", "new_idea": "Stock counts"}},
		}).want(t, http.StatusCreated))
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true, "intro": "Ideas welcome"}).want(t, http.StatusOK)
		idea := e.submitIdea(t, "BOOK", "Dark mode", "reader@example.com")
		e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/votes", idea.ID), map[string]string{"email": "fan@example.com"}).want(t, http.StatusCreated)
		e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/comments", idea.ID), map[string]string{"body": "+1", "email": "fan@example.com"}).
			want(t, http.StatusCreated)

		values := map[string]string{
			"key":     "BOOK",
			"secret":  secret,
			"id":      strconv.FormatInt(tokens[0].ID, 10),
			"email":   "dev@example.com",
			"ref":     story.Ref,
			"kr":      strconv.FormatInt(kr, 10),
			"insight": strconv.FormatInt(feedback.Insights[0].ID, 10),
			// The web pages name their ids after what they are.
			"feedback": strconv.FormatInt(feedback.ID, 10),
			"idea":     strconv.FormatInt(idea.ID, 10),
		}
		// {id} names a different item in each collection: the path
		// segment before it says which.
		ids := map[string]string{
			"tokens":     strconv.FormatInt(tokens[0].ID, 10),
			"objectives": strconv.FormatInt(objective.ID, 10),
			"customers":  strconv.FormatInt(customer.ID, 10),
			"feedback":   strconv.FormatInt(feedback.ID, 10),
			"ideas":      strconv.FormatInt(idea.ID, 10),
			"personas":   strconv.FormatInt(persona.ID, 10),
			"segments":   strconv.FormatInt(segment.ID, 10),
		}
		// Query parameters some GET routes cannot do without.
		required := map[string]string{"/api/v1/search": "q=scan"}
		// Other areas seed their own items and path values.
		seed := &walkSeed{values: values, ids: ids, required: required}
		for _, seeder := range walkSeeders {
			seeder(t, e, tm, seed)
		}

		// Every GET route, plus a few with query parameters.
		var paths []string
		for _, rt := range e.server.Routes() {
			if rt.Method != "GET" {
				continue
			}
			path := fillPattern(t, withIDs(rt.Pattern, ids), values)
			if q, ok := required[rt.Pattern]; ok {
				path += "?" + q
			}
			if strings.HasSuffix(rt.Pattern, "/") && rt.Pattern != "/" {
				path += "app.css" // a subtree: ask for a real file in it
			}
			paths = append(paths, path)
		}
		paths = append(paths,
			"/products?archived=1",
			"/api/v1/products?archived=true&limit=1",
			"/api/v1/products/book",
			"/static/app.css?v=1",
			"/api/v1/products/BOOK/stories?status=new,ready&type=story,task&assignee=none&label=x&unestimated=true&ready=false&q=scan&limit=1",
			"/api/v1/products/BOOK/stories?limit=1&cursor="+base64.RawURLEncoding.EncodeToString([]byte(story.Rank)),
			"/api/v1/stories/"+strings.ToLower(story.Ref),
			"/api/v1/search?q=barcode&limit=50",
			"/products/BOOK/backlog?view=refinement&q=scan&status=new&type=story&assignee=none&label=x&unestimated=1",
			"/products/BOOK/backlog?after=zzz",
			"/products/BOOK/stories/"+story.Ref+"?panel=1",
			fmt.Sprintf("/api/v1/products/BOOK/feedback?source=interview&status=triaged&customer=%d&segment=independent&linked=true&q=stock&limit=1", customer.ID),
			"/api/v1/products/BOOK/feedback?linked=false&limit=1&cursor="+base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(feedback.ID+1, 10))),
			"/api/v1/customers?q=ana&limit=1",
			"/api/v1/customers?limit=1&cursor="+base64.RawURLEncoding.EncodeToString([]byte("1:A")),
			fmt.Sprintf("/api/v1/objectives/%d", company.ID),
			"/api/v1/portal/book",
		)

		session := e.login(t, "ada@example.com")
		callers := []struct {
			who *client
			// ok says which statuses a caller must get: signed in,
			// every page works; anonymous, pages send to the login
			// page and the API refuses.
			ok func(status int) bool
		}{
			{session, func(s int) bool { return s < 400 }},
			{tm.admin, func(s int) bool { return s < 400 }},
			{e.anon(), func(s int) bool { return s < 400 || s == http.StatusUnauthorized }},
		}
		for _, c := range callers {
			t.Run(c.who.name, func(t *testing.T) {
				before := e.snapshot(t)
				for _, path := range paths {
					res := c.who.get(t, path)
					if !c.ok(res.status) {
						t.Errorf("%s: got %d; body: %s", res.req, res.status, short(res.body))
					}
				}
				e.wantUnchanged(t, before, fmt.Sprintf("GET routes as %s", c.who.name))
			})
		}
		// The walk covered real pages, not just redirects and 404s.
		res := session.get(t, "/products/BOOK").want(t, http.StatusOK)
		if !strings.Contains(string(res.body), "Book inventory") {
			t.Errorf("GET /products/BOOK does not show the product")
		}
		// The portal idea kept its votes and comments, the objective its
		// version: reading counts nothing.
		if got := decodeAs[apiPublicIdea](t, e.anon().get(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d", idea.ID)).want(t, http.StatusOK)); got.Votes != 2 || len(got.Comments) != 1 {
			t.Errorf("portal idea after the walk = %+v", got)
		}
		// The invitation survived being looked at.
		if invs := list[invitation](t, tm.admin, "/api/v1/invitations"); len(invs) != 1 {
			t.Errorf("%d invitations after the walk, want 1", len(invs))
		}
	})
}

// withIDs fills each {id}, {ref} and {secret} of a pattern with the value
// that ids holds for the collection named by the path segment before it
// ("features" for /api/v1/features/{ref}), leaving the other wildcards
// (and those of other collections) to fillPattern.
func withIDs(pattern string, ids map[string]string) string {
	segs := strings.Split(pattern, "/")
	for i := 1; i < len(segs); i++ {
		if segs[i] == "{id}" || segs[i] == "{ref}" || segs[i] == "{secret}" {
			if id, ok := ids[segs[i-1]]; ok {
				segs[i] = id
			}
		}
	}
	return strings.Join(segs, "/")
}

// CSRF: browsers' cross-site posts are refused even with a valid session;
// API clients with a token and no browser headers are not.
func TestCrossOriginProtection(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		session := e.login(t, "ada@example.com")
		form := func(key string) url.Values {
			return url.Values{"key": {key}, "name": {"Product " + key}, "stage": {"conceived"}}
		}

		refused := []struct {
			name  string
			who   *client
			path  string
			body  any
			key   string
			extra []string
		}{
			{"web form, Sec-Fetch-Site cross-site", session, "/products", form("EVIL1"), "EVIL1", []string{"Sec-Fetch-Site", "cross-site"}},
			{"web form, Sec-Fetch-Site same-site", session, "/products", form("EVIL2"), "EVIL2", []string{"Sec-Fetch-Site", "same-site"}},
			{"web form, foreign Origin", session, "/products", form("EVIL3"), "EVIL3", []string{"Origin", "http://evil.example"}},
			{"API with session, foreign Origin", session, "/api/v1/products", map[string]string{"key": "EVIL4", "name": "x"}, "EVIL4", []string{"Origin", "http://evil.example"}},
			{"logout, cross-site", session, "/logout", url.Values{}, "", []string{"Sec-Fetch-Site", "cross-site"}},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := tc.who.post(t, tc.path, tc.body, tc.extra...)
				res.check(t, http.StatusForbidden)
				e.wantUnchanged(t, before, tc.name)
			})
		}
		// The session survived the refused logout.
		session.get(t, "/api/v1/me").want(t, http.StatusOK)

		allowed := []struct {
			name   string
			who    *client
			path   string
			body   any
			status int
			extra  []string
		}{
			{"web form, same origin", session, "/products", form("SAME1"), http.StatusSeeOther, []string{"Origin", e.url, "Sec-Fetch-Site", "same-origin"}},
			{"web form, no browser headers", session, "/products", form("SAME2"), http.StatusSeeOther, nil},
			{"API with token, no browser headers", admin, "/api/v1/products", map[string]string{"key": "API1", "name": "x"}, http.StatusCreated, nil},
			{"API with token, same origin", admin, "/api/v1/products", map[string]string{"key": "API2", "name": "x"}, http.StatusCreated, []string{"Origin", e.url}},
		}
		for _, tc := range allowed {
			t.Run(tc.name, func(t *testing.T) {
				tc.who.post(t, tc.path, tc.body, tc.extra...).check(t, tc.status)
			})
		}
		var keys []string
		for _, p := range list[product](t, admin, "/api/v1/products") {
			keys = append(keys, p.Key)
		}
		if want := []string{"API1", "API2", "SAME1", "SAME2"}; !slices.Equal(keys, want) {
			t.Errorf("products = %v, want %v", keys, want)
		}
	})
}

// The session cookie is HttpOnly, SameSite=Lax and for the whole site;
// logging out ends the session on the server, not only in the browser.
func TestSessionCookie(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.signUpAdmin(t)
		cases := []struct {
			name       string
			header     []string
			wantSecure bool
		}{
			{"plain HTTP", nil, false},
			{"behind a TLS proxy", []string{"X-Forwarded-Proto", "https"}, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := e.anon().post(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {password}}, tc.header...).
					want(t, http.StatusSeeOther)
				c := sessionCookie(t, res)
				if c == nil {
					t.Fatalf("no session cookie in %v", res.header["Set-Cookie"])
				}
				if !c.HttpOnly {
					t.Errorf("HttpOnly = false, want true")
				}
				if c.SameSite != http.SameSiteLaxMode {
					t.Errorf("SameSite = %v, want Lax", c.SameSite)
				}
				if c.Path != "/" {
					t.Errorf("Path = %q, want /", c.Path)
				}
				if c.Secure != tc.wantSecure {
					t.Errorf("Secure = %v, want %v", c.Secure, tc.wantSecure)
				}
				if c.MaxAge <= 0 {
					t.Errorf("Max-Age = %d, want a lasting session", c.MaxAge)
				}
				if loc := res.header.Get("Location"); loc != "/products" {
					t.Errorf("after login: Location %q, want /products", loc)
				}
			})
		}

		session := e.login(t, "ada@example.com")
		other := e.login(t, "ada@example.com")
		session.get(t, "/api/v1/me").want(t, http.StatusOK)
		session.get(t, "/products").want(t, http.StatusOK)

		res := session.post(t, "/logout", url.Values{}).want(t, http.StatusSeeOther)
		if c := sessionCookie(t, res); c == nil || c.MaxAge >= 0 {
			t.Errorf("logout does not clear the cookie: %v", res.header["Set-Cookie"])
		}
		// The old cookie, replayed, no longer works anywhere.
		session.get(t, "/api/v1/me").wantError(t, http.StatusUnauthorized, "unauthorized", "")
		res = session.get(t, "/products").want(t, http.StatusSeeOther)
		if loc := res.header.Get("Location"); !strings.HasPrefix(loc, "/login") {
			t.Errorf("GET /products after logout: Location %q, want the login page", loc)
		}
		// Only that session ended.
		other.get(t, "/api/v1/me").want(t, http.StatusOK)

		// A wrong password sets no cookie.
		res = e.anon().post(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}})
		res.check(t, http.StatusUnauthorized)
		if sessionCookie(t, res) != nil {
			t.Errorf("a failed login set a session cookie")
		}
	})
}

// Health checks answer without signing in.
func TestHealth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, tc := range []struct{ path, status string }{{"/healthz", "ok"}, {"/readyz", "ready"}} {
			var body struct {
				Status string `json:"status"`
			}
			e.anon().get(t, tc.path).want(t, http.StatusOK).decode(t, &body)
			if body.Status != tc.status {
				t.Errorf("GET %s: status %q, want %q", tc.path, body.Status, tc.status)
			}
		}
	})
}

// After signing in, the login page sends people only to paths on this
// site: a "next" that a browser would read as another host is ignored.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.signUpAdmin(t)
		session := e.login(t, "ada@example.com")
		cases := []struct {
			next, want string
		}{
			{"/products/BOOK", "/products/BOOK"},
			{"/account?tab=tokens", "/account?tab=tokens"},
			{"https://evil.example/", "/products"},
			{"//evil.example/", "/products"},
			{`/\evil.example/`, "/products"},
			// Browsers drop tabs and newlines from URLs, so these
			// would become //evil.example.
			{"/\t/evil.example/", "/products"},
			{"/\n/evil.example/", "/products"},
			{"/\r/evil.example/", "/products"},
			{"\t//evil.example/", "/products"},
		}
		for _, tc := range cases {
			t.Run(strconv.Quote(tc.next), func(t *testing.T) {
				q := url.Values{"next": {tc.next}}.Encode()
				res := session.get(t, "/login?"+q).want(t, http.StatusSeeOther)
				if got := res.header.Get("Location"); got != tc.want {
					t.Errorf("signed in, GET /login?next=%q: Location %q, want %q", tc.next, got, tc.want)
				}
				res = e.anon().post(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {password}, "next": {tc.next}}).
					want(t, http.StatusSeeOther)
				if got := res.header.Get("Location"); got != tc.want {
					t.Errorf("POST /login next=%q: Location %q, want %q", tc.next, got, tc.want)
				}
			})
		}
	})
}
