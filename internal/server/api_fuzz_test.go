package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// The API fuzz targets send arbitrary bodies and query strings through the
// real handler (middleware, routing, JSON decoding, the app, SQLite) as the
// installation's admin, on a database with one of each kind of object so
// that path parameters name something. No answer may be 5xx, and a panic
// fails the target (the recovery middleware turns one into 500).

// fuzzAPI is a server on a fresh SQLite database with fixtures.
type fuzzAPI struct {
	handler http.Handler
	token   string
	email   string
}

func newFuzzAPI(f *testing.F) *fuzzAPI {
	f.Helper()
	db := storetest.Open(f, store.SQLite)
	log := slog.New(slog.DiscardHandler)
	a := app.New(db, log)
	s, err := server.New(a, "http://northstar.test", log)
	if err != nil {
		f.Fatal(err)
	}
	fz := &fuzzAPI{handler: s.Handler(), email: "fuzz@example.com"}
	var cr credentials
	res := fz.serve("POST", "/api/v1/signup", "", `{"name":"Fuzz Admin","email":"fuzz@example.com","password":"`+password+`"}`)
	if res.Code != http.StatusCreated {
		f.Fatalf("sign up: %d %s", res.Code, res.Body)
	}
	if err := json.Unmarshal(res.Body.Bytes(), &cr); err != nil {
		f.Fatal(err)
	}
	fz.token = cr.Token
	// One of each, so that {key}, {ref} and {id} = 1 name something.
	for _, fx := range []struct{ path, body string }{
		{"/api/v1/products", `{"key":"FZ","name":"Fuzzed"}`},
		{"/api/v1/products/FZ/stories", `{"title":"A story","criteria":["one","two"],"tasks":["a task"],"labels":["x"]}`},
		{"/api/v1/products/FZ/features", `{"title":"A feature"}`},
		{"/api/v1/products/FZ/stories", `{"title":"Another story","points":3}`},
		{"/api/v1/teams", `{"name":"Team","products":["FZ"]}`},
		{"/api/v1/teams/1/sprints", `{"name":"Sprint 1","start":"2026-01-05","end":"2026-01-16"}`},
		{"/api/v1/products/FZ/releases", `{"name":"MVP","target_date":"2026-06-01"}`},
		{"/api/v1/products/FZ/objectives", `{"title":"Grow","start":"2026-01-01","end":"2026-03-31","key_results":[{"name":"Users","start":0,"target":100}]}`},
		{"/api/v1/customers", `{"name":"Customer"}`},
		{"/api/v1/products/FZ/feedback", `{"source":"interview","title":"Said","text":"Something"}`},
		{"/api/v1/products/FZ/personas", `{"name":"Reader"}`},
		{"/api/v1/products/FZ/segments", `{"name":"Schools"}`},
		{"/api/v1/products/FZ/themes", `{"name":"Speed"}`},
		{"/api/v1/stories/FZ-1/comments", `{"body":"A comment"}`},
	} {
		if res := fz.serve("POST", fx.path, "", fx.body); res.Code >= 300 && testing.Verbose() {
			f.Logf("fixture POST %s: %d %s", fx.path, res.Code, res.Body)
		}
	}
	return fz
}

// serve sends one request as the admin straight to the handler.
func (fz *fuzzAPI) serve(method, path, rawQuery, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://northstar.test/", strings.NewReader(body))
	req.URL.Path, req.URL.RawQuery = path, rawQuery
	req.RequestURI = req.URL.RequestURI()
	req.Header.Set("Content-Type", "application/json")
	if fz.token != "" {
		req.Header.Set("Authorization", "Bearer "+fz.token)
	}
	rec := httptest.NewRecorder()
	fz.handler.ServeHTTP(rec, req)
	return rec
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// apiPaths lists the API routes of the given methods with their path
// parameters filled in with the fixtures, leaving out those that take the
// admin's own access away (so that the rest stay reachable) and the event
// stream (which answers forever).
func apiPaths(s *server.Server, methods ...string) (routes [][2]string) {
	values := map[string]string{"{key}": "FZ", "{ref}": "FZ-1", "{email}": "fuzz@example.com", "{secret}": "x", "{n}": "1"}
	for _, rt := range s.Routes() {
		if !strings.HasPrefix(rt.Pattern, "/api/") || !slices.Contains(methods, rt.Method) {
			continue
		}
		switch rt.Pattern {
		case "/api/v1/me/password", "/api/v1/users/{email}", "/api/v1/events":
			continue
		}
		path := pathParam.ReplaceAllStringFunc(rt.Pattern, func(p string) string {
			if v, ok := values[p]; ok {
				return v
			}
			return "1"
		})
		if strings.HasPrefix(rt.Pattern, "/api/v1/features/{ref}") {
			path = strings.Replace(path, "FZ-1", "FZ-3", 1)
		}
		routes = append(routes, [2]string{rt.Method, path})
	}
	return routes
}

// routesServer builds the route list once; Routes needs a server, not a
// database.
func routesServer(f *testing.F) *server.Server {
	f.Helper()
	db := storetest.Open(f, store.SQLite)
	s, err := server.New(app.New(db, slog.New(slog.DiscardHandler)), "http://northstar.test", slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// FuzzAPIBody sends arbitrary bytes as the JSON body of every API route
// that takes one (POST, PATCH, PUT).
func FuzzAPIBody(f *testing.F) {
	fz := newFuzzAPI(f)
	routes := apiPaths(routesServer(f), "POST", "PATCH", "PUT")
	if len(routes) < 50 {
		f.Fatalf("only %d routes with a body", len(routes))
	}
	bodies := []string{
		`{}`, ``, `null`, `[]`, `{"title":"x"}`, `{"title":"` + strings.Repeat("é", 300) + `"}`,
		`{"title":"x","points":3,"status":"ready","labels":["a","b"],"criteria":["c"]}`,
		`{"position":"top"}`, `{"before":"FZ-2"}`, `{"name":"n","key":"K1"}`, `{"text":"\u0000"}`,
		`{"title":1e999}`, `{"title":"x","title":"y"}`, `{"points":-1}`, `{"points":null}`,
		`{"start":"2026-02-30","end":"0000-00-00"}`, `{"url":"http://127.0.0.1/"}`, `{"body":"<script>"}`,
		`{"refs":["FZ-1","FZ-9999"],"status":"done"}`, `{"role":"admin"}`, `{"columns":[{"name":""}]}`,
		"\xff\xfe{}", `{"a":` + strings.Repeat(`[`, 2000), `{"title":"x"} trailing`,
	}
	for i := range routes {
		f.Add(uint8(i), []byte(bodies[i%len(bodies)]))
		f.Add(uint8(i), []byte(`{}`))
	}
	for i, b := range bodies {
		f.Add(uint8(i*7), []byte(b))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		res := fz.serve(rt[0], rt[1], "", string(body))
		if res.Code >= 500 {
			t.Fatalf("%s %s with body %q: %d %s", rt[0], rt[1], body, res.Code, res.Body)
		}
	})
}

// FuzzAPIQuery sends arbitrary query strings (filters, limits, cursors) to
// every GET route of the API.
func FuzzAPIQuery(f *testing.F) {
	fz := newFuzzAPI(f)
	routes := apiPaths(routesServer(f), "GET")
	// A real cursor to start from.
	var p page[json.RawMessage]
	res := fz.serve("GET", "/api/v1/products/FZ/stories", "limit=1", "")
	if err := json.Unmarshal(res.Body.Bytes(), &p); err != nil || p.NextCursor == "" {
		f.Fatalf("no cursor from the first page: %v %s", err, res.Body)
	}
	queries := []string{
		"", "limit=1", "limit=0", "limit=-1", "limit=201", "limit=99999999999999999999", "limit=1.5",
		"cursor=" + url.QueryEscape(p.NextCursor), "limit=1&cursor=" + url.QueryEscape(p.NextCursor),
		"cursor=%%", "cursor=AAAA", "cursor=" + strings.Repeat("A", 5000), "cursor=%00",
		"status=new,ready&type=bug", "status=nope", "assignee=none", "label=x", "q=story", "q=%ff%fe",
		"unestimated=true", "ready=false", "ready=maybe", "from=2026-01-01&to=2025-01-01", "weeks=-3",
		"include=stories&sort=-rank", "q=" + strings.Repeat("a", 1000), "a=1&a=2&a=3",
	}
	for i := range routes {
		f.Add(uint8(i), queries[i%len(queries)])
	}
	for i, q := range queries {
		f.Add(uint8(i*5), q)
	}
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		rt := routes[int(route)%len(routes)]
		// A raw query that net/http would not pass on is not ours to test.
		if strings.ContainsAny(query, " #\r\n\x00") {
			query = url.PathEscape(query)
		}
		res := fz.serve(rt[0], rt[1], query, "")
		if res.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", rt[0], rt[1], query, res.Code, res.Body)
		}
	})
}
