package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// Strategy returns a product's strategy page.
func (a *App) Strategy(ctx context.Context, key string) (*northstar.Strategy, error) {
	return readProduct(ctx, a, key, func(tx *store.Tx, p *northstar.Product) (*northstar.Strategy, error) {
		return tx.FindStrategy(ctx, p)
	})
}

// UpdateStrategy changes the strategy's texts if the product is still at
// version (0 skips the check).
func (a *App) UpdateStrategy(ctx context.Context, key string, version int, u northstar.StrategyUpdate) (*northstar.Strategy, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	var st *northstar.Strategy
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, key, northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if err := checkVersion("Product "+key, p.Version, version); err != nil {
			return err
		}
		cur, err := tx.FindStrategy(ctx, p)
		if err != nil {
			return err
		}
		before := northstar.Snapshot(cur)
		if u.Vision != nil {
			p.Vision = *u.Vision
		}
		if u.TargetMarket != nil {
			cur.TargetMarket = *u.TargetMarket
		}
		if u.NorthStarMetric != nil {
			cur.NorthStarMetric = *u.NorthStarMetric
		}
		if err := tx.UpdateProduct(ctx, p); err != nil {
			return err
		}
		if err := tx.SetStrategyTexts(ctx, p.ID, cur.TargetMarket, cur.NorthStarMetric); err != nil {
			return err
		}
		if st, err = tx.FindStrategy(ctx, p); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, productChange(p, "strategy_updated", before, st))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update strategy of %s: %w", key, err)
	}
	return st, nil
}

// SaveSegment creates (ID 0) or changes a segment of a product.
func (a *App) SaveSegment(ctx context.Context, key string, s northstar.Segment) (*northstar.Segment, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, key, northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if s.ID == 0 {
			if n, err := tx.CountRows(ctx, "segments", p.ID); err != nil {
				return err
			} else if n >= northstar.MaxSegments {
				return northstar.Errorf(northstar.EUNPROCESSABLE, "%s already has %d segments, the most a product may have.", key, northstar.MaxSegments)
			}
			err = tx.CreateSegment(ctx, p.ID, &s)
		} else {
			err = tx.UpdateSegment(ctx, p.ID, &s)
		}
		if store.IsDuplicate(err) {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "name", Message: fmt.Sprintf("%s already has a segment named %q.", key, s.Name)}
		}
		if err != nil {
			return err
		}
		return a.recordPart(ctx, tx, user, p, "segment_saved", s)
	})
	if err != nil {
		return nil, fmt.Errorf("save segment: %w", err)
	}
	return &s, nil
}

// DeleteSegment removes a segment.
func (a *App) DeleteSegment(ctx context.Context, key string, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if err := tx.DeleteSegment(ctx, p.ID, id); err != nil {
			return err
		}
		return a.recordPart(ctx, tx, user, p, "segment_deleted", map[string]any{"id": id})
	})
}

// SavePersona creates (ID 0) or changes a persona of a product.
func (a *App) SavePersona(ctx context.Context, key string, pe northstar.Persona) (*northstar.Persona, error) {
	if err := pe.Validate(); err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, key, northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if pe.ID == 0 {
			if n, err := tx.CountRows(ctx, "personas", p.ID); err != nil {
				return err
			} else if n >= northstar.MaxPersonas {
				return northstar.Errorf(northstar.EUNPROCESSABLE, "%s already has %d personas, the most a product may have.", key, northstar.MaxPersonas)
			}
			err = tx.CreatePersona(ctx, p.ID, &pe)
		} else {
			err = tx.UpdatePersona(ctx, p.ID, &pe)
		}
		if store.IsDuplicate(err) {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "name", Message: fmt.Sprintf("%s already has a persona named %q.", key, pe.Name)}
		}
		if err != nil {
			return err
		}
		return a.recordPart(ctx, tx, user, p, "persona_saved", pe)
	})
	if err != nil {
		return nil, fmt.Errorf("save persona: %w", err)
	}
	return &pe, nil
}

// DeletePersona removes a persona.
func (a *App) DeletePersona(ctx context.Context, key string, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if err := tx.DeletePersona(ctx, p.ID, id); err != nil {
			return err
		}
		return a.recordPart(ctx, tx, user, p, "persona_deleted", map[string]any{"id": id})
	})
}

// recordPart logs a change to a part of a product (a segment, a persona)
// on the product, with the part's fields.
func (a *App) recordPart(ctx context.Context, tx *store.Tx, user *northstar.User, p *northstar.Product, action string, part any) error {
	c := productChange(p, action, nil, nil)
	c.skipDiff, c.changes = true, northstar.Diff(nil, part)
	_, err := a.record(ctx, tx, user, c)
	return err
}

// --- Objectives and key results ---

// objectiveChange describes a change to an objective for the activity
// log; company objectives go to the organization's log.
func objectiveChange(o *northstar.Objective, action string, before, after any) change {
	return change{productID: o.ProductID, productKey: o.ProductKey, kind: northstar.KindObjective, itemID: o.ID, ref: fmt.Sprint(o.ID), action: action, before: before, after: after}
}

// authorizeObjective checks that the current user may read (write false)
// or change (write true) an objective: a product's objectives follow the
// product's permissions, company objectives are read by everyone signed
// in and changed by admins and product managers.
func authorizeObjective(ctx context.Context, tx *store.Tx, o *northstar.Objective, write bool) (*northstar.User, error) {
	if o.ProductKey != "" {
		action := northstar.ActionRead
		if write {
			action = northstar.ActionManageProduct
		}
		user, _, err := authorize(ctx, tx, o.ProductKey, action)
		if northstar.ErrorCode(err) == northstar.ENOTFOUND {
			return nil, northstar.Errorf(northstar.ENOTFOUND, "Objective %d not found.", o.ID)
		}
		return user, err
	}
	if write {
		return authorizeOrg(ctx, tx, northstar.OrgManageObjectives)
	}
	return currentUser(ctx)
}

// loadObjective loads an objective the current user may read or change.
func loadObjective(ctx context.Context, tx *store.Tx, id int64, write bool) (*northstar.User, *northstar.Objective, error) {
	if _, err := currentUser(ctx); err != nil {
		return nil, nil, err
	}
	o, err := tx.FindObjective(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	user, err := authorizeObjective(ctx, tx, o, write)
	if err != nil {
		return nil, nil, err
	}
	return user, o, nil
}

// Objectives lists a product's objectives (key "") or the company's,
// with key results and check-ins; company objectives come with the
// product objectives that roll up to them, as far as the user may read.
func (a *App) Objectives(ctx context.Context, key string) ([]*northstar.Objective, error) {
	var out []*northstar.Objective
	err := a.db.View(ctx, func(tx *store.Tx) error {
		user, err := currentUser(ctx)
		if err != nil {
			return err
		}
		var productID int64
		if key != "" {
			_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
			if err != nil {
				return err
			}
			productID = p.ID
		}
		if out, err = tx.FindObjectives(ctx, productID, true); err != nil {
			return err
		}
		if key != "" || len(out) == 0 {
			return hideUnreadableFeatures(ctx, tx, user, out...)
		}
		ids := make([]int64, len(out))
		byID := map[int64]*northstar.Objective{}
		for i, o := range out {
			ids[i], byID[o.ID] = o.ID, o
		}
		children, err := tx.FindChildObjectives(ctx, ids, user)
		if err != nil {
			return err
		}
		for _, c := range children {
			byID[*c.ParentID].Children = append(byID[*c.ParentID].Children, c)
		}
		return hideUnreadableFeatures(ctx, tx, user, out...)
	})
	return out, err
}

// Objective returns one objective the current user may read.
func (a *App) Objective(ctx context.Context, id int64) (*northstar.Objective, error) {
	var o *northstar.Objective
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		var user *northstar.User
		if user, o, err = loadObjective(ctx, tx, id, false); err != nil {
			return err
		}
		return hideUnreadableFeatures(ctx, tx, user, o)
	})
	return o, err
}

// hideUnreadableFeatures drops the features linked to key results that
// belong to products the user may not read: a company objective's key
// results may be moved by any product's features, and the objective is
// shown to everyone.
func hideUnreadableFeatures(ctx context.Context, tx *store.Tx, user *northstar.User, objs ...*northstar.Objective) error {
	if user.Admin {
		return nil
	}
	var member map[int64]bool
	queue := slices.Clone(objs) // and their children, as they come
	for len(queue) > 0 {
		o := queue[0]
		queue = append(queue[1:], o.Children...)
		for _, kr := range o.KeyResults {
			kept := kr.Features[:0]
			for _, f := range kr.Features {
				if member == nil {
					var err error
					if member, err = tx.MemberProducts(ctx, user.ID); err != nil {
						return err
					}
				}
				if member[f.ProductID] {
					kept = append(kept, f)
				}
			}
			kr.Features = kept
		}
	}
	return nil
}

// LinkKeyResultFeature links a feature to a key result as meant to move
// it. A product objective's key results take that product's features; a
// company objective's take any feature the person may read.
func (a *App) LinkKeyResultFeature(ctx context.Context, id, krID int64, ref string) (*northstar.Objective, error) {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	if ref == "" {
		return nil, northstar.FieldError("feature", "feature is required: the ref of the feature meant to move the key result, like BOOK-12.")
	}
	return a.objectivePart(ctx, id, func(tx *store.Tx, _ *northstar.User, o *northstar.Objective) error {
		kr, err := findKeyResult(o, krID)
		if err != nil {
			return err
		}
		_, p, f, err := loadFeature(ctx, tx, ref, northstar.ActionRead)
		if northstar.ErrorCode(err) == northstar.ENOTFOUND {
			return northstar.FieldError("feature", "Feature %q not found.", ref)
		} else if err != nil {
			return err
		}
		if o.ProductKey != "" && p.ID != o.ProductID {
			return northstar.FieldError("feature", "%s is not a feature of %s, whose objective this is.", f.Ref, o.ProductKey)
		}
		if len(kr.Features) >= northstar.MaxKeyResultFeatures && !slices.ContainsFunc(kr.Features, func(l *northstar.KeyResultFeature) bool { return l.Ref == f.Ref }) {
			return northstar.FieldError("feature", "Key result %q already has %d features, the most it may have.", kr.Name, northstar.MaxKeyResultFeatures)
		}
		return tx.LinkKeyResultFeature(ctx, krID, f.ID)
	})
}

// UnlinkKeyResultFeature removes a feature from a key result.
func (a *App) UnlinkKeyResultFeature(ctx context.Context, id, krID int64, ref string) (*northstar.Objective, error) {
	return a.objectivePart(ctx, id, func(tx *store.Tx, _ *northstar.User, o *northstar.Objective) error {
		if _, err := findKeyResult(o, krID); err != nil {
			return err
		}
		_, _, f, err := loadFeature(ctx, tx, strings.ToUpper(strings.TrimSpace(ref)), northstar.ActionRead)
		if err != nil {
			return err
		}
		return tx.UnlinkKeyResultFeature(ctx, krID, f.ID)
	})
}

// resolveObjectiveFields resolves the owner and checks the parent.
func resolveObjectiveFields(ctx context.Context, tx *store.Tx, o *northstar.Objective, in northstar.ObjectiveInput) error {
	o.Owner = nil
	if strings.TrimSpace(in.Owner) != "" {
		u, err := tx.FindUserRef(ctx, in.Owner)
		if err != nil {
			if isNotFound(err) {
				return northstar.FieldError("owner", "No user with email %s.", strings.TrimSpace(in.Owner))
			}
			return err
		}
		o.Owner = u
	}
	o.ParentID = in.ParentID
	if in.ParentID != nil {
		if o.ProductID == 0 {
			return northstar.FieldError("parent_id", "A company objective cannot roll up to another objective.")
		}
		parent, err := tx.FindObjective(ctx, *in.ParentID)
		if err != nil {
			if isNotFound(err) {
				return northstar.FieldError("parent_id", "Objective %d not found.", *in.ParentID)
			}
			return err
		}
		if parent.ProductKey != "" {
			return northstar.FieldError("parent_id", "A product objective rolls up to a company objective, not to objective %d of %s.", parent.ID, parent.ProductKey)
		}
	}
	o.Title, o.Description, o.Start, o.End, o.Status = in.Title, in.Description, in.Start, in.End, in.Status
	return nil
}

// CreateObjective creates a product objective (key given) or a company
// objective (key ""), with its key results.
func (a *App) CreateObjective(ctx context.Context, key string, in northstar.ObjectiveInput) (*northstar.Objective, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	o := &northstar.Objective{KeyResults: []*northstar.KeyResult{}}
	for _, kr := range in.KeyResults {
		o.KeyResults = append(o.KeyResults, &northstar.KeyResult{Name: kr.Name, Unit: kr.Unit, Start: *kr.Start, Target: *kr.Target, Current: *kr.Current, CheckIns: []*northstar.CheckIn{}})
	}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		var user *northstar.User
		var err error
		if key != "" {
			var p *northstar.Product
			if user, p, err = authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct); err != nil {
				return err
			}
			o.ProductID, o.ProductKey = p.ID, p.Key
		} else if user, err = authorizeOrg(ctx, tx, northstar.OrgManageObjectives); err != nil {
			return err
		}
		if err := resolveObjectiveFields(ctx, tx, o, in); err != nil {
			return err
		}
		if err := tx.CreateObjective(ctx, o, user.ID); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, objectiveChange(o, "created", nil, o))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create objective: %w", err)
	}
	return o, nil
}

// UpdateObjective changes an objective if it is still at version (0 skips
// the check). Key results change through their own calls.
func (a *App) UpdateObjective(ctx context.Context, id int64, version int, in northstar.ObjectiveInput) (*northstar.Objective, error) {
	in.KeyResults = nil
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var o *northstar.Objective
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, obj, err := loadObjective(ctx, tx, id, true)
		if err != nil {
			return err
		}
		o = obj
		if err := checkVersion(fmt.Sprintf("Objective %d", id), o.Version, version); err != nil {
			return err
		}
		before := northstar.Snapshot(o)
		if err := resolveObjectiveFields(ctx, tx, o, in); err != nil {
			return err
		}
		if err := tx.UpdateObjective(ctx, o); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, objectiveChange(o, "updated", before, o))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update objective %d: %w", id, err)
	}
	return o, nil
}

// DeleteObjective removes an objective; objectives rolling up to it stay,
// without a parent.
func (a *App) DeleteObjective(ctx context.Context, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		user, o, err := loadObjective(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := tx.DeleteObjective(ctx, id); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, objectiveChange(o, "deleted", northstar.Snapshot(o), nil))
		return err
	})
}

// objectivePart changes an objective's key results in one transaction and
// returns the objective as it then is.
func (a *App) objectivePart(ctx context.Context, id int64, change func(tx *store.Tx, user *northstar.User, o *northstar.Objective) error) (*northstar.Objective, error) {
	var o *northstar.Objective
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, obj, err := loadObjective(ctx, tx, id, true)
		if err != nil {
			return err
		}
		before := northstar.Snapshot(obj)
		if err := change(tx, user, obj); err != nil {
			return err
		}
		if err := tx.TouchObjective(ctx, id); err != nil {
			return err
		}
		if o, err = tx.FindObjective(ctx, id); err != nil {
			return err
		}
		if _, err = a.record(ctx, tx, user, objectiveChange(o, "updated", before, o)); err != nil {
			return err
		}
		return hideUnreadableFeatures(ctx, tx, user, o)
	})
	if err != nil {
		return nil, fmt.Errorf("change objective %d: %w", id, err)
	}
	return o, nil
}

func findKeyResult(o *northstar.Objective, id int64) (*northstar.KeyResult, error) {
	for _, kr := range o.KeyResults {
		if kr.ID == id {
			return kr, nil
		}
	}
	return nil, northstar.Errorf(northstar.ENOTFOUND, "Key result %d not found on objective %d.", id, o.ID)
}

// AddKeyResult adds a key result to an objective.
func (a *App) AddKeyResult(ctx context.Context, id int64, in northstar.KeyResultInput) (*northstar.Objective, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return a.objectivePart(ctx, id, func(tx *store.Tx, _ *northstar.User, o *northstar.Objective) error {
		if len(o.KeyResults) >= northstar.MaxKeyResults {
			return northstar.FieldError("key_results", "Objective %d already has %d key results, the most it may have.", id, northstar.MaxKeyResults)
		}
		kr := &northstar.KeyResult{Name: in.Name, Unit: in.Unit, Start: *in.Start, Target: *in.Target, Current: *in.Current}
		return tx.CreateKeyResult(ctx, id, len(o.KeyResults)+1, kr)
	})
}

// UpdateKeyResult changes a key result's definition.
func (a *App) UpdateKeyResult(ctx context.Context, id, krID int64, in northstar.KeyResultInput) (*northstar.Objective, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return a.objectivePart(ctx, id, func(tx *store.Tx, _ *northstar.User, o *northstar.Objective) error {
		kr, err := findKeyResult(o, krID)
		if err != nil {
			return err
		}
		kr.Name, kr.Unit, kr.Start, kr.Target, kr.Current = in.Name, in.Unit, *in.Start, *in.Target, *in.Current
		return tx.UpdateKeyResult(ctx, id, kr)
	})
}

// DeleteKeyResult removes a key result and its check-ins.
func (a *App) DeleteKeyResult(ctx context.Context, id, krID int64) (*northstar.Objective, error) {
	return a.objectivePart(ctx, id, func(tx *store.Tx, _ *northstar.User, o *northstar.Objective) error {
		if _, err := findKeyResult(o, krID); err != nil {
			return err
		}
		return tx.DeleteKeyResult(ctx, id, krID)
	})
}

// CheckIn records a key result's current value.
func (a *App) CheckIn(ctx context.Context, id, krID int64, value float64, note string) (*northstar.Objective, error) {
	if err := checkFinite("value", value); err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if len([]rune(note)) > northstar.MaxNoteLen {
		return nil, northstar.FieldError("note", "note is too long (at most %d characters).", northstar.MaxNoteLen)
	}
	if !validUTF8(note) || strings.ContainsRune(note, 0) {
		return nil, northstar.FieldError("note", "note must be valid UTF-8 without NUL characters.")
	}
	return a.objectivePart(ctx, id, func(tx *store.Tx, user *northstar.User, o *northstar.Objective) error {
		if _, err := findKeyResult(o, krID); err != nil {
			return err
		}
		return tx.AddCheckIn(ctx, krID, &northstar.CheckIn{Value: value, Note: note}, user.ID)
	})
}

// --- Customers ---

// Customers lists customers by name, matching q when given; after is the
// cursor from the previous page.
func (a *App) Customers(ctx context.Context, q string, afterName string, afterID int64, limit int) ([]*northstar.Customer, error) {
	if _, err := currentUser(ctx); err != nil {
		return nil, err
	}
	var out []*northstar.Customer
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.FindCustomers(ctx, q, afterName, afterID, limit)
		return err
	})
	return out, err
}

// Customer returns a customer.
func (a *App) Customer(ctx context.Context, id int64) (*northstar.Customer, error) {
	if _, err := currentUser(ctx); err != nil {
		return nil, err
	}
	var c *northstar.Customer
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		c, err = tx.FindCustomer(ctx, id)
		return err
	})
	return c, err
}

// SaveCustomer creates (id 0) or changes a customer if still at version (0
// skips the check).
func (a *App) SaveCustomer(ctx context.Context, id int64, version int, in northstar.CustomerInput) (*northstar.Customer, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	c := &northstar.Customer{ID: id}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, err := authorizeOrg(ctx, tx, northstar.OrgEditCustomers)
		if err != nil {
			return err
		}
		if id != 0 {
			if c, err = tx.FindCustomer(ctx, id); err != nil {
				return err
			}
			if err := checkVersion(fmt.Sprintf("Customer %d", id), c.Version, version); err != nil {
				return err
			}
		}
		var before map[string]any
		if id != 0 {
			before = northstar.Snapshot(c)
		}
		c.Name, c.Email, c.Company, c.Segment, c.Value = in.Name, in.Email, in.Company, in.Segment, in.Value
		action := "updated"
		if id == 0 {
			action = "created"
			err = tx.CreateCustomer(ctx, c, user.ID)
		} else {
			err = tx.UpdateCustomer(ctx, c)
		}
		if store.IsDuplicate(err) {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "email", Message: fmt.Sprintf("A customer with email %s already exists.", in.Email)}
		}
		if err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, change{kind: "customer", itemID: c.ID, ref: c.Name, action: action, before: beforeOrNil(before), after: c})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("save customer: %w", err)
	}
	return c, nil
}

// DeleteCustomer removes a customer (admins only); their feedback stays,
// without a customer.
func (a *App) DeleteCustomer(ctx context.Context, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		user, err := authorizeOrg(ctx, tx, northstar.OrgManageUsers)
		if err != nil {
			return err
		}
		c, err := tx.FindCustomer(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteCustomer(ctx, id); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, change{kind: "customer", itemID: c.ID, ref: c.Name, action: "deleted", before: northstar.Snapshot(c)})
		return err
	})
}
