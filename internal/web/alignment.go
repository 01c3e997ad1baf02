package web

// Strategy alignment pages: a product's and the company's share of points
// that serve an objective, and the orphan work.

import (
	"net/http"
	"strconv"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

func (web *Web) alignmentRoutes() []httpx.Route {
	a := web.authed
	return []httpx.Route{
		{Method: "GET", Pattern: "/alignment", Handler: a(web.companyAlignment)},
		{Method: "GET", Pattern: "/products/{key}/alignment", Handler: a(web.productAlignment)},
	}
}

type alignmentView struct {
	page
	Product   *northstar.Product // nil for the company
	Alignment *northstar.Alignment
	Sprints   int
	Choices   []int
}

// alignmentN reads ?sprints=, falling back to the default on nonsense.
func alignmentN(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("sprints"))
	if err != nil || n < 1 || n > northstar.MaxAlignmentSprints {
		return northstar.DefaultAlignmentSprints
	}
	return n
}

func (web *Web) productAlignment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.app.Product(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	n := alignmentN(r)
	al, err := web.app.ProductAlignment(r.Context(), p.Key, n)
	if err != nil {
		return err
	}
	v := alignmentView{page: web.newPage(w, r, "Alignment · "+p.Name, "products"), Product: p, Alignment: al, Sprints: n, Choices: []int{3, 6, 12, 24}}
	return web.render(w, r, http.StatusOK, "alignment", v)
}

func (web *Web) companyAlignment(w http.ResponseWriter, r *http.Request) error {
	n := alignmentN(r)
	al, err := web.app.CompanyAlignment(r.Context(), n)
	if err != nil {
		return err
	}
	v := alignmentView{page: web.newPage(w, r, "Alignment", "objectives"), Alignment: al, Sprints: n, Choices: []int{3, 6, 12, 24}}
	return web.render(w, r, http.StatusOK, "alignment", v)
}
