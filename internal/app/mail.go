package app

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/smtp"
	"strings"
	"time"

	"github.com/northstar-pm/northstar/internal/store"
)

// MailConfig says how to send notification e-mail through SMTP.
type MailConfig struct {
	Addr     string // host:port of the SMTP server
	From     string
	Username string // empty: no authentication
	Password string
	// Window is how long notifications gather before they go out in one
	// mail, so a burst of changes sends one message.
	Window time.Duration
	// BaseURL prefixes links in the mail.
	BaseURL string
}

// RunMail sends e-mail digests of notifications until ctx ends. It does
// nothing without a mail configuration.
func (a *App) RunMail(ctx context.Context) {
	if a.Mail == nil || a.Mail.Addr == "" {
		return
	}
	window := a.Mail.Window
	if window <= 0 {
		window = time.Minute
	}
	tick := time.NewTicker(window / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := a.SendMailDigests(ctx, time.Now().Add(-window/2)); err != nil && ctx.Err() == nil {
			a.log.Warn("send notification mail", "err", err)
		}
	}
}

// SendMailDigests mails each user their notifications older than cutoff
// that have not gone out yet, one message per user.
func (a *App) SendMailDigests(ctx context.Context, cutoff time.Time) error {
	var batches []*store.MailBatch
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		batches, err = tx.PendingMail(ctx, cutoff, 5000)
		return err
	})
	if err != nil {
		return err
	}
	for _, b := range batches {
		ids := make([]int64, len(b.Notifications))
		for i, n := range b.Notifications {
			ids[i] = n.ID
		}
		// Claim the digest before sending it: with several servers on one
		// database, the one that claims it sends it and the others skip it.
		claimed, err := a.claimMail(ctx, ids)
		if err != nil {
			return err
		}
		if !claimed {
			continue
		}
		if err := a.sendDigest(b); err != nil {
			// Unclaimed, it goes out with the next round.
			ctx := context.WithoutCancel(ctx)
			if uerr := a.db.Update(ctx, func(tx *store.Tx) error { return tx.UnmarkEmailed(ctx, ids) }); uerr != nil {
				err = errors.Join(err, uerr)
			}
			return fmt.Errorf("mail %s: %w", b.Email, err)
		}
	}
	return nil
}

// errMailTaken rolls back a claim on a digest that another server
// claimed, in part, first.
var errMailTaken = errors.New("digest claimed by another server")

// claimMail marks the notifications of a digest as e-mailed, all or none,
// and reports whether it did.
func (a *App) claimMail(ctx context.Context, ids []int64) (bool, error) {
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.MarkEmailed(ctx, ids)
		if err == nil && n != int64(len(ids)) {
			return errMailTaken
		}
		return err
	})
	if errors.Is(err, errMailTaken) {
		return false, nil
	}
	return err == nil, err
}

func (a *App) sendDigest(b *store.MailBatch) error {
	var body strings.Builder
	fmt.Fprintf(&body, "Hello %s,\r\n\r\n", b.Name)
	for _, n := range b.Notifications {
		act := n.Activity
		what := act.ItemKind + " " + act.ItemRef
		fmt.Fprintf(&body, "- %s %s %s (%s)\r\n", act.Actor, strings.ReplaceAll(act.Action, "_", " "), what, n.Reason)
	}
	fmt.Fprintf(&body, "\r\nSee them all: %s/notifications\r\n", strings.TrimSuffix(a.Mail.BaseURL, "/"))
	subject := fmt.Sprintf("Northstar: %d update", len(b.Notifications))
	if len(b.Notifications) != 1 {
		subject += "s"
	}
	return a.sendMail(b.Email, subject, body.String())
}

// sendMail sends one plain-text message through the configured server.
func (a *App) sendMail(to, subject, body string) error {
	// A subject with a feature's or product's name may be any text: encode
	// it (RFC 2047) and keep it on one line.
	subject = mime.QEncoding.Encode("utf-8", strings.Join(strings.Fields(subject), " "))
	msg := "From: " + a.Mail.From + "\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
	var auth smtp.Auth
	if a.Mail.Username != "" {
		host, _, _ := strings.Cut(a.Mail.Addr, ":")
		auth = smtp.PlainAuth("", a.Mail.Username, a.Mail.Password, host)
	}
	return smtp.SendMail(a.Mail.Addr, auth, a.Mail.From, []string{to}, []byte(msg))
}

// mailPortalVerification sends the link that confirms a portal user's
// address, in the background: the idea is stored whether or not the mail
// goes out, and stays unverified until the link is followed.
func (a *App) mailPortalVerification(email, name, productName, secret string) {
	if a.Mail == nil || a.Mail.Addr == "" || email == "" {
		return
	}
	link := strings.TrimSuffix(a.Mail.BaseURL, "/") + "/portal/verify/" + secret
	body := fmt.Sprintf("Hello %s,\r\n\r\nThank you for your idea for %s. Please confirm your address, so that the team can count it and tell you when it ships:\r\n\r\n%s\r\n\r\nIf you did not send an idea, ignore this mail.\r\n", name, productName, link)
	go func() {
		if err := a.sendMail(email, "Confirm your idea for "+productName, body); err != nil {
			a.log.Warn("send portal verification mail", "err", err)
		}
	}()
}
