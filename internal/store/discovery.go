package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// FindStrategy returns a product's strategy texts with its segments and
// personas.
func (tx *Tx) FindStrategy(ctx context.Context, p *northstar.Product) (*northstar.Strategy, error) {
	st := &northstar.Strategy{ProductKey: p.Key, Vision: p.Vision, Version: p.Version, Segments: []*northstar.Segment{}, Personas: []*northstar.Persona{}}
	if err := tx.queryRow(ctx, "SELECT target_market, north_star_metric FROM products WHERE id = ?", p.ID).Scan(&st.TargetMarket, &st.NorthStarMetric); err != nil {
		return nil, fmt.Errorf("find strategy: %w", translate(err))
	}
	segs, err := tx.FindSegments(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	st.Segments = segs
	rows, err := tx.query(ctx, "SELECT id, name, description, goals, pains, updated_at FROM personas WHERE product_id = ? ORDER BY name", p.ID)
	if err != nil {
		return nil, fmt.Errorf("find personas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pe northstar.Persona
		if err := rows.Scan(&pe.ID, &pe.Name, &pe.Description, &pe.Goals, &pe.Pains, &pe.UpdatedAt); err != nil {
			return nil, fmt.Errorf("find personas: %w", err)
		}
		pe.UpdatedAt = pe.UpdatedAt.UTC()
		st.Personas = append(st.Personas, &pe)
	}
	return st, rows.Err()
}

// FindSegments lists a product's segments by name.
func (tx *Tx) FindSegments(ctx context.Context, productID int64) ([]*northstar.Segment, error) {
	rows, err := tx.query(ctx, "SELECT id, name, description FROM segments WHERE product_id = ? ORDER BY name", productID)
	if err != nil {
		return nil, fmt.Errorf("find segments: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Segment{}
	for rows.Next() {
		var s northstar.Segment
		if err := rows.Scan(&s.ID, &s.Name, &s.Description); err != nil {
			return nil, fmt.Errorf("find segments: %w", err)
		}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// SetStrategyTexts writes the strategy's texts kept on the product row.
func (tx *Tx) SetStrategyTexts(ctx context.Context, productID int64, targetMarket, northStar string) error {
	_, err := tx.exec(ctx, "UPDATE products SET target_market = ?, north_star_metric = ? WHERE id = ?", targetMarket, northStar, productID)
	if err != nil {
		return fmt.Errorf("set strategy: %w", err)
	}
	return nil
}

// CountRows counts a product's rows in a table with a product_id column.
func (tx *Tx) CountRows(ctx context.Context, table string, productID int64) (int, error) {
	var n int
	switch table {
	case "segments", "personas":
	default:
		return 0, fmt.Errorf("count rows: table %q not allowed", table)
	}
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE product_id = ?", productID).Scan(&n)
	return n, translate(err)
}

// CreateSegment adds a segment.
func (tx *Tx) CreateSegment(ctx context.Context, productID int64, s *northstar.Segment) error {
	id, err := tx.insert(ctx, "INSERT INTO segments (product_id, name, description, created_at) VALUES (?, ?, ?, ?)", productID, s.Name, s.Description, tx.Now)
	if err != nil {
		return fmt.Errorf("create segment %q: %w", s.Name, err)
	}
	s.ID = id
	return nil
}

// UpdateSegment changes a segment.
func (tx *Tx) UpdateSegment(ctx context.Context, productID int64, s *northstar.Segment) error {
	res, err := tx.exec(ctx, "UPDATE segments SET name = ?, description = ? WHERE id = ? AND product_id = ?", s.Name, s.Description, s.ID, productID)
	return rowChanged(res, err, "Segment %d not found.", s.ID)
}

// DeleteSegment removes a segment.
func (tx *Tx) DeleteSegment(ctx context.Context, productID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM segments WHERE id = ? AND product_id = ?", id, productID)
	return rowChanged(res, err, "Segment %d not found.", id)
}

// CreatePersona adds a persona.
func (tx *Tx) CreatePersona(ctx context.Context, productID int64, p *northstar.Persona) error {
	p.UpdatedAt = tx.Now
	id, err := tx.insert(ctx, `INSERT INTO personas (product_id, name, description, goals, pains, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, productID, p.Name, p.Description, p.Goals, p.Pains, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create persona %q: %w", p.Name, err)
	}
	p.ID = id
	return nil
}

// UpdatePersona changes a persona.
func (tx *Tx) UpdatePersona(ctx context.Context, productID int64, p *northstar.Persona) error {
	p.UpdatedAt = tx.Now
	res, err := tx.exec(ctx, "UPDATE personas SET name = ?, description = ?, goals = ?, pains = ?, updated_at = ? WHERE id = ? AND product_id = ?",
		p.Name, p.Description, p.Goals, p.Pains, tx.Now, p.ID, productID)
	return rowChanged(res, err, "Persona %d not found.", p.ID)
}

// DeletePersona removes a persona.
func (tx *Tx) DeletePersona(ctx context.Context, productID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM personas WHERE id = ? AND product_id = ?", id, productID)
	return rowChanged(res, err, "Persona %d not found.", id)
}

// rowChanged turns "no row affected" into ENOTFOUND.
func rowChanged(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return northstar.Errorf(northstar.ENOTFOUND, format, args...)
	}
	return nil
}

// --- Objectives ---

const objectiveSelect = `SELECT o.id, COALESCE(p.key, ''), COALESCE(o.product_id, 0), o.parent_id, o.title, o.description,
	o.period_start, o.period_end, o.owner_id, COALESCE(u.email, ''), COALESCE(u.name, ''), o.status, o.version, o.created_at, o.updated_at
	FROM objectives o LEFT JOIN products p ON p.id = o.product_id LEFT JOIN users u ON u.id = o.owner_id`

func scanObjective(row interface{ Scan(...any) error }) (*northstar.Objective, error) {
	var o northstar.Objective
	var owner sql.NullInt64
	var email, name string
	var start, end time.Time
	if err := row.Scan(&o.ID, &o.ProductKey, &o.ProductID, &o.ParentID, &o.Title, &o.Description, &start, &end,
		&owner, &email, &name, &o.Status, &o.Version, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return nil, err
	}
	o.Start, o.End = northstar.Date{Time: dateOnly(start)}, northstar.Date{Time: dateOnly(end)}
	o.Owner = userRef(owner, email, name)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	o.KeyResults = []*northstar.KeyResult{}
	return &o, nil
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// CreateObjective inserts an objective (productID 0: a company objective)
// with its key results.
func (tx *Tx) CreateObjective(ctx context.Context, o *northstar.Objective, createdBy int64) error {
	o.Version, o.CreatedAt, o.UpdatedAt = 1, tx.Now, tx.Now
	var product any
	if o.ProductID != 0 {
		product = o.ProductID
	}
	id, err := tx.insert(ctx, `INSERT INTO objectives (product_id, parent_id, title, description, period_start, period_end, owner_id, status, version, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
		product, o.ParentID, o.Title, o.Description, o.Start.Time, o.End.Time, nullID(o.Owner), o.Status, createdBy, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create objective: %w", err)
	}
	o.ID = id
	for i, kr := range o.KeyResults {
		if err := tx.CreateKeyResult(ctx, o.ID, i+1, kr); err != nil {
			return err
		}
	}
	return nil
}

// UpdateObjective writes an objective's fields if its version is still
// o.Version.
func (tx *Tx) UpdateObjective(ctx context.Context, o *northstar.Objective) error {
	res, err := tx.exec(ctx, `UPDATE objectives SET parent_id = ?, title = ?, description = ?, period_start = ?, period_end = ?, owner_id = ?, status = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		o.ParentID, o.Title, o.Description, o.Start.Time, o.End.Time, nullID(o.Owner), o.Status, tx.Now, o.ID, o.Version)
	if err != nil {
		return fmt.Errorf("update objective %d: %w", o.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Objective %d was changed by someone else (your version %d is stale); reload and try again.", o.ID, o.Version)
	}
	o.Version++
	o.UpdatedAt = tx.Now
	return nil
}

// DeleteObjective removes an objective with its key results and check-ins.
func (tx *Tx) DeleteObjective(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM objectives WHERE id = ?", id)
	return rowChanged(res, err, "Objective %d not found.", id)
}

// FindObjective returns an objective with its key results and check-ins.
func (tx *Tx) FindObjective(ctx context.Context, id int64) (*northstar.Objective, error) {
	o, err := scanObjective(tx.queryRow(ctx, objectiveSelect+" WHERE o.id = ?", id))
	if err != nil {
		return nil, notFound(err, "Objective %d not found.", id)
	}
	if err := tx.fillKeyResults(ctx, []*northstar.Objective{o}, true); err != nil {
		return nil, err
	}
	return o, nil
}

// FindObjectives lists objectives: a product's (productID > 0) or the
// company's (productID 0), by period then title, with key results.
func (tx *Tx) FindObjectives(ctx context.Context, productID int64, checkIns bool) ([]*northstar.Objective, error) {
	q, args := objectiveSelect+" WHERE o.product_id IS NULL", []any{}
	if productID != 0 {
		q, args = objectiveSelect+" WHERE o.product_id = ?", []any{productID}
	}
	return tx.findObjectives(ctx, q+" ORDER BY o.period_start DESC, o.title", args, checkIns)
}

// FindChildObjectives lists the product objectives that roll up to a
// company objective, among products the user may read (admins: all).
func (tx *Tx) FindChildObjectives(ctx context.Context, parentIDs []int64, user *northstar.User) ([]*northstar.Objective, error) {
	if len(parentIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(parentIDs)+1)
	for _, id := range parentIDs {
		args = append(args, id)
	}
	q := objectiveSelect + " WHERE o.parent_id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(parentIDs)), ",") + ")"
	if !user.Admin {
		q += " AND o.product_id IN (SELECT product_id FROM members WHERE user_id = ?)"
		args = append(args, user.ID)
	}
	return tx.findObjectives(ctx, q+" ORDER BY p.key, o.title", args, false)
}

func (tx *Tx) findObjectives(ctx context.Context, q string, args []any, checkIns bool) ([]*northstar.Objective, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find objectives: %w", err)
	}
	var out []*northstar.Objective
	for rows.Next() {
		o, err := scanObjective(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("find objectives: %w", err)
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		out = []*northstar.Objective{}
	}
	return out, tx.fillKeyResults(ctx, out, checkIns)
}

func (tx *Tx) fillKeyResults(ctx context.Context, objs []*northstar.Objective, checkIns bool) error {
	if len(objs) == 0 {
		return nil
	}
	byID := map[int64]*northstar.Objective{}
	args := make([]any, len(objs))
	for i, o := range objs {
		byID[o.ID] = o
		args[i] = o.ID
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(objs)), ",") + ")"
	rows, err := tx.query(ctx, "SELECT objective_id, id, name, unit, start_value, target_value, current_value FROM key_results WHERE objective_id IN "+in+" ORDER BY objective_id, position, id", args...)
	if err != nil {
		return fmt.Errorf("find key results: %w", err)
	}
	krs := map[int64]*northstar.KeyResult{}
	var krArgs []any
	for rows.Next() {
		var oid int64
		kr := &northstar.KeyResult{CheckIns: []*northstar.CheckIn{}}
		if err := rows.Scan(&oid, &kr.ID, &kr.Name, &kr.Unit, &kr.Start, &kr.Target, &kr.Current); err != nil {
			rows.Close()
			return fmt.Errorf("find key results: %w", err)
		}
		byID[oid].KeyResults = append(byID[oid].KeyResults, kr)
		krs[kr.ID] = kr
		krArgs = append(krArgs, kr.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(krArgs) == 0 {
		return err
	}
	in = "(" + strings.TrimSuffix(strings.Repeat("?,", len(krArgs)), ",") + ")"
	if err := tx.fillKeyResultFeatures(ctx, krs, in, krArgs); err != nil {
		return err
	}
	if !checkIns {
		return nil
	}
	rows, err = tx.query(ctx, `SELECT c.key_result_id, c.id, c.value, c.note, COALESCE(u.name, ''), c.at
		FROM check_ins c LEFT JOIN users u ON u.id = c.actor_id WHERE c.key_result_id IN `+in+" ORDER BY c.key_result_id, c.at, c.id", krArgs...)
	if err != nil {
		return fmt.Errorf("find check-ins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var krID int64
		var c northstar.CheckIn
		if err := rows.Scan(&krID, &c.ID, &c.Value, &c.Note, &c.Actor, &c.At); err != nil {
			return fmt.Errorf("find check-ins: %w", err)
		}
		c.At = c.At.UTC()
		krs[krID].CheckIns = append(krs[krID].CheckIns, &c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find check-ins: %w", err)
	}
	for _, kr := range krs {
		kr.SetOutcomes()
	}
	return nil
}

// fillKeyResultFeatures loads the features linked to the key results (in
// is the placeholder list of ids), released ones first by date.
func (tx *Tx) fillKeyResultFeatures(ctx context.Context, krs map[int64]*northstar.KeyResult, in string, ids []any) error {
	// A released feature shipped when its release did, or else when it
	// was last changed (to released), as in FindShipped.
	rows, err := tx.query(ctx, `SELECT kf.key_result_id, p.key, f.number, f.title, f.status, r.released_at, f.updated_at, f.product_id
		FROM key_result_features kf JOIN features f ON f.id = kf.feature_id JOIN products p ON p.id = f.product_id
		LEFT JOIN releases r ON r.id = f.release_id
		WHERE kf.key_result_id IN `+in+`
		ORDER BY kf.key_result_id, p.key, f.number`, ids...)
	if err != nil {
		return fmt.Errorf("find key results' features: %w", err)
	}
	defer rows.Close()
	for _, kr := range krs {
		kr.Features = []*northstar.KeyResultFeature{}
	}
	for rows.Next() {
		var krID int64
		var key string
		var number int
		var released sql.NullTime
		var updated time.Time
		f := &northstar.KeyResultFeature{}
		if err := rows.Scan(&krID, &key, &number, &f.Title, &f.Status, &released, &updated, &f.ProductID); err != nil {
			return fmt.Errorf("find key results' features: %w", err)
		}
		f.Product, f.Ref = key, northstar.FormatRef(key, number)
		if f.Status == northstar.FeatureReleased {
			t := updated.UTC()
			if released.Valid {
				t = released.Time.UTC()
			}
			f.ReleasedAt = &t
		}
		krs[krID].Features = append(krs[krID].Features, f)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find key results' features: %w", err)
	}
	// Shipped first, in the order they shipped; the rest by ref.
	for _, kr := range krs {
		slices.SortStableFunc(kr.Features, func(a, b *northstar.KeyResultFeature) int {
			switch {
			case a.ReleasedAt != nil && b.ReleasedAt != nil:
				return a.ReleasedAt.Compare(*b.ReleasedAt)
			case a.ReleasedAt != nil:
				return -1
			case b.ReleasedAt != nil:
				return 1
			}
			return 0
		})
	}
	return nil
}

// LinkKeyResultFeature records that a feature is meant to move a key
// result; linking it again changes nothing.
func (tx *Tx) LinkKeyResultFeature(ctx context.Context, krID, featureID int64) error {
	if _, err := tx.exec(ctx, "INSERT INTO key_result_features (key_result_id, feature_id) VALUES (?, ?) ON CONFLICT DO NOTHING", krID, featureID); err != nil {
		return fmt.Errorf("link key result %d to feature %d: %w", krID, featureID, translate(err))
	}
	return nil
}

// UnlinkKeyResultFeature removes a feature from a key result.
func (tx *Tx) UnlinkKeyResultFeature(ctx context.Context, krID, featureID int64) error {
	res, err := tx.exec(ctx, "DELETE FROM key_result_features WHERE key_result_id = ? AND feature_id = ?", krID, featureID)
	return rowChanged(res, err, "The feature is not linked to key result %d.", krID)
}

// MemberProducts returns the ids of the products a user belongs to.
func (tx *Tx) MemberProducts(ctx context.Context, userID int64) (map[int64]bool, error) {
	ids, err := tx.queryIDs(ctx, fmt.Sprintf("products of user %d", userID), "SELECT product_id FROM members WHERE user_id = ?", userID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// CreateKeyResult adds a key result at a position.
func (tx *Tx) CreateKeyResult(ctx context.Context, objectiveID int64, position int, kr *northstar.KeyResult) error {
	id, err := tx.insert(ctx, `INSERT INTO key_results (objective_id, position, name, unit, start_value, target_value, current_value)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, objectiveID, position, kr.Name, kr.Unit, kr.Start, kr.Target, kr.Current)
	if err != nil {
		return fmt.Errorf("create key result %q: %w", kr.Name, err)
	}
	kr.ID = id
	return nil
}

// UpdateKeyResult writes a key result.
func (tx *Tx) UpdateKeyResult(ctx context.Context, objectiveID int64, kr *northstar.KeyResult) error {
	res, err := tx.exec(ctx, "UPDATE key_results SET name = ?, unit = ?, start_value = ?, target_value = ?, current_value = ? WHERE id = ? AND objective_id = ?",
		kr.Name, kr.Unit, kr.Start, kr.Target, kr.Current, kr.ID, objectiveID)
	return rowChanged(res, err, "Key result %d not found.", kr.ID)
}

// DeleteKeyResult removes a key result.
func (tx *Tx) DeleteKeyResult(ctx context.Context, objectiveID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM key_results WHERE id = ? AND objective_id = ?", id, objectiveID)
	return rowChanged(res, err, "Key result %d not found.", id)
}

// AddCheckIn records a key result's value and makes it the current one.
func (tx *Tx) AddCheckIn(ctx context.Context, krID int64, c *northstar.CheckIn, actorID int64) error {
	c.At = tx.Now
	id, err := tx.insert(ctx, "INSERT INTO check_ins (key_result_id, value, note, actor_id, at) VALUES (?, ?, ?, ?, ?)", krID, c.Value, c.Note, actorID, tx.Now)
	if err != nil {
		return fmt.Errorf("add check-in: %w", err)
	}
	c.ID = id
	_, err = tx.exec(ctx, "UPDATE key_results SET current_value = ? WHERE id = ?", c.Value, krID)
	return err
}

// TouchObjective moves an objective's version on after a change to its
// key results, so clients holding the old one learn of it.
func (tx *Tx) TouchObjective(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, "UPDATE objectives SET version = version + 1, updated_at = ? WHERE id = ?", tx.Now, id)
	return err
}

// --- Customers ---

const customerSelect = `SELECT c.id, c.name, COALESCE(c.email, ''), c.company, c.segment, c.value, c.version, c.created_at, c.updated_at,
	(SELECT COUNT(*) FROM feedback f WHERE f.customer_id = c.id) FROM customers c`

func scanCustomer(row interface{ Scan(...any) error }) (*northstar.Customer, error) {
	var c northstar.Customer
	var value sql.NullFloat64
	if err := row.Scan(&c.ID, &c.Name, &c.Email, &c.Company, &c.Segment, &value, &c.Version, &c.CreatedAt, &c.UpdatedAt, &c.Feedback); err != nil {
		return nil, err
	}
	if value.Valid {
		c.Value = &value.Float64
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// CreateCustomer inserts a customer.
func (tx *Tx) CreateCustomer(ctx context.Context, c *northstar.Customer, createdBy int64) error {
	c.Version, c.CreatedAt, c.UpdatedAt = 1, tx.Now, tx.Now
	id, err := tx.insert(ctx, `INSERT INTO customers (name, email, company, segment, value, version, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)`, c.Name, nullString(c.Email), c.Company, c.Segment, nullFloat(c.Value), createdBy, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create customer %q: %w", c.Name, err)
	}
	c.ID = id
	return nil
}

// UpdateCustomer writes a customer if its version is still c.Version.
func (tx *Tx) UpdateCustomer(ctx context.Context, c *northstar.Customer) error {
	res, err := tx.exec(ctx, `UPDATE customers SET name = ?, email = ?, company = ?, segment = ?, value = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, c.Name, nullString(c.Email), c.Company, c.Segment, nullFloat(c.Value), tx.Now, c.ID, c.Version)
	if err != nil {
		return fmt.Errorf("update customer %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Customer %d was changed by someone else; reload and try again.", c.ID)
	}
	c.Version++
	c.UpdatedAt = tx.Now
	return nil
}

// DeleteCustomer removes a customer; their feedback stays, unattributed.
func (tx *Tx) DeleteCustomer(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM customers WHERE id = ?", id)
	return rowChanged(res, err, "Customer %d not found.", id)
}

// FindCustomer returns a customer.
func (tx *Tx) FindCustomer(ctx context.Context, id int64) (*northstar.Customer, error) {
	c, err := scanCustomer(tx.queryRow(ctx, customerSelect+" WHERE c.id = ?", id))
	if err != nil {
		return nil, notFound(err, "Customer %d not found.", id)
	}
	return c, nil
}

// FindCustomers lists customers by name, optionally matching q in name,
// email or company; after is the name/id cursor of the previous page.
func (tx *Tx) FindCustomers(ctx context.Context, q string, afterName string, afterID int64, limit int) ([]*northstar.Customer, error) {
	query, args := customerSelect+" WHERE 1=1", []any{}
	if q = strings.ToLower(strings.TrimSpace(q)); q != "" {
		like := "%" + strings.NewReplacer("%", "", "_", "").Replace(q) + "%"
		query += " AND (lower(c.name) LIKE ? OR lower(COALESCE(c.email, '')) LIKE ? OR lower(c.company) LIKE ?)"
		args = append(args, like, like, like)
	}
	if afterID > 0 {
		query += " AND (c.name > ? OR (c.name = ? AND c.id > ?))"
		args = append(args, afterName, afterName, afterID)
	}
	query += " ORDER BY c.name, c.id LIMIT ?"
	args = append(args, limit)
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find customers: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Customer{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("find customers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// --- Feedback ---

const feedbackSelect = `SELECT f.id, f.product_id, p.key, f.source, f.title, f.text, f.status, f.portal_idea_id, COALESCE(i.votes, 0),
	f.version, f.created_at, f.updated_at, f.captured_by, COALESCE(u.email, ''), COALESCE(u.name, ''),
	f.customer_id, COALESCE(c.name, ''), COALESCE(c.email, ''), COALESCE(c.company, ''), COALESCE(c.segment, ''), c.value
	FROM feedback f JOIN products p ON p.id = f.product_id
	LEFT JOIN users u ON u.id = f.captured_by
	LEFT JOIN customers c ON c.id = f.customer_id
	LEFT JOIN portal_ideas i ON i.id = f.portal_idea_id`

func scanFeedback(row interface{ Scan(...any) error }) (*northstar.Feedback, error) {
	var f northstar.Feedback
	var by, customer sql.NullInt64
	var email, name string
	var c northstar.Customer
	var value sql.NullFloat64
	if err := row.Scan(&f.ID, &f.ProductID, &f.ProductKey, &f.Source, &f.Title, &f.Text, &f.Status, &f.PortalIdea, &f.Votes,
		&f.Version, &f.CreatedAt, &f.UpdatedAt, &by, &email, &name,
		&customer, &c.Name, &c.Email, &c.Company, &c.Segment, &value); err != nil {
		return nil, err
	}
	f.CapturedBy = userRef(by, email, name)
	if customer.Valid {
		c.ID = customer.Int64
		if value.Valid {
			c.Value = &value.Float64
		}
		f.Customer = &c
	}
	f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	f.Links = []*northstar.Insight{}
	return &f, nil
}

// CreateFeedback inserts feedback.
func (tx *Tx) CreateFeedback(ctx context.Context, f *northstar.Feedback) error {
	f.Version, f.CreatedAt, f.UpdatedAt = 1, tx.Now, tx.Now
	var customer any
	if f.Customer != nil {
		customer = f.Customer.ID
	}
	id, err := tx.insert(ctx, `INSERT INTO feedback (product_id, source, title, text, status, customer_id, captured_by, portal_idea_id, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		f.ProductID, f.Source, f.Title, f.Text, f.Status, customer, nullID(f.CapturedBy), f.PortalIdea, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create feedback: %w", err)
	}
	f.ID = id
	return nil
}

// UpdateFeedback writes feedback's title, text, status and customer if its
// version is still f.Version.
func (tx *Tx) UpdateFeedback(ctx context.Context, f *northstar.Feedback) error {
	var customer any
	if f.Customer != nil {
		customer = f.Customer.ID
	}
	res, err := tx.exec(ctx, `UPDATE feedback SET title = ?, text = ?, status = ?, customer_id = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, f.Title, f.Text, f.Status, customer, tx.Now, f.ID, f.Version)
	if err != nil {
		return fmt.Errorf("update feedback %d: %w", f.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Feedback %d was changed by someone else; reload and try again.", f.ID)
	}
	f.Version++
	f.UpdatedAt = tx.Now
	return nil
}

// FindFeedback returns one piece of feedback of a product with its insights.
func (tx *Tx) FindFeedback(ctx context.Context, productID, id int64) (*northstar.Feedback, error) {
	f, err := scanFeedback(tx.queryRow(ctx, feedbackSelect+" WHERE f.product_id = ? AND f.id = ?", productID, id))
	if err != nil {
		return nil, notFound(err, "Feedback %d not found.", id)
	}
	return f, tx.fillInsights(ctx, []*northstar.Feedback{f})
}

// FindFeedbackList returns a page of a product's inbox, newest first.
func (tx *Tx) FindFeedbackList(ctx context.Context, productID int64, flt northstar.FeedbackFilter) ([]*northstar.Feedback, error) {
	q, args := feedbackSelect+" WHERE f.product_id = ?", []any{productID}
	if flt.Source != "" {
		q += " AND f.source = ?"
		args = append(args, flt.Source)
	}
	if flt.Status != "" {
		q += " AND f.status = ?"
		args = append(args, flt.Status)
	}
	if flt.CustomerID != 0 {
		q += " AND f.customer_id = ?"
		args = append(args, flt.CustomerID)
	}
	if flt.Segment != "" {
		q += " AND lower(c.segment) = lower(?)"
		args = append(args, flt.Segment)
	}
	if flt.Linked != nil {
		if *flt.Linked {
			q += " AND EXISTS (SELECT 1 FROM feedback_links l WHERE l.feedback_id = f.id)"
		} else {
			q += " AND NOT EXISTS (SELECT 1 FROM feedback_links l WHERE l.feedback_id = f.id)"
		}
	}
	if s := strings.ToLower(strings.TrimSpace(flt.Query)); s != "" {
		like := "%" + strings.NewReplacer("%", "", "_", "").Replace(s) + "%"
		q += " AND (lower(f.title) LIKE ? OR lower(f.text) LIKE ?)"
		args = append(args, like, like)
	}
	if flt.Before > 0 {
		q += " AND f.id < ?"
		args = append(args, flt.Before)
	}
	q += " ORDER BY f.id DESC LIMIT ?"
	args = append(args, flt.Limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find feedback: %w", err)
	}
	out := []*northstar.Feedback{}
	for rows.Next() {
		f, err := scanFeedback(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("find feedback: %w", err)
		}
		out = append(out, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, tx.fillInsights(ctx, out)
}

func (tx *Tx) fillInsights(ctx context.Context, fs []*northstar.Feedback) error {
	if len(fs) == 0 {
		return nil
	}
	byID := map[int64]*northstar.Feedback{}
	args := make([]any, len(fs))
	for i, f := range fs {
		byID[f.ID] = f
		args[i] = f.ID
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(fs)), ",") + ")"
	rows, err := tx.query(ctx, `SELECT l.id, l.feedback_id, p.key, ft.number, ft.title, l.passage, l.importance, l.created_at,
		l.created_by, COALESCE(u.email, ''), COALESCE(u.name, '')
		FROM feedback_links l JOIN features ft ON ft.id = l.feature_id JOIN products p ON p.id = ft.product_id
		LEFT JOIN users u ON u.id = l.created_by WHERE l.feedback_id IN `+in+" ORDER BY l.feedback_id, l.id", args...)
	if err != nil {
		return fmt.Errorf("find insights: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var in northstar.Insight
		var key string
		var number int
		var by sql.NullInt64
		var email, name string
		if err := rows.Scan(&in.ID, &in.FeedbackID, &key, &number, &in.Feature, &in.Passage, &in.Importance, &in.CreatedAt, &by, &email, &name); err != nil {
			return fmt.Errorf("find insights: %w", err)
		}
		in.FeatureRef = northstar.FormatRef(key, number)
		in.CreatedBy = userRef(by, email, name)
		in.CreatedAt = in.CreatedAt.UTC()
		byID[in.FeedbackID].Links = append(byID[in.FeedbackID].Links, &in)
	}
	return rows.Err()
}

// CreateInsight links a passage of feedback to a feature.
func (tx *Tx) CreateInsight(ctx context.Context, in *northstar.Insight, featureID, createdBy int64) error {
	in.CreatedAt = tx.Now
	id, err := tx.insert(ctx, `INSERT INTO feedback_links (feedback_id, feature_id, passage, importance, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, in.FeedbackID, featureID, in.Passage, in.Importance, createdBy, tx.Now)
	if err != nil {
		return fmt.Errorf("link feedback: %w", err)
	}
	in.ID = id
	return nil
}

// DeleteInsight removes a link.
func (tx *Tx) DeleteInsight(ctx context.Context, feedbackID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM feedback_links WHERE id = ? AND feedback_id = ?", id, feedbackID)
	return rowChanged(res, err, "Insight %d not found.", id)
}

// FeatureInsights lists the insights linked to a feature, with their
// feedback's customer, newest first: the voice of the customer.
func (tx *Tx) FeatureInsights(ctx context.Context, featureID int64) ([]*northstar.Insight, error) {
	rows, err := tx.query(ctx, `SELECT l.id, l.feedback_id, l.passage, l.importance, l.created_at
		FROM feedback_links l WHERE l.feature_id = ? ORDER BY l.id DESC`, featureID)
	if err != nil {
		return nil, fmt.Errorf("feature insights: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Insight{}
	for rows.Next() {
		var in northstar.Insight
		if err := rows.Scan(&in.ID, &in.FeedbackID, &in.Passage, &in.Importance, &in.CreatedAt); err != nil {
			return nil, err
		}
		in.CreatedAt = in.CreatedAt.UTC()
		out = append(out, &in)
	}
	return out, rows.Err()
}
