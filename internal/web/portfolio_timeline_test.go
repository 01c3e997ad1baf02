package web

import (
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

// svgNode is an element of a drawn chart (or, with Text and no Name, the
// text between elements), for tests that look at its structure: which
// element holds which.
type svgNode struct {
	Name  string
	Attr  map[string]string
	Text  string
	Nodes []*svgNode
}

// parseSVG reads a chart into a tree of elements.
func parseSVG(t *testing.T, svg string) *svgNode {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	root := &svgNode{}
	stack := []*svgNode{root}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		top := stack[len(stack)-1]
		switch el := tok.(type) {
		case xml.StartElement:
			n := &svgNode{Name: el.Name.Local, Attr: map[string]string{}}
			for _, a := range el.Attr {
				n.Attr[a.Name.Local] = a.Value
			}
			top.Nodes = append(top.Nodes, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.Nodes = append(top.Nodes, &svgNode{Text: string(el)})
		}
	}
	return root
}

// all returns the elements under n, in document order, that have class.
func (n *svgNode) all(class string) []*svgNode {
	var out []*svgNode
	for _, c := range n.Nodes {
		if slices.Contains(strings.Fields(c.Attr["class"]), class) {
			out = append(out, c)
		}
		out = append(out, c.all(class)...)
	}
	return out
}

// text is everything written inside n.
func (n *svgNode) text() string {
	s := n.Text
	for _, c := range n.Nodes {
		s += c.text()
	}
	return s
}

func (n *svgNode) num(t *testing.T, attr string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.Attr[attr], 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", n.Name, attr, n.Attr[attr], err)
	}
	return v
}

// TestPortfolioTimeline draws the roadmap across products: a row group per
// product on the board that has something on the timeline, in key order,
// linked to its roadmap; a bar per dated feature linked to its page; each
// product's releases on its own heading; what has no dates handed back.
func TestPortfolioTimeline(t *testing.T) {
	day := sprintDay
	now := day("2026-03-10").Time.Add(9 * time.Hour)
	products := map[string]*northstar.PortfolioProduct{
		"BOOK":  {Key: "BOOK", Name: "Book inventory", Stage: northstar.StageGrowth},
		"EBOOK": {Key: "EBOOK", Name: `Ebook <subs> & "more"`, Stage: northstar.StageDevelopment},
		"SHOP":  {Key: "SHOP", Name: "Shop front", Stage: northstar.StageIntroduction},
		"CAFE":  {Key: "CAFE", Name: "Café loyalty cards", Stage: northstar.StageConceived},
	}
	// The board lists products by stage, not by key.
	pf := &northstar.Portfolio{Board: northstar.NewStageBoard([]*northstar.PortfolioProduct{products["EBOOK"], products["CAFE"], products["SHOP"], products["BOOK"]})}
	spring := &northstar.NamedRef{ID: 1, Name: "Spring"}
	pf.Roadmap = []*northstar.PortfolioFeature{
		{ProductKey: "BOOK", Ref: "BOOK-1", Title: "Stock counts", Status: northstar.FeatureInProgress, Horizon: northstar.HorizonNow,
			Start: day("2026-01-05"), End: day("2026-03-20"), Release: spring, ReleaseTarget: day("2026-04-01")},
		{ProductKey: "BOOK", Ref: "BOOK-2", Title: "Reorder suggestions", Status: northstar.FeatureIdea, Horizon: northstar.HorizonNext},
		{ProductKey: "BOOK", Ref: "BOOK-3", Title: "Shelf map", Status: northstar.FeaturePlanned, Start: day("2026-02-01"), End: day("2026-04-30")},
		{ProductKey: "EBOOK", Ref: "EBOOK-1", Title: "Reader app", Status: northstar.FeaturePlanned, Start: day("2026-04-01")},
		{ProductKey: "EBOOK", Ref: "EBOOK-2", Title: "Billing", Status: northstar.FeatureUnderConsideration, Horizon: northstar.HorizonLater, End: day("2026-05-31")},
		{ProductKey: "EBOOK", Ref: "EBOOK-3", Title: "Family sharing", Status: northstar.FeatureIdea, Horizon: northstar.HorizonNow},
	}
	pf.Releases = []*northstar.Release{
		{ID: 1, ProductKey: "BOOK", Name: "Spring", Target: day("2026-04-01"), Status: northstar.ReleasePlanned},
		{ID: 2, ProductKey: "BOOK", Name: "Spring fixes", Target: day("2026-04-03"), Status: northstar.ReleasePlanned},
		{ID: 3, ProductKey: "EBOOK", Name: "Launch", Target: day("2026-05-15"), Status: northstar.ReleaseInProgress, MVP: true},
		{ID: 4, ProductKey: "SHOP", Name: "Pilot", Target: day("2026-03-30"), Status: northstar.ReleasePlanned},
	}

	tl := portfolioTimeline(pf, rmScaleMonths, now)
	svg := string(tl.SVG)
	classes, titles := svgDoc(t, svg)
	doc := parseSVG(t, svg)

	// One group per product, by key; CAFE has nothing to show.
	var heads []string
	for _, a := range doc.all("tl-group-link") {
		heads = append(heads, a.Attr["href"])
	}
	if want := []string{"/products/BOOK/roadmap", "/products/EBOOK/roadmap", "/products/SHOP/roadmap"}; !slices.Equal(heads, want) {
		t.Errorf("group headings link to %q, want %q", heads, want)
	}
	if got := doc.all("tl-group")[1].text(); got != `EBOOK Ebook <subs> & "more"` {
		t.Errorf("EBOOK's heading reads %q", got)
	}

	// A bar per dated feature, under its product, linked to its page;
	// within a product by start.
	var bars []string
	for _, a := range doc.all("tl-link") {
		if len(a.all("tl-bar")) != 1 {
			t.Errorf("%s: %d bars, want 1", a.Attr["href"], len(a.all("tl-bar")))
		}
		bars = append(bars, a.Attr["href"])
	}
	want := []string{"/products/BOOK/features/BOOK-1", "/products/BOOK/features/BOOK-3", "/products/EBOOK/features/EBOOK-1", "/products/EBOOK/features/EBOOK-2"}
	if !slices.Equal(bars, want) {
		t.Errorf("bars link to %q, want %q", bars, want)
	}
	if tl.Scheduled != 4 || classes["rect.tl-bar"] != 4 {
		t.Errorf("%d features scheduled, %d bars, want 4", tl.Scheduled, classes["rect.tl-bar"])
	}
	// A bar runs from its start to the day after its end: BOOK-1 from
	// 5 January to 20 March at 72 per month.
	bar := doc.all("tl-bar")[0]
	x1, w := bar.num(t, "x"), bar.num(t, "width")
	if want := rmLabelW + 4.0/31*72; x1 < want-0.1 || x1 > want+0.1 {
		t.Errorf("BOOK-1 starts at %g, want %g", x1, want)
	}
	if want := rmLabelW + (2+20.0/31)*72; x1+w < want-0.2 || x1+w > want+0.2 {
		t.Errorf("BOOK-1 ends at %g, want %g", x1+w, want)
	}

	// What has no dates is handed back for the lists below the picture.
	var undated []string
	for _, f := range tl.Unscheduled {
		undated = append(undated, f.Ref)
	}
	if !slices.Equal(undated, []string{"BOOK-2", "EBOOK-3"}) {
		t.Errorf("unscheduled = %q, want BOOK-2 and EBOOK-3", undated)
	}

	// Each product's releases sit on its heading, not in lanes under the
	// axis; two close ones stack, and the heading grows for them. Each
	// line runs down its own product's rows only.
	if classes["text.tl-lane-title"] != 0 {
		t.Error("the portfolio timeline has a releases lane under the axis")
	}
	bands := doc.all("tl-group-bg")
	if len(bands) != 3 {
		t.Fatalf("%d heading bands, want 3", len(bands))
	}
	type extent struct{ top, bottom float64 }
	group := []extent{}
	for i, b := range bands {
		e := extent{top: b.num(t, "y") - 2}
		if i > 0 {
			group[i-1].bottom = e.top
		}
		group = append(group, e)
	}
	group[2].bottom = group[2].top + rmGroupH // SHOP: a heading alone
	if h := bands[0].num(t, "height"); h != rmGroupH+rmLaneH-4 {
		t.Errorf("BOOK's heading is %g high, want room for two lanes of releases", h)
	}
	releases := doc.all("tl-release")
	if len(releases) != 4 {
		t.Fatalf("%d release markers, want 4", len(releases))
	}
	for i, want := range []struct {
		title string
		group int
	}{
		{"Release Spring · Planned · target 1 Apr 2026", 0},
		{"Release Spring fixes · Planned · target 3 Apr 2026", 0},
		{"Release Launch (MVP) · In progress · target 15 May 2026", 1},
		{"Release Pilot · Planned · target 30 Mar 2026", 2},
	} {
		r := releases[i]
		if got := r.Nodes[0].text(); got != want.title {
			t.Errorf("release %d says %q, want %q", i, got, want.title)
		}
		line := r.all("tl-release-line")[0]
		label := r.all("tl-release-label")[0]
		g := group[want.group]
		if y := label.num(t, "y"); y < g.top || y > g.top+bands[want.group].num(t, "height") {
			t.Errorf("%s: label at %g, outside its heading from %g", want.title, y, g.top)
		}
		if y2 := line.num(t, "y2"); y2 != g.bottom {
			t.Errorf("%s: line down to %g, want its product's bottom %g", want.title, y2, g.bottom)
		}
	}
	if a, b := releases[0].all("tl-release-label")[0].num(t, "y"), releases[1].all("tl-release-label")[0].num(t, "y"); b-a != rmLaneH {
		t.Errorf("Spring's labels at %g and %g, want the second a lane lower", a, b)
	}

	if classes["line.tl-today-line"] != 1 {
		t.Error("today is not marked")
	}
	if titles[0] != "Roadmap timeline across 3 products by month: 4 features with dates, 4 releases" {
		t.Errorf("summary = %q", titles[0])
	}
	for _, want := range []string{`&lt;subs&gt; &amp; &#34;more&#34;`, `class="timeline-chart"`, `aria-label="Roadmap timeline across 3 products`} {
		if !strings.Contains(svg, want) {
			t.Errorf("timeline lacks %s", want)
		}
	}

	// By quarter, the same groups and bars.
	q := parseSVG(t, string(portfolioTimeline(pf, rmScaleQuarters, now).SVG))
	if len(q.all("tl-group-link")) != 3 || len(q.all("tl-bar")) != 4 {
		t.Errorf("by quarter: %d groups, %d bars", len(q.all("tl-group-link")), len(q.all("tl-bar")))
	}
}

// TestPortfolioTimelineEmpty: nothing dated and no release draws an empty
// picture that says so, and hands every feature back.
func TestPortfolioTimelineEmpty(t *testing.T) {
	pf := &northstar.Portfolio{Board: northstar.NewStageBoard([]*northstar.PortfolioProduct{{Key: "BOOK", Name: "Book inventory", Stage: northstar.StageGrowth}}),
		Roadmap: []*northstar.PortfolioFeature{{ProductKey: "BOOK", Ref: "BOOK-1", Title: "Stock counts", Status: northstar.FeatureIdea, Horizon: northstar.HorizonNow}}}
	tl := portfolioTimeline(pf, rmScaleMonths, time.Now())
	classes, _ := svgDoc(t, string(tl.SVG))
	if tl.Scheduled != 0 || len(tl.Unscheduled) != 1 || classes["text.tl-empty"] != 1 || classes["a.tl-group-link"] != 0 {
		t.Errorf("empty timeline: %d scheduled, %d unscheduled, classes %v", tl.Scheduled, len(tl.Unscheduled), classes)
	}
}
