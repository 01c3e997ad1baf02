package api

// Strategy alignment of a product and of the company.

import (
	"net/http"
	"strconv"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// alignmentRoutes lists the alignment routes; Routes includes them.
func (a *API) alignmentRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/alignment", Handler: authed(a.companyAlignment)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/alignment", Handler: authed(a.productAlignment)},
	}
}

// sprintsParam reads ?sprints=, 0 when absent.
func sprintsParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("sprints")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > northstar.MaxAlignmentSprints {
		return 0, northstar.FieldError("sprints", "sprints must be a whole number from 1 to %d.", northstar.MaxAlignmentSprints)
	}
	return n, nil
}

func (a *API) productAlignment(w http.ResponseWriter, r *http.Request) error {
	n, err := sprintsParam(r)
	if err != nil {
		return err
	}
	al, err := a.app.ProductAlignment(r.Context(), r.PathValue("key"), n)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, al)
	return nil
}

func (a *API) companyAlignment(w http.ResponseWriter, r *http.Request) error {
	n, err := sprintsParam(r)
	if err != nil {
		return err
	}
	al, err := a.app.CompanyAlignment(r.Context(), n)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, al)
	return nil
}
