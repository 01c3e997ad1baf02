package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/northstar-pm/northstar"
)

const productColumns = "p.id, p.key, p.name, p.description, p.vision, p.stage, p.archived, p.version, p.created_at, p.updated_at"

func scanProduct(row interface{ Scan(...any) error }, extra ...any) (*northstar.Product, error) {
	var p northstar.Product
	dest := append([]any{&p.ID, &p.Key, &p.Name, &p.Description, &p.Vision, &p.Stage, &p.Archived, &p.Version, &p.CreatedAt, &p.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

// CreateProduct inserts a product at version 1.
func (tx *Tx) CreateProduct(ctx context.Context, p *northstar.Product, createdBy int64) error {
	p.Version = 1
	if p.CreatedAt.IsZero() {
		p.CreatedAt = tx.Now
	}
	p.UpdatedAt = tx.Now
	id, err := tx.insert(ctx, `INSERT INTO products (key, name, description, vision, stage, archived, version, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
		p.Key, p.Name, p.Description, p.Vision, p.Stage, p.Archived, createdBy, p.CreatedAt, p.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create product %s: %w", p.Key, err)
	}
	p.ID = id
	return nil
}

// FindProductByKey returns a product.
func (tx *Tx) FindProductByKey(ctx context.Context, key string) (*northstar.Product, error) {
	if !comparable(key) {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Product %q not found.", key)
	}
	p, err := scanProduct(tx.queryRow(ctx, "SELECT "+productColumns+" FROM products p WHERE p.key = ?", key))
	if err != nil {
		return nil, notFound(err, "Product %s not found.", key)
	}
	return p, nil
}

// FindProductWithRole returns a product and the user's role in it ("" if
// they are not a member), in one query: every request that touches a
// product asks this first.
func (tx *Tx) FindProductWithRole(ctx context.Context, key string, userID int64) (*northstar.Product, error) {
	if !comparable(key) {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Product %q not found.", key)
	}
	var role string
	p, err := scanProduct(tx.queryRow(ctx, "SELECT "+productColumns+", COALESCE(m.role, '') FROM products p LEFT JOIN members m ON m.product_id = p.id AND m.user_id = ? WHERE p.key = ?", userID, key), &role)
	if err != nil {
		return nil, notFound(err, "Product %s not found.", key)
	}
	p.Role = northstar.Role(role)
	return p, nil
}

// FindProducts lists the products a user may see, ordered by key, with the
// user's role in each. Admins see every product.
func (tx *Tx) FindProducts(ctx context.Context, user *northstar.User, f northstar.ProductFilter) ([]*northstar.Product, error) {
	q := "SELECT " + productColumns + ", COALESCE(m.role, '') FROM products p LEFT JOIN members m ON m.product_id = p.id AND m.user_id = ? WHERE 1=1"
	args := []any{user.ID}
	if !user.Admin {
		q += " AND m.role IS NOT NULL"
	}
	if !f.IncludeArchived {
		q += " AND p.archived = ?"
		args = append(args, false)
	}
	if f.After != "" {
		q += " AND p.key > ?"
		args = append(args, f.After)
	}
	q += " ORDER BY p.key"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find products: %w", err)
	}
	defer rows.Close()
	var ps []*northstar.Product
	for rows.Next() {
		var role string
		p, err := scanProduct(rows, &role)
		if err != nil {
			return nil, fmt.Errorf("find products: %w", err)
		}
		p.Role = northstar.Role(role)
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// UpdateProduct writes a product's fields if its stored version is still
// p.Version, and increments the version. A stale version is a conflict.
func (tx *Tx) UpdateProduct(ctx context.Context, p *northstar.Product) error {
	res, err := tx.exec(ctx, `UPDATE products SET name = ?, description = ?, vision = ?, stage = ?, archived = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		p.Name, p.Description, p.Vision, p.Stage, p.Archived, tx.Now, p.ID, p.Version)
	if err != nil {
		return fmt.Errorf("update product %s: %w", p.Key, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update product %s: %w", p.Key, err)
	} else if n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Product %s was changed by someone else (your version %d is stale); reload and try again.", p.Key, p.Version)
	}
	p.Version++
	p.UpdatedAt = tx.Now
	return nil
}

// AddStageChange appends an entry to a product's lifecycle history.
func (tx *Tx) AddStageChange(ctx context.Context, productID int64, c *northstar.StageChange) error {
	if c.At.IsZero() {
		c.At = tx.Now
	}
	var from any
	if c.From != "" {
		from = c.From
	}
	id, err := tx.insert(ctx, `INSERT INTO product_stages (product_id, from_stage, to_stage, note, actor_id, at) VALUES (?, ?, ?, ?, ?, ?)`,
		productID, from, c.To, c.Note, c.ActorID, c.At)
	if err != nil {
		return fmt.Errorf("add stage change: %w", err)
	}
	c.ID = id
	return nil
}

// FindStageChanges returns a product's lifecycle history, oldest first.
func (tx *Tx) FindStageChanges(ctx context.Context, productID int64) ([]*northstar.StageChange, error) {
	rows, err := tx.query(ctx, `SELECT s.id, COALESCE(s.from_stage, ''), s.to_stage, s.note, COALESCE(s.actor_id, 0), COALESCE(u.name, ''), s.at
		FROM product_stages s LEFT JOIN users u ON u.id = s.actor_id WHERE s.product_id = ? ORDER BY s.id`, productID)
	if err != nil {
		return nil, fmt.Errorf("find stage changes: %w", err)
	}
	defer rows.Close()
	var cs []*northstar.StageChange
	for rows.Next() {
		var c northstar.StageChange
		if err := rows.Scan(&c.ID, &c.From, &c.To, &c.Note, &c.ActorID, &c.Actor, &c.At); err != nil {
			return nil, fmt.Errorf("find stage changes: %w", err)
		}
		c.At = c.At.UTC()
		cs = append(cs, &c)
	}
	return cs, rows.Err()
}

// MemberRole returns a user's role in a product, or "" if they are not a member.
func (tx *Tx) MemberRole(ctx context.Context, productID, userID int64) (northstar.Role, error) {
	var role northstar.Role
	err := tx.queryRow(ctx, "SELECT role FROM members WHERE product_id = ? AND user_id = ?", productID, userID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("member role: %w", err)
	}
	return role, nil
}

// FindMembers lists a product's members by role, then name.
func (tx *Tx) FindMembers(ctx context.Context, productID int64) ([]*northstar.Member, error) {
	rows, err := tx.query(ctx, `SELECT u.id, u.email, u.name, m.role, m.created_at FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.product_id = ? ORDER BY CASE m.role WHEN 'product_manager' THEN 1 WHEN 'product_owner' THEN 2
		WHEN 'developer' THEN 3 WHEN 'stakeholder' THEN 4 ELSE 5 END, u.name, u.email`, productID)
	if err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	defer rows.Close()
	var ms []*northstar.Member
	for rows.Next() {
		var m northstar.Member
		if err := rows.Scan(&m.UserID, &m.Email, &m.Name, &m.Role, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("find members: %w", err)
		}
		m.CreatedAt = m.CreatedAt.UTC()
		ms = append(ms, &m)
	}
	return ms, rows.Err()
}

// SetMember adds a member or changes their role.
func (tx *Tx) SetMember(ctx context.Context, productID, userID int64, role northstar.Role) error {
	_, err := tx.exec(ctx, `INSERT INTO members (product_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (product_id, user_id) DO UPDATE SET role = excluded.role`, productID, userID, role, tx.Now)
	if err != nil {
		return fmt.Errorf("set member: %w", err)
	}
	return nil
}

// DeleteMember removes a member and reports whether they were one.
func (tx *Tx) DeleteMember(ctx context.Context, productID, userID int64) (bool, error) {
	res, err := tx.exec(ctx, "DELETE FROM members WHERE product_id = ? AND user_id = ?", productID, userID)
	if err != nil {
		return false, fmt.Errorf("delete member: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CountMembersWithRole counts a product's members with a role.
func (tx *Tx) CountMembersWithRole(ctx context.Context, productID int64, role northstar.Role) (int, error) {
	var n int
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM members WHERE product_id = ? AND role = ?", productID, role).Scan(&n)
	return n, translate(err)
}

// RolesOf returns the distinct roles a user holds across products.
func (tx *Tx) RolesOf(ctx context.Context, userID int64) ([]northstar.Role, error) {
	rows, err := tx.query(ctx, "SELECT DISTINCT role FROM members WHERE user_id = ?", userID)
	if err != nil {
		return nil, fmt.Errorf("roles of user %d: %w", userID, err)
	}
	defer rows.Close()
	var roles []northstar.Role
	for rows.Next() {
		var r northstar.Role
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	return roles, rows.Err()
}

// HasRoleAnywhere reports whether a user has a role in at least one product.
func (tx *Tx) HasRoleAnywhere(ctx context.Context, userID int64, role northstar.Role) (bool, error) {
	var n int
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM members WHERE user_id = ? AND role = ?", userID, role).Scan(&n)
	return n > 0, translate(err)
}

// CreateInvitation stores an invitation by the hash of its secret.
func (tx *Tx) CreateInvitation(ctx context.Context, inv *northstar.Invitation, productID *int64, invitedBy int64, secretHash string) error {
	inv.CreatedAt = tx.Now
	var role any
	if inv.Role != "" {
		role = inv.Role
	}
	id, err := tx.insert(ctx, `INSERT INTO invitations (email, product_id, role, secret_hash, invited_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, inv.Email, productID, role, secretHash, invitedBy, tx.Now, inv.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create invitation: %w", err)
	}
	inv.ID = id
	return nil
}

const invitationSelect = `SELECT i.id, i.email, COALESCE(p.key, ''), COALESCE(i.role, ''), COALESCE(u.name, ''), i.created_at, i.expires_at, i.accepted_at
	FROM invitations i LEFT JOIN products p ON p.id = i.product_id LEFT JOIN users u ON u.id = i.invited_by`

func scanInvitation(row interface{ Scan(...any) error }) (*northstar.Invitation, error) {
	var inv northstar.Invitation
	if err := row.Scan(&inv.ID, &inv.Email, &inv.ProductKey, &inv.Role, &inv.InvitedBy, &inv.CreatedAt, &inv.ExpiresAt, &inv.AcceptedAt); err != nil {
		return nil, err
	}
	return &inv, nil
}

// FindInvitation returns the open (unaccepted, unexpired) invitation with
// the given secret hash.
func (tx *Tx) FindInvitation(ctx context.Context, secretHash string) (*northstar.Invitation, error) {
	inv, err := scanInvitation(tx.queryRow(ctx, invitationSelect+" WHERE i.secret_hash = ? AND i.accepted_at IS NULL AND i.expires_at > ?", secretHash, tx.Now))
	if err != nil {
		return nil, notFound(err, "This invitation is not valid: it was used, has expired or never existed.")
	}
	return inv, nil
}

// FindInvitations lists invitations, newest first.
func (tx *Tx) FindInvitations(ctx context.Context) ([]*northstar.Invitation, error) {
	rows, err := tx.query(ctx, invitationSelect+" ORDER BY i.id DESC LIMIT 200")
	if err != nil {
		return nil, fmt.Errorf("find invitations: %w", err)
	}
	defer rows.Close()
	var invs []*northstar.Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("find invitations: %w", err)
		}
		invs = append(invs, inv)
	}
	return invs, rows.Err()
}

// AcceptInvitation marks an invitation used.
func (tx *Tx) AcceptInvitation(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, "UPDATE invitations SET accepted_at = ? WHERE id = ?", tx.Now, id)
	return err
}

// DeleteInvitation removes an open invitation.
func (tx *Tx) DeleteInvitation(ctx context.Context, id int64) (bool, error) {
	res, err := tx.exec(ctx, "DELETE FROM invitations WHERE id = ? AND accepted_at IS NULL", id)
	if err != nil {
		return false, fmt.Errorf("delete invitation: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
