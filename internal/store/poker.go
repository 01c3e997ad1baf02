package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/northstar-pm/northstar"
)

// CreatePokerRound inserts an open round with its stories in order.
func (tx *Tx) CreatePokerRound(ctx context.Context, r *northstar.PokerRound, storyIDs []int64) error {
	r.Status, r.Version, r.CreatedAt, r.UpdatedAt = northstar.PokerOpen, 1, tx.Now, tx.Now
	id, err := tx.insert(ctx, `INSERT INTO poker_rounds (product_id, title, status, created_by, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?)`, r.ProductID, r.Title, r.Status, nullID(r.CreatedBy), tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create poker round: %w", err)
	}
	r.ID = id
	for i, sid := range storyIDs {
		if _, err := tx.exec(ctx, "INSERT INTO poker_items (round_id, story_id, position, revealed) VALUES (?, ?, ?, ?)", id, sid, i+1, false); err != nil {
			return fmt.Errorf("create poker round: %w", translate(err))
		}
	}
	return nil
}

const pokerRoundSelect = `SELECT r.id, r.product_id, p.key, r.title, r.status, r.created_by, COALESCE(u.email, ''), COALESCE(u.name, ''),
	r.version, r.created_at, r.updated_at, r.closed_at
	FROM poker_rounds r JOIN products p ON p.id = r.product_id LEFT JOIN users u ON u.id = r.created_by`

func scanPokerRound(row interface{ Scan(...any) error }) (*northstar.PokerRound, error) {
	var r northstar.PokerRound
	var by sql.NullInt64
	var email, name string
	if err := row.Scan(&r.ID, &r.ProductID, &r.ProductKey, &r.Title, &r.Status, &by, &email, &name,
		&r.Version, &r.CreatedAt, &r.UpdatedAt, &r.ClosedAt); err != nil {
		return nil, err
	}
	r.CreatedBy = userRef(by, email, name)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if r.ClosedAt != nil {
		t := r.ClosedAt.UTC()
		r.ClosedAt = &t
	}
	r.Items = []*northstar.PokerItem{}
	return &r, nil
}

// FindPokerRound returns a round with its stories and every vote; the app
// hides what the viewer may not see yet.
func (tx *Tx) FindPokerRound(ctx context.Context, id int64) (*northstar.PokerRound, error) {
	r, err := scanPokerRound(tx.queryRow(ctx, pokerRoundSelect+" WHERE r.id = ?", id))
	if err != nil {
		return nil, notFound(err, "Poker round %d not found.", id)
	}
	if err := tx.fillPokerItems(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// FindPokerRounds lists a product's rounds, newest first, without votes.
func (tx *Tx) FindPokerRounds(ctx context.Context, productID int64, limit int) ([]*northstar.PokerRound, error) {
	rows, err := tx.query(ctx, pokerRoundSelect+" WHERE r.product_id = ? ORDER BY r.id DESC LIMIT ?", productID, limit)
	if err != nil {
		return nil, fmt.Errorf("find poker rounds: %w", err)
	}
	defer rows.Close()
	out := []*northstar.PokerRound{}
	for rows.Next() {
		r, err := scanPokerRound(rows)
		if err != nil {
			return nil, fmt.Errorf("find poker rounds: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (tx *Tx) fillPokerItems(ctx context.Context, r *northstar.PokerRound) error {
	rows, err := tx.query(ctx, `SELECT i.id, i.story_id, s.number, s.title, s.points, i.revealed, i.agreed,
		i.agreed_by, COALESCE(u.email, ''), COALESCE(u.name, ''), i.agreed_at
		FROM poker_items i JOIN stories s ON s.id = i.story_id LEFT JOIN users u ON u.id = i.agreed_by
		WHERE i.round_id = ? ORDER BY i.position`, r.ID)
	if err != nil {
		return fmt.Errorf("poker items: %w", err)
	}
	byID := map[int64]*northstar.PokerItem{}
	for rows.Next() {
		it := &northstar.PokerItem{Votes: []northstar.PokerVote{}, Voters: []northstar.UserRef{}}
		var number int
		var points, agreed, by sql.NullInt64
		var email, name string
		if err := rows.Scan(&it.ID, &it.StoryID, &number, &it.Title, &points, &it.Revealed, &agreed, &by, &email, &name, &it.AgreedAt); err != nil {
			rows.Close()
			return fmt.Errorf("poker items: %w", err)
		}
		it.Ref = northstar.FormatRef(r.ProductKey, number)
		if points.Valid {
			p := int(points.Int64)
			it.Points = &p
		}
		if agreed.Valid {
			a := int(agreed.Int64)
			it.Agreed = &a
		}
		it.AgreedBy = userRef(by, email, name)
		if it.AgreedAt != nil {
			t := it.AgreedAt.UTC()
			it.AgreedAt = &t
		}
		r.Items = append(r.Items, it)
		byID[it.ID] = it
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("poker items: %w", err)
	}
	rows, err = tx.query(ctx, `SELECT v.item_id, v.user_id, u.email, u.name, v.points, v.voted_at
		FROM poker_votes v JOIN poker_items i ON i.id = v.item_id JOIN users u ON u.id = v.user_id
		WHERE i.round_id = ? ORDER BY v.item_id, v.voted_at, v.user_id`, r.ID)
	if err != nil {
		return fmt.Errorf("poker votes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var itemID int64
		var v northstar.PokerVote
		var at time.Time
		if err := rows.Scan(&itemID, &v.Voter.ID, &v.Voter.Email, &v.Voter.Name, &v.Points, &at); err != nil {
			return fmt.Errorf("poker votes: %w", err)
		}
		v.VotedAt = at.UTC()
		if it := byID[itemID]; it != nil {
			it.Votes = append(it.Votes, v)
		}
	}
	return rows.Err()
}

// TouchPokerRound moves a round's version on after a change, if it is
// still at version (0: whatever it is; votes come from many people at
// once and must not conflict with each other).
func (tx *Tx) TouchPokerRound(ctx context.Context, r *northstar.PokerRound, version int) error {
	q, args := "UPDATE poker_rounds SET version = version + 1, updated_at = ? WHERE id = ?", []any{tx.Now, r.ID}
	if version != 0 {
		q += " AND version = ?"
		args = append(args, version)
	}
	res, err := tx.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("touch poker round: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Poker round %q was changed by someone else; reload and try again.", r.Title)
	}
	r.Version++
	r.UpdatedAt = tx.Now
	return nil
}

// SetPokerVote records or changes a person's vote on a round's story.
func (tx *Tx) SetPokerVote(ctx context.Context, itemID, userID int64, points int) error {
	_, err := tx.exec(ctx, `INSERT INTO poker_votes (item_id, user_id, points, voted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (item_id, user_id) DO UPDATE SET points = excluded.points, voted_at = excluded.voted_at`, itemID, userID, points, tx.Now)
	if err != nil {
		return fmt.Errorf("vote: %w", translate(err))
	}
	return nil
}

// SetPokerRevealed shows or hides a story's votes; hiding it again (a new
// vote) clears the votes and the agreed value.
func (tx *Tx) SetPokerRevealed(ctx context.Context, itemID int64, revealed bool) error {
	if !revealed {
		if _, err := tx.exec(ctx, "DELETE FROM poker_votes WHERE item_id = ?", itemID); err != nil {
			return fmt.Errorf("revote: %w", err)
		}
		_, err := tx.exec(ctx, "UPDATE poker_items SET revealed = ?, agreed = NULL, agreed_by = NULL, agreed_at = NULL WHERE id = ?", false, itemID)
		return err
	}
	_, err := tx.exec(ctx, "UPDATE poker_items SET revealed = ? WHERE id = ?", true, itemID)
	return err
}

// SetPokerAgreed records the value a round agreed on for a story.
func (tx *Tx) SetPokerAgreed(ctx context.Context, itemID int64, points int, by int64) error {
	_, err := tx.exec(ctx, "UPDATE poker_items SET agreed = ?, agreed_by = ?, agreed_at = ? WHERE id = ?", points, by, tx.Now, itemID)
	return err
}

// ClosePokerRound stops a round taking votes.
func (tx *Tx) ClosePokerRound(ctx context.Context, r *northstar.PokerRound) error {
	_, err := tx.exec(ctx, "UPDATE poker_rounds SET status = ?, closed_at = ? WHERE id = ?", northstar.PokerClosed, tx.Now, r.ID)
	if err != nil {
		return fmt.Errorf("close poker round: %w", err)
	}
	now := tx.Now
	r.Status, r.ClosedAt = northstar.PokerClosed, &now
	return nil
}
