package server_test

// The Scrum web pages in the GET walk: a team with a closed sprint (for
// the velocity), an active one with cards on its board and a planned one,
// so that the team, board, sprint, planning, review and report pages show
// real data. When another area's seeder has named a team and a sprint
// already, the walk keeps those and only asks the board for swimlanes.

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

func init() {
	walkSeeders = append(walkSeeders, seedSprintPages)
}

func seedSprintPages(t *testing.T, e *env, tm *team, seed *walkSeed) {
	t.Helper()
	if _, ok := seed.required["/teams/{id}/board"]; !ok {
		seed.required["/teams/{id}/board"] = "lanes=assignee&assignee=dev@example.com"
	}
	if _, ok := seed.ids["teams"]; ok {
		return
	}
	ctx := context.Background()
	pm, err := e.app.UserByToken(ctx, tm.pm.token)
	if err != nil {
		t.Fatal(err)
	}
	as := northstar.NewContextWithUser(ctx, pm)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := e.app.CreateTeam(as, northstar.TeamInput{Name: "Web walk", Products: []string{"BOOK"}})
	must(err)
	_, err = e.app.SetTeamMember(as, team.ID, "dev@example.com", 80, 1)
	must(err)
	_, err = e.app.SetTeamMember(as, team.ID, "pm@example.com", 50, 0)
	must(err)
	var refs []string
	for i, pts := range []int{3, 5, 2, 8, 1} {
		p := pts
		s, err := e.app.CreateStory(as, "BOOK", northstar.NewStory{Title: "Walk story " + strconv.Itoa(i+1), Points: &p,
			Persona: "shop owner", Want: "to see the board", Benefit: "I know where we are",
			Criteria: []string{"It shows"}, Tasks: []string{"Build it"}, Assignee: "dev@example.com"})
		must(err)
		refs = append(refs, s.Ref)
	}
	day := func(n int) northstar.Date {
		now := time.Now().UTC()
		return northstar.Date{Time: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)}
	}
	// A closed sprint: one story done, one carried back to the backlog.
	closed, err := e.app.CreateSprint(as, team.ID, northstar.SprintInput{Name: "Walk 1", Goal: "Warm up", Start: day(-14), End: day(-1)})
	must(err)
	_, err = e.app.AddToSprint(as, closed.ID, refs[:2])
	must(err)
	_, err = e.app.StartSprint(as, closed.ID)
	must(err)
	done := northstar.StatusDone
	_, err = e.app.UpdateStory(as, refs[0], 0, northstar.StoryUpdate{Status: &done})
	must(err)
	_, _, err = e.app.CloseSprint(as, closed.ID, northstar.CloseSprint{Carry: northstar.CarryToBacklog,
		Retro: &northstar.Retro{WentWell: "Pairing", ToImprove: "Estimates", Actions: "Refine on Tuesdays"}})
	must(err)
	// The active sprint, with a card moved to another column.
	active, err := e.app.CreateSprint(as, team.ID, northstar.SprintInput{Name: "Walk 2", Goal: "The board", Start: day(0), End: day(13)})
	must(err)
	_, err = e.app.AddToSprint(as, active.ID, refs[1:4])
	must(err)
	_, err = e.app.StartSprint(as, active.ID)
	must(err)
	board, err := e.app.Board(as, team.ID)
	must(err)
	_, err = e.app.MoveCard(as, active.ID, refs[2], northstar.CardMove{Column: board.Columns[2].ID})
	must(err)
	// And the next one, planned.
	_, err = e.app.CreateSprint(as, team.ID, northstar.SprintInput{Name: "Walk 3", Start: day(14), End: day(27)})
	must(err)

	seed.ids["teams"] = strconv.FormatInt(team.ID, 10)
	seed.ids["sprints"] = strconv.FormatInt(active.ID, 10)
}
