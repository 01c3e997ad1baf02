package api

// Scrum: teams with their members, capacity and board columns; sprints
// with planning, start and close; the active sprint's board and its card
// moves; and the chart data (burndown and burn-up, velocity, cumulative
// flow) as JSON.

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// sprintRoutes lists the teams and sprints routes; Routes includes them.
func (a *API) sprintRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/teams", Handler: authed(a.listTeams)},
		{Method: "POST", Pattern: "/api/v1/teams", Handler: authed(a.createTeam)},
		{Method: "GET", Pattern: "/api/v1/teams/{id}", Handler: authed(a.getTeam)},
		{Method: "PATCH", Pattern: "/api/v1/teams/{id}", Handler: authed(a.updateTeam)},
		{Method: "DELETE", Pattern: "/api/v1/teams/{id}", Handler: authed(a.deleteTeam)},
		{Method: "PUT", Pattern: "/api/v1/teams/{id}/members/{email}", Handler: authed(a.setTeamMember)},
		{Method: "DELETE", Pattern: "/api/v1/teams/{id}/members/{email}", Handler: authed(a.removeTeamMember)},
		{Method: "POST", Pattern: "/api/v1/teams/{id}/columns", Handler: authed(a.addColumn)},
		{Method: "PUT", Pattern: "/api/v1/teams/{id}/columns", Handler: authed(a.orderColumns)},
		{Method: "PATCH", Pattern: "/api/v1/teams/{id}/columns/{column}", Handler: authed(a.updateColumn)},
		{Method: "DELETE", Pattern: "/api/v1/teams/{id}/columns/{column}", Handler: authed(a.deleteColumn)},
		{Method: "GET", Pattern: "/api/v1/teams/{id}/sprints", Handler: authed(a.listSprints)},
		{Method: "POST", Pattern: "/api/v1/teams/{id}/sprints", Handler: authed(a.createSprint)},
		{Method: "GET", Pattern: "/api/v1/teams/{id}/board", Handler: authed(a.getBoard)},
		{Method: "GET", Pattern: "/api/v1/teams/{id}/velocity", Handler: authed(a.getVelocity)},
		{Method: "GET", Pattern: "/api/v1/teams/{id}/flow", Handler: authed(a.getFlow)},

		{Method: "GET", Pattern: "/api/v1/sprints/{id}", Handler: authed(a.getSprint)},
		{Method: "PATCH", Pattern: "/api/v1/sprints/{id}", Handler: authed(a.updateSprint)},
		{Method: "GET", Pattern: "/api/v1/sprints/{id}/plan", Handler: authed(a.getPlanning)},
		{Method: "POST", Pattern: "/api/v1/sprints/{id}/stories", Handler: authed(a.addToSprint)},
		{Method: "DELETE", Pattern: "/api/v1/sprints/{id}/stories/{ref}", Handler: authed(a.removeFromSprint)},
		{Method: "POST", Pattern: "/api/v1/sprints/{id}/fill", Handler: authed(a.fillSprint)},
		{Method: "POST", Pattern: "/api/v1/sprints/{id}/start", Handler: authed(a.startSprint)},
		{Method: "POST", Pattern: "/api/v1/sprints/{id}/close", Handler: authed(a.closeSprint)},
		{Method: "POST", Pattern: "/api/v1/sprints/{id}/cards/{ref}/move", Handler: authed(a.moveCard)},
		{Method: "GET", Pattern: "/api/v1/sprints/{id}/burndown", Handler: authed(a.getBurndown)},
	}
}

// DefaultFlowDays is how many days a cumulative flow covers without
// ?days=.
const DefaultFlowDays = 14

// --- Teams ---

func writeTeam(w http.ResponseWriter, status int, t *northstar.Team) {
	setETag(w, t.Version)
	httpx.WriteJSON(w, status, t)
}

func (a *API) listTeams(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	ts, err := a.app.Teams(r.Context())
	if err != nil {
		return err
	}
	// Teams come by name, which is unique: the cursor is the last name.
	if after != "" {
		i, _ := slices.BinarySearchFunc(ts, after, func(t *northstar.Team, name string) int { return strings.Compare(t.Name, name) })
		for i < len(ts) && ts[i].Name <= after {
			i++
		}
		ts = ts[i:]
	}
	page := Page[*northstar.Team]{Items: ts}
	if len(ts) > limit {
		page.Items = ts[:limit]
		page.NextCursor = encodeCursor(ts[limit-1].Name)
	}
	if page.Items == nil {
		page.Items = []*northstar.Team{}
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) createTeam(w http.ResponseWriter, r *http.Request) error {
	var req northstar.TeamInput
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := a.app.CreateTeam(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/teams/"+strconv.FormatInt(t.ID, 10))
	writeTeam(w, http.StatusCreated, t)
	return nil
}

func (a *API) getTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := a.app.Team(r.Context(), id)
	if err != nil {
		return err
	}
	writeTeam(w, http.StatusOK, t)
	return nil
}

// teamChange renames a team or sets its products; absent fields stay.
type teamChange struct {
	Name     *string   `json:"name"`
	Products *[]string `json:"products"`
}

func (a *API) updateTeam(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req teamChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Products == nil {
		return emptyChange("name, products")
	}
	// The change applies to the team as it is now; without If-Match the
	// version read here guards the merge against a concurrent change.
	// Products the caller cannot see are not listed here and stay.
	t, err := a.app.Team(r.Context(), id)
	if err != nil {
		return err
	}
	if version == 0 {
		version = t.Version
	}
	in := northstar.TeamInput{Name: t.Name, Products: t.Products}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Products != nil {
		in.Products = *req.Products
	}
	t, err = a.app.UpdateTeam(r.Context(), id, version, in)
	if err != nil {
		return err
	}
	writeTeam(w, http.StatusOK, t)
	return nil
}

func (a *API) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.app.DeleteTeam(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// teamMemberRequest sets a member's capacity: the share of their time the
// team gets (percent, 100 when absent) and their days off in a sprint.
type teamMemberRequest struct {
	Capacity *int `json:"capacity"`
	DaysOff  int  `json:"days_off"`
}

func (a *API) setTeamMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req teamMemberRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	capacity := 100
	if req.Capacity != nil {
		capacity = *req.Capacity
	}
	t, err := a.app.SetTeamMember(r.Context(), id, r.PathValue("email"), capacity, req.DaysOff)
	if err != nil {
		return err
	}
	writeTeam(w, http.StatusOK, t)
	return nil
}

func (a *API) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := a.app.RemoveTeamMember(r.Context(), id, r.PathValue("email")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// columnRequest adds a board column.
type columnRequest struct {
	Name     string                `json:"name"`
	Status   northstar.StoryStatus `json:"status"`
	WIPLimit *int                  `json:"wip_limit"`
}

// columnChange changes a column; absent fields stay, a null wip_limit
// removes the limit.
type columnChange struct {
	Name     *string                 `json:"name"`
	Status   *northstar.StoryStatus  `json:"status"`
	WIPLimit northstar.Optional[int] `json:"wip_limit"`
}

func (a *API) addColumn(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req columnRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := a.app.SaveColumn(r.Context(), id, northstar.BoardColumn{Name: req.Name, Status: req.Status, WIPLimit: req.WIPLimit})
	if err != nil {
		return err
	}
	writeTeam(w, http.StatusCreated, t)
	return nil
}

func (a *API) updateColumn(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	colID, err := pathID(r, "column")
	if err != nil {
		return err
	}
	var req columnChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Status == nil && !req.WIPLimit.Set {
		return emptyChange("name, status, wip_limit")
	}
	// The change applies to the column as it is now.
	t, err := a.app.Team(r.Context(), id)
	if err != nil {
		return err
	}
	var col *northstar.BoardColumn
	for _, c := range t.Columns {
		if c.ID == colID {
			col = c
		}
	}
	if col == nil {
		return northstar.Errorf(northstar.ENOTFOUND, "Column %d not found on the board of %s.", colID, t.Name)
	}
	if req.Name != nil {
		col.Name = *req.Name
	}
	if req.Status != nil {
		col.Status = *req.Status
	}
	if req.WIPLimit.Set {
		col.WIPLimit = nil
		if !req.WIPLimit.Null {
			col.WIPLimit = &req.WIPLimit.Value
		}
	}
	if t, err = a.app.SaveColumn(r.Context(), id, *col); err != nil {
		return err
	}
	writeTeam(w, http.StatusOK, t)
	return nil
}

func (a *API) deleteColumn(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	colID, err := pathID(r, "column")
	if err != nil {
		return err
	}
	if _, err := a.app.DeleteColumn(r.Context(), id, colID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// columnOrder lists every column of a board once, in the new order.
type columnOrder struct {
	Columns []int64 `json:"columns"`
}

func (a *API) orderColumns(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req columnOrder
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Columns) == 0 {
		return northstar.FieldError("columns", "columns lists the board's column ids in the new order.")
	}
	t, err := a.app.OrderColumns(r.Context(), id, req.Columns)
	if err != nil {
		return err
	}
	writeTeam(w, http.StatusOK, t)
	return nil
}

// --- Sprints ---

func writeSprint(w http.ResponseWriter, status int, s *northstar.Sprint) {
	setETag(w, s.Version)
	httpx.WriteJSON(w, status, s)
}

// sprintCursor is a sprint's place in its team's list (newest first).
func sprintCursor(s *northstar.Sprint) string {
	return s.Start.String() + "/" + strconv.FormatInt(s.ID, 10)
}

func (a *API) listSprints(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var afterDate string
	var afterID int64
	if after != "" {
		d, n, ok := strings.Cut(after, "/")
		afterID, err = strconv.ParseInt(n, 10, 64)
		if _, perr := northstar.ParseDate("cursor", d); !ok || err != nil || perr != nil {
			return northstar.FieldError("cursor", "cursor is not one this server gave out.")
		}
		afterDate = d
	}
	ss, err := a.app.Sprints(r.Context(), id)
	if err != nil {
		return err
	}
	if after != "" {
		// Newest first: by start date, then id, both descending.
		i := 0
		for i < len(ss) {
			d := ss[i].Start.String()
			if d < afterDate || (d == afterDate && ss[i].ID < afterID) {
				break
			}
			i++
		}
		ss = ss[i:]
	}
	page := Page[*northstar.Sprint]{Items: ss}
	if len(ss) > limit {
		page.Items = ss[:limit]
		page.NextCursor = encodeCursor(sprintCursor(ss[limit-1]))
	}
	if page.Items == nil {
		page.Items = []*northstar.Sprint{}
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

// sprintRequest creates a sprint. Dates are read here rather than by
// northstar.Date so that a malformed one names its field.
type sprintRequest struct {
	Name  string           `json:"name"`
	Goal  string           `json:"goal"`
	Start string           `json:"start"`
	End   string           `json:"end"`
	Retro *northstar.Retro `json:"retro"`
}

// retroChange changes retrospective notes; absent fields stay.
type retroChange struct {
	WentWell  *string `json:"went_well"`
	ToImprove *string `json:"to_improve"`
	Actions   *string `json:"actions"`
}

// sprintChange changes a sprint; absent fields stay.
type sprintChange struct {
	Name  *string      `json:"name"`
	Goal  *string      `json:"goal"`
	Start *string      `json:"start"`
	End   *string      `json:"end"`
	Retro *retroChange `json:"retro"`
}

func (a *API) createSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req sprintRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	in := northstar.SprintInput{Name: req.Name, Goal: req.Goal, Retro: req.Retro}
	if in.Start, err = parseDate("start", req.Start); err != nil {
		return err
	}
	if in.End, err = parseDate("end", req.End); err != nil {
		return err
	}
	s, err := a.app.CreateSprint(r.Context(), id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/sprints/"+strconv.FormatInt(s.ID, 10))
	writeSprint(w, http.StatusCreated, s)
	return nil
}

func (a *API) getSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	s, err := a.app.Sprint(r.Context(), id)
	if err != nil {
		return err
	}
	writeSprint(w, http.StatusOK, s)
	return nil
}

func (a *API) updateSprint(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req sprintChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Goal == nil && req.Start == nil && req.End == nil && req.Retro == nil {
		return emptyChange("name, goal, start, end, retro")
	}
	if req.Retro != nil && req.Retro.WentWell == nil && req.Retro.ToImprove == nil && req.Retro.Actions == nil {
		return northstar.FieldError("retro", "retro changes nothing: send at least one of went_well, to_improve, actions.")
	}
	// The change applies to the sprint as it is now; without If-Match the
	// version read here guards the merge against a concurrent change.
	s, err := a.app.Sprint(r.Context(), id)
	if err != nil {
		return err
	}
	if version == 0 {
		version = s.Version
	}
	retro := s.Retro
	in := northstar.SprintInput{Name: s.Name, Goal: s.Goal, Start: s.Start, End: s.End}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Goal != nil {
		in.Goal = *req.Goal
	}
	if req.Start != nil {
		if in.Start, err = northstar.ParseDate("start", *req.Start); err != nil {
			return err
		}
	}
	if req.End != nil {
		if in.End, err = northstar.ParseDate("end", *req.End); err != nil {
			return err
		}
	}
	if rc := req.Retro; rc != nil {
		if rc.WentWell != nil {
			retro.WentWell = *rc.WentWell
		}
		if rc.ToImprove != nil {
			retro.ToImprove = *rc.ToImprove
		}
		if rc.Actions != nil {
			retro.Actions = *rc.Actions
		}
		in.Retro = &retro
	}
	if s, err = a.app.UpdateSprint(r.Context(), id, version, in); err != nil {
		return err
	}
	writeSprint(w, http.StatusOK, s)
	return nil
}

// planningJSON is a sprint's plan as the API shows it: the stories with
// their computed fields, and whether the commitment is over capacity.
type planningJSON struct {
	Sprint          *northstar.Sprint `json:"sprint"`
	Stories         []storyJSON       `json:"stories"`
	Points          int               `json:"points"`
	Velocity        *float64          `json:"velocity"`
	VelocitySprints int               `json:"velocity_sprints"`
	Availability    float64           `json:"availability"`
	Capacity        *float64          `json:"capacity"`
	OverCapacity    bool              `json:"over_capacity"`
	Unestimated     []string          `json:"unestimated"`
	NotReady        []string          `json:"not_ready"`
}

func planningView(p *northstar.Planning) planningJSON {
	return planningJSON{
		Sprint:          p.Sprint,
		Stories:         storyViews(p.Stories),
		Points:          p.Points,
		Velocity:        p.Velocity,
		VelocitySprints: p.VelocitySprints,
		Availability:    p.Availability,
		Capacity:        p.Capacity,
		OverCapacity:    p.Over(),
		Unestimated:     nonNil(p.Unestimated),
		NotReady:        nonNil(p.NotReady),
	}
}

// nonNil makes a nil list an empty one: lists are arrays in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *API) getPlanning(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := a.app.Planning(r.Context(), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, planningView(p))
	return nil
}

// sprintStoriesRequest lists stories to put into a sprint.
type sprintStoriesRequest struct {
	Refs []string `json:"refs"`
}

func (a *API) addToSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req sprintStoriesRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	p, err := a.app.AddToSprint(r.Context(), id, req.Refs)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, planningView(p))
	return nil
}

func (a *API) removeFromSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := a.app.RemoveFromSprint(r.Context(), id, r.PathValue("ref"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, planningView(p))
	return nil
}

// fillRequest fills a planned sprint from the top of a product's backlog,
// up to the team's capacity or the given points.
type fillRequest struct {
	Product string `json:"product"`
	Points  *int   `json:"points"`
}

// fillJSON is what filling did: the stories added, in backlog order, and
// the plan after.
type fillJSON struct {
	Added []string     `json:"added"`
	Plan  planningJSON `json:"plan"`
}

func (a *API) fillSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req fillRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Product) == "" {
		return northstar.FieldError("product", "product is the key of the product whose backlog fills the sprint.")
	}
	points := 0
	if req.Points != nil {
		if *req.Points < 1 || *req.Points > 10000 {
			return northstar.FieldError("points", "points must be from 1 to 10000, or left out to fill to the team's capacity.")
		}
		points = *req.Points
	}
	p, added, err := a.app.FillToCapacity(r.Context(), id, req.Product, points)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, fillJSON{Added: nonNil(added), Plan: planningView(p)})
	return nil
}

func (a *API) startSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	s, err := a.app.StartSprint(r.Context(), id)
	if err != nil {
		return err
	}
	writeSprint(w, http.StatusOK, s)
	return nil
}

// closeJSON is a closed sprint and the stories carried over.
type closeJSON struct {
	Sprint  *northstar.Sprint `json:"sprint"`
	Carried []string          `json:"carried"`
}

func (a *API) closeSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req northstar.CloseSprint
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	s, carried, err := a.app.CloseSprint(r.Context(), id, req)
	if err != nil {
		return err
	}
	setETag(w, s.Version)
	httpx.WriteJSON(w, http.StatusOK, closeJSON{Sprint: s, Carried: nonNil(carried)})
	return nil
}

// --- The board ---

// boardColumnJSON is a column of the board with its cards. Count and
// over_limit are about the whole column, whatever the filter shows.
type boardColumnJSON struct {
	ID        int64                 `json:"id"`
	Name      string                `json:"name"`
	Status    northstar.StoryStatus `json:"status"`
	WIPLimit  *int                  `json:"wip_limit"`
	Count     int                   `json:"count"`
	OverLimit bool                  `json:"over_limit"`
	Cards     []storyJSON           `json:"cards"`
}

type boardJSON struct {
	Sprint  *northstar.Sprint `json:"sprint"`
	Team    *northstar.Team   `json:"team"`
	Columns []boardColumnJSON `json:"columns"`
}

func (a *API) getBoard(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	assignee, err := queryText(r.URL.Query(), "assignee", maxQueryParamLen)
	if err != nil {
		return err
	}
	b, err := a.app.Board(r.Context(), id)
	if err != nil {
		return err
	}
	out := boardJSON{Sprint: b.Sprint, Team: b.Team, Columns: make([]boardColumnJSON, 0, len(b.Columns))}
	for _, c := range b.Columns {
		col := boardColumnJSON{ID: c.ID, Name: c.Name, Status: c.Status, WIPLimit: c.WIPLimit,
			Count: len(c.Cards), OverLimit: c.OverLimit, Cards: make([]storyJSON, 0, len(c.Cards))}
		for _, st := range c.Cards {
			if assignee != "" && !assignedTo(st, assignee) {
				continue
			}
			col.Cards = append(col.Cards, storyView(st))
		}
		out.Columns = append(out.Columns, col)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// assignedTo matches a card against ?assignee=: an email, or "none" for
// cards without an assignee.
func assignedTo(st *northstar.Story, assignee string) bool {
	if strings.EqualFold(assignee, "none") {
		return st.Assignee == nil
	}
	return st.Assignee != nil && strings.EqualFold(st.Assignee.Email, assignee)
}

func (a *API) moveCard(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req northstar.CardMove
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Column < 1 {
		return northstar.FieldError("column", "column is the id of the board column the card moves to.")
	}
	if req.Before != "" && req.After != "" {
		return northstar.FieldError("after", "Say where the card goes with before or after, not both.")
	}
	st, err := a.app.MoveCard(r.Context(), id, r.PathValue("ref"), req)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, st)
	return nil
}

// --- Charts ---

func (a *API) getBurndown(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := a.app.SprintBurndown(r.Context(), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, b)
	return nil
}

func (a *API) getVelocity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := a.app.Velocity(r.Context(), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[northstar.VelocityPoint]{Items: nonNil(v)})
	return nil
}

func (a *API) getFlow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	days := DefaultFlowDays
	if s := r.URL.Query().Get("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 90 {
			return northstar.FieldError("days", "days must be a whole number from 1 to 90.")
		}
		days = n
	}
	flow, err := a.app.CumulativeFlow(r.Context(), id, days)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[northstar.FlowDay]{Items: nonNil(flow)})
	return nil
}
