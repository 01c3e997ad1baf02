package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/northstar-pm/northstar"
)

// --- Teams ---

// CreateTeam inserts a team with its products and board columns.
func (tx *Tx) CreateTeam(ctx context.Context, t *northstar.Team, productIDs []int64) error {
	t.Version = 1
	id, err := tx.insert(ctx, "INSERT INTO teams (name, version, created_at, updated_at) VALUES (?, 1, ?, ?)", t.Name, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create team %q: %w", t.Name, err)
	}
	t.ID = id
	if err := tx.SetTeamProducts(ctx, t.ID, productIDs); err != nil {
		return err
	}
	for i, c := range t.Columns {
		if err := tx.CreateColumn(ctx, t.ID, i+1, c); err != nil {
			return err
		}
	}
	return nil
}

// UpdateTeam renames a team if its version is still t.Version.
func (tx *Tx) UpdateTeam(ctx context.Context, t *northstar.Team) error {
	res, err := tx.exec(ctx, "UPDATE teams SET name = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?", t.Name, tx.Now, t.ID, t.Version)
	if err != nil {
		return fmt.Errorf("update team %d: %w", t.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Team %q was changed by someone else; reload and try again.", t.Name)
	}
	t.Version++
	return nil
}

// TouchTeam moves a team's version on after a change to its parts.
func (tx *Tx) TouchTeam(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, "UPDATE teams SET version = version + 1, updated_at = ? WHERE id = ?", tx.Now, id)
	return err
}

// DeleteTeam removes a team with its board and sprints; its stories stay
// in the backlog.
func (tx *Tx) DeleteTeam(ctx context.Context, id int64) error {
	if _, err := tx.exec(ctx, `UPDATE stories SET sprint_id = NULL, board_column_id = NULL
		WHERE sprint_id IN (SELECT id FROM sprints WHERE team_id = ?)`, id); err != nil {
		return fmt.Errorf("delete team %d: %w", id, err)
	}
	res, err := tx.exec(ctx, "DELETE FROM teams WHERE id = ?", id)
	return rowChanged(res, err, "Team %d not found.", id)
}

// SetTeamProducts replaces the products a team works on.
func (tx *Tx) SetTeamProducts(ctx context.Context, teamID int64, productIDs []int64) error {
	if _, err := tx.exec(ctx, "DELETE FROM team_products WHERE team_id = ?", teamID); err != nil {
		return fmt.Errorf("set team products: %w", err)
	}
	for _, pid := range productIDs {
		if _, err := tx.exec(ctx, "INSERT INTO team_products (team_id, product_id) VALUES (?, ?)", teamID, pid); err != nil {
			return fmt.Errorf("set team products: %w", err)
		}
	}
	return nil
}

// FindTeam returns a team with its members, products and columns.
func (tx *Tx) FindTeam(ctx context.Context, id int64) (*northstar.Team, error) {
	var t northstar.Team
	if err := tx.queryRow(ctx, "SELECT id, name, version FROM teams WHERE id = ?", id).Scan(&t.ID, &t.Name, &t.Version); err != nil {
		return nil, notFound(err, "Team %d not found.", id)
	}
	if err := tx.fillTeam(ctx, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// FindTeams lists teams by name with their members, products and columns.
func (tx *Tx) FindTeams(ctx context.Context) ([]*northstar.Team, error) {
	rows, err := tx.query(ctx, "SELECT id, name, version FROM teams ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("find teams: %w", err)
	}
	var out []*northstar.Team
	for rows.Next() {
		var t northstar.Team
		if err := rows.Scan(&t.ID, &t.Name, &t.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find teams: %w", err)
		}
		out = append(out, &t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range out {
		if err := tx.fillTeam(ctx, t); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []*northstar.Team{}
	}
	return out, nil
}

func (tx *Tx) fillTeam(ctx context.Context, t *northstar.Team) error {
	t.Members, t.Products, t.Columns = []*northstar.TeamMember{}, []string{}, []*northstar.BoardColumn{}
	rows, err := tx.query(ctx, `SELECT u.id, u.email, u.name, m.capacity, m.days_off FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = ? ORDER BY u.name, u.email`, t.ID)
	if err != nil {
		return fmt.Errorf("team members: %w", err)
	}
	for rows.Next() {
		var m northstar.TeamMember
		if err := rows.Scan(&m.ID, &m.Email, &m.Name, &m.Capacity, &m.DaysOff); err != nil {
			rows.Close()
			return err
		}
		t.Members = append(t.Members, &m)
	}
	rows.Close()
	rows, err = tx.query(ctx, "SELECT p.key FROM team_products tp JOIN products p ON p.id = tp.product_id WHERE tp.team_id = ? ORDER BY p.key", t.ID)
	if err != nil {
		return fmt.Errorf("team products: %w", err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		t.Products = append(t.Products, k)
	}
	rows.Close()
	rows, err = tx.query(ctx, "SELECT id, name, status, wip_limit FROM board_columns WHERE team_id = ? ORDER BY position, id", t.ID)
	if err != nil {
		return fmt.Errorf("board columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c northstar.BoardColumn
		var limit sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Name, &c.Status, &limit); err != nil {
			return err
		}
		if limit.Valid {
			n := int(limit.Int64)
			c.WIPLimit = &n
		}
		t.Columns = append(t.Columns, &c)
	}
	return rows.Err()
}

// SetTeamMember adds a member or changes their capacity.
func (tx *Tx) SetTeamMember(ctx context.Context, teamID, userID int64, capacity, daysOff int) error {
	_, err := tx.exec(ctx, `INSERT INTO team_members (team_id, user_id, capacity, days_off) VALUES (?, ?, ?, ?)
		ON CONFLICT (team_id, user_id) DO UPDATE SET capacity = excluded.capacity, days_off = excluded.days_off`, teamID, userID, capacity, daysOff)
	if err != nil {
		return fmt.Errorf("set team member: %w", err)
	}
	return nil
}

// DeleteTeamMember removes a member.
func (tx *Tx) DeleteTeamMember(ctx context.Context, teamID, userID int64) error {
	res, err := tx.exec(ctx, "DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID)
	return rowChanged(res, err, "Not a member of the team.")
}

// CreateColumn adds a board column at a position.
func (tx *Tx) CreateColumn(ctx context.Context, teamID int64, position int, c *northstar.BoardColumn) error {
	id, err := tx.insert(ctx, "INSERT INTO board_columns (team_id, position, name, status, wip_limit) VALUES (?, ?, ?, ?, ?)",
		teamID, position, c.Name, c.Status, nullInt(c.WIPLimit))
	if err != nil {
		return fmt.Errorf("create column %q: %w", c.Name, err)
	}
	c.ID = id
	return nil
}

// UpdateColumn renames a column, changes its status or WIP limit.
func (tx *Tx) UpdateColumn(ctx context.Context, teamID int64, c *northstar.BoardColumn) error {
	res, err := tx.exec(ctx, "UPDATE board_columns SET name = ?, status = ?, wip_limit = ? WHERE id = ? AND team_id = ?",
		c.Name, c.Status, nullInt(c.WIPLimit), c.ID, teamID)
	return rowChanged(res, err, "Column %d not found.", c.ID)
}

// SetColumnPositions orders a team's columns as given.
func (tx *Tx) SetColumnPositions(ctx context.Context, teamID int64, ids []int64) error {
	for i, id := range ids {
		if _, err := tx.exec(ctx, "UPDATE board_columns SET position = ? WHERE id = ? AND team_id = ?", i+1, id, teamID); err != nil {
			return fmt.Errorf("order columns: %w", err)
		}
	}
	return nil
}

// DeleteColumn removes a column; its cards move to another column.
func (tx *Tx) DeleteColumn(ctx context.Context, teamID, id, moveTo int64) error {
	if _, err := tx.exec(ctx, "UPDATE stories SET board_column_id = ? WHERE board_column_id = ?", moveTo, id); err != nil {
		return fmt.Errorf("delete column: %w", err)
	}
	res, err := tx.exec(ctx, "DELETE FROM board_columns WHERE id = ? AND team_id = ?", id, teamID)
	return rowChanged(res, err, "Column %d not found.", id)
}

// TeamIDsOfProduct lists the teams working on a product.
func (tx *Tx) TeamIDsOfProduct(ctx context.Context, productID int64) ([]int64, error) {
	return tx.queryIDs(ctx, "teams of the product", "SELECT team_id FROM team_products WHERE product_id = ?", productID)
}

// --- Sprints ---

const sprintSelect = `SELECT s.id, s.team_id, t.name, s.name, s.goal, s.start_date, s.end_date, s.status,
	s.committed_points, s.committed_count, s.completed_points, s.completed_count, s.added_points, s.removed_points,
	s.went_well, s.to_improve, s.actions, s.started_at, s.closed_at, s.version
	FROM sprints s JOIN teams t ON t.id = s.team_id`

func scanSprint(row interface{ Scan(...any) error }) (*northstar.Sprint, error) {
	var s northstar.Sprint
	var start, end time.Time
	if err := row.Scan(&s.ID, &s.TeamID, &s.TeamName, &s.Name, &s.Goal, &start, &end, &s.Status,
		&s.CommittedPoints, &s.CommittedCount, &s.CompletedPoints, &s.CompletedCount, &s.AddedPoints, &s.RemovedPoints,
		&s.Retro.WentWell, &s.Retro.ToImprove, &s.Retro.Actions, &s.StartedAt, &s.ClosedAt, &s.Version); err != nil {
		return nil, err
	}
	s.Start, s.End = northstar.Date{Time: dateOnly(start)}, northstar.Date{Time: dateOnly(end)}
	for _, t := range []**time.Time{&s.StartedAt, &s.ClosedAt} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	return &s, nil
}

// CreateSprint inserts a planned sprint.
func (tx *Tx) CreateSprint(ctx context.Context, s *northstar.Sprint) error {
	s.Version, s.Status = 1, northstar.SprintPlanned
	id, err := tx.insert(ctx, `INSERT INTO sprints (team_id, name, goal, start_date, end_date, status, went_well, to_improve, actions, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		s.TeamID, s.Name, s.Goal, s.Start.Time, s.End.Time, s.Status, s.Retro.WentWell, s.Retro.ToImprove, s.Retro.Actions, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create sprint %q: %w", s.Name, err)
	}
	s.ID = id
	return nil
}

// UpdateSprint writes a sprint if its version is still s.Version.
func (tx *Tx) UpdateSprint(ctx context.Context, s *northstar.Sprint) error {
	res, err := tx.exec(ctx, `UPDATE sprints SET name = ?, goal = ?, start_date = ?, end_date = ?, status = ?,
		committed_points = ?, committed_count = ?, completed_points = ?, completed_count = ?, added_points = ?, removed_points = ?,
		went_well = ?, to_improve = ?, actions = ?, started_at = ?, closed_at = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`,
		s.Name, s.Goal, s.Start.Time, s.End.Time, s.Status, s.CommittedPoints, s.CommittedCount, s.CompletedPoints, s.CompletedCount,
		s.AddedPoints, s.RemovedPoints, s.Retro.WentWell, s.Retro.ToImprove, s.Retro.Actions, s.StartedAt, s.ClosedAt, tx.Now, s.ID, s.Version)
	if err != nil {
		if IsDuplicate(err) {
			return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "status", Message: fmt.Sprintf("Team %s already has an active sprint.", s.TeamName)}
		}
		return fmt.Errorf("update sprint %d: %w", s.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Sprint %q was changed by someone else; reload and try again.", s.Name)
	}
	s.Version++
	return nil
}

// FindSprint returns a sprint.
func (tx *Tx) FindSprint(ctx context.Context, id int64) (*northstar.Sprint, error) {
	s, err := scanSprint(tx.queryRow(ctx, sprintSelect+" WHERE s.id = ?", id))
	if err != nil {
		return nil, notFound(err, "Sprint %d not found.", id)
	}
	return s, nil
}

// FindSprints lists a team's sprints, newest first.
func (tx *Tx) FindSprints(ctx context.Context, teamID int64, status northstar.SprintStatus, limit int) ([]*northstar.Sprint, error) {
	q, args := sprintSelect+" WHERE s.team_id = ?", []any{teamID}
	if status != "" {
		q += " AND s.status = ?"
		args = append(args, status)
	}
	order := " ORDER BY s.start_date DESC, s.id DESC"
	if status == northstar.SprintPlanned {
		order = " ORDER BY s.start_date, s.id"
	} else if status == northstar.SprintClosed {
		order = " ORDER BY s.closed_at DESC, s.id DESC"
	}
	q += order + " LIMIT ?"
	args = append(args, limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find sprints: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Sprint{}
	for rows.Next() {
		s, err := scanSprint(rows)
		if err != nil {
			return nil, fmt.Errorf("find sprints: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SprintStories returns the stories in a sprint, in board order within
// the board, backlog order otherwise.
func (tx *Tx) SprintStories(ctx context.Context, sprintID int64) ([]*northstar.Story, error) {
	rows, err := tx.query(ctx, storySelect+" WHERE s.sprint_id = ? ORDER BY s.board_rank, s.rank", sprintID)
	if err != nil {
		return nil, fmt.Errorf("sprint stories: %w", err)
	}
	stories := []*northstar.Story{}
	anyCriteria, anyTasks := false, false
	for rows.Next() {
		s, c, err := scanStory(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sprint stories: %w", err)
		}
		anyCriteria, anyTasks = anyCriteria || c.criteria > 0, anyTasks || c.tasks > 0
		stories = append(stories, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return stories, tx.fillStories(ctx, stories, anyCriteria, anyTasks)
}

// LastBoardRank returns the last board rank in a sprint's column ("" if
// the column is empty).
func (tx *Tx) LastBoardRank(ctx context.Context, sprintID, columnID int64) (string, error) {
	return tx.oneRank(ctx, "SELECT board_rank FROM stories WHERE sprint_id = ? AND board_column_id = ? ORDER BY board_rank DESC LIMIT 1", sprintID, columnID)
}

// NeighbourBoardRanks returns the board ranks just before and after rank
// in a sprint's column, not counting the story skip.
func (tx *Tx) NeighbourBoardRanks(ctx context.Context, sprintID, columnID int64, rank string, skip int64) (before, after string, err error) {
	before, err = tx.oneRank(ctx, "SELECT board_rank FROM stories WHERE sprint_id = ? AND board_column_id = ? AND board_rank < ? AND id <> ? ORDER BY board_rank DESC LIMIT 1", sprintID, columnID, rank, skip)
	if err != nil {
		return "", "", err
	}
	after, err = tx.oneRank(ctx, "SELECT board_rank FROM stories WHERE sprint_id = ? AND board_column_id = ? AND board_rank > ? AND id <> ? ORDER BY board_rank LIMIT 1", sprintID, columnID, rank, skip)
	return before, after, err
}

// SnapshotCommitment records the stories and points a sprint starts with.
func (tx *Tx) SnapshotCommitment(ctx context.Context, sprintID int64) error {
	_, err := tx.exec(ctx, "INSERT INTO sprint_commitment (sprint_id, story_id, points) SELECT ?, id, points FROM stories WHERE sprint_id = ?", sprintID, sprintID)
	if err != nil {
		return fmt.Errorf("snapshot commitment: %w", err)
	}
	return nil
}

// Commitment returns the story ids and points a sprint started with.
func (tx *Tx) Commitment(ctx context.Context, sprintID int64) (map[int64]*int, error) {
	rows, err := tx.query(ctx, "SELECT story_id, points FROM sprint_commitment WHERE sprint_id = ?", sprintID)
	if err != nil {
		return nil, fmt.Errorf("commitment: %w", err)
	}
	defer rows.Close()
	out := map[int64]*int{}
	for rows.Next() {
		var id int64
		var p sql.NullInt64
		if err := rows.Scan(&id, &p); err != nil {
			return nil, err
		}
		if p.Valid {
			v := int(p.Int64)
			out[id] = &v
		} else {
			out[id] = nil
		}
	}
	return out, rows.Err()
}

// SprintEvents returns the history of every story that was ever in the
// sprint, oldest first, up to until.
func (tx *Tx) SprintEvents(ctx context.Context, sprintID int64, until time.Time) ([]northstar.StoryEvent, error) {
	return tx.findEvents(ctx, `SELECT story_id, COALESCE(sprint_id, 0), kind, status, points, at FROM story_events
		WHERE story_id IN (SELECT DISTINCT story_id FROM story_events WHERE sprint_id = ?) AND at <= ? ORDER BY at, id`, sprintID, until)
}

// TeamEvents returns the history of every story that was ever in one of
// a team's sprints, oldest first, up to until.
func (tx *Tx) TeamEvents(ctx context.Context, teamID int64, until time.Time) ([]northstar.StoryEvent, error) {
	return tx.findEvents(ctx, `SELECT story_id, COALESCE(sprint_id, 0), kind, status, points, at FROM story_events
		WHERE story_id IN (SELECT DISTINCT story_id FROM story_events WHERE sprint_id IN (SELECT id FROM sprints WHERE team_id = ?))
		AND at <= ? ORDER BY at, id`, teamID, until)
}

func (tx *Tx) findEvents(ctx context.Context, q string, args ...any) ([]northstar.StoryEvent, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("story events: %w", err)
	}
	defer rows.Close()
	var out []northstar.StoryEvent
	for rows.Next() {
		var e northstar.StoryEvent
		var p sql.NullInt64
		if err := rows.Scan(&e.StoryID, &e.SprintID, &e.Kind, &e.Status, &p, &e.At); err != nil {
			return nil, err
		}
		if p.Valid {
			v := int(p.Int64)
			e.Points = &v
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// ClosedSprintStats returns the committed and completed points of a team's
// last closed sprints, newest first.
func (tx *Tx) ClosedSprintStats(ctx context.Context, teamID int64, n int) ([]northstar.VelocityPoint, error) {
	rows, err := tx.query(ctx, `SELECT id, name, committed_points, completed_points FROM sprints
		WHERE team_id = ? AND status = 'closed' ORDER BY closed_at DESC, id DESC LIMIT ?`, teamID, n)
	if err != nil {
		return nil, fmt.Errorf("velocity: %w", err)
	}
	defer rows.Close()
	var out []northstar.VelocityPoint
	for rows.Next() {
		var v northstar.VelocityPoint
		if err := rows.Scan(&v.SprintID, &v.Sprint, &v.Committed, &v.Completed); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// TeamProductIDs returns the ids of the products a team works on.
func (tx *Tx) TeamProductIDs(ctx context.Context, teamID int64) ([]int64, error) {
	return tx.queryIDs(ctx, "products of the team", "SELECT product_id FROM team_products WHERE team_id = ?", teamID)
}

// BacklogCandidates returns stories from the top of a product's backlog
// that are not done and in no sprint, for filling a sprint.
func (tx *Tx) BacklogCandidates(ctx context.Context, productID int64, limit int) ([]*northstar.Story, error) {
	rows, err := tx.query(ctx, storySelect+" WHERE s.product_id = ? AND s.sprint_id IS NULL AND s.status <> 'done' ORDER BY s.rank LIMIT ?", productID, limit)
	if err != nil {
		return nil, fmt.Errorf("backlog candidates: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Story{}
	for rows.Next() {
		s, _, err := scanStory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
