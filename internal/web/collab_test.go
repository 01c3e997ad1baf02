package web_test

// The collaboration pages over HTTP, as a browser without JavaScript and
// as collab.js (HX-Request) send them: comments with mentions, rendered
// and sanitised, edited and deleted by whom the rules allow; watching;
// the bell and the notifications list; the product's activity feed and
// its CSV; webhook settings for product managers only. The browser test
// in internal/e2e drives the same pages in Chromium.

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

// unread reads a signed-in person's bell.
func (b *browser) unread() int {
	b.t.Helper()
	a := b.get("/notifications/count")
	if a.status != http.StatusOK {
		b.t.Fatalf("GET /notifications/count: %d %s", a.status, a.body)
	}
	var got struct{ Unread int }
	if err := json.Unmarshal([]byte(a.body), &got); err != nil {
		b.t.Fatalf("bell: %v: %s", err, a.body)
	}
	return got.Unread
}

func (b *browser) hxGet(path string) answer {
	b.t.Helper()
	return b.do("GET", path, nil, htmx)
}

var commentIDRE = regexp.MustCompile(`id="comment-(\d+)"`)

func TestDiscussion(t *testing.T) {
	forEngines(t, testDiscussion)
}

func testDiscussion(t *testing.T, s *site) {
	story := createStories(t, s, "Scan a barcode")[0]
	pm, dev, viewer := s.login(t, "pm@northstar.test"), s.login(t, "dev@northstar.test"), s.login(t, "viewer@northstar.test")
	disc := "/discussion/story/" + story.Ref

	// The story page holds the placeholder collab.js fills.
	want(t, pm.get("/products/BOOK/stories/"+story.Ref), http.StatusOK, `data-discussion="`+disc+`"`, `href="`+disc+`"`)

	devBefore := dev.unread()
	// A comment with a mention, Markdown and a script, through the plain form.
	body := "Can we ship this, @dev? It is **urgent**.\n\n<script>alert('x')</script><img src=x onerror=alert(1)> [link](javascript:alert(1))"
	res := pm.post(disc, url.Values{"body": {body}})
	want(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != disc+"#discussion" {
		t.Errorf("after posting: Location %q", loc)
	}
	page := pm.get(disc)
	want(t, page, http.StatusOK, "Comment posted.", "<strong>urgent</strong>", `<span class="mention">@dev</span>`, "Priya Patel", "commented on", "Watching")
	wantNot(t, page, "<script>alert", "<img src=x onerror", `href="javascript:`)

	m := commentIDRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no comment on the discussion page")
	}
	commentID := m[1]

	// collab.js gets the block alone.
	frag := dev.hxGet(disc)
	want(t, frag, http.StatusOK, "<strong>urgent</strong>", `id="comment-new"`, `data-mentions="/products/BOOK/mentions"`)
	wantNot(t, frag, "<html", "<script>alert")

	// The mentioned developer's bell and list.
	if got := dev.unread(); got != devBefore+1 {
		t.Errorf("dev's bell = %d, want %d", got, devBefore+1)
	}
	list := dev.get("/notifications")
	want(t, list, http.StatusOK, "Mentioned you", "Priya Patel", "story "+story.Ref, "/products/BOOK/stories/"+story.Ref+"#discussion", "Mark all read")
	nm := regexp.MustCompile(`action="/notifications/(\d+)/read"`).FindStringSubmatch(list.body)
	if nm == nil {
		t.Fatal("no mark-read form")
	}
	want(t, dev.post("/notifications/"+nm[1]+"/read", url.Values{}), http.StatusSeeOther)
	if got := dev.unread(); got != devBefore {
		t.Errorf("after marking one read: bell = %d, want %d", got, devBefore)
	}
	want(t, dev.post("/notifications/read", url.Values{}), http.StatusSeeOther)
	if got := dev.unread(); got != 0 {
		t.Errorf("after marking all read: bell = %d, want 0", got)
	}
	want(t, dev.get("/notifications"), http.StatusOK, "You are up to date.")

	// Bad input through collab.js: the block again with the message and
	// what was typed; nothing written.
	bad := pm.hx(disc, url.Values{"body": {"Ping @nobody about this"}})
	want(t, bad, http.StatusBadRequest, "@nobody is not a member of BOOK", "Ping @nobody about this")
	want(t, pm.hx(disc, url.Values{"body": {"  "}}), http.StatusBadRequest, "body")
	want(t, pm.hx(disc, url.Values{"body": {strings.Repeat("x", northstar.MaxCommentLen+1)}}), http.StatusBadRequest)
	if n := strings.Count(pm.get(disc).body, `class="dsc-comment"`); n != 1 {
		t.Errorf("%d comments after bad input, want 1", n)
	}

	// Mentions in code, and addresses, are not marked.
	want(t, pm.post(disc, url.Values{"body": {"Run `notify @dev` or mail ops@example.com, @po."}}), http.StatusSeeOther)
	marked := pm.get(disc)
	want(t, marked, http.StatusOK, "<code>notify @dev</code>", "ops@example.com", `<span class="mention">@po</span>.`)
	wantNot(t, marked, `<span class="mention">@example.com`)
	if m := regexp.MustCompile(`id="comment-(\d+)"`).FindAllStringSubmatch(marked.body, -1); len(m) == 2 {
		want(t, pm.post("/comments/"+m[1][1]+"/delete", url.Values{"kind": {"story"}, "ref": {story.Ref}}), http.StatusSeeOther)
	}

	// The author edits within the window: marked edited. Others may not.
	want(t, pm.hx("/comments/"+commentID, url.Values{"body": {"Can we ship this, @dev? **Tomorrow** is fine."}, "kind": {"story"}, "ref": {story.Ref}}),
		http.StatusOK, "<strong>Tomorrow</strong>", "(edited)")
	want(t, dev.hx("/comments/"+commentID, url.Values{"body": {"hijack"}, "kind": {"story"}, "ref": {story.Ref}}), http.StatusForbidden, "Only its author")
	want(t, dev.post("/comments/"+commentID+"/delete", url.Values{"kind": {"story"}, "ref": {story.Ref}}), http.StatusForbidden)

	// A viewer reads but cannot comment; the app refuses the post.
	vpage := viewer.get(disc)
	want(t, vpage, http.StatusOK, "Tomorrow", "can read the discussion but not comment")
	wantNot(t, vpage, `id="comment-new"`)
	want(t, viewer.post(disc, url.Values{"body": {"hello"}}), http.StatusForbidden)

	// Watching: the commenter watches; unwatch and watch again.
	want(t, pm.hx("/watch/story/"+story.Ref, url.Values{"watch": {"0"}}), http.StatusOK, `aria-pressed="false"`)
	want(t, pm.post("/watch/story/"+story.Ref, url.Values{"watch": {"1"}}), http.StatusSeeOther)
	want(t, pm.hxGet(disc), http.StatusOK, `aria-pressed="true"`)

	// The timeline shows the changes field by field.
	done := northstar.StatusInProgress
	if _, err := s.app.UpdateStory(s.as(t, "po@northstar.test"), story.Ref, 0, northstar.StoryUpdate{Status: &done}); err != nil {
		t.Fatal(err)
	}
	tl := pm.hxGet(disc)
	want(t, tl, http.StatusOK, "Oliver Chen", "changed", "status", "<del>new</del>", "<ins>in_progress</ins>", "edited a comment on")
	// pm watches the story: told of the change.
	if got := pm.unread(); got < 1 {
		t.Errorf("pm's bell = %d after a change to a watched story, want at least 1", got)
	}

	// An admin may delete anyone's comment.
	reply, err := s.app.AddComment(s.as(t, "dev@northstar.test"), "story", story.Ref, "Estimated: 5 points.")
	if err != nil {
		t.Fatal(err)
	}
	admin := s.login(t, "admin@northstar.test")
	want(t, admin.hxGet(disc), http.StatusOK, fmt.Sprintf(`action="/comments/%d/delete"`, reply.ID))
	wantNot(t, pm.hxGet(disc), fmt.Sprintf(`action="/comments/%d/delete"`, reply.ID))
	want(t, admin.hx(fmt.Sprintf("/comments/%d/delete", reply.ID), url.Values{"kind": {"story"}, "ref": {story.Ref}}), http.StatusOK)
	wantNot(t, pm.hxGet(disc), "Estimated: 5 points.</p>")

	// The author deletes the comment.
	want(t, pm.post("/comments/"+commentID+"/delete", url.Values{"kind": {"story"}, "ref": {story.Ref}}), http.StatusSeeOther)
	want(t, pm.hxGet(disc), http.StatusOK, "No comments yet.", "deleted a comment on")

	// Unknown items and kinds are missing pages.
	want(t, pm.get("/discussion/story/BOOK-9999"), http.StatusNotFound)
	want(t, pm.get("/discussion/team/1"), http.StatusNotFound)
	want(t, pm.post("/discussion/story/BOOK-9999", url.Values{"body": {"x"}}), http.StatusNotFound)
}

// Every kind of item has its discussion, and the item pages hold it.
func TestDiscussionOnEveryItem(t *testing.T) {
	forEngines(t, testDiscussionOnEveryItem)
}

func testDiscussionOnEveryItem(t *testing.T, s *site) {
	fid, _ := discoveryFixture(t, s)
	ctx := s.as(t, "pm@northstar.test")
	f, err := s.app.CreateFeature(ctx, "BOOK", northstar.FeatureInput{Title: new("Barcode scanning")})
	if err != nil {
		t.Fatal(err)
	}
	team, err := s.app.CreateTeam(ctx, northstar.TeamInput{Name: "Shelf", Products: []string{"BOOK"}})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	sp, err := s.app.CreateSprint(ctx, team.ID, northstar.SprintInput{Name: "Sprint 1", Start: northstar.Date{Time: today}, End: northstar.Date{Time: today.AddDate(0, 0, 13)}})
	if err != nil {
		t.Fatal(err)
	}
	pm := s.login(t, "pm@northstar.test")
	items := []struct{ page, kind, ref string }{
		{"/products/BOOK", "product", "BOOK"},
		{"/products/BOOK/features/" + f.Ref, "feature", f.Ref},
		{fmt.Sprintf("/products/BOOK/feedback/%d", fid), "feedback", fmt.Sprintf("BOOK/%d", fid)},
		{fmt.Sprintf("/sprints/%d", sp.ID), "sprint", fmt.Sprint(sp.ID)},
	}
	for _, it := range items {
		disc := "/discussion/" + it.kind + "/" + it.ref
		want(t, pm.get(it.page), http.StatusOK, `data-discussion="`+disc+`"`)
		want(t, pm.post(disc, url.Values{"body": {"Looks good, @po."}}), http.StatusSeeOther)
		page := pm.get(disc)
		want(t, page, http.StatusOK, "Looks good, @po.", "commented on")
		for _, re := range []*regexp.Regexp{inlineStyle, inlineHandler, inlineScript} {
			if m := re.FindString(page.body); m != "" {
				t.Errorf("GET %s: inline %q", disc, m)
			}
		}
	}
	// The mention list for the comment box: members by handle or name.
	var got []struct{ Handle, Name string }
	a := pm.get("/products/BOOK/mentions?q=da")
	want(t, a, http.StatusOK)
	if err := json.Unmarshal([]byte(a.body), &got); err != nil || len(got) != 1 || got[0].Handle != "dev" {
		t.Errorf("mentions ?q=da = %s (%v), want dev (Dana Kim)", a.body, err)
	}
	// Not oneself.
	if a := pm.get("/products/BOOK/mentions?q=p"); strings.Contains(a.body, `"pm"`) || !strings.Contains(a.body, `"po"`) {
		t.Errorf("mentions ?q=p for the PM = %s, want po and not pm", a.body)
	}
	want(t, pm.get("/products/NOPE/mentions?q=a"), http.StatusNotFound)
}

func TestActivityFeed(t *testing.T) {
	forEngines(t, testActivityFeed)
}

func testActivityFeed(t *testing.T, s *site) {
	story := createStories(t, s, "Plain title")[0]
	po := s.as(t, "po@northstar.test")
	title := "=HYPERLINK(\"http://evil.example\",\"click\")"
	if _, err := s.app.UpdateStory(po, story.Ref, 0, northstar.StoryUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.AddComment(s.as(t, "dev@northstar.test"), "story", story.Ref, "@pm have a look"); err != nil {
		t.Fatal(err)
	}
	viewer := s.login(t, "viewer@northstar.test")
	feed := viewer.get("/products/BOOK/activity")
	want(t, feed, http.StatusOK, "Oliver Chen", "story "+story.Ref, "Dana Kim", "@pm have a look", "Download CSV", `aria-current="page">Activity`)
	for _, re := range []*regexp.Regexp{inlineStyle, inlineHandler, inlineScript} {
		if m := re.FindString(feed.body); m != "" {
			t.Errorf("activity page: inline %q", m)
		}
	}
	// Filters: by actor, by action, by kind, since a date.
	byDev := viewer.get("/products/BOOK/activity?actor=dev%40northstar.test")
	want(t, byDev, http.StatusOK, "@pm have a look")
	wantNot(t, byDev, "Oliver Chen</strong>")
	want(t, viewer.get("/products/BOOK/activity?action=commented&kind=story"), http.StatusOK, "@pm have a look")
	wantNot(t, viewer.get("/products/BOOK/activity?kind=feature"), "@pm have a look")
	wantNot(t, viewer.get("/products/BOOK/activity?since=2999-01-01"), "@pm have a look")
	want(t, viewer.get("/products/BOOK/activity?since=yesterday"), http.StatusBadRequest, "since must be a date")

	// Paging: 50 a page, and the next page goes on where it stopped.
	first := viewer.get("/products/BOOK/activity")
	if n := strings.Count(first.body, `class="tl-entry"`); n > 50 {
		t.Errorf("%d entries on a page", n)
	}
	if older := regexp.MustCompile(`href="(/products/BOOK/activity\?before=\d+)"`).FindStringSubmatch(first.body); older != nil {
		want(t, viewer.get(strings.ReplaceAll(older[1], "&amp;", "&")), http.StatusOK, "Newest")
	}

	// The CSV: a row per field, formulas neutralised.
	res := viewer.get("/products/BOOK/activity.csv?kind=story")
	want(t, res, http.StatusOK)
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("CSV Content-Type %q", ct)
	}
	if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, "BOOK-activity.csv") {
		t.Errorf("CSV Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatalf("read CSV: %v", err)
	}
	if len(rows) < 3 || strings.Join(rows[0], ",") != "id,at,actor,item_kind,item,action,field,old,new" {
		t.Fatalf("CSV = %v", rows)
	}
	var sawTitle bool
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("CSV cell %q starts a formula", cell)
			}
		}
		if row[4] != story.Ref && row[3] == "story" {
			continue
		}
		if row[6] == "title" && row[5] == "updated" {
			sawTitle = true
			if row[7] != "Plain title" || row[8] != "'"+title {
				t.Errorf("title row = %q", row)
			}
		}
	}
	if !sawTitle {
		t.Errorf("no title change in the CSV: %v", rows)
	}
	want(t, viewer.get("/products/NOPE/activity.csv"), http.StatusNotFound)
}

func TestWebhookSettings(t *testing.T) {
	forEngines(t, testWebhookSettings)
}

func testWebhookSettings(t *testing.T, s *site) {
	pm, viewer, dev := s.login(t, "pm@northstar.test"), s.login(t, "viewer@northstar.test"), s.login(t, "dev@northstar.test")
	want(t, viewer.get("/products/BOOK/webhooks"), http.StatusForbidden)
	want(t, dev.get("/products/BOOK/webhooks"), http.StatusForbidden)
	want(t, viewer.post("/products/BOOK/webhooks", url.Values{"url": {"https://203.0.113.10/hook"}, "all": {"1"}}), http.StatusForbidden)
	wantNot(t, viewer.get("/products/BOOK/activity"), "/products/BOOK/webhooks")

	page := pm.get("/products/BOOK/webhooks")
	want(t, page, http.StatusOK, "No webhooks yet", "Add webhook", `aria-current="page">Webhooks`)

	// Bad addresses are answered at the form, with what was typed.
	want(t, pm.post("/products/BOOK/webhooks", url.Values{"url": {"ftp://example.com/x"}, "all": {"1"}}), http.StatusBadRequest, "http or https", "ftp://example.com/x")
	want(t, pm.post("/products/BOOK/webhooks", url.Values{"url": {"http://127.0.0.1:9/x"}, "all": {"1"}}), http.StatusUnprocessableEntity, "loopback or private")
	want(t, pm.post("/products/BOOK/webhooks", url.Values{"url": {"https://203.0.113.10/hook"}, "other": {"not an event"}}), http.StatusBadRequest, "event type")

	// Added: the secret is shown once.
	created := pm.post("/products/BOOK/webhooks", url.Values{"url": {"https://203.0.113.10/hook"}, "kind": {"story", "feature"}})
	want(t, created, http.StatusCreated, "whsec_", "it is shown this once", "story.*", "feature.*")
	if strings.Contains(pm.get("/products/BOOK/webhooks").body, "whsec_") {
		t.Error("the secret is shown again")
	}
	hooks, err := s.app.Webhooks(s.as(t, "pm@northstar.test"), "BOOK")
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks = %v, %v", hooks, err)
	}
	id := fmt.Sprint(hooks[0].ID)

	// A change queues a delivery, listed with a redeliver button.
	createStories(t, s, "Queued for the hook")
	page = pm.get("/products/BOOK/webhooks")
	want(t, page, http.StatusOK, "story.created", "pending", "Redeliver")
	dm := regexp.MustCompile(`action="(/products/BOOK/webhooks/` + id + `/deliveries/\d+/redeliver)"`).FindStringSubmatch(page.body)
	if dm == nil {
		t.Fatal("no redeliver form")
	}
	want(t, pm.post(dm[1], url.Values{}), http.StatusSeeOther)
	if n := strings.Count(pm.get("/products/BOOK/webhooks").body, "<code>story.created</code>"); n != 2 {
		t.Errorf("%d story.created deliveries after redelivering, want 2", n)
	}
	want(t, viewer.post(dm[1], url.Values{}), http.StatusForbidden)

	// Edited: other events, turned off.
	want(t, pm.post("/products/BOOK/webhooks/"+id, url.Values{"url": {"https://203.0.113.10/other"}, "other": {"story.commented"}}), http.StatusSeeOther)
	page = pm.get("/products/BOOK/webhooks")
	want(t, page, http.StatusOK, "Webhook saved.", "https://203.0.113.10/other", "<code>story.commented</code>", ">Off<")
	want(t, pm.post("/products/BOOK/webhooks/"+id, url.Values{"url": {"https://203.0.113.10/other"}}), http.StatusBadRequest, "event type")

	// Deleted.
	want(t, viewer.post("/products/BOOK/webhooks/"+id+"/delete", url.Values{}), http.StatusForbidden)
	want(t, pm.post("/products/BOOK/webhooks/"+id+"/delete", url.Values{}), http.StatusSeeOther)
	want(t, pm.get("/products/BOOK/webhooks"), http.StatusOK, "Webhook deleted.", "No webhooks yet")
}
