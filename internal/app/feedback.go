package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// loadFeedback authorizes the action on a product and loads its feedback.
func loadFeedback(ctx context.Context, tx *store.Tx, key string, id int64, action northstar.Action) (*northstar.User, *northstar.Product, *northstar.Feedback, error) {
	user, p, err := authorize(ctx, tx, normalizeKey(key), action)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := tx.FindFeedback(ctx, p.ID, id)
	if err != nil {
		return nil, nil, nil, err
	}
	return user, p, f, nil
}

// feedbackChange describes a change to feedback for the activity log.
func feedbackChange(f *northstar.Feedback, action string, before, after any) change {
	return change{productID: f.ProductID, productKey: f.ProductKey, kind: northstar.KindFeedback, itemID: f.ID,
		ref: fmt.Sprintf("%s/%d", f.ProductKey, f.ID), action: action, before: before, after: after}
}

// resolveCustomer finds the customer feedback is from.
func resolveCustomer(ctx context.Context, tx *store.Tx, id *int64) (*northstar.Customer, error) {
	if id == nil || *id == 0 {
		return nil, nil
	}
	c, err := tx.FindCustomer(ctx, *id)
	if isNotFound(err) {
		return nil, &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "customer_id", Message: fmt.Sprintf("Customer %d not found.", *id)}
	}
	return c, err
}

// FeedbackList returns a page of a product's feedback inbox, newest first.
func (a *App) FeedbackList(ctx context.Context, key string, f northstar.FeedbackFilter) ([]*northstar.Feedback, error) {
	return readProduct(ctx, a, key, func(tx *store.Tx, p *northstar.Product) ([]*northstar.Feedback, error) {
		return tx.FindFeedbackList(ctx, p.ID, f)
	})
}

// Feedback returns one piece of feedback.
func (a *App) Feedback(ctx context.Context, key string, id int64) (*northstar.Feedback, error) {
	var f *northstar.Feedback
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		_, _, f, err = loadFeedback(ctx, tx, key, id, northstar.ActionRead)
		return err
	})
	return f, err
}

// AddFeedback records feedback, and links its insights in the same
// transaction (an interview note with what was learned from it). Linking
// needs the right to triage.
func (a *App) AddFeedback(ctx context.Context, key string, in northstar.FeedbackInput) (*northstar.Feedback, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	var f *northstar.Feedback
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, key, northstar.ActionAddFeedback)
		if err != nil {
			return err
		}
		if len(in.Insights) > 0 && !northstar.Can(user.Admin, p.Role, northstar.ActionTriageFeedback) {
			return northstar.Errorf(northstar.EFORBIDDEN, "As %s of %s you may add feedback but not link it to features.", p.Role.Label(), key)
		}
		customer, err := resolveCustomer(ctx, tx, in.CustomerID)
		if err != nil {
			return err
		}
		f = &northstar.Feedback{ProductID: p.ID, ProductKey: p.Key, Source: in.Source, Title: in.Title, Text: in.Text,
			Status: northstar.FeedbackNew, Customer: customer, CapturedBy: userRefOf(user), Links: []*northstar.Insight{}}
		if len(in.Insights) > 0 {
			f.Status = northstar.FeedbackTriaged
		}
		if err := tx.CreateFeedback(ctx, f); err != nil {
			return err
		}
		for i, ii := range in.Insights {
			insight, err := linkInsight(ctx, tx, user, p, f, ii)
			if err != nil {
				var e *northstar.Error
				if errors.As(err, &e) && e.Field != "" {
					return &northstar.Error{Code: e.Code, Field: fmt.Sprintf("insights[%d].%s", i, e.Field), Message: e.Message}
				}
				return err
			}
			f.Links = append(f.Links, insight)
		}
		c := feedbackChange(f, "created", nil, f)
		c.watchers = []int64{user.ID}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("add feedback to %s: %w", key, err)
	}
	return f, nil
}

// FeedbackChange is a change to feedback; nil fields stay.
type FeedbackChange struct {
	Title      *string
	Text       *string
	Status     *northstar.FeedbackStatus
	CustomerID northstar.Optional[int64]
}

// UpdateFeedback changes feedback if it is still at version (0 skips the
// check). Its author may correct the text; status and customer are triage.
func (a *App) UpdateFeedback(ctx context.Context, key string, id int64, version int, c FeedbackChange) (*northstar.Feedback, error) {
	if c.Title != nil {
		if err := checkItemText("title", c.Title, northstar.MaxTitleLen); err != nil {
			return nil, err
		}
	}
	if c.Text != nil {
		if err := checkItemText("text", c.Text, northstar.MaxFeedbackLen); err != nil {
			return nil, err
		}
	}
	if c.Status != nil && !c.Status.Valid() {
		return nil, northstar.FieldError("status", "status %q is not one of new, triaged, archived.", *c.Status)
	}
	var f *northstar.Feedback
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, fb, err := loadFeedback(ctx, tx, key, id, northstar.ActionRead)
		if err != nil {
			return err
		}
		f = fb
		triage := northstar.Can(user.Admin, p.Role, northstar.ActionTriageFeedback)
		author := f.CapturedBy != nil && f.CapturedBy.ID == user.ID && northstar.Can(user.Admin, p.Role, northstar.ActionAddFeedback)
		if (c.Status != nil || c.CustomerID.Set) && !triage {
			return northstar.Errorf(northstar.EFORBIDDEN, "As %s of %s you may not triage feedback.", p.Role.Label(), p.Key)
		}
		if (c.Title != nil || c.Text != nil) && !triage && !author {
			return northstar.Errorf(northstar.EFORBIDDEN, "Only the person who recorded this feedback, a product owner or a product manager may edit it.")
		}
		if p.ReadOnly() {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Product %s is retired and read-only.", p.Key)
		}
		if err := checkVersion(fmt.Sprintf("Feedback %d", id), f.Version, version); err != nil {
			return err
		}
		before := northstar.Snapshot(f)
		if c.Title != nil {
			f.Title = *c.Title
		}
		if c.Text != nil {
			f.Text = *c.Text
		}
		if c.Status != nil {
			f.Status = *c.Status
		}
		if c.CustomerID.Set {
			if c.CustomerID.Null {
				f.Customer = nil
			} else if f.Customer, err = resolveCustomer(ctx, tx, &c.CustomerID.Value); err != nil {
				return err
			}
		}
		if err := tx.UpdateFeedback(ctx, f); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, feedbackChange(f, "updated", before, f))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update feedback %d: %w", id, err)
	}
	return f, nil
}

// LinkInsight links a passage of feedback to an existing feature or to a
// new feature idea, and marks the feedback triaged.
func (a *App) LinkInsight(ctx context.Context, key string, feedbackID int64, in northstar.InsightInput) (*northstar.Feedback, *northstar.Insight, error) {
	if err := in.Validate(); err != nil {
		return nil, nil, err
	}
	var f *northstar.Feedback
	var insight *northstar.Insight
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, fb, err := loadFeedback(ctx, tx, key, feedbackID, northstar.ActionTriageFeedback)
		if err != nil {
			return err
		}
		f = fb
		if insight, err = linkInsight(ctx, tx, user, p, f, in); err != nil {
			return err
		}
		f.Links = append(f.Links, insight)
		if f.Status == northstar.FeedbackNew {
			f.Status = northstar.FeedbackTriaged
			if err := tx.UpdateFeedback(ctx, f); err != nil {
				return err
			}
		}
		c := feedbackChange(f, "linked", nil, nil)
		c.skipDiff = true
		c.changes = []northstar.FieldChange{{Field: "insight", New: map[string]any{"feature": insight.FeatureRef, "importance": insight.Importance, "passage": insight.Passage}}}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("link feedback %d: %w", feedbackID, err)
	}
	return f, insight, nil
}

// linkInsight links one passage inside a transaction. The passage, when
// given, must be a part of the feedback's text.
func linkInsight(ctx context.Context, tx *store.Tx, user *northstar.User, p *northstar.Product, f *northstar.Feedback, in northstar.InsightInput) (*northstar.Insight, error) {
	if in.Passage != "" && !strings.Contains(normalizeSpace(f.Text), normalizeSpace(in.Passage)) {
		return nil, northstar.FieldError("passage", "The passage must be quoted from the feedback's text.")
	}
	var feature *northstar.Feature
	if in.NewIdea != "" {
		if !northstar.Can(user.Admin, p.Role, northstar.ActionProposeFeature) {
			return nil, northstar.Errorf(northstar.EFORBIDDEN, "As %s of %s you may not propose features.", p.Role.Label(), p.Key)
		}
		var err error
		problem := ""
		if in.Passage != "" {
			problem = "> " + strings.ReplaceAll(in.Passage, "\n", "\n> ")
		}
		if feature, err = createIdea(ctx, tx, user, p, in.NewIdea, problem); err != nil {
			return nil, err
		}
	} else {
		fkey, n, err := northstar.ParseRef(in.Feature)
		if err != nil {
			return nil, northstar.FieldError("feature", "%q is not a feature ref like %s-12.", in.Feature, p.Key)
		}
		if fkey != p.Key {
			return nil, &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "feature", Message: fmt.Sprintf("%s is in another product; feedback on %s links to %s features.", strings.ToUpper(in.Feature), p.Key, p.Key)}
		}
		if feature, err = tx.FindFeature(ctx, p.ID, n, northstar.FormatRef(fkey, n)); err != nil {
			if isNotFound(err) {
				return nil, &northstar.Error{Code: northstar.ENOTFOUND, Field: "feature", Message: fmt.Sprintf("Feature %s not found.", northstar.FormatRef(fkey, n))}
			}
			return nil, err
		}
	}
	insight := &northstar.Insight{FeedbackID: f.ID, FeatureRef: feature.Ref, Feature: feature.Title, Passage: in.Passage,
		Importance: in.Importance, CreatedBy: userRefOf(user)}
	if err := tx.CreateInsight(ctx, insight, feature.ID, user.ID); err != nil {
		return nil, err
	}
	return insight, nil
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// createIdea creates a feature idea, numbered in the product's sequence
// shared with stories.
func createIdea(ctx context.Context, tx *store.Tx, user *northstar.User, p *northstar.Product, title, problem string) (*northstar.Feature, error) {
	n, err := tx.NextNumber(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	f := &northstar.Feature{ProductID: p.ID, ProductKey: p.Key, Number: n, Ref: northstar.FormatRef(p.Key, n), Title: title,
		Problem: problem, Status: northstar.FeatureIdea, CreatedBy: userRefOf(user)}
	return f, tx.CreateFeature(ctx, f)
}

// UnlinkInsight removes an insight from feedback.
func (a *App) UnlinkInsight(ctx context.Context, key string, feedbackID, insightID int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		user, _, f, err := loadFeedback(ctx, tx, key, feedbackID, northstar.ActionTriageFeedback)
		if err != nil {
			return err
		}
		if err := tx.DeleteInsight(ctx, feedbackID, insightID); err != nil {
			return err
		}
		c := feedbackChange(f, "unlinked", nil, nil)
		c.skipDiff, c.changes = true, []northstar.FieldChange{{Field: "insight", Old: insightID}}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
}

// ProposeIdea creates a feature idea without feedback.
func (a *App) ProposeIdea(ctx context.Context, key, title, problem string) (*northstar.Feature, error) {
	if err := checkItemText("title", &title, northstar.MaxTitleLen); err != nil {
		return nil, err
	}
	problem = strings.TrimSpace(problem)
	if len([]rune(problem)) > northstar.MaxMarkdownLen || !validUTF8(problem) || strings.ContainsRune(problem, 0) {
		return nil, northstar.FieldError("problem", "problem must be valid text of at most %d characters.", northstar.MaxMarkdownLen)
	}
	var f *northstar.Feature
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionProposeFeature)
		if err != nil {
			return err
		}
		f, err = createIdea(ctx, tx, user, p, title, problem)
		return err
	})
	return f, err
}
