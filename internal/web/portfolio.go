package web

// Portfolio pages: the products by lifecycle stage, the cross-product
// roadmap (a timeline with a row group per product, and what has no dates
// by horizon), the objectives roll-up, and what shipped this month (also
// as Markdown for a newsletter).

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

func (web *Web) portfolioRoutes() []httpx.Route {
	a := web.authed
	return []httpx.Route{
		{Method: "GET", Pattern: "/portfolio", Handler: a(web.portfolio)},
		{Method: "GET", Pattern: "/portfolio/shipped", Handler: a(web.shipped)},
		{Method: "GET", Pattern: "/portfolio/shipped.md", Handler: a(web.shippedMarkdown)},
	}
}

type portfolioView struct {
	page
	Portfolio *northstar.Portfolio
	// Scale is the timeline's: months, or quarters when asked.
	Scale string
	// Timeline draws the roadmap's features with dates, a row group per
	// product; Horizons groups the others by horizon, now first.
	Timeline roadmapTimeline
	Horizons []portfolioHorizon
}

type portfolioHorizon struct {
	Label    string
	Features []*northstar.Feature
}

// Statuses are those the timeline's bars can have: the roadmap across
// products leaves out what is released or rejected.
func (portfolioView) Statuses() []northstar.FeatureStatus {
	return []northstar.FeatureStatus{northstar.FeatureIdea, northstar.FeatureUnderConsideration, northstar.FeaturePlanned, northstar.FeatureInProgress}
}

func (web *Web) portfolio(w http.ResponseWriter, r *http.Request) error {
	pf, err := web.app.Portfolio(r.Context())
	if err != nil {
		return err
	}
	v := portfolioView{page: web.newPage(w, r, "Portfolio", "portfolio"), Portfolio: pf, Scale: rmScaleMonths}
	if r.URL.Query().Get("scale") == rmScaleQuarters {
		v.Scale = rmScaleQuarters
	}
	v.Timeline = portfolioTimeline(pf, v.Scale, time.Now())
	groups := map[northstar.Horizon][]*northstar.Feature{}
	for _, f := range v.Timeline.Unscheduled {
		groups[f.Horizon] = append(groups[f.Horizon], f)
	}
	for _, h := range []struct {
		h     northstar.Horizon
		label string
	}{{northstar.HorizonNow, "Now"}, {northstar.HorizonNext, "Next"}, {northstar.HorizonLater, "Later"}, {"", "Not placed"}} {
		v.Horizons = append(v.Horizons, portfolioHorizon{Label: h.label, Features: groups[h.h]})
	}
	return web.render(w, r, http.StatusOK, "portfolio", v)
}

// portfolioTimeline draws the roadmap across products with the product
// roadmap's timeline: a row group per product on the board, by key, each
// heading with its product's releases, each bar linked to its feature.
func portfolioTimeline(pf *northstar.Portfolio, scale string, now time.Time) roadmapTimeline {
	var products []*northstar.PortfolioProduct
	for _, c := range pf.Board {
		products = append(products, c.Products...)
	}
	slices.SortFunc(products, func(a, b *northstar.PortfolioProduct) int { return strings.Compare(a.Key, b.Key) })
	rm := &app.Roadmap{Releases: pf.Releases}
	for _, f := range pf.Roadmap {
		rm.Features = append(rm.Features, &northstar.Feature{ProductKey: f.ProductKey, Ref: f.Ref, Title: f.Title,
			Status: f.Status, Horizon: f.Horizon, Start: f.Start, End: f.End, Release: f.Release})
	}
	return drawRoadmapTimeline(rm, roadmapTimelineSpec{Scale: scale, Group: rmGroupProduct, Products: products, LinkFeatures: true, Now: now})
}

type shippedView struct {
	page
	Digest     *northstar.ShippedDigest
	Month      string
	Prev, Next string
}

func (web *Web) shipped(w http.ResponseWriter, r *http.Request) error {
	d, err := web.app.Shipped(r.Context(), r.URL.Query().Get("month"))
	if err != nil {
		return err
	}
	m, _ := time.Parse("2006-01", d.Month)
	v := shippedView{page: web.newPage(w, r, "What shipped", "portfolio"), Digest: d, Month: m.Format("January 2006"),
		Prev: m.AddDate(0, -1, 0).Format("2006-01"), Next: m.AddDate(0, 1, 0).Format("2006-01")}
	return web.render(w, r, http.StatusOK, "shipped", v)
}

func (web *Web) shippedMarkdown(w http.ResponseWriter, r *http.Request) error {
	d, err := web.app.Shipped(r.Context(), r.URL.Query().Get("month"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="shipped-`+d.Month+`.md"`)
	_, err = w.Write([]byte(d.Markdown))
	return err
}
