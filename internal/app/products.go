package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// CreateProduct creates a product. Its creator becomes its product manager,
// and its lifecycle history starts with the initial stage.
func (a *App) CreateProduct(ctx context.Context, in northstar.NewProduct) (*northstar.Product, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	p := &northstar.Product{Key: in.Key, Name: in.Name, Description: in.Description, Vision: in.Vision, Stage: in.Stage}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, err := authorizeOrg(ctx, tx, northstar.OrgCreateProduct)
		if err != nil {
			return err
		}
		if err := tx.CreateProduct(ctx, p, user.ID); err != nil {
			if store.IsDuplicate(err) {
				return &northstar.Error{Code: northstar.ECONFLICT, Field: "key", Message: fmt.Sprintf("A product with key %s already exists.", p.Key)}
			}
			return err
		}
		if err := tx.AddStageChange(ctx, p.ID, &northstar.StageChange{To: p.Stage, Note: "Product created.", ActorID: user.ID}); err != nil {
			return err
		}
		p.Role = northstar.RoleProductManager
		if err := tx.SetMember(ctx, p.ID, user.ID, northstar.RoleProductManager); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, productChange(p, "created", nil, p))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create product %s: %w", in.Key, err)
	}
	return p, nil
}

// productChange describes a change to a product for the activity log.
func productChange(p *northstar.Product, action string, before, after any) change {
	return change{productID: p.ID, productKey: p.Key, kind: northstar.KindProduct, itemID: p.ID, ref: p.Key, action: action, before: before, after: after}
}

// normalizeKey upper-cases a product key from a URL, so /products/book works.
func normalizeKey(key string) string { return strings.ToUpper(strings.TrimSpace(key)) }

// Product returns a product the current user may read.
func (a *App) Product(ctx context.Context, key string) (*northstar.Product, error) {
	var p *northstar.Product
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		_, p, err = authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		return err
	})
	return p, err
}

// Products lists the products the current user may read.
func (a *App) Products(ctx context.Context, f northstar.ProductFilter) ([]*northstar.Product, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var ps []*northstar.Product
	err = a.db.View(ctx, func(tx *store.Tx) error {
		ps, err = tx.FindProducts(ctx, user, f)
		return err
	})
	return ps, err
}

// UpdateProduct changes a product's details if it is still at version
// (0 skips the check). Archiving is allowed on a retired product; any
// other change to it is refused.
func (a *App) UpdateProduct(ctx context.Context, key string, version int, u northstar.ProductUpdate) (*northstar.Product, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	var p *northstar.Product
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		action := northstar.ActionManageProduct
		if u.Name == nil && u.Description == nil && u.Vision == nil {
			action = northstar.ActionChangeStage // only archiving: allowed while retired
		}
		user, prod, err := authorize(ctx, tx, key, action)
		if err != nil {
			return err
		}
		p = prod
		if err := checkVersion("Product "+key, p.Version, version); err != nil {
			return err
		}
		before := northstar.Snapshot(p)
		u.Apply(p)
		if err := tx.UpdateProduct(ctx, p); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, productChange(p, "updated", before, p))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update product %s: %w", key, err)
	}
	return p, nil
}

// checkVersion refuses a change made against a stale version; want 0 means
// the caller did not say which version it saw.
func checkVersion(what string, have, want int) error {
	if want != 0 && want != have {
		return northstar.Errorf(northstar.ECONFLICT, "%s was changed by someone else (you have version %d, the current one is %d); reload and try again.", what, want, have)
	}
	return nil
}

// ChangeStage moves a product to another lifecycle stage and records it in
// the history. Moving backwards needs a note.
func (a *App) ChangeStage(ctx context.Context, key string, to northstar.Stage, note string, version int) (*northstar.Product, error) {
	key = normalizeKey(key)
	var p *northstar.Product
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, prod, err := authorize(ctx, tx, key, northstar.ActionChangeStage)
		if err != nil {
			return err
		}
		p = prod
		if err := checkVersion("Product "+key, p.Version, version); err != nil {
			return err
		}
		if err := northstar.CheckStageChange(p.Stage, to, &note); err != nil {
			return err
		}
		change := &northstar.StageChange{From: p.Stage, To: to, Note: note, ActorID: user.ID}
		p.Stage = to
		if err := tx.UpdateProduct(ctx, p); err != nil {
			return err
		}
		if err := tx.AddStageChange(ctx, p.ID, change); err != nil {
			return err
		}
		// Everyone in the product hears of its stage changes.
		c := productChange(p, "stage_changed", nil, nil)
		c.skipDiff, c.members = true, true
		c.changes = []northstar.FieldChange{{Field: "stage", Old: change.From, New: change.To}}
		if note != "" {
			c.changes = append(c.changes, northstar.FieldChange{Field: "note", New: note})
		}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("change stage of %s: %w", key, err)
	}
	return p, nil
}

// StageHistory returns a product's lifecycle history, oldest first.
func (a *App) StageHistory(ctx context.Context, key string) ([]*northstar.StageChange, error) {
	var cs []*northstar.StageChange
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		cs, err = tx.FindStageChanges(ctx, p.ID)
		return err
	})
	return cs, err
}

// Members lists a product's members.
func (a *App) Members(ctx context.Context, key string) ([]*northstar.Member, error) {
	var ms []*northstar.Member
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		ms, err = tx.FindMembers(ctx, p.ID)
		return err
	})
	return ms, err
}

// SetMember gives the user with the given e-mail a role in a product,
// adding them if they are not a member yet.
func (a *App) SetMember(ctx context.Context, key, email string, role northstar.Role) (*northstar.Member, error) {
	key = normalizeKey(key)
	email = strings.ToLower(strings.TrimSpace(email))
	if !role.Valid() {
		return nil, northstar.FieldError("role", "role %q is not one of %s.", role, northstar.RoleList())
	}
	var m *northstar.Member
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, key, northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		u, _, err := tx.FindUserByEmail(ctx, email)
		if err != nil {
			if isNotFound(err) {
				return &northstar.Error{Code: northstar.ENOTFOUND, Field: "email", Message: fmt.Sprintf("No user with email %s; invite them first.", email)}
			}
			return err
		}
		old, err := tx.MemberRole(ctx, p.ID, u.ID)
		if err != nil {
			return err
		}
		if old == northstar.RoleProductManager && role != northstar.RoleProductManager {
			if err := keepOneManager(ctx, tx, p); err != nil {
				return err
			}
		}
		if err := tx.SetMember(ctx, p.ID, u.ID, role); err != nil {
			return err
		}
		m = &northstar.Member{UserID: u.ID, Email: u.Email, Name: u.Name, Role: role, CreatedAt: tx.Now}
		c := productChange(p, "member_set", nil, nil)
		c.skipDiff, c.changes = true, []northstar.FieldChange{{Field: "member", New: u.Email}, {Field: "role", Old: old, New: role}}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set member %s of %s: %w", email, key, err)
	}
	return m, nil
}

// RemoveMember removes a user from a product.
func (a *App) RemoveMember(ctx context.Context, key, email string) error {
	key = normalizeKey(key)
	email = strings.ToLower(strings.TrimSpace(email))
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, key, northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		u, _, err := tx.FindUserByEmail(ctx, email)
		if err != nil {
			return err
		}
		role, err := tx.MemberRole(ctx, p.ID, u.ID)
		if err != nil {
			return err
		}
		if role == "" {
			return northstar.Errorf(northstar.ENOTFOUND, "%s is not a member of %s.", email, key)
		}
		if role == northstar.RoleProductManager {
			if err := keepOneManager(ctx, tx, p); err != nil {
				return err
			}
		}
		if _, err = tx.DeleteMember(ctx, p.ID, u.ID); err != nil {
			return err
		}
		c := productChange(p, "member_removed", nil, nil)
		c.skipDiff, c.changes = true, []northstar.FieldChange{{Field: "member", Old: u.Email}, {Field: "role", Old: role}}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove member %s from %s: %w", email, key, err)
	}
	return nil
}

// keepOneManager refuses to remove a product's last product manager: a
// product without one could no longer be managed except by an admin.
func keepOneManager(ctx context.Context, tx *store.Tx, p *northstar.Product) error {
	n, err := tx.CountMembersWithRole(ctx, p.ID, northstar.RoleProductManager)
	if err != nil {
		return err
	}
	if n <= 1 {
		return northstar.Errorf(northstar.EUNPROCESSABLE, "%s needs at least one product manager; make someone else product manager first.", p.Key)
	}
	return nil
}
