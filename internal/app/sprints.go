package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// teamAccess is what the current user may do with a team: the team's
// products they may read, and whether they hold the action in one of them.
type teamAccess struct {
	user     *northstar.User
	team     *northstar.Team
	readable map[string]*northstar.Product
}

// authorizeTeam loads a team and checks that the current user may perform
// the action in at least one of its products. Someone who can read none of
// them does not learn the team's sprints exist.
func authorizeTeam(ctx context.Context, tx *store.Tx, teamID int64, action northstar.Action) (*teamAccess, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	t, err := tx.FindTeam(ctx, teamID)
	if err != nil {
		return nil, err
	}
	acc := &teamAccess{user: user, team: t, readable: map[string]*northstar.Product{}}
	allowed := user.Admin
	for _, key := range t.Products {
		p, err := tx.FindProductWithRole(ctx, key, user.ID)
		if err != nil {
			return nil, err
		}
		if !northstar.Can(user.Admin, p.Role, northstar.ActionRead) {
			continue
		}
		acc.readable[key] = p
		if northstar.Can(user.Admin, p.Role, action) {
			allowed = true
		}
	}
	member := false
	for _, m := range t.Members {
		member = member || m.ID == user.ID
	}
	if len(acc.readable) == 0 && !user.Admin && !member {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Team %d not found.", teamID)
	}
	if !allowed {
		return nil, northstar.Errorf(northstar.EFORBIDDEN, "You may not %s for team %s.", action.Description(), t.Name)
	}
	return acc, nil
}

// authorizeSprint loads a sprint and authorizes the action on its team.
func authorizeSprint(ctx context.Context, tx *store.Tx, sprintID int64, action northstar.Action) (*teamAccess, *northstar.Sprint, error) {
	if _, err := currentUser(ctx); err != nil {
		return nil, nil, err
	}
	s, err := tx.FindSprint(ctx, sprintID)
	if err != nil {
		return nil, nil, err
	}
	acc, err := authorizeTeam(ctx, tx, s.TeamID, action)
	if northstar.ErrorCode(err) == northstar.ENOTFOUND {
		return nil, nil, northstar.Errorf(northstar.ENOTFOUND, "Sprint %d not found.", sprintID)
	}
	return acc, s, err
}

// Teams lists the teams the user may see (as Team decides); product keys
// the user may not read are left out.
func (a *App) Teams(ctx context.Context) ([]*northstar.Team, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var out []*northstar.Team
	err = a.db.View(ctx, func(tx *store.Tx) error {
		if out, err = tx.FindTeams(ctx); err != nil {
			return err
		}
		if err := hideUnreadableProducts(ctx, tx, user, out...); err != nil {
			return err
		}
		// Someone who can read none of a team's products and is not in
		// it does not learn that it exists.
		out = slices.DeleteFunc(out, func(t *northstar.Team) bool {
			return !user.Admin && len(t.Products) == 0 && !slices.ContainsFunc(t.Members, func(m *northstar.TeamMember) bool { return m.ID == user.ID })
		})
		return nil
	})
	return out, err
}

func hideUnreadableProducts(ctx context.Context, tx *store.Tx, user *northstar.User, teams ...*northstar.Team) error {
	if user.Admin {
		return nil
	}
	products, err := tx.FindProducts(ctx, user, northstar.ProductFilter{IncludeArchived: true})
	if err != nil {
		return err
	}
	readable := map[string]bool{}
	for _, p := range products {
		readable[p.Key] = true
	}
	for _, t := range teams {
		keys := t.Products[:0]
		for _, k := range t.Products {
			if readable[k] {
				keys = append(keys, k)
			}
		}
		t.Products = keys
	}
	return nil
}

// Team returns a team the user may see.
func (a *App) Team(ctx context.Context, id int64) (*northstar.Team, error) {
	var t *northstar.Team
	err := a.db.View(ctx, func(tx *store.Tx) error {
		acc, err := authorizeTeam(ctx, tx, id, northstar.ActionRead)
		if err != nil {
			return err
		}
		t = acc.team
		return hideUnreadableProducts(ctx, tx, acc.user, t)
	})
	return t, err
}

// teamProducts resolves product keys a team is to work on: each must be a
// product where the user plans sprints.
func teamProducts(ctx context.Context, tx *store.Tx, keys []string) ([]int64, error) {
	ids := make([]int64, 0, len(keys))
	for _, k := range keys {
		_, p, err := authorize(ctx, tx, k, northstar.ActionEditStories)
		if err != nil {
			if northstar.ErrorCode(err) == northstar.ENOTFOUND {
				return nil, &northstar.Error{Code: northstar.ENOTFOUND, Field: "products", Message: fmt.Sprintf("Product %s not found.", k)}
			}
			var e *northstar.Error
			if asErr(err, &e) {
				return nil, &northstar.Error{Code: e.Code, Field: "products", Message: e.Message}
			}
			return nil, err
		}
		ids = append(ids, p.ID)
	}
	return ids, nil
}

// CreateTeam creates a team with the default board.
func (a *App) CreateTeam(ctx context.Context, in northstar.TeamInput) (*northstar.Team, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	t := &northstar.Team{Name: in.Name, Products: in.Products, Columns: northstar.DefaultColumns(), Members: []*northstar.TeamMember{}}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		if _, err := authorizeOrg(ctx, tx, northstar.OrgManageTeams); err != nil {
			return err
		}
		ids, err := teamProducts(ctx, tx, in.Products)
		if err != nil {
			return err
		}
		err = tx.CreateTeam(ctx, t, ids)
		if store.IsDuplicate(err) {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "name", Message: fmt.Sprintf("A team named %q exists already.", in.Name)}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create team: %w", err)
	}
	return t, nil
}

// UpdateTeam renames a team and sets its products.
func (a *App) UpdateTeam(ctx context.Context, id int64, version int, in northstar.TeamInput) (*northstar.Team, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var t *northstar.Team
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, err := authorizeTeam(ctx, tx, id, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		t = acc.team
		if err := checkVersion("Team "+t.Name, t.Version, version); err != nil {
			return err
		}
		// Products the user cannot see stay as they are.
		keep := []string{}
		for _, k := range t.Products {
			if _, ok := acc.readable[k]; !ok && !acc.user.Admin {
				keep = append(keep, k)
			}
		}
		ids, err := teamProducts(ctx, tx, in.Products)
		if err != nil {
			return err
		}
		for _, k := range keep {
			p, err := tx.FindProductByKey(ctx, k)
			if err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		t.Name = in.Name
		if err := tx.UpdateTeam(ctx, t); err != nil {
			if store.IsDuplicate(err) {
				return &northstar.Error{Code: northstar.ECONFLICT, Field: "name", Message: fmt.Sprintf("A team named %q exists already.", in.Name)}
			}
			return err
		}
		if err := tx.SetTeamProducts(ctx, id, ids); err != nil {
			return err
		}
		t, err = tx.FindTeam(ctx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update team %d: %w", id, err)
	}
	return t, nil
}

// DeleteTeam removes a team (admins and those who plan its products).
func (a *App) DeleteTeam(ctx context.Context, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		if _, err := authorizeTeam(ctx, tx, id, northstar.ActionEditStories); err != nil {
			return err
		}
		return tx.DeleteTeam(ctx, id)
	})
}

// teamPart changes a team's members or board and returns the team.
func (a *App) teamPart(ctx context.Context, id int64, change func(tx *store.Tx, acc *teamAccess) error) (*northstar.Team, error) {
	var t *northstar.Team
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, err := authorizeTeam(ctx, tx, id, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		if err := change(tx, acc); err != nil {
			return err
		}
		if err := tx.TouchTeam(ctx, id); err != nil {
			return err
		}
		t, err = tx.FindTeam(ctx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("change team %d: %w", id, err)
	}
	return t, nil
}

// SetTeamMember adds a user to a team or changes their capacity.
func (a *App) SetTeamMember(ctx context.Context, id int64, email string, capacity, daysOff int) (*northstar.Team, error) {
	if err := northstar.CheckCapacity(capacity, daysOff); err != nil {
		return nil, err
	}
	return a.teamPart(ctx, id, func(tx *store.Tx, _ *teamAccess) error {
		u, err := tx.FindUserRef(ctx, email)
		if err != nil {
			if isNotFound(err) {
				return northstar.FieldError("email", "No user with email %s.", strings.TrimSpace(email))
			}
			return err
		}
		return tx.SetTeamMember(ctx, id, u.ID, capacity, daysOff)
	})
}

// RemoveTeamMember removes a user from a team.
func (a *App) RemoveTeamMember(ctx context.Context, id int64, email string) (*northstar.Team, error) {
	return a.teamPart(ctx, id, func(tx *store.Tx, _ *teamAccess) error {
		u, err := tx.FindUserRef(ctx, email)
		if err != nil {
			return err
		}
		return tx.DeleteTeamMember(ctx, id, u.ID)
	})
}

// SaveColumn adds (ID 0) or changes a board column.
func (a *App) SaveColumn(ctx context.Context, teamID int64, c northstar.BoardColumn) (*northstar.Team, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return a.teamPart(ctx, teamID, func(tx *store.Tx, acc *teamAccess) error {
		if c.ID == 0 {
			if len(acc.team.Columns) >= northstar.MaxColumns {
				return northstar.FieldError("name", "A board has at most %d columns.", northstar.MaxColumns)
			}
			return tx.CreateColumn(ctx, teamID, len(acc.team.Columns)+1, &c)
		}
		if findColumn(acc.team, c.ID) == nil {
			return northstar.Errorf(northstar.ENOTFOUND, "Column %d not found on the board of %s.", c.ID, acc.team.Name)
		}
		return tx.UpdateColumn(ctx, teamID, &c)
	})
}

// DeleteColumn removes a board column; its cards move to the first other
// column with the same status, or the first column.
func (a *App) DeleteColumn(ctx context.Context, teamID, columnID int64) (*northstar.Team, error) {
	return a.teamPart(ctx, teamID, func(tx *store.Tx, acc *teamAccess) error {
		col := findColumn(acc.team, columnID)
		if col == nil {
			return northstar.Errorf(northstar.ENOTFOUND, "Column %d not found on the board of %s.", columnID, acc.team.Name)
		}
		if len(acc.team.Columns) == 1 {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "A board keeps at least one column.")
		}
		var moveTo *northstar.BoardColumn
		for _, c := range acc.team.Columns {
			if c.ID != columnID && (moveTo == nil || (c.Status == col.Status && moveTo.Status != col.Status)) {
				moveTo = c
			}
		}
		return tx.DeleteColumn(ctx, teamID, columnID, moveTo.ID)
	})
}

// OrderColumns puts a board's columns in the given order.
func (a *App) OrderColumns(ctx context.Context, teamID int64, ids []int64) (*northstar.Team, error) {
	return a.teamPart(ctx, teamID, func(tx *store.Tx, acc *teamAccess) error {
		if len(ids) != len(acc.team.Columns) {
			return northstar.FieldError("columns", "List every column of the board once.")
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			if findColumn(acc.team, id) == nil || seen[id] {
				return northstar.FieldError("columns", "List every column of the board once.")
			}
			seen[id] = true
		}
		return tx.SetColumnPositions(ctx, teamID, ids)
	})
}

func findColumn(t *northstar.Team, id int64) *northstar.BoardColumn {
	for _, c := range t.Columns {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// columnFor returns the first column of a board mapped to a status.
func columnFor(t *northstar.Team, status northstar.StoryStatus) *northstar.BoardColumn {
	for _, c := range t.Columns {
		if c.Status == status {
			return c
		}
	}
	if len(t.Columns) > 0 {
		return t.Columns[0]
	}
	return nil
}

// --- Sprints ---

// CreateSprint plans a new sprint for a team.
func (a *App) CreateSprint(ctx context.Context, teamID int64, in northstar.SprintInput) (*northstar.Sprint, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var s *northstar.Sprint
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, err := authorizeTeam(ctx, tx, teamID, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		s = &northstar.Sprint{TeamID: teamID, TeamName: acc.team.Name, Name: in.Name, Goal: in.Goal, Start: in.Start, End: in.End}
		if in.Retro != nil {
			s.Retro = *in.Retro
		}
		if err := tx.CreateSprint(ctx, s); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, acc.user, sprintChange(acc, s, "created", nil, s))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create sprint: %w", err)
	}
	return s, nil
}

// Sprint returns a sprint.
func (a *App) Sprint(ctx context.Context, id int64) (*northstar.Sprint, error) {
	var s *northstar.Sprint
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		_, s, err = authorizeSprint(ctx, tx, id, northstar.ActionRead)
		return err
	})
	return s, err
}

// Sprints lists a team's sprints, newest first.
func (a *App) Sprints(ctx context.Context, teamID int64) ([]*northstar.Sprint, error) {
	var out []*northstar.Sprint
	err := a.db.View(ctx, func(tx *store.Tx) error {
		if _, err := authorizeTeam(ctx, tx, teamID, northstar.ActionRead); err != nil {
			return err
		}
		var err error
		out, err = tx.FindSprints(ctx, teamID, "", 200)
		return err
	})
	return out, err
}

// UpdateSprint changes a sprint's name, goal, dates (before it starts) and
// retrospective notes.
func (a *App) UpdateSprint(ctx context.Context, id int64, version int, in northstar.SprintInput) (*northstar.Sprint, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var s *northstar.Sprint
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, sprint, err := authorizeSprint(ctx, tx, id, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		s = sprint
		if err := checkVersion("Sprint "+s.Name, s.Version, version); err != nil {
			return err
		}
		if s.Status == northstar.SprintClosed && (!in.Start.Equal(s.Start.Time) || !in.End.Equal(s.End.Time)) {
			return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "start", Message: "A closed sprint's dates are history; they cannot change."}
		}
		before := northstar.Snapshot(s)
		s.Name, s.Goal, s.Start, s.End = in.Name, in.Goal, in.Start, in.End
		if in.Retro != nil {
			s.Retro = *in.Retro
		}
		if err := tx.UpdateSprint(ctx, s); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, acc.user, sprintChange(acc, s, "updated", before, s))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update sprint %d: %w", id, err)
	}
	return s, nil
}

// velocity returns the mean completed points of a team's last three closed
// sprints, and how many there were.
func velocity(ctx context.Context, tx *store.Tx, teamID int64) (*float64, int, error) {
	stats, err := tx.ClosedSprintStats(ctx, teamID, 3)
	if err != nil || len(stats) == 0 {
		return nil, 0, err
	}
	sum := 0
	for _, v := range stats {
		sum += v.Completed
	}
	avg := float64(sum) / float64(len(stats))
	return &avg, len(stats), nil
}

// Planning returns a sprint's plan: its stories against the team's
// velocity and capacity, with warnings.
func (a *App) Planning(ctx context.Context, id int64) (*northstar.Planning, error) {
	var p *northstar.Planning
	err := a.db.View(ctx, func(tx *store.Tx) error {
		acc, s, err := authorizeSprint(ctx, tx, id, northstar.ActionRead)
		if err != nil {
			return err
		}
		p, err = planning(ctx, tx, acc, s)
		return err
	})
	return p, err
}

func planning(ctx context.Context, tx *store.Tx, acc *teamAccess, s *northstar.Sprint) (*northstar.Planning, error) {
	stories, err := tx.SprintStories(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	p := &northstar.Planning{Sprint: s, Stories: []*northstar.Story{}, Unestimated: []string{}, NotReady: []string{}}
	for _, st := range stories {
		if _, ok := acc.readable[st.ProductKey]; !ok && !acc.user.Admin {
			continue
		}
		p.Stories = append(p.Stories, st)
		if st.Points == nil {
			p.Unestimated = append(p.Unestimated, st.Ref)
		} else {
			p.Points += *st.Points
		}
		if !st.IsReady() {
			p.NotReady = append(p.NotReady, st.Ref)
		}
	}
	if p.Velocity, p.VelocitySprints, err = velocity(ctx, tx, s.TeamID); err != nil {
		return nil, err
	}
	p.Availability = northstar.Availability(acc.team.Members, s.WorkingDays())
	if p.Velocity != nil {
		c := *p.Velocity
		if len(acc.team.Members) > 0 {
			c *= p.Availability
		}
		p.Capacity = &c
	}
	return p, nil
}

// addToSprint puts one story into a sprint after checking it may go there.
func addToSprint(ctx context.Context, tx *store.Tx, acc *teamAccess, s *northstar.Sprint, ref string) (*northstar.Story, error) {
	_, p, st, err := loadStory(ctx, tx, ref, northstar.ActionEditStories)
	if err != nil {
		return nil, err
	}
	if !acc.team.HasProduct(p.Key) {
		return nil, &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "refs", Message: fmt.Sprintf("%s belongs to %s, which team %s does not work on.", st.Ref, p.Key, acc.team.Name)}
	}
	if st.SprintID != nil {
		if *st.SprintID == s.ID {
			return st, nil
		}
		other, err := tx.FindSprint(ctx, *st.SprintID)
		if err != nil {
			return nil, err
		}
		if other.Status != northstar.SprintClosed {
			return nil, &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "refs", Message: fmt.Sprintf("%s is already in %s; take it out of that sprint first.", st.Ref, other)}
		}
	}
	col := columnFor(acc.team, st.Status)
	var colID *int64
	rank := ""
	if col != nil {
		colID = &col.ID
		last, err := tx.LastBoardRank(ctx, s.ID, col.ID)
		if err != nil {
			return nil, err
		}
		if rank, err = northstar.RankBetween(last, ""); err != nil {
			return nil, err
		}
	}
	if err := tx.SetStorySprint(ctx, st, &s.ID, colID, rank); err != nil {
		return nil, err
	}
	return st, nil
}

// AddToSprint puts stories into a planned or active sprint; all of them
// or none.
func (a *App) AddToSprint(ctx context.Context, id int64, refs []string) (*northstar.Planning, error) {
	if len(refs) == 0 {
		return nil, northstar.FieldError("refs", "refs lists the stories to add.")
	}
	if len(refs) > northstar.MaxSprintStories {
		return nil, northstar.FieldError("refs", "at most %d stories at once.", northstar.MaxSprintStories)
	}
	var p *northstar.Planning
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, s, err := authorizeSprint(ctx, tx, id, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		if s.Status == northstar.SprintClosed {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "%s is closed.", capitalizeFirst(s.String()))
		}
		var added []string
		for i, ref := range refs {
			st, err := addToSprint(ctx, tx, acc, s, ref)
			if err != nil {
				return withField(err, fmt.Sprintf("refs[%d]", i))
			}
			added = append(added, st.Ref)
		}
		ch := sprintChange(acc, s, "stories_added", nil, nil)
		ch.skipDiff, ch.changes = true, []northstar.FieldChange{{Field: "stories", New: added}}
		if _, err := a.record(ctx, tx, acc.user, ch); err != nil {
			return err
		}
		p, err = planning(ctx, tx, acc, s)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("add to sprint %d: %w", id, err)
	}
	return p, nil
}

// RemoveFromSprint takes a story out of a sprint, back to the backlog.
func (a *App) RemoveFromSprint(ctx context.Context, id int64, ref string) (*northstar.Planning, error) {
	var p *northstar.Planning
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, s, err := authorizeSprint(ctx, tx, id, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		if s.Status == northstar.SprintClosed {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "%s is closed.", capitalizeFirst(s.String()))
		}
		_, _, st, err := loadStory(ctx, tx, ref, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		if st.SprintID == nil || *st.SprintID != id {
			return northstar.Errorf(northstar.ENOTFOUND, "%s is not in %s.", st.Ref, s)
		}
		if err := tx.SetStorySprint(ctx, st, nil, nil, ""); err != nil {
			return err
		}
		ch := sprintChange(acc, s, "story_removed", nil, nil)
		ch.skipDiff, ch.changes = true, []northstar.FieldChange{{Field: "stories", Old: []string{st.Ref}}}
		if _, err := a.record(ctx, tx, acc.user, ch); err != nil {
			return err
		}
		p, err = planning(ctx, tx, acc, s)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("remove from sprint %d: %w", id, err)
	}
	return p, nil
}

// FillToCapacity pulls stories from the top of a product's backlog into a
// planned sprint until the next one would pass the team's capacity. It
// skips unestimated stories (they are reported in the plan's warnings if
// added by hand). Without a velocity yet, it needs a number of points.
func (a *App) FillToCapacity(ctx context.Context, id int64, key string, points int) (*northstar.Planning, []string, error) {
	var p *northstar.Planning
	var added []string
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, s, err := authorizeSprint(ctx, tx, id, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		if s.Status != northstar.SprintPlanned {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Only a planned sprint is filled; %s is %s.", s, s.Status)
		}
		key = normalizeKey(key)
		if !acc.team.HasProduct(key) {
			return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "product", Message: fmt.Sprintf("Team %s does not work on %s.", acc.team.Name, key)}
		}
		_, prod, err := authorize(ctx, tx, key, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		if p, err = planning(ctx, tx, acc, s); err != nil {
			return err
		}
		target := float64(points)
		if points <= 0 {
			if p.Capacity == nil {
				return northstar.FieldError("points", "The team has no velocity yet; say how many points to plan.")
			}
			target = *p.Capacity
		}
		total := p.Points
		candidates, err := tx.BacklogCandidates(ctx, prod.ID, 500)
		if err != nil {
			return err
		}
		for _, c := range candidates {
			if c.Points == nil {
				continue
			}
			if float64(total+*c.Points) > target {
				break
			}
			if _, err := addToSprint(ctx, tx, acc, s, c.Ref); err != nil {
				return err
			}
			total += *c.Points
			added = append(added, c.Ref)
		}
		if len(added) > 0 {
			ch := sprintChange(acc, s, "stories_added", nil, nil)
			ch.skipDiff, ch.changes = true, []northstar.FieldChange{{Field: "stories", New: added}}
			if _, err := a.record(ctx, tx, acc.user, ch); err != nil {
				return err
			}
		}
		p, err = planning(ctx, tx, acc, s)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("fill sprint %d: %w", id, err)
	}
	return p, added, nil
}

// StartSprint starts a planned sprint and records its commitment. A team
// has one active sprint at a time.
func (a *App) StartSprint(ctx context.Context, id int64) (*northstar.Sprint, error) {
	var s *northstar.Sprint
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, sprint, err := authorizeSprint(ctx, tx, id, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		s = sprint
		if s.Status != northstar.SprintPlanned {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "%s is %s; only a planned sprint can start.", capitalizeFirst(s.String()), s.Status)
		}
		active, err := tx.FindSprints(ctx, s.TeamID, northstar.SprintActive, 1)
		if err != nil {
			return err
		}
		if len(active) > 0 {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Team %s already has an active sprint, %q; close it first.", s.TeamName, active[0].Name)
		}
		if err := tx.SnapshotCommitment(ctx, s.ID); err != nil {
			return err
		}
		commitment, err := tx.Commitment(ctx, s.ID)
		if err != nil {
			return err
		}
		s.CommittedCount, s.CommittedPoints = len(commitment), 0
		for _, p := range commitment {
			if p != nil {
				s.CommittedPoints += *p
			}
		}
		now := tx.Now
		before := northstar.Snapshot(s)
		s.Status, s.StartedAt = northstar.SprintActive, &now
		if err := tx.UpdateSprint(ctx, s); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, acc.user, sprintChange(acc, s, "started", before, s))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start sprint %d: %w", id, err)
	}
	return s, nil
}

// CloseSprint ends the active sprint: it records the completed points and
// the scope added or removed since the start, keeps the retrospective, and
// sends unfinished stories to the top of the backlog or into the team's
// next sprint (created if there is none).
func (a *App) CloseSprint(ctx context.Context, id int64, c northstar.CloseSprint) (*northstar.Sprint, []string, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	if c.Retro != nil {
		in := northstar.SprintInput{Name: "x", Start: northstar.Date{Time: time.Unix(0, 0)}, End: northstar.Date{Time: time.Unix(86400, 0)}, Retro: c.Retro}
		if err := in.Validate(); err != nil {
			return nil, nil, err
		}
	}
	var s *northstar.Sprint
	var carried []string
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, sprint, err := authorizeSprint(ctx, tx, id, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		s = sprint
		before := northstar.Snapshot(s)
		if s.Status != northstar.SprintActive {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "%s is %s; only the active sprint can close.", capitalizeFirst(s.String()), s.Status)
		}
		stories, err := tx.SprintStories(ctx, s.ID)
		if err != nil {
			return err
		}
		commitment, err := tx.Commitment(ctx, s.ID)
		if err != nil {
			return err
		}
		s.CompletedPoints, s.CompletedCount, s.AddedPoints, s.RemovedPoints = 0, 0, 0, 0
		inSprint := map[int64]bool{}
		var unfinished []*northstar.Story
		for _, st := range stories {
			inSprint[st.ID] = true
			pts := 0
			if st.Points != nil {
				pts = *st.Points
			}
			if _, committed := commitment[st.ID]; !committed {
				s.AddedPoints += pts
			}
			if st.Status == northstar.StatusDone {
				s.CompletedPoints += pts
				s.CompletedCount++
			} else {
				unfinished = append(unfinished, st)
			}
		}
		for storyID, p := range commitment {
			if !inSprint[storyID] && p != nil {
				s.RemovedPoints += *p
			}
		}
		if err := carryOver(ctx, tx, acc, s, unfinished, c.Carry); err != nil {
			return err
		}
		for _, st := range unfinished {
			carried = append(carried, st.Ref)
		}
		if c.Retro != nil {
			s.Retro = *c.Retro
		}
		now := tx.Now
		s.Status, s.ClosedAt = northstar.SprintClosed, &now
		if err := tx.UpdateSprint(ctx, s); err != nil {
			return err
		}
		ch := sprintChange(acc, s, "closed", before, s)
		if len(unfinished) > 0 {
			ch.changes = append(northstar.Diff(before, s), northstar.FieldChange{Field: "carried_over", New: map[string]any{"to": c.Carry, "stories": carried}})
		}
		_, err = a.record(ctx, tx, acc.user, ch)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("close sprint %d: %w", id, err)
	}
	return s, carried, nil
}

// sprintChange describes a change to a sprint for the activity log; it
// belongs to the first of the team's products the user can read.
func sprintChange(acc *teamAccess, s *northstar.Sprint, action string, before, after any) change {
	c := change{kind: northstar.KindSprint, itemID: s.ID, ref: fmt.Sprint(s.ID), action: action, before: before, after: after}
	for _, k := range acc.team.Products {
		if p, ok := acc.readable[k]; ok {
			c.productID, c.productKey = p.ID, p.Key
			break
		}
	}
	return c
}

// carryOver moves a closing sprint's unfinished stories on.
func carryOver(ctx context.Context, tx *store.Tx, acc *teamAccess, s *northstar.Sprint, stories []*northstar.Story, carry northstar.Carry) error {
	if len(stories) == 0 {
		return nil
	}
	if carry == northstar.CarryToBacklog {
		// Back to the top, in the order they had, above everything else.
		for i := len(stories) - 1; i >= 0; i-- {
			st := stories[i]
			if err := tx.SetStorySprint(ctx, st, nil, nil, ""); err != nil {
				return err
			}
			top, err := tx.EndRank(ctx, st.ProductID, true, st.ID)
			if err != nil {
				return err
			}
			rank, err := northstar.RankBetween("", top)
			if err != nil {
				return err
			}
			if err := tx.SetStoryRank(ctx, st.ID, rank); err != nil {
				return err
			}
		}
		return nil
	}
	planned, err := tx.FindSprints(ctx, s.TeamID, northstar.SprintPlanned, 1)
	if err != nil {
		return err
	}
	var next *northstar.Sprint
	if len(planned) > 0 {
		next = planned[0]
	} else {
		length := s.End.Sub(s.Start.Time)
		start := s.End.AddDate(0, 0, 1)
		next = &northstar.Sprint{TeamID: s.TeamID, TeamName: s.TeamName, Name: nextSprintName(s.Name),
			Start: northstar.Date{Time: start}, End: northstar.Date{Time: start.Add(length)}}
		if err := tx.CreateSprint(ctx, next); err != nil {
			return err
		}
	}
	for _, st := range stories {
		if err := tx.SetStorySprint(ctx, st, nil, nil, ""); err != nil {
			return err
		}
		if _, err := addToSprint(ctx, tx, acc, next, st.Ref); err != nil {
			return err
		}
	}
	return nil
}

// nextSprintName turns "Sprint 7" into "Sprint 8", or adds " (next)".
func nextSprintName(name string) string {
	i := strings.LastIndexByte(name, ' ')
	var n int
	if i >= 0 {
		if _, err := fmt.Sscanf(name[i+1:], "%d", &n); err == nil && fmt.Sprint(n) == name[i+1:] {
			return fmt.Sprintf("%s %d", name[:i], n+1)
		}
	}
	return name + " (next)"
}

func capitalizeFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// withField puts a field name on an application error.
func withField(err error, field string) error {
	var e *northstar.Error
	if asErr(err, &e) {
		return &northstar.Error{Code: e.Code, Field: field, Message: e.Message}
	}
	return err
}

// --- The board ---

// Board returns a team's active sprint board, with only the cards of
// products the user may read.
func (a *App) Board(ctx context.Context, teamID int64) (*northstar.Board, error) {
	var b *northstar.Board
	err := a.db.View(ctx, func(tx *store.Tx) error {
		acc, err := authorizeTeam(ctx, tx, teamID, northstar.ActionRead)
		if err != nil {
			return err
		}
		active, err := tx.FindSprints(ctx, teamID, northstar.SprintActive, 1)
		if err != nil {
			return err
		}
		if len(active) == 0 {
			return northstar.Errorf(northstar.ENOTFOUND, "Team %s has no active sprint.", acc.team.Name)
		}
		if b, err = board(ctx, tx, acc, active[0]); err != nil {
			return err
		}
		// Like Team, the board's team shows only products the user reads.
		if !acc.user.Admin {
			keys := []string{}
			for _, k := range acc.team.Products {
				if _, ok := acc.readable[k]; ok {
					keys = append(keys, k)
				}
			}
			acc.team.Products = keys
		}
		return nil
	})
	return b, err
}

func board(ctx context.Context, tx *store.Tx, acc *teamAccess, s *northstar.Sprint) (*northstar.Board, error) {
	stories, err := tx.SprintStories(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	b := &northstar.Board{Sprint: s, Team: acc.team}
	byCol := map[int64]*northstar.BoardColumnCards{}
	for _, c := range acc.team.Columns {
		cc := &northstar.BoardColumnCards{BoardColumn: c, Cards: []*northstar.Story{}}
		b.Columns = append(b.Columns, cc)
		byCol[c.ID] = cc
	}
	for _, st := range stories {
		if _, ok := acc.readable[st.ProductKey]; !ok && !acc.user.Admin {
			continue
		}
		var cc *northstar.BoardColumnCards
		if st.BoardColumnID != nil {
			cc = byCol[*st.BoardColumnID]
		}
		if cc == nil || cc.Status != st.Status {
			// The status changed elsewhere (the API, the backlog): the
			// card shows in the first column for its status.
			if col := columnFor(acc.team, st.Status); col != nil {
				cc = byCol[col.ID]
			}
		}
		if cc != nil {
			cc.Cards = append(cc.Cards, st)
		}
	}
	for _, cc := range b.Columns {
		cc.OverLimit = cc.WIPLimit != nil && len(cc.Cards) > *cc.WIPLimit
	}
	return b, nil
}

// MoveCard moves a card of the active sprint to a column (changing the
// story's status to the column's) and places it before or after another
// card of that column, or at its end.
func (a *App) MoveCard(ctx context.Context, sprintID int64, ref string, m northstar.CardMove) (*northstar.Story, error) {
	var st *northstar.Story
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		acc, s, err := authorizeSprint(ctx, tx, sprintID, northstar.ActionRead)
		if err != nil {
			return err
		}
		if s.Status != northstar.SprintActive {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Cards move on the active sprint's board; %s is %s.", s, s.Status)
		}
		user, p, story, err := loadStory(ctx, tx, ref, northstar.ActionWorkStories)
		if err != nil {
			return err
		}
		st = story
		if st.SprintID == nil || *st.SprintID != sprintID {
			return northstar.Errorf(northstar.ENOTFOUND, "%s is not on the board of %s.", st.Ref, s)
		}
		col := findColumn(acc.team, m.Column)
		if col == nil {
			return &northstar.Error{Code: northstar.ENOTFOUND, Field: "column", Message: fmt.Sprintf("Column %d is not on the board of %s.", m.Column, acc.team.Name)}
		}
		var lo, hi string
		switch {
		case m.Before != "" || m.After != "":
			field, other := "before", m.Before
			if m.After != "" {
				field, other = "after", m.After
			}
			_, _, target, err := loadStory(ctx, tx, other, northstar.ActionRead)
			if err != nil {
				return withField(err, field)
			}
			if target.SprintID == nil || *target.SprintID != sprintID || target.ID == st.ID {
				return northstar.FieldError(field, "%s is not another card of this board.", target.Ref)
			}
			before, after, err := tx.NeighbourBoardRanks(ctx, sprintID, col.ID, target.BoardRank, st.ID)
			if err != nil {
				return err
			}
			if field == "before" {
				lo, hi = before, target.BoardRank
			} else {
				lo, hi = target.BoardRank, after
			}
		default:
			if lo, err = tx.LastBoardRank(ctx, sprintID, col.ID); err != nil {
				return err
			}
			if lo != "" && lo == st.BoardRank && st.BoardColumnID != nil && *st.BoardColumnID == col.ID {
				lo, _, err = tx.NeighbourBoardRanks(ctx, sprintID, col.ID, st.BoardRank, st.ID)
				if err != nil {
					return err
				}
			}
		}
		rank, err := northstar.RankBetween(lo, hi)
		if err != nil {
			return err
		}
		if err := tx.SetBoardPlace(ctx, st.ID, col.ID, rank); err != nil {
			return err
		}
		st.BoardColumnID, st.BoardRank = &col.ID, rank
		if st.Status != col.Status {
			status := col.Status
			return a.applyStoryUpdate(ctx, tx, user, p, st, northstar.StoryUpdate{Status: &status})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("move card %s: %w", ref, err)
	}
	return st, nil
}

// --- Charts ---

// SprintBurndown returns a sprint's burndown and burn-up.
func (a *App) SprintBurndown(ctx context.Context, id int64) (*northstar.Burndown, error) {
	var b *northstar.Burndown
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, s, err := authorizeSprint(ctx, tx, id, northstar.ActionRead)
		if err != nil {
			return err
		}
		events, err := tx.SprintEvents(ctx, id, tx.Now)
		if err != nil {
			return err
		}
		if s.ClosedAt != nil {
			// Closing carries the unfinished stories out of the sprint
			// in the same instant: the chart shows the sprint as it
			// closed, with them still in it.
			events = slices.DeleteFunc(events, func(e northstar.StoryEvent) bool { return !e.At.Before(*s.ClosedAt) })
		}
		b = northstar.ComputeBurndown(s, events, tx.Now)
		return nil
	})
	return b, err
}

// Velocity returns committed and completed points of a team's last ten
// closed sprints, oldest first.
func (a *App) Velocity(ctx context.Context, teamID int64) ([]northstar.VelocityPoint, error) {
	var out []northstar.VelocityPoint
	err := a.db.View(ctx, func(tx *store.Tx) error {
		if _, err := authorizeTeam(ctx, tx, teamID, northstar.ActionRead); err != nil {
			return err
		}
		stats, err := tx.ClosedSprintStats(ctx, teamID, 10)
		if err != nil {
			return err
		}
		out = make([]northstar.VelocityPoint, 0, len(stats))
		for i := len(stats) - 1; i >= 0; i-- {
			out = append(out, stats[i])
		}
		return nil
	})
	return out, err
}

// CumulativeFlow counts a team's board stories per status for each of the
// last days (at most 90).
func (a *App) CumulativeFlow(ctx context.Context, teamID int64, days int) ([]northstar.FlowDay, error) {
	if days <= 0 || days > 90 {
		return nil, northstar.FieldError("days", "days must be from 1 to 90.")
	}
	var out []northstar.FlowDay
	err := a.db.View(ctx, func(tx *store.Tx) error {
		if _, err := authorizeTeam(ctx, tx, teamID, northstar.ActionRead); err != nil {
			return err
		}
		sprints, err := tx.FindSprints(ctx, teamID, "", 1000)
		if err != nil {
			return err
		}
		ids := map[int64]bool{}
		for _, s := range sprints {
			ids[s.ID] = true
		}
		events, err := tx.TeamEvents(ctx, teamID, tx.Now)
		if err != nil {
			return err
		}
		last := time.Date(tx.Now.Year(), tx.Now.Month(), tx.Now.Day(), 0, 0, 0, 0, time.UTC)
		out = northstar.ComputeFlow(events, ids, last.AddDate(0, 0, 1-days), last)
		return nil
	})
	return out, err
}
