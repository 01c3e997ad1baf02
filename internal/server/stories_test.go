package server_test

// Scenario tests of the backlog API: stories, their order, criteria and
// tasks, bulk updates and search, through HTTP on every engine.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/northstar-pm/northstar"
)

// The JSON shapes of the backlog API, as the tests read them.
type (
	apiUserRef struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	apiCriterion struct {
		ID   int64  `json:"id"`
		Text string `json:"text"`
		Met  bool   `json:"met"`
	}
	apiTask struct {
		ID       int64       `json:"id"`
		Text     string      `json:"text"`
		Done     bool        `json:"done"`
		Assignee *apiUserRef `json:"assignee"`
	}
	apiStory struct {
		Ref           string         `json:"ref"`
		Product       string         `json:"product"`
		Number        int            `json:"number"`
		Type          string         `json:"type"`
		Title         string         `json:"title"`
		Persona       string         `json:"persona"`
		Want          string         `json:"want"`
		Benefit       string         `json:"benefit"`
		Description   string         `json:"description"`
		Points        *int           `json:"points"`
		Status        string         `json:"status"`
		Accepted      bool           `json:"accepted"`
		AcceptedBy    *apiUserRef    `json:"accepted_by"`
		Assignee      *apiUserRef    `json:"assignee"`
		Labels        []string       `json:"labels"`
		Rank          string         `json:"rank"`
		Criteria      []apiCriterion `json:"criteria"`
		Tasks         []apiTask      `json:"tasks"`
		CreatedBy     *apiUserRef    `json:"created_by"`
		UpdatedBy     *apiUserRef    `json:"updated_by"`
		Version       int            `json:"version"`
		Sentence      string         `json:"sentence"`
		Ready         bool           `json:"ready"`
		ReadyProblems []string       `json:"ready_problems"`
		CriteriaMet   int            `json:"criteria_met"`
		TasksDone     int            `json:"tasks_done"`
	}
	searchHit struct {
		Ref     string  `json:"ref"`
		Product string  `json:"product"`
		Kind    string  `json:"kind"`
		Title   string  `json:"title"`
		Type    string  `json:"type"`
		Status  string  `json:"status"`
		Score   float64 `json:"score"`
	}
)

// createStory creates a story through the API. body is a title or a JSON
// object.
func (c *client) createStory(t *testing.T, key string, body any) apiStory {
	t.Helper()
	if title, ok := body.(string); ok {
		body = map[string]any{"title": title}
	}
	var s apiStory
	c.post(t, "/api/v1/products/"+key+"/stories", body).want(t, http.StatusCreated).decode(t, &s)
	return s
}

// getStory reads a story through the API.
func (c *client) getStory(t *testing.T, ref string) apiStory {
	t.Helper()
	var s apiStory
	c.get(t, "/api/v1/stories/"+ref).want(t, http.StatusOK).decode(t, &s)
	return s
}

// backlogRefs lists the refs of a product's backlog in order, following
// every page; query holds filters.
func (c *client) backlogRefs(t *testing.T, key, query string) []string {
	t.Helper()
	refs := []string{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("more than 100 pages of %s?%s", key, query)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p page[apiStory]
		c.get(t, "/api/v1/products/"+key+"/stories?"+q.Encode()).want(t, http.StatusOK).decode(t, &p)
		for _, s := range p.Items {
			refs = append(refs, s.Ref)
		}
		if p.NextCursor == "" {
			return refs
		}
		cursor = p.NextCursor
	}
}

func refsOf(ss []apiStory) []string {
	refs := make([]string, len(ss))
	for i, s := range ss {
		refs[i] = s.Ref
	}
	return refs
}

// bookRefs names BOOK's stories by number.
func bookRefs(ns ...int) []string {
	refs := make([]string, len(ns))
	for i, n := range ns {
		refs[i] = fmt.Sprintf("BOOK-%d", n)
	}
	return refs
}

// storyRows digests the rows of the stories table, to count rows written.
func (e *env) storyRows(t *testing.T) map[int64]string {
	t.Helper()
	rows, err := e.db.RowDigests(context.Background(), "stories")
	if err != nil {
		t.Fatalf("row digests: %v", err)
	}
	return rows
}

// Three stories, listed in the order they were created; the third moved to
// the top stays there; the JSON has the documented fields.
func TestStoryCreateAndOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")

		res := tm.po.post(t, "/api/v1/products/book/stories", map[string]any{
			"title": "Scan a barcode", "persona": "shop assistant", "want": "to scan a book's barcode", "benefit": "I find it in stock at once",
			"description": "Use the *camera*.", "points": 3, "labels": []string{"mobile", "Mobile", " scanning "}, "assignee": "Dev@Example.com",
			"criteria": []string{"EAN-13 codes are read", "Unknown codes say so"}, "tasks": []string{"Camera permission"},
		}).want(t, http.StatusCreated)
		if got := res.header.Get("Location"); got != "/api/v1/stories/BOOK-1" {
			t.Errorf("Location = %q, want /api/v1/stories/BOOK-1", got)
		}
		if got := res.header.Get("ETag"); got != `"1"` {
			t.Errorf("ETag = %q, want \"1\"", got)
		}
		var s1 apiStory
		res.decode(t, &s1)
		if s1.Ref != "BOOK-1" || s1.Product != "BOOK" || s1.Number != 1 || s1.Type != "story" || s1.Status != "new" ||
			s1.Points == nil || *s1.Points != 3 || s1.Version != 1 || s1.Accepted || s1.Rank == "" {
			t.Errorf("created story = %+v", s1)
		}
		if !slices.Equal(s1.Labels, []string{"mobile", "scanning"}) {
			t.Errorf("labels = %q, want mobile and scanning once each", s1.Labels)
		}
		if len(s1.Criteria) != 2 || s1.Criteria[0].Text != "EAN-13 codes are read" || s1.Criteria[0].ID == 0 || s1.Criteria[0].Met {
			t.Errorf("criteria = %+v", s1.Criteria)
		}
		if len(s1.Tasks) != 1 || s1.Tasks[0].Text != "Camera permission" || s1.Tasks[0].Done {
			t.Errorf("tasks = %+v", s1.Tasks)
		}
		if s1.Assignee == nil || s1.Assignee.Email != "dev@example.com" || s1.Assignee.Name != "Dev Eloper" {
			t.Errorf("assignee = %+v, want dev@example.com", s1.Assignee)
		}
		if s1.CreatedBy == nil || s1.CreatedBy.Email != "po@example.com" {
			t.Errorf("created_by = %+v, want the PO", s1.CreatedBy)
		}
		if want := "As a shop assistant, I want to scan a book's barcode so that I find it in stock at once."; s1.Sentence != want {
			t.Errorf("sentence = %q, want %q", s1.Sentence, want)
		}
		if !s1.Ready || len(s1.ReadyProblems) != 0 || s1.CriteriaMet != 0 || s1.TasksDone != 0 {
			t.Errorf("ready = %v %q, criteria_met %d, tasks_done %d; want ready, no problems, 0, 0", s1.Ready, s1.ReadyProblems, s1.CriteriaMet, s1.TasksDone)
		}

		res = tm.po.post(t, "/api/v1/products/BOOK/stories", map[string]any{"title": "Weekly stock report", "type": "task"}).want(t, http.StatusCreated)
		var s2 apiStory
		res.decode(t, &s2)
		if s2.Ref != "BOOK-2" || s2.Type != "task" || s2.Points != nil || s2.Ready || len(s2.ReadyProblems) != 3 || s2.Sentence != "" {
			t.Errorf("second story = %+v", s2)
		}
		// Empty lists are arrays and an unset estimate is null, never absent.
		raw := string(res.body)
		for _, k := range []string{`"ref":`, `"title":`, `"type":`, `"status":`, `"rank":`, `"accepted":false`, `"version":1`,
			`"points":null`, `"labels":[]`, `"criteria":[]`, `"tasks":[]`, `"assignee":null`, `"sentence":""`, `"ready":false`, `"ready_problems":[`} {
			if !strings.Contains(raw, k) {
				t.Errorf("story JSON lacks %s: %s", k, short(res.body))
			}
		}
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Crash when scanning twice", "type": "bug"})

		if got := tm.viewer.backlogRefs(t, "BOOK", ""); !slices.Equal(got, bookRefs(1, 2, 3)) {
			t.Fatalf("backlog = %v, want %v", got, bookRefs(1, 2, 3))
		}

		// Moving the third to the top writes one row and keeps the version.
		rows := e.storyRows(t)
		var moved apiStory
		res = tm.po.post(t, "/api/v1/stories/BOOK-3/move", map[string]string{"position": "top"}).want(t, http.StatusOK)
		res.decode(t, &moved)
		if moved.Ref != "BOOK-3" || moved.Version != 1 || moved.Rank >= s1.Rank || res.header.Get("ETag") != `"1"` {
			t.Errorf("moved story = %+v (ETag %s), want BOOK-3 at version 1 ranked before %q", moved, res.header.Get("ETag"), s1.Rank)
		}
		written := 0
		for id, d := range e.storyRows(t) {
			if rows[id] != d {
				written++
			}
		}
		if written != 1 {
			t.Errorf("the move wrote %d story rows, want 1", written)
		}
		// The order holds for everyone, read back from the database.
		for _, who := range []*client{tm.po, tm.dev, tm.viewer, tm.admin} {
			if got := who.backlogRefs(t, "BOOK", ""); !slices.Equal(got, bookRefs(3, 1, 2)) {
				t.Errorf("backlog for %s after moving BOOK-3 to the top = %v, want %v", who.name, got, bookRefs(3, 1, 2))
			}
		}

		moves := []struct {
			ref  string
			body map[string]string
			want []string
		}{
			{"BOOK-1", map[string]string{"after": "BOOK-2"}, bookRefs(3, 2, 1)},
			{"book-1", map[string]string{"before": "book-3"}, bookRefs(1, 3, 2)},
			{"BOOK-3", map[string]string{"position": "bottom"}, bookRefs(1, 2, 3)},
			{"BOOK-2", map[string]string{"before": "BOOK-1"}, bookRefs(2, 1, 3)},
			{"BOOK-3", map[string]string{"after": "BOOK-2"}, bookRefs(2, 3, 1)},
		}
		for _, m := range moves {
			tm.pm.post(t, "/api/v1/stories/"+m.ref+"/move", m.body).want(t, http.StatusOK)
			if got := tm.po.backlogRefs(t, "BOOK", ""); !slices.Equal(got, m.want) {
				t.Errorf("after moving %s %v: %v, want %v", m.ref, m.body, got, m.want)
			}
		}

		// A story may be created at the top.
		top := tm.po.createStory(t, "BOOK", map[string]any{"title": "Urgent", "position": "top"})
		if got := tm.po.backlogRefs(t, "BOOK", ""); !slices.Equal(got, []string{top.Ref, "BOOK-2", "BOOK-3", "BOOK-1"}) {
			t.Errorf("after creating %s at the top: %v", top.Ref, got)
		}
		if got := tm.viewer.getStory(t, "book-1"); got.Title != "Scan a barcode" || len(got.Criteria) != 2 {
			t.Errorf("GET book-1 = %+v", got)
		}
	})
}

// The backlog pages with ?limit= and an opaque cursor, in order, each
// story once, with or without filters.
func TestStoryListPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		res := tm.po.get(t, "/api/v1/products/BOOK/stories").want(t, http.StatusOK)
		if got := strings.TrimSpace(string(res.body)); got != `{"items":[]}` {
			t.Errorf("empty backlog = %s, want {\"items\":[]}", got)
		}
		for i := 1; i <= 5; i++ {
			typ := "story"
			if i%2 == 0 {
				typ = "bug"
			}
			tm.po.createStory(t, "BOOK", map[string]any{"title": fmt.Sprintf("Story %d", i), "type": typ})
		}
		tm.po.post(t, "/api/v1/stories/BOOK-5/move", map[string]string{"position": "top"}).want(t, http.StatusOK)
		all := bookRefs(5, 1, 2, 3, 4)

		// limit=2 gives pages of 2, 2 and 1.
		var sizes []int
		var refs []string
		cursor := ""
		for {
			path := "/api/v1/products/BOOK/stories?limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			var p page[apiStory]
			tm.viewer.get(t, path).want(t, http.StatusOK).decode(t, &p)
			sizes = append(sizes, len(p.Items))
			refs = append(refs, refsOf(p.Items)...)
			if p.NextCursor == "" {
				break
			}
			if len(sizes) > 5 {
				t.Fatal("too many pages")
			}
			cursor = p.NextCursor
		}
		if !slices.Equal(sizes, []int{2, 2, 1}) || !slices.Equal(refs, all) {
			t.Errorf("limit=2: pages of %v with %v, want pages of [2 2 1] with %v", sizes, refs, all)
		}
		for _, limit := range []int{1, 3, 5, 200} {
			if got := tm.viewer.backlogRefs(t, "BOOK", fmt.Sprintf("limit=%d", limit)); !slices.Equal(got, all) {
				t.Errorf("limit=%d: %v, want %v", limit, got, all)
			}
		}
		// Filters page too.
		if got := tm.viewer.backlogRefs(t, "BOOK", "limit=1&type=bug"); !slices.Equal(got, bookRefs(2, 4)) {
			t.Errorf("bugs one per page: %v, want %v", got, bookRefs(2, 4))
		}
		// The last page has no next_cursor at all.
		res = tm.viewer.get(t, "/api/v1/products/BOOK/stories?limit=5").want(t, http.StatusOK)
		if strings.Contains(string(res.body), "next_cursor") {
			t.Errorf("last page has a next_cursor: %s", short(res.body))
		}
		// A story added after the page was read shows on the next page.
		var first page[apiStory]
		tm.viewer.get(t, "/api/v1/products/BOOK/stories?limit=4").want(t, http.StatusOK).decode(t, &first)
		tm.po.createStory(t, "BOOK", "Story 6")
		var rest page[apiStory]
		tm.viewer.get(t, "/api/v1/products/BOOK/stories?limit=4&cursor="+first.NextCursor).want(t, http.StatusOK).decode(t, &rest)
		if got := refsOf(rest.Items); !slices.Equal(got, bookRefs(4, 6)) {
			t.Errorf("page after the cursor = %v, want %v", got, bookRefs(4, 6))
		}

		bad := []struct{ query, field string }{
			{"limit=0", "limit"},
			{"limit=201", "limit"},
			{"limit=x", "limit"},
			{"cursor=***", "cursor"},
			{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("a\x00")), "cursor"},
			{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("\xff")), "cursor"},
		}
		for _, tc := range bad {
			tm.viewer.get(t, "/api/v1/products/BOOK/stories?"+tc.query).wantError(t, http.StatusBadRequest, northstar.EINVALID, tc.field)
		}
		tm.outsider.get(t, "/api/v1/products/BOOK/stories").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.viewer.get(t, "/api/v1/products/NOPE/stories").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
	})
}

// Every filter of the backlog list, alone and together, and a 400 naming
// the parameter for a bad value.
func TestStoryFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.po.createStory(t, "BOOK", map[string]any{
			"title": "Barcode scanning on phones", "persona": "shop assistant", "want": "to scan", "benefit": "I am quick",
			"labels": []string{"mobile"}, "assignee": "dev@example.com", "points": 3, "criteria": []string{"Works with the café's old scanner"},
		})
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Weekly stock report", "type": "task", "description": "Email the *report* every Monday"})
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Crash when scanning twice", "type": "bug", "status": "in_progress", "points": 5})
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Offline mode", "type": "spike", "status": "ready", "labels": []string{"mobile", "research"}, "assignee": "po@example.com"})

		cases := []struct {
			query string
			want  []string
		}{
			{"", bookRefs(1, 2, 3, 4)},
			{"status=new", bookRefs(1, 2)},
			{"status=new,in_progress", bookRefs(1, 2, 3)},
			{"status=ready&status=in_progress", bookRefs(3, 4)},
			{"status=+new+,+ready+", bookRefs(1, 2, 4)},
			{"status=done", nil},
			{"type=bug", bookRefs(3)},
			{"type=bug,spike", bookRefs(3, 4)},
			{"assignee=dev@example.com", bookRefs(1)},
			{"assignee=DEV@example.com", bookRefs(1)},
			{"assignee=none", bookRefs(2, 3)},
			{"assignee=ghost@example.com", nil},
			{"label=mobile", bookRefs(1, 4)},
			{"label=research", bookRefs(4)},
			{"label=nothing", nil},
			{"unestimated=true", bookRefs(2, 4)},
			{"unestimated=false", bookRefs(1, 2, 3, 4)},
			{"ready=false", bookRefs(2, 3, 4)},
			{"q=scan", bookRefs(1, 3)},
			{"q=SCANNING+crash", bookRefs(3)},
			{"q=monday", bookRefs(2)},
			{"q=cafe", bookRefs(1)},
			{"q=*:%26!", nil},
			{"type=story,bug&assignee=none", bookRefs(3)},
			{"type=story,spike&label=mobile&assignee=dev@example.com", bookRefs(1)},
			{"status=new&unestimated=true", bookRefs(2)},
			{"ready=false&label=research&q=offline", bookRefs(4)},
		}
		for _, tc := range cases {
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if got := tm.viewer.backlogRefs(t, "BOOK", tc.query); !slices.Equal(got, want) {
				t.Errorf("?%s: %v, want %v", tc.query, got, want)
			}
		}

		bad := []struct{ query, field string }{
			{"status=doing", "status"},
			{"status=NEW", "status"},
			{"status=new,doing", "status"},
			{"type=epic", "type"},
			{"unestimated=maybe", "unestimated"},
			{"ready=true", "ready"},
			{"ready=maybe", "ready"},
			{"q=" + strings.Repeat("q", 201), "q"},
			{"q=a%00b", "q"},
			{"assignee=dev%00@example.com", "assignee"},
			{"assignee=" + strings.Repeat("a", 501), "assignee"},
			{"label=%FF", "label"},
		}
		for _, tc := range bad {
			tm.viewer.get(t, "/api/v1/products/BOOK/stories?"+tc.query).wantError(t, http.StatusBadRequest, northstar.EINVALID, tc.field)
		}
	})
}

// ETag and If-Match: a stale version is a 409 that changes nothing, on
// the story and on its criteria and tasks.
func TestStoryVersions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		s := tm.po.createStory(t, "BOOK", map[string]any{"title": "Scan a barcode", "criteria": []string{"Reads EAN-13"}, "tasks": []string{"Camera"}})
		if got := tm.viewer.get(t, "/api/v1/stories/BOOK-1").want(t, http.StatusOK).header.Get("ETag"); got != `"1"` {
			t.Errorf("ETag = %q, want \"1\"", got)
		}

		res := tm.po.patch(t, "/api/v1/stories/BOOK-1", map[string]string{"title": "Scan barcodes"}, "If-Match", `"1"`).want(t, http.StatusOK)
		var got apiStory
		res.decode(t, &got)
		if got.Version != 2 || got.Title != "Scan barcodes" || res.header.Get("ETag") != `"2"` || got.UpdatedBy == nil || got.UpdatedBy.Email != "po@example.com" {
			t.Errorf("after PATCH: %+v, ETag %s; want version 2", got, res.header.Get("ETag"))
		}

		before := e.snapshot(t)
		stale := []struct {
			name         string
			method, path string
			body         any
		}{
			{"edit", "PATCH", "/api/v1/stories/BOOK-1", map[string]string{"title": "Lost update"}},
			{"status", "PATCH", "/api/v1/stories/BOOK-1", map[string]string{"status": "done"}},
			{"delete", "DELETE", "/api/v1/stories/BOOK-1", nil},
			{"add criterion", "POST", "/api/v1/stories/BOOK-1/criteria", map[string]string{"text": "Lost"}},
			{"meet criterion", "PATCH", fmt.Sprintf("/api/v1/stories/BOOK-1/criteria/%d", s.Criteria[0].ID), map[string]bool{"met": true}},
			{"delete criterion", "DELETE", fmt.Sprintf("/api/v1/stories/BOOK-1/criteria/%d", s.Criteria[0].ID), nil},
			{"add task", "POST", "/api/v1/stories/BOOK-1/tasks", map[string]string{"text": "Lost"}},
			{"finish task", "PATCH", fmt.Sprintf("/api/v1/stories/BOOK-1/tasks/%d", s.Tasks[0].ID), map[string]bool{"done": true}},
			{"delete task", "DELETE", fmt.Sprintf("/api/v1/stories/BOOK-1/tasks/%d", s.Tasks[0].ID), nil},
		}
		for _, tc := range stale {
			tm.po.do(t, tc.method, tc.path, tc.body, "If-Match", `"1"`).wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		}
		for _, h := range []string{"abc", `"0"`, `"-1"`, `"1.5"`} {
			tm.po.patch(t, "/api/v1/stories/BOOK-1", map[string]string{"title": "Bad header"}, "If-Match", h).
				wantError(t, http.StatusBadRequest, northstar.EINVALID, "If-Match")
			tm.po.delete(t, "/api/v1/stories/BOOK-1", "If-Match", h).wantError(t, http.StatusBadRequest, northstar.EINVALID, "If-Match")
		}
		e.wantUnchanged(t, before, "stale or malformed If-Match")

		// A change to a criterion or task moves the story's version on.
		res = tm.dev.patch(t, fmt.Sprintf("/api/v1/stories/BOOK-1/criteria/%d", s.Criteria[0].ID), map[string]bool{"met": true}, "If-Match", "2").
			want(t, http.StatusOK)
		res.decode(t, &got)
		if got.Version != 3 || res.header.Get("ETag") != `"3"` || !got.Criteria[0].Met || got.CriteriaMet != 1 {
			t.Errorf("after meeting the criterion: version %d, ETag %s, criteria %+v", got.Version, res.header.Get("ETag"), got.Criteria)
		}
		// Without If-Match nothing is checked.
		tm.dev.patch(t, "/api/v1/stories/BOOK-1", map[string]any{"points": 8}).want(t, http.StatusOK).decode(t, &got)
		if got.Version != 4 {
			t.Errorf("version after an unchecked PATCH = %d, want 4", got.Version)
		}
		tm.dev.patch(t, "/api/v1/stories/BOOK-1", map[string]any{"points": nil}, "If-Match", `W/"4"`).want(t, http.StatusOK).decode(t, &got)
		if got.Version != 5 || got.Points != nil {
			t.Errorf("after clearing points: version %d points %v, want 5 and null", got.Version, got.Points)
		}

		// Several clients saving over the same version: one wins, the
		// others get 409.
		var wg sync.WaitGroup
		statuses := make([]int, 6)
		for i := range statuses {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				statuses[i] = tm.po.patch(t, "/api/v1/stories/BOOK-1", map[string]string{"description": fmt.Sprintf("Writer %d", i)}, "If-Match", `"5"`).status
			}(i)
		}
		wg.Wait()
		slices.Sort(statuses)
		if want := []int{200, 409, 409, 409, 409, 409}; !slices.Equal(statuses, want) {
			t.Errorf("concurrent PATCHes of version 5: %v, want %v", statuses, want)
		}
		if got := tm.po.getStory(t, "BOOK-1"); got.Version != 6 || !strings.HasPrefix(got.Description, "Writer ") {
			t.Errorf("after the race: version %d description %q", got.Version, got.Description)
		}

		// Delete with the current version; then it is gone.
		tm.po.delete(t, "/api/v1/stories/BOOK-1", "If-Match", `"6"`).want(t, http.StatusNoContent)
		tm.po.get(t, "/api/v1/stories/BOOK-1").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.po.delete(t, "/api/v1/stories/BOOK-1").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		// Numbers are not reused.
		if s := tm.po.createStory(t, "BOOK", "Next"); s.Ref != "BOOK-2" {
			t.Errorf("story after a deletion = %s, want BOOK-2", s.Ref)
		}
	})
}

// Developers estimate, change status and work on tasks but cannot edit,
// reorder or accept; the product owner accepts only when every criterion
// is met.
func TestStoryRolesAndAcceptance(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		s := tm.po.createStory(t, "BOOK", map[string]any{"title": "Reorder suggestions", "criteria": []string{"Shows titles below the threshold", "Suggests quantities"}})
		tm.po.createStory(t, "BOOK", "Second")
		path := "/api/v1/stories/BOOK-1"

		var got apiStory
		tm.dev.patch(t, path, map[string]any{"status": "in_progress", "points": 8, "assignee": "dev@example.com"}).want(t, http.StatusOK).decode(t, &got)
		if got.Status != "in_progress" || got.Points == nil || *got.Points != 8 || got.Assignee == nil || got.Assignee.Email != "dev@example.com" {
			t.Errorf("developer's PATCH: %+v", got)
		}

		before := e.snapshot(t)
		refused := []struct {
			name         string
			who          *client
			method, path string
			body         any
			status       int
			code, field  string
		}{
			{"developer renames", tm.dev, "PATCH", path, map[string]string{"title": "Renamed"}, 403, northstar.EFORBIDDEN, ""},
			{"developer renames and estimates", tm.dev, "PATCH", path, map[string]any{"title": "Renamed", "points": 5}, 403, northstar.EFORBIDDEN, ""},
			{"developer labels", tm.dev, "PATCH", path, map[string]any{"labels": []string{"x"}}, 403, northstar.EFORBIDDEN, ""},
			{"developer accepts", tm.dev, "PATCH", path, map[string]bool{"accepted": true}, 403, northstar.EFORBIDDEN, ""},
			{"developer moves", tm.dev, "POST", path + "/move", map[string]string{"position": "bottom"}, 403, northstar.EFORBIDDEN, ""},
			{"developer moves before", tm.dev, "POST", path + "/move", map[string]string{"after": "BOOK-2"}, 403, northstar.EFORBIDDEN, ""},
			{"developer creates", tm.dev, "POST", "/api/v1/products/BOOK/stories", map[string]string{"title": "Mine"}, 403, northstar.EFORBIDDEN, ""},
			{"developer deletes", tm.dev, "DELETE", path, nil, 403, northstar.EFORBIDDEN, ""},
			{"developer adds a criterion", tm.dev, "POST", path + "/criteria", map[string]string{"text": "More"}, 403, northstar.EFORBIDDEN, ""},
			{"developer rewrites a criterion", tm.dev, "PATCH", fmt.Sprintf("%s/criteria/%d", path, s.Criteria[0].ID), map[string]string{"text": "Easier"}, 403, northstar.EFORBIDDEN, ""},
			{"stakeholder changes status", tm.stakeholder, "PATCH", path, map[string]string{"status": "done"}, 403, northstar.EFORBIDDEN, ""},
			{"viewer adds a task", tm.viewer, "POST", path + "/tasks", map[string]string{"text": "x"}, 403, northstar.EFORBIDDEN, ""},
			{"PM accepts", tm.pm, "PATCH", path, map[string]bool{"accepted": true}, 403, northstar.EFORBIDDEN, ""},
			{"PO accepts with unmet criteria", tm.po, "PATCH", path, map[string]bool{"accepted": true}, 422, northstar.EUNPROCESSABLE, "accepted"},
			{"outsider reads", tm.outsider, "GET", path, nil, 404, northstar.ENOTFOUND, ""},
			{"outsider changes status", tm.outsider, "PATCH", path, map[string]string{"status": "done"}, 404, northstar.ENOTFOUND, ""},
		}
		for _, tc := range refused {
			tc.who.do(t, tc.method, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
		}
		e.wantUnchanged(t, before, "refused story changes")

		// Developers meet the criteria and work on tasks.
		for _, c := range s.Criteria {
			tm.dev.patch(t, fmt.Sprintf("%s/criteria/%d", path, c.ID), map[string]bool{"met": true}).want(t, http.StatusOK).decode(t, &got)
		}
		if got.CriteriaMet != 2 {
			t.Errorf("criteria_met = %d, want 2", got.CriteriaMet)
		}
		tm.dev.post(t, path+"/tasks", map[string]string{"text": "Write the query", "assignee": "dev@example.com"}).want(t, http.StatusCreated)

		// Now the product owner may accept: the story is done.
		tm.po.patch(t, path, map[string]bool{"accepted": true}).want(t, http.StatusOK).decode(t, &got)
		if !got.Accepted || got.Status != "done" || got.AcceptedBy == nil || got.AcceptedBy.Email != "po@example.com" {
			t.Errorf("accepted story = %+v", got)
		}
		// Unmeeting a criterion withdraws the acceptance.
		tm.dev.patch(t, fmt.Sprintf("%s/criteria/%d", path, s.Criteria[1].ID), map[string]bool{"met": false}).want(t, http.StatusOK).decode(t, &got)
		if got.Accepted {
			t.Errorf("still accepted with an unmet criterion")
		}
		// An admin who is not a member may do everything.
		tm.dev.patch(t, fmt.Sprintf("%s/criteria/%d", path, s.Criteria[1].ID), map[string]bool{"met": true}).want(t, http.StatusOK)
		tm.admin.patch(t, path, map[string]bool{"accepted": true}).want(t, http.StatusOK).decode(t, &got)
		if !got.Accepted {
			t.Errorf("admin could not accept")
		}
		tm.admin.post(t, path+"/move", map[string]string{"position": "bottom"}).want(t, http.StatusOK)

		// A retired product's backlog is read-only.
		tm.pm.changeStage(t, "BOOK", "retired", "")
		before = e.snapshot(t)
		tm.po.post(t, "/api/v1/products/BOOK/stories", map[string]string{"title": "Too late"}).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		tm.po.patch(t, "/api/v1/stories/BOOK-2", map[string]string{"title": "Too late"}).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		tm.dev.patch(t, "/api/v1/stories/BOOK-2", map[string]string{"status": "done"}).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		tm.po.post(t, "/api/v1/stories/BOOK-2/move", map[string]string{"position": "top"}).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		tm.po.delete(t, "/api/v1/stories/BOOK-2").wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		e.wantUnchanged(t, before, "writes to a retired product's backlog")
		tm.viewer.getStory(t, "BOOK-2")
	})
}

// The backlog's permission matrix through the API: every story action
// against every role. A member without the right gets 403 and nothing is
// written; someone who belongs to no product learns nothing (404).
func TestStoryPermissions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		everyone := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer}
		editors := []*client{tm.admin, tm.pm, tm.po}
		workers := []*client{tm.admin, tm.pm, tm.po, tm.dev}
		acceptors := []*client{tm.admin, tm.po}
		type target struct{ key, ref, criterion, task string }
		actions := []struct {
			name    string
			method  string
			path    func(s target) string
			body    func(s target) any
			allowed []*client
			// field is the field a refusal names: bulk updates name
			// the ref at fault.
			field string
			// met says the story's criterion is met first.
			met bool
		}{
			{name: "list backlog", method: "GET", path: func(s target) string { return "/api/v1/products/" + s.key + "/stories" }, allowed: everyone},
			{name: "read story", method: "GET", path: func(s target) string { return "/api/v1/stories/" + s.ref }, allowed: everyone},
			{name: "create story", method: "POST", path: func(s target) string { return "/api/v1/products/" + s.key + "/stories" },
				body: func(target) any { return map[string]string{"title": "New"} }, allowed: editors},
			{name: "edit story", method: "PATCH", path: func(s target) string { return "/api/v1/stories/" + s.ref },
				body: func(target) any { return map[string]string{"title": "Renamed"} }, allowed: editors},
			{name: "change status", method: "PATCH", path: func(s target) string { return "/api/v1/stories/" + s.ref },
				body: func(target) any { return map[string]string{"status": "in_progress"} }, allowed: workers},
			{name: "estimate", method: "PATCH", path: func(s target) string { return "/api/v1/stories/" + s.ref },
				body: func(target) any { return map[string]int{"points": 5} }, allowed: workers},
			{name: "accept", method: "PATCH", path: func(s target) string { return "/api/v1/stories/" + s.ref },
				body: func(target) any { return map[string]bool{"accepted": true} }, allowed: acceptors, met: true},
			{name: "move", method: "POST", path: func(s target) string { return "/api/v1/stories/" + s.ref + "/move" },
				body: func(target) any { return map[string]string{"position": "bottom"} }, allowed: editors},
			{name: "delete story", method: "DELETE", path: func(s target) string { return "/api/v1/stories/" + s.ref }, allowed: editors},
			{name: "add criterion", method: "POST", path: func(s target) string { return "/api/v1/stories/" + s.ref + "/criteria" },
				body: func(target) any { return map[string]string{"text": "More"} }, allowed: editors},
			{name: "reword criterion", method: "PATCH", path: func(s target) string { return "/api/v1/stories/" + s.ref + "/criteria/" + s.criterion },
				body: func(target) any { return map[string]string{"text": "Reworded"} }, allowed: editors},
			{name: "meet criterion", method: "PATCH", path: func(s target) string { return "/api/v1/stories/" + s.ref + "/criteria/" + s.criterion },
				body: func(target) any { return map[string]bool{"met": true} }, allowed: workers},
			{name: "delete criterion", method: "DELETE", path: func(s target) string { return "/api/v1/stories/" + s.ref + "/criteria/" + s.criterion }, allowed: editors},
			{name: "add task", method: "POST", path: func(s target) string { return "/api/v1/stories/" + s.ref + "/tasks" },
				body: func(target) any { return map[string]string{"text": "Step"} }, allowed: workers},
			{name: "finish task", method: "PATCH", path: func(s target) string { return "/api/v1/stories/" + s.ref + "/tasks/" + s.task },
				body: func(target) any { return map[string]bool{"done": true} }, allowed: workers},
			{name: "delete task", method: "DELETE", path: func(s target) string { return "/api/v1/stories/" + s.ref + "/tasks/" + s.task }, allowed: workers},
			{name: "bulk status", method: "POST", path: func(target) string { return "/api/v1/stories/bulk" },
				body: func(s target) any { return map[string]any{"refs": []string{s.ref}, "status": "ready"} }, allowed: workers, field: "refs[0]"},
			{name: "bulk labels", method: "POST", path: func(target) string { return "/api/v1/stories/bulk" },
				body: func(s target) any { return map[string]any{"refs": []string{s.ref}, "add_labels": []string{"q3"}} }, allowed: editors, field: "refs[0]"},
		}
		callers := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer, tm.outsider}
		for i, a := range actions {
			// Each action gets its own product, each caller its own story.
			key := fmt.Sprintf("S%d", i+1)
			tm.product(t, key, "Product "+key)
			for _, who := range callers {
				s := tm.pm.createStory(t, key, map[string]any{"title": "For " + who.name, "criteria": []string{"It works"}, "tasks": []string{"Build it"}})
				tg := target{key: key, ref: s.Ref, criterion: fmt.Sprint(s.Criteria[0].ID), task: fmt.Sprint(s.Tasks[0].ID)}
				if a.met {
					tm.pm.patch(t, "/api/v1/stories/"+tg.ref+"/criteria/"+tg.criterion, map[string]bool{"met": true}).want(t, http.StatusOK)
				}
				t.Run(a.name+"/"+who.name, func(t *testing.T) {
					var body any
					if a.body != nil {
						body = a.body(tg)
					}
					if slices.Contains(a.allowed, who) {
						res := who.do(t, a.method, a.path(tg), body)
						if res.status != http.StatusOK && res.status != http.StatusCreated && res.status != http.StatusNoContent {
							t.Errorf("%s: got %d, want success; body: %s", res.req, res.status, short(res.body))
						}
						return
					}
					before := e.snapshot(t)
					res := who.do(t, a.method, a.path(tg), body)
					if who == tm.outsider {
						res.wantError(t, http.StatusNotFound, northstar.ENOTFOUND, a.field)
					} else {
						res.wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, a.field)
					}
					e.wantUnchanged(t, before, "a refused "+a.name)
				})
			}
		}
	})
}

// Criteria and tasks are sub-resources of a story: each change answers
// with the whole story at its new version.
func TestStoryCriteriaAndTasks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.admin.createProduct(t, "EBOOK", "Ebooks")
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Scan a barcode", "criteria": []string{"Reads EAN-13"}})
		other := tm.admin.createStory(t, "EBOOK", map[string]any{"title": "Elsewhere", "criteria": []string{"x"}, "tasks": []string{"y"}})
		path := "/api/v1/stories/BOOK-1"

		var s apiStory
		res := tm.po.post(t, path+"/criteria", map[string]string{"text": "  Says when a code is unknown  "}).want(t, http.StatusCreated)
		res.decode(t, &s)
		if len(s.Criteria) != 2 || s.Criteria[1].Text != "Says when a code is unknown" || s.Criteria[1].ID == 0 || s.Version != 2 || res.header.Get("ETag") != `"2"` {
			t.Fatalf("after adding a criterion: %+v (ETag %s)", s, res.header.Get("ETag"))
		}
		c2 := s.Criteria[1].ID
		tm.po.patch(t, fmt.Sprintf("%s/criteria/%d", path, c2), map[string]any{"text": "Says so when a code is unknown", "met": true}).
			want(t, http.StatusOK).decode(t, &s)
		if s.Criteria[1].Text != "Says so when a code is unknown" || !s.Criteria[1].Met || s.CriteriaMet != 1 || s.Version != 3 {
			t.Errorf("after changing the criterion: %+v", s.Criteria)
		}
		tm.po.delete(t, fmt.Sprintf("%s/criteria/%d", path, s.Criteria[0].ID)).want(t, http.StatusOK).decode(t, &s)
		if len(s.Criteria) != 1 || s.Criteria[0].ID != c2 || s.Version != 4 {
			t.Errorf("after deleting the first criterion: %+v", s)
		}

		res = tm.dev.post(t, path+"/tasks", map[string]string{"text": "Camera permission", "assignee": "dev@example.com"}).want(t, http.StatusCreated)
		res.decode(t, &s)
		if len(s.Tasks) != 1 || s.Tasks[0].Assignee == nil || s.Tasks[0].Assignee.Email != "dev@example.com" || s.Version != 5 {
			t.Fatalf("after adding a task: %+v", s)
		}
		task := s.Tasks[0].ID
		tm.dev.post(t, path+"/tasks", map[string]string{"text": "Decode EAN-13"}).want(t, http.StatusCreated).decode(t, &s)
		if len(s.Tasks) != 2 || s.Tasks[1].Text != "Decode EAN-13" || s.Tasks[1].Assignee != nil {
			t.Errorf("second task: %+v", s.Tasks)
		}
		tm.dev.patch(t, fmt.Sprintf("%s/tasks/%d", path, task), map[string]any{"done": true, "assignee": nil}).want(t, http.StatusOK).decode(t, &s)
		if !s.Tasks[0].Done || s.Tasks[0].Assignee != nil || s.TasksDone != 1 {
			t.Errorf("after finishing and unassigning the task: %+v", s.Tasks)
		}
		tm.dev.patch(t, fmt.Sprintf("%s/tasks/%d", path, task), map[string]any{"text": "Ask for the camera", "assignee": "po@example.com"}).
			want(t, http.StatusOK).decode(t, &s)
		if s.Tasks[0].Text != "Ask for the camera" || s.Tasks[0].Assignee == nil || s.Tasks[0].Assignee.Email != "po@example.com" || !s.Tasks[0].Done {
			t.Errorf("after renaming and reassigning the task: %+v", s.Tasks[0])
		}
		tm.dev.delete(t, fmt.Sprintf("%s/tasks/%d", path, task)).want(t, http.StatusOK).decode(t, &s)
		if len(s.Tasks) != 1 || s.Tasks[0].Text != "Decode EAN-13" {
			t.Errorf("after deleting the task: %+v", s.Tasks)
		}
		if got := tm.viewer.getStory(t, "BOOK-1"); got.Version != s.Version || len(got.Tasks) != 1 || len(got.Criteria) != 1 {
			t.Errorf("read back: %+v, want version %d with one task and one criterion", got, s.Version)
		}

		// Unknown ids and ids of another story are 404s; malformed ids 400s.
		before := e.snapshot(t)
		refused := []struct {
			name         string
			method, path string
			body         any
			status       int
			code, field  string
		}{
			{"unknown criterion", "PATCH", path + "/criteria/999999", map[string]bool{"met": true}, 404, northstar.ENOTFOUND, ""},
			{"delete unknown criterion", "DELETE", path + "/criteria/999999", nil, 404, northstar.ENOTFOUND, ""},
			{"another story's criterion", "PATCH", fmt.Sprintf("%s/criteria/%d", path, other.Criteria[0].ID), map[string]bool{"met": true}, 404, northstar.ENOTFOUND, ""},
			{"delete another story's criterion", "DELETE", fmt.Sprintf("%s/criteria/%d", path, other.Criteria[0].ID), nil, 404, northstar.ENOTFOUND, ""},
			{"unknown task", "PATCH", path + "/tasks/999999", map[string]bool{"done": true}, 404, northstar.ENOTFOUND, ""},
			{"delete unknown task", "DELETE", path + "/tasks/999999", nil, 404, northstar.ENOTFOUND, ""},
			{"another story's task", "PATCH", fmt.Sprintf("%s/tasks/%d", path, other.Tasks[0].ID), map[string]bool{"done": true}, 404, northstar.ENOTFOUND, ""},
			{"criterion of an unknown story", "POST", "/api/v1/stories/BOOK-99/criteria", map[string]string{"text": "x"}, 404, northstar.ENOTFOUND, ""},
			{"task of an unknown story", "POST", "/api/v1/stories/BOOK-99/tasks", map[string]string{"text": "x"}, 404, northstar.ENOTFOUND, ""},
			{"criterion id not a number", "PATCH", path + "/criteria/abc", map[string]bool{"met": true}, 400, northstar.EINVALID, "id"},
			{"task id zero", "DELETE", path + "/tasks/0", nil, 400, northstar.EINVALID, "id"},
			{"criterion without text", "POST", path + "/criteria", map[string]string{}, 400, northstar.EINVALID, "text"},
			{"blank criterion", "POST", path + "/criteria", map[string]string{"text": "  "}, 400, northstar.EINVALID, "text"},
			{"criterion too long", "POST", path + "/criteria", map[string]string{"text": strings.Repeat("c", 1001)}, 400, northstar.EINVALID, "text"},
			{"criterion with NUL", "POST", path + "/criteria", map[string]string{"text": "a\x00b"}, 400, northstar.EINVALID, "text"},
			{"blank criterion text on change", "PATCH", fmt.Sprintf("%s/criteria/%d", path, c2), map[string]string{"text": ""}, 400, northstar.EINVALID, "text"},
			{"criterion change with nothing", "PATCH", fmt.Sprintf("%s/criteria/%d", path, c2), map[string]any{}, 400, northstar.EINVALID, ""},
			{"criterion met not a bool", "PATCH", fmt.Sprintf("%s/criteria/%d", path, c2), map[string]string{"met": "yes"}, 400, northstar.EINVALID, "met"},
			{"criterion unknown field", "POST", path + "/criteria", map[string]any{"text": "x", "met": true}, 400, northstar.EINVALID, "met"},
			{"task too long", "POST", path + "/tasks", map[string]string{"text": strings.Repeat("t", 501)}, 400, northstar.EINVALID, "text"},
			{"task assignee not a member", "POST", path + "/tasks", map[string]string{"text": "x", "assignee": "outsider@example.com"}, 422, northstar.EUNPROCESSABLE, "assignee"},
			{"task assignee unknown", "PATCH", fmt.Sprintf("%s/tasks/%d", path, s.Tasks[0].ID), map[string]string{"assignee": "ghost@example.com"}, 400, northstar.EINVALID, "assignee"},
			{"task change with nothing", "PATCH", fmt.Sprintf("%s/tasks/%d", path, s.Tasks[0].ID), map[string]any{}, 400, northstar.EINVALID, ""},
			{"task done not a bool", "PATCH", fmt.Sprintf("%s/tasks/%d", path, s.Tasks[0].ID), map[string]any{"done": 1}, 400, northstar.EINVALID, "done"},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				tm.po.do(t, tc.method, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		e.wantUnchanged(t, before, "refused criteria and task changes")

		// At most 100 criteria and 100 tasks.
		many := make([]string, northstar.MaxCriteria)
		for i := range many {
			many[i] = fmt.Sprintf("Criterion %d", i+1)
		}
		full := tm.po.createStory(t, "BOOK", map[string]any{"title": "Full", "criteria": many, "tasks": many})
		before = e.snapshot(t)
		tm.po.post(t, "/api/v1/stories/"+full.Ref+"/criteria", map[string]string{"text": "One more"}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "criteria")
		tm.po.post(t, "/api/v1/stories/"+full.Ref+"/tasks", map[string]string{"text": "One more"}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "tasks")
		e.wantUnchanged(t, before, "a 101st criterion or task")
	})
}

// A bulk update changes up to 500 stories in one transaction: all of them
// or, when one ref is wrong, none.
func TestStoryBulkUpdate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		for i := 1; i <= 4; i++ {
			tm.po.createStory(t, "BOOK", map[string]any{"title": fmt.Sprintf("Story %d", i), "labels": []string{"old"}})
		}
		tm.po.createStory(t, "EBOOK", "Elsewhere")

		var out page[apiStory]
		tm.po.post(t, "/api/v1/stories/bulk", map[string]any{
			"refs": []string{"BOOK-1", "book-2", "EBOOK-1", "BOOK-1"}, "status": "ready", "assignee": "dev@example.com",
			"add_labels": []string{"q3"}, "remove_labels": []string{"OLD"},
		}).want(t, http.StatusOK).decode(t, &out)
		if got := refsOf(out.Items); !slices.Equal(got, []string{"BOOK-1", "BOOK-2", "EBOOK-1"}) {
			t.Errorf("bulk answered %v, want BOOK-1, BOOK-2, EBOOK-1 once each", got)
		}
		for _, ref := range []string{"BOOK-1", "BOOK-2", "EBOOK-1"} {
			s := tm.viewer.getStory(t, ref)
			if s.Status != "ready" || !slices.Equal(s.Labels, []string{"q3"}) || s.Assignee == nil || s.Assignee.Email != "dev@example.com" || s.Version != 2 {
				t.Errorf("%s after the bulk update: status %s labels %q assignee %+v version %d", ref, s.Status, s.Labels, s.Assignee, s.Version)
			}
		}
		// Removing the last label leaves an empty list, not null.
		res := tm.po.post(t, "/api/v1/stories/bulk", map[string]any{"refs": []string{"BOOK-3"}, "remove_labels": []string{"old"}, "assignee": nil}).want(t, http.StatusOK)
		if !strings.Contains(string(res.body), `"labels":[]`) {
			t.Errorf("bulk answer after removing the last label: %s", short(res.body))
		}
		if s := tm.viewer.getStory(t, "BOOK-3"); len(s.Labels) != 0 || s.Assignee != nil {
			t.Errorf("BOOK-3: labels %q assignee %+v", s.Labels, s.Assignee)
		}
		// Developers may change status in bulk.
		tm.dev.post(t, "/api/v1/stories/bulk", map[string]any{"refs": []string{"BOOK-4"}, "status": "in_progress"}).want(t, http.StatusOK)

		five00 := make([]string, northstar.MaxBulkRefs)
		for i := range five00 {
			five00[i] = fmt.Sprintf("BOOK-%d", i%4+1)
		}
		tm.po.post(t, "/api/v1/stories/bulk", map[string]any{"refs": five00, "status": "in_review"}).want(t, http.StatusOK)
		if s := tm.viewer.getStory(t, "BOOK-4"); s.Status != "in_review" {
			t.Errorf("after 500 refs: BOOK-4 is %s, want in_review", s.Status)
		}

		before := e.snapshot(t)
		refused := []struct {
			name        string
			who         *client
			body        any
			status      int
			code, field string
		}{
			{"501 refs", tm.po, map[string]any{"refs": append(five00, "BOOK-1"), "status": "done"}, 400, northstar.EINVALID, "refs"},
			{"one unknown ref", tm.po, map[string]any{"refs": []string{"BOOK-1", "BOOK-99", "BOOK-2"}, "status": "done"}, 404, northstar.ENOTFOUND, "refs[1]"},
			{"one malformed ref", tm.po, map[string]any{"refs": []string{"BOOK-1", "nonsense"}, "status": "done"}, 404, northstar.ENOTFOUND, "refs[1]"},
			{"a ref with NUL", tm.po, map[string]any{"refs": []string{"BOOK-1", "BO\x00OK-1"}, "status": "done"}, 404, northstar.ENOTFOUND, "refs[1]"},
			{"a product the caller cannot read", tm.outsider, map[string]any{"refs": []string{"BOOK-1"}, "status": "done"}, 404, northstar.ENOTFOUND, "refs[0]"},
			{"no refs", tm.po, map[string]any{"refs": []string{}, "status": "done"}, 400, northstar.EINVALID, "refs"},
			{"nothing to change", tm.po, map[string]any{"refs": []string{"BOOK-1"}}, 400, northstar.EINVALID, "refs"},
			{"unknown status", tm.po, map[string]any{"refs": []string{"BOOK-1"}, "status": "doing"}, 400, northstar.EINVALID, "status"},
			{"label too long", tm.po, map[string]any{"refs": []string{"BOOK-1"}, "add_labels": []string{strings.Repeat("l", 51)}}, 400, northstar.EINVALID, "add_labels"},
			{"assignee not a member", tm.po, map[string]any{"refs": []string{"BOOK-1"}, "assignee": "outsider@example.com"}, 422, northstar.EUNPROCESSABLE, "assignee"},
			{"developer labels", tm.dev, map[string]any{"refs": []string{"BOOK-1"}, "add_labels": []string{"x"}}, 403, northstar.EFORBIDDEN, "refs[0]"},
			{"refs not an array", tm.po, map[string]any{"refs": "BOOK-1", "status": "done"}, 400, northstar.EINVALID, "refs"},
			{"unknown field", tm.po, map[string]any{"refs": []string{"BOOK-1"}, "points": 3}, 400, northstar.EINVALID, "points"},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				tc.who.post(t, "/api/v1/stories/bulk", tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		e.wantUnchanged(t, before, "refused bulk updates")
	})
}

// Search covers the stories of every product the caller can read, best
// matches first, with prefix matching.
func TestStorySearch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.pm.createProduct(t, "SECRET", "Not for everyone")
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Barcode scanning on phones", "description": "Fast."})
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Weekly report", "criteria": []string{"Lists every barcode scanned"}})
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Unrelated"})
		tm.pm.createStory(t, "SECRET", map[string]any{"title": "Barcode printing"})

		search := func(who *client, query string) []searchHit {
			t.Helper()
			return list[searchHit](t, who, "/api/v1/search?"+query)
		}
		hits := search(tm.viewer, "q=barc")
		if got := refsOf2(hits); !slices.Equal(got, []string{"BOOK-1", "BOOK-2"}) {
			t.Errorf("viewer's search for barc = %v, want BOOK-1 (title) before BOOK-2 (criterion)", got)
		}
		if len(hits) > 0 {
			h := hits[0]
			if h.Product != "BOOK" || h.Kind != "story" || h.Title != "Barcode scanning on phones" || h.Type != "story" || h.Status != "new" || h.Score <= 0 {
				t.Errorf("first hit = %+v", h)
			}
			if len(hits) > 1 && hits[1].Score > h.Score {
				t.Errorf("hits not ordered by score: %+v", hits)
			}
		}
		// The product manager of both products finds both; an admin too;
		// someone in no product finds nothing.
		if got := refsOf2(search(tm.pm, "q=barcode")); len(got) != 3 || !slices.Contains(got, "SECRET-1") {
			t.Errorf("pm's search = %v, want BOOK-1, BOOK-2 and SECRET-1", got)
		}
		if got := refsOf2(search(tm.admin, "q=barcode")); len(got) != 3 {
			t.Errorf("admin's search = %v, want 3 hits", got)
		}
		if got := search(tm.outsider, "q=barcode"); len(got) != 0 {
			t.Errorf("outsider's search = %+v, want nothing", got)
		}
		if got := search(tm.viewer, "q=barcode&limit=1"); len(got) != 1 {
			t.Errorf("limit=1: %d hits", len(got))
		}
		if got := search(tm.viewer, "q=*%26:!"); len(got) != 0 {
			t.Errorf("punctuation finds %+v", got)
		}
		res := tm.viewer.get(t, "/api/v1/search?q=nothingmatches").want(t, http.StatusOK)
		if got := strings.TrimSpace(string(res.body)); got != `{"items":[]}` {
			t.Errorf("no hits = %s, want {\"items\":[]}", got)
		}
		// A story's new title is found, a deleted story is not.
		tm.po.patch(t, "/api/v1/stories/BOOK-3", map[string]string{"title": "Inventory export"}).want(t, http.StatusOK)
		if got := refsOf2(search(tm.viewer, "q=invent")); !slices.Equal(got, []string{"BOOK-3"}) {
			t.Errorf("after renaming: %v", got)
		}
		tm.po.delete(t, "/api/v1/stories/BOOK-1").want(t, http.StatusNoContent)
		if got := refsOf2(search(tm.viewer, "q=phones")); len(got) != 0 {
			t.Errorf("deleted story found: %v", got)
		}

		bad := []struct{ query, field string }{
			{"", "q"},
			{"q=", "q"},
			{"q=+++", "q"},
			{"q=" + strings.Repeat("q", 201), "q"},
			{"q=a%00", "q"},
			{"q=%FF", "q"},
			{"q=x&limit=0", "limit"},
			{"q=x&limit=51", "limit"},
			{"q=x&limit=ten", "limit"},
		}
		for _, tc := range bad {
			tm.viewer.get(t, "/api/v1/search?"+tc.query).wantError(t, http.StatusBadRequest, northstar.EINVALID, tc.field)
		}
	})
}

func refsOf2(hits []searchHit) []string {
	refs := make([]string, len(hits))
	for i, h := range hits {
		refs[i] = h.Ref
	}
	return refs
}

// Bad input to the backlog API: a 4xx that names the field, and nothing
// written.
func TestStoryBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		tm.po.createStory(t, "BOOK", "First")
		tm.po.createStory(t, "BOOK", "Second")
		tm.po.createStory(t, "EBOOK", "Elsewhere")
		long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
		n := func(count int, prefix string) []string {
			out := make([]string, count)
			for i := range out {
				out[i] = fmt.Sprintf("%s %d", prefix, i+1)
			}
			return out
		}
		refs501 := make([]string, 501)
		for i := range refs501 {
			refs501[i] = "BOOK-1"
		}

		const create = "/api/v1/products/BOOK/stories"
		const story = "/api/v1/stories/BOOK-1"
		cases := []struct {
			name         string
			method, path string
			body         any
			status       int
			code, field  string
		}{
			// The list.
			{"points off the scale", "POST", create, map[string]any{"title": "x", "points": 4}, 400, northstar.EINVALID, "points"},
			{"points off the scale on update", "PATCH", story, map[string]any{"points": 7}, 400, northstar.EINVALID, "points"},
			{"negative points", "PATCH", story, map[string]any{"points": -1}, 400, northstar.EINVALID, "points"},
			{"points not a whole number", "PATCH", story, map[string]any{"points": 2.5}, 400, northstar.EINVALID, "points"},
			{"points a string", "PATCH", story, map[string]any{"points": "five"}, 400, northstar.EINVALID, "points"},
			{"unknown ref", "GET", "/api/v1/stories/BOOK-99", nil, 404, northstar.ENOTFOUND, ""},
			{"unknown ref on update", "PATCH", "/api/v1/stories/BOOK-99", map[string]string{"status": "done"}, 404, northstar.ENOTFOUND, ""},
			{"unknown ref on delete", "DELETE", "/api/v1/stories/BOOK-99", nil, 404, northstar.ENOTFOUND, ""},
			{"unknown ref on move", "POST", "/api/v1/stories/BOOK-99/move", map[string]string{"position": "top"}, 404, northstar.ENOTFOUND, ""},
			{"unknown product in ref", "GET", "/api/v1/stories/NOPE-1", nil, 404, northstar.ENOTFOUND, ""},
			{"malformed ref", "GET", "/api/v1/stories/BOOK", nil, 404, northstar.ENOTFOUND, ""},
			{"ref number zero", "GET", "/api/v1/stories/BOOK-0", nil, 404, northstar.ENOTFOUND, ""},
			{"ref with leading zero", "GET", "/api/v1/stories/BOOK-01", nil, 404, northstar.ENOTFOUND, ""},
			{"move before an unknown story", "POST", story + "/move", map[string]string{"before": "BOOK-99"}, 404, northstar.ENOTFOUND, "before"},
			{"move after a malformed ref", "POST", story + "/move", map[string]string{"after": "seven"}, 400, northstar.EINVALID, "after"},
			{"move before another product's story", "POST", story + "/move", map[string]string{"before": "EBOOK-1"}, 422, northstar.EUNPROCESSABLE, "before"},
			{"move after another product's story", "POST", story + "/move", map[string]string{"after": "ebook-1"}, 422, northstar.EUNPROCESSABLE, "after"},
			{"move relative to itself", "POST", story + "/move", map[string]string{"before": "BOOK-1"}, 400, northstar.EINVALID, "before"},
			{"move two places at once", "POST", story + "/move", map[string]string{"before": "BOOK-2", "position": "top"}, 400, northstar.EINVALID, "position"},
			{"move nowhere", "POST", story + "/move", map[string]string{}, 400, northstar.EINVALID, "position"},
			{"move to the middle", "POST", story + "/move", map[string]string{"position": "middle"}, 400, northstar.EINVALID, "position"},
			{"move with an unknown field", "POST", story + "/move", map[string]string{"to": "top"}, 400, northstar.EINVALID, "to"},
			{"101 criteria", "POST", create, map[string]any{"title": "x", "criteria": n(101, "Criterion")}, 400, northstar.EINVALID, "criteria"},
			{"101 tasks", "POST", create, map[string]any{"title": "x", "tasks": n(101, "Task")}, 400, northstar.EINVALID, "tasks"},
			{"bulk update over 500 refs", "POST", "/api/v1/stories/bulk", map[string]any{"refs": refs501, "status": "done"}, 400, northstar.EINVALID, "refs"},
			{"empty title", "POST", create, map[string]string{"title": ""}, 400, northstar.EINVALID, "title"},
			{"blank title", "POST", create, map[string]string{"title": " \t "}, 400, northstar.EINVALID, "title"},
			{"no title", "POST", create, map[string]string{"persona": "reader"}, 400, northstar.EINVALID, "title"},
			{"empty title on update", "PATCH", story, map[string]string{"title": ""}, 400, northstar.EINVALID, "title"},
			{"title over 300 characters", "POST", create, map[string]string{"title": long(301)}, 400, northstar.EINVALID, "title"},
			{"title over 300 characters on update", "PATCH", story, map[string]string{"title": long(301)}, 400, northstar.EINVALID, "title"},
			// The other fields.
			{"unknown type", "POST", create, map[string]string{"title": "x", "type": "epic"}, 400, northstar.EINVALID, "type"},
			{"unknown status", "POST", create, map[string]string{"title": "x", "status": "doing"}, 400, northstar.EINVALID, "status"},
			{"unknown status on update", "PATCH", story, map[string]string{"status": "doing"}, 400, northstar.EINVALID, "status"},
			{"unknown type on update", "PATCH", story, map[string]string{"type": "epic"}, 400, northstar.EINVALID, "type"},
			{"unknown position", "POST", create, map[string]string{"title": "x", "position": "middle"}, 400, northstar.EINVALID, "position"},
			{"persona too long", "POST", create, map[string]string{"title": "x", "persona": long(501)}, 400, northstar.EINVALID, "persona"},
			{"want too long", "PATCH", story, map[string]string{"want": long(501)}, 400, northstar.EINVALID, "want"},
			{"benefit too long", "PATCH", story, map[string]string{"benefit": long(501)}, 400, northstar.EINVALID, "benefit"},
			{"description too long", "POST", create, map[string]string{"title": "x", "description": long(50001)}, 400, northstar.EINVALID, "description"},
			{"criterion too long", "POST", create, map[string]any{"title": "x", "criteria": []string{long(1001)}}, 400, northstar.EINVALID, "criteria"},
			{"blank criterion", "POST", create, map[string]any{"title": "x", "criteria": []string{"ok", " "}}, 400, northstar.EINVALID, "criteria"},
			{"21 labels", "POST", create, map[string]any{"title": "x", "labels": n(21, "label")}, 400, northstar.EINVALID, "labels"},
			{"label too long", "PATCH", story, map[string]any{"labels": []string{long(51)}}, 400, northstar.EINVALID, "labels"},
			{"label with a comma", "POST", create, map[string]any{"title": "x", "labels": []string{"a,b"}}, 400, northstar.EINVALID, "labels"},
			{"assignee unknown", "POST", create, map[string]string{"title": "x", "assignee": "ghost@example.com"}, 400, northstar.EINVALID, "assignee"},
			{"assignee not a member", "PATCH", story, map[string]string{"assignee": "outsider@example.com"}, 422, northstar.EUNPROCESSABLE, "assignee"},
			{"assignee with NUL", "POST", create, map[string]string{"title": "x", "assignee": "dev\x00@example.com"}, 400, northstar.EINVALID, "assignee"},
			{"title with NUL", "POST", create, map[string]string{"title": "a\x00b"}, 400, northstar.EINVALID, "title"},
			{"title not a string", "POST", create, map[string]any{"title": 42}, 400, northstar.EINVALID, "title"},
			{"labels not an array", "PATCH", story, map[string]any{"labels": "mobile"}, 400, northstar.EINVALID, "labels"},
			{"accepted not a bool", "PATCH", story, map[string]any{"accepted": "yes"}, 400, northstar.EINVALID, "accepted"},
			{"assignee not a string", "PATCH", story, map[string]any{"assignee": 7}, 400, northstar.EINVALID, "assignee"},
			{"unknown field", "POST", create, map[string]any{"title": "x", "priority": 1}, 400, northstar.EINVALID, "priority"},
			{"read-only field on update", "PATCH", story, map[string]any{"rank": "a"}, 400, northstar.EINVALID, "rank"},
			{"version in the body", "PATCH", story, map[string]any{"version": 1}, 400, northstar.EINVALID, "version"},
			{"empty update", "PATCH", story, map[string]any{}, 400, northstar.EINVALID, ""},
			{"malformed JSON", "POST", create, `{"title": }`, 400, northstar.EINVALID, ""},
			{"empty body", "PATCH", story, "", 400, northstar.EINVALID, ""},
			{"body is an array", "POST", create, `[{"title": "x"}]`, 400, northstar.EINVALID, ""},
			{"trailing data", "POST", story + "/move", `{"position": "top"} {}`, 400, northstar.EINVALID, ""},
			{"unknown product", "POST", "/api/v1/products/NOPE/stories", map[string]string{"title": "x"}, 404, northstar.ENOTFOUND, ""},
			// Text a database cannot take.
			{"NUL in ref", "GET", "/api/v1/stories/BOOK%00-1", nil, 404, northstar.ENOTFOUND, ""},
			{"invalid UTF-8 in ref", "PATCH", "/api/v1/stories/BO%FFOK-1", map[string]string{"status": "done"}, 404, northstar.ENOTFOUND, ""},
			{"NUL in move target", "POST", story + "/move", map[string]string{"before": "BOOK-\x002"}, 400, northstar.EINVALID, "before"},
			{"NUL in task assignee", "POST", story + "/tasks", map[string]string{"text": "x", "assignee": "dev\x00@example.com"}, 400, northstar.EINVALID, "assignee"},
			{"invalid UTF-8 in assignee", "PATCH", story, "{\"assignee\": \"dev\xff@example.com\"}", 400, northstar.EINVALID, "assignee"},
			{"NUL in bulk assignee", "POST", "/api/v1/stories/bulk", map[string]any{"refs": []string{"BOOK-1"}, "assignee": "\x00"}, 400, northstar.EINVALID, "assignee"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := tm.po.do(t, tc.method, tc.path, tc.body)
				if res.status < 400 || res.status >= 500 {
					t.Fatalf("%s: got %d, want a 4xx; body: %s", res.req, res.status, short(res.body))
				}
				res.wantError(t, tc.status, tc.code, tc.field)
				e.wantUnchanged(t, before, tc.name)
			})
		}

		// A product key no database can compare: a 4xx on either engine.
		for _, path := range []string{"/api/v1/products/BO%00OK/stories", "/api/v1/products/BO%FFOK/stories"} {
			for _, method := range []string{"GET", "POST"} {
				before := e.snapshot(t)
				res := tm.po.do(t, method, path, map[string]string{"title": "x"})
				if res.status < 400 || res.status >= 500 {
					t.Errorf("%s: got %d, want a 4xx; body: %s", res.req, res.status, short(res.body))
				}
				e.wantUnchanged(t, before, method+" "+path)
			}
		}

		// The limits themselves are allowed.
		var s apiStory
		tm.po.post(t, create, map[string]any{
			"title": long(300), "persona": long(500), "want": long(500), "benefit": long(500), "description": long(50000),
			"criteria": n(100, long(990)), "tasks": n(100, "Task"), "labels": n(20, strings.Repeat("l", 45)), "points": 100, "type": "spike",
		}).want(t, http.StatusCreated).decode(t, &s)
		if len(s.Criteria) != 100 || len(s.Tasks) != 100 || len(s.Labels) != 20 || *s.Points != 100 {
			t.Errorf("story at the limits: %d criteria, %d tasks, %d labels, points %v", len(s.Criteria), len(s.Tasks), len(s.Labels), s.Points)
		}
		for _, p := range []int{0, 1, 2, 3, 5, 8, 13, 20, 40, 100} {
			tm.dev.patch(t, "/api/v1/stories/BOOK-2", map[string]int{"points": p}).want(t, http.StatusOK)
		}
		// The JSON round-trips: what GET answers is what the shapes say.
		var raw map[string]json.RawMessage
		tm.po.get(t, "/api/v1/stories/"+s.Ref).want(t, http.StatusOK).decode(t, &raw)
		for _, k := range []string{"ref", "product", "number", "type", "title", "persona", "want", "benefit", "description", "points", "status",
			"accepted", "accepted_at", "accepted_by", "assignee", "labels", "rank", "criteria", "tasks", "created_by", "updated_by",
			"created_at", "updated_at", "version", "sentence", "ready", "ready_problems", "criteria_met", "tasks_done", "sprint_id", "feature"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("story JSON lacks %q", k)
			}
		}
		if len(raw) != 31 {
			t.Errorf("story JSON has %d fields, want the 31 documented", len(raw))
		}
	})
}
