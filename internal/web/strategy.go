package web

import (
	"net/http"
	"strconv"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// strategyView is a product's strategy page: vision, target market,
// north-star metric, segments and personas. Product managers edit each
// part in place; everyone else reads.
type strategyView struct {
	page
	alerts
	Product  *northstar.Product
	Strategy *northstar.Strategy
	CanEdit  bool
}

func (web *Web) strategyView(w http.ResponseWriter, r *http.Request, key string) (*strategyView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	st, err := web.app.Strategy(ctx, p.Key)
	if err != nil {
		return nil, err
	}
	view := &strategyView{page: web.newPage(w, r, p.Name+" strategy", "products"), Product: p, Strategy: st}
	view.CanEdit = canProduct(view.User, p, northstar.ActionManageProduct)
	return view, nil
}

func (web *Web) strategy(w http.ResponseWriter, r *http.Request) error {
	view, err := web.strategyView(w, r, r.PathValue("key"))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "strategy", view)
}

// strategyDone answers a strategy form: back to the page at the section,
// or the page with the error at the form that was sent.
func (web *Web) strategyDone(w http.ResponseWriter, r *http.Request, section, anchor, done string, err error) error {
	key := normalizeKey(r.PathValue("key"))
	if err == nil {
		setFlash(w, done)
		redirect(w, r, "/products/"+key+"/strategy#"+anchor)
		return nil
	}
	if !formProblem(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
		return err
	}
	view, verr := web.strategyView(w, r, key)
	if verr != nil {
		return verr
	}
	view.Alert = newAlert(r, section, err)
	return web.render(w, r, httpx.Status(err), "strategy", view)
}

// strategySections are the strategy's text forms and the field each sends.
var strategySections = map[string]string{"vision": "vision", "market": "target_market", "metric": "north_star_metric"}

func (web *Web) updateStrategy(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	section := r.PostForm.Get("section")
	field, ok := strategySections[section]
	if !ok {
		return northstar.Errorf(northstar.EINVALID, "Unknown part of the strategy %q.", section)
	}
	value := r.PostForm.Get(field)
	var u northstar.StrategyUpdate
	switch section {
	case "vision":
		u.Vision = &value
	case "market":
		u.TargetMarket = &value
	case "metric":
		u.NorthStarMetric = &value
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	_, err := web.app.UpdateStrategy(r.Context(), r.PathValue("key"), version, u)
	return web.strategyDone(w, r, section, section, "Saved.", err)
}

func (web *Web) saveSegment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	s := northstar.Segment{Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description")}
	section := "segment-new"
	if r.PathValue("id") != "" {
		id, err := parseID(r, "id", "Segment")
		if err != nil {
			return err
		}
		s.ID, section = id, "segment-"+strconv.FormatInt(id, 10)
	}
	saved, err := web.app.SaveSegment(r.Context(), r.PathValue("key"), s)
	msg := ""
	if err == nil {
		msg = "Segment " + saved.Name + " saved."
	}
	return web.strategyDone(w, r, section, "segments", msg, err)
}

func (web *Web) deleteSegment(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Segment")
	if err != nil {
		return err
	}
	if err := web.app.DeleteSegment(r.Context(), r.PathValue("key"), id); err != nil {
		return err
	}
	setFlash(w, "Segment deleted.")
	redirect(w, r, "/products/"+normalizeKey(r.PathValue("key"))+"/strategy#segments")
	return nil
}

func (web *Web) savePersona(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	pe := northstar.Persona{Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description"),
		Goals: r.PostForm.Get("goals"), Pains: r.PostForm.Get("pains")}
	section := "persona-new"
	if r.PathValue("id") != "" {
		id, err := parseID(r, "id", "Persona")
		if err != nil {
			return err
		}
		pe.ID, section = id, "persona-"+strconv.FormatInt(id, 10)
	}
	saved, err := web.app.SavePersona(r.Context(), r.PathValue("key"), pe)
	msg := ""
	if err == nil {
		msg = "Persona " + saved.Name + " saved."
	}
	return web.strategyDone(w, r, section, "personas", msg, err)
}

func (web *Web) deletePersona(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Persona")
	if err != nil {
		return err
	}
	if err := web.app.DeletePersona(r.Context(), r.PathValue("key"), id); err != nil {
		return err
	}
	setFlash(w, "Persona deleted.")
	redirect(w, r, "/products/"+normalizeKey(r.PathValue("key"))+"/strategy#personas")
	return nil
}
