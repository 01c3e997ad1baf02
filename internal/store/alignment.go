package store

// What the strategy alignment reads: sprints, and the stories in them with
// their feature and how many objectives the feature serves.

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/northstar-pm/northstar"
)

// FindAlignmentSprints lists the sprints of the teams that work on a
// product (productID 0: of every team).
func (tx *Tx) FindAlignmentSprints(ctx context.Context, productID int64) ([]*northstar.AlignmentSprint, error) {
	q := `SELECT s.id, s.team_id, t.name, s.name, s.status, s.start_date, s.end_date FROM sprints s JOIN teams t ON t.id = s.team_id`
	var args []any
	if productID != 0 {
		q += " WHERE s.team_id IN (SELECT team_id FROM team_products WHERE product_id = ?)"
		args = append(args, productID)
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find alignment sprints: %w", err)
	}
	defer rows.Close()
	var out []*northstar.AlignmentSprint
	for rows.Next() {
		var s northstar.AlignmentSprint
		var start, end time.Time
		if err := rows.Scan(&s.ID, &s.TeamID, &s.Team, &s.Name, &s.Status, &start, &end); err != nil {
			return nil, fmt.Errorf("find alignment sprints: %w", err)
		}
		s.Start, s.End = northstar.Date{Time: dateOnly(start)}, northstar.Date{Time: dateOnly(end)}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// FindAlignmentItems lists the stories in the given sprints (of one
// product, or of all with productID 0) with their feature and its number
// of objectives.
func (tx *Tx) FindAlignmentItems(ctx context.Context, productID int64, sprints []*northstar.AlignmentSprint) ([]*northstar.AlignmentItem, error) {
	if len(sprints) == 0 {
		return nil, nil
	}
	// One statement whatever the sprints: the stories of sprints ending
	// on or after the earliest wanted, filtered to the wanted ones here.
	want := map[int64]bool{}
	from := sprints[0].End.Time
	for _, s := range sprints {
		want[s.ID] = true
		if s.End.Before(from) {
			from = s.End.Time
		}
	}
	q := `SELECT p.key, st.number, st.title, COALESCE(st.points, 0), st.status, st.sprint_id,
		COALESCE(f.number, 0), COALESCE(f.title, ''),
		(SELECT COUNT(*) FROM feature_objectives fo WHERE fo.feature_id = st.feature_id)
		FROM stories st JOIN sprints s ON s.id = st.sprint_id JOIN products p ON p.id = st.product_id
		LEFT JOIN features f ON f.id = st.feature_id
		WHERE s.end_date >= ?`
	args := []any{from}
	if productID != 0 {
		q += " AND st.product_id = ?"
		args = append(args, productID)
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find alignment items: %w", err)
	}
	defer rows.Close()
	var out []*northstar.AlignmentItem
	for rows.Next() {
		var it northstar.AlignmentItem
		var number, fnumber int64
		var status string
		if err := rows.Scan(&it.ProductKey, &number, &it.Title, &it.Points, &status, &it.SprintID, &fnumber, &it.FeatureTitle, &it.Objectives); err != nil {
			return nil, fmt.Errorf("find alignment items: %w", err)
		}
		it.Ref = it.ProductKey + "-" + strconv.FormatInt(number, 10)
		if fnumber != 0 {
			it.FeatureRef = it.ProductKey + "-" + strconv.FormatInt(fnumber, 10)
		}
		if !want[it.SprintID] {
			continue
		}
		it.Done = status == "done"
		out = append(out, &it)
	}
	return out, rows.Err()
}
