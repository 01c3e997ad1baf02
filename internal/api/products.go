package api

import (
	"net/http"
	"strconv"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

func (a *API) listProducts(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	f := northstar.ProductFilter{Limit: limit + 1, After: after}
	if s := r.URL.Query().Get("archived"); s != "" {
		if f.IncludeArchived, err = strconv.ParseBool(s); err != nil {
			return northstar.FieldError("archived", "archived must be true or false.")
		}
	}
	ps, err := a.app.Products(r.Context(), f)
	if err != nil {
		return err
	}
	page := Page[*northstar.Product]{Items: ps}
	if len(ps) > limit {
		page.Items = ps[:limit]
		page.NextCursor = encodeCursor(ps[limit-1].Key)
	}
	if page.Items == nil {
		page.Items = []*northstar.Product{}
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) createProduct(w http.ResponseWriter, r *http.Request) error {
	var req northstar.NewProduct
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	p, err := a.app.CreateProduct(r.Context(), req)
	if err != nil {
		return err
	}
	setETag(w, p.Version)
	w.Header().Set("Location", "/api/v1/products/"+p.Key)
	httpx.WriteJSON(w, http.StatusCreated, p)
	return nil
}

func (a *API) getProduct(w http.ResponseWriter, r *http.Request) error {
	p, err := a.app.Product(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	setETag(w, p.Version)
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) updateProduct(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req northstar.ProductUpdate
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	p, err := a.app.UpdateProduct(r.Context(), r.PathValue("key"), version, req)
	if err != nil {
		return err
	}
	setETag(w, p.Version)
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

type stageRequest struct {
	Stage northstar.Stage `json:"stage"`
	Note  string          `json:"note"`
}

func (a *API) changeStage(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req stageRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Stage == "" {
		return northstar.FieldError("stage", "stage is required.")
	}
	p, err := a.app.ChangeStage(r.Context(), r.PathValue("key"), req.Stage, req.Note, version)
	if err != nil {
		return err
	}
	setETag(w, p.Version)
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) stageHistory(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.app.StageHistory(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.StageChange]{Items: cs})
	return nil
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.app.Members(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.Member]{Items: ms})
	return nil
}

type memberRequest struct {
	Role northstar.Role `json:"role"`
}

func (a *API) setMember(w http.ResponseWriter, r *http.Request) error {
	var req memberRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	m, err := a.app.SetMember(r.Context(), r.PathValue("key"), r.PathValue("email"), req.Role)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, m)
	return nil
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	if err := a.app.RemoveMember(r.Context(), r.PathValue("key"), r.PathValue("email")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
