package app

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

func today() northstar.Date {
	n := time.Now().UTC()
	return northstar.Date{Time: time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)}
}

func TestSprintLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po, dev := f.role(northstar.RoleProductOwner), f.role(northstar.RoleDeveloper)
		if _, err := f.app.CreateTeam(dev, northstar.TeamInput{Name: "Shelf"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer creates a team: %v", err)
		}
		team, err := f.app.CreateTeam(po, northstar.TeamInput{Name: "Shelf", Products: []string{"book"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(team.Columns) != 5 || !slices.Equal(team.Products, []string{"BOOK"}) {
			t.Fatalf("team = %+v", team)
		}
		if _, err := f.app.SetTeamMember(po, team.ID, "developer@example.com", 100, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.SetTeamMember(po, team.ID, "product_owner@example.com", 50, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.SetTeamMember(po, team.ID, "developer@example.com", 120, 0); northstar.ErrorField(err) != "capacity" {
			t.Errorf("capacity over 100: %v", err)
		}
		points := []int{3, 5, 8, 2}
		for i, p := range points {
			p := p
			f.story(t, fmt.Sprintf("Story %d", i+1), func(n *northstar.NewStory) { n.Points = &p })
		}
		f.story(t, "Unestimated")

		start := today()
		s1, err := f.app.CreateSprint(po, team.ID, northstar.SprintInput{Name: "Sprint 1", Goal: "Scanning works", Start: start, End: northstar.Date{Time: start.AddDate(0, 0, 13)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.CreateSprint(po, team.ID, northstar.SprintInput{Name: "Bad", Start: start, End: start}); northstar.ErrorField(err) != "end" {
			t.Errorf("end not after start: %v", err)
		}
		// No velocity yet: fill needs a number of points. 3+5 fits 9, 8 does not.
		if _, _, err := f.app.FillToCapacity(po, s1.ID, "BOOK", 0); northstar.ErrorField(err) != "points" {
			t.Errorf("fill without velocity or points: %v", err)
		}
		plan, added, err := f.app.FillToCapacity(po, s1.ID, "BOOK", 9)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, []string{"BOOK-1", "BOOK-2"}) || plan.Points != 8 {
			t.Errorf("filled %v, %d points", added, plan.Points)
		}
		plan, err = f.app.AddToSprint(po, s1.ID, []string{"BOOK-5"})
		if err != nil || !slices.Contains(plan.Unestimated, "BOOK-5") || len(plan.NotReady) != 3 {
			t.Errorf("plan warnings: %+v %v", plan, err)
		}
		if _, err := f.app.AddToSprint(dev, s1.ID, []string{"BOOK-3"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer plans: %v", err)
		}
		// A story of a product the team does not work on.
		if _, err := f.app.CreateProduct(f.as(f.admin), northstar.NewProduct{Key: "EBOOK", Name: "Ebooks"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.CreateStory(f.as(f.admin), "EBOOK", northstar.NewStory{Title: "Elsewhere"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.AddToSprint(f.as(f.admin), s1.ID, []string{"BOOK-3", "EBOOK-1"}); northstar.ErrorField(err) != "refs[1]" {
			t.Errorf("story of another product: %v", err)
		}
		if plan, _ := f.app.Planning(po, s1.ID); len(plan.Stories) != 3 {
			t.Errorf("a refused add left %d stories in the sprint, want 3", len(plan.Stories))
		}
		if _, err := f.app.RemoveFromSprint(po, s1.ID, "BOOK-5"); err != nil {
			t.Fatal(err)
		}

		s1, err = f.app.StartSprint(po, s1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s1.Status != northstar.SprintActive || s1.CommittedPoints != 8 || s1.CommittedCount != 2 {
			t.Errorf("started sprint = %+v", s1)
		}
		s2, _ := f.app.CreateSprint(po, team.ID, northstar.SprintInput{Name: "Sprint 2", Start: northstar.Date{Time: start.AddDate(0, 0, 14)}, End: northstar.Date{Time: start.AddDate(0, 0, 27)}})
		if _, err := f.app.StartSprint(po, s2.ID); northstar.ErrorCode(err) != northstar.EUNPROCESSABLE {
			t.Errorf("second active sprint: %v", err)
		}
		if _, _, err := f.app.CloseSprint(po, s2.ID, northstar.CloseSprint{Carry: northstar.CarryToBacklog}); northstar.ErrorCode(err) != northstar.EUNPROCESSABLE {
			t.Errorf("closing a planned sprint: %v", err)
		}

		// Scope added mid-sprint.
		if _, err := f.app.AddToSprint(po, s1.ID, []string{"BOOK-4"}); err != nil {
			t.Fatal(err)
		}
		b, err := f.app.Board(dev, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(b.Columns[0].Cards); n != 3 {
			t.Errorf("%d cards in New, want 3", n)
		}
		inProgress, done := b.Columns[2], b.Columns[4]
		// Developers move cards; the status follows the column.
		st, err := f.app.MoveCard(dev, s1.ID, "BOOK-1", northstar.CardMove{Column: done.ID})
		if err != nil || st.Status != northstar.StatusDone {
			t.Fatalf("move to done: %+v %v", st, err)
		}
		if _, err := f.app.MoveCard(dev, s1.ID, "BOOK-2", northstar.CardMove{Column: inProgress.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.MoveCard(dev, s1.ID, "BOOK-4", northstar.CardMove{Column: inProgress.ID, Before: "BOOK-2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.MoveCard(dev, s1.ID, "BOOK-4", northstar.CardMove{Column: 99999}); northstar.ErrorField(err) != "column" {
			t.Errorf("move to a missing column: %v", err)
		}
		if _, err := f.app.MoveCard(f.role(northstar.RoleViewer), s1.ID, "BOOK-4", northstar.CardMove{Column: done.ID}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("viewer moves a card: %v", err)
		}
		limit := 1
		inProgress.WIPLimit = &limit
		if _, err := f.app.SaveColumn(po, team.ID, *inProgress.BoardColumn); err != nil {
			t.Fatal(err)
		}
		b, _ = f.app.Board(dev, team.ID)
		cards := b.Columns[2].Cards
		if len(cards) != 2 || cards[0].Ref != "BOOK-4" || cards[1].Ref != "BOOK-2" || !b.Columns[2].OverLimit {
			t.Errorf("in progress column: %v over=%v", refsOf(cards), b.Columns[2].OverLimit)
		}

		bd, err := f.app.SprintBurndown(po, s1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(bd.Remaining); n != 1 || bd.Scope[0].Value != 10 || bd.Remaining[0].Value != 7 || bd.Completed[0].Value != 3 {
			t.Errorf("burndown today: scope %v remaining %v completed %v", bd.Scope, bd.Remaining, bd.Completed)
		}
		if len(bd.Ideal) != 14 || bd.Ideal[0].Value != 8 || bd.Ideal[13].Value != 0 {
			t.Errorf("ideal line: %v", bd.Ideal)
		}

		// Close: BOOK-2 and BOOK-4 are unfinished and go to the next sprint.
		s1, carried, err := f.app.CloseSprint(po, s1.ID, northstar.CloseSprint{Carry: northstar.CarryToNextSprint,
			Retro: &northstar.Retro{WentWell: "Pairing", ToImprove: "Estimates", Actions: "Refine on Tuesdays"}})
		if err != nil {
			t.Fatal(err)
		}
		if s1.Status != northstar.SprintClosed || s1.CompletedPoints != 3 || s1.AddedPoints != 2 || s1.Retro.Actions != "Refine on Tuesdays" {
			t.Errorf("closed sprint = %+v", s1)
		}
		if !slices.Equal(carried, []string{"BOOK-4", "BOOK-2"}) && !slices.Equal(carried, []string{"BOOK-2", "BOOK-4"}) {
			t.Errorf("carried %v", carried)
		}
		plan2, _ := f.app.Planning(po, s2.ID)
		if len(plan2.Stories) != 2 || plan2.Velocity == nil || *plan2.Velocity != 3 {
			t.Errorf("next sprint plan: %d stories, velocity %v", len(plan2.Stories), plan2.Velocity)
		}
		vel, err := f.app.Velocity(po, team.ID)
		if err != nil || len(vel) != 1 || vel[0].Committed != 8 || vel[0].Completed != 3 {
			t.Errorf("velocity: %+v %v", vel, err)
		}
		flow, err := f.app.CumulativeFlow(po, team.ID, 7)
		if err != nil || len(flow) != 7 {
			t.Fatalf("flow: %d days, %v", len(flow), err)
		}
		last := flow[len(flow)-1].Counts
		if last[northstar.StatusNew] != 0 || last[northstar.StatusInProgress] != 2 {
			t.Errorf("flow today: %v", last)
		}
		// Non-members of the team's products learn nothing.
		if _, err := f.app.Board(f.as(f.other), team.ID); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("outsider reads the board: %v", err)
		}
		if _, err := f.app.Sprint(f.as(f.other), s1.ID); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("outsider reads a sprint: %v", err)
		}
	})
}

func refsOf(stories []*northstar.Story) []string {
	out := make([]string, len(stories))
	for i, s := range stories {
		out[i] = s.Ref
	}
	return out
}
