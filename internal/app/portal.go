package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// PortalSettings returns a product's portal settings (product managers).
func (a *App) PortalSettings(ctx context.Context, key string) (northstar.PortalSettings, error) {
	var s northstar.PortalSettings
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		s, err = tx.PortalSettings(ctx, p.ID)
		return err
	})
	return s, err
}

// SetPortalSettings opens or closes a product's public portal.
func (a *App) SetPortalSettings(ctx context.Context, key string, s northstar.PortalSettings) (northstar.PortalSettings, error) {
	s.Intro = strings.TrimSpace(s.Intro)
	if len([]rune(s.Intro)) > northstar.MaxDescriptionLen || !validUTF8(s.Intro) || strings.ContainsRune(s.Intro, 0) {
		return s, northstar.FieldError("intro", "intro must be valid text of at most %d characters.", northstar.MaxDescriptionLen)
	}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		return tx.SetPortalSettings(ctx, p.ID, s)
	})
	return s, err
}

// TeamPortalIdeas lists a product's portal ideas for its team, hidden ones
// too. Submitters' e-mail addresses are shown only to those who triage.
func (a *App) TeamPortalIdeas(ctx context.Context, key string) ([]*northstar.PortalIdea, error) {
	var out []*northstar.PortalIdea
	err := a.db.View(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		if out, err = tx.FindPortalIdeas(ctx, p.ID, false, 500); err != nil {
			return err
		}
		if !northstar.Can(user.Admin, p.Role, northstar.ActionTriageFeedback) {
			for _, i := range out {
				i.Email = ""
			}
		}
		return nil
	})
	return out, err
}

// PortalIdeaChange is the team's change to a portal idea.
type PortalIdeaChange struct {
	Status *northstar.PortalStatus
	Hidden *bool
}

// UpdatePortalIdea sets the status the portal shows, or hides an idea
// (product managers).
func (a *App) UpdatePortalIdea(ctx context.Context, key string, id int64, c PortalIdeaChange) (*northstar.PortalIdea, error) {
	if c.Status != nil && !c.Status.Valid() {
		return nil, northstar.FieldError("status", "status %q is not one of under_review, planned, in_progress, released, declined.", *c.Status)
	}
	var idea *northstar.PortalIdea
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		if idea, err = tx.FindPortalIdea(ctx, p.ID, id); err != nil {
			return err
		}
		if c.Status != nil {
			idea.Status = *c.Status
		}
		if c.Hidden != nil {
			idea.Hidden = *c.Hidden
		}
		return tx.UpdatePortalIdea(ctx, idea)
	})
	return idea, err
}

// TeamComment answers on a portal idea as a member of the team.
func (a *App) TeamComment(ctx context.Context, key string, id int64, body string) (*northstar.PortalComment, error) {
	if err := checkItemText("body", &body, northstar.MaxPortalCommentLen); err != nil {
		return nil, err
	}
	var c *northstar.PortalComment
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionComment)
		if err != nil {
			return err
		}
		if _, err := tx.FindPortalIdea(ctx, p.ID, id); err != nil {
			return err
		}
		c = &northstar.PortalComment{AuthorName: user.Name + " (" + p.Name + " team)", FromTeam: true, Body: body}
		return tx.AddPortalComment(ctx, id, c, user.Email, &user.ID)
	})
	return c, err
}

// --- The public side: no account, so every call is rate-limited. ---

// PortalView is what the public portal shows of a product.
type PortalView struct {
	Key   string
	Name  string
	Intro string
	Ideas []*northstar.PortalIdea
}

// publicIdea removes what the public must not see.
func publicIdea(i *northstar.PortalIdea) *northstar.PortalIdea {
	i.Email, i.FeedbackID = "", 0
	return i
}

// Portal returns a product's open portal with its visible ideas.
func (a *App) Portal(ctx context.Context, key string) (*PortalView, error) {
	var v *PortalView
	err := a.db.View(ctx, func(tx *store.Tx) error {
		p, err := tx.FindPortalProduct(ctx, normalizeKey(key))
		if err != nil {
			return err
		}
		ideas, err := tx.FindPortalIdeas(ctx, p.ID, true, 200)
		if err != nil {
			return err
		}
		for _, i := range ideas {
			publicIdea(i)
		}
		v = &PortalView{Key: p.Key, Name: p.Name, Intro: p.Intro, Ideas: ideas}
		return nil
	})
	return v, err
}

// PortalIdea returns a visible idea of an open portal with its comments.
func (a *App) PortalIdea(ctx context.Context, key string, id int64) (*northstar.PortalIdea, []*northstar.PortalComment, error) {
	var idea *northstar.PortalIdea
	var comments []*northstar.PortalComment
	err := a.db.View(ctx, func(tx *store.Tx) error {
		p, err := tx.FindPortalProduct(ctx, normalizeKey(key))
		if err != nil {
			return err
		}
		if idea, err = tx.FindPortalIdea(ctx, p.ID, id); err != nil {
			return err
		}
		if idea.Hidden {
			return northstar.Errorf(northstar.ENOTFOUND, "Idea %d not found.", id)
		}
		publicIdea(idea)
		comments, err = tx.FindPortalComments(ctx, id)
		return err
	})
	return idea, comments, err
}

// limitPortal checks and counts one portal post against its limits.
func (a *App) limitPortal(kind, ip, email string, perAddress, perEmail int) error {
	keys := []string{}
	if ip != "" {
		k := kind + ":ip:" + ip
		if !a.portal.allowed(k, perAddress) {
			return northstar.Errorf(northstar.ERATELIMITED, "Too many posts from your network; try again later.")
		}
		keys = append(keys, k)
	}
	if email != "" && perEmail > 0 {
		k := kind + ":email:" + email
		if !a.portal.allowed(k, perEmail) {
			return northstar.Errorf(northstar.ERATELIMITED, "Too many posts from %s; try again later.", email)
		}
		keys = append(keys, k)
	}
	a.portal.fail(keys...)
	return nil
}

// SubmitPortalIdea stores an end user's idea and puts it in the product's
// feedback inbox. A filled-in honeypot is accepted and dropped, so that a
// bot learns nothing: idea is nil then.
func (a *App) SubmitPortalIdea(ctx context.Context, key string, s northstar.PortalSubmission, ip string) (*northstar.PortalIdea, error) {
	if err := s.ValidateIdea(); err != nil {
		return nil, err
	}
	if err := a.limitPortal("idea", ip, s.Email, portalIdeasPerAddress, portalIdeasPerEmail); err != nil {
		return nil, err
	}
	if s.IsBot() {
		return nil, nil
	}
	// The secret goes out in a verification link when a mailer is
	// configured; until it is followed the idea stays unverified.
	verifySecret, verifyHash := newSecret("pv_")
	var productName string
	var idea *northstar.PortalIdea
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		p, err := tx.FindPortalProduct(ctx, normalizeKey(key))
		if err != nil {
			return err
		}
		productName = p.Name
		idea = &northstar.PortalIdea{ProductID: p.ID, ProductKey: p.Key, Title: s.Title, Body: s.Body, AuthorName: s.Name, Email: s.Email}
		if err := tx.CreatePortalIdea(ctx, idea, verifyHash); err != nil {
			return err
		}
		text := s.Body
		if text == "" {
			text = s.Title
		}
		f := &northstar.Feedback{ProductID: p.ID, ProductKey: p.Key, Source: northstar.SourcePortal, Title: s.Title,
			Text: text + "\n\n— " + s.Name + " on the public portal", Status: northstar.FeedbackNew, PortalIdea: &idea.ID}
		return tx.CreateFeedback(ctx, f)
	})
	if err != nil {
		return nil, fmt.Errorf("submit portal idea: %w", err)
	}
	a.mailPortalVerification(s.Email, s.Name, productName, verifySecret)
	return publicIdea(idea), nil
}

// VotePortalIdea records one vote per e-mail address on a visible idea.
func (a *App) VotePortalIdea(ctx context.Context, key string, id int64, s northstar.PortalSubmission, ip string) (*northstar.PortalIdea, error) {
	if err := s.ValidateVote(); err != nil {
		return nil, err
	}
	if err := a.limitPortal("vote", ip, "", portalVotesPerAddress, 0); err != nil {
		return nil, err
	}
	if s.IsBot() {
		return nil, nil
	}
	var idea *northstar.PortalIdea
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		p, err := tx.FindPortalProduct(ctx, normalizeKey(key))
		if err != nil {
			return err
		}
		if idea, err = tx.FindPortalIdea(ctx, p.ID, id); err != nil {
			return err
		}
		if idea.Hidden {
			return northstar.Errorf(northstar.ENOTFOUND, "Idea %d not found.", id)
		}
		added, err := tx.AddPortalVote(ctx, id, s.Email)
		if err != nil {
			return err
		}
		if !added {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "email", Message: "You have already voted for this idea."}
		}
		idea.Votes++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return publicIdea(idea), nil
}

// CommentPortalIdea adds an end user's comment to a visible idea.
func (a *App) CommentPortalIdea(ctx context.Context, key string, id int64, s northstar.PortalSubmission, ip string) (*northstar.PortalComment, error) {
	if err := s.ValidateComment(); err != nil {
		return nil, err
	}
	if err := a.limitPortal("comment", ip, s.Email, portalCommentsPerHour, portalCommentsPerHour); err != nil {
		return nil, err
	}
	if s.IsBot() {
		return nil, nil
	}
	var c *northstar.PortalComment
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		p, err := tx.FindPortalProduct(ctx, normalizeKey(key))
		if err != nil {
			return err
		}
		idea, err := tx.FindPortalIdea(ctx, p.ID, id)
		if err != nil {
			return err
		}
		if idea.Hidden {
			return northstar.Errorf(northstar.ENOTFOUND, "Idea %d not found.", id)
		}
		c = &northstar.PortalComment{AuthorName: s.Name, Body: s.Body}
		return tx.AddPortalComment(ctx, id, c, s.Email, nil)
	})
	return c, err
}

// VerifyPortalEmail confirms a submitter's address from the signed link
// sent to it.
func (a *App) VerifyPortalEmail(ctx context.Context, secret string) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		ok, err := tx.VerifyPortalEmail(ctx, hashSecret(strings.TrimSpace(secret)))
		if err != nil {
			return err
		}
		if !ok {
			return northstar.Errorf(northstar.ENOTFOUND, "This link is not valid or was used already.")
		}
		return nil
	})
}
