package server_test

// Scenario tests of the Scrum API: teams with members, capacity and board
// columns; sprint planning, start and close; the board and its card moves;
// and the chart data, through HTTP on every engine.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

// The JSON shapes of the Scrum API, as the tests read them.
type (
	apiTeamMember struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Capacity int    `json:"capacity"`
		DaysOff  int    `json:"days_off"`
	}
	apiColumn struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		Status   string `json:"status"`
		WIPLimit *int   `json:"wip_limit"`
	}
	apiTeam struct {
		ID       int64           `json:"id"`
		Name     string          `json:"name"`
		Members  []apiTeamMember `json:"members"`
		Products []string        `json:"products"`
		Columns  []apiColumn     `json:"columns"`
		Version  int             `json:"version"`
	}
	apiRetro struct {
		WentWell  string `json:"went_well"`
		ToImprove string `json:"to_improve"`
		Actions   string `json:"actions"`
	}
	apiSprint struct {
		ID              int64    `json:"id"`
		TeamID          int64    `json:"team_id"`
		Team            string   `json:"team"`
		Name            string   `json:"name"`
		Goal            string   `json:"goal"`
		Start           string   `json:"start"`
		End             string   `json:"end"`
		Status          string   `json:"status"`
		CommittedPoints int      `json:"committed_points"`
		CommittedCount  int      `json:"committed_count"`
		CompletedPoints int      `json:"completed_points"`
		CompletedCount  int      `json:"completed_count"`
		AddedPoints     int      `json:"added_points"`
		RemovedPoints   int      `json:"removed_points"`
		Retro           apiRetro `json:"retro"`
		StartedAt       *string  `json:"started_at"`
		ClosedAt        *string  `json:"closed_at"`
		Version         int      `json:"version"`
	}
	apiPlan struct {
		Sprint          apiSprint  `json:"sprint"`
		Stories         []apiStory `json:"stories"`
		Points          int        `json:"points"`
		Velocity        *float64   `json:"velocity"`
		VelocitySprints int        `json:"velocity_sprints"`
		Availability    float64    `json:"availability"`
		Capacity        *float64   `json:"capacity"`
		OverCapacity    bool       `json:"over_capacity"`
		Unestimated     []string   `json:"unestimated"`
		NotReady        []string   `json:"not_ready"`
	}
	apiFill struct {
		Added []string `json:"added"`
		Plan  apiPlan  `json:"plan"`
	}
	apiClosed struct {
		Sprint  apiSprint `json:"sprint"`
		Carried []string  `json:"carried"`
	}
	apiLane struct {
		ID        int64      `json:"id"`
		Name      string     `json:"name"`
		Status    string     `json:"status"`
		WIPLimit  *int       `json:"wip_limit"`
		Count     int        `json:"count"`
		OverLimit bool       `json:"over_limit"`
		Cards     []apiStory `json:"cards"`
	}
	apiBoard struct {
		Sprint  apiSprint `json:"sprint"`
		Team    apiTeam   `json:"team"`
		Columns []apiLane `json:"columns"`
	}
	apiChartPoint struct {
		Day   string  `json:"day"`
		Value float64 `json:"value"`
	}
	apiBurndown struct {
		Sprint       apiSprint       `json:"sprint"`
		Remaining    []apiChartPoint `json:"remaining"`
		Ideal        []apiChartPoint `json:"ideal"`
		Completed    []apiChartPoint `json:"completed"`
		Scope        []apiChartPoint `json:"scope"`
		ScopeChanges []apiChartPoint `json:"scope_changes"`
	}
	apiVelocityPoint struct {
		Sprint    string `json:"sprint"`
		SprintID  int64  `json:"sprint_id"`
		Committed int    `json:"committed"`
		Completed int    `json:"completed"`
	}
	apiFlowDay struct {
		Day    string         `json:"day"`
		Counts map[string]int `json:"counts"`
	}
)

// day returns the date n days from today (UTC), as the API writes it.
func day(n int) string {
	return time.Now().UTC().AddDate(0, 0, n).Format(northstar.DateLayout)
}

// createTeam creates a team working on the products through the API.
func (c *client) createTeam(t *testing.T, name string, products ...string) apiTeam {
	t.Helper()
	if products == nil {
		products = []string{}
	}
	return decodeAs[apiTeam](t, c.post(t, "/api/v1/teams", map[string]any{"name": name, "products": products}).want(t, http.StatusCreated))
}

// createSprint plans a two-week sprint starting today, or on the given day
// from today.
func (c *client) createSprint(t *testing.T, teamID int64, name string, from int) apiSprint {
	t.Helper()
	return decodeAs[apiSprint](t, c.post(t, fmt.Sprintf("/api/v1/teams/%d/sprints", teamID),
		map[string]string{"name": name, "start": day(from), "end": day(from + 13)}).want(t, http.StatusCreated))
}

// lane returns the board's first column for a status.
func (b apiBoard) lane(t *testing.T, status string) apiLane {
	t.Helper()
	for _, c := range b.Columns {
		if c.Status == status {
			return c
		}
	}
	t.Fatalf("the board has no %s column: %+v", status, b.Columns)
	return apiLane{}
}

// columnID returns the id of a team's first column for a status.
func (tm apiTeam) columnID(t *testing.T, status string) int64 {
	t.Helper()
	for _, c := range tm.Columns {
		if c.Status == status {
			return c.ID
		}
	}
	t.Fatalf("team %s has no %s column", tm.Name, status)
	return 0
}

func sprintPath(id int64, rest string) string { return fmt.Sprintf("/api/v1/sprints/%d%s", id, rest) }
func teamPath(id int64, rest string) string   { return fmt.Sprintf("/api/v1/teams/%d%s", id, rest) }

// The "done when", by API: create a team, plan a sprint to
// capacity from the backlog, start it, move cards across the board as a
// developer, accept stories as the product owner, close the sprint with
// one story carried over, and read the burndown and the velocity.
func TestSprintDoneWhen(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		// The ordered backlog: five ready stories and an unestimated one.
		for i, p := range []int{3, 5, 8, 2, 1} {
			tm.po.createStory(t, "BOOK", map[string]any{"title": fmt.Sprintf("Story %d", i+1), "persona": "shop owner", "want": "to count stock",
				"benefit": "I reorder in time", "points": p, "criteria": []string{"It counts", "It saves"}})
		}
		tm.po.createStory(t, "BOOK", "Unestimated idea")

		// The product owner sets the team up.
		res := tm.po.post(t, "/api/v1/teams", map[string]any{"name": "Shelf", "products": []string{"book"}}).want(t, http.StatusCreated)
		team := decodeAs[apiTeam](t, res)
		if loc := res.header.Get("Location"); loc != teamPath(team.ID, "") {
			t.Errorf("Location = %q", loc)
		}
		if res.header.Get("ETag") != `"1"` || !slices.Equal(team.Products, []string{"BOOK"}) || len(team.Columns) != 5 || len(team.Members) != 0 {
			t.Fatalf("new team = %+v, ETag %s", team, res.header.Get("ETag"))
		}
		var statuses []string
		for _, c := range team.Columns {
			statuses = append(statuses, c.Status)
		}
		if want := []string{"new", "ready", "in_progress", "in_review", "done"}; !slices.Equal(statuses, want) {
			t.Errorf("default columns %v, want %v", statuses, want)
		}
		tm.po.put(t, teamPath(team.ID, "/members/dev@example.com"), map[string]int{"capacity": 100}).want(t, http.StatusOK)
		team = decodeAs[apiTeam](t, tm.po.put(t, teamPath(team.ID, "/members/po@example.com"), map[string]int{"capacity": 100, "days_off": 1}).want(t, http.StatusOK))
		if len(team.Members) != 2 || team.Version != 3 {
			t.Errorf("team with members = %+v", team)
		}
		inProgress, inReview, done := team.columnID(t, "in_progress"), team.columnID(t, "in_review"), team.columnID(t, "done")
		team = decodeAs[apiTeam](t, tm.po.patch(t, teamPath(team.ID, fmt.Sprintf("/columns/%d", inProgress)), map[string]int{"wip_limit": 1}).want(t, http.StatusOK))

		// Sprint 1, planned to 16 points: the team has no velocity yet.
		res = tm.po.post(t, teamPath(team.ID, "/sprints"), map[string]string{"name": "Sprint 1", "goal": "Counting works", "start": day(0), "end": day(13)}).
			want(t, http.StatusCreated)
		s1 := decodeAs[apiSprint](t, res)
		if s1.Status != "planned" || s1.Team != "Shelf" || res.header.Get("Location") != sprintPath(s1.ID, "") {
			t.Errorf("new sprint = %+v", s1)
		}
		plan := decodeAs[apiPlan](t, tm.viewer.get(t, sprintPath(s1.ID, "/plan")).want(t, http.StatusOK))
		if plan.Velocity != nil || plan.Capacity != nil || len(plan.Stories) != 0 {
			t.Errorf("empty plan = %+v", plan)
		}
		tm.po.post(t, sprintPath(s1.ID, "/fill"), map[string]string{"product": "BOOK"}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "points")
		fill := decodeAs[apiFill](t, tm.po.post(t, sprintPath(s1.ID, "/fill"), map[string]any{"product": "BOOK", "points": 16}).want(t, http.StatusOK))
		if !slices.Equal(fill.Added, bookRefs(1, 2, 3)) || fill.Plan.Points != 16 || len(fill.Plan.Stories) != 3 {
			t.Errorf("filled %v to %d points", fill.Added, fill.Plan.Points)
		}
		// Dragging an unestimated story in shows the warnings; out again.
		plan = decodeAs[apiPlan](t, tm.po.post(t, sprintPath(s1.ID, "/stories"), map[string]any{"refs": []string{"BOOK-6"}}).want(t, http.StatusOK))
		if !slices.Equal(plan.Unestimated, bookRefs(6)) || !slices.Equal(plan.NotReady, bookRefs(6)) || plan.Points != 16 {
			t.Errorf("plan with an unestimated story: %+v", plan)
		}
		plan = decodeAs[apiPlan](t, tm.po.delete(t, sprintPath(s1.ID, "/stories/BOOK-6")).want(t, http.StatusOK))
		if len(plan.Stories) != 3 || len(plan.Unestimated) != 0 {
			t.Errorf("plan after taking BOOK-6 out: %v", refsOf(plan.Stories))
		}

		// Start: the commitment is recorded.
		s1 = decodeAs[apiSprint](t, tm.po.post(t, sprintPath(s1.ID, "/start"), nil).want(t, http.StatusOK))
		if s1.Status != "active" || s1.CommittedPoints != 16 || s1.CommittedCount != 3 || s1.StartedAt == nil {
			t.Errorf("started sprint = %+v", s1)
		}

		// The developer works the board.
		board := decodeAs[apiBoard](t, tm.dev.get(t, teamPath(team.ID, "/board")).want(t, http.StatusOK))
		if board.Sprint.ID != s1.ID || len(board.Columns) != 5 || !slices.Equal(refsOf(board.lane(t, "new").Cards), bookRefs(1, 2, 3)) {
			t.Fatalf("board = %+v", board)
		}
		move := func(ref string, column int64, where ...string) apiStory {
			t.Helper()
			body := map[string]any{"column": column}
			if len(where) == 2 {
				body[where[0]] = where[1]
			}
			return decodeAs[apiStory](t, tm.dev.post(t, sprintPath(s1.ID, "/cards/"+ref+"/move"), body).want(t, http.StatusOK))
		}
		if st := move("BOOK-1", inProgress); st.Status != "in_progress" {
			t.Errorf("moved to in progress: status %s", st.Status)
		}
		move("BOOK-2", inProgress, "before", "BOOK-1")
		board = decodeAs[apiBoard](t, tm.dev.get(t, teamPath(team.ID, "/board")).want(t, http.StatusOK))
		if lane := board.lane(t, "in_progress"); !slices.Equal(refsOf(lane.Cards), bookRefs(2, 1)) || !lane.OverLimit || lane.Count != 2 {
			t.Errorf("in progress: %v over=%v count=%d", refsOf(lane.Cards), lane.OverLimit, lane.Count)
		}
		move("BOOK-1", inReview)
		move("BOOK-1", done)
		move("BOOK-2", done, "after", "BOOK-1")
		move("BOOK-3", inProgress)
		tm.dev.patch(t, "/api/v1/stories/BOOK-3", map[string]string{"assignee": "dev@example.com"}).want(t, http.StatusOK)
		// Scope added mid-sprint, and finished.
		tm.po.post(t, sprintPath(s1.ID, "/stories"), map[string]any{"refs": []string{"BOOK-4"}}).want(t, http.StatusOK)
		move("BOOK-4", done)
		board = decodeAs[apiBoard](t, tm.dev.get(t, teamPath(team.ID, "/board")).want(t, http.StatusOK))
		if lane := board.lane(t, "done"); !slices.Equal(refsOf(lane.Cards), bookRefs(1, 2, 4)) {
			t.Errorf("done column: %v", refsOf(lane.Cards))
		}
		if lane := board.lane(t, "in_progress"); !slices.Equal(refsOf(lane.Cards), bookRefs(3)) || lane.OverLimit {
			t.Errorf("in progress: %v over=%v", refsOf(lane.Cards), lane.OverLimit)
		}
		// Filtered by assignee: the columns stay, with only their cards.
		board = decodeAs[apiBoard](t, tm.dev.get(t, teamPath(team.ID, "/board?assignee=DEV@example.com")).want(t, http.StatusOK))
		if len(board.Columns) != 5 || !slices.Equal(refsOf(board.lane(t, "in_progress").Cards), bookRefs(3)) || len(board.lane(t, "done").Cards) != 0 || board.lane(t, "done").Count != 3 {
			t.Errorf("board for dev@example.com: %+v", board.Columns)
		}
		board = decodeAs[apiBoard](t, tm.dev.get(t, teamPath(team.ID, "/board?assignee=none")).want(t, http.StatusOK))
		if len(board.lane(t, "in_progress").Cards) != 0 || len(board.lane(t, "done").Cards) != 3 {
			t.Errorf("board for the unassigned: %+v", board.Columns)
		}

		// The review: the product owner accepts what meets its criteria.
		for _, ref := range bookRefs(1, 2, 4) {
			st := tm.po.getStory(t, ref)
			for _, c := range st.Criteria {
				tm.dev.patch(t, fmt.Sprintf("/api/v1/stories/%s/criteria/%d", ref, c.ID), map[string]bool{"met": true}).want(t, http.StatusOK)
			}
			tm.dev.patch(t, "/api/v1/stories/"+ref, map[string]bool{"accepted": true}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
			if st = decodeAs[apiStory](t, tm.po.patch(t, "/api/v1/stories/"+ref, map[string]bool{"accepted": true}).want(t, http.StatusOK)); !st.Accepted || st.Status != "done" {
				t.Errorf("accepted %s = %+v", ref, st)
			}
		}
		tm.po.patch(t, "/api/v1/stories/BOOK-3", map[string]bool{"accepted": true}).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "accepted")

		// Retrospective notes as the sprint runs, then the close: BOOK-3
		// is carried into the next sprint, created for it.
		res = tm.po.get(t, sprintPath(s1.ID, "")).want(t, http.StatusOK)
		tm.po.patch(t, sprintPath(s1.ID, ""), map[string]any{"retro": map[string]string{"went_well": "Pairing"}}, "If-Match", res.header.Get("ETag")).
			want(t, http.StatusOK)
		closed := decodeAs[apiClosed](t, tm.po.post(t, sprintPath(s1.ID, "/close"), map[string]any{"carry": "next",
			"retro": map[string]string{"went_well": "Pairing", "to_improve": "Estimates", "actions": "Refine on Tuesdays"}}).want(t, http.StatusOK))
		s1 = closed.Sprint
		if !slices.Equal(closed.Carried, bookRefs(3)) {
			t.Errorf("carried %v, want [BOOK-3]", closed.Carried)
		}
		if s1.Status != "closed" || s1.CommittedPoints != 16 || s1.CompletedPoints != 10 || s1.CompletedCount != 3 || s1.AddedPoints != 2 ||
			s1.RemovedPoints != 0 || s1.ClosedAt == nil || s1.Retro.Actions != "Refine on Tuesdays" {
			t.Errorf("closed sprint = %+v", s1)
		}
		tm.dev.get(t, teamPath(team.ID, "/board")).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")

		// The charts.
		bd := decodeAs[apiBurndown](t, tm.viewer.get(t, sprintPath(s1.ID, "/burndown")).want(t, http.StatusOK))
		if len(bd.Ideal) != 14 || bd.Ideal[0].Value != 16 || bd.Ideal[13].Value != 0 || bd.Ideal[0].Day != day(0) {
			t.Errorf("ideal line: %+v", bd.Ideal)
		}
		if len(bd.Remaining) != 1 || bd.Scope[0].Value != 18 || bd.Completed[0].Value != 10 || bd.Remaining[0].Value != 8 || bd.Remaining[0].Day != day(0) {
			t.Errorf("burndown: scope %v completed %v remaining %v", bd.Scope, bd.Completed, bd.Remaining)
		}
		vel := list[apiVelocityPoint](t, tm.viewer, teamPath(team.ID, "/velocity"))
		if len(vel) != 1 || vel[0] != (apiVelocityPoint{Sprint: "Sprint 1", SprintID: s1.ID, Committed: 16, Completed: 10}) {
			t.Errorf("velocity = %+v", vel)
		}
		flow := list[apiFlowDay](t, tm.viewer, teamPath(team.ID, "/flow?days=7"))
		if len(flow) != 7 || flow[6].Day != day(0) || flow[0].Day != day(-6) {
			t.Fatalf("flow: %+v", flow)
		}
		if c := flow[6].Counts; c["done"] != 3 || c["in_progress"] != 1 || c["new"] != 0 || len(c) != 5 {
			t.Errorf("flow today: %v", c)
		}
		if n := len(list[apiFlowDay](t, tm.viewer, teamPath(team.ID, "/flow"))); n != 14 {
			t.Errorf("flow without days: %d days, want 14", n)
		}

		// The next sprint, planned to capacity: velocity 10 × availability
		// (10 + 9 of 20 working days) = 9.5 points; BOOK-3 has 8, and
		// BOOK-5 (1) fits.
		sprints := list[apiSprint](t, tm.viewer, teamPath(team.ID, "/sprints"))
		if len(sprints) != 2 || sprints[1].ID != s1.ID || sprints[0].Status != "planned" || sprints[0].Name != "Sprint 2" || sprints[0].Start != day(14) {
			t.Fatalf("sprints = %+v", sprints)
		}
		s2 := sprints[0]
		fill = decodeAs[apiFill](t, tm.po.post(t, sprintPath(s2.ID, "/fill"), map[string]string{"product": "BOOK"}).want(t, http.StatusOK))
		p := fill.Plan
		if !slices.Equal(fill.Added, bookRefs(5)) || !slices.Equal(refsOf(p.Stories), bookRefs(3, 5)) || p.Points != 9 {
			t.Errorf("sprint 2 filled %v: %v, %d points", fill.Added, refsOf(p.Stories), p.Points)
		}
		if p.Velocity == nil || *p.Velocity != 10 || p.VelocitySprints != 1 || !near(p.Availability, 0.95) || p.Capacity == nil || !near(*p.Capacity, 9.5) || p.OverCapacity {
			t.Errorf("sprint 2 plan: velocity %v over %d, availability %v, capacity %v, over %v", p.Velocity, p.VelocitySprints, p.Availability, p.Capacity, p.OverCapacity)
		}
	})
}

// The Scrum permission matrix through the API: every new action against
// every role. Planning (teams, members, columns, sprints) is for admins,
// product managers and product owners of the team's products; moving cards
// for developers too; reading for every role. A member without the right
// gets 403 and nothing is written; someone who can read none of the team's
// products learns nothing (404), or gets 403 for creating a team.
func TestSprintPermissions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		everyone := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer}
		signedIn := append(slices.Clone(everyone), tm.outsider)
		planners := []*client{tm.admin, tm.pm, tm.po}
		workers := []*client{tm.admin, tm.pm, tm.po, tm.dev}

		// target holds what an action works on, created fresh for each
		// caller of a write: a team of its own, and whatever else the
		// action needs.
		type target map[string]string
		actions := []struct {
			name   string
			method string
			path   string // {name} is replaced by the target's values
			body   func(tg target) any
			// needs: "sprint" (planned, with a story), "active" (started,
			// with a story on the board), "story" (in the backlog),
			// "member" (dev@example.com in the team).
			needs    []string
			allowed  []*client
			outsider int // 404 when 0
		}{
			{name: "list teams", method: "GET", path: "/api/v1/teams", allowed: signedIn},
			{name: "read team", method: "GET", path: "/api/v1/teams/{team}", allowed: everyone},
			{name: "list sprints", method: "GET", path: "/api/v1/teams/{team}/sprints", needs: []string{"sprint"}, allowed: everyone},
			{name: "read board", method: "GET", path: "/api/v1/teams/{team}/board", needs: []string{"active"}, allowed: everyone},
			{name: "read velocity", method: "GET", path: "/api/v1/teams/{team}/velocity", allowed: everyone},
			{name: "read flow", method: "GET", path: "/api/v1/teams/{team}/flow?days=3", allowed: everyone},
			{name: "read sprint", method: "GET", path: "/api/v1/sprints/{sprint}", needs: []string{"sprint"}, allowed: everyone},
			{name: "read plan", method: "GET", path: "/api/v1/sprints/{sprint}/plan", needs: []string{"sprint"}, allowed: everyone},
			{name: "read burndown", method: "GET", path: "/api/v1/sprints/{active}/burndown", needs: []string{"active"}, allowed: everyone},

			{name: "create team", method: "POST", path: "/api/v1/teams", body: func(tg target) any {
				return map[string]any{"name": "New " + tg["n"], "products": []string{"BOOK"}}
			}, allowed: planners, outsider: http.StatusForbidden},
			{name: "rename team", method: "PATCH", path: "/api/v1/teams/{team}", body: func(tg target) any { return map[string]string{"name": "Renamed " + tg["n"]} }, allowed: planners},
			{name: "delete team", method: "DELETE", path: "/api/v1/teams/{team}", needs: []string{"sprint"}, allowed: planners},
			{name: "set member", method: "PUT", path: "/api/v1/teams/{team}/members/viewer@example.com", body: func(target) any { return map[string]int{"capacity": 80} }, allowed: planners},
			{name: "remove member", method: "DELETE", path: "/api/v1/teams/{team}/members/dev@example.com", needs: []string{"member"}, allowed: planners},
			{name: "add column", method: "POST", path: "/api/v1/teams/{team}/columns", body: func(target) any { return map[string]string{"name": "Blocked", "status": "in_progress"} }, allowed: planners},
			{name: "change column", method: "PATCH", path: "/api/v1/teams/{team}/columns/{column}", body: func(target) any { return map[string]int{"wip_limit": 3} }, allowed: planners},
			{name: "delete column", method: "DELETE", path: "/api/v1/teams/{team}/columns/{column}", allowed: planners},
			{name: "order columns", method: "PUT", path: "/api/v1/teams/{team}/columns", body: func(tg target) any {
				var ids []int64
				json.Unmarshal([]byte(tg["columns"]), &ids)
				slices.Reverse(ids)
				return map[string][]int64{"columns": ids}
			}, allowed: planners},
			{name: "create sprint", method: "POST", path: "/api/v1/teams/{team}/sprints", body: func(target) any {
				return map[string]string{"name": "Next", "start": day(0), "end": day(13)}
			}, allowed: planners},
			{name: "change sprint", method: "PATCH", path: "/api/v1/sprints/{sprint}", body: func(target) any {
				return map[string]any{"goal": "Sharper", "retro": map[string]string{"actions": "More pairing"}}
			}, needs: []string{"sprint"}, allowed: planners},
			{name: "add to sprint", method: "POST", path: "/api/v1/sprints/{sprint}/stories", body: func(tg target) any { return map[string][]string{"refs": {tg["story"]}} },
				needs: []string{"sprint", "story"}, allowed: planners},
			{name: "remove from sprint", method: "DELETE", path: "/api/v1/sprints/{sprint}/stories/{ref}", needs: []string{"sprint"}, allowed: planners},
			{name: "fill sprint", method: "POST", path: "/api/v1/sprints/{sprint}/fill", body: func(target) any { return map[string]any{"product": "BOOK", "points": 3} },
				needs: []string{"sprint", "story"}, allowed: planners},
			{name: "start sprint", method: "POST", path: "/api/v1/sprints/{sprint}/start", needs: []string{"sprint"}, allowed: planners},
			{name: "close sprint", method: "POST", path: "/api/v1/sprints/{active}/close", body: func(target) any { return map[string]string{"carry": "backlog"} },
				needs: []string{"active"}, allowed: planners},
			{name: "move card", method: "POST", path: "/api/v1/sprints/{active}/cards/{card}/move", body: func(tg target) any {
				id, _ := strconv.ParseInt(tg["column"], 10, 64)
				return map[string]any{"column": id}
			}, needs: []string{"active"}, allowed: workers},
		}

		seeded := 0
		story := func(t *testing.T) string {
			t.Helper()
			return tm.po.createStory(t, "BOOK", map[string]any{"title": "Story", "points": 2}).Ref
		}
		seed := func(t *testing.T, needs []string) target {
			t.Helper()
			seeded++
			tg := target{"n": fmt.Sprint(seeded)}
			team := tm.po.createTeam(t, "Team "+tg["n"], "BOOK")
			tg["team"] = fmt.Sprint(team.ID)
			tg["column"] = fmt.Sprint(team.columnID(t, "in_progress"))
			ids := make([]int64, len(team.Columns))
			for i, c := range team.Columns {
				ids[i] = c.ID
			}
			b, _ := json.Marshal(ids)
			tg["columns"] = string(b)
			for _, need := range needs {
				switch need {
				case "sprint", "active":
					s := tm.po.createSprint(t, team.ID, "Sprint "+tg["n"], 0)
					ref := story(t)
					tm.po.post(t, sprintPath(s.ID, "/stories"), map[string][]string{"refs": {ref}}).want(t, http.StatusOK)
					tg["sprint"], tg["ref"] = fmt.Sprint(s.ID), ref
					if need == "active" {
						tm.po.post(t, sprintPath(s.ID, "/start"), nil).want(t, http.StatusOK)
						tg["active"], tg["card"] = tg["sprint"], ref
					}
				case "story":
					tg["story"] = story(t)
				case "member":
					tm.po.put(t, teamPath(team.ID, "/members/dev@example.com"), map[string]int{"capacity": 50}).want(t, http.StatusOK)
				default:
					t.Fatalf("unknown need %q", need)
				}
			}
			return tg
		}
		fill := func(s string, tg target) string {
			for k, v := range tg {
				s = strings.ReplaceAll(s, "{"+k+"}", v)
			}
			return s
		}

		callers := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer, tm.outsider}
		for _, a := range actions {
			var shared target
			if a.method == "GET" {
				shared = seed(t, a.needs) // reading changes nothing: one target for all
			}
			for _, who := range callers {
				tg := shared
				if tg == nil {
					tg = seed(t, a.needs)
				}
				path := fill(a.path, tg)
				var body any
				if a.body != nil {
					body = a.body(tg)
				}
				t.Run(a.name+"/"+who.name, func(t *testing.T) {
					if slices.Contains(a.allowed, who) {
						res := who.do(t, a.method, path, body)
						if res.status != http.StatusOK && res.status != http.StatusCreated && res.status != http.StatusNoContent {
							t.Errorf("%s: got %d, want success; body: %s", res.req, res.status, short(res.body))
						}
						return
					}
					want := http.StatusForbidden
					if who == tm.outsider {
						want = cmp.Or(a.outsider, http.StatusNotFound)
					}
					before := e.snapshot(t)
					res := who.do(t, a.method, path, body)
					res.wantError(t, want, map[int]string{403: northstar.EFORBIDDEN, 404: northstar.ENOTFOUND}[want], "")
					e.wantUnchanged(t, before, "a refused "+a.name)
				})
			}
		}

		// Someone who can read none of a team's products does not see it
		// in the list either; the others see the teams of their products.
		if teams := list[apiTeam](t, tm.outsider, "/api/v1/teams?limit=200"); len(teams) != 0 {
			t.Errorf("the outsider lists %d teams, want none", len(teams))
		}
		all := list[apiTeam](t, tm.viewer, "/api/v1/teams?limit=200")
		if len(all) == 0 || len(all) != len(list[apiTeam](t, tm.admin, "/api/v1/teams?limit=200")) {
			t.Errorf("the viewer lists %d teams", len(all))
		}
		// A team member who holds no role in its products is refused, not
		// kept in the dark.
		team := tm.po.createTeam(t, "With outsider", "BOOK")
		tm.po.put(t, teamPath(team.ID, "/members/outsider@example.com"), map[string]int{"capacity": 100}).want(t, http.StatusOK)
		if teams := list[apiTeam](t, tm.outsider, "/api/v1/teams"); len(teams) != 1 || teams[0].ID != team.ID || len(teams[0].Products) != 0 {
			t.Errorf("a member lists %+v", teams)
		}
		tm.outsider.get(t, teamPath(team.ID, "")).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")

		// The keys of products a reader cannot see are left out, and stay
		// when someone who cannot see them renames the team.
		tm.admin.createProduct(t, "SECRET", "Secret")
		team = decodeAs[apiTeam](t, tm.admin.patch(t, teamPath(team.ID, ""), map[string]any{"products": []string{"BOOK", "SECRET"}}).want(t, http.StatusOK))
		if !slices.Equal(team.Products, []string{"BOOK", "SECRET"}) {
			t.Fatalf("admin's team products = %v", team.Products)
		}
		if got := decodeAs[apiTeam](t, tm.po.get(t, teamPath(team.ID, "")).want(t, http.StatusOK)); !slices.Equal(got.Products, []string{"BOOK"}) {
			t.Errorf("the PO sees products %v", got.Products)
		}
		tm.po.patch(t, teamPath(team.ID, ""), map[string]string{"name": "Renamed by PO"}).want(t, http.StatusOK)
		s := tm.po.createSprint(t, team.ID, "Secretive", 0)
		tm.po.post(t, sprintPath(s.ID, "/start"), nil).want(t, http.StatusOK)
		if b := decodeAs[apiBoard](t, tm.viewer.get(t, teamPath(team.ID, "/board")).want(t, http.StatusOK)); !slices.Equal(b.Team.Products, []string{"BOOK"}) {
			t.Errorf("the viewer's board shows products %v", b.Team.Products)
		}
		if got := decodeAs[apiTeam](t, tm.admin.get(t, teamPath(team.ID, "")).want(t, http.StatusOK)); got.Name != "Renamed by PO" || !slices.Equal(got.Products, []string{"BOOK", "SECRET"}) {
			t.Errorf("after the PO's rename: %+v", got)
		}
		// A retired product's cards do not move.
		ref := story(t)
		tm.po.post(t, sprintPath(s.ID, "/stories"), map[string][]string{"refs": {ref}}).want(t, http.StatusOK)
		tm.pm.changeStage(t, "BOOK", "retired", "")
		before := e.snapshot(t)
		tm.dev.post(t, sprintPath(s.ID, "/cards/"+ref+"/move"), map[string]int64{"column": team.columnID(t, "done")}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		e.wantUnchanged(t, before, "moving a retired product's card")
	})
}

// Bad input to the Scrum API, the list first: a 4xx with a message
// that names the field where there is one, and nothing written.
func TestSprintBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
		for i := range 4 {
			tm.po.createStory(t, "BOOK", map[string]any{"title": fmt.Sprintf("Story %d", i+1), "points": 3})
		}
		elsewhere := tm.po.createStory(t, "EBOOK", map[string]any{"title": "Elsewhere", "points": 1})

		// Shelf: an active sprint with BOOK-1 on its board and a planned
		// one with BOOK-2. Spare: a closed sprint and no active one.
		shelf := tm.po.createTeam(t, "Shelf", "BOOK")
		active := tm.po.createSprint(t, shelf.ID, "Sprint 1", 0)
		tm.po.post(t, sprintPath(active.ID, "/stories"), map[string][]string{"refs": {"BOOK-1"}}).want(t, http.StatusOK)
		tm.po.post(t, sprintPath(active.ID, "/start"), nil).want(t, http.StatusOK)
		planned := tm.po.createSprint(t, shelf.ID, "Sprint 2", 14)
		tm.po.post(t, sprintPath(planned.ID, "/stories"), map[string][]string{"refs": {"BOOK-2"}}).want(t, http.StatusOK)
		spare := tm.po.createTeam(t, "Spare", "BOOK")
		closed := tm.po.createSprint(t, spare.ID, "Old", -14)
		tm.po.post(t, sprintPath(closed.ID, "/start"), nil).want(t, http.StatusOK)
		tm.po.post(t, sprintPath(closed.ID, "/close"), map[string]string{"carry": "backlog"}).want(t, http.StatusOK)
		fresh := tm.po.createTeam(t, "Fresh", "BOOK")
		unplanned := tm.po.createSprint(t, fresh.ID, "First", 0)

		shelfPath := teamPath(shelf.ID, "")
		activePath, plannedPath := sprintPath(active.ID, ""), sprintPath(planned.ID, "")
		column := func(id int64) string { return fmt.Sprintf("%s/columns/%d", shelfPath, id) }
		inProgress := shelf.columnID(t, "in_progress")
		cases := []struct {
			name         string
			method, path string
			body         any
			header       []string
			status       int
			code, field  string
		}{
			// The list.
			{"two active sprints", "POST", plannedPath + "/start", nil, nil, 422, northstar.EUNPROCESSABLE, ""},
			{"end before start", "POST", shelfPath + "/sprints", map[string]string{"name": "x", "start": day(10), "end": day(3)}, nil, 400, northstar.EINVALID, "end"},
			{"end on the start", "POST", shelfPath + "/sprints", map[string]string{"name": "x", "start": day(3), "end": day(3)}, nil, 400, northstar.EINVALID, "end"},
			{"end moved before start", "PATCH", plannedPath, map[string]string{"end": day(1)}, nil, 400, northstar.EINVALID, "end"},
			{"story of a product the team does not work on", "POST", plannedPath + "/stories", map[string][]string{"refs": {"BOOK-3", elsewhere.Ref}}, nil, 422, northstar.EUNPROCESSABLE, "refs[1]"},
			{"closing a planned sprint", "POST", plannedPath + "/close", map[string]string{"carry": "backlog"}, nil, 422, northstar.EUNPROCESSABLE, ""},
			{"closing a closed sprint", "POST", sprintPath(closed.ID, "/close"), map[string]string{"carry": "next"}, nil, 422, northstar.EUNPROCESSABLE, ""},
			{"moving to a column that does not exist", "POST", activePath + "/cards/BOOK-1/move", map[string]int{"column": 999999}, nil, 404, northstar.ENOTFOUND, "column"},
			{"moving to another team's column", "POST", activePath + "/cards/BOOK-1/move", map[string]int64{"column": spare.columnID(t, "done")}, nil, 404, northstar.ENOTFOUND, "column"},
			// Teams.
			{"team without a name", "POST", "/api/v1/teams", map[string]any{"products": []string{"BOOK"}}, nil, 400, northstar.EINVALID, "name"},
			{"team name too long", "POST", "/api/v1/teams", map[string]string{"name": long(101)}, nil, 400, northstar.EINVALID, "name"},
			{"team name twice", "POST", "/api/v1/teams", map[string]string{"name": "Shelf"}, nil, 409, northstar.ECONFLICT, "name"},
			{"team renamed to another's name", "PATCH", shelfPath, map[string]string{"name": "Spare"}, nil, 409, northstar.ECONFLICT, "name"},
			{"team of an unknown product", "POST", "/api/v1/teams", map[string]any{"name": "x", "products": []string{"BOOK", "NOPE"}}, nil, 404, northstar.ENOTFOUND, "products"},
			{"team of a malformed product key", "POST", "/api/v1/teams", map[string]any{"name": "x", "products": []string{"book inventory"}}, nil, 400, northstar.EINVALID, "products"},
			{"team products not a list", "POST", "/api/v1/teams", map[string]any{"name": "x", "products": "BOOK"}, nil, 400, northstar.EINVALID, "products"},
			{"team with an id", "POST", "/api/v1/teams", map[string]any{"name": "x", "id": 3}, nil, 400, northstar.EINVALID, "id"},
			{"empty team change", "PATCH", shelfPath, map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"team emptied of its name", "PATCH", shelfPath, map[string]string{"name": " "}, nil, 400, northstar.EINVALID, "name"},
			{"stale team", "PATCH", shelfPath, map[string]string{"name": "x"}, []string{"If-Match", `"99"`}, 409, northstar.ECONFLICT, ""},
			{"malformed If-Match", "PATCH", shelfPath, map[string]string{"name": "x"}, []string{"If-Match", "seven"}, 400, northstar.EINVALID, "If-Match"},
			{"team id not a number", "GET", "/api/v1/teams/shelf", nil, nil, 400, northstar.EINVALID, "id"},
			{"unknown team", "GET", "/api/v1/teams/999999", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"delete an unknown team", "DELETE", "/api/v1/teams/999999", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"team list over 200", "GET", "/api/v1/teams?limit=201", nil, nil, 400, northstar.EINVALID, "limit"},
			// Members.
			{"capacity over 100", "PUT", shelfPath + "/members/dev@example.com", map[string]int{"capacity": 120}, nil, 400, northstar.EINVALID, "capacity"},
			{"negative capacity", "PUT", shelfPath + "/members/dev@example.com", map[string]int{"capacity": -1}, nil, 400, northstar.EINVALID, "capacity"},
			{"capacity a string", "PUT", shelfPath + "/members/dev@example.com", map[string]string{"capacity": "half"}, nil, 400, northstar.EINVALID, "capacity"},
			{"negative days off", "PUT", shelfPath + "/members/dev@example.com", map[string]int{"days_off": -2}, nil, 400, northstar.EINVALID, "days_off"},
			{"member without an account", "PUT", shelfPath + "/members/ghost@example.com", map[string]int{"capacity": 50}, nil, 400, northstar.EINVALID, "email"},
			{"NUL in a member", "PUT", shelfPath + "/members/dev%00@example.com", map[string]int{"capacity": 50}, nil, 400, northstar.EINVALID, "email"},
			{"removing a non-member", "DELETE", shelfPath + "/members/viewer@example.com", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"removing a NUL member", "DELETE", shelfPath + "/members/dev%00@example.com", nil, nil, 404, northstar.ENOTFOUND, ""},
			// Columns.
			{"column without a status", "POST", shelfPath + "/columns", map[string]string{"name": "Blocked"}, nil, 400, northstar.EINVALID, "status"},
			{"column of an unknown status", "POST", shelfPath + "/columns", map[string]string{"name": "Blocked", "status": "blocked"}, nil, 400, northstar.EINVALID, "status"},
			{"column without a name", "POST", shelfPath + "/columns", map[string]string{"status": "new"}, nil, 400, northstar.EINVALID, "name"},
			{"WIP limit zero", "PATCH", column(inProgress), map[string]int{"wip_limit": 0}, nil, 400, northstar.EINVALID, "wip_limit"},
			{"WIP limit a string", "PATCH", column(inProgress), map[string]string{"wip_limit": "three"}, nil, 400, northstar.EINVALID, "wip_limit"},
			{"empty column change", "PATCH", column(inProgress), map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"unknown column", "PATCH", column(999999), map[string]string{"name": "x"}, nil, 404, northstar.ENOTFOUND, ""},
			{"another team's column", "DELETE", column(spare.columnID(t, "new")), nil, nil, 404, northstar.ENOTFOUND, ""},
			{"column id not a number", "PATCH", shelfPath + "/columns/first", map[string]string{"name": "x"}, nil, 400, northstar.EINVALID, "column"},
			{"columns ordered without one", "PUT", shelfPath + "/columns", map[string][]int64{"columns": {shelf.Columns[0].ID, shelf.Columns[1].ID}}, nil, 400, northstar.EINVALID, "columns"},
			{"columns ordered twice over", "PUT", shelfPath + "/columns", map[string][]int64{"columns": {inProgress, inProgress, inProgress, inProgress, inProgress}}, nil, 400, northstar.EINVALID, "columns"},
			{"no columns ordered", "PUT", shelfPath + "/columns", map[string]any{}, nil, 400, northstar.EINVALID, "columns"},
			// Sprints.
			{"sprint without a name", "POST", shelfPath + "/sprints", map[string]string{"start": day(0), "end": day(13)}, nil, 400, northstar.EINVALID, "name"},
			{"sprint without a start", "POST", shelfPath + "/sprints", map[string]string{"name": "x", "end": day(13)}, nil, 400, northstar.EINVALID, "start"},
			{"sprint with a malformed end", "POST", shelfPath + "/sprints", map[string]string{"name": "x", "start": day(0), "end": "next Friday"}, nil, 400, northstar.EINVALID, "end"},
			{"sprint of four months", "POST", shelfPath + "/sprints", map[string]string{"name": "x", "start": day(0), "end": day(120)}, nil, 400, northstar.EINVALID, "end"},
			{"sprint goal too long", "POST", shelfPath + "/sprints", map[string]string{"name": "x", "goal": long(2001), "start": day(0), "end": day(13)}, nil, 400, northstar.EINVALID, "goal"},
			{"sprint for an unknown team", "POST", "/api/v1/teams/999999/sprints", map[string]string{"name": "x", "start": day(0), "end": day(13)}, nil, 404, northstar.ENOTFOUND, ""},
			{"retro too long", "PATCH", activePath, map[string]any{"retro": map[string]string{"to_improve": long(10001)}}, nil, 400, northstar.EINVALID, "to_improve"},
			{"empty retro change", "PATCH", activePath, map[string]any{"retro": map[string]string{}}, nil, 400, northstar.EINVALID, "retro"},
			{"empty sprint change", "PATCH", activePath, map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"status in a sprint change", "PATCH", activePath, map[string]string{"status": "closed"}, nil, 400, northstar.EINVALID, "status"},
			{"stale sprint", "PATCH", activePath, map[string]string{"goal": "x"}, []string{"If-Match", `"42"`}, 409, northstar.ECONFLICT, ""},
			{"a closed sprint's dates", "PATCH", sprintPath(closed.ID, ""), map[string]string{"start": day(-15)}, nil, 422, northstar.EUNPROCESSABLE, "start"},
			{"unknown sprint", "GET", "/api/v1/sprints/999999/plan", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"sprint id zero", "GET", "/api/v1/sprints/0", nil, nil, 400, northstar.EINVALID, "id"},
			{"sprint list cursor made up", "GET", shelfPath + "/sprints?cursor=" + encodeTestCursor("yesterday"), nil, nil, 400, northstar.EINVALID, "cursor"},
			// Planning.
			{"adding nothing", "POST", plannedPath + "/stories", map[string][]string{"refs": {}}, nil, 400, northstar.EINVALID, "refs"},
			{"adding 501 stories", "POST", plannedPath + "/stories", map[string][]string{"refs": slices.Repeat([]string{"BOOK-3"}, 501)}, nil, 400, northstar.EINVALID, "refs"},
			{"adding an unknown story", "POST", plannedPath + "/stories", map[string][]string{"refs": {"BOOK-99"}}, nil, 404, northstar.ENOTFOUND, "refs[0]"},
			{"adding a story of another open sprint", "POST", plannedPath + "/stories", map[string][]string{"refs": {"BOOK-3", "BOOK-1"}}, nil, 422, northstar.EUNPROCESSABLE, "refs[1]"},
			{"adding to a closed sprint", "POST", sprintPath(closed.ID, "/stories"), map[string][]string{"refs": {"BOOK-3"}}, nil, 422, northstar.EUNPROCESSABLE, ""},
			{"removing a story not in the sprint", "DELETE", plannedPath + "/stories/BOOK-3", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"filling without a product", "POST", plannedPath + "/fill", map[string]int{"points": 5}, nil, 400, northstar.EINVALID, "product"},
			{"filling from a product the team does not work on", "POST", plannedPath + "/fill", map[string]any{"product": "EBOOK", "points": 5}, nil, 422, northstar.EUNPROCESSABLE, "product"},
			{"filling to zero points", "POST", plannedPath + "/fill", map[string]any{"product": "BOOK", "points": 0}, nil, 400, northstar.EINVALID, "points"},
			{"filling without a velocity", "POST", sprintPath(unplanned.ID, "/fill"), map[string]string{"product": "BOOK"}, nil, 400, northstar.EINVALID, "points"},
			{"filling the active sprint", "POST", activePath + "/fill", map[string]any{"product": "BOOK", "points": 5}, nil, 422, northstar.EUNPROCESSABLE, ""},
			{"starting the active sprint", "POST", activePath + "/start", nil, nil, 422, northstar.EUNPROCESSABLE, ""},
			{"closing without saying where", "POST", activePath + "/close", map[string]any{}, nil, 400, northstar.EINVALID, "carry"},
			{"closing to nowhere", "POST", activePath + "/close", map[string]string{"carry": "later"}, nil, 400, northstar.EINVALID, "carry"},
			{"closing with a retro too long", "POST", activePath + "/close", map[string]any{"carry": "backlog", "retro": map[string]string{"actions": long(10001)}}, nil, 400, northstar.EINVALID, "actions"},
			// The board.
			{"moving without a column", "POST", activePath + "/cards/BOOK-1/move", map[string]string{"before": "BOOK-2"}, nil, 400, northstar.EINVALID, "column"},
			{"moving before and after", "POST", activePath + "/cards/BOOK-1/move", map[string]any{"column": inProgress, "before": "BOOK-2", "after": "BOOK-3"}, nil, 400, northstar.EINVALID, "after"},
			{"moving before a card not on the board", "POST", activePath + "/cards/BOOK-1/move", map[string]any{"column": inProgress, "before": "BOOK-2"}, nil, 400, northstar.EINVALID, "before"},
			{"moving before an unknown card", "POST", activePath + "/cards/BOOK-1/move", map[string]any{"column": inProgress, "after": "BOOK-99"}, nil, 404, northstar.ENOTFOUND, "after"},
			{"moving a card not on the board", "POST", activePath + "/cards/BOOK-3/move", map[string]int64{"column": inProgress}, nil, 404, northstar.ENOTFOUND, ""},
			{"moving a card of a planned sprint", "POST", plannedPath + "/cards/BOOK-2/move", map[string]int64{"column": inProgress}, nil, 422, northstar.EUNPROCESSABLE, ""},
			{"moving a malformed ref", "POST", activePath + "/cards/first/move", map[string]int64{"column": inProgress}, nil, 404, northstar.ENOTFOUND, ""},
			{"column a string", "POST", activePath + "/cards/BOOK-1/move", map[string]string{"column": "Done"}, nil, 400, northstar.EINVALID, "column"},
			{"board of a team without an active sprint", "GET", teamPath(spare.ID, "/board"), nil, nil, 404, northstar.ENOTFOUND, ""},
			{"board for a NUL assignee", "GET", shelfPath + "/board?assignee=a%00b", nil, nil, 400, northstar.EINVALID, "assignee"},
			// Charts.
			{"flow of no days", "GET", shelfPath + "/flow?days=0", nil, nil, 400, northstar.EINVALID, "days"},
			{"flow of 91 days", "GET", shelfPath + "/flow?days=91", nil, nil, 400, northstar.EINVALID, "days"},
			{"flow of some days", "GET", shelfPath + "/flow?days=some", nil, nil, 400, northstar.EINVALID, "days"},
			{"burndown of an unknown sprint", "GET", "/api/v1/sprints/999999/burndown", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"velocity of an unknown team", "GET", "/api/v1/teams/999999/velocity", nil, nil, 404, northstar.ENOTFOUND, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := tm.pm.do(t, tc.method, tc.path, tc.body, tc.header...)
				if res.status < 400 || res.status >= 500 {
					t.Fatalf("%s: got %d, want a 4xx; body: %s", res.req, res.status, short(res.body))
				}
				res.wantError(t, tc.status, tc.code, tc.field)
				e.wantUnchanged(t, before, tc.name)
			})
		}

		// What the refusals left: one active sprint, the planned one with
		// only BOOK-2, BOOK-1 where it was.
		if s := decodeAs[apiSprint](t, tm.pm.get(t, plannedPath).want(t, http.StatusOK)); s.Status != "planned" || s.Version != planned.Version || s.End != planned.End {
			t.Errorf("planned sprint after the refusals: %+v", s)
		}
		if p := decodeAs[apiPlan](t, tm.pm.get(t, plannedPath+"/plan").want(t, http.StatusOK)); !slices.Equal(refsOf(p.Stories), bookRefs(2)) {
			t.Errorf("planned sprint holds %v", refsOf(p.Stories))
		}
		if b := decodeAs[apiBoard](t, tm.pm.get(t, shelfPath+"/board").want(t, http.StatusOK)); b.Sprint.ID != active.ID || !slices.Equal(refsOf(b.lane(t, "new").Cards), bookRefs(1)) {
			t.Errorf("board after the refusals: %+v", b)
		}

		// Starting two sprints of one team at once: one wins, the other
		// is refused with a 4xx, never a 5xx.
		race := tm.po.createTeam(t, "Race", "BOOK")
		a, b := tm.po.createSprint(t, race.ID, "A", 0), tm.po.createSprint(t, race.ID, "B", 14)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, id := range []int64{a.ID, b.ID} {
			wg.Go(func() { statuses[i] = tm.po.post(t, sprintPath(id, "/start"), nil).status })
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != http.StatusOK || statuses[1] != http.StatusUnprocessableEntity {
			t.Errorf("two starts at once: %v, want one 200 and one 422", statuses)
		}
		n := 0
		for _, s := range list[apiSprint](t, tm.po, teamPath(race.ID, "/sprints")) {
			if s.Status == "active" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d active sprints after two starts at once", n)
		}

		// The limits themselves are allowed.
		tm.pm.put(t, shelfPath+"/members/dev@example.com", map[string]int{"capacity": 0, "days_off": 366}).want(t, http.StatusOK)
		tm.pm.post(t, shelfPath+"/sprints", map[string]string{"name": long(100), "goal": long(2000), "start": day(30), "end": day(30 + 92)}).want(t, http.StatusCreated)
		tm.pm.patch(t, activePath, map[string]any{"retro": map[string]string{"went_well": long(10000)}}).want(t, http.StatusOK)
		tm.pm.get(t, shelfPath+"/flow?days=90").want(t, http.StatusOK)
	})
}

// Teams and sprints have versions: GET answers with the ETag, PATCH takes
// If-Match; changes to members and columns move the team's version on;
// lists page with a cursor; columns are added, changed, ordered and
// removed, and a removed column's cards stay on the board.
func TestTeamsAndColumns(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		for _, name := range []string{"Delta", "Alpha", "Charlie", "Bravo"} {
			tm.pm.createTeam(t, name, "BOOK")
		}
		var names []string
		cursor := ""
		for pages := 0; pages < 5; pages++ {
			path := "/api/v1/teams?limit=3"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			p := decodeAs[page[apiTeam]](t, tm.viewer.get(t, path).want(t, http.StatusOK))
			for _, tt := range p.Items {
				names = append(names, tt.Name)
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if want := []string{"Alpha", "Bravo", "Charlie", "Delta"}; !slices.Equal(names, want) {
			t.Errorf("teams by page: %v, want %v", names, want)
		}

		team := tm.pm.createTeam(t, "Echo", "BOOK")
		path := teamPath(team.ID, "")
		res := tm.viewer.get(t, path).want(t, http.StatusOK)
		if res.header.Get("ETag") != `"1"` {
			t.Errorf("ETag %q, want \"1\"", res.header.Get("ETag"))
		}
		team = decodeAs[apiTeam](t, tm.pm.patch(t, path, map[string]any{"products": []string{"BOOK", "ebook"}}, "If-Match", `"1"`).want(t, http.StatusOK))
		if team.Name != "Echo" || !slices.Equal(team.Products, []string{"BOOK", "EBOOK"}) || team.Version != 2 {
			t.Errorf("team after PATCH products: %+v", team)
		}
		tm.pm.patch(t, path, map[string]string{"name": "Foxtrot"}, "If-Match", "1").wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		team = decodeAs[apiTeam](t, tm.pm.put(t, path+"/members/dev@example.com", map[string]int{"days_off": 2}).want(t, http.StatusOK))
		if len(team.Members) != 1 || team.Members[0] != (apiTeamMember{Email: "dev@example.com", Name: "Dev Eloper", Capacity: 100, DaysOff: 2}) || team.Version != 3 {
			t.Errorf("member: %+v", team)
		}
		tm.pm.patch(t, path, map[string]string{"name": "Foxtrot"}, "If-Match", "2").wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		team = decodeAs[apiTeam](t, tm.pm.patch(t, path, map[string]string{"name": "Foxtrot"}, "If-Match", `W/"3"`).want(t, http.StatusOK))
		if team.Name != "Foxtrot" || len(team.Products) != 2 || team.Version != 4 {
			t.Errorf("renamed team: %+v", team)
		}
		tm.pm.delete(t, path+"/members/dev@example.com").want(t, http.StatusNoContent)

		// Columns: a "Blocked" column at the end, mapped to in progress;
		// moved before Done; its WIP limit set and removed.
		res = tm.pm.post(t, path+"/columns", map[string]any{"name": "Blocked", "status": "in_progress", "wip_limit": 2}).want(t, http.StatusCreated)
		team = decodeAs[apiTeam](t, res)
		blocked := team.Columns[len(team.Columns)-1]
		if len(team.Columns) != 6 || blocked.Name != "Blocked" || blocked.WIPLimit == nil || *blocked.WIPLimit != 2 {
			t.Fatalf("columns after adding: %+v", team.Columns)
		}
		ids := []int64{}
		for _, c := range team.Columns[:4] {
			ids = append(ids, c.ID)
		}
		ids = append(ids, blocked.ID, team.Columns[4].ID)
		team = decodeAs[apiTeam](t, tm.pm.put(t, path+"/columns", map[string][]int64{"columns": ids}).want(t, http.StatusOK))
		if team.Columns[4].ID != blocked.ID || team.Columns[5].Status != "done" {
			t.Errorf("columns after ordering: %+v", team.Columns)
		}
		team = decodeAs[apiTeam](t, tm.pm.patch(t, fmt.Sprintf("%s/columns/%d", path, blocked.ID), map[string]any{"wip_limit": nil, "name": "Stuck"}).want(t, http.StatusOK))
		if c := team.Columns[4]; c.Name != "Stuck" || c.WIPLimit != nil || c.Status != "in_progress" {
			t.Errorf("changed column: %+v", c)
		}

		// A card in the column stays on the board when the column goes.
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Blocked story", "points": 2})
		s := tm.pm.createSprint(t, team.ID, "Sprint 1", 0)
		tm.pm.post(t, sprintPath(s.ID, "/stories"), map[string][]string{"refs": {"BOOK-1"}}).want(t, http.StatusOK)
		tm.pm.post(t, sprintPath(s.ID, "/start"), nil).want(t, http.StatusOK)
		tm.dev.post(t, sprintPath(s.ID, "/cards/BOOK-1/move"), map[string]int64{"column": blocked.ID}).want(t, http.StatusOK)
		board := decodeAs[apiBoard](t, tm.dev.get(t, teamPath(team.ID, "/board")).want(t, http.StatusOK))
		if len(board.Columns) != 6 || !slices.Equal(refsOf(board.Columns[4].Cards), bookRefs(1)) || len(board.Columns[2].Cards) != 0 {
			t.Errorf("board with a blocked card: %+v", board.Columns)
		}
		tm.pm.delete(t, fmt.Sprintf("%s/columns/%d", path, blocked.ID)).want(t, http.StatusNoContent)
		board = decodeAs[apiBoard](t, tm.dev.get(t, teamPath(team.ID, "/board")).want(t, http.StatusOK))
		if len(board.Columns) != 5 || !slices.Equal(refsOf(board.lane(t, "in_progress").Cards), bookRefs(1)) {
			t.Errorf("board after removing the column: %+v", board.Columns)
		}

		// Sprints: ETag and If-Match, pages newest first.
		sp := sprintPath(s.ID, "")
		res = tm.viewer.get(t, sp).want(t, http.StatusOK)
		if res.header.Get("ETag") != fmt.Sprintf(`"%d"`, decodeAs[apiSprint](t, res).Version) {
			t.Errorf("sprint ETag %q", res.header.Get("ETag"))
		}
		v := decodeAs[apiSprint](t, res).Version
		got := decodeAs[apiSprint](t, tm.pm.patch(t, sp, map[string]any{"goal": "Unblock", "retro": map[string]string{"actions": "Ask early"}}, "If-Match", strconv.Itoa(v)).want(t, http.StatusOK))
		if got.Goal != "Unblock" || got.Retro.Actions != "Ask early" || got.Name != "Sprint 1" || got.Version != v+1 {
			t.Errorf("changed sprint: %+v", got)
		}
		got = decodeAs[apiSprint](t, tm.pm.patch(t, sp, map[string]any{"retro": map[string]string{"went_well": "Focus"}}).want(t, http.StatusOK))
		if got.Retro != (apiRetro{WentWell: "Focus", Actions: "Ask early"}) {
			t.Errorf("retro after a partial change: %+v", got.Retro)
		}
		tm.pm.patch(t, sp, map[string]string{"goal": "x"}, "If-Match", strconv.Itoa(v)).wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		for i := 2; i <= 4; i++ {
			tm.pm.createSprint(t, team.ID, fmt.Sprintf("Sprint %d", i), 14*(i-1))
		}
		var sprintNames []string
		cursor = ""
		for pages := 0; pages < 5; pages++ {
			p := decodeAs[page[apiSprint]](t, tm.viewer.get(t, teamPath(team.ID, "/sprints?limit=3&cursor="+cursor)).want(t, http.StatusOK))
			for _, s := range p.Items {
				sprintNames = append(sprintNames, s.Name)
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if want := []string{"Sprint 4", "Sprint 3", "Sprint 2", "Sprint 1"}; !slices.Equal(sprintNames, want) {
			t.Errorf("sprints by page: %v, want %v", sprintNames, want)
		}

		// Deleting the team sends its sprint's stories back to the backlog.
		tm.pm.delete(t, path).want(t, http.StatusNoContent)
		tm.viewer.get(t, path).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.viewer.get(t, sp).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		var st struct {
			SprintID *int64 `json:"sprint_id"`
		}
		tm.viewer.get(t, "/api/v1/stories/BOOK-1").want(t, http.StatusOK).decode(t, &st)
		if st.SprintID != nil {
			t.Errorf("BOOK-1 is still in sprint %d", *st.SprintID)
		}
	})
}

// The Scrum JSON has exactly the members the OpenAPI document lists for
// it: what a client reads is what the document says.
func TestSprintJSONMatchesOpenAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		var doc struct {
			Components struct {
				Schemas map[string]struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"schemas"`
			} `json:"components"`
		}
		e.anon().get(t, "/api/v1/openapi.json").want(t, http.StatusOK).decode(t, &doc)
		check := func(schema string, raw json.RawMessage) map[string]json.RawMessage {
			t.Helper()
			s, ok := doc.Components.Schemas[schema]
			if !ok {
				t.Fatalf("schema %s is not documented", schema)
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				t.Fatalf("%s: %v in %s", schema, err, raw)
			}
			for k := range obj {
				if _, ok := s.Properties[k]; !ok {
					t.Errorf("%s JSON has %q, which the document does not list", schema, k)
				}
			}
			for k := range s.Properties {
				if _, ok := obj[k]; !ok {
					t.Errorf("%s JSON lacks the documented %q: %s", schema, k, raw)
				}
			}
			return obj
		}
		first := func(raw json.RawMessage) json.RawMessage {
			t.Helper()
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
				t.Fatalf("want a non-empty array, got %s", raw)
			}
			return items[0]
		}
		body := func(r *response) json.RawMessage { return json.RawMessage(r.body) }

		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.po.createStory(t, "BOOK", map[string]any{"title": "Count", "points": 3})
		team := tm.po.createTeam(t, "Shelf", "BOOK")
		tj := check("Team", body(tm.po.put(t, teamPath(team.ID, "/members/dev@example.com"), map[string]int{"capacity": 80}).want(t, http.StatusOK)))
		check("TeamMember", first(tj["members"]))
		check("BoardColumn", first(tj["columns"]))
		var teams page[json.RawMessage]
		json.Unmarshal(body(tm.viewer.get(t, "/api/v1/teams").want(t, http.StatusOK)), &teams)
		check("Team", teams.Items[0])

		s := tm.po.createSprint(t, team.ID, "Sprint 1", 0)
		fill := check("FillResult", body(tm.po.post(t, sprintPath(s.ID, "/fill"), map[string]any{"product": "BOOK", "points": 5}).want(t, http.StatusOK)))
		plan := check("Planning", fill["plan"])
		sj := check("Sprint", plan["sprint"])
		check("Retro", sj["retro"])
		tm.po.post(t, sprintPath(s.ID, "/start"), nil).want(t, http.StatusOK)
		board := check("Board", body(tm.viewer.get(t, teamPath(team.ID, "/board")).want(t, http.StatusOK)))
		check("Team", board["team"])
		check("BoardLane", first(board["columns"]))
		bd := check("Burndown", body(tm.viewer.get(t, sprintPath(s.ID, "/burndown")).want(t, http.StatusOK)))
		check("BurndownPoint", first(bd["ideal"]))
		check("BurndownPoint", first(bd["remaining"]))
		var flow page[json.RawMessage]
		json.Unmarshal(body(tm.viewer.get(t, teamPath(team.ID, "/flow?days=2")).want(t, http.StatusOK)), &flow)
		fd := check("FlowDay", flow.Items[0])
		var counts map[string]int
		if json.Unmarshal(fd["counts"], &counts); len(counts) != 5 {
			t.Errorf("flow counts %v, want every status", counts)
		}
		check("CloseResult", body(tm.po.post(t, sprintPath(s.ID, "/close"), map[string]string{"carry": "backlog"}).want(t, http.StatusOK)))
		var vel page[json.RawMessage]
		json.Unmarshal(body(tm.viewer.get(t, teamPath(team.ID, "/velocity")).want(t, http.StatusOK)), &vel)
		check("VelocityPoint", vel.Items[0])
	})
}

// The GET walk (TestGETRoutesChangeNothing) covers the Scrum routes on a
// team with an active sprint holding the walk's story.
func init() {
	walkSeeders = append(walkSeeders, func(t *testing.T, e *env, tm *team, seed *walkSeed) {
		team := tm.po.createTeam(t, "Walkers", "BOOK")
		tm.po.put(t, teamPath(team.ID, "/members/dev@example.com"), map[string]int{"capacity": 80, "days_off": 1}).want(t, http.StatusOK)
		closed := tm.po.createSprint(t, team.ID, "Sprint 0", -14)
		tm.po.post(t, sprintPath(closed.ID, "/start"), nil).want(t, http.StatusOK)
		tm.po.post(t, sprintPath(closed.ID, "/close"), map[string]string{"carry": "backlog"}).want(t, http.StatusOK)
		s := tm.po.createSprint(t, team.ID, "Sprint 1", 0)
		tm.po.post(t, sprintPath(s.ID, "/stories"), map[string][]string{"refs": {seed.values["ref"]}}).want(t, http.StatusOK)
		tm.po.post(t, sprintPath(s.ID, "/start"), nil).want(t, http.StatusOK)
		seed.ids["teams"] = strconv.FormatInt(team.ID, 10)
		seed.ids["sprints"] = strconv.FormatInt(s.ID, 10)
		seed.values["column"] = strconv.FormatInt(team.columnID(t, "in_progress"), 10)
		seed.required["/api/v1/teams/{id}/flow"] = "days=7"
		seed.required["/api/v1/teams/{id}/board"] = "assignee=dev@example.com"
	})
}
