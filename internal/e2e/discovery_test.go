package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDiscovery is the discovery issue's "done when" path in a real
// browser, as the demo product manager: write the vision and a persona,
// set an objective with two key results and record a check-in, log an
// interview with a customer and link two insights to two new ideas by
// highlighting passages, open the portal; then an end user, signed out on
// a phone, suggests an idea and votes on it, and the product manager sees
// the idea and its vote in the inbox.
func TestDiscovery(t *testing.T) {
	ts := startEmptyDemo(t)
	ctx := newBrowser(t, 1280, 900)
	signIn(t, ctx, ts.URL, "pm@northstar.test")

	// The strategy page, from the product's tabs.
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/products/BOOK"),
		clickAndLoad(`.product-nav a[href="/products/BOOK/strategy"]`),
		chromedp.WaitVisible(`#vision`),
		watchCSP(),
		// The vision, edited in place (Markdown).
		chromedp.Click(`#vision .edit-toggle`),
		chromedp.WaitVisible(`#vision-input`),
		chromedp.SetValue(`#vision-input`, "## Never lose a sale to an empty shelf\n\nStock, orders and shelf locations for **independent bookshops**, from the till or a phone."),
		chromedp.Click(`#vision form button[type="submit"]`),
		chromedp.WaitVisible(`#vision .prose strong`),
		// The north-star metric.
		chromedp.Click(`#metric .edit-toggle`),
		chromedp.WaitVisible(`#north-star-input`),
		chromedp.SetValue(`#north-star-input`, "Titles sold that were in stock when the customer asked"),
		chromedp.Click(`#metric form button[type="submit"]`),
		chromedp.WaitVisible(`//p[contains(@class,"north-star-metric") and contains(., "in stock when the customer asked")]`),
		// A persona.
		chromedp.Click(`#persona-new summary`),
		chromedp.WaitVisible(`#persona-new-name`),
		chromedp.SendKeys(`#persona-new-name`, "Shop owner"),
		chromedp.SetValue(`#persona-new-description`, "Runs an independent bookshop with two staff; does the books on Sunday."),
		chromedp.SetValue(`#persona-new-goals`, "Never run out of a bestseller\nSpend Sundays with family, not spreadsheets"),
		chromedp.SetValue(`#persona-new-pains`, "Counts stock by hand\nFinds out a title ran out when a customer asks"),
		chromedp.Click(`#persona-new button[type="submit"]`),
		chromedp.WaitVisible(`//h3[contains(@class,"persona-name") and text()="Shop owner"]`),
		// A segment.
		chromedp.SendKeys(`#segment-new input[name="name"]`, "Independent bookshops"),
		chromedp.SendKeys(`#segment-new input[name="description"]`, "2,000–50,000 titles, no IT department"),
		chromedp.Click(`#segment-new button[type="submit"]`),
		chromedp.WaitVisible(`//div[@class="segment-name" and text()="Independent bookshops"]`),
	)
	if err != nil {
		t.Fatalf("strategy: %v", err)
	}
	var goals int
	if err := chromedp.Do(ctx, into(&goals, chromedp.Evaluate[int](`document.querySelectorAll(".persona-card .persona-list li").length`))); err != nil {
		t.Fatal(err)
	}
	if goals != 4 {
		t.Errorf("the persona shows %d goals and pains, want 4", goals)
	}
	checkCSP(t, ctx)
	shot(t, ctx, "discovery-strategy")

	// A company objective, then a product objective with two key results
	// that rolls up to it.
	err = chromedp.Do(ctx,
		clickAndLoad(`.mainnav a[href="/objectives"]`),
		chromedp.WaitReady(`#new-objective`),
		// Open the form: it starts open only when there is no objective yet.
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#new-objective").open = true`),
		chromedp.WaitVisible(`#objective-new-title`),
		chromedp.SendKeys(`#objective-new-title`, "Become the stock system bookshops recommend to each other"),
		chromedp.SendKeys(`#new-kr-0-name`, "Shops that would recommend us (NPS)"),
		chromedp.SendKeys(`#new-kr-0-start`, "21"),
		chromedp.SendKeys(`#new-kr-0-target`, "45"),
		clickAndLoad(`#create-objective`),
		chromedp.WaitVisible(`.objective`),
		chromedp.Navigate(ts.URL+"/products/BOOK/objectives"),
		chromedp.WaitReady(`#new-objective`),
		// Open the form: it starts open only when there is no objective yet.
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#new-objective").open = true`),
		chromedp.WaitVisible(`#objective-new-title`),
		watchCSP(),
		chromedp.SendKeys(`#objective-new-title`, "Shops never run out of a bestseller"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#new-objective select[name="parent_id"]'); s.value = s.options[1].value; })()`),
		chromedp.SendKeys(`#new-kr-0-name`, "Shops scanning barcodes every week"),
		chromedp.SendKeys(`#new-kr-0-unit`, "shops"),
		chromedp.SendKeys(`#new-kr-0-start`, "40"),
		chromedp.SendKeys(`#new-kr-0-target`, "120"),
		chromedp.SendKeys(`#new-kr-1-name`, "Bestseller stock-outs per shop per month"),
		chromedp.SendKeys(`#new-kr-1-start`, "6"),
		chromedp.SendKeys(`#new-kr-1-target`, "2"),
		clickAndLoad(`#create-objective`),
		chromedp.WaitVisible(`.objective .kr:nth-child(2)`),
	)
	if err != nil {
		t.Fatalf("objectives: %v", err)
	}
	var krs int
	var before, rollup string
	err = chromedp.Do(ctx,
		into(&krs, chromedp.Evaluate[int](`document.querySelectorAll(".objective .kr").length`)),
		into(&before, chromedp.Text(`.objective .objective-pct`)),
		into(&rollup, chromedp.Text(`.objective .rollup`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if krs != 2 || before != "0%" || !strings.Contains(rollup, "recommend to each other") {
		t.Errorf("new objective: %d key results, progress %q, roll-up %q", krs, before, rollup)
	}
	// Check-ins on both key results: the bars move.
	for i, v := range []struct{ value, note string }{{"70", "Barcode beta opened to every shop"}, {"4", "Reorder suggestions shipped"}} {
		kr := fmt.Sprintf(`.objective .kr:nth-child(%d)`, i+1)
		err := chromedp.Do(ctx,
			chromedp.Click(kr+` .checkin-details summary`),
			chromedp.WaitVisible(kr+` .checkin-form input[name="value"]`),
			chromedp.SendKeys(kr+` .checkin-form input[name="value"]`, v.value),
			chromedp.SendKeys(kr+` .checkin-form input[name="note"]`, v.note),
			clickAndLoad(kr+` .checkin-form button[type="submit"]`),
			chromedp.WaitVisible(`//div[contains(@class,"flash") and contains(., "Check-in recorded")]`),
		)
		if err != nil {
			t.Fatalf("check-in %d: %v", i+1, err)
		}
	}
	var pct, krPct string
	var bar float64
	var dots int
	err = chromedp.Do(ctx,
		into(&pct, chromedp.Text(`.objective .objective-pct`)),
		into(&krPct, chromedp.Text(`.objective .kr:nth-child(1) .kr-pct`)),
		into(&bar, chromedp.Evaluate[float64](`document.querySelector(".objective .objective-progress progress").value`)),
		into(&dots, chromedp.Evaluate[int](`document.querySelectorAll(".objective .kr:nth-child(1) .spark .spark-point title").length`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// (70-40)/(120-40) = 38 %, (4-6)/(2-6) = 50 %: 44 % on average.
	if pct != "44%" || krPct != "38%" || bar != 44 || dots != 2 {
		t.Errorf("after the check-ins: objective %q (bar %v), first key result %q, %d points in its chart", pct, bar, krPct, dots)
	}
	checkCSP(t, ctx)
	shot(t, ctx, "discovery-objectives")
	// The company objective lists the product objective rolling up to it.
	var child string
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/objectives"),
		chromedp.WaitVisible(`.objective .child-list`),
		into(&child, chromedp.Text(`.objective .child-list li`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(child, "Shops never run out of a bestseller") || !strings.Contains(child, "44%") {
		t.Errorf("the company objective lists %q", child)
	}
	shot(t, ctx, "discovery-company-objectives")
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/products/BOOK/objectives"), chromedp.WaitVisible(`.objective`)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx, chromedp.Click(`#theme-toggle`), chromedp.Sleep(150*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "discovery-objectives-dark")
	if err := chromedp.Do(ctx, chromedp.Click(`#theme-toggle`)); err != nil {
		t.Fatal(err)
	}

	// A customer, then an interview with her, logged as one note.
	err = chromedp.Do(ctx,
		clickAndLoad(`.mainnav a[href="/customers"]`),
		chromedp.WaitVisible(`#customer-name`),
		chromedp.SendKeys(`#customer-name`, "Maria Gonzalez"),
		chromedp.SendKeys(`#customer-email`, "maria@cornerbooks.example"),
		chromedp.SendKeys(`#customer-company`, "Corner Bookshop"),
		chromedp.SendKeys(`#customer-segment`, "Independent bookshops"),
		chromedp.SendKeys(`#customer-value`, "1200"),
		clickAndLoad(`#customer-form button[type="submit"]`),
		chromedp.WaitVisible(`//td//div[@class="customer-name" and text()="Maria Gonzalez"]`),
	)
	if err != nil {
		t.Fatalf("add a customer: %v", err)
	}
	shot(t, ctx, "discovery-customers")
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/products/BOOK/feedback"),
		chromedp.WaitVisible(`#record-text`),
		watchCSP(),
		chromedp.SetValue(`#record-source`, "interview"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("record-customer"); s.value = Array.from(s.options).find(o => o.text.startsWith("Maria Gonzalez")).value; })()`),
		chromedp.SendKeys(`#record-title`, "Interview: Maria at the Corner Bookshop"),
		chromedp.SetValue(`#record-text`, "Maria runs the Corner Bookshop with two staff.\n\nShe counts stock by hand every Sunday and **loses about two hours** each week doing it.\n\nWhen a bestseller runs out she only notices when a customer asks for it at the till, and by then the distributor needs a week."),
		clickAndLoad(`#record-submit`),
		chromedp.WaitVisible(`#feedback-text`),
		watchCSP(),
	)
	if err != nil {
		t.Fatalf("record the interview: %v", err)
	}
	// Two insights, each by highlighting a passage of the rendered text
	// (the first one crosses Markdown bold) and linking it to a new idea.
	for i, in := range []struct{ passage, idea, importance string }{
		{"loses about two hours each week", "Stock count by barcode scanning", "important"},
		{"she only notices when a customer asks for it", "Low-stock alerts for bestsellers", "critical"},
	} {
		var quoted string
		err := chromedp.Do(ctx,
			selectText("#feedback-text", in.passage),
			chromedp.WaitVisible(`#passage-quote`),
			into(&quoted, chromedp.Text(`#passage-quote`)),
			chromedp.WaitVisible(`.link-floating`),
		)
		if err == nil && i == 1 {
			shot(t, ctx, "discovery-feedback-selecting")
		}
		if err == nil {
			err = chromedp.Do(ctx,
				chromedp.SendKeys(`#link-new-idea`, in.idea),
				chromedp.Click(`.segment-option input[value="`+in.importance+`"] + span`),
				clickAndLoad(`#link-submit`),
				chromedp.WaitVisible(fmt.Sprintf(`.insight-list .insight:nth-child(%d)`, i+1)),
			)
		}
		if err != nil {
			t.Fatalf("link insight %d: %v", i+1, err)
		}
		if quoted != in.passage {
			t.Errorf("insight %d: the form quoted %q, want %q", i+1, quoted, in.passage)
		}
	}
	var links []string
	var marks int
	var status string
	err = chromedp.Do(ctx,
		into(&links, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".insight")).map(e => e.querySelector(".insight-feature").textContent + " / " + e.querySelector(".importance").textContent.trim())`)),
		into(&marks, chromedp.Evaluate[int](`document.querySelectorAll("#feedback-text mark.insight-mark").length`)),
		into(&status, chromedp.Text(`.detail-meta .fb-status`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Stock count by barcode scanning / Important", "Low-stock alerts for bestsellers / Critical"}
	if strings.Join(links, "|") != strings.Join(want, "|") {
		t.Errorf("insights %q, want %q", links, want)
	}
	if marks < 2 {
		t.Errorf("%d passages marked in the text, want 2", marks)
	}
	if status != "Triaged" {
		t.Errorf("status after linking %q, want Triaged", status)
	}
	checkCSP(t, ctx)
	shot(t, ctx, "discovery-feedback-detail")

	// Open the portal.
	err = chromedp.Do(ctx,
		clickAndLoad(`.product-nav a[href="/products/BOOK/portal"]`),
		chromedp.WaitVisible(`#portal-enabled`),
		chromedp.Click(`#portal-enabled`),
		chromedp.SetValue(`#portal-intro`, "Tell us what would make **Book inventory** better for your shop, and vote for what you want most."),
		clickAndLoad(`#portal-save`),
		chromedp.WaitVisible(`#settings .badge-open`),
	)
	if err != nil {
		t.Fatalf("open the portal: %v", err)
	}

	// An end user on a phone, not signed in: suggest an idea, vote for it,
	// and a second vote with the same address is refused with a message.
	phone := newBrowser(t, 390, 844)
	// A window cannot be narrower than 500 pixels: emulate the phone's screen.
	if err := chromedp.Do(phone, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	const email, other = "reader@example.net", "second.reader@example.org"
	var voted, again string
	var honeypotHidden bool
	err = doSteps(phone,
		chromedp.Navigate(ts.URL+"/portal/BOOK"),
		chromedp.WaitVisible(`#suggest-form`),
		watchCSP(),
		into(&honeypotHidden, chromedp.Evaluate[bool](`document.querySelector('input[name="website"]').getBoundingClientRect().right <= 0`)),
		chromedp.SendKeys(`#suggest-title-input`, "Gift cards that work in every shop"),
		chromedp.SendKeys(`#suggest-body`, "Customers ask for gift cards <b>every week</b>; today we sell paper vouchers."),
		chromedp.SendKeys(`#suggest-name`, "Ann Reader"),
		chromedp.SendKeys(`#suggest-email`, email),
		clickAndLoad(`#suggest-submit`),
		chromedp.WaitVisible(`//div[contains(@class,"flash") and contains(., "Thank you")]`),
		// The idea counts its author's vote; another reader votes too.
		chromedp.Click(`.portal-idea .vote-button`),
		chromedp.WaitVisible(`.portal-idea .vote-form input[name="email"]`),
		chromedp.SendKeys(`.portal-idea .vote-form input[name="email"]`, other),
		clickAndLoad(`.portal-idea .vote-form button[type="submit"]`),
		chromedp.WaitVisible(`//div[contains(@class,"flash") and contains(., "Thanks for your vote")]`),
		into(&voted, chromedp.Text(`.portal-idea .vote-number`)),
		// The same address again: refused, with the message at the form.
		chromedp.Click(`.portal-idea .vote-button`),
		chromedp.WaitVisible(`.portal-idea .vote-form input[name="email"]`),
		chromedp.SendKeys(`.portal-idea .vote-form input[name="email"]`, other),
		clickAndLoad(`.portal-idea .vote-form button[type="submit"]`),
		chromedp.WaitVisible(`.portal-idea .vote[open] .form-error`),
		into(&again, chromedp.Text(`.portal-idea .vote[open] .form-error`)),
	)
	if err != nil {
		t.Errorf("the public portal: %v", err)
		screenshot(t, phone, "discovery-debug")
		t.FailNow()
	}
	if !honeypotHidden {
		t.Errorf("the honeypot field is on screen")
	}
	if voted != "2" || !strings.Contains(again, "already voted") {
		t.Errorf("votes after voting %q; voting again says %q", voted, again)
	}
	var html string
	var escaped bool
	err = chromedp.Do(phone,
		chromedp.Navigate(ts.URL+"/portal/BOOK"),
		chromedp.WaitVisible(`.portal-idea`),
		into(&html, chromedp.OuterHTML(`html`)),
		into(&escaped, chromedp.Evaluate[bool](`document.querySelector(".portal-idea-body").textContent.includes("<b>every week</b>") && !document.querySelector(".portal-idea-body b")`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, email) || strings.Contains(html, other) || strings.Contains(html, "pm@northstar.test") {
		t.Errorf("the public portal shows an email address")
	}
	if !escaped {
		t.Errorf("the idea's HTML was not shown as text")
	}
	var overflow bool
	if err := chromedp.Do(phone, into(&overflow, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))); err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Errorf("the public portal is wider than the phone")
	}
	checkCSP(t, phone)
	shot(t, phone, "discovery-portal-phone")
	// The idea's own page, with a comment.
	err = chromedp.Do(phone,
		clickAndLoad(`.portal-idea-title`),
		chromedp.WaitVisible(`#comment-form`),
		chromedp.SendKeys(`#comment-body`, "Yes please, and online too."),
		chromedp.SendKeys(`#comment-form input[name="email"]`, "other@example.net"),
		clickAndLoad(`#comment-form button[type="submit"]`),
		chromedp.WaitVisible(`.comment`),
	)
	if err != nil {
		t.Fatalf("comment: %v", err)
	}
	shot(t, phone, "discovery-portal-idea-phone")

	// Back as the product manager: the idea is in the inbox with its vote.
	var votes, title string
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/products/BOOK/feedback"),
		chromedp.WaitVisible(`.feedback-row .vote-count`),
		watchCSP(),
		into(&title, chromedp.Text(`.feedback-row:has(.vote-count) .feedback-row-title`)),
		into(&votes, chromedp.Text(`.feedback-row .vote-count`)),
	)
	if err != nil {
		t.Fatalf("the inbox: %v", err)
	}
	if title != "Gift cards that work in every shop" || votes != "2" {
		t.Errorf("the inbox shows %q with %q votes", title, votes)
	}
	checkCSP(t, ctx)
	shot(t, ctx, "discovery-inbox")
	err = chromedp.Do(ctx,
		clickAndLoad(`.product-nav a[href="/products/BOOK/portal"]`),
		chromedp.WaitVisible(`.team-idea`),
		into(&votes, chromedp.Text(`.team-idea-votes strong`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if votes != "2" {
		t.Errorf("the team's portal page shows %q votes", votes)
	}
	shot(t, ctx, "discovery-portal-team")
}

// selectText selects the first occurrence of text inside an element with
// a DOM Range, as a person dragging the mouse over it would.
func selectText(sel, text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
			const root = document.querySelector(%q), want = %q;
			const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
			let n;
			while ((n = walker.nextNode())) {
				const i = n.nodeValue.indexOf(want);
				if (i < 0) continue;
				const r = document.createRange();
				r.setStart(n, i);
				r.setEnd(n, i + want.length);
				const s = window.getSelection();
				s.removeAllRanges();
				s.addRange(r);
				return true;
			}
			// Across elements (Markdown bold): from the first word to the last.
			const text = root.textContent.replace(/\s+/g, " ");
			if (!text.includes(want)) return false;
			const first = want.split(" ")[0], last = want.split(" ").pop();
			const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
			let start = null, end = null;
			while ((n = walk.nextNode())) {
				if (!start) { const i = n.nodeValue.indexOf(first); if (i >= 0) start = [n, i]; }
				if (start) { const j = n.nodeValue.indexOf(last); if (j >= 0 && (n !== start[0] || j > start[1])) { end = [n, j + last.length]; break; } }
			}
			if (!start || !end) return false;
			const r = document.createRange();
			r.setStart(start[0], start[1]);
			r.setEnd(end[0], end[1]);
			const s = window.getSelection();
			s.removeAllRanges();
			s.addRange(r);
			return true;
		})()`, sel, text)))
		if err == nil && !found {
			err = fmt.Errorf("text %q not found in %s", text, sel)
		}
		return chromedp.Void{}, err
	}
}

// doSteps runs actions one by one and names the one that failed.
func doSteps(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	for i, a := range actions {
		if _, err := chromedp.Run(ctx, a); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}

// shot takes a screenshot from the top of the page, so that the sticky
// top bar is where it belongs.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.activeElement && document.activeElement.blur()`), chromedp.Sleep(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, name)
}
