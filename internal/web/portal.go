package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// --- The team's side: settings and the ideas end users sent. ---

// portalAdminView is a product's portal as its team sees it.
type portalAdminView struct {
	page
	alerts
	Product   *northstar.Product
	Settings  northstar.PortalSettings
	Ideas     []*northstar.PortalIdea
	PublicURL string
	// CanManage: open or close the portal and write its intro.
	CanManage bool
	// CanStatus: set the statuses end users see and hide ideas.
	CanStatus  bool
	CanComment bool
}

func (web *Web) portalAdminView(w http.ResponseWriter, r *http.Request) (*portalAdminView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, r.PathValue("key"))
	if err != nil {
		return nil, err
	}
	view := &portalAdminView{page: web.newPage(w, r, p.Name+" portal", "products"), Product: p,
		PublicURL: web.baseURL + "/portal/" + p.Key}
	if view.Settings, err = web.app.PortalSettings(ctx, p.Key); err != nil {
		return nil, err
	}
	if view.Ideas, err = web.app.TeamPortalIdeas(ctx, p.Key); err != nil {
		return nil, err
	}
	view.CanManage = canProduct(view.User, p, northstar.ActionManageProduct)
	view.CanStatus = canProduct(view.User, p, northstar.ActionManageFeatures)
	view.CanComment = canProduct(view.User, p, northstar.ActionComment)
	return view, nil
}

func (web *Web) portalAdmin(w http.ResponseWriter, r *http.Request) error {
	view, err := web.portalAdminView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "portal_admin", view)
}

// portalAdminDone answers a form of the team's portal page.
func (web *Web) portalAdminDone(w http.ResponseWriter, r *http.Request, section, anchor, done string, err error) error {
	if err == nil {
		setFlash(w, done)
		redirect(w, r, "/products/"+normalizeKey(r.PathValue("key"))+"/portal#"+anchor)
		return nil
	}
	if !formProblem(err) {
		return err
	}
	view, verr := web.portalAdminView(w, r)
	if verr != nil {
		return verr
	}
	view.Alert = newAlert(r, section, err)
	return web.render(w, r, httpx.Status(err), "portal_admin", view)
}

func (web *Web) setPortalSettings(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	s := northstar.PortalSettings{Enabled: r.PostForm.Get("enabled") == "true", Intro: r.PostForm.Get("intro")}
	_, err := web.app.SetPortalSettings(r.Context(), r.PathValue("key"), s)
	done := "The portal is closed: its pages answer “not found”."
	if s.Enabled {
		done = "The portal is open at " + web.baseURL + "/portal/" + normalizeKey(r.PathValue("key")) + "."
	}
	return web.portalAdminDone(w, r, "settings", "settings", done, err)
}

func (web *Web) updatePortalIdea(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "idea", "Idea")
	if err != nil {
		return err
	}
	var c app.PortalIdeaChange
	if s := r.PostForm.Get("status"); s != "" {
		st := northstar.PortalStatus(s)
		c.Status = &st
	}
	if h := r.PostForm.Get("hidden"); h != "" {
		hidden := h == "true"
		c.Hidden = &hidden
	}
	idea, err := web.app.UpdatePortalIdea(r.Context(), r.PathValue("key"), id, c)
	done := ""
	if err == nil {
		switch {
		case c.Hidden != nil && idea.Hidden:
			done = "“" + idea.Title + "” is hidden from the portal."
		case c.Hidden != nil:
			done = "“" + idea.Title + "” shows on the portal again."
		default:
			done = "“" + idea.Title + "” is now " + strings.ToLower(idea.Status.Label()) + " on the portal."
		}
	}
	return web.portalAdminDone(w, r, "idea-"+r.PathValue("idea"), "portal-idea-"+r.PathValue("idea"), done, err)
}

func (web *Web) teamPortalComment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "idea", "Idea")
	if err != nil {
		return err
	}
	_, err = web.app.TeamComment(r.Context(), r.PathValue("key"), id, r.PostForm.Get("body"))
	return web.portalAdminDone(w, r, "comment-"+r.PathValue("idea"), "portal-idea-"+r.PathValue("idea"), "Your reply is on the portal.", err)
}

// --- The public side: no account, no app chrome, readable on a phone.
// It never shows e-mail addresses or hidden ideas (the app leaves them
// out), and a closed portal is a page that is not there. ---

// publicView is what the portal's layout needs.
type publicView struct {
	page
	alerts
	Key  string
	Name string
}

// portalPageView is a product's public portal.
type portalPageView struct {
	publicView
	Portal *app.PortalView
}

// portalIdeaPageView is one idea on the public portal.
type portalIdeaPageView struct {
	publicView
	Idea     *northstar.PortalIdea
	Comments []*northstar.PortalComment
}

// portalErrorView is a public page that went wrong.
type portalErrorView struct {
	publicView
	Status  int
	Message string
}

// public renders the public pages' errors inside the portal's layout,
// without the app's navigation.
func (web *Web) public(fn handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := fn(w, r)
		if err == nil {
			return nil
		}
		httpx.LogError(r, err)
		status := httpx.Status(err)
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			status = http.StatusNotFound // nothing on the portal needs an account
		}
		view := portalErrorView{publicView: web.newPublicView(w, r, http.StatusText(status)), Status: status, Message: northstar.ErrorMessage(err)}
		return web.renderTemplate(w, status, "portal_error", "portal-layout", view)
	}
}

func (web *Web) newPublicView(w http.ResponseWriter, r *http.Request, title string) publicView {
	p := web.newPage(w, r, title, "portal")
	p.User = nil // the portal shows nothing of an account
	return publicView{page: p}
}

func (web *Web) renderPublic(w http.ResponseWriter, status int, name string, view any) error {
	return web.renderTemplate(w, status, name, "portal-layout", view)
}

// limited sets Retry-After on a refusal for flooding.
func limited(w http.ResponseWriter, err error) {
	if httpx.Status(err) == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
}

func (web *Web) portalPageView(w http.ResponseWriter, r *http.Request) (*portalPageView, error) {
	pv, err := web.app.Portal(r.Context(), r.PathValue("key"))
	if err != nil {
		return nil, err
	}
	view := &portalPageView{publicView: web.newPublicView(w, r, pv.Name+" ideas"), Portal: pv}
	view.Key, view.Name = pv.Key, pv.Name
	return view, nil
}

func (web *Web) portalPage(w http.ResponseWriter, r *http.Request) error {
	view, err := web.portalPageView(w, r)
	if err != nil {
		return err
	}
	return web.renderPublic(w, http.StatusOK, "portal", view)
}

// submission reads a public form.
func submission(r *http.Request) northstar.PortalSubmission {
	f := r.PostForm
	return northstar.PortalSubmission{Title: f.Get("title"), Body: f.Get("body"), Name: f.Get("name"), Email: f.Get("email"), Website: f.Get("website")}
}

func (web *Web) submitPortalIdea(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	idea, err := web.app.SubmitPortalIdea(r.Context(), key, submission(r), httpx.ClientIP(r))
	if err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.portalPageView(w, r)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "suggest", err)
		limited(w, err)
		return web.renderPublic(w, httpx.Status(err), "portal", view)
	}
	// A bot that filled in the honeypot sees the same thanks (idea nil).
	setFlash(w, "Thank you! Your idea is posted, with your vote. The team reads every one.")
	to := "/portal/" + key
	if idea != nil {
		to += "#idea-" + strconv.FormatInt(idea.ID, 10)
	}
	redirect(w, r, to)
	return nil
}

func (web *Web) portalIdeaPageView(w http.ResponseWriter, r *http.Request) (*portalIdeaPageView, error) {
	id, err := parseID(r, "idea", "Idea")
	if err != nil {
		return nil, err
	}
	key := r.PathValue("key")
	idea, comments, err := web.app.PortalIdea(r.Context(), key, id)
	if err != nil {
		return nil, err
	}
	pv, err := web.app.Portal(r.Context(), key)
	if err != nil {
		return nil, err
	}
	view := &portalIdeaPageView{publicView: web.newPublicView(w, r, idea.Title), Idea: idea, Comments: comments}
	view.Key, view.Name = pv.Key, pv.Name
	return view, nil
}

func (web *Web) portalIdeaPage(w http.ResponseWriter, r *http.Request) error {
	view, err := web.portalIdeaPageView(w, r)
	if err != nil {
		return err
	}
	return web.renderPublic(w, http.StatusOK, "portal_idea", view)
}

func (web *Web) votePortalIdea(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "idea", "Idea")
	if err != nil {
		return err
	}
	fromIdea := r.PostForm.Get("from") == "idea"
	_, err = web.app.VotePortalIdea(r.Context(), key, id, submission(r), httpx.ClientIP(r))
	if err != nil {
		if !formProblem(err) {
			return err
		}
		section := "vote-" + strconv.FormatInt(id, 10)
		limited(w, err)
		if fromIdea {
			view, verr := web.portalIdeaPageView(w, r)
			if verr != nil {
				return verr
			}
			view.Alert = newAlert(r, section, err)
			return web.renderPublic(w, httpx.Status(err), "portal_idea", view)
		}
		view, verr := web.portalPageView(w, r)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, section, err)
		return web.renderPublic(w, httpx.Status(err), "portal", view)
	}
	setFlash(w, "Thanks for your vote!")
	if fromIdea {
		redirect(w, r, "/portal/"+key+"/ideas/"+strconv.FormatInt(id, 10))
	} else {
		redirect(w, r, "/portal/"+key+"#idea-"+strconv.FormatInt(id, 10))
	}
	return nil
}

func (web *Web) commentPortalIdea(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "idea", "Idea")
	if err != nil {
		return err
	}
	_, err = web.app.CommentPortalIdea(r.Context(), key, id, submission(r), httpx.ClientIP(r))
	if err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.portalIdeaPageView(w, r)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "comment", err)
		limited(w, err)
		return web.renderPublic(w, httpx.Status(err), "portal_idea", view)
	}
	setFlash(w, "Thanks, your comment is posted.")
	redirect(w, r, "/portal/"+key+"/ideas/"+strconv.FormatInt(id, 10)+"#comments")
	return nil
}

// portalVerifyView asks to confirm an address; the link's GET changes
// nothing (mail scanners follow links), the button's POST confirms.
type portalVerifyView struct {
	publicView
	Secret string
	Done   bool
}

func (web *Web) portalVerifyPage(w http.ResponseWriter, r *http.Request) error {
	view := portalVerifyView{publicView: web.newPublicView(w, r, "Confirm your email address"), Secret: r.PathValue("secret")}
	return web.renderPublic(w, http.StatusOK, "portal_verify", view)
}

func (web *Web) verifyPortalEmail(w http.ResponseWriter, r *http.Request) error {
	if err := web.app.VerifyPortalEmail(r.Context(), r.PathValue("secret")); err != nil {
		return err
	}
	view := portalVerifyView{publicView: web.newPublicView(w, r, "Email address confirmed"), Done: true}
	return web.renderPublic(w, http.StatusOK, "portal_verify", view)
}
