package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// --- Activity ---

// AddActivity appends an entry to the activity log.
func (tx *Tx) AddActivity(ctx context.Context, a *northstar.Activity) error {
	a.At = tx.Now
	changes, err := json.Marshal(a.Changes)
	if err != nil {
		return fmt.Errorf("record activity: %w", err)
	}
	var product any
	if a.ProductID != 0 {
		product = a.ProductID
	}
	var actor any
	if a.ActorID != 0 {
		actor = a.ActorID
	}
	id, err := tx.insert(ctx, `INSERT INTO activity (product_id, item_kind, item_id, item_ref, action, actor_id, actor, changes, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, product, a.ItemKind, a.ItemID, a.ItemRef, a.Action, actor, a.Actor, string(changes), tx.Now)
	if err != nil {
		return fmt.Errorf("record activity: %w", err)
	}
	a.ID = id
	return nil
}

const activitySelect = `SELECT a.id, COALESCE(p.key, ''), COALESCE(a.product_id, 0), a.item_kind, a.item_id, a.item_ref, a.action,
	COALESCE(a.actor_id, 0), a.actor, a.changes, a.at FROM activity a LEFT JOIN products p ON p.id = a.product_id`

func scanActivity(row interface{ Scan(...any) error }) (*northstar.Activity, error) {
	var a northstar.Activity
	var changes string
	if err := row.Scan(&a.ID, &a.ProductKey, &a.ProductID, &a.ItemKind, &a.ItemID, &a.ItemRef, &a.Action, &a.ActorID, &a.Actor, &changes, &a.At); err != nil {
		return nil, err
	}
	a.At = a.At.UTC()
	if err := json.Unmarshal([]byte(changes), &a.Changes); err != nil || a.Changes == nil {
		a.Changes = []northstar.FieldChange{}
	}
	return &a, nil
}

// FindActivity returns one entry.
func (tx *Tx) FindActivity(ctx context.Context, id int64) (*northstar.Activity, error) {
	a, err := scanActivity(tx.queryRow(ctx, activitySelect+" WHERE a.id = ?", id))
	if err != nil {
		return nil, notFound(err, "Activity %d not found.", id)
	}
	return a, nil
}

// FindActivities returns a page of a product's log (productID > 0) or of
// the log of entries without a product, newest first.
func (tx *Tx) FindActivities(ctx context.Context, productID int64, f northstar.ActivityFilter) ([]*northstar.Activity, error) {
	q, args := activitySelect+" WHERE ", []any{}
	if f.ItemKind != "" && f.ItemID != 0 {
		q += "a.item_kind = ? AND a.item_id = ?"
		args = append(args, f.ItemKind, f.ItemID)
	} else if productID != 0 {
		q += "a.product_id = ?"
		args = append(args, productID)
	} else {
		q += "a.product_id IS NULL"
	}
	if f.Kind != "" {
		q += " AND a.item_kind = ?"
		args = append(args, f.Kind)
	}
	if f.Action != "" {
		q += " AND a.action = ?"
		args = append(args, f.Action)
	}
	if f.Actor != "" {
		q += " AND a.actor_id = (SELECT id FROM users WHERE email = ?)"
		args = append(args, strings.ToLower(f.Actor))
	}
	if !f.Since.IsZero() {
		q += " AND a.at >= ?"
		args = append(args, f.Since)
	}
	if f.Before > 0 {
		q += " AND a.id < ?"
		args = append(args, f.Before)
	}
	q += " ORDER BY a.id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find activity: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Activity{}
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, fmt.Errorf("find activity: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// --- Comments ---

const commentSelect = `SELECT c.id, c.item_kind, c.author_id, COALESCE(u.email, ''), COALESCE(u.name, ''), c.body, c.created_at, c.edited_at
	FROM comments c LEFT JOIN users u ON u.id = c.author_id`

func scanComment(row interface{ Scan(...any) error }) (*northstar.Comment, error) {
	var c northstar.Comment
	var author sql.NullInt64
	var email, name string
	if err := row.Scan(&c.ID, &c.ItemKind, &author, &email, &name, &c.Body, &c.CreatedAt, &c.EditedAt); err != nil {
		return nil, err
	}
	c.Author = userRef(author, email, name)
	c.CreatedAt = c.CreatedAt.UTC()
	if c.EditedAt != nil {
		t := c.EditedAt.UTC()
		c.EditedAt = &t
	}
	return &c, nil
}

// CreateComment stores a comment.
func (tx *Tx) CreateComment(ctx context.Context, productID int64, itemID int64, c *northstar.Comment) error {
	c.CreatedAt = tx.Now
	id, err := tx.insert(ctx, "INSERT INTO comments (product_id, item_kind, item_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		productID, c.ItemKind, itemID, nullID(c.Author), c.Body, tx.Now)
	if err != nil {
		return fmt.Errorf("create comment: %w", err)
	}
	c.ID = id
	return nil
}

// FindComment returns a comment and the id of the item it is on.
func (tx *Tx) FindComment(ctx context.Context, id int64) (*northstar.Comment, int64, int64, error) {
	var itemID, productID int64
	var c northstar.Comment
	var author sql.NullInt64
	var email, name string
	err := tx.queryRow(ctx, `SELECT c.id, c.item_kind, c.item_id, c.product_id, c.author_id, COALESCE(u.email, ''), COALESCE(u.name, ''), c.body, c.created_at, c.edited_at
		FROM comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.id = ?`, id).
		Scan(&c.ID, &c.ItemKind, &itemID, &productID, &author, &email, &name, &c.Body, &c.CreatedAt, &c.EditedAt)
	if err != nil {
		return nil, 0, 0, notFound(err, "Comment %d not found.", id)
	}
	c.Author = userRef(author, email, name)
	c.CreatedAt = c.CreatedAt.UTC()
	return &c, itemID, productID, nil
}

// UpdateComment writes a comment's new body and marks it edited.
func (tx *Tx) UpdateComment(ctx context.Context, c *northstar.Comment) error {
	now := tx.Now
	c.EditedAt = &now
	res, err := tx.exec(ctx, "UPDATE comments SET body = ?, edited_at = ? WHERE id = ?", c.Body, tx.Now, c.ID)
	return rowChanged(res, err, "Comment %d not found.", c.ID)
}

// DeleteComment removes a comment.
func (tx *Tx) DeleteComment(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM comments WHERE id = ?", id)
	return rowChanged(res, err, "Comment %d not found.", id)
}

// FindComments lists an item's comments, oldest first.
func (tx *Tx) FindComments(ctx context.Context, kind string, itemID int64, after int64, limit int) ([]*northstar.Comment, error) {
	rows, err := tx.query(ctx, commentSelect+" WHERE c.item_kind = ? AND c.item_id = ? AND c.id > ? ORDER BY c.id LIMIT ?", kind, itemID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("find comments: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Comment{}
	for rows.Next() {
		c, err := scanComment(rows)
		if err != nil {
			return nil, fmt.Errorf("find comments: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// --- Watches and notifications ---

// SetWatch makes a user watch (or stop watching) an item. An explicit
// unwatch is kept, so that later automatic watches do not undo it.
func (tx *Tx) SetWatch(ctx context.Context, userID int64, kind string, itemID int64, watching bool) error {
	_, err := tx.exec(ctx, `INSERT INTO watches (user_id, item_kind, item_id, watching) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, item_kind, item_id) DO UPDATE SET watching = excluded.watching`, userID, kind, itemID, watching)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	return nil
}

// AutoWatch makes a user watch an item unless they chose not to.
func (tx *Tx) AutoWatch(ctx context.Context, userID int64, kind string, itemID int64) error {
	_, err := tx.exec(ctx, `INSERT INTO watches (user_id, item_kind, item_id, watching) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, item_kind, item_id) DO NOTHING`, userID, kind, itemID, true)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	return nil
}

// Watching reports whether a user watches an item.
func (tx *Tx) Watching(ctx context.Context, userID int64, kind string, itemID int64) (bool, error) {
	var w bool
	err := tx.queryRow(ctx, "SELECT watching FROM watches WHERE user_id = ? AND item_kind = ? AND item_id = ?", userID, kind, itemID).Scan(&w)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return w, translate(err)
}

// Watchers lists the users watching an item.
func (tx *Tx) Watchers(ctx context.Context, kind string, itemID int64) ([]int64, error) {
	return tx.queryIDs(ctx, "watchers", "SELECT user_id FROM watches WHERE item_kind = ? AND item_id = ? AND watching = ?", kind, itemID, true)
}

// ProductMemberIDs lists the ids of a product's members.
func (tx *Tx) ProductMemberIDs(ctx context.Context, productID int64) ([]int64, error) {
	return tx.queryIDs(ctx, "product members", "SELECT user_id FROM members WHERE product_id = ?", productID)
}

// AddNotification tells a user about an activity entry.
func (tx *Tx) AddNotification(ctx context.Context, userID, activityID int64, reason string) error {
	_, err := tx.exec(ctx, "INSERT INTO notifications (user_id, activity_id, reason, created_at) VALUES (?, ?, ?, ?)", userID, activityID, reason, tx.Now)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// FindNotifications returns a page of a user's notifications, newest first.
func (tx *Tx) FindNotifications(ctx context.Context, userID int64, unreadOnly bool, before int64, limit int) ([]*northstar.Notification, error) {
	q := `SELECT n.id, n.reason, n.read_at, n.created_at, ` + strings.TrimPrefix(activitySelect, "SELECT ") + `
		JOIN notifications n ON n.activity_id = a.id WHERE n.user_id = ?`
	args := []any{userID}
	if unreadOnly {
		q += " AND n.read_at IS NULL"
	}
	if before > 0 {
		q += " AND n.id < ?"
		args = append(args, before)
	}
	q += " ORDER BY n.id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find notifications: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Notification{}
	for rows.Next() {
		var n northstar.Notification
		var a northstar.Activity
		var changes string
		if err := rows.Scan(&n.ID, &n.Reason, &n.ReadAt, &n.At, &a.ID, &a.ProductKey, &a.ProductID, &a.ItemKind, &a.ItemID, &a.ItemRef, &a.Action,
			&a.ActorID, &a.Actor, &changes, &a.At); err != nil {
			return nil, fmt.Errorf("find notifications: %w", err)
		}
		json.Unmarshal([]byte(changes), &a.Changes)
		if a.Changes == nil {
			a.Changes = []northstar.FieldChange{}
		}
		n.At, a.At = n.At.UTC(), a.At.UTC()
		n.Activity = &a
		out = append(out, &n)
	}
	return out, rows.Err()
}

// UnreadCount counts a user's unread notifications.
func (tx *Tx) UnreadCount(ctx context.Context, userID int64) (int, error) {
	var n int
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL", userID).Scan(&n)
	return n, translate(err)
}

// MarkRead marks a user's notifications read: the given ones, or all.
func (tx *Tx) MarkRead(ctx context.Context, userID int64, ids []int64) (int64, error) {
	q, args := "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL", []any{tx.Now, userID}
	if len(ids) > 0 {
		q += " AND id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	res, err := tx.exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	return res.RowsAffected()
}

// MailBatch is what one digest e-mail tells a user.
type MailBatch struct {
	UserID        int64
	Email, Name   string
	Notifications []*northstar.Notification
}

// PendingMail returns, per user, the notifications not yet e-mailed that
// are older than cutoff, so that a burst of changes makes one mail.
func (tx *Tx) PendingMail(ctx context.Context, cutoff time.Time, limit int) ([]*MailBatch, error) {
	rows, err := tx.query(ctx, `SELECT n.user_id, u.email, u.name, n.id, n.reason, n.created_at, `+strings.TrimPrefix(activitySelect, "SELECT ")+`
		JOIN notifications n ON n.activity_id = a.id JOIN users u ON u.id = n.user_id
		WHERE n.emailed_at IS NULL AND n.created_at <= ? AND u.disabled = ? ORDER BY n.user_id, n.id LIMIT ?`, cutoff, false, limit)
	if err != nil {
		return nil, fmt.Errorf("pending mail: %w", err)
	}
	defer rows.Close()
	var out []*MailBatch
	for rows.Next() {
		var uid int64
		var email, name, changes string
		var n northstar.Notification
		var a northstar.Activity
		if err := rows.Scan(&uid, &email, &name, &n.ID, &n.Reason, &n.At, &a.ID, &a.ProductKey, &a.ProductID, &a.ItemKind, &a.ItemID, &a.ItemRef,
			&a.Action, &a.ActorID, &a.Actor, &changes, &a.At); err != nil {
			return nil, fmt.Errorf("pending mail: %w", err)
		}
		json.Unmarshal([]byte(changes), &a.Changes)
		n.Activity = &a
		if len(out) == 0 || out[len(out)-1].UserID != uid {
			out = append(out, &MailBatch{UserID: uid, Email: email, Name: name})
		}
		b := out[len(out)-1]
		b.Notifications = append(b.Notifications, &n)
	}
	return out, rows.Err()
}

// MarkEmailed records that notifications go out by mail and returns how
// many were not marked yet: a server claims a digest this way before it
// sends it, so that no other server sends it too.
func (tx *Tx) MarkEmailed(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	args := []any{tx.Now}
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := tx.exec(ctx, "UPDATE notifications SET emailed_at = ? WHERE emailed_at IS NULL AND id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")", args...)
	if err != nil {
		return 0, fmt.Errorf("mark emailed: %w", err)
	}
	return res.RowsAffected()
}

// UnmarkEmailed puts notifications back in the mail queue: their digest
// could not be sent.
func (tx *Tx) UnmarkEmailed(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	_, err := tx.exec(ctx, "UPDATE notifications SET emailed_at = NULL WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")", args...)
	if err != nil {
		return fmt.Errorf("unmark emailed: %w", err)
	}
	return nil
}

// --- Webhooks ---

const webhookSelect = `SELECT w.id, p.key, w.product_id, w.url, w.secret, w.events, w.active, w.failures, w.disabled_reason, w.created_at
	FROM webhooks w JOIN products p ON p.id = w.product_id`

func scanWebhook(row interface{ Scan(...any) error }) (*northstar.Webhook, error) {
	var w northstar.Webhook
	var events string
	if err := row.Scan(&w.ID, &w.ProductKey, &w.ProductID, &w.URL, &w.Secret, &events, &w.Active, &w.Failures, &w.DisabledReason, &w.CreatedAt); err != nil {
		return nil, err
	}
	w.Events = strings.Split(events, ",")
	w.CreatedAt = w.CreatedAt.UTC()
	return &w, nil
}

// CreateWebhook stores a webhook.
func (tx *Tx) CreateWebhook(ctx context.Context, w *northstar.Webhook, createdBy int64) error {
	w.CreatedAt = tx.Now
	id, err := tx.insert(ctx, `INSERT INTO webhooks (product_id, url, secret, events, active, failures, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`, w.ProductID, w.URL, w.Secret, strings.Join(w.Events, ","), w.Active, createdBy, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	w.ID = id
	return nil
}

// UpdateWebhook writes a webhook's URL, events, state and failure count.
func (tx *Tx) UpdateWebhook(ctx context.Context, w *northstar.Webhook) error {
	res, err := tx.exec(ctx, "UPDATE webhooks SET url = ?, events = ?, active = ?, failures = ?, disabled_reason = ?, updated_at = ? WHERE id = ?",
		w.URL, strings.Join(w.Events, ","), w.Active, w.Failures, w.DisabledReason, tx.Now, w.ID)
	return rowChanged(res, err, "Webhook %d not found.", w.ID)
}

// DeleteWebhook removes a webhook and its deliveries.
func (tx *Tx) DeleteWebhook(ctx context.Context, productID, id int64) error {
	res, err := tx.exec(ctx, "DELETE FROM webhooks WHERE id = ? AND product_id = ?", id, productID)
	return rowChanged(res, err, "Webhook %d not found.", id)
}

// FindWebhook returns a webhook.
func (tx *Tx) FindWebhook(ctx context.Context, id int64) (*northstar.Webhook, error) {
	w, err := scanWebhook(tx.queryRow(ctx, webhookSelect+" WHERE w.id = ?", id))
	if err != nil {
		return nil, notFound(err, "Webhook %d not found.", id)
	}
	return w, nil
}

// FindWebhooks lists a product's webhooks; activeOnly leaves out disabled ones.
func (tx *Tx) FindWebhooks(ctx context.Context, productID int64, activeOnly bool) ([]*northstar.Webhook, error) {
	q, args := webhookSelect+" WHERE w.product_id = ?", []any{productID}
	if activeOnly {
		q += " AND w.active = ?"
		args = append(args, true)
	}
	rows, err := tx.query(ctx, q+" ORDER BY w.id", args...)
	if err != nil {
		return nil, fmt.Errorf("find webhooks: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// QueueDelivery writes a pending delivery (the outbox).
func (tx *Tx) QueueDelivery(ctx context.Context, webhookID, activityID int64, event string, payload []byte) error {
	_, err := tx.exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, activity_id, event, payload, status, attempts, next_attempt, created_at)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)`, webhookID, activityID, event, string(payload), tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("queue delivery: %w", err)
	}
	return nil
}

// PendingDelivery is the next delivery of a webhook to send.
type PendingDelivery struct {
	ID       int64
	Webhook  *northstar.Webhook
	Event    string
	Payload  []byte
	Attempts int
	Due      time.Time
}

// RecordAttempt writes the outcome of sending a delivery: delivered, or
// failed for now with the time of the next attempt, or failed for good.
func (tx *Tx) RecordAttempt(ctx context.Context, id int64, status string, code int, body, errText string, next time.Time) error {
	var codeArg any
	if code > 0 {
		codeArg = code
	}
	var delivered any
	if status == "delivered" {
		delivered = tx.Now
	}
	_, err := tx.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, response_code = ?, response_body = ?, error = ?,
		next_attempt = ?, delivered_at = ? WHERE id = ?`, status, codeArg, body, errText, next, delivered, id)
	return err
}

// FindDeliveries lists a webhook's recent deliveries, newest first.
func (tx *Tx) FindDeliveries(ctx context.Context, webhookID int64, limit int) ([]*northstar.Delivery, error) {
	rows, err := tx.query(ctx, `SELECT id, event, status, attempts, response_code, error, created_at, delivered_at, next_attempt
		FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("find deliveries: %w", err)
	}
	defer rows.Close()
	out := []*northstar.Delivery{}
	for rows.Next() {
		var d northstar.Delivery
		var code sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Event, &d.Status, &d.Attempts, &code, &d.Error, &d.CreatedAt, &d.DeliveredAt, &d.NextAttempt); err != nil {
			return nil, err
		}
		if code.Valid {
			c := int(code.Int64)
			d.ResponseCode = &c
		}
		out = append(out, &d)
	}
	return out, rows.Err()
}

// Redeliver queues a copy of a past delivery at the end of its webhook's
// queue.
func (tx *Tx) Redeliver(ctx context.Context, webhookID, deliveryID int64) error {
	res, err := tx.exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, activity_id, event, payload, status, attempts, next_attempt, created_at)
		SELECT webhook_id, activity_id, event, payload, 'pending', 0, ?, ? FROM webhook_deliveries WHERE id = ? AND webhook_id = ?`,
		tx.Now, tx.Now, deliveryID, webhookID)
	return rowChanged(res, err, "Delivery %d not found.", deliveryID)
}

// CountPending counts a webhook's pending deliveries.
func (tx *Tx) CountPending(ctx context.Context, webhookID int64) (int, error) {
	var n int
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending'", webhookID).Scan(&n)
	return n, translate(err)
}

// LeaseWebhook claims a webhook's queue for owner until until, if no other
// process holds it; it reports whether the claim succeeded.
func (tx *Tx) LeaseWebhook(ctx context.Context, id int64, owner string, until time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE webhooks SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner = ? OR lease_until IS NULL OR lease_until < ?)`, owner, until, id, owner, tx.Now)
	if err != nil {
		return false, fmt.Errorf("lease webhook: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// PendingFor returns a webhook's next pending deliveries in order.
func (tx *Tx) PendingFor(ctx context.Context, webhookID int64, limit int) ([]*PendingDelivery, error) {
	rows, err := tx.query(ctx, `SELECT id, event, payload, attempts, next_attempt FROM webhook_deliveries
		WHERE webhook_id = ? AND status = 'pending' ORDER BY id LIMIT ?`, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", err)
	}
	defer rows.Close()
	var out []*PendingDelivery
	for rows.Next() {
		var d PendingDelivery
		var payload string
		var due time.Time
		if err := rows.Scan(&d.ID, &d.Event, &payload, &d.Attempts, &due); err != nil {
			return nil, err
		}
		d.Payload, d.Due = []byte(payload), due.UTC()
		out = append(out, &d)
	}
	return out, rows.Err()
}

// WebhooksWithPending lists active webhooks that have pending deliveries.
func (tx *Tx) WebhooksWithPending(ctx context.Context) ([]int64, error) {
	return tx.queryIDs(ctx, "webhooks with pending deliveries", `SELECT DISTINCT d.webhook_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.status = 'pending' AND w.active = ?`, true)
}

// FindProductByID returns a product with the user's role in it.
func (tx *Tx) FindProductByID(ctx context.Context, id, userID int64) (*northstar.Product, error) {
	var role string
	p, err := scanProduct(tx.queryRow(ctx, "SELECT "+productColumns+", COALESCE(m.role, '') FROM products p LEFT JOIN members m ON m.product_id = p.id AND m.user_id = ? WHERE p.id = ?", userID, id), &role)
	if err != nil {
		return nil, notFound(err, "Product %d not found.", id)
	}
	p.Role = northstar.Role(role)
	return p, nil
}

// ItemRef names an item by kind and id the way the API does: a product
// key, a story or feature ref, KEY/id for feedback, the id of a sprint.
func (tx *Tx) ItemRef(ctx context.Context, kind string, id int64) (string, error) {
	var ref string
	var err error
	switch kind {
	case northstar.KindProduct:
		err = tx.queryRow(ctx, "SELECT key FROM products WHERE id = ?", id).Scan(&ref)
	case northstar.KindStory, northstar.KindFeature:
		table := "stories"
		if kind == northstar.KindFeature {
			table = "features"
		}
		var key string
		var n int
		err = tx.queryRow(ctx, "SELECT p.key, x.number FROM "+table+" x JOIN products p ON p.id = x.product_id WHERE x.id = ?", id).Scan(&key, &n)
		ref = northstar.FormatRef(key, n)
	case northstar.KindFeedback:
		var key string
		err = tx.queryRow(ctx, "SELECT p.key FROM feedback f JOIN products p ON p.id = f.product_id WHERE f.id = ?", id).Scan(&key)
		ref = fmt.Sprintf("%s/%d", key, id)
	default:
		ref = fmt.Sprint(id)
	}
	if err != nil {
		return "", notFound(err, "%s %d not found.", kind, id)
	}
	return ref, nil
}
