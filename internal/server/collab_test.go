package server_test

// Working together through the API: comments on every kind of item with
// their permissions, mentions that notify, notifications read and
// counted, watches, the activity log as a timeline and a feed (JSON and
// CSV) that no route can change, and a product's webhooks.

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

// The JSON shapes of the collaboration API, as the tests read them.
type (
	apiComment struct {
		ID            int64       `json:"id"`
		ItemKind      string      `json:"item_kind"`
		Item          string      `json:"item"`
		Author        *apiUserRef `json:"author"`
		Body          string      `json:"body"`
		HTML          string      `json:"html"`
		Edited        bool        `json:"edited"`
		EditedAt      *string     `json:"edited_at"`
		CreatedAt     string      `json:"created_at"`
		EditableUntil string      `json:"editable_until"`
	}
	apiFieldChange struct {
		Field string `json:"field"`
		Old   any    `json:"old"`
		New   any    `json:"new"`
	}
	apiActivity struct {
		ID       int64            `json:"id"`
		Product  string           `json:"product"`
		ItemKind string           `json:"item_kind"`
		Item     string           `json:"item"`
		Action   string           `json:"action"`
		Actor    string           `json:"actor"`
		Changes  []apiFieldChange `json:"changes"`
		At       string           `json:"at"`
	}
	apiNotification struct {
		ID       int64       `json:"id"`
		Reason   string      `json:"reason"`
		Activity apiActivity `json:"activity"`
		ReadAt   *string     `json:"read_at"`
	}
	apiNotificationPage struct {
		Items      []apiNotification `json:"items"`
		NextCursor string            `json:"next_cursor"`
		Unread     int               `json:"unread"`
	}
	apiWebhook struct {
		ID             int64    `json:"id"`
		Product        string   `json:"product"`
		URL            string   `json:"url"`
		Events         []string `json:"events"`
		Active         bool     `json:"active"`
		Failures       int      `json:"failures"`
		DisabledReason string   `json:"disabled_reason"`
	}
	apiCreatedWebhook struct {
		Webhook apiWebhook `json:"webhook"`
		Secret  string     `json:"secret"`
	}
	apiDelivery struct {
		ID       int64  `json:"id"`
		Event    string `json:"event"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
)

// publicHook is a webhook address that passes the address check without
// a DNS lookup: a public (documentation) address. No test sends to it,
// for no test runs the delivery worker.
const publicHook = "https://203.0.113.10/hooks/northstar"

// collabItems is one item of every kind that takes comments, with the
// path of its collaboration routes.
type collabItem struct {
	kind, path, ref string
}

func collabItems(t *testing.T, tm *team, key string) []collabItem {
	t.Helper()
	f := tm.pm.createFeature(t, key, "Stock counts")
	s := tm.po.createStory(t, key, "Scan a barcode")
	fb := decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/"+key+"/feedback", map[string]any{"text": "We count stock by hand."}).
		want(t, http.StatusCreated))
	team := tm.po.createTeam(t, "Team "+key, key)
	sp := tm.po.createSprint(t, team.ID, "Sprint 1", 0)
	return []collabItem{
		{"product", "/api/v1/products/" + key, key},
		{"feature", "/api/v1/features/" + f.Ref, f.Ref},
		{"story", "/api/v1/stories/" + s.Ref, s.Ref},
		{"feedback", fmt.Sprintf("/api/v1/products/%s/feedback/%d", key, fb.ID), fmt.Sprintf("%s/%d", key, fb.ID)},
		{"sprint", sprintPath(sp.ID, ""), strconv.FormatInt(sp.ID, 10)},
	}
}

func (c *client) comment(t *testing.T, itemPath, body string) apiComment {
	t.Helper()
	return decodeAs[apiComment](t, c.post(t, itemPath+"/comments", map[string]string{"body": body}).want(t, http.StatusCreated))
}

func notifications(t *testing.T, c *client, query string) apiNotificationPage {
	t.Helper()
	return decodeAs[apiNotificationPage](t, c.get(t, "/api/v1/notifications"+query).want(t, http.StatusOK))
}

func unread(t *testing.T, c *client) int {
	t.Helper()
	var n struct {
		Unread int `json:"unread"`
	}
	c.get(t, "/api/v1/notifications/unread-count").want(t, http.StatusOK).decode(t, &n)
	return n.Unread
}

// Comments on every kind of item: members who may comment do, viewers
// read but may not, outsiders see nothing; Markdown is rendered and
// sanitised; the author edits (marked edited); the author or an admin
// deletes.
func TestComments(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		for _, it := range collabItems(t, tm, "BOOK") {
			t.Run(it.kind, func(t *testing.T) {
				c := tm.dev.comment(t, it.path, "Should it **beep**? <script>alert(1)</script> [x](javascript:alert(2))")
				if c.ItemKind != it.kind || c.Item != it.ref || c.Author == nil || c.Author.Email != "dev@example.com" || c.Edited || c.EditedAt != nil {
					t.Errorf("new comment = %+v", c)
				}
				if !strings.Contains(c.HTML, "<strong>beep</strong>") || strings.Contains(c.HTML, "<script") || strings.Contains(c.HTML, "javascript:") {
					t.Errorf("comment HTML not rendered and sanitised: %s", c.HTML)
				}
				if !strings.Contains(c.Body, "<script>") {
					t.Errorf("the Markdown is not kept as written: %q", c.Body)
				}
				// Every role may comment but viewers.
				for _, who := range []*client{tm.pm, tm.po, tm.stakeholder, tm.admin} {
					who.post(t, it.path+"/comments", map[string]string{"body": "From " + who.name}).check(t, http.StatusCreated)
				}
				tm.viewer.post(t, it.path+"/comments", map[string]string{"body": "Me too"}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
				tm.outsider.post(t, it.path+"/comments", map[string]string{"body": "Hi"}).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
				tm.outsider.get(t, it.path+"/comments").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
				// Everyone in the product reads them, oldest first, by pages.
				all := list[apiComment](t, tm.viewer, it.path+"/comments")
				if len(all) != 5 || all[0].ID != c.ID {
					t.Fatalf("viewer reads %d comments, first %+v", len(all), all[0])
				}
				var paged []int64
				next := it.path + "/comments?limit=2"
				for i := 0; next != ""; i++ {
					if i > 5 {
						t.Fatal("too many pages")
					}
					p := decodeAs[page[apiComment]](t, tm.viewer.get(t, next).want(t, http.StatusOK))
					for _, c := range p.Items {
						paged = append(paged, c.ID)
					}
					next = ""
					if p.NextCursor != "" {
						next = it.path + "/comments?limit=2&cursor=" + p.NextCursor
					}
				}
				var ids []int64
				for _, c := range all {
					ids = append(ids, c.ID)
				}
				if !slices.Equal(paged, ids) {
					t.Errorf("pages give %v, the whole list %v", paged, ids)
				}

				// Edits: the author only, marked edited.
				path := fmt.Sprintf("/api/v1/comments/%d", c.ID)
				edited := decodeAs[apiComment](t, tm.dev.patch(t, path, map[string]string{"body": "Should it beep, @po?"}).want(t, http.StatusOK))
				if !edited.Edited || edited.EditedAt == nil || edited.Body != "Should it beep, @po?" || edited.Item != it.ref {
					t.Errorf("edited comment = %+v", edited)
				}
				tm.po.patch(t, path, map[string]string{"body": "Mine now"}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
				tm.admin.patch(t, path, map[string]string{"body": "Mine now"}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
				tm.outsider.patch(t, path, map[string]string{"body": "Mine now"}).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
				if got := list[apiComment](t, tm.pm, it.path+"/comments")[0]; !got.Edited || got.Body != "Should it beep, @po?" {
					t.Errorf("after the edit the list shows %+v", got)
				}

				// Deletes: the author or an admin.
				tm.po.delete(t, path).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
				tm.viewer.delete(t, path).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
				tm.dev.delete(t, path).want(t, http.StatusNoContent)
				tm.dev.delete(t, path).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
				pmComment := list[apiComment](t, tm.pm, it.path+"/comments")[0]
				tm.admin.delete(t, fmt.Sprintf("/api/v1/comments/%d", pmComment.ID)).want(t, http.StatusNoContent)
				if n := len(list[apiComment](t, tm.pm, it.path+"/comments")); n != 3 {
					t.Errorf("%d comments after two deletions, want 3", n)
				}
			})
		}
	})
}

// A comment can be edited for a while after it is posted; after that its
// author gets a 422 and it stays as it was, though it can still be
// deleted.
func TestCommentEditWindow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		story := "/api/v1/stories/" + tm.po.createStory(t, "BOOK", "Scan a barcode").Ref
		// Posted 20 minutes ago.
		e.db.TravelTo(time.Now().Add(-20 * time.Minute))
		c := tm.dev.comment(t, story, "Too late to change")
		e.db.TravelTo(time.Time{})
		if until, err := time.Parse(time.RFC3339Nano, c.EditableUntil); err != nil || time.Until(until) > -4*time.Minute {
			t.Errorf("editable_until %q (%v), want about 5 minutes ago", c.EditableUntil, err)
		}
		path := fmt.Sprintf("/api/v1/comments/%d", c.ID)
		before := e.snapshot(t)
		tm.dev.patch(t, path, map[string]string{"body": "Changed"}).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		e.wantUnchanged(t, before, "an edit after the window")
		if got := list[apiComment](t, tm.dev, story+"/comments"); len(got) != 1 || got[0].Body != "Too late to change" || got[0].Edited {
			t.Errorf("comments after a late edit = %+v", got)
		}
		tm.dev.delete(t, path).want(t, http.StatusNoContent)
	})
}

// A mention notifies the person mentioned; marking read changes the
// unread count; watching by hand and unwatching decide who hears of
// changes.
func TestMentionsNotificationsAndWatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		s := tm.pm.createStory(t, "BOOK", "Scan a barcode")
		story := "/api/v1/stories/" + s.Ref

		if n := unread(t, tm.po); n != 0 {
			t.Fatalf("PO starts with %d unread", n)
		}
		tm.dev.comment(t, story, "Should it beep? @po and @stakeholder@example.com, please look.")
		got := notifications(t, tm.po, "")
		if got.Unread != 1 || len(got.Items) != 1 || got.Items[0].Reason != "mention" || got.Items[0].Activity.Item != s.Ref ||
			got.Items[0].Activity.Action != "commented" || got.Items[0].ReadAt != nil {
			t.Fatalf("PO notifications = %+v", got)
		}
		if n := unread(t, tm.stakeholder); n != 1 {
			t.Errorf("mentioned by whole address, the stakeholder has %d unread", n)
		}
		if n := unread(t, tm.dev); n != 0 {
			t.Errorf("the author has %d unread", n)
		}
		// Each person sees only their own.
		if n := len(notifications(t, tm.viewer, "").Items); n != 0 {
			t.Errorf("the viewer sees %d notifications", n)
		}

		// The commenter watches the story now: the PM's change reaches
		// them; the PM created it and hears of the PO's change.
		var w struct {
			Watching bool `json:"watching"`
		}
		tm.dev.get(t, story+"/watch").want(t, http.StatusOK).decode(t, &w)
		if !w.Watching {
			t.Error("the commenter does not watch the story")
		}
		tm.pm.patch(t, story, map[string]any{"title": "Scan any barcode"}).want(t, http.StatusOK)
		dev := notifications(t, tm.dev, "?unread=true")
		if dev.Unread != 1 || len(dev.Items) != 1 || dev.Items[0].Reason != "watching" || dev.Items[0].Activity.Action != "updated" {
			t.Fatalf("developer's notifications = %+v", dev)
		}

		// Marking read: by id, then all; others' ids change nothing.
		var mr struct {
			Marked int64 `json:"marked"`
			Unread int   `json:"unread"`
		}
		tm.po.post(t, "/api/v1/notifications/read", map[string]any{"ids": []int64{dev.Items[0].ID}}).want(t, http.StatusOK).decode(t, &mr)
		if mr.Marked != 0 || unread(t, tm.dev) != 1 {
			t.Errorf("the PO marked the developer's notification read: %+v", mr)
		}
		tm.dev.post(t, "/api/v1/notifications/read", map[string]any{"ids": []int64{dev.Items[0].ID}}).want(t, http.StatusOK).decode(t, &mr)
		if mr.Marked != 1 || mr.Unread != 0 || unread(t, tm.dev) != 0 {
			t.Errorf("mark read by id: %+v, %d unread", mr, unread(t, tm.dev))
		}
		if p := notifications(t, tm.dev, "?unread=true"); len(p.Items) != 0 || p.Unread != 0 {
			t.Errorf("unread list after marking read: %+v", p)
		}
		if p := notifications(t, tm.dev, ""); len(p.Items) != 1 || p.Items[0].ReadAt == nil {
			t.Errorf("the read notification is not listed as read: %+v", p)
		}
		tm.pm.patch(t, story, map[string]any{"title": "Scan every barcode"}).want(t, http.StatusOK)
		tm.pm.comment(t, story, "Done, @dev.")
		if n := unread(t, tm.dev); n != 2 {
			t.Fatalf("developer has %d unread, want 2", n)
		}
		tm.dev.post(t, "/api/v1/notifications/read", map[string]any{"all": true}).want(t, http.StatusOK).decode(t, &mr)
		if mr.Marked != 2 || mr.Unread != 0 {
			t.Errorf("mark all read: %+v", mr)
		}

		// Paging, newest first.
		for i := 0; i < 3; i++ {
			tm.pm.comment(t, story, fmt.Sprintf("Note %d for @po", i))
		}
		first := notifications(t, tm.po, "?limit=2")
		if len(first.Items) != 2 || first.NextCursor == "" || first.Unread != 4 || first.Items[0].ID < first.Items[1].ID {
			t.Fatalf("first page = %+v", first)
		}
		second := notifications(t, tm.po, "?limit=2&cursor="+first.NextCursor)
		if len(second.Items) == 0 || second.Items[0].ID >= first.Items[1].ID {
			t.Errorf("second page = %+v", second)
		}

		// Unwatching stops the changes; watching again brings them back.
		tm.dev.delete(t, story+"/watch").want(t, http.StatusOK).decode(t, &w)
		if w.Watching {
			t.Error("DELETE /watch answered watching")
		}
		tm.dev.delete(t, story+"/watch").want(t, http.StatusOK)
		was := unread(t, tm.dev)
		tm.pm.patch(t, story, map[string]any{"title": "Scan all barcodes"}).want(t, http.StatusOK)
		if n := unread(t, tm.dev); n != was {
			t.Errorf("an unwatched story notified the developer (%d unread, was %d)", n, was)
		}
		tm.viewer.put(t, story+"/watch", nil).want(t, http.StatusOK).decode(t, &w)
		if !w.Watching {
			t.Error("PUT /watch answered not watching")
		}
		tm.pm.patch(t, story, map[string]any{"points": 3}).want(t, http.StatusOK)
		if n := unread(t, tm.viewer); n != 1 {
			t.Errorf("a viewer watching by hand has %d unread, want 1", n)
		}
		tm.outsider.put(t, story+"/watch", nil).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.outsider.get(t, story+"/watch").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
	})
}

// The activity log: a story's timeline shows each change field by field;
// the product's feed filters and pages; no route can change the log.
func TestActivityTimelineAndFeed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		s := tm.po.createStory(t, "BOOK", "Scan a barcode")
		story := "/api/v1/stories/" + s.Ref
		tm.po.patch(t, story, map[string]any{"title": "Scan any barcode", "points": 5}).want(t, http.StatusOK)
		tm.dev.comment(t, story, "On it.")
		f := tm.pm.createFeature(t, "BOOK", "Stock counts")

		timeline := list[apiActivity](t, tm.viewer, story+"/activity")
		if len(timeline) != 3 {
			t.Fatalf("story timeline has %d entries, want 3: %+v", len(timeline), timeline)
		}
		if a := timeline[2]; a.Action != "created" || a.Actor != "Olu Owner" || a.Item != s.Ref || a.ItemKind != "story" || a.Product != "BOOK" {
			t.Errorf("oldest entry = %+v", a)
		}
		upd := timeline[1]
		if upd.Action != "updated" || upd.Actor != "Olu Owner" {
			t.Errorf("update entry = %+v", upd)
		}
		changes := map[string]apiFieldChange{}
		for _, c := range upd.Changes {
			changes[c.Field] = c
		}
		if c := changes["title"]; c.Old != "Scan a barcode" || c.New != "Scan any barcode" {
			t.Errorf("title change = %+v (all: %+v)", c, upd.Changes)
		}
		if c := changes["points"]; c.Old != nil || c.New != float64(5) {
			t.Errorf("points change = %+v", c)
		}
		if _, ok := changes["version"]; ok {
			t.Errorf("bookkeeping in the diff: %+v", upd.Changes)
		}
		if timeline[0].Action != "commented" || timeline[0].Actor != "Dev Eloper" {
			t.Errorf("newest entry = %+v", timeline[0])
		}
		// The feature's timeline holds only the feature.
		if ft := list[apiActivity](t, tm.viewer, "/api/v1/features/"+f.Ref+"/activity"); len(ft) != 1 || ft[0].Item != f.Ref || ft[0].Action != "created" {
			t.Errorf("feature timeline = %+v", ft)
		}

		// The feed: everything in the product, with filters.
		feed := "/api/v1/products/BOOK/activity"
		all := list[apiActivity](t, tm.viewer, feed)
		if len(all) < 4 {
			t.Fatalf("feed has %d entries", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID >= all[i-1].ID {
				t.Fatalf("feed not newest first: %d then %d", all[i-1].ID, all[i].ID)
			}
		}
		filtered := []struct {
			query string
			ok    func(a apiActivity) bool
			min   int
		}{
			{"actor=po@example.com", func(a apiActivity) bool { return a.Actor == "Olu Owner" }, 2},
			{"action=updated", func(a apiActivity) bool { return a.Action == "updated" }, 1},
			{"kind=story", func(a apiActivity) bool { return a.ItemKind == "story" }, 3},
			{"kind=feature&actor=PM@example.com", func(a apiActivity) bool { return a.Item == f.Ref }, 1},
			{"kind=product", func(a apiActivity) bool { return a.ItemKind == "product" && a.Item == "BOOK" }, 1},
			{"since=2000-01-01", func(a apiActivity) bool { return true }, len(all)},
		}
		for _, tc := range filtered {
			got := list[apiActivity](t, tm.viewer, feed+"?"+tc.query)
			if len(got) < tc.min {
				t.Errorf("feed?%s: %d entries, want at least %d", tc.query, len(got), tc.min)
			}
			for _, a := range got {
				if !tc.ok(a) {
					t.Errorf("feed?%s lists %+v", tc.query, a)
				}
			}
		}
		for _, q := range []string{"since=2999-01-01", "since=2999-01-01T00:00:00Z", "actor=nobody@example.com", "action=exploded"} {
			if got := list[apiActivity](t, tm.viewer, feed+"?"+q); len(got) != 0 {
				t.Errorf("feed?%s lists %d entries, want none", q, len(got))
			}
		}
		// Pages follow on without gaps or repeats.
		var paged []int64
		next := feed + "?limit=2"
		for i := 0; next != ""; i++ {
			if i > len(all) {
				t.Fatal("too many pages")
			}
			p := decodeAs[page[apiActivity]](t, tm.viewer.get(t, next).want(t, http.StatusOK))
			for _, a := range p.Items {
				paged = append(paged, a.ID)
			}
			next = ""
			if p.NextCursor != "" {
				next = feed + "?limit=2&cursor=" + p.NextCursor
			}
		}
		if len(paged) != len(all) || paged[0] != all[0].ID || paged[len(paged)-1] != all[len(all)-1].ID {
			t.Errorf("paged feed %v, whole feed of %d", paged, len(all))
		}
		tm.outsider.get(t, feed).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.outsider.get(t, story+"/activity").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")

		// The log is append-only: the only routes about it are GETs, and
		// every other method on them is refused without a change.
		before := e.snapshot(t)
		for _, rt := range e.server.APIRoutes() {
			if strings.Contains(rt.Pattern, "/activity") && rt.Method != "GET" {
				t.Errorf("%s %s changes the activity log", rt.Method, rt.Pattern)
			}
		}
		for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			for _, path := range []string{feed, story + "/activity", feed + ".csv"} {
				if res := tm.admin.do(t, m, path, "{}"); res.status != http.StatusMethodNotAllowed && res.status != http.StatusNotFound {
					t.Errorf("%s: got %d, want 405 or 404", res.req, res.status)
				}
			}
		}
		e.wantUnchanged(t, before, "writes to the activity log")
	})
}

// The feed exports as CSV: a header, one row an entry, quoted as RFC
// 4180 says, and cells a spreadsheet would run as formulas defused.
func TestActivityCSV(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		evil := e.newUser(t, `=HYPERLINK("http://evil.example","click")`, "evil@example.com")
		tm.pm.setMember(t, "BOOK", "evil@example.com", "developer")
		plus := e.newUser(t, "+1 Caller", "plus@example.com")
		tm.pm.setMember(t, "BOOK", "plus@example.com", "developer")
		s := tm.po.createStory(t, "BOOK", "Scan a barcode")
		story := "/api/v1/stories/" + s.Ref
		tm.po.patch(t, story, map[string]any{"title": `Scan, "quickly"`}).want(t, http.StatusOK)
		evil.comment(t, story, "-2+3")
		plus.comment(t, story, "Plus one")

		res := tm.viewer.get(t, "/api/v1/products/book/activity.csv").want(t, http.StatusOK)
		if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="BOOK-activity.csv"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		if err != nil {
			t.Fatalf("the export is not CSV: %v\n%s", err, res.body)
		}
		if want := []string{"id", "at", "actor", "action", "item_kind", "item", "changes"}; !slices.Equal(rows[0], want) {
			t.Fatalf("header %v, want %v", rows[0], want)
		}
		feed := list[apiActivity](t, tm.viewer, "/api/v1/products/BOOK/activity?limit=200")
		if len(rows)-1 != len(feed) {
			t.Fatalf("%d rows, the feed has %d entries", len(rows)-1, len(feed))
		}
		byActor := map[string][][]string{}
		for i, row := range rows[1:] {
			if row[0] != strconv.FormatInt(feed[i].ID, 10) || row[3] != feed[i].Action || row[5] != feed[i].Item {
				t.Errorf("row %d = %v, feed entry %+v", i+1, row, feed[i])
			}
			byActor[row[2]] = append(byActor[row[2]], row)
		}
		// Formulas start with an apostrophe; the rest is as it was.
		if got := byActor[`'=HYPERLINK("http://evil.example","click")`]; len(got) != 1 || got[0][3] != "commented" {
			t.Errorf("the formula in a name is not defused: %v", byActor)
		}
		if got := byActor["'+1 Caller"]; len(got) != 1 {
			t.Errorf("a name starting with + is not defused: %v", byActor)
		}
		var updated []string
		for _, row := range rows[1:] {
			if row[3] == "updated" && row[5] == s.Ref {
				updated = row
			}
		}
		if updated == nil || !strings.Contains(updated[6], `title: "Scan a barcode" → "Scan, \"quickly\""`) {
			t.Errorf("the update row = %v", updated)
		}
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("cell %q would run as a formula", cell)
				}
			}
		}
		// Filters apply to the export as to the feed.
		res = tm.viewer.get(t, "/api/v1/products/BOOK/activity.csv?action=commented").want(t, http.StatusOK)
		rows, err = csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		if err != nil || len(rows) != 3 {
			t.Errorf("filtered export: %d rows (%v), want a header and 2", len(rows), err)
		}
		tm.outsider.get(t, "/api/v1/products/BOOK/activity.csv").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.viewer.get(t, "/api/v1/products/BOOK/activity.csv?since=yesterday").wantError(t, http.StatusBadRequest, northstar.EINVALID, "since")
	})
}

// Webhooks: product managers add (the secret shown once), list, change
// and delete them; private addresses are refused; each change queues a
// delivery that can be sent again.
func TestWebhooks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		hooks := "/api/v1/products/BOOK/webhooks"

		res := tm.pm.post(t, hooks, map[string]any{"url": publicHook, "events": []string{"story.*"}}).want(t, http.StatusCreated)
		created := decodeAs[apiCreatedWebhook](t, res)
		if !strings.HasPrefix(created.Secret, "whsec_") || len(created.Secret) < 30 {
			t.Errorf("secret %q", created.Secret)
		}
		if res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("the answer with the secret may be cached: %q", res.header.Get("Cache-Control"))
		}
		h := created.Webhook
		if h.URL != publicHook || !slices.Equal(h.Events, []string{"story.*"}) || !h.Active || h.Product != "BOOK" {
			t.Errorf("new webhook = %+v", h)
		}
		// The secret is never shown again.
		res = tm.pm.get(t, hooks).want(t, http.StatusOK)
		if strings.Contains(string(res.body), created.Secret) || strings.Contains(string(res.body), "secret") {
			t.Errorf("the list shows the secret: %s", res.body)
		}
		if got := decodeAs[page[apiWebhook]](t, res).Items; len(got) != 1 || got[0].ID != h.ID {
			t.Errorf("webhooks = %+v", got)
		}
		// Only product managers (and admins) manage webhooks.
		for _, who := range []*client{tm.po, tm.dev, tm.stakeholder, tm.viewer} {
			who.get(t, hooks).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
			who.post(t, hooks, map[string]any{"url": publicHook}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		}
		tm.outsider.get(t, hooks).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.admin.get(t, hooks).want(t, http.StatusOK)

		// Private and loopback addresses are refused, nothing written.
		before := e.snapshot(t)
		for _, u := range []string{"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook", "http://192.168.0.10/hook",
			"http://169.254.169.254/latest/meta-data", "http://[::1]/hook", "http://0.0.0.0/hook", "http://100.64.0.1/hook"} {
			tm.pm.post(t, hooks, map[string]any{"url": u}).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "url")
		}
		tm.pm.patch(t, fmt.Sprintf("%s/%d", hooks, h.ID), map[string]any{"url": "http://127.0.0.1/hook"}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "url")
		e.wantUnchanged(t, before, "webhooks to private addresses")

		// A story change queues a delivery; a feature change does not.
		s := tm.po.createStory(t, "BOOK", "Scan a barcode")
		tm.pm.createFeature(t, "BOOK", "Stock counts")
		deliveries := fmt.Sprintf("%s/%d/deliveries", hooks, h.ID)
		ds := list[apiDelivery](t, tm.pm, deliveries)
		if len(ds) != 1 || ds[0].Event != "story.created" || ds[0].Status != "pending" {
			t.Fatalf("deliveries = %+v", ds)
		}
		tm.dev.get(t, deliveries).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		var rd struct {
			DeliveryID int64  `json:"delivery_id"`
			Status     string `json:"status"`
		}
		redeliver := fmt.Sprintf("%s/%d/redeliveries", hooks, h.ID)
		tm.pm.post(t, redeliver, map[string]any{"delivery_id": ds[0].ID}).want(t, http.StatusAccepted).decode(t, &rd)
		if rd.DeliveryID != ds[0].ID || rd.Status != "queued" {
			t.Errorf("redelivery = %+v", rd)
		}
		if got := list[apiDelivery](t, tm.pm, deliveries); len(got) != 2 {
			t.Errorf("%d deliveries after redelivering, want 2: %+v", len(got), got)
		}
		tm.po.post(t, redeliver, map[string]any{"delivery_id": ds[0].ID}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")

		// Changes: only the members sent.
		hook := fmt.Sprintf("%s/%d", hooks, h.ID)
		changed := decodeAs[apiWebhook](t, tm.pm.patch(t, hook, map[string]any{"events": []string{"*"}}).want(t, http.StatusOK))
		if changed.URL != publicHook || !slices.Equal(changed.Events, []string{"*"}) || !changed.Active {
			t.Errorf("changed webhook = %+v", changed)
		}
		changed = decodeAs[apiWebhook](t, tm.pm.patch(t, hook, map[string]any{"active": false}).want(t, http.StatusOK))
		if changed.Active || !slices.Equal(changed.Events, []string{"*"}) {
			t.Errorf("turned off webhook = %+v", changed)
		}
		// A turned-off webhook queues nothing.
		tm.po.patch(t, "/api/v1/stories/"+s.Ref, map[string]any{"title": "Scan any barcode"}).want(t, http.StatusOK)
		if got := list[apiDelivery](t, tm.pm, deliveries); len(got) != 2 {
			t.Errorf("a turned-off webhook got a delivery: %+v", got)
		}
		tm.po.patch(t, hook, map[string]any{"active": true}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")

		// Deleting takes the deliveries with it.
		tm.po.delete(t, hook).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		tm.pm.delete(t, hook).want(t, http.StatusNoContent)
		tm.pm.delete(t, hook).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.pm.get(t, deliveries).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		if got := list[apiWebhook](t, tm.pm, hooks); len(got) != 0 {
			t.Errorf("webhooks after deleting = %+v", got)
		}
		// A webhook of another product is not found through this one.
		tm.pm.createProduct(t, "EBOOK", "Ebooks")
		other := decodeAs[apiCreatedWebhook](t, tm.pm.post(t, "/api/v1/products/EBOOK/webhooks", map[string]any{"url": publicHook}).want(t, http.StatusCreated))
		if !slices.Equal(other.Webhook.Events, []string{"*"}) {
			t.Errorf("default events = %v, want [*]", other.Webhook.Events)
		}
		tm.pm.patch(t, fmt.Sprintf("%s/%d", hooks, other.Webhook.ID), map[string]any{"active": false}).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.pm.delete(t, fmt.Sprintf("%s/%d", hooks, other.Webhook.ID)).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.pm.get(t, fmt.Sprintf("%s/%d/deliveries", hooks, other.Webhook.ID)).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
	})
}

// Bad input to the collaboration routes: a 4xx naming the field at fault,
// and nothing written.
func TestCollabBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		s := tm.po.createStory(t, "BOOK", "Scan a barcode")
		f := tm.pm.createFeature(t, "BOOK", "Stock counts")
		story := "/api/v1/stories/" + s.Ref
		c := tm.dev.comment(t, story, "First")
		comment := fmt.Sprintf("/api/v1/comments/%d", c.ID)
		h := decodeAs[apiCreatedWebhook](t, tm.pm.post(t, "/api/v1/products/BOOK/webhooks", map[string]any{"url": publicHook}).want(t, http.StatusCreated)).Webhook
		hooks := "/api/v1/products/BOOK/webhooks"
		hook := fmt.Sprintf("%s/%d", hooks, h.ID)
		feed := "/api/v1/products/BOOK/activity"

		cases := []struct {
			name         string
			who          *client
			method, path string
			body         any
			status       int
			code, field  string
		}{
			// Comments.
			{"comment without a body", tm.dev, "POST", story + "/comments", map[string]any{}, 400, northstar.EINVALID, "body"},
			{"comment blank", tm.dev, "POST", story + "/comments", map[string]any{"body": "  \n "}, 400, northstar.EINVALID, "body"},
			{"comment too long", tm.dev, "POST", story + "/comments", map[string]any{"body": strings.Repeat("é", northstar.MaxCommentLen+1)}, 400, northstar.EINVALID, "body"},
			{"comment body a number", tm.dev, "POST", story + "/comments", `{"body": 12}`, 400, northstar.EINVALID, "body"},
			{"comment unknown field", tm.dev, "POST", story + "/comments", map[string]any{"body": "x", "html": "<b>x</b>"}, 400, northstar.EINVALID, "html"},
			{"comment not JSON", tm.dev, "POST", story + "/comments", "body=hi", 400, northstar.EINVALID, ""},
			{"mention of an unknown user", tm.dev, "POST", story + "/comments", map[string]any{"body": "Hi @nobody"}, 400, northstar.EINVALID, "body"},
			{"mention of a non-member", tm.dev, "POST", story + "/comments", map[string]any{"body": "Hi @outsider"}, 400, northstar.EINVALID, "body"},
			{"edit with an unknown mention", tm.dev, "PATCH", comment, map[string]any{"body": "Hi @nobody"}, 400, northstar.EINVALID, "body"},
			{"edit blank", tm.dev, "PATCH", comment, map[string]any{"body": ""}, 400, northstar.EINVALID, "body"},
			{"comment id not a number", tm.dev, "PATCH", "/api/v1/comments/first", map[string]any{"body": "x"}, 400, northstar.EINVALID, "id"},
			{"comment id zero", tm.dev, "DELETE", "/api/v1/comments/0", nil, 400, northstar.EINVALID, "id"},
			{"unknown comment", tm.dev, "PATCH", "/api/v1/comments/99999", map[string]any{"body": "x"}, 404, northstar.ENOTFOUND, ""},
			{"delete unknown comment", tm.admin, "DELETE", "/api/v1/comments/99999", nil, 404, northstar.ENOTFOUND, ""},
			{"comments of an unknown story", tm.dev, "GET", "/api/v1/stories/BOOK-999/comments", nil, 404, northstar.ENOTFOUND, ""},
			{"comment on a feature's ref as a story", tm.dev, "POST", "/api/v1/stories/" + f.Ref + "/comments", map[string]any{"body": "x"}, 404, northstar.ENOTFOUND, ""},
			{"comments of a story's ref as a feature", tm.dev, "GET", "/api/v1/features/" + s.Ref + "/comments", nil, 404, northstar.ENOTFOUND, ""},
			{"comments of an unknown product", tm.dev, "GET", "/api/v1/products/NOPE/comments", nil, 404, northstar.ENOTFOUND, ""},
			{"comments of unknown feedback", tm.dev, "GET", "/api/v1/products/BOOK/feedback/99999/comments", nil, 404, northstar.ENOTFOUND, ""},
			{"feedback id not a number", tm.dev, "GET", "/api/v1/products/BOOK/feedback/x/comments", nil, 400, northstar.EINVALID, "id"},
			{"sprint id not a number", tm.dev, "GET", "/api/v1/sprints/one/comments", nil, 400, northstar.EINVALID, "id"},
			{"comments of an unknown sprint", tm.dev, "POST", "/api/v1/sprints/99999/comments", map[string]any{"body": "x"}, 404, northstar.ENOTFOUND, ""},
			{"comments limit zero", tm.dev, "GET", story + "/comments?limit=0", nil, 400, northstar.EINVALID, "limit"},
			{"comments limit too high", tm.dev, "GET", story + "/comments?limit=201", nil, 400, northstar.EINVALID, "limit"},
			{"comments cursor not base64", tm.dev, "GET", story + "/comments?cursor=!!!", nil, 400, northstar.EINVALID, "cursor"},
			{"comments cursor not an id", tm.dev, "GET", story + "/comments?cursor=" + encodeTestCursor("abc"), nil, 400, northstar.EINVALID, "cursor"},
			// Watches.
			{"watch an unknown story", tm.dev, "PUT", "/api/v1/stories/BOOK-999/watch", nil, 404, northstar.ENOTFOUND, ""},
			{"watch an unknown product", tm.dev, "GET", "/api/v1/products/NOPE/watch", nil, 404, northstar.ENOTFOUND, ""},
			// Activity.
			{"since not a date", tm.dev, "GET", feed + "?since=last+week", nil, 400, northstar.EINVALID, "since"},
			{"since an impossible date", tm.dev, "GET", feed + "?since=2026-02-30", nil, 400, northstar.EINVALID, "since"},
			{"action with spaces", tm.dev, "GET", feed + "?action=DROP+TABLE", nil, 400, northstar.EINVALID, "action"},
			{"kind not a word", tm.dev, "GET", feed + "?kind=Story", nil, 400, northstar.EINVALID, "kind"},
			{"kind on an item's timeline", tm.dev, "GET", story + "/activity?kind=story", nil, 400, northstar.EINVALID, "kind"},
			{"actor not an address", tm.dev, "GET", feed + "?actor=Pat", nil, 400, northstar.EINVALID, "actor"},
			{"actor too long", tm.dev, "GET", feed + "?actor=" + strings.Repeat("a", 250) + "@x.io", nil, 400, northstar.EINVALID, "actor"},
			{"feed cursor not an id", tm.dev, "GET", feed + "?cursor=" + encodeTestCursor("-3"), nil, 400, northstar.EINVALID, "cursor"},
			{"feed limit not a number", tm.dev, "GET", feed + "?limit=all", nil, 400, northstar.EINVALID, "limit"},
			{"timeline of an unknown story", tm.dev, "GET", "/api/v1/stories/BOOK-999/activity", nil, 404, northstar.ENOTFOUND, ""},
			{"feed of an unknown product", tm.dev, "GET", "/api/v1/products/NOPE/activity", nil, 404, northstar.ENOTFOUND, ""},
			{"export of an unknown product", tm.dev, "GET", "/api/v1/products/NOPE/activity.csv", nil, 404, northstar.ENOTFOUND, ""},
			{"export with a bad filter", tm.dev, "GET", feed + ".csv?action=a+b", nil, 400, northstar.EINVALID, "action"},
			// Notifications.
			{"unread not a boolean", tm.dev, "GET", "/api/v1/notifications?unread=maybe", nil, 400, northstar.EINVALID, "unread"},
			{"notifications cursor not an id", tm.dev, "GET", "/api/v1/notifications?cursor=" + encodeTestCursor("x"), nil, 400, northstar.EINVALID, "cursor"},
			{"mark read with nothing", tm.dev, "POST", "/api/v1/notifications/read", map[string]any{}, 400, northstar.EINVALID, "ids"},
			{"mark read ids and all", tm.dev, "POST", "/api/v1/notifications/read", map[string]any{"ids": []int{1}, "all": true}, 400, northstar.EINVALID, "ids"},
			{"mark read negative id", tm.dev, "POST", "/api/v1/notifications/read", map[string]any{"ids": []int{-1}}, 400, northstar.EINVALID, "ids"},
			{"mark read ids a string", tm.dev, "POST", "/api/v1/notifications/read", `{"ids": "1,2"}`, 400, northstar.EINVALID, "ids"},
			{"mark read all a string", tm.dev, "POST", "/api/v1/notifications/read", `{"all": "yes"}`, 400, northstar.EINVALID, "all"},
			{"mark read too many ids", tm.dev, "POST", "/api/v1/notifications/read", map[string]any{"ids": slices.Repeat([]int{1}, 201)}, 400, northstar.EINVALID, "ids"},
			// Webhooks.
			{"webhook without a url", tm.pm, "POST", hooks, map[string]any{"events": []string{"*"}}, 400, northstar.EINVALID, "url"},
			{"webhook url ftp", tm.pm, "POST", hooks, map[string]any{"url": "ftp://example.com/hook"}, 400, northstar.EINVALID, "url"},
			{"webhook url javascript", tm.pm, "POST", hooks, map[string]any{"url": "javascript:alert(1)"}, 400, northstar.EINVALID, "url"},
			{"webhook url with credentials", tm.pm, "POST", hooks, map[string]any{"url": "https://user:pw@203.0.113.10/hook"}, 400, northstar.EINVALID, "url"},
			{"webhook url relative", tm.pm, "POST", hooks, map[string]any{"url": "/hooks"}, 400, northstar.EINVALID, "url"},
			{"webhook url too long", tm.pm, "POST", hooks, map[string]any{"url": "https://203.0.113.10/" + strings.Repeat("a", 2000)}, 400, northstar.EINVALID, "url"},
			{"webhook url loopback", tm.pm, "POST", hooks, map[string]any{"url": "http://127.0.0.1/hook"}, 422, northstar.EUNPROCESSABLE, "url"},
			{"webhook url a number", tm.pm, "POST", hooks, `{"url": 5}`, 400, northstar.EINVALID, "url"},
			{"webhook bad event", tm.pm, "POST", hooks, map[string]any{"url": publicHook, "events": []string{"Story Updated"}}, 400, northstar.EINVALID, "events"},
			{"webhook events a string", tm.pm, "POST", hooks, map[string]any{"url": publicHook, "events": "*"}, 400, northstar.EINVALID, "events"},
			{"webhook unknown field", tm.pm, "POST", hooks, map[string]any{"url": publicHook, "secret": "mine"}, 400, northstar.EINVALID, "secret"},
			{"webhook change empty", tm.pm, "PATCH", hook, map[string]any{}, 400, northstar.EINVALID, ""},
			{"webhook change no events", tm.pm, "PATCH", hook, map[string]any{"events": []string{}}, 400, northstar.EINVALID, "events"},
			{"webhook change bad url", tm.pm, "PATCH", hook, map[string]any{"url": "gopher://x"}, 400, northstar.EINVALID, "url"},
			{"webhook change active a string", tm.pm, "PATCH", hook, map[string]any{"active": "no"}, 400, northstar.EINVALID, "active"},
			{"webhook id not a number", tm.pm, "PATCH", hooks + "/first", map[string]any{"active": false}, 400, northstar.EINVALID, "id"},
			{"unknown webhook", tm.pm, "PATCH", hooks + "/99999", map[string]any{"active": false}, 404, northstar.ENOTFOUND, ""},
			{"delete unknown webhook", tm.pm, "DELETE", hooks + "/99999", nil, 404, northstar.ENOTFOUND, ""},
			{"deliveries of an unknown webhook", tm.pm, "GET", hooks + "/99999/deliveries", nil, 404, northstar.ENOTFOUND, ""},
			{"redeliver without a delivery", tm.pm, "POST", hook + "/redeliveries", map[string]any{}, 400, northstar.EINVALID, "delivery_id"},
			{"redeliver delivery a string", tm.pm, "POST", hook + "/redeliveries", `{"delivery_id": "1"}`, 400, northstar.EINVALID, "delivery_id"},
			{"redeliver unknown delivery", tm.pm, "POST", hook + "/redeliveries", map[string]any{"delivery_id": 99999}, 404, northstar.ENOTFOUND, ""},
			{"redeliver for an unknown webhook", tm.pm, "POST", hooks + "/99999/redeliveries", map[string]any{"delivery_id": 1}, 404, northstar.ENOTFOUND, ""},
			{"webhooks of an unknown product", tm.pm, "GET", "/api/v1/products/NOPE/webhooks", nil, 404, northstar.ENOTFOUND, ""},
		}
		before := e.snapshot(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tc.who.do(t, tc.method, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		e.wantUnchanged(t, before, "bad collaboration input")
	})
}

// The GET walk (TestGETRoutesChangeNothing) covers the collaboration
// routes with a comment with a mention, a watched story and a webhook
// with a delivery.
func init() {
	walkSeeders = append(walkSeeders, func(t *testing.T, e *env, tm *team, seed *walkSeed) {
		story := "/api/v1/stories/" + seed.values["ref"]
		tm.dev.comment(t, story, "Walk: does it **beep**, @pm?")
		tm.viewer.put(t, story+"/watch", nil).want(t, http.StatusOK)
		h := decodeAs[apiCreatedWebhook](t, tm.pm.post(t, "/api/v1/products/BOOK/webhooks", map[string]any{"url": publicHook}).want(t, http.StatusCreated)).Webhook
		tm.pm.patch(t, story, map[string]any{"title": "Walk: scan a barcode"}).want(t, http.StatusOK)
		seed.ids["webhooks"] = strconv.FormatInt(h.ID, 10)
		seed.required["/api/v1/products/{key}/activity"] = "kind=story&action=updated&actor=pm@example.com&since=2000-01-01&limit=5"
		seed.required["/api/v1/products/{key}/activity.csv"] = "kind=story"
		seed.required["/api/v1/notifications"] = "unread=true&limit=5"
	})
}
