package web

// Portfolio pages: the products by lifecycle stage, the cross-product
// roadmap, the objectives roll-up, and what shipped this month (also as
// Markdown for a newsletter).

import (
	"net/http"
	"time"

	"github.com/northstar-pm/northstar"
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
	// Horizons groups the roadmap by horizon, now first; Dated holds
	// the features with dates and no horizon.
	Horizons []portfolioHorizon
}

type portfolioHorizon struct {
	Label    string
	Features []*northstar.PortfolioFeature
}

func (web *Web) portfolio(w http.ResponseWriter, r *http.Request) error {
	pf, err := web.app.Portfolio(r.Context())
	if err != nil {
		return err
	}
	v := portfolioView{page: web.newPage(w, r, "Portfolio", "portfolio"), Portfolio: pf}
	groups := map[northstar.Horizon][]*northstar.PortfolioFeature{}
	for _, f := range pf.Roadmap {
		groups[f.Horizon] = append(groups[f.Horizon], f)
	}
	for _, h := range []struct {
		h     northstar.Horizon
		label string
	}{{northstar.HorizonNow, "Now"}, {northstar.HorizonNext, "Next"}, {northstar.HorizonLater, "Later"}, {"", "Dated, not placed"}} {
		v.Horizons = append(v.Horizons, portfolioHorizon{Label: h.label, Features: groups[h.h]})
	}
	return web.render(w, r, http.StatusOK, "portfolio", v)
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
