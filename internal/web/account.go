package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// normalizeKey upper-cases a product key taken from a URL.
func normalizeKey(key string) string { return strings.ToUpper(key) }

type accountView struct {
	page
	Tokens        []*northstar.Token
	NewToken      string
	PasswordError *formError
	TokenError    *formError
}

func (web *Web) accountView(w http.ResponseWriter, r *http.Request) (*accountView, error) {
	ts, err := web.app.Tokens(r.Context())
	if err != nil {
		return nil, err
	}
	return &accountView{page: web.newPage(w, r, "Your account", "account"), Tokens: ts}, nil
}

func (web *Web) account(w http.ResponseWriter, r *http.Request) error {
	view, err := web.accountView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "account", view)
}

func (web *Web) changePassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	var keep int64
	if s := httpx.SessionFromContext(r.Context()); s != nil {
		keep = s.ID
	}
	err := web.app.ChangePassword(r.Context(), r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), keep)
	if err != nil {
		if !userError(err) {
			return err
		}
		view, verr := web.accountView(w, r)
		if verr != nil {
			return verr
		}
		view.PasswordError = toFormError(err)
		return web.render(w, r, httpx.Status(err), "account", view)
	}
	setFlash(w, "Password changed. Your other sessions are signed out.")
	redirect(w, r, "/account")
	return nil
}

func (web *Web) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	secret, _, err := web.app.CreateToken(r.Context(), r.PostForm.Get("name"))
	if err != nil && !userError(err) {
		return err
	}
	view, verr := web.accountView(w, r)
	if verr != nil {
		return verr
	}
	status := http.StatusCreated
	if err != nil {
		view.TokenError, status = toFormError(err), httpx.Status(err)
	} else {
		// Shown once, on this response only: it is not stored anywhere.
		view.NewToken = secret
	}
	return web.render(w, r, status, "account", view)
}

func (web *Web) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return northstar.Errorf(northstar.ENOTFOUND, "Token not found.")
	}
	if err := web.app.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	setFlash(w, "Token revoked; it no longer works.")
	redirect(w, r, "/account")
	return nil
}
