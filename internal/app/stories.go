package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// storyRetries bounds how often a write is retried when two concurrent
// writes chose the same rank: moves and new stories lock the backlog
// first (LockBacklog), the rarer writers of ranks (closing a sprint, an
// import, a rebalance) do not.
const storyRetries = 5

// loadStory authorizes the action on a story's product and loads the story.
func loadStory(ctx context.Context, tx *store.Tx, ref string, action northstar.Action) (*northstar.User, *northstar.Product, *northstar.Story, error) {
	key, n, err := northstar.ParseRef(ref)
	if err != nil {
		return nil, nil, nil, northstar.Errorf(northstar.ENOTFOUND, "Story %s not found.", ref)
	}
	user, p, err := authorize(ctx, tx, key, action)
	if err != nil {
		if northstar.ErrorCode(err) == northstar.ENOTFOUND {
			return nil, nil, nil, northstar.Errorf(northstar.ENOTFOUND, "Story %s not found.", ref)
		}
		return nil, nil, nil, err
	}
	s, err := tx.FindStory(ctx, p.ID, n, northstar.FormatRef(key, n))
	if err != nil {
		return nil, nil, nil, err
	}
	return user, p, s, nil
}

// resolveAssignee finds the member of product p with the given e-mail.
func resolveAssignee(ctx context.Context, tx *store.Tx, p *northstar.Product, email, field string) (*northstar.UserRef, error) {
	if !validUTF8(email) || strings.ContainsRune(email, 0) {
		// PostgreSQL refuses such text; no address has it anyway.
		return nil, northstar.FieldError(field, "%s must be an e-mail address: valid UTF-8 without NUL characters.", field)
	}
	u, err := tx.FindUserRef(ctx, email)
	if err != nil {
		if isNotFound(err) {
			return nil, northstar.FieldError(field, "No user with email %s.", strings.TrimSpace(email))
		}
		return nil, err
	}
	role, err := tx.MemberRole(ctx, p.ID, u.ID)
	if err != nil {
		return nil, err
	}
	if role == "" {
		return nil, &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: field, Message: fmt.Sprintf("%s is not a member of %s; add them to the product first.", u.Email, p.Key)}
	}
	return u, nil
}

// resolveFeature finds a feature of product p by ref; a story or feedback
// links only to a feature of its own product.
func resolveFeature(ctx context.Context, tx *store.Tx, p *northstar.Product, ref, field string) (*northstar.Feature, error) {
	key, n, err := northstar.ParseRef(ref)
	if err != nil {
		return nil, northstar.FieldError(field, "%q is not a feature ref like %s-12.", ref, p.Key)
	}
	if key != p.Key {
		return nil, &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: field, Message: fmt.Sprintf("%s is in another product; use a feature of %s.", strings.ToUpper(ref), p.Key)}
	}
	f, err := tx.FindFeature(ctx, p.ID, n, northstar.FormatRef(key, n))
	if isNotFound(err) {
		return nil, &northstar.Error{Code: northstar.ENOTFOUND, Field: field, Message: fmt.Sprintf("Feature %s not found.", northstar.FormatRef(key, n))}
	}
	return f, err
}

func userRefOf(u *northstar.User) *northstar.UserRef {
	return &northstar.UserRef{ID: u.ID, Email: u.Email, Name: u.Name}
}

// CreateStory adds a story to a product's backlog, at the bottom unless
// asked for the top.
func (a *App) CreateStory(ctx context.Context, key string, in northstar.NewStory) (*northstar.Story, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	var s *northstar.Story
	var user *northstar.User
	var p *northstar.Product
	// Authorize and resolve people and features in a read transaction, so
	// that the one writer only numbers, ranks and inserts.
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		user, p, err = authorize(ctx, tx, key, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		s = &northstar.Story{
			ProductID: p.ID, ProductKey: p.Key, Type: in.Type, Title: in.Title, Persona: in.Persona, Want: in.Want,
			Benefit: in.Benefit, Description: in.Description, Points: in.Points, Status: in.Status, Labels: in.Labels,
			CreatedBy: userRefOf(user), UpdatedBy: userRefOf(user), Criteria: []northstar.Criterion{}, Tasks: []northstar.Task{},
		}
		for _, c := range in.Criteria {
			s.Criteria = append(s.Criteria, northstar.Criterion{Text: c})
		}
		for _, t := range in.Tasks {
			s.Tasks = append(s.Tasks, northstar.Task{Text: t})
		}
		if in.Assignee != "" {
			if s.Assignee, err = resolveAssignee(ctx, tx, p, in.Assignee, "assignee"); err != nil {
				return err
			}
		}
		if in.Feature != "" {
			f, err := resolveFeature(ctx, tx, p, in.Feature, "feature")
			if err != nil {
				return err
			}
			s.FeatureID = &f.ID
			s.Feature = &northstar.FeatureRef{Ref: f.Ref, Title: f.Title}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create story in %s: %w", key, err)
	}
	// On PostgreSQL a concurrent move to the same end of the backlog can
	// take the rank chosen here: try again with the new end.
	for attempt := 0; attempt < storyRetries; attempt++ {
		err = a.createStory(ctx, user, p, s, in.Position)
		if !store.IsDuplicate(err) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create story in %s: %w", key, err)
	}
	return s, nil
}

func (a *App) createStory(ctx context.Context, user *northstar.User, p *northstar.Product, s *northstar.Story, position string) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		if s.Number, err = tx.NextNumber(ctx, s.ProductID); err != nil {
			return err
		}
		s.Ref = northstar.FormatRef(s.ProductKey, s.Number)
		if err := tx.LockBacklog(ctx, s.ProductID); err != nil {
			return err
		}
		end, err := tx.EndRank(ctx, s.ProductID, position == "top", 0)
		if err != nil {
			return err
		}
		if position == "top" {
			s.Rank, err = northstar.RankBetween("", end)
		} else {
			s.Rank, err = northstar.RankBetween(end, "")
		}
		if err != nil {
			return err
		}
		if err := tx.CreateStory(ctx, s); err != nil {
			return err
		}
		c := storyChange(p, s, "created", nil, s)
		c.watchers = []int64{user.ID}
		if s.Assignee != nil {
			c.assignee, c.watchers = s.Assignee, append(c.watchers, s.Assignee.ID)
		}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
}

// Story returns a story the current user may read.
func (a *App) Story(ctx context.Context, ref string) (*northstar.Story, error) {
	var s *northstar.Story
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		_, _, s, err = loadStory(ctx, tx, ref, northstar.ActionRead)
		return err
	})
	return s, err
}

// Stories returns a page of a product's backlog in order.
func (a *App) Stories(ctx context.Context, key string, f northstar.StoryFilter) ([]*northstar.Story, error) {
	if utf8.RuneCountInString(f.Query) > northstar.MaxSearchQueryLen {
		return nil, northstar.FieldError("q", "q is too long (at most %d characters).", northstar.MaxSearchQueryLen)
	}
	var stories []*northstar.Story
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		if f.Assignee != "" {
			var id int64
			if f.Assignee != "none" {
				u, err := tx.FindUserRef(ctx, f.Assignee)
				if isNotFound(err) {
					stories = []*northstar.Story{}
					return nil // nobody by that address: no stories assigned
				} else if err != nil {
					return err
				}
				id = u.ID
			}
			f.AssigneeID = &id
		}
		stories, err = tx.FindStories(ctx, p.ID, f)
		return err
	})
	return stories, err
}

// UpdateStory changes a story if it is still at version (0 skips the
// check). The fields present decide the permission needed.
func (a *App) UpdateStory(ctx context.Context, ref string, version int, u northstar.StoryUpdate) (*northstar.Story, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	action := northstar.ActionWorkStories
	if u.Edits() {
		action = northstar.ActionEditStories
	}
	var s *northstar.Story
	for attempt := 0; ; attempt++ {
		var w storyWrite
		// Read, check and prepare outside the one writer; the write then
		// holds only if the story is still at the version read.
		err := a.db.View(ctx, func(tx *store.Tx) error {
			user, p, story, err := loadStory(ctx, tx, ref, action)
			if err != nil {
				return err
			}
			s = story
			if u.Accepted != nil && !northstar.Can(user.Admin, p.Role, northstar.ActionAcceptStory) {
				return northstar.Errorf(northstar.EFORBIDDEN, "Only the product owner may accept stories in %s.", p.Key)
			}
			if err := checkVersion("Story "+s.Ref, s.Version, version); err != nil {
				return err
			}
			w, err = prepareStoryUpdate(ctx, tx, user, p, s, u)
			return err
		})
		if err == nil {
			err = a.db.Update(ctx, func(tx *store.Tx) error { return a.writeStoryUpdate(ctx, tx, s, w) })
		}
		if err == nil {
			return s, nil
		}
		// Someone changed the story between the read and the write: a
		// caller who gave no version gets the change applied to the new one.
		if version == 0 && northstar.ErrorCode(err) == northstar.ECONFLICT && attempt < 3 {
			continue
		}
		return nil, fmt.Errorf("update story %s: %w", ref, err)
	}
}

// storyWrite is what a prepared story update still has to write besides
// the story row.
type storyWrite struct {
	labels  *[]string
	reindex bool
	// For the activity log: the story as it was, who changes it, where,
	// and whether it got a new assignee to tell.
	before   map[string]any
	user     *northstar.User
	product  *northstar.Product
	assigned bool
}

// applyStoryUpdate changes a story inside one transaction.
func (a *App) applyStoryUpdate(ctx context.Context, tx *store.Tx, user *northstar.User, p *northstar.Product, s *northstar.Story, u northstar.StoryUpdate) error {
	w, err := prepareStoryUpdate(ctx, tx, user, p, s, u)
	if err != nil {
		return err
	}
	return a.writeStoryUpdate(ctx, tx, s, w)
}

// prepareStoryUpdate applies an update to a loaded story, resolving people
// and features and checking the rules; it only reads.
func prepareStoryUpdate(ctx context.Context, tx *store.Tx, user *northstar.User, p *northstar.Product, s *northstar.Story, u northstar.StoryUpdate) (storyWrite, error) {
	w := storyWrite{labels: u.Labels, reindex: u.Title != nil || u.Persona != nil || u.Want != nil || u.Benefit != nil || u.Description != nil,
		before: northstar.Snapshot(s), user: user, product: p}
	oldAssignee := int64(0)
	if s.Assignee != nil {
		oldAssignee = s.Assignee.ID
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if u.Type != nil {
		s.Type = *u.Type
	}
	set(&s.Title, u.Title)
	set(&s.Persona, u.Persona)
	set(&s.Want, u.Want)
	set(&s.Benefit, u.Benefit)
	set(&s.Description, u.Description)
	if u.Points.Set {
		if u.Points.Null {
			s.Points = nil
		} else {
			v := u.Points.Value
			s.Points = &v
		}
	}
	if u.Assignee.Set {
		if u.Assignee.Null || strings.TrimSpace(u.Assignee.Value) == "" {
			s.Assignee = nil
		} else {
			a, err := resolveAssignee(ctx, tx, p, u.Assignee.Value, "assignee")
			if err != nil {
				return w, err
			}
			s.Assignee = a
		}
	}
	if u.Status != nil {
		s.Status = *u.Status
		if s.Status != northstar.StatusDone && s.Accepted && (u.Accepted == nil || *u.Accepted) {
			// Work reopened: the acceptance no longer holds.
			unaccept(s)
		}
	}
	if u.Accepted != nil {
		if *u.Accepted {
			if err := s.CheckAccept(); err != nil {
				return w, err
			}
			if !s.Accepted {
				now := tx.Now
				s.Accepted, s.AcceptedAt, s.AcceptedBy, s.Status = true, &now, userRefOf(user), northstar.StatusDone
			}
		} else {
			unaccept(s)
		}
	}
	if u.Feature.Set {
		if u.Feature.Null || strings.TrimSpace(u.Feature.Value) == "" {
			s.FeatureID, s.Feature = nil, nil
		} else {
			f, err := resolveFeature(ctx, tx, p, u.Feature.Value, "feature")
			if err != nil {
				return w, err
			}
			s.FeatureID = &f.ID
			s.Feature = &northstar.FeatureRef{Ref: f.Ref, Title: f.Title}
		}
	}
	s.UpdatedBy = userRefOf(user)
	w.assigned = s.Assignee != nil && s.Assignee.ID != oldAssignee
	return w, nil
}

// writeStoryUpdate writes a prepared story update and records it.
func (a *App) writeStoryUpdate(ctx context.Context, tx *store.Tx, s *northstar.Story, w storyWrite) error {
	if err := tx.UpdateStory(ctx, s); err != nil {
		return err
	}
	if w.labels != nil {
		if err := tx.SetStoryLabels(ctx, s, *w.labels); err != nil {
			return err
		}
	}
	if w.reindex {
		if err := tx.IndexStory(ctx, s); err != nil {
			return err
		}
	}
	c := storyChange(w.product, s, "updated", w.before, s)
	if w.assigned {
		c.assignee, c.watchers = s.Assignee, []int64{s.Assignee.ID}
	}
	_, err := a.record(ctx, tx, w.user, c)
	return err
}

// storyChange describes a change to a story for the activity log.
func storyChange(p *northstar.Product, s *northstar.Story, action string, before, after any) change {
	return change{productID: s.ProductID, productKey: s.ProductKey, kind: northstar.KindStory, itemID: s.ID, ref: s.Ref, action: action, before: before, after: after}
}

func unaccept(s *northstar.Story) {
	s.Accepted, s.AcceptedAt, s.AcceptedBy = false, nil, nil
}

// DeleteStory removes a story if it is still at version (0 skips the check).
func (a *App) DeleteStory(ctx context.Context, ref string, version int) error {
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, s, err := loadStory(ctx, tx, ref, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		if err := checkVersion("Story "+s.Ref, s.Version, version); err != nil {
			return err
		}
		if err := tx.DeleteStory(ctx, s); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, storyChange(p, s, "deleted", northstar.Snapshot(s), nil))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete story %s: %w", ref, err)
	}
	return nil
}

// MoveStory places a story before or after another story of the same
// product, or at the top or bottom of the backlog. It writes one row: the
// story's new rank between its new neighbours.
func (a *App) MoveStory(ctx context.Context, ref string, m northstar.Move) (*northstar.Story, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	// Authorize and find both stories in a read transaction; the one
	// writer then only reads two ranks and writes one.
	var s *northstar.Story
	var user *northstar.User
	var p *northstar.Product
	var targetID int64
	field := "before"
	if m.After != "" {
		field = "after"
	}
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var story *northstar.Story
		var err error
		user, p, story, err = loadStory(ctx, tx, ref, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		s = story
		if m.Position == "" {
			other := m.Before
			if field == "after" {
				other = m.After
			}
			if targetID, err = relativeTo(ctx, tx, p, field, other); err != nil {
				return err
			}
			if targetID == s.ID {
				return northstar.FieldError(field, "A story cannot be moved relative to itself.")
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("move story %s: %w", ref, err)
	}
	for attempt := 0; attempt < storyRetries; attempt++ {
		err = a.db.Update(ctx, func(tx *store.Tx) error {
			rank, err := placeStory(ctx, tx, s, m.Position, field, targetID)
			if err != nil {
				return err
			}
			s.Rank = rank
			if err := tx.SetStoryRank(ctx, s.ID, rank); err != nil {
				return err
			}
			// A move is logged and announced, but nobody is notified of
			// every reordering.
			where := m.Position
			if where == "" {
				where = field + " " + strings.ToUpper(m.Before+m.After)
			}
			c := storyChange(p, s, "moved", nil, nil)
			c.skipDiff, c.quiet, c.changes = true, true, []northstar.FieldChange{{Field: "position", New: where}}
			_, err = a.record(ctx, tx, user, c)
			return err
		})
		if !store.IsDuplicate(err) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("move story %s: %w", ref, err)
	}
	if len(s.Rank) > northstar.MaxRankLen {
		if err := a.rebalance(ctx, s.ProductID, s.Rank); err != nil {
			a.log.Warn("rebalance ranks", "product", s.ProductKey, "err", err)
		}
	}
	return s, nil
}

// placeStory computes a story's new rank: at the top or bottom, or just
// before or after the target story.
func placeStory(ctx context.Context, tx *store.Tx, s *northstar.Story, position, field string, targetID int64) (string, error) {
	if err := tx.LockBacklog(ctx, s.ProductID); err != nil {
		return "", err
	}
	var lo, hi string
	var err error
	switch position {
	case "top":
		if hi, err = tx.EndRank(ctx, s.ProductID, true, s.ID); err != nil {
			return "", err
		}
	case "bottom":
		if lo, err = tx.EndRank(ctx, s.ProductID, false, s.ID); err != nil {
			return "", err
		}
	default:
		target, err := tx.RankOf(ctx, targetID)
		if err != nil {
			return "", err
		}
		before, after, err := tx.NeighbourRanks(ctx, s.ProductID, target, s.ID)
		if err != nil {
			return "", err
		}
		if field == "before" {
			lo, hi = before, target
		} else {
			lo, hi = target, after
		}
	}
	return northstar.RankBetween(lo, hi)
}

// relativeTo finds the id of the story a move is relative to; it must be
// in the same product.
func relativeTo(ctx context.Context, tx *store.Tx, p *northstar.Product, field, ref string) (int64, error) {
	key, n, err := northstar.ParseRef(ref)
	if err != nil {
		return 0, northstar.FieldError(field, "%q is not a ref like %s-7.", ref, p.Key)
	}
	if key != p.Key {
		return 0, &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: field, Message: fmt.Sprintf("%s is in another product; a story moves only within %s.", strings.ToUpper(ref), p.Key)}
	}
	id, err := tx.StoryID(ctx, p.ID, n)
	if isNotFound(err) {
		return 0, &northstar.Error{Code: northstar.ENOTFOUND, Field: field, Message: fmt.Sprintf("Story %s not found.", northstar.FormatRef(key, n))}
	}
	return id, err
}

// rebalanceWindow is how many stories on each side of a crowded rank are
// given fresh, short ranks.
const rebalanceWindow = 50

// rebalance spreads the ranks around a rank that grew long, in one short
// transaction of its own: rare, bounded and never part of a user's change.
func (a *App) rebalance(ctx context.Context, productID int64, rank string) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		ids, ranks, err := tx.RankWindow(ctx, productID, rank, rebalanceWindow)
		if err != nil || len(ids) == 0 {
			return err
		}
		lo, _, err := tx.NeighbourRanks(ctx, productID, ranks[0], 0)
		if err != nil {
			return err
		}
		_, hi, err := tx.NeighbourRanks(ctx, productID, ranks[len(ranks)-1], 0)
		if err != nil {
			return err
		}
		fresh, err := northstar.RanksBetween(lo, hi, len(ids))
		if err != nil {
			return err
		}
		// Park the window above the top first, so that no new rank can
		// collide with an old one still in place.
		for i, id := range ids {
			if err := tx.SetStoryRank(ctx, id, fmt.Sprintf("~%08d", i)); err != nil {
				return err
			}
		}
		for i, id := range ids {
			if err := tx.SetStoryRank(ctx, id, fresh[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// storyPart runs a change to a story's criteria or tasks: it authorizes
// the action, checks the version, applies change, then moves the story's
// version on so that a client holding the old one learns of it.
func (a *App) storyPart(ctx context.Context, ref string, version int, action northstar.Action, change func(tx *store.Tx, s *northstar.Story) error) (*northstar.Story, error) {
	var s *northstar.Story
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, story, err := loadStory(ctx, tx, ref, action)
		if err != nil {
			return err
		}
		s = story
		if err := checkVersion("Story "+s.Ref, s.Version, version); err != nil {
			return err
		}
		before := northstar.Snapshot(s)
		if err := change(tx, s); err != nil {
			return err
		}
		if s.Accepted && !s.CriteriaMet() {
			unaccept(s) // acceptance needs every criterion met
		}
		s.UpdatedBy = userRefOf(user)
		if err := tx.UpdateStory(ctx, s); err != nil {
			return err
		}
		if err := tx.IndexStory(ctx, s); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, storyChange(p, s, "updated", before, s))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("change story %s: %w", ref, err)
	}
	return s, nil
}

func findCriterion(s *northstar.Story, id int64) (int, error) {
	for i, c := range s.Criteria {
		if c.ID == id {
			return i, nil
		}
	}
	return 0, northstar.Errorf(northstar.ENOTFOUND, "Criterion %d not found on %s.", id, s.Ref)
}

func findTask(s *northstar.Story, id int64) (int, error) {
	for i, t := range s.Tasks {
		if t.ID == id {
			return i, nil
		}
	}
	return 0, northstar.Errorf(northstar.ENOTFOUND, "Task %d not found on %s.", id, s.Ref)
}

func checkItemText(field string, text *string, max int) error {
	*text = strings.TrimSpace(*text)
	if *text == "" {
		return northstar.FieldError(field, "%s is required.", field)
	}
	if n := len([]rune(*text)); n > max {
		return northstar.FieldError(field, "%s is too long (%d characters, at most %d).", field, n, max)
	}
	if strings.ContainsRune(*text, 0) || !validUTF8(*text) {
		return northstar.FieldError(field, "%s must be valid UTF-8 without NUL characters.", field)
	}
	return nil
}

// AddCriterion appends an acceptance criterion to a story.
func (a *App) AddCriterion(ctx context.Context, ref string, version int, text string) (*northstar.Story, *northstar.Criterion, error) {
	if err := checkItemText("text", &text, northstar.MaxCriterionLen); err != nil {
		return nil, nil, err
	}
	var c northstar.Criterion
	s, err := a.storyPart(ctx, ref, version, northstar.ActionEditStories, func(tx *store.Tx, s *northstar.Story) error {
		if len(s.Criteria) >= northstar.MaxCriteria {
			return northstar.FieldError("criteria", "%s already has %d acceptance criteria, the most a story may have.", s.Ref, northstar.MaxCriteria)
		}
		c = northstar.Criterion{Text: text}
		if err := tx.AddCriterion(ctx, s.ID, &c); err != nil {
			return err
		}
		s.Criteria = append(s.Criteria, c)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return s, &c, nil
}

// UpdateCriterion changes a criterion's text (story editors) or marks it
// met or unmet (anyone who works on stories).
func (a *App) UpdateCriterion(ctx context.Context, ref string, version int, id int64, text *string, met *bool) (*northstar.Story, error) {
	action := northstar.ActionWorkStories
	if text != nil {
		action = northstar.ActionEditStories
		if err := checkItemText("text", text, northstar.MaxCriterionLen); err != nil {
			return nil, err
		}
	}
	return a.storyPart(ctx, ref, version, action, func(tx *store.Tx, s *northstar.Story) error {
		i, err := findCriterion(s, id)
		if err != nil {
			return err
		}
		if text != nil {
			s.Criteria[i].Text = *text
		}
		if met != nil {
			s.Criteria[i].Met = *met
		}
		return tx.UpdateCriterion(ctx, s.ID, s.Criteria[i])
	})
}

// DeleteCriterion removes a criterion.
func (a *App) DeleteCriterion(ctx context.Context, ref string, version int, id int64) (*northstar.Story, error) {
	return a.storyPart(ctx, ref, version, northstar.ActionEditStories, func(tx *store.Tx, s *northstar.Story) error {
		i, err := findCriterion(s, id)
		if err != nil {
			return err
		}
		s.Criteria = append(s.Criteria[:i], s.Criteria[i+1:]...)
		return tx.DeleteCriterion(ctx, s.ID, id)
	})
}

// TaskChange is a change to a task; nil fields stay.
type TaskChange struct {
	Text     *string
	Done     *bool
	Assignee northstar.Optional[string]
}

// AddTask appends a task to a story.
func (a *App) AddTask(ctx context.Context, ref string, version int, text, assignee string) (*northstar.Story, *northstar.Task, error) {
	if err := checkItemText("text", &text, northstar.MaxTaskLen); err != nil {
		return nil, nil, err
	}
	var t northstar.Task
	s, err := a.storyPart(ctx, ref, version, northstar.ActionWorkStories, func(tx *store.Tx, s *northstar.Story) error {
		if len(s.Tasks) >= northstar.MaxTasks {
			return northstar.FieldError("tasks", "%s already has %d tasks, the most a story may have.", s.Ref, northstar.MaxTasks)
		}
		t = northstar.Task{Text: text}
		if strings.TrimSpace(assignee) != "" {
			p := &northstar.Product{ID: s.ProductID, Key: s.ProductKey}
			var err error
			if t.Assignee, err = resolveAssignee(ctx, tx, p, assignee, "assignee"); err != nil {
				return err
			}
		}
		if err := tx.AddTask(ctx, s.ID, &t); err != nil {
			return err
		}
		s.Tasks = append(s.Tasks, t)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return s, &t, nil
}

// UpdateTask changes a task.
func (a *App) UpdateTask(ctx context.Context, ref string, version int, id int64, c TaskChange) (*northstar.Story, error) {
	if c.Text != nil {
		if err := checkItemText("text", c.Text, northstar.MaxTaskLen); err != nil {
			return nil, err
		}
	}
	return a.storyPart(ctx, ref, version, northstar.ActionWorkStories, func(tx *store.Tx, s *northstar.Story) error {
		i, err := findTask(s, id)
		if err != nil {
			return err
		}
		t := &s.Tasks[i]
		if c.Text != nil {
			t.Text = *c.Text
		}
		if c.Done != nil {
			t.Done = *c.Done
		}
		if c.Assignee.Set {
			if c.Assignee.Null || strings.TrimSpace(c.Assignee.Value) == "" {
				t.Assignee = nil
			} else {
				p := &northstar.Product{ID: s.ProductID, Key: s.ProductKey}
				if t.Assignee, err = resolveAssignee(ctx, tx, p, c.Assignee.Value, "assignee"); err != nil {
					return err
				}
			}
		}
		return tx.UpdateTask(ctx, s.ID, *t)
	})
}

// DeleteTask removes a task.
func (a *App) DeleteTask(ctx context.Context, ref string, version int, id int64) (*northstar.Story, error) {
	return a.storyPart(ctx, ref, version, northstar.ActionWorkStories, func(tx *store.Tx, s *northstar.Story) error {
		i, err := findTask(s, id)
		if err != nil {
			return err
		}
		s.Tasks = append(s.Tasks[:i], s.Tasks[i+1:]...)
		return tx.DeleteTask(ctx, s.ID, id)
	})
}

// BulkUpdateStories changes the status, assignee or labels of many stories
// in one transaction: all of them, or none when one fails.
func (a *App) BulkUpdateStories(ctx context.Context, b northstar.BulkUpdate) ([]*northstar.Story, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	action := northstar.ActionWorkStories
	if len(b.AddLabels) > 0 || len(b.RemoveLabels) > 0 {
		action = northstar.ActionEditStories
	}
	var out []*northstar.Story
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		seen := map[string]bool{}
		for i, r := range b.Refs {
			user, p, s, err := loadStory(ctx, tx, r, action)
			if err != nil {
				var e *northstar.Error
				if errors.As(err, &e) {
					return &northstar.Error{Code: e.Code, Field: fmt.Sprintf("refs[%d]", i), Message: e.Message}
				}
				return err
			}
			if seen[s.Ref] {
				continue
			}
			seen[s.Ref] = true
			u := northstar.StoryUpdate{Status: b.Status, Assignee: b.Assignee}
			if len(b.AddLabels) > 0 || len(b.RemoveLabels) > 0 {
				labels := mergeLabels(s.Labels, b.AddLabels, b.RemoveLabels)
				u.Labels = &labels
			}
			if err := a.applyStoryUpdate(ctx, tx, user, p, s, u); err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bulk update: %w", err)
	}
	return out, nil
}

func mergeLabels(have, add, remove []string) []string {
	drop := map[string]bool{}
	for _, l := range remove {
		drop[strings.ToLower(l)] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range append(append([]string{}, have...), add...) {
		k := strings.ToLower(l)
		if drop[k] || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, l)
	}
	return out
}

// Search finds stories matching a full-text query across every product the
// current user may read.
func (a *App) Search(ctx context.Context, q string, limit int) ([]northstar.SearchResult, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, northstar.FieldError("q", "q is required.")
	}
	if utf8.RuneCountInString(q) > northstar.MaxSearchQueryLen {
		return nil, northstar.FieldError("q", "q is too long (at most %d characters).", northstar.MaxSearchQueryLen)
	}
	if limit <= 0 {
		limit = northstar.DefaultSearchLimit
	}
	var out []northstar.SearchResult
	err = a.db.View(ctx, func(tx *store.Tx) error {
		products, err := tx.FindProducts(ctx, user, northstar.ProductFilter{})
		if err != nil {
			return err
		}
		ids := make([]int64, len(products))
		for i, p := range products {
			ids[i] = p.ID
		}
		out, err = tx.SearchStories(ctx, ids, q, limit)
		return err
	})
	return out, err
}
