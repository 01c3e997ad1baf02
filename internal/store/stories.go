package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/northstar-pm/northstar"
)

// storySelect reads a story with the names of the people it refers to.
const storySelect = `SELECT s.id, s.product_id, p.key, s.number, s.type, s.title, s.persona, s.want, s.benefit, s.description,
	s.points, s.status, s.accepted, s.accepted_at, s.feature_id, s.rank, s.version, s.created_at, s.updated_at,
	s.assignee_id, COALESCE(ua.email, ''), COALESCE(ua.name, ''),
	s.accepted_by, COALESCE(ub.email, ''), COALESCE(ub.name, ''),
	s.created_by, COALESCE(uc.email, ''), COALESCE(uc.name, ''),
	s.updated_by, COALESCE(uu.email, ''), COALESCE(uu.name, ''),
	s.criteria_count, s.criteria_met, s.tasks_count, s.tasks_done, s.sprint_id, s.board_column_id, s.board_rank,
	COALESCE(fe.number, 0), COALESCE(fe.title, '')
	FROM stories s JOIN products p ON p.id = s.product_id
	LEFT JOIN features fe ON fe.id = s.feature_id
	LEFT JOIN users ua ON ua.id = s.assignee_id
	LEFT JOIN users ub ON ub.id = s.accepted_by
	LEFT JOIN users uc ON uc.id = s.created_by
	LEFT JOIN users uu ON uu.id = s.updated_by`

// storyCounts are the denormalised counts kept on a story row.
type storyCounts struct{ criteria, met, tasks, done int }

func userRef(id sql.NullInt64, email, name string) *northstar.UserRef {
	if !id.Valid {
		return nil
	}
	return &northstar.UserRef{ID: id.Int64, Email: email, Name: name}
}

func scanStory(row interface{ Scan(...any) error }) (*northstar.Story, storyCounts, error) {
	var s northstar.Story
	var c storyCounts
	var points, feature sql.NullInt64
	var assignee, acceptedBy, createdBy, updatedBy sql.NullInt64
	var aEmail, aName, bEmail, bName, cEmail, cName, uEmail, uName, featureTitle string
	var featureNumber int
	err := row.Scan(&s.ID, &s.ProductID, &s.ProductKey, &s.Number, &s.Type, &s.Title, &s.Persona, &s.Want, &s.Benefit, &s.Description,
		&points, &s.Status, &s.Accepted, &s.AcceptedAt, &feature, &s.Rank, &s.Version, &s.CreatedAt, &s.UpdatedAt,
		&assignee, &aEmail, &aName, &acceptedBy, &bEmail, &bName, &createdBy, &cEmail, &cName, &updatedBy, &uEmail, &uName,
		&c.criteria, &c.met, &c.tasks, &c.done, &s.SprintID, &s.BoardColumnID, &s.BoardRank, &featureNumber, &featureTitle)
	if err != nil {
		return nil, c, err
	}
	if featureNumber > 0 {
		s.Feature = &northstar.FeatureRef{Ref: northstar.FormatRef(s.ProductKey, featureNumber), Title: featureTitle}
	}
	if points.Valid {
		p := int(points.Int64)
		s.Points = &p
	}
	if feature.Valid {
		s.FeatureID = &feature.Int64
	}
	s.Ref = northstar.FormatRef(s.ProductKey, s.Number)
	s.Assignee = userRef(assignee, aEmail, aName)
	s.AcceptedBy = userRef(acceptedBy, bEmail, bName)
	s.CreatedBy = userRef(createdBy, cEmail, cName)
	s.UpdatedBy = userRef(updatedBy, uEmail, uName)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	if s.AcceptedAt != nil {
		t := s.AcceptedAt.UTC()
		s.AcceptedAt = &t
	}
	s.Labels, s.Criteria, s.Tasks = []string{}, []northstar.Criterion{}, []northstar.Task{}
	return &s, c, nil
}

// NextNumber takes the next item number of a product. Stories and features
// share the sequence, so a ref names one item.
func (tx *Tx) NextNumber(ctx context.Context, productID int64) (int, error) {
	var n int
	err := tx.queryRow(ctx, "UPDATE products SET last_number = last_number + 1 WHERE id = ? RETURNING last_number", productID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next number: %w", translate(err))
	}
	return n, nil
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullID(u *northstar.UserRef) any {
	if u == nil {
		return nil
	}
	return u.ID
}

// CreateStory inserts a story with its labels, criteria and tasks, and
// indexes it for search. s.Number and s.Rank must be set.
func (tx *Tx) CreateStory(ctx context.Context, s *northstar.Story) error {
	s.Version, s.CreatedAt, s.UpdatedAt = 1, tx.Now, tx.Now
	id, err := tx.insert(ctx, `INSERT INTO stories (product_id, number, type, title, persona, want, benefit, description, points, status,
		assignee_id, feature_id, rank, version, created_by, updated_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
		s.ProductID, s.Number, s.Type, s.Title, s.Persona, s.Want, s.Benefit, s.Description, nullInt(s.Points), s.Status,
		nullID(s.Assignee), s.FeatureID, s.Rank, nullID(s.CreatedBy), nullID(s.UpdatedBy), tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create story %s: %w", s.Ref, err)
	}
	s.ID = id
	if err := tx.insertLabels(ctx, s.ID, s.ProductID, s.Labels); err != nil {
		return err
	}
	for i := range s.Criteria {
		c := &s.Criteria[i]
		if c.ID, err = tx.insert(ctx, "INSERT INTO story_criteria (story_id, position, text, met) VALUES (?, ?, ?, ?)", s.ID, i+1, c.Text, c.Met); err != nil {
			return fmt.Errorf("create story %s: criterion: %w", s.Ref, err)
		}
	}
	for i := range s.Tasks {
		t := &s.Tasks[i]
		if t.ID, err = tx.insert(ctx, "INSERT INTO story_tasks (story_id, position, text, done, assignee_id) VALUES (?, ?, ?, ?, ?)",
			s.ID, i+1, t.Text, t.Done, nullID(t.Assignee)); err != nil {
			return fmt.Errorf("create story %s: task: %w", s.Ref, err)
		}
	}
	if len(s.Criteria) > 0 || len(s.Tasks) > 0 {
		if err := tx.recount(ctx, s.ID); err != nil {
			return err
		}
	}
	if err := tx.addStoryEvent(ctx, s, "created"); err != nil {
		return err
	}
	return tx.indexStory(ctx, s, true)
}

// addStoryEvent records a story's status, points and sprint after a
// change, for the charts.
func (tx *Tx) addStoryEvent(ctx context.Context, s *northstar.Story, kind string) error {
	_, err := tx.exec(ctx, `INSERT INTO story_events (story_id, product_id, sprint_id, kind, status, points, actor_id, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.ProductID, s.SprintID, kind, s.Status, nullInt(s.Points), nullID(s.UpdatedBy), tx.Now)
	if err != nil {
		return fmt.Errorf("record %s event of %s: %w", kind, s.Ref, err)
	}
	return nil
}

func (tx *Tx) insertLabels(ctx context.Context, storyID, productID int64, labels []string) error {
	for _, l := range labels {
		if _, err := tx.exec(ctx, "INSERT INTO story_labels (story_id, product_id, label) VALUES (?, ?, ?)", storyID, productID, l); err != nil {
			return fmt.Errorf("add label %q: %w", l, err)
		}
	}
	return nil
}

// SetStoryLabels replaces a story's labels.
func (tx *Tx) SetStoryLabels(ctx context.Context, s *northstar.Story, labels []string) error {
	if _, err := tx.exec(ctx, "DELETE FROM story_labels WHERE story_id = ?", s.ID); err != nil {
		return fmt.Errorf("set labels of %s: %w", s.Ref, err)
	}
	s.Labels = labels
	return tx.insertLabels(ctx, s.ID, s.ProductID, labels)
}

// recount refreshes a story's denormalised criteria and task counts.
func (tx *Tx) recount(ctx context.Context, storyID int64) error {
	_, err := tx.exec(ctx, `UPDATE stories SET
		criteria_count = (SELECT COUNT(*) FROM story_criteria WHERE story_id = ?),
		criteria_met = (SELECT COUNT(*) FROM story_criteria WHERE story_id = ? AND met = ?),
		tasks_count = (SELECT COUNT(*) FROM story_tasks WHERE story_id = ?),
		tasks_done = (SELECT COUNT(*) FROM story_tasks WHERE story_id = ? AND done = ?)
		WHERE id = ?`, storyID, storyID, true, storyID, storyID, true, storyID)
	if err != nil {
		return fmt.Errorf("recount story %d: %w", storyID, err)
	}
	return nil
}

// FindStory returns a product's story by number, with its labels,
// criteria and tasks.
func (tx *Tx) FindStory(ctx context.Context, productID int64, number int, ref string) (*northstar.Story, error) {
	s, counts, err := scanStory(tx.queryRow(ctx, storySelect+" WHERE s.product_id = ? AND s.number = ?", productID, number))
	if err != nil {
		return nil, notFound(err, "Story %s not found.", ref)
	}
	if err := tx.fillStories(ctx, []*northstar.Story{s}, counts.criteria > 0, counts.tasks > 0); err != nil {
		return nil, err
	}
	return s, nil
}

// fillStories loads the labels, criteria and tasks of stories, with one
// query each; the counts kept on the story rows let it skip the criteria
// or tasks query when there are none.
func (tx *Tx) fillStories(ctx context.Context, stories []*northstar.Story, criteria, tasks bool) error {
	if len(stories) == 0 {
		return nil
	}
	byID := make(map[int64]*northstar.Story, len(stories))
	ids := make([]any, len(stories))
	for i, s := range stories {
		byID[s.ID] = s
		ids[i] = s.ID
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"

	rows, err := tx.query(ctx, "SELECT story_id, label FROM story_labels WHERE story_id IN "+in+" ORDER BY story_id, label", ids...)
	if err != nil {
		return fmt.Errorf("load labels: %w", err)
	}
	for rows.Next() {
		var id int64
		var l string
		if err := rows.Scan(&id, &l); err != nil {
			rows.Close()
			return fmt.Errorf("load labels: %w", err)
		}
		byID[id].Labels = append(byID[id].Labels, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load labels: %w", err)
	}

	if criteria {
		if err := tx.fillCriteria(ctx, byID, in, ids); err != nil {
			return err
		}
	}
	if !tasks {
		return nil
	}
	return tx.fillTasks(ctx, byID, in, ids)
}

func (tx *Tx) fillCriteria(ctx context.Context, byID map[int64]*northstar.Story, in string, ids []any) error {
	rows, err := tx.query(ctx, "SELECT story_id, id, text, met FROM story_criteria WHERE story_id IN "+in+" ORDER BY story_id, position, id", ids...)
	if err != nil {
		return fmt.Errorf("load criteria: %w", err)
	}
	for rows.Next() {
		var id int64
		var c northstar.Criterion
		if err := rows.Scan(&id, &c.ID, &c.Text, &c.Met); err != nil {
			rows.Close()
			return fmt.Errorf("load criteria: %w", err)
		}
		byID[id].Criteria = append(byID[id].Criteria, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load criteria: %w", err)
	}
	return nil
}

func (tx *Tx) fillTasks(ctx context.Context, byID map[int64]*northstar.Story, in string, ids []any) error {
	rows, err := tx.query(ctx, `SELECT t.story_id, t.id, t.text, t.done, t.assignee_id, COALESCE(u.email, ''), COALESCE(u.name, '')
		FROM story_tasks t LEFT JOIN users u ON u.id = t.assignee_id WHERE t.story_id IN `+in+" ORDER BY t.story_id, t.position, t.id", ids...)
	if err != nil {
		return fmt.Errorf("load tasks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t northstar.Task
		var assignee sql.NullInt64
		var email, name string
		if err := rows.Scan(&id, &t.ID, &t.Text, &t.Done, &assignee, &email, &name); err != nil {
			return fmt.Errorf("load tasks: %w", err)
		}
		t.Assignee = userRef(assignee, email, name)
		byID[id].Tasks = append(byID[id].Tasks, t)
	}
	return rows.Err()
}

// FindStories returns a page of a product's backlog in rank order.
func (tx *Tx) FindStories(ctx context.Context, productID int64, f northstar.StoryFilter) ([]*northstar.Story, error) {
	var where []string
	args := []any{productID}
	where = append(where, "s.product_id = ?")
	if len(f.Statuses) > 0 {
		where = append(where, "s.status IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.Statuses)), ",")+")")
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	if len(f.Types) > 0 {
		where = append(where, "s.type IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.Types)), ",")+")")
		for _, t := range f.Types {
			args = append(args, t)
		}
	}
	if f.AssigneeID != nil {
		if *f.AssigneeID == 0 {
			where = append(where, "s.assignee_id IS NULL")
		} else {
			where = append(where, "s.assignee_id = ?")
			args = append(args, *f.AssigneeID)
		}
	}
	if f.Label != "" {
		where = append(where, "EXISTS (SELECT 1 FROM story_labels l WHERE l.story_id = s.id AND lower(l.label) = lower(?))")
		args = append(args, f.Label)
	}
	if f.Unestimated {
		where = append(where, "s.points IS NULL")
	}
	if f.NotReady {
		where = append(where, "(s.points IS NULL OR s.criteria_count = 0 OR s.persona = '' OR s.want = '' OR s.benefit = '')")
	}
	if f.Query != "" {
		cond, qargs, ok := tx.db.matchStories(f.Query)
		if !ok {
			return []*northstar.Story{}, nil
		}
		where = append(where, cond)
		args = append(args, qargs...)
	}
	if f.After != "" {
		where = append(where, "s.rank > ?")
		args = append(args, f.After)
	}
	q := storySelect + " WHERE " + strings.Join(where, " AND ") + " ORDER BY s.rank"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find stories: %w", err)
	}
	defer rows.Close()
	stories := []*northstar.Story{}
	anyCriteria, anyTasks := false, false
	for rows.Next() {
		s, counts, err := scanStory(rows)
		if err != nil {
			return nil, fmt.Errorf("find stories: %w", err)
		}
		anyCriteria = anyCriteria || counts.criteria > 0
		anyTasks = anyTasks || counts.tasks > 0
		stories = append(stories, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find stories: %w", err)
	}
	rows.Close()
	return stories, tx.fillStories(ctx, stories, anyCriteria, anyTasks)
}

// UpdateStory writes a story's own fields if its stored version is still
// s.Version, and increments the version. A stale version is a conflict.
func (tx *Tx) UpdateStory(ctx context.Context, s *northstar.Story) error {
	// Status and points changes go into the story's history, whichever
	// path made them.
	var oldStatus northstar.StoryStatus
	var oldPoints sql.NullInt64
	if err := tx.queryRow(ctx, "SELECT status, points FROM stories WHERE id = ?", s.ID).Scan(&oldStatus, &oldPoints); err != nil {
		return notFound(err, "Story %s not found.", s.Ref)
	}
	res, err := tx.exec(ctx, `UPDATE stories SET type = ?, title = ?, persona = ?, want = ?, benefit = ?, description = ?,
		points = ?, status = ?, accepted = ?, accepted_at = ?, accepted_by = ?, assignee_id = ?, feature_id = ?,
		version = version + 1, updated_by = ?, updated_at = ? WHERE id = ? AND version = ?`,
		s.Type, s.Title, s.Persona, s.Want, s.Benefit, s.Description, nullInt(s.Points), s.Status, s.Accepted, s.AcceptedAt,
		nullID(s.AcceptedBy), nullID(s.Assignee), s.FeatureID, nullID(s.UpdatedBy), tx.Now, s.ID, s.Version)
	if err != nil {
		return fmt.Errorf("update story %s: %w", s.Ref, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update story %s: %w", s.Ref, err)
	} else if n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Story %s was changed by someone else (your version %d is stale); reload and try again.", s.Ref, s.Version)
	}
	s.Version++
	s.UpdatedAt = tx.Now
	if oldStatus != s.Status {
		if err := tx.addStoryEvent(ctx, s, "status"); err != nil {
			return err
		}
	}
	newPoints := s.Points != nil
	if oldPoints.Valid != newPoints || (newPoints && int64(*s.Points) != oldPoints.Int64) {
		if err := tx.addStoryEvent(ctx, s, "points"); err != nil {
			return err
		}
	}
	return nil
}

// SetStorySprint puts a story in a sprint (nil: out of any), on a board
// column with a board rank, and records it in the story's history.
func (tx *Tx) SetStorySprint(ctx context.Context, s *northstar.Story, sprintID, columnID *int64, boardRank string) error {
	if _, err := tx.exec(ctx, "UPDATE stories SET sprint_id = ?, board_column_id = ?, board_rank = ? WHERE id = ?", sprintID, columnID, boardRank, s.ID); err != nil {
		return fmt.Errorf("set sprint of %s: %w", s.Ref, err)
	}
	changed := (s.SprintID == nil) != (sprintID == nil) || (sprintID != nil && *s.SprintID != *sprintID)
	s.SprintID, s.BoardColumnID, s.BoardRank = sprintID, columnID, boardRank
	if changed {
		return tx.addStoryEvent(ctx, s, "sprint")
	}
	return nil
}

// SetBoardPlace moves a card on its board: one row written.
func (tx *Tx) SetBoardPlace(ctx context.Context, id int64, columnID int64, boardRank string) error {
	if _, err := tx.exec(ctx, "UPDATE stories SET board_column_id = ?, board_rank = ? WHERE id = ?", columnID, boardRank, id); err != nil {
		return fmt.Errorf("move card: %w", err)
	}
	return nil
}

// StoryID returns the id of a product's story by number.
func (tx *Tx) StoryID(ctx context.Context, productID int64, number int) (int64, error) {
	var id int64
	if err := tx.queryRow(ctx, "SELECT id FROM stories WHERE product_id = ? AND number = ?", productID, number).Scan(&id); err != nil {
		return 0, notFound(err, "Story %d not found.", number)
	}
	return id, nil
}

// RankOf returns a story's rank.
func (tx *Tx) RankOf(ctx context.Context, id int64) (string, error) {
	var r string
	if err := tx.queryRow(ctx, "SELECT rank FROM stories WHERE id = ?", id).Scan(&r); err != nil {
		return "", notFound(err, "Story %d not found.", id)
	}
	return r, nil
}

// SetStoryRank moves a story: one row written.
func (tx *Tx) SetStoryRank(ctx context.Context, id int64, rank string) error {
	if _, err := tx.exec(ctx, "UPDATE stories SET rank = ? WHERE id = ?", rank, id); err != nil {
		return fmt.Errorf("set rank: %w", err)
	}
	return nil
}

// NeighbourRanks returns the ranks just before and just after rank in a
// product's backlog ("" where there is none), not counting the story
// skip (0 for none).
func (tx *Tx) NeighbourRanks(ctx context.Context, productID int64, rank string, skip int64) (before, after string, err error) {
	before, err = tx.oneRank(ctx, "SELECT rank FROM stories WHERE product_id = ? AND rank < ? AND id <> ? ORDER BY rank DESC LIMIT 1", productID, rank, skip)
	if err != nil {
		return "", "", err
	}
	after, err = tx.oneRank(ctx, "SELECT rank FROM stories WHERE product_id = ? AND rank > ? AND id <> ? ORDER BY rank LIMIT 1", productID, rank, skip)
	return before, after, err
}

// EndRank returns the first (top) or last rank of a product's backlog, not
// LockBacklog holds a product's backlog order until the transaction ends,
// so that the rank it chooses next cannot be chosen by a concurrent
// transaction too. PostgreSQL takes a transaction-scoped advisory lock
// (keyed by the schema and the product); SQLite has one writer already.
func (tx *Tx) LockBacklog(ctx context.Context, productID int64) error {
	if tx.db.engine != Postgres {
		return nil
	}
	if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/backlog'), ?)", int32(productID)); err != nil {
		return fmt.Errorf("lock backlog of product %d: %w", productID, translate(err))
	}
	return nil
}

// counting the story skip; "" for an empty backlog.
func (tx *Tx) EndRank(ctx context.Context, productID int64, top bool, skip int64) (string, error) {
	order := "DESC"
	if top {
		order = "ASC"
	}
	return tx.oneRank(ctx, "SELECT rank FROM stories WHERE product_id = ? AND id <> ? ORDER BY rank "+order+" LIMIT 1", productID, skip)
}

func (tx *Tx) oneRank(ctx context.Context, q string, args ...any) (string, error) {
	var r string
	err := tx.queryRow(ctx, q, args...).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read rank: %w", translate(err))
	}
	return r, nil
}

// RankWindow returns the ids and ranks of up to n stories on each side of
// rank (inclusive), in order, for rebalancing a crowded stretch.
func (tx *Tx) RankWindow(ctx context.Context, productID int64, rank string, n int) (ids []int64, ranks []string, err error) {
	rows, err := tx.query(ctx, `SELECT id, rank FROM (
		SELECT id, rank FROM (SELECT id, rank FROM stories WHERE product_id = ? AND rank < ? ORDER BY rank DESC LIMIT ?) lo
		UNION ALL
		SELECT id, rank FROM (SELECT id, rank FROM stories WHERE product_id = ? AND rank >= ? ORDER BY rank LIMIT ?) hi
	) w ORDER BY rank`, productID, rank, n, productID, rank, n+1)
	if err != nil {
		return nil, nil, fmt.Errorf("rank window: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r string
		if err := rows.Scan(&id, &r); err != nil {
			return nil, nil, fmt.Errorf("rank window: %w", err)
		}
		ids, ranks = append(ids, id), append(ranks, r)
	}
	return ids, ranks, rows.Err()
}

// DeleteStory removes a story with its criteria, tasks, labels and index entry.
func (tx *Tx) DeleteStory(ctx context.Context, s *northstar.Story) error {
	if s.SprintID != nil {
		if err := tx.addStoryEvent(ctx, s, "deleted"); err != nil {
			return err
		}
	}
	if tx.Engine() == SQLite {
		if err := tx.applyFTS(ctx, ftsOp{id: s.ID, remove: true}); err != nil {
			return fmt.Errorf("delete story %s: %w", s.Ref, err)
		}
	}
	if _, err := tx.exec(ctx, "DELETE FROM stories WHERE id = ?", s.ID); err != nil {
		return fmt.Errorf("delete story %s: %w", s.Ref, err)
	}
	return nil
}

// AddCriterion appends an acceptance criterion to a story.
func (tx *Tx) AddCriterion(ctx context.Context, storyID int64, c *northstar.Criterion) error {
	id, err := tx.insert(ctx, `INSERT INTO story_criteria (story_id, position, text, met)
		VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM story_criteria WHERE story_id = ?), ?, ?)`, storyID, storyID, c.Text, c.Met)
	if err != nil {
		return fmt.Errorf("add criterion: %w", err)
	}
	c.ID = id
	return tx.recount(ctx, storyID)
}

// UpdateCriterion writes a criterion's text and met flag.
func (tx *Tx) UpdateCriterion(ctx context.Context, storyID int64, c northstar.Criterion) error {
	res, err := tx.exec(ctx, "UPDATE story_criteria SET text = ?, met = ? WHERE id = ? AND story_id = ?", c.Text, c.Met, c.ID, storyID)
	if err != nil {
		return fmt.Errorf("update criterion: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ENOTFOUND, "Criterion %d not found on this story.", c.ID)
	}
	return tx.recount(ctx, storyID)
}

// DeleteCriterion removes a criterion.
func (tx *Tx) DeleteCriterion(ctx context.Context, storyID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM story_criteria WHERE id = ? AND story_id = ?", id, storyID)
	if err != nil {
		return fmt.Errorf("delete criterion: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ENOTFOUND, "Criterion %d not found on this story.", id)
	}
	return tx.recount(ctx, storyID)
}

// AddTask appends a task to a story.
func (tx *Tx) AddTask(ctx context.Context, storyID int64, t *northstar.Task) error {
	id, err := tx.insert(ctx, `INSERT INTO story_tasks (story_id, position, text, done, assignee_id)
		VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM story_tasks WHERE story_id = ?), ?, ?, ?)`,
		storyID, storyID, t.Text, t.Done, nullID(t.Assignee))
	if err != nil {
		return fmt.Errorf("add task: %w", err)
	}
	t.ID = id
	return tx.recount(ctx, storyID)
}

// UpdateTask writes a task's text, done flag and assignee.
func (tx *Tx) UpdateTask(ctx context.Context, storyID int64, t northstar.Task) error {
	res, err := tx.exec(ctx, "UPDATE story_tasks SET text = ?, done = ?, assignee_id = ? WHERE id = ? AND story_id = ?",
		t.Text, t.Done, nullID(t.Assignee), t.ID, storyID)
	if err != nil {
		return fmt.Errorf("update task: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ENOTFOUND, "Task %d not found on this story.", t.ID)
	}
	return tx.recount(ctx, storyID)
}

// DeleteTask removes a task.
func (tx *Tx) DeleteTask(ctx context.Context, storyID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM story_tasks WHERE id = ? AND story_id = ?", id, storyID)
	if err != nil {
		return fmt.Errorf("delete task: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ENOTFOUND, "Task %d not found on this story.", id)
	}
	return tx.recount(ctx, storyID)
}

// IndexStory writes a story's search document from its text and criteria.
func (tx *Tx) IndexStory(ctx context.Context, s *northstar.Story) error {
	return tx.indexStory(ctx, s, false)
}

// ftsOp is a change to SQLite's full-text index. Inside a group commit the
// changes wait until every write of the group has run: FTS5 flushes its
// pending terms at each savepoint, which would make every story its own
// index segment and keep the index merging.
type ftsOp struct {
	id                                     int64
	remove, isNew                          bool
	title, template, description, criteria string
}

func (tx *Tx) indexStory(ctx context.Context, s *northstar.Story, isNew bool) error {
	crit := make([]string, len(s.Criteria))
	for i, c := range s.Criteria {
		crit[i] = c.Text
	}
	template := strings.TrimSpace(s.Persona + " " + s.Want + " " + s.Benefit)
	criteria := strings.Join(crit, "\n")
	if tx.Engine() == SQLite {
		return tx.applyFTS(ctx, ftsOp{id: s.ID, isNew: isNew, title: s.Title, template: template, description: s.Description, criteria: criteria})
	}
	_, err := tx.exec(ctx, `UPDATE stories SET search =
		setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B') ||
		setweight(to_tsvector('simple', ?), 'C') || setweight(to_tsvector('simple', ?), 'B')
		WHERE id = ?`, foldAccents(s.Title), foldAccents(template), foldAccents(s.Description), foldAccents(criteria), s.ID)
	if err != nil {
		return fmt.Errorf("index story %s: %w", s.Ref, err)
	}
	return nil
}

// applyFTS runs an index change now, or queues it for the end of the
// group commit.
func (tx *Tx) applyFTS(ctx context.Context, op ftsOp) error {
	if tx.ftsQueue != nil {
		*tx.ftsQueue = append(*tx.ftsQueue, op)
		return nil
	}
	return runFTS(ctx, tx, op)
}

func runFTS(ctx context.Context, tx *Tx, op ftsOp) error {
	if !op.isNew {
		if _, err := tx.exec(ctx, "DELETE FROM stories_fts WHERE rowid = ?", op.id); err != nil {
			return fmt.Errorf("unindex story %d: %w", op.id, err)
		}
	}
	if op.remove {
		return nil
	}
	_, err := tx.exec(ctx, "INSERT INTO stories_fts (rowid, title, template, description, criteria) VALUES (?, ?, ?, ?, ?)",
		op.id, op.title, op.template, op.description, op.criteria)
	if err != nil {
		return fmt.Errorf("index story %d: %w", op.id, err)
	}
	return nil
}

// foldAccents removes diacritics ("café" → "cafe"), so that searches
// ignore them on PostgreSQL as SQLite's FTS5 tokenizer does, without the
// unaccent extension.
func foldAccents(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			out = append(out, r)
		}
	}
	return string(out)
}

// searchTerms splits a query into words, at most ten: the only
// characters passed to the engines' query parsers are letters and digits.
func searchTerms(q string) []string {
	words := wordsOf(q)
	if len(words) > 10 {
		words = words[:10]
	}
	return words
}

// matchStories returns a condition on s.id matching the full-text query,
// with every word matched as a prefix. ok is false when the query has no
// words.
func (db *DB) matchStories(q string) (cond string, args []any, ok bool) {
	words := searchTerms(q)
	if len(words) == 0 {
		return "", nil, false
	}
	if db.engine == SQLite {
		return "s.id IN (SELECT rowid FROM stories_fts WHERE stories_fts MATCH ?)", []any{ftsQuery(words)}, true
	}
	return "s.search @@ to_tsquery('simple', ?)", []any{tsQuery(words)}, true
}

func tsQuery(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = w
		if len([]rune(w)) >= minPrefix {
			parts[i] += ":*"
		}
	}
	return strings.Join(parts, " & ")
}

// searchCandidates bounds how many matches are ranked. Ranking every
// match of a common word over a million stories takes seconds; the newest
// matches are ranked instead, so that rare words are ranked exactly and
// common ones among the most recent stories.
const searchCandidates = 300

// minPrefix is the shortest word matched as a prefix; shorter words match
// whole words only, since a one- or two-letter prefix matches so many
// words that merging their lists takes longer than a search may.
const minPrefix = 3

// ftsQuery turns words into an FTS5 query: every word must match, as a
// prefix when it is long enough.
func ftsQuery(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = `"` + w + `"`
		if len([]rune(w)) >= minPrefix {
			parts[i] += "*"
		}
	}
	return strings.Join(parts, " ")
}

// SearchStories finds stories matching a full-text query in the given
// products, best matches first. The engines find the candidates; ranking
// happens here, the same on both engines (see rankSearch).
func (tx *Tx) SearchStories(ctx context.Context, productIDs []int64, q string, limit int) ([]northstar.SearchResult, error) {
	words := searchTerms(q)
	if len(words) == 0 || len(productIDs) == 0 {
		return []northstar.SearchResult{}, nil
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(productIDs)), ",") + ")"
	var candidates string
	var args []any
	if tx.Engine() == SQLite {
		candidates = `SELECT f.rowid AS id FROM stories_fts f JOIN stories s2 ON s2.id = f.rowid
			WHERE stories_fts MATCH ? AND s2.product_id IN ` + in + ` ORDER BY f.rowid DESC LIMIT ?`
		args = append(args, ftsQuery(words))
	} else {
		candidates = `SELECT id FROM stories WHERE search @@ to_tsquery('simple', ?) AND product_id IN ` + in + ` ORDER BY id DESC LIMIT ?`
		args = append(args, tsQuery(words))
	}
	for _, id := range productIDs {
		args = append(args, id)
	}
	args = append(args, searchCandidates)
	rows, err := tx.query(ctx, `SELECT s.id, p.key, s.number, s.title, s.type, s.status, s.persona, s.want, s.benefit, s.description
		FROM (`+candidates+`) c JOIN stories s ON s.id = c.id JOIN products p ON p.id = s.product_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var hits []searchHit
	for rows.Next() {
		var h searchHit
		var n int
		var persona, want, benefit string
		if err := rows.Scan(&h.id, &h.ProductKey, &n, &h.Title, &h.Type, &h.Status, &persona, &want, &benefit, &h.description); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		h.Ref, h.Kind, h.template = northstar.FormatRef(h.ProductKey, n), "story", persona+" "+want+" "+benefit
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return rankSearch(hits, words, limit), nil
}

// searchHit is a candidate of a search with the text it is ranked on.
type searchHit struct {
	northstar.SearchResult
	id                    int64
	template, description string
}

// rankSearch orders search hits by a BM25-like score over the title
// (weight 10), the user-story template (4) and the description (1): for
// each word, matches in a field count with diminishing returns, and less
// in long fields. Every hit matches every word, so the words' rarity
// (BM25's IDF) would not change the order and is left out — computing it
// is what makes the engines' own ranking slow on common words. Ties go
// to the newest story.
func rankSearch(hits []searchHit, words []string, limit int) []northstar.SearchResult {
	type field struct {
		weight float64
		tokens [][]string
	}
	fields := []field{{weight: 10}, {weight: 4}, {weight: 1}}
	avg := make([]float64, len(fields))
	for _, h := range hits {
		for i, text := range []string{h.Title, h.template, h.description} {
			toks := wordsOf(text)
			fields[i].tokens = append(fields[i].tokens, toks)
			avg[i] += float64(len(toks))
		}
	}
	for i := range avg {
		avg[i] = max(1, avg[i]/float64(max(1, len(hits))))
	}
	const k1, b = 1.2, 0.75
	for h := range hits {
		score := 0.0
		for i, f := range fields {
			toks := f.tokens[h]
			norm := k1 * (1 - b + b*float64(len(toks))/avg[i])
			for _, w := range words {
				tf := 0.0
				for _, t := range toks {
					if t == w || (len([]rune(w)) >= minPrefix && strings.HasPrefix(t, w)) {
						tf++
					}
				}
				score += f.weight * tf * (k1 + 1) / (tf + norm)
			}
		}
		hits[h].Score = score
	}
	slices.SortFunc(hits, func(a, b searchHit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	out := make([]northstar.SearchResult, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, h.SearchResult)
	}
	return out
}

// wordsOf splits text into lower-case words of letters and digits, with
// accents removed: how queries and ranked text are both split.
func wordsOf(text string) []string {
	return strings.FieldsFunc(strings.ToLower(foldAccents(text)), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// FindUserRef returns a user by e-mail, as a reference.
func (tx *Tx) FindUserRef(ctx context.Context, email string) (*northstar.UserRef, error) {
	if !comparable(email) {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "No user with email %q.", email)
	}
	var u northstar.UserRef
	err := tx.queryRow(ctx, "SELECT id, email, name FROM users WHERE email = ?", strings.ToLower(strings.TrimSpace(email))).Scan(&u.ID, &u.Email, &u.Name)
	if err != nil {
		return nil, notFound(err, "No user with email %s.", email)
	}
	return &u, nil
}
