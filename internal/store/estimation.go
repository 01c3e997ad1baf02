package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/northstar-pm/northstar"
)

// EstimationStamp returns a short text that changes whenever the text,
// type, labels, criteria or points of any of a product's stories change,
// or a story is added or deleted: every such change moves the story's
// version, so the count of stories, the sum of their versions and the
// highest id together tell a cached estimate model whether it is stale.
func (tx *Tx) EstimationStamp(ctx context.Context, productID int64) (string, error) {
	var n, versions, maxID int64
	err := tx.queryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(version), 0), COALESCE(MAX(id), 0) FROM stories WHERE product_id = ?", productID).
		Scan(&n, &versions, &maxID)
	if err != nil {
		return "", fmt.Errorf("estimation stamp: %w", err)
	}
	return fmt.Sprintf("%d:%d:%d", n, versions, maxID), nil
}

// EstimationQuickStamp returns a short text that changes when a story of
// the product is added or deleted, or anything in the product is recorded
// in the activity log (every change to a story through the app is): the
// count of its stories, their highest id and its latest activity. Each is
// one index lookup, so it is cheap enough to ask on every suggestion; it
// says when to compute EstimationStamp, which reads every story.
func (tx *Tx) EstimationQuickStamp(ctx context.Context, productID int64) (string, error) {
	var n, maxID, activity int64
	err := tx.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM stories WHERE product_id = ?),
		(SELECT COALESCE(MAX(id), 0) FROM stories WHERE product_id = ?),
		(SELECT COALESCE(MAX(id), 0) FROM activity WHERE product_id = ?)`, productID, productID, productID).Scan(&n, &maxID, &activity)
	if err != nil {
		return "", fmt.Errorf("estimation stamp: %w", err)
	}
	return fmt.Sprintf("%d:%d:%d", n, maxID, activity), nil
}

// EstimationCorpus returns what an estimate model reads of every story of
// a product: id, ref, type, title, template, description, points, labels
// and criteria texts, with three queries whatever the product's size.
func (tx *Tx) EstimationCorpus(ctx context.Context, productID int64, key string) ([]*northstar.Story, error) {
	rows, err := tx.query(ctx, `SELECT id, number, type, title, persona, want, benefit, description, points, status
		FROM stories WHERE product_id = ? ORDER BY id`, productID)
	if err != nil {
		return nil, fmt.Errorf("estimation corpus: %w", err)
	}
	var out []*northstar.Story
	byID := map[int64]*northstar.Story{}
	for rows.Next() {
		s := &northstar.Story{ProductID: productID, ProductKey: key}
		var points sql.NullInt64
		if err := rows.Scan(&s.ID, &s.Number, &s.Type, &s.Title, &s.Persona, &s.Want, &s.Benefit, &s.Description, &points, &s.Status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("estimation corpus: %w", err)
		}
		if points.Valid {
			p := int(points.Int64)
			s.Points = &p
		}
		s.Ref = northstar.FormatRef(key, s.Number)
		out = append(out, s)
		byID[s.ID] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("estimation corpus: %w", err)
	}
	if err := tx.eachText(ctx, "SELECT story_id, label FROM story_labels WHERE product_id = ?", productID, func(id int64, text string) {
		if s := byID[id]; s != nil {
			s.Labels = append(s.Labels, text)
		}
	}); err != nil {
		return nil, err
	}
	err = tx.eachText(ctx, `SELECT c.story_id, c.text FROM story_criteria c JOIN stories s ON s.id = c.story_id
		WHERE s.product_id = ? ORDER BY c.story_id, c.position, c.id`, productID, func(id int64, text string) {
		if s := byID[id]; s != nil {
			s.Criteria = append(s.Criteria, northstar.Criterion{Text: text})
		}
	})
	return out, err
}

func (tx *Tx) eachText(ctx context.Context, q string, arg any, fn func(id int64, text string)) error {
	rows, err := tx.query(ctx, q, arg)
	if err != nil {
		return fmt.Errorf("estimation corpus: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			return fmt.Errorf("estimation corpus: %w", err)
		}
		fn(id, text)
	}
	return rows.Err()
}

// ReleaseStories returns the stories of a release's features in backlog
// order.
func (tx *Tx) ReleaseStories(ctx context.Context, productID, releaseID int64) ([]*northstar.Story, error) {
	return tx.someStories(ctx, storySelect+` WHERE s.product_id = ? AND s.feature_id IN (SELECT id FROM features WHERE release_id = ?)
		ORDER BY s.rank`, productID, releaseID)
}

// StoriesByNumber returns those of the given stories of a product that
// exist, in backlog order.
func (tx *Tx) StoriesByNumber(ctx context.Context, productID int64, numbers []int) ([]*northstar.Story, error) {
	if len(numbers) == 0 {
		return []*northstar.Story{}, nil
	}
	args := []any{productID}
	for _, n := range numbers {
		args = append(args, n)
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(numbers)), ",")
	return tx.someStories(ctx, storySelect+" WHERE s.product_id = ? AND s.number IN ("+in+") ORDER BY s.rank", args...)
}

// OpenBacklog returns the first stories of a product's backlog that are
// not done, in backlog order; limit 0 returns all of them.
func (tx *Tx) OpenBacklog(ctx context.Context, productID int64, limit int) ([]*northstar.Story, error) {
	q := storySelect + " WHERE s.product_id = ? AND s.status <> 'done' ORDER BY s.rank"
	if limit <= 0 {
		return tx.someStories(ctx, q, productID)
	}
	return tx.someStories(ctx, q+" LIMIT ?", productID, limit)
}

// someStories runs a story query without loading labels, criteria or
// tasks: forecasts need only points and status.
func (tx *Tx) someStories(ctx context.Context, q string, args ...any) ([]*northstar.Story, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find stories: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Story{}
	for rows.Next() {
		s, _, err := scanStory(rows)
		if err != nil {
			return nil, fmt.Errorf("find stories: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
