package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/northstar-pm/northstar/internal/store"
)

// TestEstimation runs the "done when" in two browsers on the demo
// data: the product owner sees a suggestion with its reasons on a new
// story, opens a planning-poker round for it, the developer votes in the
// other browser, the owner's page shows the vote without a reload, the
// reveal reaches the developer's page with the suggestion, the agreed
// value is saved; and the release page leads to its 50/85/95 % forecast.
func TestEstimation(t *testing.T) {
	ts := startServer(t, store.SQLite, true)
	po := newBrowser(t, 1280, 900)
	dev := newBrowser(t, 1280, 900)
	signIn(t, po, ts.URL, "po@northstar.test")
	signIn(t, dev, ts.URL, "dev@northstar.test")

	// A new story in the backlog, by the quick-add form.
	var ref, reason string
	err := chromedp.Do(po,
		chromedp.Navigate(ts.URL+"/products/BOOK/backlog"),
		chromedp.WaitVisible(`#backlog-list .story-row`),
		into(&ref, chromedp.Evaluate[string](`document.querySelector("#backlog-list .story-row").dataset.ref`)),
	)
	if err != nil || ref == "" {
		t.Fatalf("find a story: %q %v", ref, err)
	}
	err = chromedp.Do(po,
		chromedp.Navigate(ts.URL+"/products/BOOK/poker"),
		watchCSP(),
		chromedp.WaitVisible(`#poker-open`),
		chromedp.SendKeys(`#poker-open input[name="title"]`, "Thursday refinement"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#poker-open input[name="stories"]').forEach(c => c.checked = false)`),
		chromedp.Click(`#poker-open input[name="stories"]`),
		into(&ref, chromedp.Evaluate[string](`document.querySelector('#poker-open input[name="stories"]').value`)),
		chromedp.Click(`#open-round`),
		chromedp.WaitVisible(`#poker-round`),
	)
	if err != nil {
		t.Fatalf("open a round: %v", err)
	}
	var round string
	if err := chromedp.Do(po, into(&round, chromedp.Evaluate[string](`location.pathname`))); err != nil {
		t.Fatal(err)
	}
	checkCSP(t, po)

	// The developer votes 5 in the other browser.
	err = chromedp.Do(dev,
		chromedp.Navigate(ts.URL+round),
		watchCSP(),
		chromedp.WaitVisible(`#poker-round .est-cards`),
		chromedp.Click(`#poker-round .est-cards button[value="5"]`),
		chromedp.WaitVisible(`#poker-round .est-card.is-mine[value="5"]`),
	)
	if err != nil {
		t.Fatalf("vote: %v", err)
	}
	// The owner's page shows the vote, without a reload, but not its value.
	var voters string
	err = chromedp.Do(po,
		chromedp.WaitVisible(`#poker-round .est-voters .avatar`),
		into(&voters, chromedp.Text(`#poker-round .est-voters`)),
	)
	if err != nil || !strings.Contains(voters, "1 vote") {
		t.Fatalf("owner sees the vote: %q %v", voters, err)
	}
	screenshot(t, po, "estimation-01-poker-hidden")

	// The reveal reaches the developer's page, with the suggestion.
	var shown, reference string
	err = chromedp.Do(po,
		chromedp.Click(`#poker-round .est-lead button.primary`),
		chromedp.WaitVisible(`#poker-round .est-votes`),
	)
	if err != nil {
		t.Fatalf("reveal: %v", err)
	}
	err = chromedp.Do(dev,
		chromedp.WaitVisible(`#poker-round .est-votes`),
		into(&shown, chromedp.Text(`#poker-round .est-votes`)),
		into(&reference, chromedp.Evaluate[string](`(document.querySelector("#poker-round .est-reference") || {}).textContent || ""`)),
	)
	if err != nil || !strings.Contains(shown, "5") || !strings.Contains(shown, "Dana Kim") {
		t.Fatalf("developer sees the reveal: %q %v", shown, err)
	}
	if !strings.Contains(reference, "History suggests") {
		t.Errorf("no suggestion after the reveal: %q", reference)
	}
	checkCSP(t, dev)
	screenshot(t, dev, "estimation-02-poker-revealed")

	// The owner agrees on 5: the story is estimated.
	var agreed string
	err = chromedp.Do(po,
		chromedp.Click(`#poker-round .est-agree button`),
		chromedp.WaitVisible(`#poker-round .est-item.is-agreed`),
		into(&agreed, chromedp.Text(`#poker-round .est-item-head`)),
	)
	if err != nil || !strings.Contains(agreed, "Agreed: 5") {
		t.Fatalf("agree: %q %v", agreed, err)
	}

	// A story without an estimate shows its suggestion and reasons; one
	// click accepts it.
	err = chromedp.Do(po,
		chromedp.Navigate(ts.URL+"/products/BOOK/backlog"),
		chromedp.WaitVisible(`#backlog-list .story-row`),
		into(&ref, chromedp.Evaluate[string](`(Array.from(document.querySelectorAll("#backlog-list .story-row")).find(r => !r.querySelector(".points, .story-points") || /–|^\s*$/.test((r.querySelector(".points, .story-points") || {}).textContent || "")) || document.querySelector("#backlog-list .story-row")).dataset.ref`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(po,
		chromedp.Navigate(ts.URL+"/products/BOOK/stories/"+ref),
		watchCSP(),
		chromedp.WaitVisible(`#estimate-suggestion #suggestion-reason`),
		into(&reason, chromedp.Text(`#estimate-suggestion`)),
	)
	if err != nil || !strings.Contains(reason, "Suggested points") {
		t.Fatalf("suggestion on %s: %q %v", ref, reason, err)
	}
	screenshot(t, po, "estimation-03-suggestion")
	var hasAccept bool
	if err := chromedp.Do(po, into(&hasAccept, chromedp.Evaluate[bool](`!!document.querySelector("#accept-suggestion")`))); err != nil {
		t.Fatal(err)
	}
	if hasAccept {
		var flash string
		err = chromedp.Do(po,
			clickAndLoad(`#accept-suggestion`),
			chromedp.WaitVisible(`.flash`),
			into(&flash, chromedp.Text(`.flash`)),
		)
		if err != nil || !strings.Contains(flash, "as suggested") {
			t.Errorf("accept: %q %v", flash, err)
		}
	}
	checkCSP(t, po)

	// The release page leads to the forecast.
	var table string
	err = chromedp.Do(po,
		chromedp.Navigate(ts.URL+"/products/BOOK/releases"),
		chromedp.WaitVisible(`a[href^="/products/BOOK/releases/"]`),
		clickAndLoad(`a[href^="/products/BOOK/releases/"]`),
		chromedp.WaitVisible(`#release-forecast`),
		clickAndLoad(`#release-forecast`),
		chromedp.WaitVisible(`#forecast-when`),
		chromedp.Sleep(200*time.Millisecond),
		into(&table, chromedp.Text(`#forecast-when`)),
	)
	if err != nil {
		t.Fatalf("forecast from the release page: %v", err)
	}
	if !strings.Contains(table, "50 %") || !strings.Contains(table, "95 %") {
		t.Errorf("forecast shows %q, want the 50 and 95 %% rows", table)
	}
	checkCSP(t, po)
	screenshot(t, po, "estimation-04-forecast")
}
