package api

// Estimation and forecasting: a story's suggested points with their
// reasons, accepting a suggestion, Monte Carlo forecasts for a release, a
// set of stories, a date and a sprint, and planning-poker rounds.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// estimationRoutes lists the estimation and forecast routes; Routes
// includes them.
func (a *API) estimationRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/stories/{ref}/suggestion", Handler: authed(a.getSuggestion)},
		{Method: "POST", Pattern: "/api/v1/stories/{ref}/suggestion/accept", Handler: authed(a.acceptSuggestion)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/releases/{id}/forecast", Handler: authed(a.releaseForecast)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/forecast", Handler: authed(a.storiesForecast)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/forecast/date", Handler: authed(a.dateForecast)},
		{Method: "GET", Pattern: "/api/v1/sprints/{id}/forecast", Handler: authed(a.sprintForecast)},

		{Method: "GET", Pattern: "/api/v1/products/{key}/poker", Handler: authed(a.listPokerRounds)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/poker", Handler: authed(a.openPokerRound)},
		{Method: "GET", Pattern: "/api/v1/poker/{id}", Handler: authed(a.getPokerRound)},
		{Method: "POST", Pattern: "/api/v1/poker/{id}/close", Handler: authed(a.closePokerRound)},
		{Method: "PUT", Pattern: "/api/v1/poker/{id}/stories/{ref}/vote", Handler: authed(a.votePoker)},
		{Method: "POST", Pattern: "/api/v1/poker/{id}/stories/{ref}/reveal", Handler: authed(a.revealPoker)},
		{Method: "POST", Pattern: "/api/v1/poker/{id}/stories/{ref}/revote", Handler: authed(a.revotePoker)},
		{Method: "POST", Pattern: "/api/v1/poker/{id}/stories/{ref}/agree", Handler: authed(a.agreePoker)},
	}
}

func (a *API) getSuggestion(w http.ResponseWriter, r *http.Request) error {
	s, err := a.app.Suggestion(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	setETag(w, s.Version)
	httpx.WriteJSON(w, http.StatusOK, s)
	return nil
}

// acceptRequest optionally names the points the caller was shown.
type acceptRequest struct {
	Points *int `json:"points"`
}

func (a *API) acceptSuggestion(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req acceptRequest
	if r.ContentLength != 0 {
		if err := httpx.DecodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	if req.Points != nil && !northstar.ValidPoints(*req.Points) {
		return northstar.FieldError("points", "points %d are not on the scale.", *req.Points)
	}
	s, err := a.app.AcceptSuggestion(r.Context(), r.PathValue("ref"), version, req.Points)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, s)
	return nil
}

// forecastOptions reads ?team= and ?unit=.
func forecastOptions(q url.Values) (app.ForecastOptions, error) {
	var o app.ForecastOptions
	var err error
	if o.Team, err = queryID(q, "team"); err != nil {
		return o, err
	}
	o.Unit = northstar.ForecastUnit(strings.TrimSpace(q.Get("unit")))
	if o.Unit != "" && !o.Unit.Valid() {
		return o, northstar.FieldError("unit", `unit must be "points" or "stories".`)
	}
	return o, nil
}

func (a *API) releaseForecast(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := forecastOptions(r.URL.Query())
	if err != nil {
		return err
	}
	f, err := a.app.ReleaseForecast(r.Context(), r.PathValue("key"), id, o)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, f)
	return nil
}

func (a *API) storiesForecast(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	o, err := forecastOptions(q)
	if err != nil {
		return err
	}
	f, err := a.app.StoriesForecast(r.Context(), r.PathValue("key"), queryList(q, "stories"), o)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, f)
	return nil
}

func (a *API) dateForecast(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	o, err := forecastOptions(q)
	if err != nil {
		return err
	}
	if strings.TrimSpace(q.Get("date")) == "" {
		return northstar.FieldError("date", "date is required, like 2026-06-30.")
	}
	date, err := northstar.ParseDate("date", q.Get("date"))
	if err != nil {
		return err
	}
	f, err := a.app.DateForecast(r.Context(), r.PathValue("key"), date, o)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, f)
	return nil
}

func (a *API) sprintForecast(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := forecastOptions(r.URL.Query())
	if err != nil {
		return err
	}
	f, err := a.app.SprintForecast(r.Context(), id, o)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, f)
	return nil
}

// --- Planning poker ---

// writePokerRound answers with a round and its version as the ETag.
func writePokerRound(w http.ResponseWriter, status int, r *northstar.PokerRound) {
	setETag(w, r.Version)
	httpx.WriteJSON(w, status, r)
}

func (a *API) listPokerRounds(w http.ResponseWriter, r *http.Request) error {
	rounds, err := a.app.PokerRounds(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.PokerRound]{Items: rounds})
	return nil
}

func (a *API) openPokerRound(w http.ResponseWriter, r *http.Request) error {
	var req northstar.NewPokerRound
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	round, err := a.app.OpenPokerRound(r.Context(), r.PathValue("key"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/poker/"+strconv.FormatInt(round.ID, 10))
	writePokerRound(w, http.StatusCreated, round)
	return nil
}

func (a *API) getPokerRound(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	round, err := a.app.PokerRound(r.Context(), id)
	if err != nil {
		return err
	}
	writePokerRound(w, http.StatusOK, round)
	return nil
}

// pointsRequest carries a vote or an agreed value.
type pointsRequest struct {
	Points *int `json:"points"`
}

func readPoints(w http.ResponseWriter, r *http.Request) (int, error) {
	var req pointsRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return 0, err
	}
	if req.Points == nil {
		return 0, northstar.FieldError("points", "points is required.")
	}
	return *req.Points, nil
}

// pokerStep handles the round routes that act on one story.
func (a *API) pokerStep(w http.ResponseWriter, r *http.Request, body bool, fn func(id int64, ref string, points, version int) (*northstar.PokerRound, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var points int
	if body {
		if points, err = readPoints(w, r); err != nil {
			return err
		}
	}
	round, err := fn(id, r.PathValue("ref"), points, version)
	if err != nil {
		return err
	}
	writePokerRound(w, http.StatusOK, round)
	return nil
}

func (a *API) votePoker(w http.ResponseWriter, r *http.Request) error {
	return a.pokerStep(w, r, true, func(id int64, ref string, points, _ int) (*northstar.PokerRound, error) {
		return a.app.VotePoker(r.Context(), id, ref, points)
	})
}

func (a *API) revealPoker(w http.ResponseWriter, r *http.Request) error {
	return a.pokerStep(w, r, false, func(id int64, ref string, _, version int) (*northstar.PokerRound, error) {
		return a.app.RevealPoker(r.Context(), id, ref, version)
	})
}

func (a *API) revotePoker(w http.ResponseWriter, r *http.Request) error {
	return a.pokerStep(w, r, false, func(id int64, ref string, _, version int) (*northstar.PokerRound, error) {
		return a.app.RevotePoker(r.Context(), id, ref, version)
	})
}

func (a *API) agreePoker(w http.ResponseWriter, r *http.Request) error {
	return a.pokerStep(w, r, true, func(id int64, ref string, points, version int) (*northstar.PokerRound, error) {
		return a.app.AgreePoker(r.Context(), id, ref, points, version)
	})
}

func (a *API) closePokerRound(w http.ResponseWriter, r *http.Request) error {
	return a.pokerStep(w, r, false, func(id int64, _ string, _, version int) (*northstar.PokerRound, error) {
		return a.app.ClosePokerRound(r.Context(), id, version)
	})
}
