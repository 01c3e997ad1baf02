package web

import (
	"net/http"
	"strconv"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

type adminView struct {
	page
	Users       []*northstar.User
	Invitations []*northstar.Invitation
	Settings    northstar.Settings
	Products    []*northstar.Product
	InviteURL   string
	InviteError *formError
	InviteForm  northstar.NewInvitation
}

func (web *Web) adminView(w http.ResponseWriter, r *http.Request) (*adminView, error) {
	ctx := r.Context()
	users, err := web.app.Users(ctx)
	if err != nil {
		return nil, err
	}
	invs, err := web.app.Invitations(ctx)
	if err != nil {
		return nil, err
	}
	settings, err := web.app.Settings(ctx)
	if err != nil {
		return nil, err
	}
	products, err := web.app.Products(ctx, northstar.ProductFilter{})
	if err != nil {
		return nil, err
	}
	return &adminView{page: web.newPage(w, r, "Organization", "admin"), Users: users, Invitations: invs, Settings: settings,
		Products: products, InviteForm: northstar.NewInvitation{Role: northstar.RoleDeveloper}}, nil
}

func (web *Web) admin(w http.ResponseWriter, r *http.Request) error {
	view, err := web.adminView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "admin", view)
}

func (web *Web) changeUser(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	var c app.UserChange
	if v := r.PostForm.Get("admin"); v != "" {
		b := v == "true"
		c.Admin = &b
	}
	if v := r.PostForm.Get("disabled"); v != "" {
		b := v == "true"
		c.Disabled = &b
	}
	u, err := web.app.ChangeUser(r.Context(), r.PathValue("email"), c)
	if err != nil {
		if !userError(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	} else {
		setFlash(w, "Saved "+u.Email+".")
	}
	redirect(w, r, "/admin")
	return nil
}

// invite creates an invitation from the admin page or a product's
// settings page, and shows that page again with the link to send.
func (web *Web) invite(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	in := northstar.NewInvitation{Email: r.PostForm.Get("email"), ProductKey: r.PostForm.Get("product"), Role: northstar.Role(r.PostForm.Get("role"))}
	secret, _, err := web.app.Invite(r.Context(), in)
	if err != nil && !userError(err) {
		return err
	}
	status, link := http.StatusCreated, ""
	if err != nil {
		status = httpx.Status(err)
	} else {
		link = web.baseURL + "/invitations/" + secret
	}
	if r.PostForm.Get("from") == "product" && in.ProductKey != "" {
		view, verr := web.settingsView(w, r, in.ProductKey)
		if verr != nil {
			return verr
		}
		view.InviteURL, view.MemberError, view.MemberEmail = link, toFormError(err), in.Email
		return web.render(w, r, status, "product_settings", view)
	}
	view, verr := web.adminView(w, r)
	if verr != nil {
		return verr
	}
	view.InviteURL, view.InviteError = link, toFormError(err)
	if err != nil {
		view.InviteForm = in
	}
	return web.render(w, r, status, "admin", view)
}

func (web *Web) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return northstar.Errorf(northstar.ENOTFOUND, "Invitation not found.")
	}
	if err := web.app.RevokeInvitation(r.Context(), id); err != nil {
		return err
	}
	setFlash(w, "Invitation revoked.")
	redirect(w, r, "/admin")
	return nil
}

func (web *Web) changeSettings(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := web.app.SetOpenSignup(r.Context(), r.PostForm.Get("open_signup") == "true"); err != nil {
		return err
	}
	setFlash(w, "Settings saved.")
	redirect(w, r, "/admin")
	return nil
}
