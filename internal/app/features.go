package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// loadFeature authorizes the action on a feature's product and loads it.
func loadFeature(ctx context.Context, tx *store.Tx, ref string, action northstar.Action) (*northstar.User, *northstar.Product, *northstar.Feature, error) {
	key, n, err := northstar.ParseRef(ref)
	if err != nil {
		return nil, nil, nil, northstar.Errorf(northstar.ENOTFOUND, "Feature %s not found.", ref)
	}
	user, p, err := authorize(ctx, tx, key, action)
	if err != nil {
		if northstar.ErrorCode(err) == northstar.ENOTFOUND {
			return nil, nil, nil, northstar.Errorf(northstar.ENOTFOUND, "Feature %s not found.", ref)
		}
		return nil, nil, nil, err
	}
	f, err := tx.FindFeature(ctx, p.ID, n, northstar.FormatRef(key, n))
	if err != nil {
		return nil, nil, nil, err
	}
	return user, p, f, nil
}

// scoreFeatures fills in the computed scores of a product's features: RICE
// and value/effort from their inputs, and the custom weighted score from
// the product's criteria, with feedback demand scaled 0–10 across the
// product's features.
func scoreFeatures(ctx context.Context, tx *store.Tx, productID int64, fs []*northstar.Feature) error {
	criteria, err := tx.FindCriteria(ctx, productID)
	if err != nil {
		return err
	}
	maxDemand, err := tx.MaxFeatureDemand(ctx, productID)
	if err != nil {
		return err
	}
	for _, f := range fs {
		f.Computed.RICE, f.Computed.ValueEffort = f.Scores.RICE(), f.Scores.ValueEffort()
		demand := 0.0
		if maxDemand > 0 {
			demand = 10 * float64(f.Voice.Importance) / float64(maxDemand)
		}
		serves := func(id int64) bool {
			for _, o := range f.Objectives {
				if o.ID == id {
					return true
				}
			}
			return false
		}
		f.Computed.Weighted = northstar.WeightedScore(criteria, f.Custom, demand, serves)
	}
	return nil
}

// Features lists a product's features with their scores computed now.
func (a *App) Features(ctx context.Context, key string) ([]*northstar.Feature, error) {
	return a.FeaturesFiltered(ctx, key, northstar.FeatureFilter{})
}

// FeaturesFiltered lists a product's features matching a filter.
func (a *App) FeaturesFiltered(ctx context.Context, key string, flt northstar.FeatureFilter) ([]*northstar.Feature, error) {
	var out []*northstar.Feature
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		if out, err = tx.FindFeaturesFiltered(ctx, p.ID, flt); err != nil {
			return err
		}
		return scoreFeatures(ctx, tx, p.ID, out)
	})
	return out, err
}

// Feature returns a feature with its scores.
func (a *App) Feature(ctx context.Context, ref string) (*northstar.Feature, error) {
	var f *northstar.Feature
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		var p *northstar.Product
		if _, p, f, err = loadFeature(ctx, tx, ref, northstar.ActionRead); err != nil {
			return err
		}
		return scoreFeatures(ctx, tx, p.ID, []*northstar.Feature{f})
	})
	return f, err
}

// FeatureDetail is a feature with its stories and the feedback linked to it.
type FeatureDetail struct {
	Feature  *northstar.Feature
	Stories  []*northstar.Story
	Feedback []*northstar.Feedback
}

// FeatureDetail returns a feature with its stories and the feedback that
// asked for it.
func (a *App) FeatureDetail(ctx context.Context, ref string) (*FeatureDetail, error) {
	f, err := a.Feature(ctx, ref)
	if err != nil {
		return nil, err
	}
	d := &FeatureDetail{Feature: f}
	err = a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		if d.Stories, err = tx.FeatureStories(ctx, f.ID); err != nil {
			return err
		}
		insights, err := tx.FeatureInsights(ctx, f.ID)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, in := range insights {
			if seen[in.FeedbackID] {
				continue
			}
			seen[in.FeedbackID] = true
			fb, err := tx.FindFeedback(ctx, f.ProductID, in.FeedbackID)
			if err != nil {
				return err
			}
			d.Feedback = append(d.Feedback, fb)
		}
		return nil
	})
	return d, err
}

// featureAction is the permission a feature change needs: product
// managers do everything; product owners may propose features and edit
// their texts.
func featureAction(in *northstar.FeatureInput) northstar.Action {
	textOnly := in.Status == nil && in.RejectedReason == nil && in.MVP == nil && !in.Release.Set && !in.Theme.Set &&
		in.Objectives == nil && !in.Owner.Set && in.Horizon == nil && !in.Start.Set && !in.End.Set && in.MoSCoW == nil &&
		in.Scores == nil && len(in.Custom) == 0
	if textOnly {
		return northstar.ActionProposeFeature
	}
	return northstar.ActionManageFeatures
}

// applyFeatureInput copies the set fields onto f, resolving references
// within product p.
func applyFeatureInput(ctx context.Context, tx *store.Tx, p *northstar.Product, f *northstar.Feature, in northstar.FeatureInput) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&f.Title, in.Title)
	set(&f.Problem, in.Problem)
	set(&f.Solution, in.Solution)
	set(&f.RejectedReason, in.RejectedReason)
	if in.Status != nil {
		f.Status = *in.Status
	}
	if in.MVP != nil {
		f.MVP = *in.MVP
	}
	if in.Horizon != nil {
		f.Horizon = *in.Horizon
	}
	if in.MoSCoW != nil {
		f.MoSCoW = *in.MoSCoW
	}
	if in.Scores != nil {
		f.Scores = *in.Scores
	}
	if in.Start.Set {
		f.Start = in.Start.Value
		if in.Start.Null {
			f.Start = northstar.Date{}
		}
	}
	if in.End.Set {
		f.End = in.End.Value
		if in.End.Null {
			f.End = northstar.Date{}
		}
	}
	if in.Release.Set {
		f.Release = nil
		if !in.Release.Null {
			r, err := tx.FindRelease(ctx, p.ID, in.Release.Value)
			if isNotFound(err) {
				return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "release_id", Message: fmt.Sprintf("Release %d is not a release of %s.", in.Release.Value, p.Key)}
			} else if err != nil {
				return err
			}
			f.Release = &northstar.NamedRef{ID: r.ID, Name: r.Name}
		}
	}
	if in.Theme.Set {
		f.Theme = nil
		if !in.Theme.Null {
			themes, err := tx.FindThemes(ctx, p.ID)
			if err != nil {
				return err
			}
			for _, t := range themes {
				if t.ID == in.Theme.Value {
					f.Theme = &northstar.NamedRef{ID: t.ID, Name: t.Name}
				}
			}
			if f.Theme == nil {
				return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "theme_id", Message: fmt.Sprintf("Theme %d is not a theme of %s.", in.Theme.Value, p.Key)}
			}
		}
	}
	if in.Owner.Set {
		f.Owner = nil
		if !in.Owner.Null && strings.TrimSpace(in.Owner.Value) != "" {
			u, err := resolveAssignee(ctx, tx, p, in.Owner.Value, "owner")
			if err != nil {
				return err
			}
			f.Owner = u
		}
	}
	if in.Objectives != nil {
		allowed, err := tx.ObjectiveIDsOfProduct(ctx, p.ID)
		if err != nil {
			return err
		}
		f.Objectives = f.Objectives[:0]
		seen := map[int64]bool{}
		for _, id := range *in.Objectives {
			title, ok := allowed[id]
			if !ok {
				return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "objective_ids", Message: fmt.Sprintf("Objective %d is neither %s's nor the company's.", id, p.Key)}
			}
			if !seen[id] {
				seen[id] = true
				f.Objectives = append(f.Objectives, northstar.NamedRef{ID: id, Name: title})
			}
		}
	}
	return northstar.CheckFeature(f)
}

// saveFeatureParts writes what lives beside the feature row.
func saveFeatureParts(ctx context.Context, tx *store.Tx, p *northstar.Product, f *northstar.Feature, in northstar.FeatureInput) error {
	if in.Objectives != nil {
		ids := make([]int64, len(f.Objectives))
		for i, o := range f.Objectives {
			ids[i] = o.ID
		}
		if err := tx.SetFeatureObjectives(ctx, f.ID, ids); err != nil {
			return err
		}
	}
	if len(in.Custom) > 0 {
		criteria, err := tx.FindCriteria(ctx, p.ID)
		if err != nil {
			return err
		}
		known := map[int64]bool{}
		for _, c := range criteria {
			known[c.ID] = c.Kind == northstar.CriterionManual
		}
		for id, v := range in.Custom {
			if !known[id] {
				return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "custom_scores", Message: fmt.Sprintf("Criterion %d is not a manual criterion of %s.", id, p.Key)}
			}
			if err := tx.SetFeatureScore(ctx, f.ID, id, v); err != nil {
				return err
			}
			if v == nil {
				delete(f.Custom, id)
			} else {
				f.Custom[id] = *v
			}
		}
	}
	return nil
}

// CreateFeature adds a feature to a product. Product owners may propose
// (title, problem, solution); product managers set everything.
func (a *App) CreateFeature(ctx context.Context, key string, in northstar.FeatureInput) (*northstar.Feature, error) {
	if err := in.Validate(true); err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	var f *northstar.Feature
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, key, featureAction(&in))
		if err != nil {
			return err
		}
		n, err := tx.NextNumber(ctx, p.ID)
		if err != nil {
			return err
		}
		f = &northstar.Feature{ProductID: p.ID, ProductKey: p.Key, Number: n, Ref: northstar.FormatRef(p.Key, n), Status: northstar.FeatureIdea,
			CreatedBy: userRefOf(user), Objectives: []northstar.NamedRef{}, Custom: map[int64]float64{}}
		if err := applyFeatureInput(ctx, tx, p, f, in); err != nil {
			return err
		}
		if err := tx.CreateFeature(ctx, f); err != nil {
			return err
		}
		if err := saveFeatureParts(ctx, tx, p, f, in); err != nil {
			return err
		}
		c := featureChange(f, "created", nil, f)
		c.watchers = []int64{user.ID}
		if f.Owner != nil {
			c.assignee, c.watchers = f.Owner, append(c.watchers, f.Owner.ID)
		}
		if _, err := a.record(ctx, tx, user, c); err != nil {
			return err
		}
		return scoreFeatures(ctx, tx, p.ID, []*northstar.Feature{f})
	})
	if err != nil {
		return nil, fmt.Errorf("create feature in %s: %w", key, err)
	}
	return f, nil
}

// UpdateFeature changes a feature if it is still at version (0 skips the
// check).
func (a *App) UpdateFeature(ctx context.Context, ref string, version int, in northstar.FeatureInput) (*northstar.Feature, error) {
	if err := in.Validate(false); err != nil {
		return nil, err
	}
	var f *northstar.Feature
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, feat, err := loadFeature(ctx, tx, ref, featureAction(&in))
		if err != nil {
			return err
		}
		f = feat
		if err := checkVersion("Feature "+f.Ref, f.Version, version); err != nil {
			return err
		}
		before := northstar.Snapshot(f)
		oldOwner := f.Owner
		if err := applyFeatureInput(ctx, tx, p, f, in); err != nil {
			return err
		}
		if err := tx.UpdateFeature(ctx, f); err != nil {
			return err
		}
		if err := saveFeatureParts(ctx, tx, p, f, in); err != nil {
			return err
		}
		c := featureChange(f, "updated", before, f)
		if f.Owner != nil && (oldOwner == nil || oldOwner.ID != f.Owner.ID) {
			c.assignee, c.watchers = f.Owner, []int64{f.Owner.ID}
		}
		if _, err := a.record(ctx, tx, user, c); err != nil {
			return err
		}
		return scoreFeatures(ctx, tx, p.ID, []*northstar.Feature{f})
	})
	if err != nil {
		return nil, fmt.Errorf("update feature %s: %w", ref, err)
	}
	a.tellReleasedFeature(ctx, f)
	return f, nil
}

// DeleteFeature removes a feature; its stories stay without it, and the
// feedback linked to it loses the link.
func (a *App) DeleteFeature(ctx context.Context, ref string, version int) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		user, _, f, err := loadFeature(ctx, tx, ref, northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		if err := checkVersion("Feature "+f.Ref, f.Version, version); err != nil {
			return err
		}
		if err := tx.DeleteFeature(ctx, f); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, featureChange(f, "deleted", northstar.Snapshot(f), nil))
		return err
	})
}

// featureChange describes a change to a feature for the activity log.
func featureChange(f *northstar.Feature, action string, before, after any) change {
	return change{productID: f.ProductID, productKey: f.ProductKey, kind: northstar.KindFeature, itemID: f.ID, ref: f.Ref, action: action, before: before, after: after}
}

// beforeOrNil keeps a missing snapshot a nil interface, which Diff reads
// as "created".
func beforeOrNil(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// --- Criteria ---

// Criteria lists a product's custom score criteria.
func (a *App) Criteria(ctx context.Context, key string) ([]*northstar.ScoreCriterion, error) {
	return readProduct(ctx, a, key, func(tx *store.Tx, p *northstar.Product) ([]*northstar.ScoreCriterion, error) {
		return tx.FindCriteria(ctx, p.ID)
	})
}

// SaveCriterion adds (ID 0) or changes a custom score criterion.
func (a *App) SaveCriterion(ctx context.Context, key string, c northstar.ScoreCriterion) (*northstar.ScoreCriterion, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		if c.ObjectiveID != nil {
			allowed, err := tx.ObjectiveIDsOfProduct(ctx, p.ID)
			if err != nil {
				return err
			}
			if _, ok := allowed[*c.ObjectiveID]; !ok {
				return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "objective_id", Message: fmt.Sprintf("Objective %d is neither %s's nor the company's.", *c.ObjectiveID, p.Key)}
			}
		}
		err = tx.SaveCriterion(ctx, p.ID, &c)
		if store.IsDuplicate(err) {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "name", Message: fmt.Sprintf("%s already has a criterion named %q.", p.Key, c.Name)}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteCriterion removes a criterion and its scores.
func (a *App) DeleteScoreCriterion(ctx context.Context, key string, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		return tx.DeleteScoreCriterion(ctx, p.ID, id)
	})
}

// --- Releases ---

// Releases lists a product's releases with progress.
func (a *App) Releases(ctx context.Context, key string) ([]*northstar.Release, error) {
	return readProduct(ctx, a, key, func(tx *store.Tx, p *northstar.Product) ([]*northstar.Release, error) {
		return tx.FindReleases(ctx, p.ID)
	})
}

// ReleaseDetail is a release with its features and their stories.
type ReleaseDetail struct {
	Release  *northstar.Release
	Features []*northstar.Feature
	Stories  map[int64][]*northstar.Story // by feature id
}

// Release returns a release with its features and stories.
func (a *App) Release(ctx context.Context, key string, id int64) (*ReleaseDetail, error) {
	var d *ReleaseDetail
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		r, err := tx.FindRelease(ctx, p.ID, id)
		if err != nil {
			return err
		}
		fs, err := tx.FindFeaturesFiltered(ctx, p.ID, northstar.FeatureFilter{Release: id})
		if err != nil {
			return err
		}
		if err := scoreFeatures(ctx, tx, p.ID, fs); err != nil {
			return err
		}
		d = &ReleaseDetail{Release: r, Features: fs, Stories: map[int64][]*northstar.Story{}}
		for _, f := range fs {
			if d.Stories[f.ID], err = tx.FeatureStories(ctx, f.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return d, err
}

// SaveRelease creates (id 0) or changes a release if still at version.
func (a *App) SaveRelease(ctx context.Context, key string, id int64, version int, in northstar.ReleaseInput) (*northstar.Release, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var r *northstar.Release
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		var before map[string]any
		action := "updated"
		if id == 0 {
			r = &northstar.Release{ProductID: p.ID, ProductKey: p.Key}
			action = "created"
		} else {
			if r, err = tx.FindRelease(ctx, p.ID, id); err != nil {
				return err
			}
			if err := checkVersion("Release "+r.Name, r.Version, version); err != nil {
				return err
			}
		}
		if id != 0 {
			before = northstar.Snapshot(r)
		}
		wasReleased := r.Status == northstar.ReleaseReleased
		r.Name, r.Goal, r.Target, r.Status, r.MVP = in.Name, in.Goal, in.Target, in.Status, in.MVP
		if r.Status == northstar.ReleaseReleased && !wasReleased {
			now := tx.Now
			r.ReleasedAt = &now
		} else if r.Status != northstar.ReleaseReleased {
			r.ReleasedAt = nil
		}
		if id == 0 {
			err = tx.CreateRelease(ctx, r)
		} else {
			err = tx.UpdateRelease(ctx, r)
		}
		if store.IsDuplicate(err) {
			if in.MVP {
				return &northstar.Error{Code: northstar.ECONFLICT, Field: "mvp", Message: fmt.Sprintf("%s already has an MVP release (or one named %q).", p.Key, in.Name)}
			}
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "name", Message: fmt.Sprintf("%s already has a release named %q.", p.Key, in.Name)}
		}
		if err != nil {
			return err
		}
		if r.Status == northstar.ReleaseReleased && !wasReleased {
			if _, err := tx.ReleaseFeatures(ctx, r.ID); err != nil {
				return err
			}
			action = "released"
		}
		if r, err = tx.FindRelease(ctx, p.ID, r.ID); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, change{productID: p.ID, productKey: p.Key, kind: northstar.KindRelease, itemID: r.ID, ref: r.Name,
			action: action, before: beforeOrNil(before), after: r})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("save release: %w", err)
	}
	a.tellReleasedRelease(ctx, r)
	return r, nil
}

// ShipRelease releases a release: its features are marked released and
// the date recorded.
func (a *App) ShipRelease(ctx context.Context, key string, id int64) (*northstar.Release, error) {
	var r *northstar.Release
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		r, err = tx.FindRelease(ctx, p.ID, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if r.Status == northstar.ReleaseReleased {
		return nil, northstar.Errorf(northstar.EUNPROCESSABLE, "Release %q was released already.", r.Name)
	}
	return a.SaveRelease(ctx, key, id, r.Version, northstar.ReleaseInput{Name: r.Name, Goal: r.Goal, Target: r.Target, Status: northstar.ReleaseReleased, MVP: r.MVP})
}

// DeleteRelease removes a release; its features stay, unscheduled.
func (a *App) DeleteRelease(ctx context.Context, key string, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		return tx.DeleteRelease(ctx, p.ID, id)
	})
}

// --- Themes ---

// Themes lists a product's themes.
func (a *App) Themes(ctx context.Context, key string) ([]*northstar.Theme, error) {
	return readProduct(ctx, a, key, func(tx *store.Tx, p *northstar.Product) ([]*northstar.Theme, error) {
		return tx.FindThemes(ctx, p.ID)
	})
}

// SaveTheme creates (ID 0) or changes a theme; a theme may sit under
// another (an initiative), never under itself.
func (a *App) SaveTheme(ctx context.Context, key string, t northstar.Theme) (*northstar.Theme, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		themes, err := tx.FindThemes(ctx, p.ID)
		if err != nil {
			return err
		}
		parents := map[int64]int64{}
		for _, x := range themes {
			if x.ParentID != nil {
				parents[x.ID] = *x.ParentID
			} else {
				parents[x.ID] = 0
			}
		}
		if t.ParentID != nil {
			if _, ok := parents[*t.ParentID]; !ok {
				return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "parent_id", Message: fmt.Sprintf("Theme %d is not a theme of %s.", *t.ParentID, p.Key)}
			}
		}
		if t.ID != 0 {
			if _, ok := parents[t.ID]; !ok {
				return northstar.Errorf(northstar.ENOTFOUND, "Theme %d not found.", t.ID)
			}
		}
		if err := northstar.CheckThemeParent(t.ID, t.ParentID, func(id int64) int64 { return parents[id] }); err != nil {
			return err
		}
		err = tx.SaveTheme(ctx, p.ID, &t)
		if store.IsDuplicate(err) {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "name", Message: fmt.Sprintf("%s already has a theme named %q.", p.Key, t.Name)}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteTheme removes a theme.
func (a *App) DeleteTheme(ctx context.Context, key string, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		return tx.DeleteTheme(ctx, p.ID, id)
	})
}

// --- Roadmap ---

// Roadmap is everything the roadmap views draw: features with their
// placement, releases, themes and the objectives features serve.
type Roadmap struct {
	Product    *northstar.Product
	Features   []*northstar.Feature
	Releases   []*northstar.Release
	Themes     []*northstar.Theme
	Objectives []*northstar.Objective
	Shared     bool // seen through a published link
	Internal   bool // internal fields (scores, voice of the customer, owners) may be shown
}

func roadmap(ctx context.Context, tx *store.Tx, p *northstar.Product) (*Roadmap, error) {
	rm := &Roadmap{Product: p, Internal: true}
	var err error
	if rm.Features, err = tx.FindFeatures(ctx, p.ID); err != nil {
		return nil, err
	}
	if err := scoreFeatures(ctx, tx, p.ID, rm.Features); err != nil {
		return nil, err
	}
	if rm.Releases, err = tx.FindReleases(ctx, p.ID); err != nil {
		return nil, err
	}
	if rm.Themes, err = tx.FindThemes(ctx, p.ID); err != nil {
		return nil, err
	}
	if rm.Objectives, err = tx.FindObjectives(ctx, p.ID, false); err != nil {
		return nil, err
	}
	company, err := tx.FindObjectives(ctx, 0, false)
	if err != nil {
		return nil, err
	}
	rm.Objectives = append(rm.Objectives, company...)
	return rm, nil
}

// Roadmap returns a product's roadmap for its members.
func (a *App) Roadmap(ctx context.Context, key string) (*Roadmap, error) {
	var rm *Roadmap
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		rm, err = roadmap(ctx, tx, p)
		return err
	})
	return rm, err
}

// SharedRoadmap returns the roadmap behind a published link, for anyone
// holding it. Rejected features are never shown, and with internal
// fields hidden neither are scores, owners or the voice of the customer.
func (a *App) SharedRoadmap(ctx context.Context, secret string) (*Roadmap, error) {
	var rm *Roadmap
	err := a.db.View(ctx, func(tx *store.Tx) error {
		p, hide, err := tx.FindRoadmapLink(ctx, hashSecret(strings.TrimSpace(secret)))
		if err != nil {
			return err
		}
		if rm, err = roadmap(ctx, tx, p); err != nil {
			return err
		}
		rm.Shared, rm.Internal = true, !hide
		kept := rm.Features[:0]
		for _, f := range rm.Features {
			if f.Status == northstar.FeatureRejected {
				continue
			}
			if hide {
				f.Scores, f.Computed, f.Voice, f.Custom, f.Owner, f.CreatedBy, f.RejectedReason = northstar.Scores{}, northstar.ComputedScores{}, northstar.Voice{}, nil, nil, nil, ""
				f.Insights, f.MoSCoW = 0, ""
			}
			kept = append(kept, f)
		}
		rm.Features = kept
		return nil
	})
	return rm, err
}

// PublishRoadmap creates a read-only link to a product's roadmap and
// returns its secret, shown once.
func (a *App) PublishRoadmap(ctx context.Context, key, name string, hideInternal bool) (string, *northstar.RoadmapLink, error) {
	name = strings.TrimSpace(name)
	if len([]rune(name)) > northstar.MaxNameLen || !validUTF8(name) || strings.ContainsRune(name, 0) {
		return "", nil, northstar.FieldError("name", "name must be valid text of at most %d characters.", northstar.MaxNameLen)
	}
	secret, hash := newSecret("rm_")
	l := &northstar.RoadmapLink{Name: name, Prefix: secret[:9], HideInternal: hideInternal}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		l.CreatedBy = user.Name
		return tx.CreateRoadmapLink(ctx, p.ID, l, hash, user.ID)
	})
	if err != nil {
		return "", nil, fmt.Errorf("publish roadmap: %w", err)
	}
	return secret, l, nil
}

// RoadmapLinks lists a product's published links.
func (a *App) RoadmapLinks(ctx context.Context, key string) ([]*northstar.RoadmapLink, error) {
	var out []*northstar.RoadmapLink
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		out, err = tx.FindRoadmapLinks(ctx, p.ID)
		return err
	})
	return out, err
}

// RevokeRoadmapLink stops a published link at once.
func (a *App) RevokeRoadmapLink(ctx context.Context, key string, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		return tx.RevokeRoadmapLink(ctx, p.ID, id)
	})
}
