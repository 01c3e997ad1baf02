package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/northstar-pm/northstar"
)

const featureSelect = `SELECT f.id, f.product_id, p.key, f.number, f.title, f.problem, f.solution, f.status, f.rejected_reason, f.mvp,
	f.release_id, COALESCE(r.name, ''), f.theme_id, COALESCE(t.name, ''), f.owner_id, COALESCE(o.email, ''), COALESCE(o.name, ''),
	f.horizon, f.start_date, f.end_date, f.moscow, f.reach, f.impact, f.confidence, f.effort, f.value,
	f.version, f.created_at, f.updated_at, f.created_by, COALESCE(u.email, ''), COALESCE(u.name, '')
	FROM features f JOIN products p ON p.id = f.product_id
	LEFT JOIN releases r ON r.id = f.release_id
	LEFT JOIN themes t ON t.id = f.theme_id
	LEFT JOIN users o ON o.id = f.owner_id
	LEFT JOIN users u ON u.id = f.created_by`

func nullFloatPtr(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}

func namedRef(id sql.NullInt64, name string) *northstar.NamedRef {
	if !id.Valid {
		return nil
	}
	return &northstar.NamedRef{ID: id.Int64, Name: name}
}

func scanFeature(row interface{ Scan(...any) error }) (*northstar.Feature, error) {
	var f northstar.Feature
	var release, theme, owner, by sql.NullInt64
	var releaseName, themeName, oEmail, oName, email, name string
	var start, end sql.NullTime
	var reach, impact, confidence, effort, value sql.NullFloat64
	if err := row.Scan(&f.ID, &f.ProductID, &f.ProductKey, &f.Number, &f.Title, &f.Problem, &f.Solution, &f.Status, &f.RejectedReason, &f.MVP,
		&release, &releaseName, &theme, &themeName, &owner, &oEmail, &oName,
		&f.Horizon, &start, &end, &f.MoSCoW, &reach, &impact, &confidence, &effort, &value,
		&f.Version, &f.CreatedAt, &f.UpdatedAt, &by, &email, &name); err != nil {
		return nil, err
	}
	f.Ref = northstar.FormatRef(f.ProductKey, f.Number)
	f.Release, f.Theme = namedRef(release, releaseName), namedRef(theme, themeName)
	f.Owner, f.CreatedBy = userRef(owner, oEmail, oName), userRef(by, email, name)
	if start.Valid {
		f.Start = northstar.Date{Time: dateOnly(start.Time)}
	}
	if end.Valid {
		f.End = northstar.Date{Time: dateOnly(end.Time)}
	}
	f.Scores = northstar.Scores{Reach: nullFloatPtr(reach), Impact: nullFloatPtr(impact), Confidence: nullFloatPtr(confidence), Effort: nullFloatPtr(effort), Value: nullFloatPtr(value)}
	f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	f.Objectives, f.Custom = []northstar.NamedRef{}, map[int64]float64{}
	return &f, nil
}

func nullDate(d northstar.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.Time
}

func nullNamed(r *northstar.NamedRef) any {
	if r == nil {
		return nil
	}
	return r.ID
}

// CreateFeature inserts a feature; f.Number must be set.
func (tx *Tx) CreateFeature(ctx context.Context, f *northstar.Feature) error {
	f.Version, f.CreatedAt, f.UpdatedAt = 1, tx.Now, tx.Now
	if f.Status == "" {
		f.Status = northstar.FeatureIdea
	}
	id, err := tx.insert(ctx, `INSERT INTO features (product_id, number, title, problem, solution, status, rejected_reason, mvp, release_id, theme_id, owner_id,
		horizon, start_date, end_date, moscow, reach, impact, confidence, effort, value, version, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
		f.ProductID, f.Number, f.Title, f.Problem, f.Solution, f.Status, f.RejectedReason, f.MVP, nullNamed(f.Release), nullNamed(f.Theme), nullID(f.Owner),
		f.Horizon, nullDate(f.Start), nullDate(f.End), f.MoSCoW, nullFloat(f.Scores.Reach), nullFloat(f.Scores.Impact), nullFloat(f.Scores.Confidence),
		nullFloat(f.Scores.Effort), nullFloat(f.Scores.Value), nullID(f.CreatedBy), tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create feature %s: %w", f.Ref, err)
	}
	f.ID = id
	return nil
}

// UpdateFeature writes a feature's fields if its version is still f.Version.
func (tx *Tx) UpdateFeature(ctx context.Context, f *northstar.Feature) error {
	res, err := tx.exec(ctx, `UPDATE features SET title = ?, problem = ?, solution = ?, status = ?, rejected_reason = ?, mvp = ?, release_id = ?, theme_id = ?,
		owner_id = ?, horizon = ?, start_date = ?, end_date = ?, moscow = ?, reach = ?, impact = ?, confidence = ?, effort = ?, value = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		f.Title, f.Problem, f.Solution, f.Status, f.RejectedReason, f.MVP, nullNamed(f.Release), nullNamed(f.Theme), nullID(f.Owner),
		f.Horizon, nullDate(f.Start), nullDate(f.End), f.MoSCoW, nullFloat(f.Scores.Reach), nullFloat(f.Scores.Impact), nullFloat(f.Scores.Confidence),
		nullFloat(f.Scores.Effort), nullFloat(f.Scores.Value), tx.Now, f.ID, f.Version)
	if err != nil {
		return fmt.Errorf("update feature %s: %w", f.Ref, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Feature %s was changed by someone else (your version %d is stale); reload and try again.", f.Ref, f.Version)
	}
	f.Version++
	f.UpdatedAt = tx.Now
	return nil
}

// DeleteFeature removes a feature; its stories stay, without a feature.
func (tx *Tx) DeleteFeature(ctx context.Context, f *northstar.Feature) error {
	if _, err := tx.exec(ctx, "UPDATE stories SET feature_id = NULL WHERE feature_id = ?", f.ID); err != nil {
		return fmt.Errorf("delete feature %s: %w", f.Ref, err)
	}
	res, err := tx.exec(ctx, "DELETE FROM features WHERE id = ?", f.ID)
	return rowChanged(res, err, "Feature %s not found.", f.Ref)
}

// FindFeature returns a product's feature by number, with what is derived
// from other rows (objectives, custom scores, voice of the customer,
// progress).
func (tx *Tx) FindFeature(ctx context.Context, productID int64, number int, ref string) (*northstar.Feature, error) {
	f, err := scanFeature(tx.queryRow(ctx, featureSelect+" WHERE f.product_id = ? AND f.number = ?", productID, number))
	if err != nil {
		return nil, notFound(err, "Feature %s not found.", ref)
	}
	if err := tx.fillFeatures(ctx, productID, []*northstar.Feature{f}, "f.id = ?", f.ID); err != nil {
		return nil, err
	}
	return f, nil
}

// FindFeatures lists a product's features by number, filled.
func (tx *Tx) FindFeatures(ctx context.Context, productID int64) ([]*northstar.Feature, error) {
	return tx.FindFeaturesFiltered(ctx, productID, northstar.FeatureFilter{})
}

// importanceWeight weighs a feedback link by its importance: a feature's
// demand (Voice.Importance) is the sum over its links.
const importanceWeight = "CASE l.importance WHEN 'critical' THEN 3 WHEN 'important' THEN 2 ELSE 1 END"

// MaxFeatureDemand returns the highest demand (Voice.Importance) of any
// of a product's features, 0 when none has feedback: weighted scores
// measure each feature's demand against it.
func (tx *Tx) MaxFeatureDemand(ctx context.Context, productID int64) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COALESCE(MAX(x.s), 0) FROM (SELECT SUM(`+importanceWeight+`) AS s
		FROM feedback_links l JOIN feedback fb ON fb.id = l.feedback_id JOIN features f ON f.id = l.feature_id
		WHERE f.product_id = ? GROUP BY l.feature_id) x`, productID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("highest feature demand: %w", err)
	}
	return n, nil
}

// FindFeaturesFiltered lists a product's features matching a filter.
func (tx *Tx) FindFeaturesFiltered(ctx context.Context, productID int64, flt northstar.FeatureFilter) ([]*northstar.Feature, error) {
	q, args := featureSelect+" WHERE f.product_id = ?", []any{productID}
	if len(flt.Statuses) > 0 {
		q += " AND f.status IN (" + strings.TrimSuffix(strings.Repeat("?,", len(flt.Statuses)), ",") + ")"
		for _, s := range flt.Statuses {
			args = append(args, s)
		}
	}
	if flt.Horizon != nil {
		q += " AND f.horizon = ?"
		args = append(args, *flt.Horizon)
	}
	if flt.Release != 0 {
		q += " AND f.release_id = ?"
		args = append(args, flt.Release)
	}
	if flt.Theme != 0 {
		q += " AND f.theme_id = ?"
		args = append(args, flt.Theme)
	}
	if flt.MVP != nil {
		q += " AND f.mvp = ?"
		args = append(args, *flt.MVP)
	}
	rows, err := tx.query(ctx, q+" ORDER BY f.number", args...)
	if err != nil {
		return nil, fmt.Errorf("find features: %w", err)
	}
	out := []*northstar.Feature{}
	for rows.Next() {
		f, err := scanFeature(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("find features: %w", err)
		}
		out = append(out, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, tx.fillFeatures(ctx, productID, out, "f.product_id = ?", productID)
}

// fillFeatures loads, for features of one product, their objectives,
// custom scores, voice of the customer and story progress: one grouped
// query each, whatever the number of features. scope restricts the
// queries ("f.id = ?" for one feature).
func (tx *Tx) fillFeatures(ctx context.Context, productID int64, fs []*northstar.Feature, scope string, arg any) error {
	if len(fs) == 0 {
		return nil
	}
	byID := make(map[int64]*northstar.Feature, len(fs))
	for _, f := range fs {
		byID[f.ID] = f
	}
	rows, err := tx.query(ctx, `SELECT fo.feature_id, o.id, o.title FROM feature_objectives fo JOIN objectives o ON o.id = fo.objective_id
		JOIN features f ON f.id = fo.feature_id WHERE `+scope+` ORDER BY o.title`, arg)
	if err != nil {
		return fmt.Errorf("feature objectives: %w", err)
	}
	for rows.Next() {
		var fid int64
		var r northstar.NamedRef
		if err := rows.Scan(&fid, &r.ID, &r.Name); err != nil {
			rows.Close()
			return err
		}
		if f := byID[fid]; f != nil {
			f.Objectives = append(f.Objectives, r)
		}
	}
	rows.Close()

	rows, err = tx.query(ctx, `SELECT s.feature_id, s.criterion_id, s.value FROM feature_scores s JOIN features f ON f.id = s.feature_id WHERE `+scope, arg)
	if err != nil {
		return fmt.Errorf("feature scores: %w", err)
	}
	for rows.Next() {
		var fid, cid int64
		var v float64
		if err := rows.Scan(&fid, &cid, &v); err != nil {
			rows.Close()
			return err
		}
		if f := byID[fid]; f != nil {
			f.Custom[cid] = v
		}
	}
	rows.Close()

	rows, err = tx.query(ctx, `SELECT l.feature_id, COUNT(*),
		SUM(`+importanceWeight+`),
		COUNT(DISTINCT fb.customer_id)
		FROM feedback_links l JOIN feedback fb ON fb.id = l.feedback_id JOIN features f ON f.id = l.feature_id
		WHERE `+scope+` GROUP BY l.feature_id`, arg)
	if err != nil {
		return fmt.Errorf("voice of the customer: %w", err)
	}
	for rows.Next() {
		var fid int64
		var v northstar.Voice
		if err := rows.Scan(&fid, &v.Count, &v.Importance, &v.Customers); err != nil {
			rows.Close()
			return err
		}
		if f := byID[fid]; f != nil {
			f.Insights, f.Voice.Count, f.Voice.Importance, f.Voice.Customers = v.Count, v.Count, v.Importance, v.Customers
		}
	}
	rows.Close()

	// Each customer's value counts once per feature, however often they
	// asked for it.
	rows, err = tx.query(ctx, `SELECT x.feature_id, SUM(x.value) FROM (
		SELECT DISTINCT l.feature_id, c.id, c.value FROM feedback_links l JOIN feedback fb ON fb.id = l.feedback_id
		JOIN customers c ON c.id = fb.customer_id JOIN features f ON f.id = l.feature_id
		WHERE c.value IS NOT NULL AND `+scope+`) x GROUP BY x.feature_id`, arg)
	if err != nil {
		return fmt.Errorf("customer value: %w", err)
	}
	for rows.Next() {
		var fid int64
		var v float64
		if err := rows.Scan(&fid, &v); err != nil {
			rows.Close()
			return err
		}
		if f := byID[fid]; f != nil {
			f.Voice.CustomerValue = v
		}
	}
	rows.Close()

	rows, err = tx.query(ctx, `SELECT s.feature_id, COUNT(*), SUM(CASE WHEN s.status = 'done' THEN 1 ELSE 0 END),
		COALESCE(SUM(s.points), 0), COALESCE(SUM(CASE WHEN s.status = 'done' THEN s.points ELSE 0 END), 0)
		FROM stories s JOIN features f ON f.id = s.feature_id WHERE s.product_id = ? AND `+scope+` GROUP BY s.feature_id`, productID, arg)
	if err != nil {
		return fmt.Errorf("feature progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var fid int64
		var p northstar.Progress
		if err := rows.Scan(&fid, &p.StoriesTotal, &p.StoriesDone, &p.PointsTotal, &p.PointsDone); err != nil {
			return err
		}
		if f := byID[fid]; f != nil {
			f.Progress = p
		}
	}
	return rows.Err()
}

// SetFeatureObjectives replaces the objectives a feature serves.
func (tx *Tx) SetFeatureObjectives(ctx context.Context, featureID int64, ids []int64) error {
	if _, err := tx.exec(ctx, "DELETE FROM feature_objectives WHERE feature_id = ?", featureID); err != nil {
		return fmt.Errorf("set feature objectives: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.exec(ctx, "INSERT INTO feature_objectives (feature_id, objective_id) VALUES (?, ?)", featureID, id); err != nil {
			return fmt.Errorf("set feature objectives: %w", err)
		}
	}
	return nil
}

// SetFeatureScore stores (value non-nil) or clears a custom criterion score.
func (tx *Tx) SetFeatureScore(ctx context.Context, featureID, criterionID int64, value *float64) error {
	var err error
	if value == nil {
		_, err = tx.exec(ctx, "DELETE FROM feature_scores WHERE feature_id = ? AND criterion_id = ?", featureID, criterionID)
	} else {
		_, err = tx.exec(ctx, `INSERT INTO feature_scores (feature_id, criterion_id, value) VALUES (?, ?, ?)
			ON CONFLICT (feature_id, criterion_id) DO UPDATE SET value = excluded.value`, featureID, criterionID, *value)
	}
	if err != nil {
		return fmt.Errorf("set score: %w", err)
	}
	return nil
}

// SetStoryFeature puts a story under a feature (nil: none).
func (tx *Tx) SetStoryFeature(ctx context.Context, storyID int64, featureID *int64) error {
	if _, err := tx.exec(ctx, "UPDATE stories SET feature_id = ? WHERE id = ?", featureID, storyID); err != nil {
		return fmt.Errorf("set story feature: %w", err)
	}
	return nil
}

// FeatureStories returns the stories under a feature in backlog order.
func (tx *Tx) FeatureStories(ctx context.Context, featureID int64) ([]*northstar.Story, error) {
	rows, err := tx.query(ctx, storySelect+" WHERE s.feature_id = ? ORDER BY s.rank", featureID)
	if err != nil {
		return nil, fmt.Errorf("feature stories: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Story{}
	for rows.Next() {
		s, _, err := scanStory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// --- Score criteria ---

// FindCriteria lists a product's custom score criteria.
func (tx *Tx) FindCriteria(ctx context.Context, productID int64) ([]*northstar.ScoreCriterion, error) {
	rows, err := tx.query(ctx, "SELECT id, name, weight, kind, objective_id FROM score_criteria WHERE product_id = ? ORDER BY id", productID)
	if err != nil {
		return nil, fmt.Errorf("find criteria: %w", err)
	}
	defer rows.Close()
	out := []*northstar.ScoreCriterion{}
	for rows.Next() {
		var c northstar.ScoreCriterion
		if err := rows.Scan(&c.ID, &c.Name, &c.Weight, &c.Kind, &c.ObjectiveID); err != nil {
			return nil, err
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

// SaveCriterion creates (ID 0) or changes a criterion.
func (tx *Tx) SaveCriterion(ctx context.Context, productID int64, c *northstar.ScoreCriterion) error {
	if c.ID == 0 {
		id, err := tx.insert(ctx, "INSERT INTO score_criteria (product_id, name, weight, kind, objective_id) VALUES (?, ?, ?, ?, ?)",
			productID, c.Name, c.Weight, c.Kind, c.ObjectiveID)
		if err != nil {
			return fmt.Errorf("create criterion: %w", err)
		}
		c.ID = id
		return nil
	}
	res, err := tx.exec(ctx, "UPDATE score_criteria SET name = ?, weight = ?, kind = ?, objective_id = ? WHERE id = ? AND product_id = ?",
		c.Name, c.Weight, c.Kind, c.ObjectiveID, c.ID, productID)
	return rowChanged(res, err, "Criterion %d not found.", c.ID)
}

// DeleteCriterion removes a criterion and its scores.
func (tx *Tx) DeleteScoreCriterion(ctx context.Context, productID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM score_criteria WHERE id = ? AND product_id = ?", id, productID)
	return rowChanged(res, err, "Criterion %d not found.", id)
}

// --- Releases ---

const releaseSelect = `SELECT r.id, p.key, r.product_id, r.name, r.goal, r.target_date, r.status, r.mvp, r.released_at, r.version,
	(SELECT COUNT(*) FROM features f WHERE f.release_id = r.id)
	FROM releases r JOIN products p ON p.id = r.product_id`

func scanRelease(row interface{ Scan(...any) error }) (*northstar.Release, error) {
	var r northstar.Release
	var target sql.NullTime
	if err := row.Scan(&r.ID, &r.ProductKey, &r.ProductID, &r.Name, &r.Goal, &target, &r.Status, &r.MVP, &r.ReleasedAt, &r.Version, &r.Features); err != nil {
		return nil, err
	}
	if target.Valid {
		r.Target = northstar.Date{Time: dateOnly(target.Time)}
	}
	if r.ReleasedAt != nil {
		t := r.ReleasedAt.UTC()
		r.ReleasedAt = &t
	}
	return &r, nil
}

// CreateRelease inserts a release.
func (tx *Tx) CreateRelease(ctx context.Context, r *northstar.Release) error {
	r.Version = 1
	id, err := tx.insert(ctx, `INSERT INTO releases (product_id, name, goal, target_date, status, mvp, released_at, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, r.ProductID, r.Name, r.Goal, nullDate(r.Target), r.Status, r.MVP, r.ReleasedAt, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create release %q: %w", r.Name, err)
	}
	r.ID = id
	return nil
}

// UpdateRelease writes a release if its version is still r.Version.
func (tx *Tx) UpdateRelease(ctx context.Context, r *northstar.Release) error {
	res, err := tx.exec(ctx, `UPDATE releases SET name = ?, goal = ?, target_date = ?, status = ?, mvp = ?, released_at = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, r.Name, r.Goal, nullDate(r.Target), r.Status, r.MVP, r.ReleasedAt, tx.Now, r.ID, r.Version)
	if err != nil {
		return fmt.Errorf("update release %q: %w", r.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return northstar.Errorf(northstar.ECONFLICT, "Release %q was changed by someone else; reload and try again.", r.Name)
	}
	r.Version++
	return nil
}

// DeleteRelease removes a release; its features stay, unscheduled.
func (tx *Tx) DeleteRelease(ctx context.Context, productID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM releases WHERE id = ? AND product_id = ?", id, productID)
	return rowChanged(res, err, "Release %d not found.", id)
}

// FindRelease returns a product's release.
func (tx *Tx) FindRelease(ctx context.Context, productID, id int64) (*northstar.Release, error) {
	r, err := scanRelease(tx.queryRow(ctx, releaseSelect+" WHERE r.product_id = ? AND r.id = ?", productID, id))
	if err != nil {
		return nil, notFound(err, "Release %d not found.", id)
	}
	return r, tx.fillReleaseProgress(ctx, []*northstar.Release{r})
}

// FindReleases lists a product's releases by target date.
func (tx *Tx) FindReleases(ctx context.Context, productID int64) ([]*northstar.Release, error) {
	rows, err := tx.query(ctx, releaseSelect+" WHERE r.product_id = ? ORDER BY r.target_date IS NULL, r.target_date, r.id", productID)
	if err != nil {
		return nil, fmt.Errorf("find releases: %w", err)
	}
	out := []*northstar.Release{}
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, tx.fillReleaseProgress(ctx, out)
}

func (tx *Tx) fillReleaseProgress(ctx context.Context, rs []*northstar.Release) error {
	if len(rs) == 0 {
		return nil
	}
	byID := map[int64]*northstar.Release{}
	args := make([]any, len(rs))
	for i, r := range rs {
		byID[r.ID], args[i] = r, r.ID
	}
	rows, err := tx.query(ctx, `SELECT f.release_id, COUNT(*), SUM(CASE WHEN s.status = 'done' THEN 1 ELSE 0 END),
		COALESCE(SUM(s.points), 0), COALESCE(SUM(CASE WHEN s.status = 'done' THEN s.points ELSE 0 END), 0)
		FROM stories s JOIN features f ON f.id = s.feature_id WHERE f.release_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(rs)), ",")+`)
		GROUP BY f.release_id`, args...)
	if err != nil {
		return fmt.Errorf("release progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p northstar.Progress
		if err := rows.Scan(&id, &p.StoriesTotal, &p.StoriesDone, &p.PointsTotal, &p.PointsDone); err != nil {
			return err
		}
		byID[id].Progress = p
	}
	return rows.Err()
}

// ReleaseFeatures marks every feature of a release released.
func (tx *Tx) ReleaseFeatures(ctx context.Context, releaseID int64) (int64, error) {
	res, err := tx.exec(ctx, "UPDATE features SET status = 'released', version = version + 1, updated_at = ? WHERE release_id = ? AND status <> 'rejected'", tx.Now, releaseID)
	if err != nil {
		return 0, fmt.Errorf("release features: %w", err)
	}
	return res.RowsAffected()
}

// --- Themes ---

// FindThemes lists a product's themes by name.
func (tx *Tx) FindThemes(ctx context.Context, productID int64) ([]*northstar.Theme, error) {
	rows, err := tx.query(ctx, "SELECT id, name, description, parent_id FROM themes WHERE product_id = ? ORDER BY name", productID)
	if err != nil {
		return nil, fmt.Errorf("find themes: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Theme{}
	for rows.Next() {
		var t northstar.Theme
		if err := rows.Scan(&t.ID, &t.Name, &t.Description, &t.ParentID); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// SaveTheme creates (ID 0) or changes a theme.
func (tx *Tx) SaveTheme(ctx context.Context, productID int64, t *northstar.Theme) error {
	if t.ID == 0 {
		id, err := tx.insert(ctx, "INSERT INTO themes (product_id, name, description, parent_id) VALUES (?, ?, ?, ?)", productID, t.Name, t.Description, t.ParentID)
		if err != nil {
			return fmt.Errorf("create theme: %w", err)
		}
		t.ID = id
		return nil
	}
	res, err := tx.exec(ctx, "UPDATE themes SET name = ?, description = ?, parent_id = ? WHERE id = ? AND product_id = ?", t.Name, t.Description, t.ParentID, t.ID, productID)
	return rowChanged(res, err, "Theme %d not found.", t.ID)
}

// DeleteTheme removes a theme; features and child themes lose it.
func (tx *Tx) DeleteTheme(ctx context.Context, productID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM themes WHERE id = ? AND product_id = ?", id, productID)
	return rowChanged(res, err, "Theme %d not found.", id)
}

// --- Roadmap links ---

// CreateRoadmapLink stores a published link by the hash of its secret.
func (tx *Tx) CreateRoadmapLink(ctx context.Context, productID int64, l *northstar.RoadmapLink, secretHash string, createdBy int64) error {
	l.CreatedAt = tx.Now
	id, err := tx.insert(ctx, `INSERT INTO roadmap_links (product_id, name, secret_hash, prefix, hide_internal, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, productID, l.Name, secretHash, l.Prefix, l.HideInternal, createdBy, tx.Now)
	if err != nil {
		return fmt.Errorf("create roadmap link: %w", err)
	}
	l.ID = id
	return nil
}

// FindRoadmapLinks lists a product's links, newest first.
func (tx *Tx) FindRoadmapLinks(ctx context.Context, productID int64) ([]*northstar.RoadmapLink, error) {
	rows, err := tx.query(ctx, `SELECT l.id, l.name, l.prefix, l.hide_internal, COALESCE(u.name, ''), l.created_at, l.revoked_at
		FROM roadmap_links l LEFT JOIN users u ON u.id = l.created_by WHERE l.product_id = ? ORDER BY l.id DESC`, productID)
	if err != nil {
		return nil, fmt.Errorf("find roadmap links: %w", err)
	}
	defer rows.Close()
	out := []*northstar.RoadmapLink{}
	for rows.Next() {
		var l northstar.RoadmapLink
		if err := rows.Scan(&l.ID, &l.Name, &l.Prefix, &l.HideInternal, &l.CreatedBy, &l.CreatedAt, &l.RevokedAt); err != nil {
			return nil, err
		}
		out = append(out, &l)
	}
	return out, rows.Err()
}

// RevokeRoadmapLink revokes a link.
func (tx *Tx) RevokeRoadmapLink(ctx context.Context, productID, id int64) error {
	res, err := tx.exec(ctx, "UPDATE roadmap_links SET revoked_at = ? WHERE id = ? AND product_id = ? AND revoked_at IS NULL", tx.Now, id, productID)
	return rowChanged(res, err, "Link %d not found or already revoked.", id)
}

// FindRoadmapLink returns the product of a live link and whether it hides
// internal fields.
func (tx *Tx) FindRoadmapLink(ctx context.Context, secretHash string) (*northstar.Product, bool, error) {
	var pid int64
	var hide bool
	err := tx.queryRow(ctx, "SELECT product_id, hide_internal FROM roadmap_links WHERE secret_hash = ? AND revoked_at IS NULL", secretHash).Scan(&pid, &hide)
	if err != nil {
		return nil, false, notFound(err, "There is no roadmap here.")
	}
	p, err := scanProduct(tx.queryRow(ctx, "SELECT "+productColumns+" FROM products p WHERE p.id = ?", pid))
	if err != nil {
		return nil, false, notFound(err, "There is no roadmap here.")
	}
	return p, hide, nil
}

// ObjectiveIDsOfProduct lists the objectives a product's features may
// serve: its own and the company's.
func (tx *Tx) ObjectiveIDsOfProduct(ctx context.Context, productID int64) (map[int64]string, error) {
	rows, err := tx.query(ctx, "SELECT id, title FROM objectives WHERE product_id = ? OR product_id IS NULL", productID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var t string
		if err := rows.Scan(&id, &t); err != nil {
			return nil, err
		}
		out[id] = t
	}
	return out, rows.Err()
}
