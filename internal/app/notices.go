package app

// Closing the loop: when a feature is released, the people who asked for
// it are told — users in the app, customers and portal authors and voters
// by mail with an unsubscribe link — with the release note the product
// manager wrote. Each person is told once per feature; a mail that fails
// is tried MaxNoticeAttempts times, then given up.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// ReleaseLoop returns a feature's release note and how many were told.
func (a *App) ReleaseLoop(ctx context.Context, ref string) (*northstar.ReleaseLoop, error) {
	var l *northstar.ReleaseLoop
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, _, f, err := loadFeature(ctx, tx, ref, northstar.ActionRead)
		if err != nil {
			return err
		}
		l = &northstar.ReleaseLoop{Feature: f.Ref, Released: f.Status == northstar.FeatureReleased}
		if l.Note, err = tx.ReleaseNote(ctx, f.ID); err != nil {
			return err
		}
		l.Counts, err = tx.NoticeCounts(ctx, f.ID)
		return err
	})
	return l, err
}

// SetReleaseNote writes the note the people who asked for a feature get
// when it is released; those who manage features may.
func (a *App) SetReleaseNote(ctx context.Context, ref, note string) (*northstar.ReleaseLoop, error) {
	if err := northstar.CheckReleaseNote(&note); err != nil {
		return nil, err
	}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, _, f, err := loadFeature(ctx, tx, ref, northstar.ActionManageFeatures)
		if err != nil {
			return err
		}
		if err := tx.SetReleaseNote(ctx, f.ID, note, user.ID); err != nil {
			return err
		}
		c := featureChange(f, "updated", nil, nil)
		c.skipDiff, c.quiet = true, true
		c.changes = []northstar.FieldChange{{Field: "release_note", New: note}}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("release note of %s: %w", ref, err)
	}
	return a.ReleaseLoop(ctx, ref)
}

// noticeMail is a mail notice waiting to go out.
type noticeMail struct {
	id                 int64
	email, name, token string
	feature, product   string
	note               string
}

// tellReleasedFeature tells the people who asked for a released feature;
// the feature use cases call it after their transaction commits. A
// failure is logged: the release itself stands.
func (a *App) tellReleasedFeature(ctx context.Context, f *northstar.Feature) {
	if f == nil || f.Status != northstar.FeatureReleased {
		return
	}
	a.tellReleased(ctx, []int64{f.ID})
}

// tellReleasedRelease tells, for each released feature of a release, the
// people who asked for it.
func (a *App) tellReleasedRelease(ctx context.Context, r *northstar.Release) {
	if r == nil || r.Status != northstar.ReleaseReleased {
		return
	}
	var ids []int64
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		ids, err = tx.ReleasedFeatureIDs(ctx, r.ID)
		return err
	})
	if err != nil {
		a.log.Warn("release notices", "release", r.ID, "err", err)
		return
	}
	a.tellReleased(ctx, ids)
}

func (a *App) tellReleased(ctx context.Context, ids []int64) {
	user := northstar.UserFromContext(ctx)
	var mails []noticeMail
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		mails = mails[:0]
		for _, id := range ids {
			ref, err := tx.FeatureRefByID(ctx, id)
			if err != nil {
				return err
			}
			m, err := a.noticesFor(ctx, tx, user, ref)
			if err != nil {
				return err
			}
			mails = append(mails, m...)
		}
		return nil
	})
	if err != nil {
		a.log.Warn("release notices", "err", err)
		return
	}
	if len(mails) > 0 && a.Mail != nil && a.Mail.Addr != "" {
		go a.sendNotices(context.WithoutCancel(ctx), mails)
	}
}

// noticesFor records the notices of one released feature and returns the
// mails to send.
func (a *App) noticesFor(ctx context.Context, tx *store.Tx, user *northstar.User, ref string) ([]noticeMail, error) {
	key, n, err := northstar.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	p, err := tx.FindProductByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	f, err := tx.FindFeature(ctx, p.ID, n, ref)
	if err != nil {
		return nil, err
	}
	note, err := tx.ReleaseNote(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	users, askers, err := tx.FeatureAskers(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	// Only members hear in the app: the feature is theirs to read.
	member := func(id int64) (bool, error) {
		role, err := tx.MemberRole(ctx, p.ID, id)
		return role != "", err
	}
	members := users[:0]
	for _, id := range users {
		if ok, err := member(id); err != nil {
			return nil, err
		} else if ok {
			members = append(members, id)
		}
	}
	users = members
	// Customers and portal people who are members hear in the app, the
	// others by mail.
	var mails []noticeMail
	for _, as := range askers {
		if id, err := tx.UserIDByEmail(ctx, as.Email); err != nil {
			return nil, err
		} else if id != 0 {
			if ok, err := member(id); err != nil {
				return nil, err
			} else if ok {
				users = append(users, id)
				continue
			}
		}
		if told, err := tx.HasNotice(ctx, f.ID, 0, as.Email); err != nil || told {
			if err != nil {
				return nil, err
			}
			continue
		}
		notice := &northstar.ReleaseNotice{FeatureID: f.ID, Channel: "mail", Email: as.Email, Name: as.Name, Status: northstar.NoticePending}
		unsub, err := tx.Unsubscribed(ctx, as.Email)
		if err != nil {
			return nil, err
		}
		secret, hash := "", ""
		if unsub {
			notice.Status = northstar.NoticeUnsubscribed
		} else {
			secret, hash = newSecret("un_")
		}
		if err := tx.AddNotice(ctx, notice, hash); err != nil {
			return nil, err
		}
		if !unsub {
			mails = append(mails, noticeMail{id: notice.ID, email: as.Email, name: as.Name, token: secret, feature: f.Title, product: p.Name, note: note})
		}
	}
	// In the app: the feature's watchers and the askers who are users,
	// who become watchers; those not told yet hear of it through one
	// activity. Nothing new to tell records nothing.
	var actor int64
	if user != nil {
		actor = user.ID
	}
	watchers, err := tx.Watchers(ctx, northstar.KindFeature, f.ID)
	if err != nil {
		return nil, err
	}
	var tell []int64
	seen := map[int64]bool{actor: true}
	for _, id := range append(users, watchers...) {
		if seen[id] {
			continue
		}
		seen[id] = true
		if told, err := tx.HasNotice(ctx, f.ID, id, ""); err != nil {
			return nil, err
		} else if !told {
			tell = append(tell, id)
		}
	}
	if len(tell) == 0 && len(mails) == 0 {
		return nil, nil
	}
	for _, id := range tell {
		if err := tx.AddNotice(ctx, &northstar.ReleaseNotice{FeatureID: f.ID, Channel: "app", UserID: id, Status: northstar.NoticeSent}, ""); err != nil {
			return nil, err
		}
	}
	c := featureChange(f, "announced", nil, nil)
	c.skipDiff, c.watchers = true, users
	c.changes = []northstar.FieldChange{{Field: "release_note", New: note}}
	if _, err := a.record(ctx, tx, user, c); err != nil {
		return nil, err
	}
	return mails, nil
}

// noticeBackoff is the wait before the second and later tries of a mail.
var noticeBackoff = 5 * time.Second

// sendNotices mails the notices, each tried up to MaxNoticeAttempts times;
// the outcome of every try is recorded.
func (a *App) sendNotices(ctx context.Context, mails []noticeMail) {
	base := strings.TrimSuffix(a.Mail.BaseURL, "/")
	for _, m := range mails {
		hello := "Hello"
		if m.name != "" {
			hello += " " + m.name
		}
		var body strings.Builder
		fmt.Fprintf(&body, "%s,\r\n\r\nYou asked for it, and it has shipped: %s in %s.\r\n\r\n", hello, m.feature, m.product)
		if m.note != "" {
			body.WriteString(strings.ReplaceAll(m.note, "\n", "\r\n") + "\r\n\r\n")
		}
		fmt.Fprintf(&body, "Thank you for telling us what you needed.\r\n\r\n--\r\nNo more mail like this: %s/unsubscribe/%s\r\n", base, m.token)
		for attempt := 1; attempt <= northstar.MaxNoticeAttempts; attempt++ {
			err := a.sendMail(m.email, "Shipped: "+m.feature, body.String())
			status, msg := northstar.NoticeSent, ""
			if err != nil {
				status, msg = northstar.NoticePending, err.Error()
				if attempt == northstar.MaxNoticeAttempts {
					status = northstar.NoticeFailed
				}
			}
			if uerr := a.db.Update(ctx, func(tx *store.Tx) error { return tx.MarkNotice(ctx, m.id, status, msg) }); uerr != nil {
				a.log.Warn("record release notice", "err", uerr)
			}
			if err == nil {
				break
			}
			a.log.Warn("mail release notice", "attempt", attempt, "err", err)
			if attempt < northstar.MaxNoticeAttempts {
				select {
				case <-ctx.Done():
					return
				case <-time.After(noticeBackoff * time.Duration(attempt)):
				}
			}
		}
	}
}

// Unsubscribe records that the address a release mail went to wants no
// more; it answers the address, or ENOTFOUND for an unknown link.
func (a *App) Unsubscribe(ctx context.Context, secret string) (string, error) {
	var email string
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		email, err = tx.Unsubscribe(ctx, hashSecret(secret))
		return err
	})
	if err != nil {
		return "", err
	}
	if email == "" {
		return "", northstar.Errorf(northstar.ENOTFOUND, "This unsubscribe link is not known.")
	}
	return email, nil
}
