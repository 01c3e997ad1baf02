package store

// Closing the loop: release notes, the people who asked for a feature,
// and the notices they were sent when it was released.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// ReleaseNote returns a feature's release note, "" if none.
func (tx *Tx) ReleaseNote(ctx context.Context, featureID int64) (string, error) {
	var note string
	err := tx.queryRow(ctx, "SELECT note FROM feature_release_notes WHERE feature_id = ?", featureID).Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return note, translate(err)
}

// SetReleaseNote writes a feature's release note.
func (tx *Tx) SetReleaseNote(ctx context.Context, featureID int64, note string, by int64) error {
	_, err := tx.exec(ctx, `INSERT INTO feature_release_notes (feature_id, note, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (feature_id) DO UPDATE SET note = excluded.note, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		featureID, note, by, tx.Now)
	if err != nil {
		return fmt.Errorf("set release note: %w", err)
	}
	return nil
}

// Asker is someone who asked for a feature: a user (UserID set) or an
// address outside (a customer, a portal author or voter).
type Asker struct {
	UserID int64
	Email  string
	Name   string
}

// FeatureAskers returns who asked for a feature through its linked
// feedback: the team members who captured it, the customers it came
// from, and the authors (verified) and voters of its portal ideas.
// Addresses are lower-cased and each appears once.
func (tx *Tx) FeatureAskers(ctx context.Context, featureID int64) (users []int64, mails []Asker, err error) {
	rows, err := tx.query(ctx, `SELECT DISTINCT COALESCE(fb.captured_by, 0), COALESCE(c.email, ''), COALESCE(c.name, ''),
			COALESCE(pi.id, 0), COALESCE(pi.author_email, ''), COALESCE(pi.author_name, ''), COALESCE(pi.verified, ?)
		FROM feedback_links l JOIN feedback fb ON fb.id = l.feedback_id
		LEFT JOIN customers c ON c.id = fb.customer_id
		LEFT JOIN portal_ideas pi ON pi.id = fb.portal_idea_id
		WHERE l.feature_id = ?`, false, featureID)
	if err != nil {
		return nil, nil, fmt.Errorf("feature askers: %w", err)
	}
	seenUser := map[int64]bool{}
	seenMail := map[string]bool{}
	addMail := func(email, name string) {
		email = strings.ToLower(strings.TrimSpace(email))
		if email == "" || seenMail[email] {
			return
		}
		seenMail[email] = true
		mails = append(mails, Asker{Email: email, Name: name})
	}
	var ideas []int64
	for rows.Next() {
		var uid, idea int64
		var cEmail, cName, aEmail, aName string
		var verified bool
		if err := rows.Scan(&uid, &cEmail, &cName, &idea, &aEmail, &aName, &verified); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("feature askers: %w", err)
		}
		if uid != 0 && !seenUser[uid] {
			seenUser[uid] = true
			users = append(users, uid)
		}
		addMail(cEmail, cName)
		if verified {
			addMail(aEmail, aName)
		}
		if idea != 0 {
			ideas = append(ideas, idea)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for _, idea := range ideas {
		vr, err := tx.query(ctx, "SELECT email FROM portal_votes WHERE idea_id = ? ORDER BY created_at", idea)
		if err != nil {
			return nil, nil, fmt.Errorf("feature askers: %w", err)
		}
		for vr.Next() {
			var e string
			if err := vr.Scan(&e); err != nil {
				vr.Close()
				return nil, nil, err
			}
			addMail(e, "")
		}
		vr.Close()
	}
	return users, mails, nil
}

// UserIDByEmail returns the id of the active user with the address, 0 if none.
func (tx *Tx) UserIDByEmail(ctx context.Context, email string) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, "SELECT id FROM users WHERE LOWER(email) = ? AND disabled = ?", strings.ToLower(email), false).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, translate(err)
}

// HasNotice reports whether a feature's release was already noticed to a
// user (userID) or an address.
func (tx *Tx) HasNotice(ctx context.Context, featureID, userID int64, email string) (bool, error) {
	var n int
	var err error
	if userID != 0 {
		err = tx.queryRow(ctx, "SELECT COUNT(*) FROM release_notices WHERE feature_id = ? AND user_id = ?", featureID, userID).Scan(&n)
	} else {
		err = tx.queryRow(ctx, "SELECT COUNT(*) FROM release_notices WHERE feature_id = ? AND email = ?", featureID, email).Scan(&n)
	}
	return n > 0, translate(err)
}

// Unsubscribed reports whether an address asked for no more mail.
func (tx *Tx) Unsubscribed(ctx context.Context, email string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM mail_unsubscribes WHERE email = ?", strings.ToLower(email)).Scan(&n)
	return n > 0, translate(err)
}

// AddNotice records a notice.
func (tx *Tx) AddNotice(ctx context.Context, n *northstar.ReleaseNotice, tokenHash string) error {
	var user, email, token any
	if n.UserID != 0 {
		user = n.UserID
	}
	if n.Email != "" {
		email = n.Email
	}
	if tokenHash != "" {
		token = tokenHash
	}
	var sent *time.Time
	if n.Status == northstar.NoticeSent {
		sent = &tx.Now
	}
	id, err := tx.insert(ctx, `INSERT INTO release_notices (feature_id, channel, user_id, email, name, status, token_hash, created_at, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, n.FeatureID, n.Channel, user, email, n.Name, n.Status, token, tx.Now, sent)
	if err != nil {
		return fmt.Errorf("add notice: %w", err)
	}
	n.ID = id
	return nil
}

// MarkNotice records how sending a mail notice went.
func (tx *Tx) MarkNotice(ctx context.Context, id int64, status, lastError string) error {
	var sent any
	if status == northstar.NoticeSent {
		sent = tx.Now
	}
	_, err := tx.exec(ctx, "UPDATE release_notices SET status = ?, attempts = attempts + 1, last_error = ?, sent_at = ? WHERE id = ?", status, lastError, sent, id)
	return translate(err)
}

// NoticeCounts counts a feature's notices by channel and status.
func (tx *Tx) NoticeCounts(ctx context.Context, featureID int64) (northstar.NoticeCounts, error) {
	var c northstar.NoticeCounts
	rows, err := tx.query(ctx, "SELECT channel, status, COUNT(*) FROM release_notices WHERE feature_id = ? GROUP BY channel, status", featureID)
	if err != nil {
		return c, fmt.Errorf("notice counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch, st string
		var n int
		if err := rows.Scan(&ch, &st, &n); err != nil {
			return c, err
		}
		switch {
		case ch == "app":
			c.InApp += n
		case st == northstar.NoticeSent:
			c.Mailed += n
		case st == northstar.NoticePending:
			c.Pending += n
		case st == northstar.NoticeFailed:
			c.Failed += n
		case st == northstar.NoticeUnsubscribed:
			c.Unsubscribed += n
		}
	}
	return c, rows.Err()
}

// Unsubscribe records that the address of the notice with the token hash
// wants no more mail, and returns the address ("" for an unknown token).
func (tx *Tx) Unsubscribe(ctx context.Context, tokenHash string) (string, error) {
	var email string
	err := tx.queryRow(ctx, "SELECT email FROM release_notices WHERE token_hash = ?", tokenHash).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", translate(err)
	}
	if ok, err := tx.Unsubscribed(ctx, email); err != nil || ok {
		return email, err
	}
	if _, err := tx.exec(ctx, "INSERT INTO mail_unsubscribes (email, created_at) VALUES (?, ?)", email, tx.Now); err != nil {
		return "", fmt.Errorf("unsubscribe: %w", err)
	}
	_, err = tx.exec(ctx, "UPDATE release_notices SET status = ? WHERE email = ? AND status = ?", northstar.NoticeUnsubscribed, email, northstar.NoticePending)
	return email, translate(err)
}

// ReleasedFeatureIDs lists the released features of a release.
func (tx *Tx) ReleasedFeatureIDs(ctx context.Context, releaseID int64) ([]int64, error) {
	return tx.queryIDs(ctx, "released features", "SELECT id FROM features WHERE release_id = ? AND status = 'released' ORDER BY id", releaseID)
}

// FeatureRefByID returns the ref of a feature.
func (tx *Tx) FeatureRefByID(ctx context.Context, id int64) (string, error) {
	var key string
	var n int64
	err := tx.queryRow(ctx, "SELECT p.key, f.number FROM features f JOIN products p ON p.id = f.product_id WHERE f.id = ?", id).Scan(&key, &n)
	if err != nil {
		return "", translate(err)
	}
	return fmt.Sprintf("%s-%d", key, n), nil
}
