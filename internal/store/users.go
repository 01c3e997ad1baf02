package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
)

const userColumns = "id, email, name, admin, disabled, created_at, updated_at"

func scanUser(row interface{ Scan(...any) error }) (*northstar.User, error) {
	var u northstar.User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Admin, &u.Disabled, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error with msg.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return northstar.Errorf(northstar.ENOTFOUND, format, args...)
	}
	return translate(err)
}

// comparable reports whether a looked-up key can equal any stored text.
// PostgreSQL refuses to compare a NUL or invalid UTF-8, and the refusal
// aborts the transaction; nothing stored holds such text, so a lookup
// answers "not found" without asking, as it does on SQLite.
func comparable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// CreateUser inserts a user with an already hashed password.
func (tx *Tx) CreateUser(ctx context.Context, u *northstar.User, passwordHash string) error {
	u.CreatedAt, u.UpdatedAt = tx.Now, tx.Now
	id, err := tx.insert(ctx, `INSERT INTO users (email, name, password_hash, admin, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, u.Email, u.Name, passwordHash, u.Admin, u.Disabled, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Email, err)
	}
	u.ID = id
	return nil
}

// FindUserByID returns a user.
func (tx *Tx) FindUserByID(ctx context.Context, id int64) (*northstar.User, error) {
	u, err := scanUser(tx.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "User %d not found.", id)
	}
	return u, nil
}

// FindUserByEmail returns a user and the hash of their password.
func (tx *Tx) FindUserByEmail(ctx context.Context, email string) (*northstar.User, string, error) {
	var hash string
	var u northstar.User
	err := tx.queryRow(ctx, "SELECT "+userColumns+", password_hash FROM users WHERE email = ?", email).
		Scan(&u.ID, &u.Email, &u.Name, &u.Admin, &u.Disabled, &u.CreatedAt, &u.UpdatedAt, &hash)
	if err != nil {
		return nil, "", notFound(err, "No user with email %s.", email)
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, hash, nil
}

// PasswordHash returns the stored password hash of a user.
func (tx *Tx) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var hash string
	if err := tx.queryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", userID).Scan(&hash); err != nil {
		return "", notFound(err, "User %d not found.", userID)
	}
	return hash, nil
}

// FindUsers lists users ordered by email.
func (tx *Tx) FindUsers(ctx context.Context) ([]*northstar.User, error) {
	rows, err := tx.query(ctx, "SELECT "+userColumns+" FROM users ORDER BY email")
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	var users []*northstar.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("find users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// CountUsers returns the number of users.
func (tx *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, translate(err)
}

// UpdateUser writes a user's name, admin and disabled flags.
func (tx *Tx) UpdateUser(ctx context.Context, u *northstar.User) error {
	u.UpdatedAt = tx.Now
	_, err := tx.exec(ctx, "UPDATE users SET name = ?, admin = ?, disabled = ?, updated_at = ? WHERE id = ?",
		u.Name, u.Admin, u.Disabled, tx.Now, u.ID)
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.Email, err)
	}
	return nil
}

// SetPasswordHash replaces a user's password hash.
func (tx *Tx) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	_, err := tx.exec(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, tx.Now, userID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// CreateSession stores a session by the hash of its secret.
func (tx *Tx) CreateSession(ctx context.Context, s *northstar.Session, secretHash string) error {
	s.CreatedAt = tx.Now
	id, err := tx.insert(ctx, `INSERT INTO sessions (secret_hash, user_id, created_at, expires_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?)`, secretHash, s.UserID, tx.Now, s.ExpiresAt, tx.Now)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	s.ID = id
	return nil
}

// FindSession returns the unexpired session with the given secret hash.
func (tx *Tx) FindSession(ctx context.Context, secretHash string) (*northstar.Session, error) {
	var s northstar.Session
	err := tx.queryRow(ctx, "SELECT id, user_id, created_at, expires_at FROM sessions WHERE secret_hash = ? AND expires_at > ?",
		secretHash, tx.Now).Scan(&s.ID, &s.UserID, &s.CreatedAt, &s.ExpiresAt)
	if err != nil {
		return nil, notFound(err, "Session not found.")
	}
	return &s, nil
}

// TouchSession extends a session's expiry.
func (tx *Tx) TouchSession(ctx context.Context, id int64, expires time.Time) error {
	_, err := tx.exec(ctx, "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?", tx.Now, expires, id)
	return err
}

// DeleteSession removes a session by the hash of its secret.
func (tx *Tx) DeleteSession(ctx context.Context, secretHash string) error {
	_, err := tx.exec(ctx, "DELETE FROM sessions WHERE secret_hash = ?", secretHash)
	return err
}

// DeleteUserSessions removes every session of a user, except keep (0 for none).
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID, keep int64) error {
	_, err := tx.exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND id <> ?", userID, keep)
	return err
}

// DeleteExpiredSessions removes sessions past their expiry.
func (tx *Tx) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := tx.exec(ctx, "DELETE FROM sessions WHERE expires_at <= ?", tx.Now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CreateToken stores an API token by the hash of its secret.
func (tx *Tx) CreateToken(ctx context.Context, t *northstar.Token, secretHash string) error {
	t.CreatedAt = tx.Now
	id, err := tx.insert(ctx, `INSERT INTO tokens (user_id, name, prefix, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		t.UserID, t.Name, t.Prefix, secretHash, tx.Now)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	t.ID = id
	return nil
}

// FindToken returns the token with the given secret hash.
func (tx *Tx) FindToken(ctx context.Context, secretHash string) (*northstar.Token, error) {
	var t northstar.Token
	err := tx.queryRow(ctx, "SELECT id, user_id, name, prefix, created_at, last_used_at FROM tokens WHERE secret_hash = ?", secretHash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt)
	if err != nil {
		return nil, notFound(err, "Token not found.")
	}
	return &t, nil
}

// FindTokenUser returns the token with the given secret hash and its
// owner, in one query: every API request asks it.
func (tx *Tx) FindTokenUser(ctx context.Context, secretHash string) (*northstar.Token, *northstar.User, error) {
	var t northstar.Token
	var u northstar.User
	err := tx.queryRow(ctx, `SELECT t.id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at,
		u.id, u.email, u.name, u.admin, u.disabled, u.created_at, u.updated_at
		FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?`, secretHash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt,
			&u.ID, &u.Email, &u.Name, &u.Admin, &u.Disabled, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, nil, notFound(err, "Token not found.")
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &t, &u, nil
}

// TouchToken records that a token was used.
func (tx *Tx) TouchToken(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, "UPDATE tokens SET last_used_at = ? WHERE id = ?", tx.Now, id)
	return err
}

// FindTokens lists a user's tokens, newest first.
func (tx *Tx) FindTokens(ctx context.Context, userID int64) ([]*northstar.Token, error) {
	rows, err := tx.query(ctx, "SELECT id, user_id, name, prefix, created_at, last_used_at FROM tokens WHERE user_id = ? ORDER BY id DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("find tokens: %w", err)
	}
	defer rows.Close()
	var ts []*northstar.Token
	for rows.Next() {
		var t northstar.Token
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt); err != nil {
			return nil, fmt.Errorf("find tokens: %w", err)
		}
		ts = append(ts, &t)
	}
	return ts, rows.Err()
}

// DeleteToken removes one of a user's tokens and reports whether it existed.
func (tx *Tx) DeleteToken(ctx context.Context, userID, id int64) (bool, error) {
	res, err := tx.exec(ctx, "DELETE FROM tokens WHERE id = ? AND user_id = ?", id, userID)
	if err != nil {
		return false, fmt.Errorf("delete token: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Setting returns a setting's value, or def when unset.
func (tx *Tx) Setting(ctx context.Context, name, def string) (string, error) {
	var v string
	err := tx.queryRow(ctx, "SELECT value FROM settings WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	} else if err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return v, nil
}

// SetSetting stores a setting.
func (tx *Tx) SetSetting(ctx context.Context, name, value string) error {
	_, err := tx.exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("write setting %s: %w", name, err)
	}
	return nil
}
