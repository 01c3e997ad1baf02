package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/northstar-pm/northstar/internal/store"
)

// TestRoadmap is the roadmap issue's path in a real browser, on the demo
// data, as the product manager: sort the prioritisation table, open a
// feature by clicking its point in the value/effort chart, split it into
// a story, drag a feature from "later" to "next" on the roadmap, and
// publish a link that a signed-out reader opens without edit controls.
func TestRoadmap(t *testing.T) {
	ts := startServer(t, store.SQLite, true)
	ctx := newBrowser(t, 1280, 900)
	signIn(t, ctx, ts.URL, "pm@northstar.test")

	// The prioritisation table, sorted by value/effort by its column head.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/products/BOOK/features"),
		clickAndLoad(`a[href="/products/BOOK/prioritise"]`),
		chromedp.WaitVisible(`svg .mx-point`),
		watchCSP(),
	); err != nil {
		t.Fatalf("prioritise: %v", err)
	}
	firstRef := func() string {
		ref, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("tr[data-ref]") || {dataset: {}}).dataset.ref || ""`))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(ref)
	}
	if got := firstRef(); got != "BOOK-4" {
		t.Errorf("first by RICE: %q, want BOOK-4 (Low-stock alerts, RICE 280)", got)
	}
	// Sorted by effort, least first, by clicking the column head.
	if err := chromedp.Do(ctx,
		clickAndLoad(`th[title="Effort in person-months"] a`),
		chromedp.WaitVisible(`th.is-sorted[title="Effort in person-months"]`),
	); err != nil {
		t.Fatalf("sort by effort: %v", err)
	}
	if got := firstRef(); got != "BOOK-4" && got != "BOOK-3" && got != "BOOK-6" {
		t.Errorf("first by effort: %q, want the least (BOOK-4, 2) or the most (BOOK-3 or BOOK-6, 5)", got)
	}
	shot(t, ctx, "roadmap-prioritise")

	// A point of the chart opens its feature.
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('a.mx-point[href$="/BOOK-3"]').dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true, view: window}))`),
		chromedp.WaitVisible(`#split-title`),
	); err != nil {
		t.Fatalf("click the chart point of BOOK-3: %v", err)
	}
	var heading string
	if err := chromedp.Do(ctx, into(&heading, chromedp.Text(`#feature-title`))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(heading, "Stock transfers between branches") {
		t.Fatalf("the point opened %q, want BOOK-3's page", heading)
	}

	// Split the feature into one more story.
	var before, after int
	if err := chromedp.Do(ctx,
		into(&before, chromedp.Evaluate[int](`document.querySelectorAll('a[href*="/stories/BOOK-"]').length`)),
		chromedp.SendKeys(`#split-title`, "Transfer labels with a barcode\n"),
		chromedp.WaitVisible(`//a[contains(., "Transfer labels with a barcode")]`),
		into(&after, chromedp.Evaluate[int](`document.querySelectorAll('a[href*="/stories/BOOK-"]').length`)),
	); err != nil {
		t.Fatalf("split into a story: %v", err)
	}
	if after <= before {
		t.Errorf("story links on the feature page: %d before the split, %d after", before, after)
	}
	shot(t, ctx, "roadmap-feature")

	// Now, next, later: drag BOOK-6 from "later" into "next".
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/products/BOOK/roadmap?view=horizons"),
		chromedp.WaitVisible(`ol.rm-cards[data-horizon="later"] #feature-BOOK-6`),
	); err != nil {
		t.Fatalf("roadmap columns: %v", err)
	}
	dragInto(t, ctx, "#feature-BOOK-6", `ol.rm-cards[data-horizon="next"] #feature-BOOK-5`)
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`ol.rm-cards[data-horizon="next"] #feature-BOOK-6.moved`),
		chromedp.Navigate(ts.URL+"/products/BOOK/roadmap?view=horizons"),
		chromedp.WaitVisible(`ol.rm-cards[data-horizon="next"] #feature-BOOK-6`),
	); err != nil {
		t.Fatalf("BOOK-6 is not in \"next\" after the drag and a reload: %v", err)
	}
	shot(t, ctx, "roadmap-horizons")

	// A published link, read signed out: features, no edit controls.
	var link string
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/products/BOOK/roadmap#share"),
		chromedp.SendKeys(`#publish-name`, "Sales team"),
		clickAndLoad(`#publish-submit`),
		chromedp.WaitVisible(`#new-link-url`),
		into(&link, chromedp.Value(`#new-link-url`)),
	); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if !strings.Contains(link, "/roadmaps/") {
		t.Fatalf("the new link is %q", link)
	}
	checkCSP(t, ctx)
	reader := newBrowser(t, 1280, 900)
	path := link[strings.Index(link, "/roadmaps/"):]
	var forms, cards int
	var text string
	if err := chromedp.Do(reader,
		chromedp.Navigate(ts.URL+path+"?view=horizons"),
		chromedp.WaitVisible(`.rm-card`),
		into(&forms, chromedp.Evaluate[int](`document.querySelectorAll('form[method="post"]').length`)),
		into(&cards, chromedp.Evaluate[int](`document.querySelectorAll('.rm-card').length`)),
		into(&text, chromedp.Text(`body`)),
	); err != nil {
		t.Fatalf("the shared roadmap, signed out: %v", err)
	}
	if forms != 0 || cards == 0 {
		t.Errorf("the shared roadmap shows %d cards and %d forms; want cards and no forms", cards, forms)
	}
	if strings.Contains(text, "RICE") {
		t.Errorf("the shared roadmap hides internal fields, but shows RICE scores")
	}
	shot(t, reader, "roadmap-shared")
}

// dragInto drags an element with the mouse onto the lower half of
// another (SortableJS takes over as with a person).
func dragInto(t *testing.T, ctx context.Context, from, into string) {
	t.Helper()
	rect := func(sel string) []float64 {
		r, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(
			`(() => { const e = document.querySelector(%q); e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, sel)))
		if err != nil || len(r) != 4 {
			t.Fatalf("position of %s: %v %v", sel, r, err)
		}
		return r
	}
	if err := chromedp.Do(ctx, settle()); err != nil {
		t.Fatal(err)
	}
	rect(into)
	f, to := rect(from), rect(into)
	fx, fy := f[0]+f[2]/2, f[1]+min(f[3]/2, 14)
	tx, ty := to[0]+to[2]/2, to[1]+to[3]*3/4
	if err := chromedp.Do(ctx, chromedp.DragAndDropXY(fx, fy, tx, ty, 25)); err != nil {
		t.Fatalf("drag %s into %s: %v", from, into, err)
	}
}
