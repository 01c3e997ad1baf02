package api

import (
	"net/http"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

type signUpRequest struct {
	Name       string `json:"name"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	Invitation string `json:"invitation"`
}

func (a *API) signUp(w http.ResponseWriter, r *http.Request) error {
	var req signUpRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	u, err := a.app.SignUp(r.Context(), northstar.NewUser{Name: req.Name, Email: req.Email, Password: req.Password}, req.Invitation)
	if err != nil {
		return err
	}
	ctx := northstar.NewContextWithUser(r.Context(), u)
	token, _, err := a.app.CreateToken(ctx, "sign-up")
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, northstar.Credentials{User: u, Token: token})
	return nil
}

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// createToken signs a program in: with an e-mail and password it returns a
// new token; a signed-in caller (session or token) may omit them.
func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	if req.Email == "" && req.Password == "" && northstar.UserFromContext(ctx) != nil {
		token, t, err := a.app.CreateToken(ctx, req.Name)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, map[string]any{"token": token, "id": t.ID, "name": t.Name, "user": northstar.UserFromContext(ctx)})
		return nil
	}
	if req.Email == "" {
		return northstar.FieldError("email", "email is required.")
	}
	if req.Password == "" {
		return northstar.FieldError("password", "password is required.")
	}
	token, u, err := a.app.LoginToken(ctx, req.Email, req.Password, req.Name, httpx.ClientIP(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"token": token, "user": u})
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.app.Tokens(r.Context())
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []*northstar.Token{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.Token]{Items: ts})
	return nil
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.app.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, northstar.UserFromContext(r.Context()))
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req passwordRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	var keep int64
	if s := httpx.SessionFromContext(r.Context()); s != nil {
		keep = s.ID
	}
	if err := a.app.ChangePassword(r.Context(), req.CurrentPassword, req.NewPassword, keep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := a.app.Users(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.User]{Items: users})
	return nil
}

type userChangeRequest struct {
	Admin    *bool   `json:"admin"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

func (a *API) changeUser(w http.ResponseWriter, r *http.Request) error {
	var req userChangeRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	u, err := a.app.ChangeUser(r.Context(), r.PathValue("email"), app.UserChange{Admin: req.Admin, Disabled: req.Disabled, Password: req.Password})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, u)
	return nil
}

type invitationResponse struct {
	*northstar.Invitation
	URL string `json:"url"`
}

func (a *API) invite(w http.ResponseWriter, r *http.Request) error {
	var req northstar.NewInvitation
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	secret, inv, err := a.app.Invite(r.Context(), req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, invitationResponse{Invitation: inv, URL: a.BaseURL + "/invitations/" + secret})
	return nil
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) error {
	invs, err := a.app.Invitations(r.Context())
	if err != nil {
		return err
	}
	if invs == nil {
		invs = []*northstar.Invitation{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.Invitation]{Items: invs})
	return nil
}

func (a *API) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.app.RevokeInvitation(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type settingsRequest struct {
	OpenSignup *bool `json:"open_signup"`
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.app.Settings(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) changeSettings(w http.ResponseWriter, r *http.Request) error {
	var req settingsRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.OpenSignup != nil {
		if err := a.app.SetOpenSignup(r.Context(), *req.OpenSignup); err != nil {
			return err
		}
	}
	return a.getSettings(w, r)
}
