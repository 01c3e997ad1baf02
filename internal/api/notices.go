package api

// Closing the loop: a feature's release note and how many were told of
// its release.

import (
	"net/http"

	"github.com/northstar-pm/northstar/internal/httpx"
)

// noticeRoutes lists the release-notice routes; Routes includes them.
func (a *API) noticeRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/features/{ref}/release-loop", Handler: authed(a.getReleaseLoop)},
		{Method: "PUT", Pattern: "/api/v1/features/{ref}/release-note", Handler: authed(a.setReleaseNote)},
	}
}

func (a *API) getReleaseLoop(w http.ResponseWriter, r *http.Request) error {
	l, err := a.app.ReleaseLoop(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, l)
	return nil
}

type releaseNoteRequest struct {
	Note string `json:"release_note"`
}

func (a *API) setReleaseNote(w http.ResponseWriter, r *http.Request) error {
	var req releaseNoteRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := a.app.SetReleaseNote(r.Context(), r.PathValue("ref"), req.Note)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, l)
	return nil
}
