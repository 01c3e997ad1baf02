package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/outbound"
	"github.com/northstar-pm/northstar/internal/store"
)

// --- Items that take comments, activity and watches ---

// item is an item resolved for a comment, a watch or its timeline: its
// product, kind, id and ref, with the product authorized for an action.
type item struct {
	user    *northstar.User
	product *northstar.Product
	kind    string
	id      int64
	ref     string
}

// resolveItem finds an item by kind and reference: a product key, a story
// or feature ref, a feedback id ("BOOK/12") or a sprint id, and checks the
// action on its product.
func resolveItem(ctx context.Context, tx *store.Tx, kind, ref string, action northstar.Action) (*item, error) {
	switch kind {
	case northstar.KindProduct:
		user, p, err := authorize(ctx, tx, normalizeKey(ref), action)
		if err != nil {
			return nil, err
		}
		return &item{user, p, kind, p.ID, p.Key}, nil
	case northstar.KindStory:
		user, p, s, err := loadStory(ctx, tx, ref, action)
		if err != nil {
			return nil, err
		}
		return &item{user, p, kind, s.ID, s.Ref}, nil
	case northstar.KindFeature:
		user, p, f, err := loadFeature(ctx, tx, ref, action)
		if err != nil {
			return nil, err
		}
		return &item{user, p, kind, f.ID, f.Ref}, nil
	case northstar.KindFeedback:
		key, idText, ok := strings.Cut(ref, "/")
		id, err := parseID(idText)
		if !ok || err != nil {
			return nil, northstar.Errorf(northstar.ENOTFOUND, "Feedback %s not found.", ref)
		}
		user, p, f, err := loadFeedback(ctx, tx, key, id, action)
		if err != nil {
			return nil, err
		}
		return &item{user, p, kind, f.ID, p.Key + "/" + fmt.Sprint(f.ID)}, nil
	case northstar.KindSprint:
		id, err := parseID(ref)
		if err != nil {
			return nil, northstar.Errorf(northstar.ENOTFOUND, "Sprint %s not found.", ref)
		}
		acc, s, err := authorizeSprint(ctx, tx, id, action)
		if err != nil {
			return nil, err
		}
		// A sprint's comments and events belong to its team's first
		// readable product, so that they appear in that product's feed.
		var p *northstar.Product
		for _, k := range acc.team.Products {
			if rp, ok := acc.readable[k]; ok {
				p = rp
				break
			}
		}
		if p == nil {
			return nil, northstar.Errorf(northstar.ENOTFOUND, "Sprint %s not found.", ref)
		}
		return &item{acc.user, p, kind, s.ID, fmt.Sprint(s.ID)}, nil
	}
	return nil, northstar.FieldError("kind", "kind %q is not one of product, feature, story, feedback, sprint.", kind)
}

func parseID(s string) (int64, error) {
	var id int64
	_, err := fmt.Sscanf(strings.TrimSpace(s), "%d", &id)
	if err != nil || id < 1 || fmt.Sprint(id) != strings.TrimSpace(s) {
		return 0, fmt.Errorf("not an id: %q", s)
	}
	return id, nil
}

// --- Comments ---

// resolveMentions finds the users a text mentions, among the product's
// members: @name matches the part of a member's e-mail address before
// the @, @name@example.com the whole address. Unknown names are an error.
func resolveMentions(ctx context.Context, tx *store.Tx, p *northstar.Product, text string) ([]int64, error) {
	handles := northstar.Mentions(text)
	if len(handles) == 0 {
		return nil, nil
	}
	if len(handles) > northstar.MaxMentions {
		return nil, northstar.FieldError("body", "a comment mentions at most %d people.", northstar.MaxMentions)
	}
	members, err := tx.FindMembers(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, h := range handles {
		var match []*northstar.Member
		for _, m := range members {
			local, _, _ := strings.Cut(m.Email, "@")
			if m.Email == h || local == h {
				match = append(match, m)
			}
		}
		switch {
		case len(match) == 0:
			return nil, northstar.FieldError("body", "@%s is not a member of %s.", h, p.Key)
		case len(match) > 1:
			return nil, northstar.FieldError("body", "@%s could be several people; write their whole address, like @%s.", h, match[0].Email)
		}
		ids = append(ids, match[0].UserID)
	}
	return ids, nil
}

// Comments lists an item's comments, oldest first.
func (a *App) Comments(ctx context.Context, kind, ref string, after int64, limit int) ([]*northstar.Comment, error) {
	var out []*northstar.Comment
	err := a.db.View(ctx, func(tx *store.Tx) error {
		it, err := resolveItem(ctx, tx, kind, ref, northstar.ActionRead)
		if err != nil {
			return err
		}
		if out, err = tx.FindComments(ctx, kind, it.id, after, limit); err != nil {
			return err
		}
		for _, c := range out {
			c.ItemRef = it.ref
		}
		return nil
	})
	return out, err
}

// AddComment posts a comment on an item and notifies the people it
// mentions and those watching the item; the author watches it from now on.
func (a *App) AddComment(ctx context.Context, kind, ref, body string) (*northstar.Comment, error) {
	if err := northstar.CheckCommentBody(&body); err != nil {
		return nil, err
	}
	var c *northstar.Comment
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		it, err := resolveItem(ctx, tx, kind, ref, northstar.ActionComment)
		if err != nil {
			return err
		}
		mentioned, err := resolveMentions(ctx, tx, it.product, body)
		if err != nil {
			return err
		}
		c = &northstar.Comment{ItemKind: kind, ItemRef: it.ref, Author: userRefOf(it.user), Body: body}
		if err := tx.CreateComment(ctx, it.product.ID, it.id, c); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, it.user, change{productID: it.product.ID, productKey: it.product.Key, kind: kind, itemID: it.id, ref: it.ref,
			action: "commented", skipDiff: true, mentioned: mentioned, watchers: []int64{it.user.ID},
			changes: []northstar.FieldChange{{Field: "comment", New: map[string]any{"id": c.ID, "body": summarizeText(body, 280)}}}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("comment on %s %s: %w", kind, ref, err)
	}
	return c, nil
}

func summarizeText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// EditComment changes a comment: its author may, within CommentEditTime of
// posting; it is then marked edited.
func (a *App) EditComment(ctx context.Context, id int64, body string) (*northstar.Comment, error) {
	if err := northstar.CheckCommentBody(&body); err != nil {
		return nil, err
	}
	var c *northstar.Comment
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, err := currentUser(ctx)
		if err != nil {
			return err
		}
		var itemID, productID int64
		if c, itemID, productID, err = tx.FindComment(ctx, id); err != nil {
			return err
		}
		it, err := a.commentItem(ctx, tx, c, itemID, productID)
		if err != nil {
			return err
		}
		if c.Author == nil || c.Author.ID != user.ID {
			return northstar.Errorf(northstar.EFORBIDDEN, "Only its author may edit a comment.")
		}
		if tx.Now.Sub(c.CreatedAt) > northstar.CommentEditTime {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Comments can be edited for %v after posting; this one is older.", northstar.CommentEditTime)
		}
		if it.product.ReadOnly() {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "Product %s is retired and read-only.", it.product.Key)
		}
		mentioned, err := resolveMentions(ctx, tx, it.product, body)
		if err != nil {
			return err
		}
		old := c.Body
		c.Body = body
		if err := tx.UpdateComment(ctx, c); err != nil {
			return err
		}
		c.ItemRef = it.ref
		_, err = a.record(ctx, tx, user, change{productID: it.product.ID, productKey: it.product.Key, kind: c.ItemKind, itemID: itemID, ref: it.ref,
			action: "comment_edited", skipDiff: true, mentioned: mentioned,
			changes: []northstar.FieldChange{{Field: "comment", Old: summarizeText(old, 280), New: summarizeText(body, 280)}}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("edit comment %d: %w", id, err)
	}
	return c, nil
}

// DeleteComment removes a comment: its author or an admin may.
func (a *App) DeleteComment(ctx context.Context, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		user, err := currentUser(ctx)
		if err != nil {
			return err
		}
		c, itemID, productID, err := tx.FindComment(ctx, id)
		if err != nil {
			return err
		}
		it, err := a.commentItem(ctx, tx, c, itemID, productID)
		if err != nil {
			return err
		}
		if !user.Admin && (c.Author == nil || c.Author.ID != user.ID) {
			return northstar.Errorf(northstar.EFORBIDDEN, "Only its author or an admin may delete a comment.")
		}
		if err := tx.DeleteComment(ctx, id); err != nil {
			return err
		}
		_, err = a.record(ctx, tx, user, change{productID: it.product.ID, productKey: it.product.Key, kind: c.ItemKind, itemID: itemID, ref: it.ref,
			action: "comment_deleted", skipDiff: true, changes: []northstar.FieldChange{{Field: "comment", Old: summarizeText(c.Body, 280)}}})
		return err
	})
}

// commentItem checks that the current user may read the product a
// comment is in, and names the item.
func (a *App) commentItem(ctx context.Context, tx *store.Tx, c *northstar.Comment, itemID, productID int64) (*item, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	p, err := tx.FindProductByID(ctx, productID, user.ID)
	if err != nil {
		return nil, err
	}
	if p.Role == "" && !user.Admin {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Comment %d not found.", c.ID)
	}
	ref, err := tx.ItemRef(ctx, c.ItemKind, itemID)
	if err != nil {
		return nil, err
	}
	return &item{user: user, product: p, kind: c.ItemKind, id: itemID, ref: ref}, nil
}

// --- Activity ---

// Activity returns a page of an item's timeline (kind and ref given) or of
// a product's feed (kind "product" or "" with the product key as ref),
// newest first.
func (a *App) Activity(ctx context.Context, kind, ref string, f northstar.ActivityFilter) ([]*northstar.Activity, error) {
	var out []*northstar.Activity
	err := a.db.View(ctx, func(tx *store.Tx) error {
		if kind == "" {
			_, p, err := authorize(ctx, tx, normalizeKey(ref), northstar.ActionRead)
			if err != nil {
				return err
			}
			out, err = tx.FindActivities(ctx, p.ID, f)
			return err
		}
		it, err := resolveItem(ctx, tx, kind, ref, northstar.ActionRead)
		if err != nil {
			return err
		}
		f.ItemKind, f.ItemID = kind, it.id
		out, err = tx.FindActivities(ctx, it.product.ID, f)
		return err
	})
	return out, err
}

// --- Watches and notifications ---

// Watch starts or stops watching an item.
func (a *App) Watch(ctx context.Context, kind, ref string, watching bool) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		it, err := resolveItem(ctx, tx, kind, ref, northstar.ActionRead)
		if err != nil {
			return err
		}
		return tx.SetWatch(ctx, it.user.ID, kind, it.id, watching)
	})
}

// Watching reports whether the current user watches an item.
func (a *App) Watching(ctx context.Context, kind, ref string) (bool, error) {
	var w bool
	err := a.db.View(ctx, func(tx *store.Tx) error {
		it, err := resolveItem(ctx, tx, kind, ref, northstar.ActionRead)
		if err != nil {
			return err
		}
		w, err = tx.Watching(ctx, it.user.ID, kind, it.id)
		return err
	})
	return w, err
}

// Notifications returns a page of the current user's notifications and
// the number unread.
func (a *App) Notifications(ctx context.Context, unreadOnly bool, before int64, limit int) ([]*northstar.Notification, int, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, 0, err
	}
	var out []*northstar.Notification
	var unread int
	err = a.db.View(ctx, func(tx *store.Tx) error {
		if out, err = tx.FindNotifications(ctx, user.ID, unreadOnly, before, limit); err != nil {
			return err
		}
		unread, err = tx.UnreadCount(ctx, user.ID)
		return err
	})
	return out, unread, err
}

// UnreadCount returns the current user's number of unread notifications.
func (a *App) UnreadCount(ctx context.Context) (int, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	err = a.db.View(ctx, func(tx *store.Tx) error {
		n, err = tx.UnreadCount(ctx, user.ID)
		return err
	})
	return n, err
}

// MarkRead marks notifications read (all of them when ids is empty).
func (a *App) MarkRead(ctx context.Context, ids []int64) (int64, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	err = a.db.Update(ctx, func(tx *store.Tx) error {
		n, err = tx.MarkRead(ctx, user.ID, ids)
		if err == nil {
			// The user's other pages update their bell.
			tx.AfterCommit(func() {
				a.bus.Publish(&northstar.Activity{ItemKind: "notifications", ItemID: user.ID, Action: "read", ActorID: user.ID})
			})
		}
		return err
	})
	return n, err
}

// --- Webhooks ---

// Webhooks lists a product's webhooks (product managers).
func (a *App) Webhooks(ctx context.Context, key string) ([]*northstar.Webhook, error) {
	var out []*northstar.Webhook
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		out, err = tx.FindWebhooks(ctx, p.ID, false)
		return err
	})
	return out, err
}

// checkWebhookURL resolves a webhook's host and refuses forbidden
// addresses now, so that a bad URL fails when it is saved; the same check
// runs again when each delivery connects (see newWebhookClient).
func (a *App) checkWebhookURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return northstar.FieldError("url", "url is not a valid address.")
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return northstar.CheckWebhookAddress(ip, a.AllowPrivateWebhooks)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return northstar.CheckWebhookAddress(net.IPv4(127, 0, 0, 1), a.AllowPrivateWebhooks)
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(rctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return &northstar.Error{Code: northstar.EUNPROCESSABLE, Field: "url", Message: fmt.Sprintf("The host %s cannot be resolved.", host)}
	}
	for _, ip := range ips {
		if err := northstar.CheckWebhookAddress(ip, a.AllowPrivateWebhooks); err != nil {
			return err
		}
	}
	return nil
}

// CreateWebhook adds a webhook to a product and returns its signing
// secret, shown once.
func (a *App) CreateWebhook(ctx context.Context, key string, in northstar.WebhookInput) (*northstar.Webhook, string, error) {
	if err := in.Validate(); err != nil {
		return nil, "", err
	}
	// Permission first: nobody learns how a URL resolves without the right.
	if err := a.db.View(ctx, func(tx *store.Tx) error {
		_, _, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		return err
	}); err != nil {
		return nil, "", err
	}
	if err := a.checkWebhookURL(ctx, in.URL); err != nil {
		return nil, "", err
	}
	b := make([]byte, 24)
	rand.Read(b)
	secret := "whsec_" + hex.EncodeToString(b)
	w := &northstar.Webhook{URL: in.URL, Events: in.Events, Active: in.Active == nil || *in.Active, Secret: secret}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		w.ProductID, w.ProductKey = p.ID, p.Key
		return tx.CreateWebhook(ctx, w, user.ID)
	})
	if err != nil {
		return nil, "", fmt.Errorf("create webhook: %w", err)
	}
	return w, secret, nil
}

// UpdateWebhook changes a webhook's URL, events or state; enabling it
// again clears its failure count.
func (a *App) UpdateWebhook(ctx context.Context, key string, id int64, in northstar.WebhookInput) (*northstar.Webhook, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := a.db.View(ctx, func(tx *store.Tx) error {
		_, _, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		return err
	}); err != nil {
		return nil, err
	}
	if err := a.checkWebhookURL(ctx, in.URL); err != nil {
		return nil, err
	}
	var w *northstar.Webhook
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if w, err = tx.FindWebhook(ctx, id); err != nil || w.ProductID != p.ID {
			return northstar.Errorf(northstar.ENOTFOUND, "Webhook %d not found.", id)
		}
		w.URL, w.Events = in.URL, in.Events
		if in.Active != nil {
			if *in.Active && !w.Active {
				w.Failures, w.DisabledReason = 0, ""
			}
			w.Active = *in.Active
		}
		return tx.UpdateWebhook(ctx, w)
	})
	if err == nil {
		a.wakeWebhooks()
	}
	return w, err
}

// DeleteWebhook removes a webhook with its deliveries.
func (a *App) DeleteWebhook(ctx context.Context, key string, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		return tx.DeleteWebhook(ctx, p.ID, id)
	})
}

// Deliveries lists a webhook's recent deliveries.
func (a *App) Deliveries(ctx context.Context, key string, id int64) ([]*northstar.Delivery, error) {
	var out []*northstar.Delivery
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if w, err := tx.FindWebhook(ctx, id); err != nil || w.ProductID != p.ID {
			return northstar.Errorf(northstar.ENOTFOUND, "Webhook %d not found.", id)
		}
		out, err = tx.FindDeliveries(ctx, id, 100)
		return err
	})
	return out, err
}

// Redeliver sends a past delivery again, at the end of the queue.
func (a *App) Redeliver(ctx context.Context, key string, id, deliveryID int64) error {
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if w, err := tx.FindWebhook(ctx, id); err != nil || w.ProductID != p.ID {
			return northstar.Errorf(northstar.ENOTFOUND, "Webhook %d not found.", id)
		}
		return tx.Redeliver(ctx, id, deliveryID)
	})
	if err == nil {
		a.wakeWebhooks()
	}
	return err
}

// webhookPayload is the JSON body of a delivery.
type webhookPayload struct {
	Event    string                  `json:"event"`
	Product  string                  `json:"product"`
	Item     string                  `json:"item"`
	ItemKind string                  `json:"item_kind"`
	Action   string                  `json:"action"`
	Actor    string                  `json:"actor"`
	At       time.Time               `json:"at"`
	Changes  []northstar.FieldChange `json:"changes"`
	Activity int64                   `json:"activity_id"`
}

// queueWebhooks writes a delivery for every active webhook of the
// activity's product that wants its event: the outbox, committed with the
// change itself.
func (a *App) queueWebhooks(ctx context.Context, tx *store.Tx, act *northstar.Activity) error {
	hooks, err := tx.FindWebhooks(ctx, act.ProductID, true)
	if err != nil || len(hooks) == 0 {
		return err
	}
	var payload []byte
	for _, w := range hooks {
		if !w.Wants(act.EventType()) {
			continue
		}
		if payload == nil {
			if payload, err = json.Marshal(webhookPayload{Event: act.EventType(), Product: w.ProductKey, Item: act.ItemRef, ItemKind: act.ItemKind,
				Action: act.Action, Actor: act.Actor, At: act.At, Changes: act.Changes, Activity: act.ID}); err != nil {
				return err
			}
		}
		if err := tx.QueueDelivery(ctx, w.ID, act.ID, act.EventType(), payload); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) wakeWebhooks() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Sign returns the signature header value of a webhook body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// newWebhookClient returns the HTTP client for deliveries: a short
// timeout, no redirects, and every address it connects to checked, so
// that DNS tricks cannot reach forbidden addresses.
func newWebhookClient(allowPrivate bool) *http.Client {
	return outbound.Client(func(ip net.IP) error { return northstar.CheckWebhookAddress(ip, allowPrivate) }, 10*time.Second, 0)
}

// Webhook delivery: retries back off from a second to a minute; after
// disableAfter failures in a row the webhook is turned off and the
// product's managers are told.
const (
	maxBackoff   = time.Minute
	disableAfter = 15
	leaseFor     = 30 * time.Second
)

// RunWebhooks delivers queued webhook deliveries until ctx ends: each
// webhook's queue in order, one delivery at a time, and every webhook on
// its own. With several servers, a lease gives each queue to one of them.
func (a *App) RunWebhooks(ctx context.Context) {
	if a.WebhookClient == nil {
		a.WebhookClient = newWebhookClient(a.AllowPrivateWebhooks)
	}
	running := map[int64]bool{}
	done := make(chan int64)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var ids []int64
		err := a.db.View(ctx, func(tx *store.Tx) error {
			var err error
			ids, err = tx.WebhooksWithPending(ctx)
			return err
		})
		if err != nil && ctx.Err() == nil {
			a.log.Warn("webhook queue", "err", err)
		}
		for _, id := range ids {
			if !running[id] {
				running[id] = true
				go func(id int64) {
					a.deliverQueue(ctx, id)
					done <- id
				}(id)
			}
		}
		select {
		case <-ctx.Done():
			for len(running) > 0 {
				delete(running, <-done)
			}
			return
		case id := <-done:
			delete(running, id)
		case <-a.wake:
		case <-tick.C:
		}
	}
}

// deliverQueue sends a webhook's pending deliveries in order while they
// go through and are due, holding the webhook's lease.
func (a *App) deliverQueue(ctx context.Context, webhookID int64) {
	for ctx.Err() == nil {
		var w *northstar.Webhook
		var batch []*store.PendingDelivery
		leased := false
		err := a.db.Update(ctx, func(tx *store.Tx) error {
			var err error
			if leased, err = tx.LeaseWebhook(ctx, webhookID, a.origin, tx.Now.Add(leaseFor)); err != nil || !leased {
				return err
			}
			if w, err = tx.FindWebhook(ctx, webhookID); err != nil {
				return err
			}
			batch, err = tx.PendingFor(ctx, webhookID, 100)
			return err
		})
		if err != nil || !leased || !w.Active || len(batch) == 0 {
			if err != nil && ctx.Err() == nil && !isNotFound(err) {
				a.log.Warn("webhook deliveries", "webhook", webhookID, "err", err)
			}
			return
		}
		for i, d := range batch {
			if d.Due.After(time.Now()) {
				return // backing off; the worker comes back when it is due
			}
			// A batch can outlast the lease taken for it (a slow
			// receiver): renew it before each send, or another server
			// would take the queue and send what this one is sending.
			if i > 0 && !a.renewLease(ctx, webhookID) {
				return
			}
			ok := a.deliver(ctx, w, d)
			if !ok || !w.Active {
				return
			}
		}
	}
}

// renewLease extends this server's lease on a webhook's queue; it reports
// whether the server still holds it. One send (at most the client's
// timeout) fits well within a lease.
func (a *App) renewLease(ctx context.Context, webhookID int64) bool {
	leased := false
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		leased, err = tx.LeaseWebhook(ctx, webhookID, a.origin, tx.Now.Add(leaseFor))
		return err
	})
	if err != nil && ctx.Err() == nil {
		a.log.Warn("renew webhook lease", "webhook", webhookID, "err", err)
	}
	return err == nil && leased
}

// deliver sends one delivery and records the outcome; it reports whether
// it went through.
func (a *App) deliver(ctx context.Context, w *northstar.Webhook, d *store.PendingDelivery) bool {
	code, body, sendErr := a.send(ctx, w, d)
	ok := sendErr == nil && code >= 200 && code < 300
	errText := ""
	if sendErr != nil {
		errText = sendErr.Error()
	} else if !ok {
		errText = fmt.Sprintf("the receiver answered %d", code)
	}
	var disabled bool
	err := a.db.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		status, next := "delivered", tx.Now
		if !ok {
			status = "pending"
			backoff := time.Second << min(d.Attempts, 6)
			next = tx.Now.Add(min(backoff, maxBackoff))
		}
		if err := tx.RecordAttempt(ctx, d.ID, status, code, body, errText, next); err != nil {
			return err
		}
		if ok {
			if w.Failures == 0 {
				return nil
			}
			w.Failures = 0
			return tx.UpdateWebhook(ctx, w)
		}
		w.Failures++
		if w.Failures >= disableAfter {
			w.Active, disabled = false, true
			w.DisabledReason = fmt.Sprintf("Turned off after %d failed deliveries in a row; the last: %s", w.Failures, errText)
		}
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		if disabled {
			return a.tellManagers(ctx, tx, w)
		}
		return nil
	})
	if err != nil {
		a.log.Warn("record webhook delivery", "webhook", w.ID, "err", err)
	}
	return ok
}

// send posts a delivery, signed.
func (a *App) send(ctx context.Context, w *northstar.Webhook, d *store.PendingDelivery) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Northstar-Webhook/1")
	req.Header.Set("X-Northstar-Event", d.Event)
	req.Header.Set("X-Northstar-Delivery", fmt.Sprint(d.ID))
	req.Header.Set("X-Northstar-Signature", Sign(w.Secret, d.Payload))
	resp, err := a.WebhookClient.Do(req)
	if err != nil {
		var e *northstar.Error
		if errors.As(err, &e) {
			return 0, "", errors.New(e.Message)
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return resp.StatusCode, string(b), nil
}

// tellManagers records that a webhook was turned off and notifies the
// product's managers.
func (a *App) tellManagers(ctx context.Context, tx *store.Tx, w *northstar.Webhook) error {
	act := &northstar.Activity{ProductID: w.ProductID, ProductKey: w.ProductKey, ItemKind: "webhook", ItemID: w.ID, ItemRef: w.URL, Action: "disabled",
		Actor: "Northstar", Changes: []northstar.FieldChange{{Field: "active", Old: true, New: false}, {Field: "reason", New: w.DisabledReason}}}
	if err := tx.AddActivity(ctx, act); err != nil {
		return err
	}
	members, err := tx.FindMembers(ctx, w.ProductID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Role == northstar.RoleProductManager {
			if err := tx.AddNotification(ctx, m.UserID, act.ID, northstar.ReasonWebhook); err != nil {
				return err
			}
		}
	}
	return nil
}
