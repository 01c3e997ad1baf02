package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/northstar-pm/northstar/internal/store"
)

// TestCollaboration is the collaboration issue's "done when" path in two
// browsers: the developer has a story open; the product manager comments
// on it, mentioning the developer through the autocomplete; the
// developer's page shows the comment and the bell its count without a
// reload; the notification leads to the story, and the timeline shows
// the comment and a change. Then the activity feed and the webhook page.
func TestCollaboration(t *testing.T) {
	ts := startServer(t, store.SQLite, true)
	pm := newBrowser(t, 1280, 900)
	dev := newBrowser(t, 1280, 900)
	signIn(t, pm, ts.URL, "pm@northstar.test")
	signIn(t, dev, ts.URL, "dev@northstar.test")

	// The first story of the backlog.
	var ref string
	err := chromedp.Do(pm,
		chromedp.Navigate(ts.URL+"/products/BOOK/backlog"),
		chromedp.WaitVisible(`#backlog-list .story-row`),
		into(&ref, chromedp.Evaluate[string](`document.querySelector("#backlog-list .story-row").dataset.ref`)),
	)
	if err != nil || ref == "" {
		t.Fatalf("find a story: %q %v", ref, err)
	}
	story := ts.URL + "/products/BOOK/stories/" + ref

	// The developer opens the story; the discussion loads under it.
	var before int
	err = chromedp.Do(dev,
		chromedp.Navigate(story),
		watchCSP(),
		chromedp.WaitVisible(`#discussion .dsc-head h2`),
		chromedp.WaitVisible(`#comment-new`),
		chromedp.Sleep(300*time.Millisecond),
		into(&before, chromedp.Evaluate[int](`(() => { const c = document.querySelector("#bell .bell-count"); return c.hidden ? 0 : parseInt(c.textContent, 10); })()`)),
	)
	if err != nil {
		t.Fatalf("developer opens %s: %v", ref, err)
	}

	// The product manager comments, choosing the developer from the list.
	var options []string
	var typed string
	err = chromedp.Do(pm,
		chromedp.Navigate(story),
		watchCSP(),
		chromedp.WaitVisible(`#comment-new`),
		chromedp.Click(`#comment-new`),
		chromedp.SendKeys(`#comment-new`, "Can you estimate this before **Thursday**, @da"),
		chromedp.WaitVisible(`.mention-list li[aria-selected="true"]`),
		into(&options, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".mention-list li")).map(li => li.textContent)`)),
	)
	if err != nil {
		t.Fatalf("mention autocomplete: %v", err)
	}
	if len(options) != 1 || !strings.Contains(options[0], "Dana Kim") || !strings.Contains(options[0], "@dev") {
		t.Errorf("the list for @da offers %q, want Dana Kim (@dev)", options)
	}
	// Not shot: blurring would close the list.
	if err := chromedp.Do(pm, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, pm, "collab-mention")
	err = chromedp.Do(pm,
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotVisible(`.mention-list`),
		chromedp.SendKeys(`#comment-new`, "?"),
		into(&typed, chromedp.Evaluate[string](`document.querySelector("#comment-new").value`)),
	)
	if err != nil {
		t.Fatalf("choose a mention: %v", err)
	}
	if typed != "Can you estimate this before **Thursday**, @dev ?" {
		t.Errorf("the comment box holds %q", typed)
	}
	var comment string
	err = chromedp.Do(pm,
		chromedp.Click(`#comment-submit`),
		chromedp.WaitVisible(`#discussion .dsc-comment .dsc-body strong`),
		into(&comment, chromedp.Text(`#discussion .dsc-comment .dsc-body`)),
	)
	if err != nil {
		t.Fatalf("post the comment: %v", err)
	}
	if !strings.Contains(comment, "@dev") || !strings.Contains(comment, "Thursday") {
		t.Errorf("the comment shows %q", comment)
	}
	checkCSP(t, pm)
	shotAt(t, pm, "collab-comment", "#discussion")

	// The developer, without reloading: the comment and the bell. Live
	// updates (live.js) bring them at once; the bell also looks again
	// when the window gets the focus.
	var count string
	err = chromedp.Do(dev,
		chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event("focus"))`),
		chromedp.WaitVisible(`#bell .bell-count`),
		chromedp.WaitVisible(`//div[contains(@class,"dsc-body")]//strong[text()="Thursday"]`),
		into(&count, chromedp.Text(`#bell .bell-count`)),
	)
	if err != nil {
		t.Fatalf("the developer's page: %v", err)
	}
	if want := before + 1; count != strconv.Itoa(want) {
		t.Errorf("the developer's bell shows %q, want %d", count, want)
	}
	checkCSP(t, dev)
	shot(t, dev, "collab-bell")

	// The notification, and the way back to the story.
	var line string
	err = chromedp.Do(dev,
		chromedp.Click(`#bell`),
		chromedp.WaitVisible(`#unread .ntf`),
		watchCSP(),
		into(&line, chromedp.Text(`#unread .ntf`)),
	)
	if err != nil {
		t.Fatalf("notifications page: %v", err)
	}
	if !strings.Contains(line, "Priya Patel") || !strings.Contains(line, "Mentioned you") || !strings.Contains(line, ref) {
		t.Errorf("the notification reads %q", line)
	}
	// The demo gives the developer many notifications: the picture keeps
	// the first few.
	if err := chromedp.Do(dev, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#unread .ntf:nth-child(n+5)").forEach(e => e.remove())`)); err != nil {
		t.Fatal(err)
	}
	shot(t, dev, "collab-notifications")
	// The developer changes the story; the timeline shows both changes.
	var timeline string
	err = chromedp.Do(dev,
		chromedp.Click(`#unread .ntf a[data-read]`),
		chromedp.WaitVisible(`#comment-new`),
		chromedp.Click(`#comment-new`),
		chromedp.SendKeys(`#comment-new`, "Five points, @pm"),
		chromedp.WaitVisible(`.mention-list li`),
		chromedp.KeyEvent(kb.Escape),
		chromedp.Click(`#comment-submit`),
		chromedp.WaitVisible(`//li[contains(@class,"dsc-comment")][2]`),
		into(&timeline, chromedp.Text(`#discussion .tl`)),
	)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if strings.Count(timeline, "commented on") != 2 || !strings.Contains(timeline, "Dana Kim") || !strings.Contains(timeline, "Priya Patel") {
		t.Errorf("the timeline reads %q", timeline)
	}
	// Following the notification marked it read.
	var unread int
	err = chromedp.Do(dev,
		chromedp.Navigate(ts.URL+"/notifications"),
		chromedp.WaitVisible(`.page-head h1`),
		into(&unread, chromedp.Evaluate[int](`document.querySelectorAll("#unread .ntf").length`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if unread != before {
		t.Errorf("%d unread after following the notification, want %d", unread, before)
	}

	// The product manager's activity feed and webhook settings.
	var feed string
	err = chromedp.Do(pm,
		chromedp.Navigate(ts.URL+"/products/BOOK"),
		clickAndLoad(`.product-nav a[href="/products/BOOK/activity"]`),
		chromedp.WaitVisible(`.act-feed .tl-entry`),
		watchCSP(),
		chromedp.SetValue(`select[name="actor"]`, "dev@northstar.test"),
		clickAndLoad(`.act-filters button[type="submit"]`),
		chromedp.WaitVisible(`//form[contains(@class,"act-filters")]//a[text()="Clear"]`),
		into(&feed, chromedp.Text(`.act-feed`)),
	)
	if err != nil {
		t.Fatalf("activity feed: %v", err)
	}
	if !strings.Contains(feed, "Five points") || strings.Contains(feed, "Thursday") {
		t.Errorf("the developer's activity reads %q", feed)
	}
	checkCSP(t, pm)
	shot(t, pm, "collab-activity")
	var secret string
	err = chromedp.Do(pm,
		clickAndLoad(`.product-nav a[href="/products/BOOK/webhooks"]`),
		chromedp.WaitVisible(`#new-webhook input[name="url"]`),
		watchCSP(),
		chromedp.SendKeys(`#new-webhook input[name="url"]`, "https://203.0.113.10/hooks/northstar"),
		clickAndLoad(`#add-webhook`),
		chromedp.WaitVisible(`#webhook-secret`),
		into(&secret, chromedp.Value(`#webhook-secret`)),
	)
	if err != nil {
		t.Fatalf("add a webhook: %v", err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("the secret shown is %q", secret)
	}
	shot(t, pm, "collab-webhook-secret")
	// A change queues a delivery, listed under the webhook.
	err = chromedp.Do(pm,
		chromedp.Navigate(story),
		chromedp.WaitVisible(`#comment-new`),
		chromedp.SendKeys(`#comment-new`, "Thanks!"),
		chromedp.Click(`#comment-submit`),
		chromedp.WaitVisible(`//li[contains(@class,"dsc-comment")][3]`),
		chromedp.Navigate(ts.URL+"/products/BOOK/webhooks"),
		chromedp.WaitVisible(`.wh-deliveries`),
	)
	if err != nil {
		t.Fatalf("deliveries: %v", err)
	}
	checkCSP(t, pm)
	shot(t, pm, "collab-webhooks")

	// On a phone, in the dark theme: the discussion still reads.
	phone := newBrowser(t, 390, 844)
	signIn(t, phone, ts.URL, "po@northstar.test")
	err = chromedp.Do(phone,
		chromedp.Click(`#theme-toggle`),
		chromedp.Navigate(story),
		chromedp.WaitVisible(`#discussion .dsc-comment`),
		chromedp.Click(`#comment-new`),
		chromedp.SendKeys(`#comment-new`, "@p"),
		chromedp.WaitVisible(`.mention-list li`),
		chromedp.ScrollIntoView(`#discussion`),
	)
	if err != nil {
		t.Fatalf("phone: %v", err)
	}
	screenshot(t, phone, "collab-phone-dark")
}

// shotAt scrolls an element into view and takes a screenshot.
func shotAt(t *testing.T, ctx context.Context, name, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(sel), chromedp.Sleep(150*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, name)
}
