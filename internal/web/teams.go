package web

// Teams: the list of teams, and one team's page with its products,
// members (capacity and days off) and board columns. Every change is a
// plain form; the pages work without JavaScript.

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// teamRights is what the current user may do with a team, worked out from
// their roles in its products as the app does (the app enforces it either
// way; the pages only hide what a person may not use).
type teamRights struct {
	Plan bool // edit the team and its board, plan, start and close sprints
	Work bool // move cards on the board
	// per product key
	work, accept map[string]bool
}

// WorkIn reports whether the user may move the cards of a product.
func (r teamRights) WorkIn(key string) bool { return r.work[key] }

// AcceptIn reports whether the user may accept the stories of a product.
func (r teamRights) AcceptIn(key string) bool { return r.accept[key] }

// teamRights loads the team's products the user can read, with their role.
func (web *Web) teamRights(ctx context.Context, t *northstar.Team) (teamRights, []*northstar.Product, error) {
	u := northstar.UserFromContext(ctx)
	r := teamRights{work: map[string]bool{}, accept: map[string]bool{}}
	var products []*northstar.Product
	for _, key := range t.Products {
		p, err := web.app.Product(ctx, key)
		if err != nil {
			if northstar.ErrorCode(err) == northstar.ENOTFOUND {
				continue
			}
			return r, nil, err
		}
		products = append(products, p)
		if canProduct(u, p, northstar.ActionEditStories) {
			r.Plan = true
		}
		if canProduct(u, p, northstar.ActionWorkStories) {
			r.Work, r.work[p.Key] = true, true
		}
		r.accept[p.Key] = canProduct(u, p, northstar.ActionAcceptStory)
	}
	if u != nil && u.Admin {
		r.Plan, r.Work = true, true
	}
	return r, products, nil
}

// teamNav is the head of every team page: the name and the tabs.
type teamNav struct {
	Team   *northstar.Team
	Active string // team, board, sprints, reports
	// Sprint is the team's active sprint, nil when there is none.
	Sprint *northstar.Sprint
}

// activeSprint returns the team's active sprint and the planned one that
// comes next (each nil when there is none), and every sprint.
func (web *Web) teamSprints(ctx context.Context, teamID int64) (active, next *northstar.Sprint, all []*northstar.Sprint, err error) {
	all, err = web.app.Sprints(ctx, teamID)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, s := range all {
		switch s.Status {
		case northstar.SprintActive:
			active = s
		case northstar.SprintPlanned:
			// Newest first: the last planned one seen starts first.
			next = s
		}
	}
	return active, next, all, nil
}

func teamURL(id int64) string { return "/teams/" + strconv.FormatInt(id, 10) }

// --- The list of teams ---

type teamCard struct {
	Team   *northstar.Team
	Active *northstar.Sprint
	Next   *northstar.Sprint
	Closed int
}

// teamProductChoice is a product on a team form.
type teamProductChoice struct {
	Key, Name string
	Checked   bool
}

type teamsView struct {
	page
	alerts
	Teams     []teamCard
	CanCreate bool
	Products  []teamProductChoice // products the user plans: a new team may work on them
}

// plannedProducts returns the products where the user plans sprints: the
// ones a team of theirs may work on.
func (web *Web) plannedProducts(ctx context.Context) ([]*northstar.Product, error) {
	ps, err := web.app.Products(ctx, northstar.ProductFilter{})
	if err != nil {
		return nil, err
	}
	u := northstar.UserFromContext(ctx)
	return slices.DeleteFunc(ps, func(p *northstar.Product) bool { return !canProduct(u, p, northstar.ActionEditStories) }), nil
}

func (web *Web) teamsView(w http.ResponseWriter, r *http.Request) (*teamsView, error) {
	ctx := r.Context()
	teams, err := web.app.Teams(ctx)
	if err != nil {
		return nil, err
	}
	view := &teamsView{page: web.newPage(w, r, "Teams", "teams")}
	for _, t := range teams {
		card := teamCard{Team: t}
		active, next, all, err := web.teamSprints(ctx, t.ID)
		if err != nil && northstar.ErrorCode(err) != northstar.ENOTFOUND {
			return nil, err
		}
		card.Active, card.Next = active, next
		for _, s := range all {
			if s.Status == northstar.SprintClosed {
				card.Closed++
			}
		}
		view.Teams = append(view.Teams, card)
	}
	planned, err := web.plannedProducts(ctx)
	if err != nil {
		return nil, err
	}
	u := northstar.UserFromContext(ctx)
	view.CanCreate = u != nil && (u.Admin || len(planned) > 0)
	for _, p := range planned {
		view.Products = append(view.Products, teamProductChoice{Key: p.Key, Name: p.Name})
	}
	return view, nil
}

func (web *Web) teams(w http.ResponseWriter, r *http.Request) error {
	view, err := web.teamsView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "teams", view)
}

// teamInput reads a team form: a name and the products ticked.
func teamInput(r *http.Request) northstar.TeamInput {
	return northstar.TeamInput{Name: r.PostForm.Get("name"), Products: r.PostForm["products"]}
}

func (web *Web) createTeam(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	t, err := web.app.CreateTeam(r.Context(), teamInput(r))
	if err != nil {
		if !formProblem(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
			return err
		}
		view, verr := web.teamsView(w, r)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "team", err)
		sent := map[string]bool{}
		for _, k := range r.PostForm["products"] {
			sent[strings.ToUpper(k)] = true
		}
		for i := range view.Products {
			view.Products[i].Checked = sent[view.Products[i].Key]
		}
		return web.render(w, r, httpx.Status(err), "teams", view)
	}
	setFlash(w, "Team "+t.Name+" created. Add its members and their capacity.")
	redirect(w, r, teamURL(t.ID))
	return nil
}

// --- One team ---

type teamView struct {
	page
	alerts
	Nav      teamNav
	Team     *northstar.Team
	Rights   teamRights
	Products []teamProductChoice
	// People are the members of the team's products, offered when adding
	// a member.
	People []*northstar.Member
	Next   *northstar.Sprint
}

// Statuses lists the statuses a column can stand for.
func (v *teamView) Statuses() []northstar.StoryStatus { return northstar.StoryStatuses }

// MaxColumns is the most columns a board may have.
func (v *teamView) MaxColumns() int { return northstar.MaxColumns }

// columnItem is a column on the team page, with its place.
type columnItem struct {
	*northstar.BoardColumn
	Pos         int // from 1
	First, Last bool
}

// Columns lists the board's columns in order.
func (v *teamView) Columns() []columnItem {
	out := make([]columnItem, len(v.Team.Columns))
	for i, c := range v.Team.Columns {
		out[i] = columnItem{BoardColumn: c, Pos: i + 1, First: i == 0, Last: i == len(v.Team.Columns)-1}
	}
	return out
}

// WIP writes a column's WIP limit for its input ("" for none).
func (v *teamView) WIP(c *northstar.BoardColumn) string {
	if c.WIPLimit == nil {
		return ""
	}
	return strconv.Itoa(*c.WIPLimit)
}

func (web *Web) teamView(w http.ResponseWriter, r *http.Request) (*teamView, error) {
	ctx := r.Context()
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return nil, err
	}
	t, err := web.app.Team(ctx, id)
	if err != nil {
		return nil, err
	}
	rights, products, err := web.teamRights(ctx, t)
	if err != nil {
		return nil, err
	}
	active, next, _, err := web.teamSprints(ctx, id)
	if err != nil {
		return nil, err
	}
	view := &teamView{page: web.newPage(w, r, t.Name, "teams"), Team: t, Rights: rights, Next: next,
		Nav: teamNav{Team: t, Active: "team", Sprint: active}}
	// The products a team may work on: the ones the user plans, and the
	// ones it works on already.
	have := map[string]bool{}
	for _, k := range t.Products {
		have[k] = true
		view.Products = append(view.Products, teamProductChoice{Key: k, Checked: true})
	}
	for _, p := range products {
		for i := range view.Products {
			if view.Products[i].Key == p.Key {
				view.Products[i].Name = p.Name
			}
		}
	}
	if rights.Plan {
		planned, err := web.plannedProducts(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range planned {
			if !have[p.Key] {
				view.Products = append(view.Products, teamProductChoice{Key: p.Key, Name: p.Name})
			}
		}
		seen := map[string]bool{}
		for _, m := range t.Members {
			seen[m.Email] = true
		}
		for _, p := range products {
			members, err := web.app.Members(ctx, p.Key)
			if err != nil {
				return nil, err
			}
			for _, m := range members {
				if !seen[m.Email] {
					seen[m.Email] = true
					view.People = append(view.People, m)
				}
			}
		}
	}
	return view, nil
}

func (web *Web) team(w http.ResponseWriter, r *http.Request) error {
	view, err := web.teamView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "team", view)
}

// teamFormError shows a form's error on the team page, at the form, with
// what was sent; refusals and missing teams are pages of their own.
func (web *Web) teamFormError(w http.ResponseWriter, r *http.Request, section string, err error) error {
	if !formProblem(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
		return err
	}
	if northstar.ErrorCode(err) == northstar.ENOTFOUND && northstar.ErrorField(err) == "" {
		return err
	}
	view, verr := web.teamView(w, r)
	if verr != nil {
		return verr
	}
	view.Alert = newAlert(r, section, err)
	return web.render(w, r, httpx.Status(err), "team", view)
}

func (web *Web) updateTeam(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	t, err := web.app.UpdateTeam(r.Context(), id, version, teamInput(r))
	if err != nil {
		if northstar.ErrorCode(err) == northstar.ECONFLICT && northstar.ErrorField(err) == "" {
			err = northstar.Errorf(northstar.ECONFLICT, "Someone changed the team while you were editing: here it is as it is now. Make your change again.")
		}
		return web.teamFormError(w, r, "details", err)
	}
	setFlash(w, "Team "+t.Name+" saved.")
	redirect(w, r, teamURL(id))
	return nil
}

func (web *Web) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	t, err := web.app.Team(r.Context(), id)
	if err != nil {
		return err
	}
	if err := web.app.DeleteTeam(r.Context(), id); err != nil {
		return err
	}
	setFlash(w, "Team "+t.Name+" deleted.")
	redirect(w, r, "/teams")
	return nil
}

// sprintFormInt reads a whole number from a form field; empty gives def.
func sprintFormInt(r *http.Request, field string, def int) (int, error) {
	s := strings.TrimSpace(r.PostForm.Get(field))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil {
		return 0, northstar.FieldError(field, "%s must be a whole number.", strings.ReplaceAll(field, "_", " "))
	}
	return n, nil
}

func (web *Web) setTeamMember(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	section := "member-new"
	if r.PostForm.Get("existing") != "" {
		section = "member-" + email
	}
	capacity, err := sprintFormInt(r, "capacity", 100)
	if err != nil {
		return web.teamFormError(w, r, section, err)
	}
	daysOff, err := sprintFormInt(r, "days_off", 0)
	if err != nil {
		return web.teamFormError(w, r, section, err)
	}
	if email == "" {
		return web.teamFormError(w, r, section, northstar.FieldError("email", "Say whom to add: their email."))
	}
	if _, err := web.app.SetTeamMember(r.Context(), id, email, capacity, daysOff); err != nil {
		return web.teamFormError(w, r, section, err)
	}
	setFlash(w, "Saved the capacity of "+email+".")
	redirect(w, r, teamURL(id)+"#members")
	return nil
}

func (web *Web) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	email := r.PathValue("email")
	if _, err := web.app.RemoveTeamMember(r.Context(), id, email); err != nil {
		if !userError(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	} else {
		setFlash(w, email+" left the team.")
	}
	redirect(w, r, teamURL(id)+"#members")
	return nil
}

// columnInput reads a column form.
func columnInput(r *http.Request) (northstar.BoardColumn, error) {
	c := northstar.BoardColumn{Name: r.PostForm.Get("name"), Status: northstar.StoryStatus(r.PostForm.Get("status"))}
	if s := strings.TrimSpace(r.PostForm.Get("wip_limit")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return c, northstar.FieldError("wip_limit", "The WIP limit is a whole number, or empty for none.")
		}
		c.WIPLimit = &n
	}
	return c, nil
}

func (web *Web) saveColumn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	section := "column-new"
	var colID int64
	if r.PathValue("column") != "" {
		if colID, err = parseID(r, "column", "Column"); err != nil {
			return err
		}
		section = "column-" + strconv.FormatInt(colID, 10)
	}
	c, err := columnInput(r)
	c.ID = colID
	if err == nil {
		_, err = web.app.SaveColumn(r.Context(), id, c)
	}
	if err != nil {
		return web.teamFormError(w, r, section, err)
	}
	setFlash(w, "Column "+strings.TrimSpace(c.Name)+" saved.")
	redirect(w, r, teamURL(id)+"#columns")
	return nil
}

func (web *Web) deleteColumn(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	col, err := parseID(r, "column", "Column")
	if err != nil {
		return err
	}
	if _, err := web.app.DeleteColumn(r.Context(), id, col); err != nil {
		if !userError(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	} else {
		setFlash(w, "Column deleted; its cards moved to a column with the same status.")
	}
	redirect(w, r, teamURL(id)+"#columns")
	return nil
}

// moveColumn moves a column one place left or right ("up" or "down").
func (web *Web) moveColumn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	col, err := parseID(r, "column", "Column")
	if err != nil {
		return err
	}
	t, err := web.app.Team(r.Context(), id)
	if err != nil {
		return err
	}
	ids := make([]int64, len(t.Columns))
	at := -1
	for i, c := range t.Columns {
		ids[i] = c.ID
		if c.ID == col {
			at = i
		}
	}
	if at < 0 {
		return northstar.Errorf(northstar.ENOTFOUND, "Column %d not found on the board of %s.", col, t.Name)
	}
	to := at - 1
	if r.PostForm.Get("direction") == "down" {
		to = at + 1
	}
	if to >= 0 && to < len(ids) {
		ids[at], ids[to] = ids[to], ids[at]
	}
	// Also at the edge, where the order stays: the application decides
	// who may order the columns, and says so to who may not.
	if _, err := web.app.OrderColumns(r.Context(), id, ids); err != nil {
		if !userError(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	}
	redirect(w, r, teamURL(id)+"#columns")
	return nil
}
