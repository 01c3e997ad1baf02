package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
	"github.com/northstar-pm/northstar/internal/oidc"
)

// oidcCookie keeps one sign-in's state, nonce and PKCE verifier in the
// browser between the redirect to the provider and the way back. It is
// scoped to the callback's path, lives FlowTTL, and is used once.
const oidcCookie = "northstar_oidc"

const oidcPath = "/login/oidc"

// oidcPending is the cookie's content.
type oidcPending struct {
	Flow    oidc.Flow `json:"f"`
	Next    string    `json:"r"`
	Expires int64     `json:"e"` // Unix seconds; browsers may keep cookies past Max-Age
}

// oidcRoutes are the routes of sign-in with OpenID Connect.
func (web *Web) oidcRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: oidcPath, Handler: web.handle(web.oidcStart)},
		{Method: "GET", Pattern: oidcPath + "/callback", Handler: web.handle(web.oidcCallback)},
	}
}

// noOIDC answers the routes when no provider is configured (the server
// was restarted without one, say): back to the sign-in form, with a word.
func noOIDC(w http.ResponseWriter, r *http.Request) error {
	setFlash(w, "!Sign-in with an identity provider is not configured on this server; use your e-mail and password.")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// oidcStart sends the browser to the provider.
func (web *Web) oidcStart(w http.ResponseWriter, r *http.Request) error {
	o := web.app.OIDC
	if o == nil {
		return noOIDC(w, r)
	}
	next := localPath(r.URL.Query().Get("next"), "/products")
	if northstar.UserFromContext(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	authURL, flow, err := o.BeginSignIn(r.Context())
	if err != nil {
		return web.oidcRefused(w, r, err)
	}
	b, err := json.Marshal(oidcPending{Flow: flow, Next: next, Expires: time.Now().Add(app.FlowTTL).Unix()})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: oidcCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: oidcPath,
		MaxAge: int(app.FlowTTL.Seconds()), HttpOnly: true, Secure: httpx.IsTLS(r),
		// Lax: the way back is a top-level navigation from the provider's
		// site, which Strict would strip the cookie from.
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

// oidcCallback is where the provider sends the browser back.
func (web *Web) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	o := web.app.OIDC
	if o == nil {
		return noOIDC(w, r)
	}
	// The cookie is good for one try, whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcPath, MaxAge: -1,
		HttpOnly: true, Secure: httpx.IsTLS(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	pending, ok := readOIDCCookie(r)
	if !ok {
		return web.oidcRefused(w, r, northstar.Errorf(northstar.EUNAUTHORIZED,
			"This sign-in was not started in this browser, took longer than %d minutes, or cookies are blocked; start again.", int(app.FlowTTL.Minutes())))
	}
	q := r.URL.Query()
	cb := app.Callback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description")}
	u, err := o.FinishSignIn(r.Context(), pending.Flow, cb)
	if err != nil {
		return web.oidcRefused(w, r, err)
	}
	return web.startSession(w, r, u, localPath(pending.Next, "/products"))
}

// readOIDCCookie reads a pending sign-in that has not expired.
func readOIDCCookie(r *http.Request) (oidcPending, bool) {
	var p oidcPending
	c, err := r.Cookie(oidcCookie)
	if err != nil || c.Value == "" || len(c.Value) > 2048 {
		return p, false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(b, &p) != nil {
		return p, false
	}
	if p.Flow.State == "" || p.Flow.Nonce == "" || p.Flow.Verifier == "" || time.Now().Unix() > p.Expires {
		return p, false
	}
	return p, true
}

// oidcRefused shows the sign-in page with the reason, and no session.
func (web *Web) oidcRefused(w http.ResponseWriter, r *http.Request, err error) error {
	if !userError(err) {
		return err
	}
	view, verr := web.loginView(w, r)
	if verr != nil {
		return verr
	}
	view.Error = toFormError(err)
	return web.render(w, r, httpx.Status(err), "login", view)
}
