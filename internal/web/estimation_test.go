package web_test

// The estimation pages over HTTP on the demo data: the suggested points on
// a story and accepting them, the forecast page from the release page,
// and a planning-poker round from opening to agreeing, with votes hidden
// from the other browser until the reveal.

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

func TestSuggestionOnStoryPage(t *testing.T) {
	s := newDemoSite(t, store.SQLite)
	ctx := s.as(t, "po@northstar.test")
	st, err := s.app.CreateStory(ctx, "BOOK", northstar.NewStory{Title: "Scan a barcode to count stock on a shelf"})
	if err != nil {
		t.Fatal(err)
	}
	po, viewer := s.login(t, "po@northstar.test"), s.login(t, "viewer@northstar.test")
	want(t, po.get("/products/BOOK/stories/"+st.Ref), http.StatusOK, `id="estimate-suggestion"`, `/products/BOOK/stories/`+st.Ref+`/suggestion`)

	frag := po.get("/products/BOOK/stories/" + st.Ref + "/suggestion")
	want(t, frag, http.StatusOK, "Suggested points", `id="suggested-points"`, `id="accept-suggestion"`, "Like ")
	wantNot(t, frag, "<!doctype html>")
	wantNot(t, viewer.get("/products/BOOK/stories/"+st.Ref+"/suggestion"), `id="accept-suggestion"`)

	points := regexp.MustCompile(`name="points" value="(\d+)"`).FindStringSubmatch(frag.body)
	if points == nil {
		t.Fatalf("no points in the accept form: %s", frag.body)
	}
	form := url.Values{"version": {fmt.Sprint(st.Version)}, "points": {points[1]}}
	res := viewer.do("POST", "/products/BOOK/stories/"+st.Ref+"/suggestion/accept", form, nil)
	want(t, res, http.StatusForbidden)
	res = po.do("POST", "/products/BOOK/stories/"+st.Ref+"/suggestion/accept", form, nil)
	want(t, res, http.StatusSeeOther)
	got, err := s.app.Story(ctx, st.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Points == nil || fmt.Sprint(*got.Points) != points[1] {
		t.Fatalf("%s points = %v, want the accepted %s", st.Ref, got.Points, points[1])
	}
	// Accepting again does not overwrite: the page says why.
	res = po.do("POST", "/products/BOOK/stories/"+st.Ref+"/suggestion/accept", form, nil)
	want(t, res, http.StatusSeeOther)
	want(t, po.get("/products/BOOK/stories/"+st.Ref), http.StatusOK, "changed by someone else")
	wantNot(t, po.get("/products/BOOK/stories/"+st.Ref+"/suggestion"), `id="accept-suggestion"`)
}

func TestForecastPage(t *testing.T) {
	s := newDemoSite(t, store.SQLite)
	ctx := s.as(t, "pm@northstar.test")
	releases, err := s.app.Releases(ctx, "BOOK")
	if err != nil || len(releases) == 0 {
		t.Fatalf("demo releases: %v, %v", releases, err)
	}
	rel := releases[0]
	pm := s.login(t, "viewer@northstar.test")
	link := fmt.Sprintf("/products/BOOK/forecast?release=%d", rel.ID)
	want(t, pm.get(fmt.Sprintf("/products/BOOK/releases/%d", rel.ID)), http.StatusOK, `id="release-forecast"`, strings.ReplaceAll(link, "&", "&amp;"))
	line := pm.get(fmt.Sprintf("/products/BOOK/releases/%d/forecast", rel.ID))
	want(t, line, http.StatusOK, `id="release-forecast-line"`, "Likely done:", "50 %</strong> by", "95 %</strong> by")
	wantNot(t, line, "<!doctype html>")
	want(t, pm.get(fmt.Sprintf("/products/BOOK/releases/%d/forecast?team=99999", rel.ID)), http.StatusOK, "No team 99999 works on BOOK")
	want(t, pm.get("/products/BOOK/releases/99999/forecast"), http.StatusNotFound)
	res := pm.get(link)
	want(t, res, http.StatusOK, "When release "+rel.Name, `id="forecast-table"`, `data-confidence="50"`, `data-confidence="95"`)
	want(t, pm.get("/products/BOOK/forecast"), http.StatusOK, "When the backlog is done")
	want(t, pm.get("/products/BOOK/forecast?unit=stories&date=2099-01-01"), http.StatusBadRequest, `id="forecast-error"`, "within ten years")
	want(t, pm.get("/products/BOOK/forecast?date=tomorrow"), http.StatusBadRequest, `id="forecast-error"`)
	want(t, pm.get("/products/BOOK/forecast?unit=hours"), http.StatusBadRequest, `id="forecast-error"`)
	want(t, pm.get("/products/BOOK/forecast?release=99999"), http.StatusNotFound, `id="forecast-error"`)
	want(t, pm.get("/products/NOPE/forecast"), http.StatusNotFound)
}

func TestPokerPages(t *testing.T) {
	s := newDemoSite(t, store.SQLite)
	ctx := s.as(t, "po@northstar.test")
	a, err := s.app.CreateStory(ctx, "BOOK", northstar.NewStory{Title: "Print shelf labels"})
	if err != nil {
		t.Fatal(err)
	}
	po, dev, pm, viewer := s.login(t, "po@northstar.test"), s.login(t, "dev@northstar.test"), s.login(t, "pm@northstar.test"), s.login(t, "viewer@northstar.test")
	want(t, po.get("/products/BOOK/poker"), http.StatusOK, `id="poker-open"`, a.Ref)
	wantNot(t, dev.get("/products/BOOK/poker"), `id="poker-open"`)
	want(t, po.do("POST", "/products/BOOK/poker", url.Values{"title": {"Refinement"}}, nil), http.StatusBadRequest, "at least one story")

	res := po.do("POST", "/products/BOOK/poker", url.Values{"title": {"Refinement"}, "stories": {a.Ref}}, nil)
	want(t, res, http.StatusSeeOther)
	round := res.header.Get("Location")
	if !strings.HasPrefix(round, "/products/BOOK/poker/") {
		t.Fatalf("opened round at %q", round)
	}
	vote := func(b *browser, p string) {
		t.Helper()
		want(t, b.do("POST", round, url.Values{"action": {"vote"}, "ref": {a.Ref}, "points": {p}}, nil), http.StatusSeeOther)
	}
	vote(dev, "8")
	vote(pm, "13")
	page := viewer.get(round)
	want(t, page, http.StatusOK, `id="poker-round"`, "2 votes", `data-live-product="BOOK"`, "/static/estimation.js")
	wantNot(t, page, `class="est-card is-shown"`, `class="est-cards"`)
	want(t, dev.get(round), http.StatusOK, `class="est-card is-mine" type="submit" name="points" value="8"`)
	frag := dev.get(round + "?fragment=1")
	want(t, frag, http.StatusOK, `id="poker-round"`, `data-version=`)
	wantNot(t, frag, "<!doctype html>")

	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(po.get(round).body)[1]
	want(t, po.do("POST", round, url.Values{"action": {"reveal"}, "ref": {a.Ref}, "version": {version}}, nil), http.StatusSeeOther)
	page = viewer.get(round)
	want(t, page, http.StatusOK, `<span class="est-card is-shown">8</span>`, `<span class="est-card is-shown">13</span>`, "From 8 to 13")
	version = regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(po.get(round).body)[1]
	want(t, po.do("POST", round, url.Values{"action": {"agree"}, "ref": {a.Ref}, "points": {"8"}, "version": {version}}, nil), http.StatusSeeOther)
	want(t, viewer.get(round), http.StatusOK, "Agreed: <strong>8</strong>")
	got, err := s.app.Story(ctx, a.Ref)
	if err != nil || got.Points == nil || *got.Points != 8 {
		t.Fatalf("%s after agreeing = %v, %v", a.Ref, got, err)
	}
	// A stale form is refused with a message, not applied.
	want(t, po.do("POST", round, url.Values{"action": {"close"}, "version": {"1"}}, nil), http.StatusSeeOther)
	want(t, po.get(round), http.StatusOK, "changed by someone else")
	want(t, viewer.do("POST", round, url.Values{"action": {"reveal"}, "ref": {a.Ref}}, nil), http.StatusForbidden)
	want(t, po.do("POST", round, url.Values{"action": {"dance"}}, nil), http.StatusBadRequest)
	want(t, viewer.get("/products/BOOK/poker/99999"), http.StatusNotFound)
}
