package web

// Closing the loop in the browser: the feature page's card with the
// release note and how many were told (loaded by htmx, a page of its own
// without JavaScript), and the unsubscribe pages of release mail.

import (
	"net/http"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

func (web *Web) noticeRoutes() []httpx.Route {
	a, h := web.authed, web.handle
	return []httpx.Route{
		{Method: "GET", Pattern: "/products/{key}/features/{ref}/release-loop", Handler: a(web.releaseLoopPage)},
		{Method: "POST", Pattern: "/products/{key}/features/{ref}/release-note", Handler: a(web.saveReleaseNote)},
		{Method: "GET", Pattern: "/unsubscribe/{secret}", Handler: h(web.public(web.unsubscribePage))},
		{Method: "POST", Pattern: "/unsubscribe/{secret}", Handler: h(web.public(web.unsubscribe))},
	}
}

type releaseLoopView struct {
	page
	Product  *northstar.Product
	Loop     *northstar.ReleaseLoop
	CanEdit  bool
	Error    *formError
	Note     string
	Embedded bool
}

func (web *Web) releaseLoopView(w http.ResponseWriter, r *http.Request) (*releaseLoopView, error) {
	p, err := web.app.Product(r.Context(), r.PathValue("key"))
	if err != nil {
		return nil, err
	}
	l, err := web.app.ReleaseLoop(r.Context(), r.PathValue("ref"))
	if err != nil {
		return nil, err
	}
	u := northstar.UserFromContext(r.Context())
	return &releaseLoopView{page: web.newPage(w, r, "Release note · "+l.Feature, "products"), Product: p, Loop: l, Note: l.Note,
		CanEdit: northstar.Can(u.Admin, p.Role, northstar.ActionManageFeatures) && !p.ReadOnly()}, nil
}

// releaseLoopPage is the card; ?section=1 (the feature page's htmx load)
// answers only the card.
func (web *Web) releaseLoopPage(w http.ResponseWriter, r *http.Request) error {
	v, err := web.releaseLoopView(w, r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("section") != "" {
		v.Embedded = true
		return web.renderPartial(w, http.StatusOK, "release_loop", "release-loop", v)
	}
	return web.render(w, r, http.StatusOK, "release_loop", v)
}

func (web *Web) saveReleaseNote(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	note := r.PostForm.Get("release_note")
	_, err := web.app.SetReleaseNote(r.Context(), r.PathValue("ref"), note)
	if err != nil && !userError(err) {
		return err
	}
	if err == nil {
		setFlash(w, "Release note saved.")
		redirect(w, r, localPath(r.PostForm.Get("back"), "/products/"+r.PathValue("key")+"/features/"+r.PathValue("ref")))
		return nil
	}
	v, verr := web.releaseLoopView(w, r)
	if verr != nil {
		return verr
	}
	v.Error, v.Note = toFormError(err), note
	return web.render(w, r, httpx.Status(err), "release_loop", v)
}

// unsubscribeView asks to confirm; the link's GET changes nothing (mail
// scanners follow links), the button's POST records it.
type unsubscribeView struct {
	publicView
	Secret string
	Email  string
}

func (web *Web) unsubscribePage(w http.ResponseWriter, r *http.Request) error {
	v := unsubscribeView{publicView: web.newPublicView(w, r, "Unsubscribe"), Secret: r.PathValue("secret")}
	return web.renderPublic(w, http.StatusOK, "unsubscribe", v)
}

func (web *Web) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	email, err := web.app.Unsubscribe(r.Context(), r.PathValue("secret"))
	if err != nil {
		return err
	}
	v := unsubscribeView{publicView: web.newPublicView(w, r, "Unsubscribed"), Email: email}
	return web.renderPublic(w, http.StatusOK, "unsubscribe", v)
}
