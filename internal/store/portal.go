package store

import (
	"context"
	"fmt"

	"github.com/northstar-pm/northstar"
)

// PortalSettings returns a product's portal settings.
func (tx *Tx) PortalSettings(ctx context.Context, productID int64) (northstar.PortalSettings, error) {
	var s northstar.PortalSettings
	err := tx.queryRow(ctx, "SELECT portal_enabled, portal_intro FROM products WHERE id = ?", productID).Scan(&s.Enabled, &s.Intro)
	if err != nil {
		return s, fmt.Errorf("portal settings: %w", translate(err))
	}
	return s, nil
}

// SetPortalSettings writes a product's portal settings.
func (tx *Tx) SetPortalSettings(ctx context.Context, productID int64, s northstar.PortalSettings) error {
	_, err := tx.exec(ctx, "UPDATE products SET portal_enabled = ?, portal_intro = ? WHERE id = ?", s.Enabled, s.Intro, productID)
	if err != nil {
		return fmt.Errorf("set portal settings: %w", err)
	}
	return nil
}

// PortalProduct is what the public portal shows of a product.
type PortalProduct struct {
	ID    int64
	Key   string
	Name  string
	Intro string
}

// FindPortalProduct returns a product whose portal is open; any other
// product is "not found", so the portal reveals nothing of it. A retired
// product is read-only, so its portal is closed whatever its settings
// say (which its product manager can no longer change).
func (tx *Tx) FindPortalProduct(ctx context.Context, key string) (*PortalProduct, error) {
	var p PortalProduct
	err := tx.queryRow(ctx, "SELECT id, key, name, portal_intro FROM products WHERE key = ? AND portal_enabled = ? AND archived = ? AND stage <> ?",
		key, true, false, northstar.StageRetired).
		Scan(&p.ID, &p.Key, &p.Name, &p.Intro)
	if err != nil {
		return nil, notFound(err, "There is no public portal here.")
	}
	return &p, nil
}

const portalIdeaSelect = `SELECT i.id, p.key, i.product_id, i.title, i.body, i.author_name, i.author_email, i.verified, i.status, i.hidden,
	i.votes, i.comments, COALESCE((SELECT MIN(f.id) FROM feedback f WHERE f.portal_idea_id = i.id), 0), i.created_at
	FROM portal_ideas i JOIN products p ON p.id = i.product_id`

func scanPortalIdea(row interface{ Scan(...any) error }) (*northstar.PortalIdea, error) {
	var i northstar.PortalIdea
	if err := row.Scan(&i.ID, &i.ProductKey, &i.ProductID, &i.Title, &i.Body, &i.AuthorName, &i.Email, &i.Verified, &i.Status, &i.Hidden,
		&i.Votes, &i.Comments, &i.FeedbackID, &i.CreatedAt); err != nil {
		return nil, err
	}
	i.CreatedAt = i.CreatedAt.UTC()
	return &i, nil
}

// CreatePortalIdea stores an end user's idea, with its first vote (the
// author's own).
func (tx *Tx) CreatePortalIdea(ctx context.Context, i *northstar.PortalIdea, verifyHash string) error {
	i.CreatedAt, i.Status, i.Votes = tx.Now, northstar.PortalUnderReview, 1
	id, err := tx.insert(ctx, `INSERT INTO portal_ideas (product_id, title, body, author_name, author_email, verified, verify_hash, status, hidden, votes, comments, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, ?)`,
		i.ProductID, i.Title, i.Body, i.AuthorName, i.Email, false, nullString(verifyHash), i.Status, false, tx.Now)
	if err != nil {
		return fmt.Errorf("create portal idea: %w", err)
	}
	i.ID = id
	_, err = tx.exec(ctx, "INSERT INTO portal_votes (idea_id, email, created_at) VALUES (?, ?, ?)", id, i.Email, tx.Now)
	return err
}

// FindPortalIdea returns a product's portal idea.
func (tx *Tx) FindPortalIdea(ctx context.Context, productID, id int64) (*northstar.PortalIdea, error) {
	i, err := scanPortalIdea(tx.queryRow(ctx, portalIdeaSelect+" WHERE i.product_id = ? AND i.id = ?", productID, id))
	if err != nil {
		return nil, notFound(err, "Idea %d not found.", id)
	}
	return i, nil
}

// FindPortalIdeas lists a product's portal ideas, most voted first;
// publicOnly leaves out hidden ones.
func (tx *Tx) FindPortalIdeas(ctx context.Context, productID int64, publicOnly bool, limit int) ([]*northstar.PortalIdea, error) {
	q, args := portalIdeaSelect+" WHERE i.product_id = ?", []any{productID}
	if publicOnly {
		q += " AND i.hidden = ?"
		args = append(args, false)
	}
	q += " ORDER BY i.votes DESC, i.id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find portal ideas: %w", err)
	}
	defer rows.Close()
	out := []*northstar.PortalIdea{}
	for rows.Next() {
		i, err := scanPortalIdea(rows)
		if err != nil {
			return nil, fmt.Errorf("find portal ideas: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// UpdatePortalIdea writes the status and hidden flag the team controls.
func (tx *Tx) UpdatePortalIdea(ctx context.Context, i *northstar.PortalIdea) error {
	res, err := tx.exec(ctx, "UPDATE portal_ideas SET status = ?, hidden = ? WHERE id = ? AND product_id = ?", i.Status, i.Hidden, i.ID, i.ProductID)
	return rowChanged(res, err, "Idea %d not found.", i.ID)
}

// AddPortalVote records one vote per e-mail address. It reports false when
// that address had voted already.
func (tx *Tx) AddPortalVote(ctx context.Context, ideaID int64, email string) (bool, error) {
	_, err := tx.exec(ctx, "INSERT INTO portal_votes (idea_id, email, created_at) VALUES (?, ?, ?)", ideaID, email, tx.Now)
	if IsDuplicate(err) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("vote: %w", err)
	}
	_, err = tx.exec(ctx, "UPDATE portal_ideas SET votes = votes + 1 WHERE id = ?", ideaID)
	return true, err
}

// AddPortalComment adds a comment to a portal idea.
func (tx *Tx) AddPortalComment(ctx context.Context, ideaID int64, c *northstar.PortalComment, email string, userID *int64) error {
	c.CreatedAt = tx.Now
	id, err := tx.insert(ctx, "INSERT INTO portal_comments (idea_id, author_name, author_email, user_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		ideaID, c.AuthorName, email, userID, c.Body, tx.Now)
	if err != nil {
		return fmt.Errorf("comment: %w", err)
	}
	c.ID = id
	_, err = tx.exec(ctx, "UPDATE portal_ideas SET comments = comments + 1 WHERE id = ?", ideaID)
	return err
}

// FindPortalComments lists an idea's comments, oldest first.
func (tx *Tx) FindPortalComments(ctx context.Context, ideaID int64) ([]*northstar.PortalComment, error) {
	rows, err := tx.query(ctx, "SELECT id, author_name, user_id IS NOT NULL, body, created_at FROM portal_comments WHERE idea_id = ? ORDER BY id", ideaID)
	if err != nil {
		return nil, fmt.Errorf("find comments: %w", err)
	}
	defer rows.Close()
	out := []*northstar.PortalComment{}
	for rows.Next() {
		var c northstar.PortalComment
		if err := rows.Scan(&c.ID, &c.AuthorName, &c.FromTeam, &c.Body, &c.CreatedAt); err != nil {
			return nil, err
		}
		c.CreatedAt = c.CreatedAt.UTC()
		out = append(out, &c)
	}
	return out, rows.Err()
}

// VerifyPortalEmail marks the idea with the given verification hash as
// verified and reports whether one matched.
func (tx *Tx) VerifyPortalEmail(ctx context.Context, verifyHash string) (bool, error) {
	res, err := tx.exec(ctx, "UPDATE portal_ideas SET verified = ?, verify_hash = NULL WHERE verify_hash = ?", true, verifyHash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
