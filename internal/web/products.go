package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

type productsView struct {
	page
	Products []*northstar.Product
	Archived bool
}

func (web *Web) products(w http.ResponseWriter, r *http.Request) error {
	archived := r.URL.Query().Get("archived") == "1"
	ps, err := web.app.Products(r.Context(), northstar.ProductFilter{IncludeArchived: archived})
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "products", productsView{page: web.newPage(w, r, "Products", "products"), Products: ps, Archived: archived})
}

type newProductView struct {
	page
	Form  northstar.NewProduct
	Error *formError
}

func (web *Web) newProductPage(w http.ResponseWriter, r *http.Request) error {
	return web.render(w, r, http.StatusOK, "product_new", newProductView{page: web.newPage(w, r, "New product", "products"),
		Form: northstar.NewProduct{Stage: northstar.StageConceived}})
}

func (web *Web) createProduct(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	// The form shows keys in capitals whatever is typed; the API is strict.
	in := northstar.NewProduct{
		Key: strings.ToUpper(r.PostForm.Get("key")), Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description"),
		Vision: r.PostForm.Get("vision"), Stage: northstar.Stage(r.PostForm.Get("stage")),
	}
	p, err := web.app.CreateProduct(r.Context(), in)
	if err != nil {
		if !userError(err) {
			return err
		}
		return web.render(w, r, httpx.Status(err), "product_new", newProductView{page: web.newPage(w, r, "New product", "products"), Form: in, Error: toFormError(err)})
	}
	setFlash(w, "Product "+p.Key+" created. You are its product manager.")
	redirect(w, r, "/products/"+p.Key)
	return nil
}

// stageStep is one stop on the lifecycle track.
type stageStep struct {
	Stage   northstar.Stage
	Current bool
	Past    bool
}

type productView struct {
	page
	Product    *northstar.Product
	Track      []stageStep
	History    []*northstar.StageChange
	Members    []*northstar.Member
	StageError *formError
	Note       string
}

func (web *Web) productView(w http.ResponseWriter, r *http.Request, key string) (*productView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	history, err := web.app.StageHistory(ctx, key)
	if err != nil {
		return nil, err
	}
	members, err := web.app.Members(ctx, key)
	if err != nil {
		return nil, err
	}
	// Newest first reads best on the page.
	for i, j := 0, len(history)-1; i < j; i, j = i+1, j-1 {
		history[i], history[j] = history[j], history[i]
	}
	view := &productView{page: web.newPage(w, r, p.Name, "products"), Product: p, History: history, Members: members}
	cur := p.Stage.Index()
	for i, s := range northstar.Stages {
		view.Track = append(view.Track, stageStep{Stage: s, Current: i == cur, Past: i < cur})
	}
	return view, nil
}

func (web *Web) product(w http.ResponseWriter, r *http.Request) error {
	view, err := web.productView(w, r, r.PathValue("key"))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "product", view)
}

func (web *Web) changeStage(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := r.PathValue("key")
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	note := r.PostForm.Get("note")
	p, err := web.app.ChangeStage(r.Context(), key, northstar.Stage(r.PostForm.Get("stage")), note, version)
	if err != nil && !userError(err) {
		return err
	}
	if err == nil && !isHTMX(r) {
		setFlash(w, p.Name+" moved to "+p.Stage.Label()+".")
		redirect(w, r, "/products/"+p.Key)
		return nil
	}
	view, verr := web.productView(w, r, key)
	if verr != nil {
		return verr
	}
	status := http.StatusOK
	if err != nil {
		view.StageError, view.Note, status = toFormError(err), note, httpx.Status(err)
	}
	if isHTMX(r) {
		return web.renderPartial(w, status, "product", "lifecycle", view)
	}
	return web.render(w, r, status, "product", view)
}

type settingsView struct {
	page
	Product     *northstar.Product
	Members     []*northstar.Member
	Form        northstar.Product
	Error       *formError
	MemberError *formError
	MemberEmail string
	InviteURL   string
}

func (web *Web) settingsView(w http.ResponseWriter, r *http.Request, key string) (*settingsView, error) {
	p, err := web.app.Product(r.Context(), key)
	if err != nil {
		return nil, err
	}
	members, err := web.app.Members(r.Context(), key)
	if err != nil {
		return nil, err
	}
	return &settingsView{page: web.newPage(w, r, p.Name+" settings", "products"), Product: p, Members: members, Form: *p}, nil
}

func (web *Web) productSettings(w http.ResponseWriter, r *http.Request) error {
	view, err := web.settingsView(w, r, r.PathValue("key"))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "product_settings", view)
}

func (web *Web) updateProduct(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := r.PathValue("key")
	name, desc, vision := r.PostForm.Get("name"), r.PostForm.Get("description"), r.PostForm.Get("vision")
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	p, err := web.app.UpdateProduct(r.Context(), key, version, northstar.ProductUpdate{Name: &name, Description: &desc, Vision: &vision})
	if err != nil {
		if !userError(err) {
			return err
		}
		view, verr := web.settingsView(w, r, key)
		if verr != nil {
			return verr
		}
		view.Form.Name, view.Form.Description, view.Form.Vision = name, desc, vision
		view.Error = toFormError(err)
		return web.render(w, r, httpx.Status(err), "product_settings", view)
	}
	setFlash(w, "Saved.")
	redirect(w, r, "/products/"+p.Key+"/settings")
	return nil
}

func (web *Web) archiveProduct(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	archived := r.PostForm.Get("archived") == "true"
	p, err := web.app.UpdateProduct(r.Context(), r.PathValue("key"), 0, northstar.ProductUpdate{Archived: &archived})
	if err != nil {
		return err
	}
	if archived {
		setFlash(w, p.Name+" is archived: hidden from the product list, nothing is deleted.")
	} else {
		setFlash(w, p.Name+" is back in the product list.")
	}
	redirect(w, r, "/products/"+p.Key+"/settings")
	return nil
}

func (web *Web) setMember(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key, email := r.PathValue("key"), r.PostForm.Get("email")
	_, err := web.app.SetMember(r.Context(), key, email, northstar.Role(r.PostForm.Get("role")))
	if err != nil {
		if !userError(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
			return err
		}
		view, verr := web.settingsView(w, r, key)
		if verr != nil {
			return verr
		}
		view.MemberError, view.MemberEmail = toFormError(err), email
		return web.render(w, r, httpx.Status(err), "product_settings", view)
	}
	setFlash(w, "Membership of "+email+" saved.")
	redirect(w, r, "/products/"+normalizeKey(key)+"/settings")
	return nil
}

func (web *Web) removeMember(w http.ResponseWriter, r *http.Request) error {
	key, email := r.PathValue("key"), r.PathValue("email")
	if err := web.app.RemoveMember(r.Context(), key, email); err != nil {
		if !userError(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	} else {
		setFlash(w, email+" removed.")
	}
	redirect(w, r, "/products/"+normalizeKey(key)+"/settings")
	return nil
}
