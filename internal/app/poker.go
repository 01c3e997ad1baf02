package app

// Planning poker: the Product Owner opens a round for some stories, the
// team votes, the votes stay hidden until the Product Owner reveals a
// story, the suggestion from history appears only then, and the agreed
// value becomes the story's estimate next to who voted what.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// KindPoker names poker rounds in the changes sent to live pages.
const KindPoker = "poker"

// loadPokerRound authorizes the action on a round's product and loads it.
// Someone who may not read the product learns nothing of the round.
func loadPokerRound(ctx context.Context, tx *store.Tx, id int64, action northstar.Action) (*northstar.User, *northstar.Product, *northstar.PokerRound, error) {
	if _, err := currentUser(ctx); err != nil {
		return nil, nil, nil, err
	}
	r, err := tx.FindPokerRound(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	user, p, err := authorize(ctx, tx, r.ProductKey, action)
	if northstar.ErrorCode(err) == northstar.ENOTFOUND {
		return nil, nil, nil, northstar.Errorf(northstar.ENOTFOUND, "Poker round %d not found.", id)
	}
	return user, p, r, err
}

// pokerView prepares a round for its viewer: the suggestion on revealed
// stories, and votes hidden where they must be.
func (a *App) pokerView(ctx context.Context, tx *store.Tx, user *northstar.User, p *northstar.Product, r *northstar.PokerRound) error {
	var m *northstar.EstimateModel
	for _, it := range r.Items {
		if !it.Revealed {
			continue
		}
		if m == nil {
			var err error
			if m, err = a.estimateModel(ctx, tx, p); err != nil {
				return err
			}
		}
		_, n, _ := northstar.ParseRef(it.Ref)
		s, err := tx.FindStory(ctx, p.ID, n, it.Ref)
		if err != nil {
			return err
		}
		it.Suggestion = m.Suggest(s)
	}
	r.ForViewer(user.ID)
	return nil
}

// announce tells the live pages of the round's product that it changed,
// once the transaction commits. Poker changes go to live pages only, not
// to the activity log: votes are many, and their values are secret until
// revealed.
func (a *App) announce(tx *store.Tx, user *northstar.User, r *northstar.PokerRound, action string) {
	act := &northstar.Activity{ProductID: r.ProductID, ProductKey: r.ProductKey, ItemKind: KindPoker, ItemID: r.ID,
		ItemRef: strconv.FormatInt(r.ID, 10), Action: action, ActorID: user.ID, Actor: user.Name, At: tx.Now,
		Changes: []northstar.FieldChange{}}
	tx.AfterCommit(func() { a.bus.Publish(act) })
}

// OpenPokerRound opens a round for stories of a product, in the order
// given.
func (a *App) OpenPokerRound(ctx context.Context, key string, in northstar.NewPokerRound) (*northstar.PokerRound, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var r *northstar.PokerRound
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionEditStories)
		if err != nil {
			return err
		}
		stories, err := storiesOf(ctx, tx, p, in.Stories, "stories", true)
		if err != nil {
			return err
		}
		byNumber := map[int]*northstar.Story{}
		for _, s := range stories {
			byNumber[s.Number] = s
		}
		var ids []int64
		seen := map[int64]bool{}
		for _, ref := range in.Stories {
			_, n, _ := northstar.ParseRef(ref)
			if s := byNumber[n]; !seen[s.ID] {
				seen[s.ID] = true
				ids = append(ids, s.ID)
			}
		}
		r = &northstar.PokerRound{ProductID: p.ID, ProductKey: p.Key, Title: in.Title, CreatedBy: userRefOf(user)}
		if err := tx.CreatePokerRound(ctx, r, ids); err != nil {
			return err
		}
		if r, err = tx.FindPokerRound(ctx, r.ID); err != nil {
			return err
		}
		a.announce(tx, user, r, "created")
		return a.pokerView(ctx, tx, user, p, r)
	})
	if err != nil {
		return nil, fmt.Errorf("open poker round: %w", err)
	}
	return r, nil
}

// PokerRound returns a round as the current user may see it.
func (a *App) PokerRound(ctx context.Context, id int64) (*northstar.PokerRound, error) {
	var r *northstar.PokerRound
	err := a.db.View(ctx, func(tx *store.Tx) error {
		user, p, round, err := loadPokerRound(ctx, tx, id, northstar.ActionRead)
		if err != nil {
			return err
		}
		r = round
		return a.pokerView(ctx, tx, user, p, r)
	})
	return r, err
}

// PokerRounds lists a product's latest rounds, newest first.
func (a *App) PokerRounds(ctx context.Context, key string) ([]*northstar.PokerRound, error) {
	var out []*northstar.PokerRound
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		out, err = tx.FindPokerRounds(ctx, p.ID, 100)
		return err
	})
	return out, err
}

// pokerChange runs a change to one story of an open round in a write
// transaction and answers the round as the user now sees it.
func (a *App) pokerChange(ctx context.Context, id int64, ref string, action northstar.Action, version int,
	change func(tx *store.Tx, user *northstar.User, p *northstar.Product, r *northstar.PokerRound, it *northstar.PokerItem) error) (*northstar.PokerRound, error) {
	var r *northstar.PokerRound
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, round, err := loadPokerRound(ctx, tx, id, action)
		if err != nil {
			return err
		}
		r = round
		if err := checkVersion("Poker round "+strconv.Quote(r.Title), r.Version, version); err != nil {
			return err
		}
		if r.Status != northstar.PokerOpen {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Poker round %q is closed.", r.Title)
		}
		var it *northstar.PokerItem
		if ref != "" {
			if it = r.Item(ref); it == nil {
				return northstar.Errorf(northstar.ENOTFOUND, "Story %s is not in poker round %q.", ref, r.Title)
			}
		}
		if err := change(tx, user, p, r, it); err != nil {
			return err
		}
		if err := tx.TouchPokerRound(ctx, r, version); err != nil {
			return err
		}
		a.announce(tx, user, r, "updated")
		if r, err = tx.FindPokerRound(ctx, id); err != nil {
			return err
		}
		return a.pokerView(ctx, tx, user, p, r)
	})
	return r, err
}

// VotePoker records the current user's vote on a story of a round; a
// vote can change until the story is revealed.
func (a *App) VotePoker(ctx context.Context, id int64, ref string, points int) (*northstar.PokerRound, error) {
	if err := northstar.CheckVote(points); err != nil {
		return nil, err
	}
	return a.pokerChange(ctx, id, ref, northstar.ActionWorkStories, 0, func(tx *store.Tx, user *northstar.User, _ *northstar.Product, _ *northstar.PokerRound, it *northstar.PokerItem) error {
		if it.Revealed {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "The votes on %s are revealed; the product owner can start a new vote.", it.Ref)
		}
		return tx.SetPokerVote(ctx, it.ID, user.ID, points)
	})
}

// RevealPoker shows everyone's votes on a story, and the suggestion.
func (a *App) RevealPoker(ctx context.Context, id int64, ref string, version int) (*northstar.PokerRound, error) {
	return a.pokerChange(ctx, id, ref, northstar.ActionEditStories, version, func(tx *store.Tx, _ *northstar.User, _ *northstar.Product, _ *northstar.PokerRound, it *northstar.PokerItem) error {
		if len(it.Votes) == 0 {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Nobody has voted on %s yet.", it.Ref)
		}
		return tx.SetPokerRevealed(ctx, it.ID, true)
	})
}

// RevotePoker clears a story's votes for a new, hidden vote.
func (a *App) RevotePoker(ctx context.Context, id int64, ref string, version int) (*northstar.PokerRound, error) {
	return a.pokerChange(ctx, id, ref, northstar.ActionEditStories, version, func(tx *store.Tx, _ *northstar.User, _ *northstar.Product, _ *northstar.PokerRound, it *northstar.PokerItem) error {
		return tx.SetPokerRevealed(ctx, it.ID, false)
	})
}

// AgreePoker saves the value a round agreed on for a revealed story as
// the story's estimate; the votes stay with the round.
func (a *App) AgreePoker(ctx context.Context, id int64, ref string, points, version int) (*northstar.PokerRound, error) {
	if err := northstar.CheckVote(points); err != nil {
		return nil, err
	}
	return a.pokerChange(ctx, id, ref, northstar.ActionEditStories, version, func(tx *store.Tx, user *northstar.User, p *northstar.Product, _ *northstar.PokerRound, it *northstar.PokerItem) error {
		if !it.Revealed {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Reveal the votes on %s before agreeing on a value.", it.Ref)
		}
		_, n, _ := northstar.ParseRef(it.Ref)
		s, err := tx.FindStory(ctx, p.ID, n, it.Ref)
		if err != nil {
			return err
		}
		if s.Points == nil || *s.Points != points {
			u := northstar.StoryUpdate{Points: northstar.Optional[int]{Set: true, Value: points}}
			if err := a.applyStoryUpdate(ctx, tx, user, p, s, u); err != nil {
				return err
			}
		}
		return tx.SetPokerAgreed(ctx, it.ID, points, user.ID)
	})
}

// ClosePokerRound ends a round; its votes and agreed values stay.
func (a *App) ClosePokerRound(ctx context.Context, id int64, version int) (*northstar.PokerRound, error) {
	return a.pokerChange(ctx, id, "", northstar.ActionEditStories, version, func(tx *store.Tx, _ *northstar.User, _ *northstar.Product, r *northstar.PokerRound, _ *northstar.PokerItem) error {
		return tx.ClosePokerRound(ctx, r)
	})
}
