package web

import (
	"net/http"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

func (web *Web) home(w http.ResponseWriter, r *http.Request) error {
	if northstar.UserFromContext(r.Context()) != nil {
		http.Redirect(w, r, "/products", http.StatusSeeOther)
		return nil
	}
	first, err := web.app.NeedsFirstUser(r.Context())
	if err != nil {
		return err
	}
	if first {
		http.Redirect(w, r, "/signup", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

type loginView struct {
	page
	Email      string
	Next       string
	OpenSignup bool
	Error      *formError
	// OIDCName names the identity provider of the "Sign in with" button;
	// "" when none is configured.
	OIDCName string
	// PasswordsOff hides the password form: the provider is the only way in.
	PasswordsOff bool
}

func (web *Web) loginView(w http.ResponseWriter, r *http.Request) (loginView, error) {
	open, err := web.app.OpenSignup(r.Context())
	if err != nil {
		return loginView{}, err
	}
	first, err := web.app.NeedsFirstUser(r.Context())
	if err != nil {
		return loginView{}, err
	}
	view := loginView{page: web.newPage(w, r, "Sign in", ""), Next: localPath(r.FormValue("next"), ""), OpenSignup: open || first}
	if web.app.OIDC != nil {
		view.OIDCName = web.app.OIDC.Name()
		view.PasswordsOff = web.app.OIDC.PasswordsOff()
	}
	return view, nil
}

func (web *Web) loginPage(w http.ResponseWriter, r *http.Request) error {
	if northstar.UserFromContext(r.Context()) != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next"), "/products"), http.StatusSeeOther)
		return nil
	}
	view, err := web.loginView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "login", view)
}

func (web *Web) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	u, err := web.app.Login(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"), httpx.ClientIP(r))
	if err != nil {
		if !userError(err) {
			return err
		}
		view, verr := web.loginView(w, r)
		if verr != nil {
			return verr
		}
		view.Email, view.Error = r.PostForm.Get("email"), toFormError(err)
		return web.render(w, r, httpx.Status(err), "login", view)
	}
	return web.startSession(w, r, u, localPath(r.PostForm.Get("next"), "/products"))
}

func (web *Web) startSession(w http.ResponseWriter, r *http.Request, u *northstar.User, to string) error {
	secret, err := web.app.CreateSession(r.Context(), u.ID)
	if err != nil {
		return err
	}
	// The cookie lasts as long as a session can; the server ends it
	// sooner when it is left idle.
	httpx.SetSessionCookie(w, r, secret, web.app.SessionMaxAge)
	redirect(w, r, to)
	return nil
}

func (web *Web) logout(w http.ResponseWriter, r *http.Request) error {
	if secret := httpx.SessionSecret(r); secret != "" {
		if err := web.app.Logout(r.Context(), secret); err != nil {
			return err
		}
	}
	httpx.ClearSessionCookie(w, r)
	setFlash(w, "You are signed out.")
	redirect(w, r, "/login")
	return nil
}

type signUpView struct {
	page
	First      bool
	Invitation *northstar.Invitation
	Secret     string
	Name       string
	Email      string
	Error      *formError
}

func (web *Web) signUpView(w http.ResponseWriter, r *http.Request) (signUpView, error) {
	first, err := web.app.NeedsFirstUser(r.Context())
	if err != nil {
		return signUpView{}, err
	}
	open, err := web.app.OpenSignup(r.Context())
	if err != nil {
		return signUpView{}, err
	}
	if !first && !open {
		return signUpView{}, northstar.Errorf(northstar.EFORBIDDEN, "Sign-up is by invitation only; ask an admin or a product manager to invite you.")
	}
	title := "Create your account"
	if first {
		title = "Set up Northstar"
	}
	return signUpView{page: web.newPage(w, r, title, ""), First: first}, nil
}

func (web *Web) signUpPage(w http.ResponseWriter, r *http.Request) error {
	view, err := web.signUpView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "signup", view)
}

func (web *Web) signUp(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	in := northstar.NewUser{Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password")}
	u, err := web.app.SignUp(r.Context(), in, "")
	if err != nil {
		if !userError(err) {
			return err
		}
		view, verr := web.signUpView(w, r)
		if verr != nil {
			return verr
		}
		view.Name, view.Email, view.Error = in.Name, in.Email, toFormError(err)
		return web.render(w, r, httpx.Status(err), "signup", view)
	}
	setFlash(w, "Welcome to Northstar, "+u.Name+".")
	return web.startSession(w, r, u, "/products")
}

func (web *Web) invitationPage(w http.ResponseWriter, r *http.Request) error {
	secret := r.PathValue("secret")
	inv, err := web.app.Invitation(r.Context(), secret)
	if err != nil {
		return err
	}
	view := signUpView{page: web.newPage(w, r, "Join Northstar", ""), Invitation: inv, Secret: secret, Email: inv.Email}
	return web.render(w, r, http.StatusOK, "signup", view)
}

func (web *Web) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	secret := r.PathValue("secret")
	in := northstar.NewUser{Name: r.PostForm.Get("name"), Password: r.PostForm.Get("password")}
	u, err := web.app.SignUp(r.Context(), in, secret)
	if err != nil {
		if !userError(err) {
			return err
		}
		inv, ierr := web.app.Invitation(r.Context(), secret)
		if ierr != nil {
			return ierr
		}
		view := signUpView{page: web.newPage(w, r, "Join Northstar", ""), Invitation: inv, Secret: secret,
			Name: in.Name, Email: inv.Email, Error: toFormError(err)}
		return web.render(w, r, httpx.Status(err), "signup", view)
	}
	setFlash(w, "Welcome to Northstar, "+u.Name+".")
	return web.startSession(w, r, u, "/products")
}
