package api

// Portfolio views across products: the stage board, the cross-product
// roadmap and objectives roll-up, and what shipped in a month.

import (
	"net/http"

	"github.com/northstar-pm/northstar/internal/httpx"
)

// portfolioRoutes lists the portfolio routes; Routes includes them.
func (a *API) portfolioRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/portfolio", Handler: authed(a.getPortfolio)},
		{Method: "GET", Pattern: "/api/v1/portfolio/shipped", Handler: authed(a.getShipped)},
	}
}

func (a *API) getPortfolio(w http.ResponseWriter, r *http.Request) error {
	pf, err := a.app.Portfolio(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pf)
	return nil
}

func (a *API) getShipped(w http.ResponseWriter, r *http.Request) error {
	d, err := a.app.Shipped(r.Context(), r.URL.Query().Get("month"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}
