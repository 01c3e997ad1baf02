package web

// Sprints: a team's sprint list, sprint planning (the commitment against
// velocity and capacity, the top of the backlog beside it), the review
// where the product owner accepts and the sprint closes, the sprint page
// with its burndown and retrospective, and the team's reports. Every
// action is a plain form; board.js adds drag and drop on the planning
// page.

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// sprintRoutes are the Scrum pages: teams, sprints, planning, the board,
// the review and the charts.
func (web *Web) sprintRoutes() []httpx.Route {
	a := web.authed
	return []httpx.Route{
		{Method: "GET", Pattern: "/teams", Handler: a(web.teams)},
		{Method: "POST", Pattern: "/teams", Handler: a(web.createTeam)},
		{Method: "GET", Pattern: "/teams/{id}", Handler: a(web.team)},
		{Method: "POST", Pattern: "/teams/{id}", Handler: a(web.updateTeam)},
		{Method: "POST", Pattern: "/teams/{id}/delete", Handler: a(web.deleteTeam)},
		{Method: "POST", Pattern: "/teams/{id}/members", Handler: a(web.setTeamMember)},
		{Method: "POST", Pattern: "/teams/{id}/members/{email}/remove", Handler: a(web.removeTeamMember)},
		{Method: "POST", Pattern: "/teams/{id}/columns", Handler: a(web.saveColumn)},
		{Method: "POST", Pattern: "/teams/{id}/columns/{column}", Handler: a(web.saveColumn)},
		{Method: "POST", Pattern: "/teams/{id}/columns/{column}/move", Handler: a(web.moveColumn)},
		{Method: "POST", Pattern: "/teams/{id}/columns/{column}/delete", Handler: a(web.deleteColumn)},
		{Method: "GET", Pattern: "/teams/{id}/board", Handler: a(web.board)},
		{Method: "GET", Pattern: "/teams/{id}/sprints", Handler: a(web.sprints)},
		{Method: "POST", Pattern: "/teams/{id}/sprints", Handler: a(web.createSprint)},
		{Method: "GET", Pattern: "/teams/{id}/reports", Handler: a(web.reports)},
		{Method: "GET", Pattern: "/sprints/{id}", Handler: a(web.sprint)},
		{Method: "POST", Pattern: "/sprints/{id}", Handler: a(web.updateSprint)},
		{Method: "GET", Pattern: "/sprints/{id}/plan", Handler: a(web.plan)},
		{Method: "POST", Pattern: "/sprints/{id}/stories", Handler: a(web.addToSprint)},
		{Method: "POST", Pattern: "/sprints/{id}/stories/{ref}/remove", Handler: a(web.removeFromSprint)},
		{Method: "POST", Pattern: "/sprints/{id}/fill", Handler: a(web.fillSprint)},
		{Method: "POST", Pattern: "/sprints/{id}/start", Handler: a(web.startSprint)},
		{Method: "POST", Pattern: "/sprints/{id}/cards/{ref}/move", Handler: a(web.moveCard)},
		{Method: "GET", Pattern: "/sprints/{id}/review", Handler: a(web.review)},
		{Method: "POST", Pattern: "/sprints/{id}/stories/{ref}/accept", Handler: a(web.acceptStory)},
		{Method: "POST", Pattern: "/sprints/{id}/close", Handler: a(web.closeSprint)},
	}
}

func sprintURL(id int64) string { return "/sprints/" + strconv.FormatInt(id, 10) }

// sprintContext is what every sprint page starts from: the sprint, its
// team, the user's rights and the team's head.
type sprintContext struct {
	Sprint   *northstar.Sprint
	Team     *northstar.Team
	Rights   teamRights
	Products []*northstar.Product
	Nav      teamNav
}

func (web *Web) sprintContext(ctx context.Context, r *http.Request) (*sprintContext, error) {
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return nil, err
	}
	s, err := web.app.Sprint(ctx, id)
	if err != nil {
		return nil, err
	}
	t, err := web.app.Team(ctx, s.TeamID)
	if err != nil {
		return nil, err
	}
	rights, products, err := web.teamRights(ctx, t)
	if err != nil {
		return nil, err
	}
	sc := &sprintContext{Sprint: s, Team: t, Rights: rights, Products: products, Nav: teamNav{Team: t, Active: "sprints"}}
	if s.Status == northstar.SprintActive {
		sc.Nav.Sprint = s
	} else if active, _, _, err := web.teamSprints(ctx, t.ID); err == nil {
		sc.Nav.Sprint = active
	}
	return sc, nil
}

// sprintStats are the numbers a sprint's pages show.
type sprintStats struct {
	Stories, Done        int
	Points, DonePoints   int
	Unestimated          int
	Accepted, Acceptable int
}

func sprintStatsOf(stories []*northstar.Story) sprintStats {
	var st sprintStats
	for _, s := range stories {
		st.Stories++
		p := 0
		if s.Points != nil {
			p = *s.Points
		} else {
			st.Unestimated++
		}
		st.Points += p
		if s.Status == northstar.StatusDone {
			st.Done++
			st.DonePoints += p
		}
		if s.Accepted {
			st.Accepted++
		}
	}
	return st
}

// DonePct is the share of points done, 0–1.
func (s sprintStats) DonePct() float64 {
	if s.Points == 0 {
		return 0
	}
	return float64(s.DonePoints) / float64(s.Points)
}

// --- The sprint list ---

type sprintsView struct {
	page
	alerts
	Nav     teamNav
	Team    *northstar.Team
	Rights  teamRights
	Sprints []*northstar.Sprint
	// The new-sprint form's defaults: the next number, starting the day
	// after the last sprint ends, two weeks long.
	DefaultName, DefaultStart, DefaultEnd string
}

func (web *Web) sprintsView(w http.ResponseWriter, r *http.Request) (*sprintsView, error) {
	ctx := r.Context()
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return nil, err
	}
	t, err := web.app.Team(ctx, id)
	if err != nil {
		return nil, err
	}
	rights, _, err := web.teamRights(ctx, t)
	if err != nil {
		return nil, err
	}
	active, _, all, err := web.teamSprints(ctx, id)
	if err != nil {
		return nil, err
	}
	view := &sprintsView{page: web.newPage(w, r, t.Name+" sprints", "teams"), Team: t, Rights: rights, Sprints: all,
		Nav: teamNav{Team: t, Active: "sprints", Sprint: active}}
	start := sprintToday()
	view.DefaultName = "Sprint 1"
	length := 13 * 24 * time.Hour
	if len(all) > 0 {
		last := all[0] // newest first
		view.DefaultName = nextSprintName(last.Name, len(all)+1)
		if next := last.End.AddDate(0, 0, 1); next.After(start) {
			start = next
		}
		length = last.End.Sub(last.Start.Time)
	}
	view.DefaultStart = start.Format(northstar.DateLayout)
	view.DefaultEnd = start.Add(length).Format(northstar.DateLayout)
	return view, nil
}

// nextSprintName turns "Sprint 7" into "Sprint 8"; other names give "Sprint n".
func nextSprintName(name string, n int) string {
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		if k, err := strconv.Atoi(name[i+1:]); err == nil && k >= 0 {
			return fmt.Sprintf("%s %d", name[:i], k+1)
		}
	}
	return fmt.Sprintf("Sprint %d", n)
}

func sprintToday() time.Time {
	n := time.Now().UTC()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

func (web *Web) sprints(w http.ResponseWriter, r *http.Request) error {
	view, err := web.sprintsView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "sprints", view)
}

// sprintInput reads the name, goal and dates of a sprint form, and the
// retrospective when the form has it.
func sprintInput(r *http.Request) (northstar.SprintInput, error) {
	in := northstar.SprintInput{Name: r.PostForm.Get("name"), Goal: r.PostForm.Get("goal")}
	var err error
	if s := strings.TrimSpace(r.PostForm.Get("start")); s != "" {
		if in.Start, err = northstar.ParseDate("start", s); err != nil {
			return in, err
		}
	}
	if s := strings.TrimSpace(r.PostForm.Get("end")); s != "" {
		if in.End, err = northstar.ParseDate("end", s); err != nil {
			return in, err
		}
	}
	in.Retro = retroInput(r)
	return in, nil
}

// retroInput reads the retrospective fields, nil when the form has none.
func retroInput(r *http.Request) *northstar.Retro {
	if _, ok := r.PostForm["went_well"]; !ok {
		return nil
	}
	return &northstar.Retro{WentWell: r.PostForm.Get("went_well"), ToImprove: r.PostForm.Get("to_improve"), Actions: r.PostForm.Get("actions")}
}

func (web *Web) createSprint(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	in, err := sprintInput(r)
	var s *northstar.Sprint
	if err == nil {
		s, err = web.app.CreateSprint(r.Context(), id, in)
	}
	if err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.sprintsView(w, r)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "sprint", err)
		return web.render(w, r, httpx.Status(err), "sprints", view)
	}
	setFlash(w, s.Name+" created: pull stories from the backlog into it.")
	redirect(w, r, sprintURL(s.ID)+"/plan")
	return nil
}

// --- The sprint page ---

type sprintView struct {
	page
	alerts
	*sprintContext
	Stories   []*northstar.Story
	Stats     sprintStats
	Burndown  template.HTML
	Burnup    template.HTML
	Changes   []northstar.ChartPoint
	DaysLeft  int
	HasCharts bool
}

func (web *Web) sprintView(w http.ResponseWriter, r *http.Request) (*sprintView, error) {
	ctx := r.Context()
	sc, err := web.sprintContext(ctx, r)
	if err != nil {
		return nil, err
	}
	p, err := web.app.Planning(ctx, sc.Sprint.ID)
	if err != nil {
		return nil, err
	}
	b, err := web.app.SprintBurndown(ctx, sc.Sprint.ID)
	if err != nil {
		return nil, err
	}
	view := &sprintView{page: web.newPage(w, r, sc.Sprint.Name+" · "+sc.Team.Name, "teams"), sprintContext: sc,
		Stories: p.Stories, Stats: sprintStatsOf(p.Stories), Changes: b.ScopeChanges}
	view.Burndown, view.Burnup = burndownChart(b, time.Now()), burnupChart(b, time.Now())
	view.HasCharts = sc.Sprint.Status != northstar.SprintPlanned
	view.DaysLeft = int(sc.Sprint.End.Sub(sprintToday())/(24*time.Hour)) + 1
	return view, nil
}

func (web *Web) sprint(w http.ResponseWriter, r *http.Request) error {
	view, err := web.sprintView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "sprint", view)
}

// updateSprint saves the sprint form or the retrospective form (which
// sends the name, goal and dates as they are).
func (web *Web) updateSprint(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return err
	}
	section := "details"
	if r.PostForm.Get("section") == "retro" {
		section = "retro"
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	in, err := sprintInput(r)
	if err == nil {
		_, err = web.app.UpdateSprint(r.Context(), id, version, in)
	}
	if err != nil {
		if !formProblem(err) {
			return err
		}
		if northstar.ErrorCode(err) == northstar.ECONFLICT {
			err = northstar.Errorf(northstar.ECONFLICT, "Someone changed this sprint while you were editing: here it is as it is now. Your text is kept in the form; save again to overwrite.")
		}
		view, verr := web.sprintView(w, r)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, section, err)
		return web.render(w, r, httpx.Status(err), "sprint", view)
	}
	if section == "retro" {
		setFlash(w, "Retrospective saved.")
	} else {
		setFlash(w, "Sprint saved.")
	}
	redirect(w, r, sprintURL(id)+"#"+section)
	return nil
}

// --- Planning ---

// planBacklog is the top of one product's backlog on the planning page.
type planBacklog struct {
	Product *northstar.Product
	Stories []*northstar.Story
	More    bool
}

// planBacklogSize is how many backlog stories planning shows per product.
const planBacklogSize = 25

type planView struct {
	page
	alerts
	*sprintContext
	Plan     *northstar.Planning
	Backlogs []planBacklog
	Bar      template.HTML
	// Added lists the stories the last fill pulled in, to highlight.
	Added map[string]bool
	// Editable: stories may still be added or removed.
	Editable bool
	// Done says what the last change did, for htmx answers.
	Done string
}

// CapacityPct is the commitment as a share of the capacity.
func (v *planView) CapacityPct() int {
	if v.Plan.Capacity == nil || *v.Plan.Capacity <= 0 {
		return 0
	}
	return int(float64(v.Plan.Points)/(*v.Plan.Capacity)*100 + 0.5)
}

// Round writes a number of points to a tenth.
func (v *planView) Round(f *float64) string {
	if f == nil {
		return ""
	}
	return formatNumber(float64(int(*f*10+0.5)) / 10)
}

// OverBy is how many points the commitment passes the capacity by.
func (v *planView) OverBy() *float64 {
	if v.Plan.Capacity == nil {
		return nil
	}
	d := float64(v.Plan.Points) - *v.Plan.Capacity
	return &d
}

// AvailabilityPct is the team's availability in percent.
func (v *planView) AvailabilityPct() int { return int(v.Plan.Availability*100 + 0.5) }

// FillProducts are the products "fill to capacity" may pull from.
func (v *planView) FillProducts() []*northstar.Product {
	var out []*northstar.Product
	for _, p := range v.Products {
		if canProduct(v.User, p, northstar.ActionEditStories) {
			out = append(out, p)
		}
	}
	return out
}

// Warned reports whether a story is in a list of refs.
func (v *planView) Warned(list []string, ref string) bool {
	for _, r := range list {
		if r == ref {
			return true
		}
	}
	return false
}

func (web *Web) planView(w http.ResponseWriter, r *http.Request) (*planView, error) {
	ctx := r.Context()
	sc, err := web.sprintContext(ctx, r)
	if err != nil {
		return nil, err
	}
	p, err := web.app.Planning(ctx, sc.Sprint.ID)
	if err != nil {
		return nil, err
	}
	view := &planView{page: web.newPage(w, r, "Plan "+sc.Sprint.Name, "teams"), sprintContext: sc, Plan: p,
		Editable: sc.Rights.Plan && sc.Sprint.Status != northstar.SprintClosed}
	view.Bar = capacityBar(p)
	// The top of each product's backlog: stories in no sprint, not done.
	open := []northstar.StoryStatus{northstar.StatusNew, northstar.StatusReady, northstar.StatusInProgress, northstar.StatusInReview}
	for _, prod := range sc.Products {
		stories, err := web.app.Stories(ctx, prod.Key, northstar.StoryFilter{Statuses: open, Limit: 200})
		if err != nil {
			return nil, err
		}
		pb := planBacklog{Product: prod}
		for _, s := range stories {
			if s.SprintID != nil {
				continue
			}
			if len(pb.Stories) == planBacklogSize {
				pb.More = true
				break
			}
			pb.Stories = append(pb.Stories, s)
		}
		view.Backlogs = append(view.Backlogs, pb)
	}
	return view, nil
}

func (web *Web) plan(w http.ResponseWriter, r *http.Request) error {
	view, err := web.planView(w, r)
	if err != nil {
		return err
	}
	if isHTMX(r) && r.Header.Get("HX-Target") == "plan-body" && r.Header.Get("HX-History-Restore-Request") != "true" {
		return web.renderPartial(w, http.StatusOK, "plan", "plan-body", view)
	}
	return web.render(w, r, http.StatusOK, "plan", view)
}

// planAnswer answers a planning form: for htmx the planning body (with the
// error at the top when there is one), else back to the page.
func (web *Web) planAnswer(w http.ResponseWriter, r *http.Request, id int64, err error, done string, added []string) error {
	if err != nil && !formProblem(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
		return err
	}
	if isHTMX(r) {
		view, verr := web.planView(w, r)
		if verr != nil {
			return verr
		}
		status := http.StatusOK
		if err != nil {
			status = httpx.Status(err)
			view.Alert = newAlert(r, "plan", err)
		} else {
			view.Done = done
		}
		view.Added = map[string]bool{}
		for _, ref := range added {
			view.Added[ref] = true
		}
		return web.renderPartial(w, status, "plan", "plan-body", view)
	}
	if err != nil {
		setFlash(w, "!"+northstar.ErrorMessage(err))
	} else if done != "" {
		setFlash(w, done)
	}
	redirect(w, r, sprintURL(id)+"/plan")
	return nil
}

func (web *Web) addToSprint(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return err
	}
	var refs []string
	for _, ref := range r.PostForm["ref"] {
		if ref = strings.ToUpper(strings.TrimSpace(ref)); ref != "" {
			refs = append(refs, ref)
		}
	}
	_, err = web.app.AddToSprint(r.Context(), id, refs)
	return web.planAnswer(w, r, id, err, strings.Join(refs, ", ")+" added to the sprint.", refs)
}

func (web *Web) removeFromSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return err
	}
	ref := strings.ToUpper(r.PathValue("ref"))
	_, err = web.app.RemoveFromSprint(r.Context(), id, ref)
	return web.planAnswer(w, r, id, err, ref+" went back to the backlog.", nil)
}

func (web *Web) fillSprint(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return err
	}
	points, err := sprintFormInt(r, "points", 0)
	if err == nil && points < 0 {
		err = northstar.FieldError("points", "Points must be zero or more.")
	}
	var added []string
	if err == nil {
		_, added, err = web.app.FillToCapacity(r.Context(), id, r.PostForm.Get("product"), points)
	}
	msg := "Nothing more fits: the next estimated story would pass the capacity."
	if len(added) > 0 {
		msg = fmt.Sprintf("Filled with %d %s: %s.", len(added), sprintPlural(len(added), "story", "stories"), strings.Join(added, ", "))
	}
	return web.planAnswer(w, r, id, err, msg, added)
}

func sprintPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (web *Web) startSprint(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return err
	}
	s, err := web.app.StartSprint(r.Context(), id)
	if err != nil {
		if !formProblem(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
		redirect(w, r, sprintURL(id)+"/plan")
		return nil
	}
	setFlash(w, fmt.Sprintf("%s started with %d %s and %d points committed.", s.Name, s.CommittedCount, sprintPlural(s.CommittedCount, "story", "stories"), s.CommittedPoints))
	redirect(w, r, teamURL(s.TeamID)+"/board")
	return nil
}

// --- Review and close ---

// reviewItem is a story at the review, with whether it can be accepted
// and why not.
type reviewItem struct {
	Story     *northstar.Story
	CanAccept bool
	Why       string // why the Accept button is disabled
}

type reviewView struct {
	page
	alerts
	*sprintContext
	Items      []reviewItem
	Stats      sprintStats
	Unfinished []*northstar.Story
	CanClose   bool
	// NextSprint is the planned sprint unfinished stories would go to ("" when
	// closing creates one).
	NextSprint string
}

func (web *Web) reviewView(w http.ResponseWriter, r *http.Request) (*reviewView, error) {
	ctx := r.Context()
	sc, err := web.sprintContext(ctx, r)
	if err != nil {
		return nil, err
	}
	p, err := web.app.Planning(ctx, sc.Sprint.ID)
	if err != nil {
		return nil, err
	}
	view := &reviewView{page: web.newPage(w, r, "Review "+sc.Sprint.Name, "teams"), sprintContext: sc, Stats: sprintStatsOf(p.Stories),
		CanClose: sc.Rights.Plan && sc.Sprint.Status == northstar.SprintActive}
	for _, s := range p.Stories {
		item := reviewItem{Story: s}
		switch {
		case s.Accepted:
		case sc.Sprint.Status == northstar.SprintClosed:
			item.Why = "The sprint is closed."
		case !sc.Rights.AcceptIn(s.ProductKey):
			item.Why = "Only the product owner of " + s.ProductKey + " accepts its stories."
		case !s.CriteriaMet():
			item.Why = fmt.Sprintf("%d of %d acceptance criteria met.", s.MetCount(), len(s.Criteria))
		default:
			item.CanAccept = true
		}
		view.Items = append(view.Items, item)
		if s.Status != northstar.StatusDone {
			view.Unfinished = append(view.Unfinished, s)
		}
	}
	for _, st := range view.Items {
		if !st.Story.Accepted && st.CanAccept {
			view.Stats.Acceptable++
		}
	}
	if _, next, _, err := web.teamSprints(ctx, sc.Team.ID); err == nil && next != nil {
		view.NextSprint = next.Name
	}
	return view, nil
}

func (web *Web) review(w http.ResponseWriter, r *http.Request) error {
	view, err := web.reviewView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "review", view)
}

func (web *Web) acceptStory(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return err
	}
	ref := strings.ToUpper(r.PathValue("ref"))
	s, err := web.app.Story(r.Context(), ref)
	if err != nil {
		return err
	}
	if s.SprintID == nil || *s.SprintID != id {
		return northstar.Errorf(northstar.ENOTFOUND, "%s is not in this sprint.", ref)
	}
	accepted := true
	if _, err := web.app.UpdateStory(r.Context(), ref, 0, northstar.StoryUpdate{Accepted: &accepted}); err != nil {
		if !formProblem(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	} else {
		setFlash(w, ref+" accepted.")
	}
	redirect(w, r, sprintURL(id)+"/review#review-"+ref)
	return nil
}

func (web *Web) closeSprint(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return err
	}
	c := northstar.CloseSprint{Carry: northstar.Carry(r.PostForm.Get("carry")), Retro: retroInput(r)}
	s, carried, err := web.app.CloseSprint(r.Context(), id, c)
	if err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.reviewView(w, r)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "close", err)
		return web.render(w, r, httpx.Status(err), "review", view)
	}
	msg := fmt.Sprintf("%s closed: %d of %d points completed.", s.Name, s.CompletedPoints, s.CommittedPoints)
	if len(carried) > 0 {
		where := "went back to the top of the backlog"
		if c.Carry == northstar.CarryToNextSprint {
			where = "moved to the next sprint"
		}
		msg += fmt.Sprintf(" %s %s.", strings.Join(carried, ", "), where)
	}
	setFlash(w, msg)
	redirect(w, r, sprintURL(id))
	return nil
}

// --- Reports ---

type reportsView struct {
	page
	Nav      teamNav
	Team     *northstar.Team
	Velocity []northstar.VelocityPoint
	Average  *float64
	Charts   struct{ Velocity, Flow, Burndown template.HTML }
	Flow     []northstar.FlowDay
	Active   *northstar.Sprint
}

// velocityRow is a closed sprint in the reports' table.
type velocityRow struct {
	northstar.VelocityPoint
	Pct int // completed of committed
}

// Rows lists the closed sprints, newest first.
func (v *reportsView) Rows() []velocityRow {
	out := make([]velocityRow, 0, len(v.Velocity))
	for i := len(v.Velocity) - 1; i >= 0; i-- {
		p := v.Velocity[i]
		row := velocityRow{VelocityPoint: p}
		if p.Committed > 0 {
			row.Pct = int(float64(p.Completed)/float64(p.Committed)*100 + 0.5)
		}
		out = append(out, row)
	}
	return out
}

// flowDays is how many days the cumulative flow diagram covers.
const flowDays = 30

func (web *Web) reports(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return err
	}
	t, err := web.app.Team(ctx, id)
	if err != nil {
		return err
	}
	active, _, _, err := web.teamSprints(ctx, id)
	if err != nil {
		return err
	}
	view := &reportsView{page: web.newPage(w, r, t.Name+" reports", "teams"), Team: t, Active: active,
		Nav: teamNav{Team: t, Active: "reports", Sprint: active}}
	if view.Velocity, err = web.app.Velocity(ctx, id); err != nil {
		return err
	}
	if view.Flow, err = web.app.CumulativeFlow(ctx, id, flowDays); err != nil {
		return err
	}
	view.Average = averageVelocity(view.Velocity, 3)
	view.Charts.Velocity = velocityChart(view.Velocity)
	view.Charts.Flow = flowChart(view.Flow)
	if active != nil {
		b, err := web.app.SprintBurndown(ctx, active.ID)
		if err != nil {
			return err
		}
		view.Charts.Burndown = burndownChart(b, time.Now())
	}
	return web.render(w, r, http.StatusOK, "reports", view)
}

// averageVelocity is the mean completed points of the last n sprints
// (oldest first), nil without any.
func averageVelocity(v []northstar.VelocityPoint, n int) *float64 {
	if len(v) == 0 {
		return nil
	}
	if len(v) < n {
		n = len(v)
	}
	sum := 0
	for _, p := range v[len(v)-n:] {
		sum += p.Completed
	}
	avg := float64(sum) / float64(n)
	return &avg
}
