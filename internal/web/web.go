// Package web serves Northstar's server-rendered HTML: pages built from
// embedded Go templates, enhanced with htmx where a partial update is
// better than a reload. Every form also works without JavaScript.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

//go:embed templates
var templateFS embed.FS

// The static folder holds our own CSS and JavaScript; static/vendor holds
// the front-end libraries that the build copies from npm (never committed).
//
//go:embed static
var staticFS embed.FS

// Web holds the HTML handlers.
type Web struct {
	app     *app.App
	pages   map[string]*template.Template
	baseURL string
	// assetVersion busts browser caches when the binary changes.
	assetVersion string
}

// New parses every template and fails if one is missing or broken, so a
// bad template stops the server at start rather than on a user's click.
func New(a *app.App, baseURL string) (*Web, error) {
	w := &Web{app: a, baseURL: strings.TrimSuffix(baseURL, "/"), pages: map[string]*template.Template{},
		assetVersion: fmt.Sprint(time.Now().Unix())}
	if northstar.Version != "dev" {
		w.assetVersion = northstar.Version
	}
	pages, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		t, err := template.New(path.Base(p)).Funcs(w.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html", p)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", p, err)
		}
		w.pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	if len(w.pages) == 0 {
		return nil, fmt.Errorf("no page templates embedded")
	}
	return w, nil
}

// handlerFunc is a page handler that returns its error; handle renders it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (web *Web) handle(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			web.renderError(w, r, err)
		}
	})
}

// authed sends anonymous visitors to the login page first.
func (web *Web) authed(fn handlerFunc) http.Handler {
	return web.handle(func(w http.ResponseWriter, r *http.Request) error {
		if northstar.UserFromContext(r.Context()) == nil {
			return northstar.Errorf(northstar.EUNAUTHORIZED, "Sign in first.")
		}
		return fn(w, r)
	})
}

// Routes lists every HTML route.
func (web *Web) Routes() []httpx.Route {
	h, a := web.handle, web.authed
	routes := []httpx.Route{
		{Method: "GET", Pattern: "/{$}", Handler: h(web.home)},
		{Method: "GET", Pattern: "/static/", Handler: web.static()},
		{Method: "GET", Pattern: "/login", Handler: h(web.loginPage)},
		{Method: "POST", Pattern: "/login", Handler: h(web.login)},
		{Method: "POST", Pattern: "/logout", Handler: h(web.logout)},
		{Method: "GET", Pattern: "/signup", Handler: h(web.signUpPage)},
		{Method: "POST", Pattern: "/signup", Handler: h(web.signUp)},
		{Method: "GET", Pattern: "/invitations/{secret}", Handler: h(web.invitationPage)},
		{Method: "POST", Pattern: "/invitations/{secret}", Handler: h(web.acceptInvitation)},
		{Method: "POST", Pattern: "/invitations", Handler: a(web.invite)},
		{Method: "GET", Pattern: "/products", Handler: a(web.products)},
		{Method: "GET", Pattern: "/products/new", Handler: a(web.newProductPage)},
		{Method: "POST", Pattern: "/products", Handler: a(web.createProduct)},
		{Method: "GET", Pattern: "/products/{key}", Handler: a(web.product)},
		{Method: "POST", Pattern: "/products/{key}/stage", Handler: a(web.changeStage)},
		{Method: "GET", Pattern: "/products/{key}/settings", Handler: a(web.productSettings)},
		{Method: "POST", Pattern: "/products/{key}/settings", Handler: a(web.updateProduct)},
		{Method: "POST", Pattern: "/products/{key}/archive", Handler: a(web.archiveProduct)},
		{Method: "POST", Pattern: "/products/{key}/members", Handler: a(web.setMember)},
		{Method: "POST", Pattern: "/products/{key}/members/{email}/remove", Handler: a(web.removeMember)},
		{Method: "GET", Pattern: "/products/{key}/backlog", Handler: a(web.backlog)},
		{Method: "POST", Pattern: "/products/{key}/stories", Handler: a(web.createStory)},
		{Method: "GET", Pattern: "/products/{key}/stories/{ref}", Handler: a(web.story)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}", Handler: a(web.updateStory)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/move", Handler: a(web.moveStory)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/delete", Handler: a(web.deleteStory)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/criteria", Handler: a(web.addCriterion)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/criteria/{id}", Handler: a(web.updateCriterion)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/criteria/{id}/delete", Handler: a(web.deleteCriterion)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/tasks", Handler: a(web.addTask)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/tasks/{id}", Handler: a(web.updateTask)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/tasks/{id}/delete", Handler: a(web.deleteTask)},
		{Method: "POST", Pattern: "/products/{key}/markdown-preview", Handler: a(web.markdownPreview)},
		// Discovery: strategy, objectives, customers, feedback and the
		// team's side of the portal.
		{Method: "GET", Pattern: "/products/{key}/strategy", Handler: a(web.strategy)},
		{Method: "POST", Pattern: "/products/{key}/strategy", Handler: a(web.updateStrategy)},
		{Method: "POST", Pattern: "/products/{key}/segments", Handler: a(web.saveSegment)},
		{Method: "POST", Pattern: "/products/{key}/segments/{id}", Handler: a(web.saveSegment)},
		{Method: "POST", Pattern: "/products/{key}/segments/{id}/delete", Handler: a(web.deleteSegment)},
		{Method: "POST", Pattern: "/products/{key}/personas", Handler: a(web.savePersona)},
		{Method: "POST", Pattern: "/products/{key}/personas/{id}", Handler: a(web.savePersona)},
		{Method: "POST", Pattern: "/products/{key}/personas/{id}/delete", Handler: a(web.deletePersona)},
		{Method: "GET", Pattern: "/objectives", Handler: a(web.companyObjectives)},
		{Method: "POST", Pattern: "/objectives", Handler: a(web.createObjective)},
		{Method: "GET", Pattern: "/products/{key}/objectives", Handler: a(web.productObjectives)},
		{Method: "POST", Pattern: "/products/{key}/objectives", Handler: a(web.createObjective)},
		{Method: "POST", Pattern: "/objectives/{id}", Handler: a(web.updateObjective)},
		{Method: "POST", Pattern: "/objectives/{id}/delete", Handler: a(web.deleteObjective)},
		{Method: "POST", Pattern: "/objectives/{id}/key-results", Handler: a(web.addKeyResult)},
		{Method: "POST", Pattern: "/objectives/{id}/key-results/{kr}", Handler: a(web.updateKeyResult)},
		{Method: "POST", Pattern: "/objectives/{id}/key-results/{kr}/delete", Handler: a(web.deleteKeyResult)},
		{Method: "POST", Pattern: "/objectives/{id}/key-results/{kr}/check-ins", Handler: a(web.checkIn)},
		{Method: "POST", Pattern: "/objectives/{id}/key-results/{kr}/features", Handler: a(web.linkKeyResultFeature)},
		{Method: "POST", Pattern: "/objectives/{id}/key-results/{kr}/features/{ref}/remove", Handler: a(web.unlinkKeyResultFeature)},
		{Method: "GET", Pattern: "/customers", Handler: a(web.customers)},
		{Method: "POST", Pattern: "/customers", Handler: a(web.saveCustomer)},
		{Method: "POST", Pattern: "/customers/{id}", Handler: a(web.saveCustomer)},
		{Method: "POST", Pattern: "/customers/{id}/delete", Handler: a(web.deleteCustomer)},
		{Method: "GET", Pattern: "/products/{key}/feedback", Handler: a(web.feedbackInbox)},
		{Method: "POST", Pattern: "/products/{key}/feedback", Handler: a(web.recordFeedback)},
		{Method: "GET", Pattern: "/products/{key}/feedback/{feedback}", Handler: a(web.feedbackItem)},
		{Method: "POST", Pattern: "/products/{key}/feedback/{feedback}", Handler: a(web.updateFeedback)},
		{Method: "POST", Pattern: "/products/{key}/feedback/{feedback}/insights", Handler: a(web.linkInsight)},
		{Method: "POST", Pattern: "/products/{key}/feedback/{feedback}/insights/{insight}/delete", Handler: a(web.unlinkInsight)},
		{Method: "POST", Pattern: "/products/{key}/ideas", Handler: a(web.proposeIdea)},
		{Method: "GET", Pattern: "/products/{key}/portal", Handler: a(web.portalAdmin)},
		{Method: "POST", Pattern: "/products/{key}/portal", Handler: a(web.setPortalSettings)},
		{Method: "POST", Pattern: "/products/{key}/portal/ideas/{idea}", Handler: a(web.updatePortalIdea)},
		{Method: "POST", Pattern: "/products/{key}/portal/ideas/{idea}/comments", Handler: a(web.teamPortalComment)},
		// The public feedback portal: no account, so the plain handler.
		{Method: "GET", Pattern: "/portal/{key}", Handler: h(web.public(web.portalPage))},
		{Method: "POST", Pattern: "/portal/{key}", Handler: h(web.public(web.submitPortalIdea))},
		{Method: "GET", Pattern: "/portal/{key}/ideas/{idea}", Handler: h(web.public(web.portalIdeaPage))},
		{Method: "POST", Pattern: "/portal/{key}/ideas/{idea}/vote", Handler: h(web.public(web.votePortalIdea))},
		{Method: "POST", Pattern: "/portal/{key}/ideas/{idea}/comments", Handler: h(web.public(web.commentPortalIdea))},
		{Method: "GET", Pattern: "/portal/verify/{secret}", Handler: h(web.public(web.portalVerifyPage))},
		{Method: "POST", Pattern: "/portal/verify/{secret}", Handler: h(web.public(web.verifyPortalEmail))},
		{Method: "GET", Pattern: "/account", Handler: a(web.account)},
		{Method: "POST", Pattern: "/account/password", Handler: a(web.changePassword)},
		{Method: "POST", Pattern: "/account/tokens", Handler: a(web.createToken)},
		{Method: "POST", Pattern: "/account/tokens/{id}/revoke", Handler: a(web.revokeToken)},
		{Method: "GET", Pattern: "/admin", Handler: a(web.admin)},
		{Method: "POST", Pattern: "/admin/users/{email}", Handler: a(web.changeUser)},
		{Method: "POST", Pattern: "/admin/invitations/{id}/revoke", Handler: a(web.revokeInvitation)},
		{Method: "POST", Pattern: "/admin/settings", Handler: a(web.changeSettings)},
	}
	routes = append(routes, web.sprintRoutes()...)
	routes = append(routes, web.roadmapRoutes()...)
	routes = append(routes, web.collabRoutes()...)
	routes = append(routes, web.oidcRoutes()...)
	routes = append(routes, web.estimationRoutes()...)
	routes = append(routes, web.importRoutes()...)
	routes = append(routes, web.metricRoutes()...)
	routes = append(routes, web.alignmentRoutes()...)
	routes = append(routes, web.noticeRoutes()...)
	routes = append(routes, web.portfolioRoutes()...)
	return routes
}

// Handler returns the web UI's handler, with a proper page for unknown paths.
func (web *Web) Handler() http.Handler {
	mux := http.NewServeMux()
	httpx.Mount(mux, web.Routes())
	mux.Handle("/", web.handle(func(w http.ResponseWriter, r *http.Request) error {
		return northstar.Errorf(northstar.ENOTFOUND, "There is no page at %s.", r.URL.Path)
	}))
	return mux
}

func (web *Web) static() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the folder
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})
}

// page is what the layout needs; every view embeds it.
type page struct {
	Title        string
	User         *northstar.User
	Flash        string
	FlashError   bool
	Section      string
	AssetVersion string
}

func (web *Web) newPage(w http.ResponseWriter, r *http.Request, title, section string) page {
	p := page{Title: title, User: northstar.UserFromContext(r.Context()), Section: section, AssetVersion: web.assetVersion}
	p.Flash, p.FlashError = takeFlash(w, r)
	return p
}

// render writes a whole page.
func (web *Web) render(w http.ResponseWriter, r *http.Request, status int, name string, view any) error {
	return web.renderTemplate(w, status, name, "layout", view)
}

// renderPartial writes one named template of a page, for htmx swaps.
func (web *Web) renderPartial(w http.ResponseWriter, status int, pageName, block string, view any) error {
	return web.renderTemplate(w, status, pageName, block, view)
}

func (web *Web) renderTemplate(w http.ResponseWriter, status int, pageName, block string, view any) error {
	t, ok := web.pages[pageName]
	if !ok {
		return fmt.Errorf("no page template %q", pageName)
	}
	var buf bytes.Buffer // render fully first: a failing template must not send half a page
	if err := t.ExecuteTemplate(&buf, block, view); err != nil {
		return fmt.Errorf("render %s/%s: %w", pageName, block, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

type errorView struct {
	page
	Status  int
	Message string
}

// renderError is the one renderer of errors as HTML: signed-out visitors go
// to the login page, everyone else gets a page with the status and a safe
// message.
func (web *Web) renderError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.LogError(r, err)
	status := httpx.Status(err)
	if status == http.StatusUnauthorized && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	view := errorView{page: web.newPage(w, r, http.StatusText(status), ""), Status: status, Message: northstar.ErrorMessage(err)}
	if rerr := web.render(w, r, status, "error", view); rerr != nil {
		slog.Error("render error page", "err", rerr)
		http.Error(w, view.Message, status)
	}
}

// isHTMX reports whether htmx sent the request and will swap in a fragment.
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// redirect answers a successful form post: a plain redirect for browsers,
// HX-Redirect for htmx, so both land on a fresh page.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// parseForm reads a form body of bounded size.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return northstar.Errorf(northstar.ETOOLARGE, "The form is too large (at most %d bytes).", tooBig.Limit)
		}
		return northstar.Errorf(northstar.EINVALID, "The form could not be read: %v.", err)
	}
	return nil
}

const flashCookie = "northstar_flash"

// setFlash leaves a one-time message for the next page. Messages starting
// with "!" are errors.
func setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func takeFlash(w http.ResponseWriter, r *http.Request) (string, bool) {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	msg, err := url.QueryUnescape(c.Value)
	if err != nil {
		return "", false
	}
	if strings.HasPrefix(msg, "!") {
		return msg[1:], true
	}
	return msg, false
}

// localPath returns next if it is a path on this site, else fallback; it
// keeps the login form from redirecting to another site. Control
// characters are refused too: browsers drop tabs and newlines from a
// Location, so "/\t/evil.example" would lead to //evil.example.
func localPath(next, fallback string) string {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.HasPrefix(next, "/\\") &&
		!strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return next
	}
	return fallback
}

// formError is a form's error: a message and the field it is about.
type formError struct {
	Message string
	Field   string
}

func toFormError(err error) *formError {
	if err == nil {
		return nil
	}
	return &formError{Message: northstar.ErrorMessage(err), Field: northstar.ErrorField(err)}
}

// userError reports whether err is the user's to fix on the form (as
// opposed to a missing page or a server fault).
func userError(err error) bool {
	switch northstar.ErrorCode(err) {
	case northstar.EINVALID, northstar.ECONFLICT, northstar.EUNPROCESSABLE, northstar.ERATELIMITED, northstar.ETOOLARGE, northstar.EFORBIDDEN, northstar.EUNAUTHORIZED:
		return true
	}
	return false
}
