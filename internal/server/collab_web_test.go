package server_test

// The collaboration web pages in the GET walk, and the web and the API
// seeing the same discussion: a comment posted through the page's form
// reaches the mentioned person's bell, which their API token also reads.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func init() {
	walkSeeders = append(walkSeeders, func(t *testing.T, e *env, tm *team, seed *walkSeed) {
		// /discussion/{kind}/{ref...}: the walk's story.
		if _, ok := seed.values["kind"]; !ok {
			seed.values["kind"] = "story"
		}
		seed.required["/products/{key}/activity"] = "kind=story&action=updated&actor=pm@example.com&since=2000-01-01"
		seed.required["/products/{key}/activity.csv"] = "kind=story"
		seed.required["/products/{key}/mentions"] = "q=de"
	})
}

func TestWebCommentReachesTheBell(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		var s struct {
			Ref string `json:"ref"`
		}
		tm.po.post(t, "/api/v1/products/BOOK/stories", map[string]string{"title": "Scan a barcode"}).want(t, http.StatusCreated).decode(t, &s)
		pm, dev := e.login(t, "pm@example.com"), e.login(t, "dev@example.com")
		bell := func(c *client) int {
			t.Helper()
			var got struct{ Unread int }
			res := c.get(t, "/notifications/count").want(t, http.StatusOK)
			if err := json.Unmarshal(res.body, &got); err != nil {
				t.Fatalf("bell: %v", err)
			}
			return got.Unread
		}
		before := bell(dev)
		// Through the form, from the same origin, as a browser sends it.
		pm.post(t, "/discussion/story/"+s.Ref, url.Values{"body": {"@dev can you estimate this? <script>alert(1)</script>"}},
			"Origin", e.url, "Sec-Fetch-Site", "same-origin").want(t, http.StatusSeeOther)
		if got := bell(dev); got != before+1 {
			t.Errorf("dev's bell = %d, want %d", got, before+1)
		}
		// The API sees the same comment and notification.
		res := tm.dev.get(t, "/api/v1/notifications?unread=true").want(t, http.StatusOK)
		if !strings.Contains(string(res.body), s.Ref) {
			t.Errorf("the API's notifications do not name %s: %s", s.Ref, short(res.body))
		}
		page := dev.get(t, "/discussion/story/"+s.Ref).want(t, http.StatusOK)
		if body := string(page.body); !strings.Contains(body, "can you estimate this?") || strings.Contains(body, "<script>alert") {
			t.Errorf("the discussion page shows the comment wrongly: %s", short(page.body))
		}
		// A cross-site post is refused before it reaches the handler.
		pm.post(t, "/discussion/story/"+s.Ref, url.Values{"body": {"forged"}}, "Sec-Fetch-Site", "cross-site").want(t, http.StatusForbidden)
		// Marking read from the page empties the bell.
		dev.post(t, "/notifications/read", url.Values{}).want(t, http.StatusSeeOther)
		if got := bell(dev); got != 0 {
			t.Errorf("after marking all read: bell = %d", got)
		}
	})
}
