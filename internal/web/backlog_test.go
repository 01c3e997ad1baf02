package web_test

// The backlog pages over HTTP, as a browser with and without htmx sends
// them: edit conflicts, what each role is shown and may do, paging, the
// quick-add and moves without JavaScript. The browser test in internal/e2e
// drives the same pages in Chromium.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

type site struct {
	url string
	app *app.App
}

// newSite serves the demo accounts and products, without their work, on a
// fresh database.
func newSite(t *testing.T, e store.Engine) *site {
	t.Helper()
	return newSeededSite(t, e, (*app.App).SeedDemoAccounts)
}

// newDemoSite serves the whole demo: accounts, products and their work.
func newDemoSite(t *testing.T, e store.Engine) *site {
	t.Helper()
	return newSeededSite(t, e, (*app.App).SeedDemo)
}

func newSeededSite(t *testing.T, e store.Engine, seed func(*app.App, context.Context, func(string)) (bool, error)) *site {
	t.Helper()
	db := storetest.Open(t, e)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(db, log)
	if _, err := seed(a, context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	srv, err := server.New(a, "http://"+ts.Listener.Addr().String(), log)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &site{url: ts.URL, app: a}
}

// as returns the context of a demo user, for changes made "elsewhere".
func (s *site) as(t *testing.T, email string) context.Context {
	t.Helper()
	ctx := context.Background()
	users, err := s.app.Users(app.SystemContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Email == email {
			return northstar.NewContextWithUser(ctx, u)
		}
	}
	t.Fatalf("no user %s", email)
	return nil
}

// browser is one signed-in person; htmx says whether requests come from
// htmx (HX-Request) or from plain forms.
type browser struct {
	t    *testing.T
	site *site
	c    *http.Client
}

func (s *site) login(t *testing.T, email string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, site: s, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if res := b.do("POST", "/login", url.Values{"email": {email}, "password": {app.DemoPassword}}, nil); res.status != http.StatusSeeOther {
		t.Fatalf("login %s: %d", email, res.status)
	}
	return b
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, headers map[string]string) answer {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.site.url+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		b.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
	}
	return answer{res.StatusCode, res.Header, string(out)}
}

func (b *browser) get(path string) answer { b.t.Helper(); return b.do("GET", path, nil, nil) }

var htmx = map[string]string{"HX-Request": "true"}

func (b *browser) hx(path string, form url.Values) answer {
	b.t.Helper()
	return b.do("POST", path, form, htmx)
}

var versionRE = regexp.MustCompile(`name="version" value="(\d+)"`)

// version reads the version the story's forms carry.
func (b *browser) version(ref string) string {
	b.t.Helper()
	m := versionRE.FindStringSubmatch(b.get("/products/BOOK/stories/" + ref).body)
	if m == nil {
		b.t.Fatalf("no version on %s", ref)
	}
	return m[1]
}

func createStories(t *testing.T, s *site, titles ...string) []*northstar.Story {
	t.Helper()
	ctx := s.as(t, "po@northstar.test")
	var out []*northstar.Story
	for _, title := range titles {
		st, err := s.app.CreateStory(ctx, "BOOK", northstar.NewStory{Title: title})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

func order(t *testing.T, s *site) []string {
	t.Helper()
	stories, err := s.app.Stories(s.as(t, "po@northstar.test"), "BOOK", northstar.StoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, st := range stories {
		refs = append(refs, st.Ref)
	}
	return refs
}

func want(t *testing.T, a answer, status int, contains ...string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status %d, want %d; body: %.400s", a.status, status, a.body)
	}
	for _, c := range contains {
		if !strings.Contains(a.body, c) {
			t.Errorf("the answer does not contain %q", c)
		}
	}
}

func wantNot(t *testing.T, a answer, absent ...string) {
	t.Helper()
	for _, c := range absent {
		if strings.Contains(a.body, c) {
			t.Errorf("the answer contains %q", c)
		}
	}
}

// A save over someone else's newer change is refused with 409 and shows
// their value next to the one typed; "overwrite" carries the new version.
func TestStoryEditConflict(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSite(t, e)
			createStories(t, s, "Scan a barcode")
			po := s.login(t, "po@northstar.test")
			v := po.version("BOOK-1")

			// The product manager renames it in the meantime.
			title := "Scan a barcode or type the ISBN"
			if _, err := s.app.UpdateStory(s.as(t, "pm@northstar.test"), "BOOK-1", 0, northstar.StoryUpdate{Title: &title}); err != nil {
				t.Fatal(err)
			}
			res := po.hx("/products/BOOK/stories/BOOK-1", url.Values{"version": {v}, "section": {"title"}, "title": {"Scan any barcode"}, "panel": {"1"}})
			want(t, res, http.StatusConflict, `class="conflict"`, "Priya Patel changed this story", "Scan a barcode or type the ISBN", "Scan any barcode",
				"Overwrite with mine", "Discard mine", `<input type="hidden" name="title" value="Scan any barcode">`)
			st, _ := s.app.Story(s.as(t, "po@northstar.test"), "BOOK-1")
			if st.Title != title {
				t.Fatalf("the conflicting save changed the title to %q", st.Title)
			}
			newVersion := strconv.Itoa(st.Version)
			if !strings.Contains(res.body, `<input type="hidden" name="version" value="`+newVersion+`">`) {
				t.Errorf("the overwrite form does not carry the current version %s", newVersion)
			}
			// Overwrite with mine: the same fields with the current version.
			res = po.hx("/products/BOOK/stories/BOOK-1", url.Values{"version": {newVersion}, "section": {"title"}, "title": {"Scan any barcode"}, "panel": {"1"}})
			want(t, res, http.StatusOK, `>Scan any barcode</textarea>`, `data-ref="BOOK-1" hx-swap-oob="true"`)
			wantNot(t, res, `class="conflict"`)

			// Criteria forms carry the version too: marking one met over a
			// newer version asks as well.
			v = po.version("BOOK-1")
			po.hx("/products/BOOK/stories/BOOK-1/criteria", url.Values{"version": {v}, "text": {"It beeps"}})
			st, _ = s.app.Story(s.as(t, "po@northstar.test"), "BOOK-1")
			id := strconv.FormatInt(st.Criteria[0].ID, 10)
			res = po.hx("/products/BOOK/stories/BOOK-1/criteria/"+id, url.Values{"version": {v}, "met": {"true"}})
			want(t, res, http.StatusConflict, `class="conflict"`, "It beeps")

			// Without htmx a conflict is the whole page, with the same box.
			res = po.do("POST", "/products/BOOK/stories/BOOK-1", url.Values{"version": {v}, "section": {"meta"}, "points": {"5"}}, nil)
			want(t, res, http.StatusConflict, "<!doctype html>", `class="conflict"`, "Points")
		})
	}
}

// Each role sees the controls it may use; the server refuses the rest.
func TestBacklogRoles(t *testing.T) {
	s := newSite(t, store.SQLite)
	createStories(t, s, "One", "Two", "Three")

	po := s.login(t, "po@northstar.test")
	res := po.get("/products/BOOK/backlog")
	want(t, res, http.StatusOK, `class="drag-handle"`, `class="move-form move-top"`, `id="quick-add-top"`, `id="quick-add-bottom"`, `data-sortable="true"`)
	res = po.get("/products/BOOK/stories/BOOK-1")
	want(t, res, http.StatusOK, `id="story-title-input"`, `id="new-criterion"`, `class="button primary accept-button"`, `/delete"`)

	dev := s.login(t, "dev@northstar.test")
	res = dev.get("/products/BOOK/backlog")
	want(t, res, http.StatusOK, "One", "Two", "Three")
	wantNot(t, res, `class="drag-handle"`, "move-form", "quick-add", "data-sortable")
	res = dev.get("/products/BOOK/stories/BOOK-1")
	want(t, res, http.StatusOK, `id="prop-status"`, `id="prop-points"`, `id="prop-assignee"`, `id="new-task"`)
	wantNot(t, res, `id="story-title-input"`, `id="new-criterion"`, "accept-button", "/delete", `id="prop-type"`, `id="prop-labels"`, `id="story-persona"`)
	before := order(t, s)
	res = dev.hx("/products/BOOK/stories/BOOK-3/move", url.Values{"position": {"top"}})
	want(t, res, http.StatusForbidden)
	res = dev.do("POST", "/products/BOOK/stories/BOOK-3/move", url.Values{"position": {"top"}}, nil)
	want(t, res, http.StatusForbidden)
	res = dev.hx("/products/BOOK/stories/BOOK-1", url.Values{"version": {dev.version("BOOK-1")}, "section": {"title"}, "title": {"Mine now"}})
	want(t, res, http.StatusForbidden, "form-error")
	res = dev.hx("/products/BOOK/stories/BOOK-1", url.Values{"version": {dev.version("BOOK-1")}, "section": {"meta"}, "points": {"3"}})
	want(t, res, http.StatusOK, `<option value="3" selected>`)
	res = dev.hx("/products/BOOK/stories/BOOK-1", url.Values{"version": {dev.version("BOOK-1")}, "section": {"accept"}, "accepted": {"true"}})
	want(t, res, http.StatusForbidden)
	if got := order(t, s); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("order after the developer's refused moves: %v, want %v", got, before)
	}

	viewer := s.login(t, "viewer@northstar.test")
	res = viewer.get("/products/BOOK/stories/BOOK-1")
	want(t, res, http.StatusOK, "One")
	detail := res.body[strings.Index(res.body, `id="story-detail"`):]
	wantNot(t, answer{body: detail}, "hx-post", `method="post"`)
	res = viewer.get("/products/BOOK/backlog")
	wantNot(t, res, "quick-add", "drag-handle", "move-form")

	// The description preview renders Markdown, sanitised, and changes nothing.
	res = viewer.hx("/products/BOOK/markdown-preview", url.Values{"description": {"**bold** <script>alert(1)</script> [x](javascript:alert(1))"}})
	want(t, res, http.StatusOK, "<strong>bold</strong>")
	wantNot(t, res, "<script", "javascript:")
	want(t, viewer.hx("/products/NOPE/markdown-preview", url.Values{"description": {"x"}}), http.StatusNotFound)

	// A ref of another product, or none at all, is not found.
	want(t, po.get("/products/EBOOK/stories/BOOK-1"), http.StatusNotFound)
	want(t, po.get("/products/BOOK/stories/BOOK-99"), http.StatusNotFound)
	want(t, po.get("/products/BOOK/stories/nonsense"), http.StatusNotFound)
}

// The quick-add answers htmx with the new row, or the message next to
// the input; plain forms go back to the backlog.
func TestQuickAddAndMoveWithoutJavaScript(t *testing.T) {
	s := newSite(t, store.SQLite)
	po := s.login(t, "po@northstar.test")
	res := po.hx("/products/BOOK/stories", url.Values{"title": {"First"}, "position": {"bottom"}})
	want(t, res, http.StatusOK, `<li class="story-row just-added" id="story-BOOK-1" data-ref="BOOK-1">`, "First")
	res = po.hx("/products/BOOK/stories", url.Values{"title": {"  "}, "position": {"top"}})
	want(t, res, http.StatusBadRequest, "form-error", "title")
	if got := res.header.Get("HX-Retarget"); got != "#quick-add-top-error" {
		t.Errorf("HX-Retarget %q, want the top quick-add's error", got)
	}
	res = po.hx("/products/BOOK/stories", url.Values{"title": {strings.Repeat("x", 301)}, "position": {"bottom"}})
	want(t, res, http.StatusBadRequest, "title")

	res = po.do("POST", "/products/BOOK/stories", url.Values{"title": {"Second"}, "position": {"top"}, "next": {"/products/BOOK/backlog?view=refinement"}}, nil)
	want(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/products/BOOK/backlog?view=refinement#story-BOOK-2" {
		t.Errorf("after a plain quick-add: Location %q", loc)
	}
	if got := fmt.Sprint(order(t, s)); got != "[BOOK-2 BOOK-1]" {
		t.Fatalf("order %s", got)
	}
	// "next" never leaves the site.
	res = po.do("POST", "/products/BOOK/stories", url.Values{"title": {"Third"}, "next": {"//evil.example/"}}, nil)
	if loc := res.header.Get("Location"); !strings.HasPrefix(loc, "/products/BOOK/backlog") {
		t.Errorf("Location %q, want the backlog", loc)
	}

	// The move buttons as plain forms.
	res = po.do("POST", "/products/BOOK/stories/BOOK-3/move", url.Values{"position": {"top"}, "next": {"/products/BOOK/backlog"}}, nil)
	want(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/products/BOOK/backlog#story-BOOK-3" {
		t.Errorf("after a plain move: Location %q", loc)
	}
	po.do("POST", "/products/BOOK/stories/BOOK-2/move", url.Values{"after": {"BOOK-1"}}, nil)
	if got := fmt.Sprint(order(t, s)); got != "[BOOK-3 BOOK-1 BOOK-2]" {
		t.Fatalf("order after the moves %s", got)
	}
	// A move that cannot be made is a message, and nothing moves.
	res = po.do("POST", "/products/BOOK/stories/BOOK-2/move", url.Values{"after": {"BOOK-2"}}, nil)
	want(t, res, http.StatusSeeOther)
	res = po.hx("/products/BOOK/stories/BOOK-2/move", url.Values{"before": {"EBOOK-1"}})
	want(t, res, http.StatusUnprocessableEntity, "another product")
	res = po.hx("/products/BOOK/stories/BOOK-2/move", url.Values{})
	want(t, res, http.StatusBadRequest)
	if got := fmt.Sprint(order(t, s)); got != "[BOOK-3 BOOK-1 BOOK-2]" {
		t.Fatalf("order after refused moves %s", got)
	}
}

// Fifty stories a page; "load more" continues after the last rank shown.
func TestBacklogPages(t *testing.T) {
	s := newSite(t, store.SQLite)
	var titles []string
	for i := 1; i <= 120; i++ {
		titles = append(titles, fmt.Sprintf("Story number %d", i))
	}
	createStories(t, s, titles...)
	po := s.login(t, "po@northstar.test")
	rows := regexp.MustCompile(`<li class="story-row[^"]*" id="story-(BOOK-\d+)"`)
	more := regexp.MustCompile(`hx-get="([^"]+)" hx-target="#load-more"`)

	res := po.get("/products/BOOK/backlog")
	var seen []string
	for page := 1; ; page++ {
		for _, m := range rows.FindAllStringSubmatch(res.body, -1) {
			seen = append(seen, m[1])
		}
		m := more.FindStringSubmatch(res.body)
		if m == nil {
			break
		}
		if page > 5 {
			t.Fatal("too many pages")
		}
		next := strings.ReplaceAll(m[1], "&amp;", "&")
		res = po.do("GET", next, nil, map[string]string{"HX-Request": "true", "HX-Target": "load-more"})
		want(t, res, http.StatusOK, `hx-swap-oob="beforeend:#backlog-list"`)
		wantNot(t, res, "<!doctype html>")
	}
	if len(seen) != 120 || seen[0] != "BOOK-1" || seen[49] != "BOOK-50" || seen[50] != "BOOK-51" || seen[119] != "BOOK-120" {
		t.Errorf("paging showed %d stories: %v … %v", len(seen), seen[:3], seen[len(seen)-3:])
	}

	// Filters through htmx answer with the list only, and keep the tab.
	res = po.do("GET", "/products/BOOK/backlog?q=number+7&view=refinement", nil, map[string]string{"HX-Request": "true", "HX-Target": "backlog-results"})
	want(t, res, http.StatusOK, `id="backlog-results"`, "backlog-list refinement", "Story number 7")
	wantNot(t, res, "<!doctype html>")
	// Unknown filter values are ignored, not an empty backlog.
	res = po.get("/products/BOOK/backlog?status=bogus&type=nope")
	want(t, res, http.StatusOK, "Story number 1")
	res = po.get("/products/BOOK/backlog?q=" + url.QueryEscape(strings.Repeat("q", 201)))
	want(t, res, http.StatusBadRequest, "too long")
}
