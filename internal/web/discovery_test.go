package web_test

// The discovery pages over HTTP, as a browser without JavaScript sends
// them: what each role is shown, bad input answered at its form, the
// public portal (no account, no e-mails, no hidden ideas, limits) and the
// pages' markup under the content security policy. The browser test in
// internal/e2e drives the same pages in Chromium.

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// forEngines runs a test on a demo site of every engine under test.
func forEngines(t *testing.T, fn func(t *testing.T, s *site)) {
	for _, e := range storetest.Engines(t) {
		t.Run(string(e), func(t *testing.T) { fn(t, newSite(t, e)) })
	}
}

// anon is a visitor without an account.
func (s *site) anon(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, site: s, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	return b.do("POST", path, form, nil)
}

// discoveryFixture gives BOOK an objective, a customer, an interview with
// an insight and an open portal with an idea; it returns the feedback's
// and the idea's ids.
func discoveryFixture(t *testing.T, s *site) (feedbackID, ideaID int64) {
	t.Helper()
	ctx := s.as(t, "pm@northstar.test")
	start, target := 0.0, 10.0
	d1, _ := northstar.ParseDate("start", "2026-01-01")
	d2, _ := northstar.ParseDate("end", "2026-03-31")
	if _, err := s.app.CreateObjective(ctx, "BOOK", northstar.ObjectiveInput{Title: "Shops never run out", Start: d1, End: d2,
		KeyResults: []northstar.KeyResultInput{{Name: "Scanning shops", Start: &start, Target: &target}}}); err != nil {
		t.Fatal(err)
	}
	c, err := s.app.SaveCustomer(ctx, 0, 0, northstar.CustomerInput{Name: "Maria Gonzalez", Email: "maria@corner.example", Company: "Corner Bookshop"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.app.AddFeedback(ctx, "BOOK", northstar.FeedbackInput{Source: northstar.SourceInterview, Title: "Maria",
		Text: "She counts stock **by hand** every Sunday.", CustomerID: &c.ID,
		Insights: []northstar.InsightInput{{Passage: "counts stock", NewIdea: "Barcode stock counts"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.SetPortalSettings(ctx, "BOOK", northstar.PortalSettings{Enabled: true, Intro: "Tell us."}); err != nil {
		t.Fatal(err)
	}
	idea, err := s.app.SubmitPortalIdea(ctx, "BOOK", northstar.PortalSubmission{Title: "Gift cards", Body: "Please.", Name: "Ann", Email: "ann@reader.example"}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	return f.ID, idea.ID
}

// What each role is shown: the forms of what they may do, and nothing
// else; the app refuses the rest whatever the page shows.
func TestDiscoveryRoles(t *testing.T) {
	forEngines(t, testDiscoveryRoles)
}

func testDiscoveryRoles(t *testing.T, s *site) {
	fid, _ := discoveryFixture(t, s)
	item := fmt.Sprintf("/products/BOOK/feedback/%d", fid)
	cases := []struct {
		email         string
		path          string
		shown, hidden []string
	}{
		{"pm@northstar.test", "/products/BOOK/strategy", []string{`class="edit-toggle"`, `id="persona-new"`, `id="segment-new"`}, nil},
		{"dev@northstar.test", "/products/BOOK/strategy", nil, []string{`class="edit-toggle"`, `id="persona-new"`, `id="segment-new"`}},
		{"pm@northstar.test", "/products/BOOK/objectives", []string{`id="new-objective"`, "checkin-form", "Rolls up to"}, nil},
		{"po@northstar.test", "/products/BOOK/objectives", []string{"Shops never run out"}, []string{`id="new-objective"`, "checkin-form"}},
		{"pm@northstar.test", "/objectives", []string{`id="new-objective"`}, nil},
		{"dev@northstar.test", "/objectives", nil, []string{`id="new-objective"`}},
		{"stakeholder@northstar.test", "/products/BOOK/feedback", []string{`id="record"`, "Maria"}, []string{"Propose an idea"}},
		{"viewer@northstar.test", "/products/BOOK/feedback", []string{"Maria"}, []string{`id="record"`}},
		{"po@northstar.test", item, []string{`id="link-form"`, `id="link-new-idea"`, `id="triage"`, "Barcode stock counts"}, nil},
		{"stakeholder@northstar.test", item, []string{"Barcode stock counts"}, []string{`id="link-form"`, `id="triage"`}},
		{"pm@northstar.test", "/products/BOOK/portal", []string{`id="portal-enabled"`, `name="status"`, "ann@reader.example"}, nil},
		{"po@northstar.test", "/products/BOOK/portal", []string{"ann@reader.example", "Reply"}, []string{`id="portal-enabled"`, `name="status"`}},
		{"viewer@northstar.test", "/products/BOOK/portal", []string{"Gift cards"}, []string{"ann@reader.example", `id="portal-enabled"`, "Reply"}},
		{"stakeholder@northstar.test", "/customers", []string{`id="customer-form"`, "Maria Gonzalez"}, []string{"Delete customer"}},
		{"viewer@northstar.test", "/customers", []string{"Maria Gonzalez"}, []string{`id="customer-form"`}},
	}
	for _, tc := range cases {
		t.Run(tc.email+tc.path, func(t *testing.T) {
			a := s.login(t, tc.email).get(tc.path)
			want(t, a, http.StatusOK, tc.shown...)
			wantNot(t, a, tc.hidden...)
		})
	}
	// Refused whatever the page shows.
	dev := s.login(t, "dev@northstar.test")
	want(t, dev.post("/products/BOOK/strategy", url.Values{"section": {"vision"}, "vision": {"mine"}}), http.StatusForbidden)
	want(t, dev.post(item+"/insights", url.Values{"new_idea": {"x"}}), http.StatusForbidden)
	want(t, dev.post("/objectives", url.Values{"title": {"x"}, "start": {"2026-01-01"}, "end": {"2026-02-01"}}), http.StatusForbidden)
	viewer := s.login(t, "viewer@northstar.test")
	want(t, viewer.post("/products/BOOK/feedback", url.Values{"text": {"x"}}), http.StatusForbidden)
	want(t, viewer.post("/customers", url.Values{"name": {"x"}}), http.StatusForbidden)
}

// Bad input comes back at its form with the message, the status and what
// was typed; nothing is written.
func TestDiscoveryBadInput(t *testing.T) {
	forEngines(t, testDiscoveryBadInput)
}

func testDiscoveryBadInput(t *testing.T, s *site) {
	fid, _ := discoveryFixture(t, s)
	pm := s.login(t, "pm@northstar.test")
	objectives := func() int {
		os, err := s.app.Objectives(s.as(t, "pm@northstar.test"), "BOOK")
		if err != nil {
			t.Fatal(err)
		}
		return len(os)
	}
	newObjective := func(kv ...string) url.Values {
		v := url.Values{"title": {"Faster counts"}, "start": {"2026-01-01"}, "end": {"2026-03-31"},
			"kr_name": {"Minutes per count", ""}, "kr_unit": {"min", ""}, "kr_start": {"120", ""}, "kr_target": {"30", ""}}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i]] = []string{kv[i+1], ""}
		}
		return v
	}
	n := objectives()
	a := pm.post("/products/BOOK/objectives", newObjective("kr_target", "120"))
	want(t, a, http.StatusBadRequest, "target must differ from start", `value="Faster counts"`, `value="Minutes per count"`, `<details class="card new-objective" id="new-objective" open>`)
	a = pm.post("/products/BOOK/objectives", newObjective("end", "2025-12-01"))
	want(t, a, http.StatusBadRequest, "must be after start")
	a = pm.post("/products/BOOK/objectives", newObjective("kr_start", "lots"))
	want(t, a, http.StatusBadRequest, "key result 1: the start must be a number")
	if got := objectives(); got != n {
		t.Errorf("%d objectives after bad input, want %d", got, n)
	}
	os, _ := s.app.Objectives(s.as(t, "pm@northstar.test"), "BOOK")
	o := os[0]
	kr := o.KeyResults[0]
	checkIn := fmt.Sprintf("/objectives/%d/key-results/%d/check-ins", o.ID, kr.ID)
	a = pm.post(checkIn, url.Values{"value": {"a few"}})
	want(t, a, http.StatusBadRequest, "value must be a number", fmt.Sprintf(`id="checkin-%d-value" value="a few"`, kr.ID))
	a = pm.post(checkIn, url.Values{"value": {"4"}, "note": {"Pilot shops"}})
	want(t, a, http.StatusSeeOther)
	if loc := a.header.Get("Location"); loc != fmt.Sprintf("/products/BOOK/objectives#kr-%d", kr.ID) {
		t.Errorf("after a check-in: Location %q", loc)
	}
	a = pm.get("/products/BOOK/objectives")
	want(t, a, http.StatusOK, `<progress class="progress" max="100" value="40"`, "Pilot shops", `<svg class="spark"`)

	a = pm.post("/products/BOOK/feedback", url.Values{"source": {"sales"}, "customer_id": {"999"}, "text": {"They want gift cards."}})
	want(t, a, http.StatusUnprocessableEntity, "Customer 999 not found", "They want gift cards.")
	a = pm.post("/products/BOOK/feedback", url.Values{"source": {"portal"}, "text": {"Sneaky"}})
	want(t, a, http.StatusBadRequest, "is not one of")

	item := fmt.Sprintf("/products/BOOK/feedback/%d", fid)
	a = pm.post(item+"/insights", url.Values{"passage_text": {"words she never said"}, "new_idea": {"Anything"}})
	want(t, a, http.StatusBadRequest, "must be quoted from the feedback", "words she never said", `value="Anything"`)
	a = pm.post(item+"/insights", url.Values{"passage_text": {"x"}, "feature": {"BOOK-1"}, "new_idea": {"Both"}})
	want(t, a, http.StatusBadRequest, `give either`)
	a = pm.post(item+"/insights", url.Values{"feature": {"BOOK-99"}})
	want(t, a, http.StatusNotFound, "Feature BOOK-99 not found", `id="link-form"`)

	a = pm.post("/customers", url.Values{"name": {"Bob"}, "email": {"not an address"}})
	want(t, a, http.StatusBadRequest, `value="Bob"`)
	a = pm.post("/customers", url.Values{"name": {"Bob"}, "value": {"-5"}})
	want(t, a, http.StatusBadRequest, "value must be a number of zero or more")
	a = pm.post("/products/BOOK/personas", url.Values{"name": {""}, "goals": {"Sleep"}})
	want(t, a, http.StatusBadRequest, "name is required", "Sleep")
}

// Linking without JavaScript: the passage is pasted into the fallback
// field; a passage as the page shows it (without Markdown's marks) is
// found in the source.
func TestLinkWithoutJavaScript(t *testing.T) {
	forEngines(t, testLinkWithoutJavaScript)
}

func testLinkWithoutJavaScript(t *testing.T, s *site) {
	fid, _ := discoveryFixture(t, s)
	po := s.login(t, "po@northstar.test")
	item := fmt.Sprintf("/products/BOOK/feedback/%d", fid)
	a := po.post(item+"/insights", url.Values{"passage_text": {"stock by hand every"}, "new_idea": {"Scan to count"}, "importance": {"critical"}})
	want(t, a, http.StatusSeeOther)
	f, err := s.app.Feedback(s.as(t, "po@northstar.test"), "BOOK", fid)
	if err != nil {
		t.Fatal(err)
	}
	last := f.Links[len(f.Links)-1]
	if last.Passage != "stock **by hand** every" || last.Importance != northstar.Critical || last.Feature != "Scan to count" {
		t.Errorf("insight = %+v", last)
	}
	// To an existing idea, and the status changes through triage.
	a = po.post(item+"/insights", url.Values{"feature": {last.FeatureRef}, "importance": {"nice_to_have"}})
	want(t, a, http.StatusSeeOther)
	a = po.post(item, url.Values{"section": {"triage"}, "status": {"archived"}, "customer_id": {""}})
	want(t, a, http.StatusSeeOther)
	a = po.get(item)
	want(t, a, http.StatusOK, "fb-status-archived", "Not from a known customer")
	a = po.get("/products/BOOK/feedback?status=archived&linked=yes")
	want(t, a, http.StatusOK, "Maria")
	a = po.get("/products/BOOK/feedback?status=new")
	wantNot(t, a, `href="`+item+`"`)
}

// The public portal: no account, nothing private, limits with a message.
func TestPublicPortal(t *testing.T) {
	forEngines(t, testPublicPortal)
}

func testPublicPortal(t *testing.T, s *site) {
	anon := s.anon(t)
	// Closed: a page that is not there, without the app's navigation.
	a := anon.get("/portal/BOOK")
	want(t, a, http.StatusNotFound, "There is no public portal here", `class="portal-body"`)
	wantNot(t, a, "mainnav")

	_, ideaID := discoveryFixture(t, s)
	pm := s.as(t, "pm@northstar.test")
	a = anon.get("/portal/BOOK")
	want(t, a, http.StatusOK, "Gift cards", "Suggest an idea", `class="hp-field"`, `name="website"`)
	wantNot(t, a, "ann@reader.example", "mainnav", "Sign out", " style=")

	// An idea with HTML is shown as text.
	a = anon.post("/portal/BOOK", url.Values{"title": {"<script>alert(1)</script>"}, "body": {"<img src=x onerror=alert(1)>"}, "email": {"eve@example.net"}})
	want(t, a, http.StatusSeeOther)
	a = anon.get("/portal/BOOK")
	want(t, a, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;", "Thank you!")
	wantNot(t, a, "<script>alert", "<img src=x", "eve@example.net")

	// A bot fills the honeypot: the same thanks, nothing stored.
	before, _ := s.app.TeamPortalIdeas(pm, "BOOK")
	a = anon.post("/portal/BOOK", url.Values{"title": {"Cheap pills"}, "email": {"bot@spam.example"}, "website": {"http://spam.example"}})
	want(t, a, http.StatusSeeOther)
	after, _ := s.app.TeamPortalIdeas(pm, "BOOK")
	if len(after) != len(before) {
		t.Errorf("the honeypot let an idea in")
	}

	// Votes: once per address; the second is refused at the idea's form.
	idea := fmt.Sprintf("/portal/BOOK/ideas/%d", ideaID)
	want(t, anon.post(idea+"/vote", url.Values{"email": {"fan@example.net"}}), http.StatusSeeOther)
	a = anon.post(idea+"/vote", url.Values{"email": {"FAN@example.net"}, "from": {"idea"}})
	want(t, a, http.StatusConflict, "You have already voted for this idea.", `<details class="vote" open>`)
	a = anon.post(idea+"/vote", url.Values{"email": {"nope"}})
	want(t, a, http.StatusBadRequest, `aria-invalid="true"`)
	a = anon.get(idea)
	want(t, a, http.StatusOK, `<span class="vote-number">2</span>`, "Gift cards")
	want(t, anon.post(idea+"/comments", url.Values{"body": {"Yes!"}, "name": {"Fan"}, "email": {"fan@example.net"}}), http.StatusSeeOther)
	a = anon.post(idea+"/comments", url.Values{"body": {""}, "email": {"fan@example.net"}})
	want(t, a, http.StatusBadRequest, "body is required")
	a = anon.get(idea)
	want(t, a, http.StatusOK, "Yes!", "Fan")
	wantNot(t, a, "fan@example.net", "ann@reader.example")

	// Hidden by the team: gone from the portal.
	pmb := s.login(t, "pm@northstar.test")
	want(t, pmb.post(fmt.Sprintf("/products/BOOK/portal/ideas/%d", ideaID), url.Values{"hidden": {"true"}}), http.StatusSeeOther)
	want(t, pmb.post(fmt.Sprintf("/products/BOOK/portal/ideas/%d/comments", ideaID), url.Values{"body": {"Thanks, we are on it."}}), http.StatusSeeOther)
	wantNot(t, anon.get("/portal/BOOK"), "Gift cards")
	want(t, anon.get(idea), http.StatusNotFound)
	want(t, anon.post(idea+"/vote", url.Values{"email": {"late@example.net"}}), http.StatusNotFound)
	a = pmb.get("/products/BOOK/portal")
	want(t, a, http.StatusOK, "Show on the portal", "is-hidden")

	// Flooding: refused with 429, Retry-After and a message at the form.
	var last answer
	for i := range 7 {
		last = anon.post("/portal/BOOK", url.Values{"title": {"Idea " + strconv.Itoa(i)}, "email": {"flood@example.net"}})
		if last.status == http.StatusTooManyRequests {
			break
		}
	}
	want(t, last, http.StatusTooManyRequests, "Too many posts", `id="suggest-form"`)
	if last.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}

	// Verification: the link's page changes nothing; a bad secret is a
	// missing page.
	want(t, anon.get("/portal/verify/pv_nothing"), http.StatusOK, "Confirm my email address")
	want(t, anon.post("/portal/verify/pv_nothing", url.Values{}), http.StatusNotFound, "not valid")

	// Closed again: gone.
	want(t, pmb.post("/products/BOOK/portal", url.Values{"intro": {"Back soon"}}), http.StatusSeeOther)
	want(t, anon.get("/portal/BOOK"), http.StatusNotFound)
	want(t, anon.post("/portal/BOOK", url.Values{"title": {"x"}, "email": {"x@example.net"}}), http.StatusNotFound)
}

var (
	inlineStyle   = regexp.MustCompile(`(?i)<[^>]+\sstyle=`)
	inlineHandler = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+=`)
	inlineScript  = regexp.MustCompile(`(?i)<script(\s[^>]*)?>[^<]`)
)

// The content security policy allows no inline styles, handlers or
// scripts: the discovery pages have none.
func TestDiscoveryPagesFollowCSP(t *testing.T) {
	forEngines(t, testDiscoveryPagesFollowCSP)
}

func testDiscoveryPagesFollowCSP(t *testing.T, s *site) {
	fid, ideaID := discoveryFixture(t, s)
	pm := s.login(t, "pm@northstar.test")
	anon := s.anon(t)
	pages := []struct {
		b    *browser
		path string
	}{
		{pm, "/products/BOOK/strategy"}, {pm, "/objectives"}, {pm, "/products/BOOK/objectives"}, {pm, "/customers"},
		{pm, "/customers?edit=1"}, {pm, "/products/BOOK/feedback"}, {pm, fmt.Sprintf("/products/BOOK/feedback/%d", fid)},
		{pm, "/products/BOOK/portal"}, {pm, "/products/BOOK"}, {pm, "/products/BOOK/backlog"},
		{anon, "/portal/BOOK"}, {anon, fmt.Sprintf("/portal/BOOK/ideas/%d", ideaID)}, {anon, "/portal/verify/x"}, {anon, "/portal/NOPE"},
	}
	for _, p := range pages {
		a := p.b.get(p.path)
		if a.status >= 400 && p.path != "/portal/NOPE" {
			t.Errorf("GET %s: %d", p.path, a.status)
		}
		for _, re := range []*regexp.Regexp{inlineStyle, inlineHandler, inlineScript} {
			if m := re.FindString(a.body); m != "" {
				t.Errorf("GET %s: inline %q", p.path, m)
			}
		}
		if !strings.Contains(a.body, "</html>") {
			t.Errorf("GET %s: not a whole page", p.path)
		}
	}
}
