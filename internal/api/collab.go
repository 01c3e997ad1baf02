package api

// Working together: comments on every item (products, features, stories,
// feedback and sprints), the activity log as each item's timeline and as
// a product-wide feed (JSON and CSV), notifications, watches, and a
// product's webhooks with their deliveries. Every route reads or adds;
// none changes or removes an activity entry, for the log is append-only.
// Permissions are the application's: these handlers only read requests
// and write answers.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// itemPath says where an item kind's routes live and how a request
// names the item: the reference the application resolves.
type itemPath struct {
	kind   string
	prefix string // the item's own path
	ref    func(r *http.Request) (string, error)
}

var itemPaths = []itemPath{
	{northstar.KindProduct, "/api/v1/products/{key}", func(r *http.Request) (string, error) { return r.PathValue("key"), nil }},
	{northstar.KindFeature, "/api/v1/features/{ref}", func(r *http.Request) (string, error) { return r.PathValue("ref"), nil }},
	{northstar.KindStory, "/api/v1/stories/{ref}", func(r *http.Request) (string, error) { return r.PathValue("ref"), nil }},
	{northstar.KindFeedback, "/api/v1/products/{key}/feedback/{id}", func(r *http.Request) (string, error) {
		id, err := pathID(r, "id")
		if err != nil {
			return "", err
		}
		return r.PathValue("key") + "/" + strconv.FormatInt(id, 10), nil
	}},
	{northstar.KindSprint, "/api/v1/sprints/{id}", func(r *http.Request) (string, error) {
		id, err := pathID(r, "id")
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(id, 10), nil
	}},
}

// collabRoutes lists the collaboration routes; Routes includes them.
func (a *API) collabRoutes() []httpx.Route {
	var routes []httpx.Route
	for _, ip := range itemPaths {
		routes = append(routes,
			httpx.Route{Method: "GET", Pattern: ip.prefix + "/comments", Handler: authed(a.listComments(ip))},
			httpx.Route{Method: "POST", Pattern: ip.prefix + "/comments", Handler: authed(a.addComment(ip))},
			httpx.Route{Method: "GET", Pattern: ip.prefix + "/watch", Handler: authed(a.getWatch(ip))},
			httpx.Route{Method: "PUT", Pattern: ip.prefix + "/watch", Handler: authed(a.setWatch(ip, true))},
			httpx.Route{Method: "DELETE", Pattern: ip.prefix + "/watch", Handler: authed(a.setWatch(ip, false))},
		)
		// A product's own timeline is its feed (GET .../activity?kind=product).
		if ip.kind != northstar.KindProduct {
			routes = append(routes, httpx.Route{Method: "GET", Pattern: ip.prefix + "/activity", Handler: authed(a.itemActivity(ip))})
		}
	}
	return append(routes,
		httpx.Route{Method: "PATCH", Pattern: "/api/v1/comments/{id}", Handler: authed(a.editComment)},
		httpx.Route{Method: "DELETE", Pattern: "/api/v1/comments/{id}", Handler: authed(a.deleteComment)},

		httpx.Route{Method: "GET", Pattern: "/api/v1/products/{key}/activity", Handler: authed(a.productActivity)},
		httpx.Route{Method: "GET", Pattern: "/api/v1/products/{key}/activity.csv", Handler: authed(a.productActivityCSV)},

		httpx.Route{Method: "GET", Pattern: "/api/v1/notifications", Handler: authed(a.listNotifications)},
		httpx.Route{Method: "GET", Pattern: "/api/v1/notifications/unread-count", Handler: authed(a.unreadCount)},
		httpx.Route{Method: "POST", Pattern: "/api/v1/notifications/read", Handler: authed(a.markRead)},

		httpx.Route{Method: "GET", Pattern: "/api/v1/products/{key}/webhooks", Handler: authed(a.listWebhooks)},
		httpx.Route{Method: "POST", Pattern: "/api/v1/products/{key}/webhooks", Handler: authed(a.createWebhook)},
		httpx.Route{Method: "PATCH", Pattern: "/api/v1/products/{key}/webhooks/{id}", Handler: authed(a.updateWebhook)},
		httpx.Route{Method: "DELETE", Pattern: "/api/v1/products/{key}/webhooks/{id}", Handler: authed(deleteProductItem(a.app.DeleteWebhook))},
		httpx.Route{Method: "GET", Pattern: "/api/v1/products/{key}/webhooks/{id}/deliveries", Handler: authed(a.listDeliveries)},
		httpx.Route{Method: "POST", Pattern: "/api/v1/products/{key}/webhooks/{id}/redeliveries", Handler: authed(a.redeliver)},
	)
}

// idCursor reads a cursor that holds the id of a page's last item.
func idCursor(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(after, 10, 64)
	if err != nil || id < 1 {
		return 0, northstar.FieldError("cursor", "cursor is not one this server gave out.")
	}
	return id, nil
}

// --- Comments ---

// Comments' Markdown is rendered as the web pages render it: goldmark
// escapes raw HTML and bluemonday's UGC policy removes anything dangerous
// that remains (javascript: links and the like).
var (
	commentMarkdown = goldmark.New(goldmark.WithExtensions(extension.GFM))
	commentPolicy   = bluemonday.UGCPolicy()
)

func renderCommentHTML(src string) string {
	var buf bytes.Buffer
	if err := commentMarkdown.Convert([]byte(src), &buf); err != nil {
		return "<p>" + html.EscapeString(src) + "</p>"
	}
	return string(commentPolicy.SanitizeBytes(buf.Bytes()))
}

// commentJSON is a comment as the API shows it: its Markdown, the HTML
// it renders to (sanitised), and whether and until when it can be edited.
type commentJSON struct {
	*northstar.Comment
	HTML          string    `json:"html"`
	Edited        bool      `json:"edited"`
	EditableUntil time.Time `json:"editable_until"`
}

func commentView(c *northstar.Comment) commentJSON {
	return commentJSON{Comment: c, HTML: renderCommentHTML(c.Body), Edited: c.Edited(), EditableUntil: c.CreatedAt.Add(northstar.CommentEditTime)}
}

type commentRequest struct {
	Body string `json:"body"`
}

func (a *API) listComments(ip itemPath) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ref, err := ip.ref(r)
		if err != nil {
			return err
		}
		limit, after, err := pageParams(r)
		if err != nil {
			return err
		}
		afterID, err := idCursor(after)
		if err != nil {
			return err
		}
		cs, err := a.app.Comments(r.Context(), ip.kind, ref, afterID, limit+1)
		if err != nil {
			return err
		}
		page := Page[commentJSON]{}
		if len(cs) > limit {
			cs = cs[:limit]
			page.NextCursor = encodeCursor(strconv.FormatInt(cs[limit-1].ID, 10))
		}
		page.Items = make([]commentJSON, len(cs))
		for i, c := range cs {
			page.Items[i] = commentView(c)
		}
		httpx.WriteJSON(w, http.StatusOK, page)
		return nil
	}
}

func (a *API) addComment(ip itemPath) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ref, err := ip.ref(r)
		if err != nil {
			return err
		}
		var req commentRequest
		if err := httpx.DecodeJSON(w, r, &req); err != nil {
			return err
		}
		c, err := a.app.AddComment(r.Context(), ip.kind, ref, req.Body)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, commentView(c))
		return nil
	}
}

func (a *API) editComment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req commentRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.app.EditComment(r.Context(), id, req.Body)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, commentView(c))
	return nil
}

func (a *API) deleteComment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.app.DeleteComment(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- Watches ---

type watchJSON struct {
	Watching bool `json:"watching"`
}

func (a *API) getWatch(ip itemPath) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ref, err := ip.ref(r)
		if err != nil {
			return err
		}
		watching, err := a.app.Watching(r.Context(), ip.kind, ref)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, watchJSON{watching})
		return nil
	}
}

// setWatch starts (PUT) or stops (DELETE) watching; both are idempotent
// and answer with the state the item is now in.
func (a *API) setWatch(ip itemPath, watching bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ref, err := ip.ref(r)
		if err != nil {
			return err
		}
		if err := a.app.Watch(r.Context(), ip.kind, ref, watching); err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, watchJSON{watching})
		return nil
	}
}

// --- Activity ---

var (
	actionPattern = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)
	kindPattern   = regexp.MustCompile(`^[a-z][a-z_]{0,29}$`)
)

// activityFilter reads the filters of a timeline or feed: actor (an
// e-mail address), action, since (a date or a time) and, for a product's
// feed, kind.
func activityFilter(r *http.Request, feed bool) (northstar.ActivityFilter, error) {
	q := r.URL.Query()
	var f northstar.ActivityFilter
	var err error
	if f.Actor, err = queryText(q, "actor", 254); err != nil {
		return f, err
	}
	if f.Actor != "" && !strings.Contains(f.Actor, "@") {
		return f, northstar.FieldError("actor", "actor must be a person's e-mail address.")
	}
	if f.Action = strings.TrimSpace(q.Get("action")); f.Action != "" && !actionPattern.MatchString(f.Action) {
		return f, northstar.FieldError("action", "action must be a word like created, updated or commented.")
	}
	if s := strings.TrimSpace(q.Get("kind")); s != "" {
		if !feed {
			return f, northstar.FieldError("kind", "kind filters a product's feed; an item's timeline is all of one kind.")
		}
		if !kindPattern.MatchString(s) {
			return f, northstar.FieldError("kind", "kind must be an item kind like story, feature or feedback.")
		}
		f.Kind = s
	}
	if s := strings.TrimSpace(q.Get("since")); s != "" {
		if f.Since, err = parseSince(s); err != nil {
			return f, err
		}
	}
	return f, nil
}

// parseSince reads a date (2026-03-01, from its start in UTC) or an RFC
// 3339 time.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, northstar.FieldError("since", "since must be a date like 2026-03-01 or a time like 2026-03-01T09:00:00Z.")
}

// activityPage answers with a page of the log, newest first.
func (a *API) activityPage(w http.ResponseWriter, r *http.Request, kind, ref string, feed bool) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	f, err := activityFilter(r, feed)
	if err != nil {
		return err
	}
	if f.Before, err = idCursor(after); err != nil {
		return err
	}
	f.Limit = limit + 1
	acts, err := a.app.Activity(r.Context(), kind, ref, f)
	if err != nil {
		return err
	}
	page := Page[*northstar.Activity]{Items: acts}
	if len(acts) > limit {
		page.Items = acts[:limit]
		page.NextCursor = encodeCursor(strconv.FormatInt(acts[limit-1].ID, 10))
	}
	if page.Items == nil {
		page.Items = []*northstar.Activity{}
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) itemActivity(ip itemPath) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ref, err := ip.ref(r)
		if err != nil {
			return err
		}
		return a.activityPage(w, r, ip.kind, ref, false)
	}
}

func (a *API) productActivity(w http.ResponseWriter, r *http.Request) error {
	return a.activityPage(w, r, "", r.PathValue("key"), true)
}

// csvPageSize is how many entries the CSV export reads at a time.
const csvPageSize = 1000

// productActivityCSV exports a product's feed, with the same filters, as
// CSV: newest first, every entry, one a row.
func (a *API) productActivityCSV(w http.ResponseWriter, r *http.Request) error {
	f, err := activityFilter(r, true)
	if err != nil {
		return err
	}
	f.Limit = csvPageSize
	// The first page is read before anything is sent, so that a bad key
	// or a missing right is an error answer, not a broken file.
	acts, err := a.app.Activity(r.Context(), "", r.PathValue("key"), f)
	if err != nil {
		return err
	}
	key := strings.Map(func(c rune) rune {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, strings.ToUpper(r.PathValue("key")))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+key+`-activity.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "at", "actor", "action", "item_kind", "item", "changes"})
	for {
		for _, act := range acts {
			row := []string{strconv.FormatInt(act.ID, 10), act.At.UTC().Format(time.RFC3339), act.Actor, act.Action, act.ItemKind, act.ItemRef, csvChanges(act.Changes)}
			for i := range row {
				row[i] = csvCell(row[i])
			}
			cw.Write(row)
		}
		if len(acts) < csvPageSize {
			break
		}
		f.Before = acts[len(acts)-1].ID
		if acts, err = a.app.Activity(r.Context(), "", r.PathValue("key"), f); err != nil {
			// The status is sent: the file ends early; say so in it.
			cw.Write([]string{"", "", "", "", "", "", "export stopped: " + err.Error()})
			break
		}
	}
	cw.Flush()
	return nil // a failed write is the client gone
}

// csvChanges writes an entry's field changes one a line: "title: "Old" →
// "New"", each value as JSON.
func csvChanges(changes []northstar.FieldChange) string {
	lines := make([]string, len(changes))
	for i, c := range changes {
		lines[i] = fmt.Sprintf("%s: %s → %s", c.Field, csvValue(c.Old), csvValue(c.New))
	}
	return strings.Join(lines, "\n")
}

func csvValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// --- Notifications ---

// notificationPage is a page of notifications with the number unread.
type notificationPage struct {
	Items      []*northstar.Notification `json:"items"`
	NextCursor string                    `json:"next_cursor,omitempty"`
	Unread     int                       `json:"unread"`
}

func (a *API) listNotifications(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	before, err := idCursor(after)
	if err != nil {
		return err
	}
	unreadOnly, _, err := queryBool(r.URL.Query(), "unread")
	if err != nil {
		return err
	}
	ns, unread, err := a.app.Notifications(r.Context(), unreadOnly, before, limit+1)
	if err != nil {
		return err
	}
	page := notificationPage{Items: ns, Unread: unread}
	if len(ns) > limit {
		page.Items = ns[:limit]
		page.NextCursor = encodeCursor(strconv.FormatInt(ns[limit-1].ID, 10))
	}
	if page.Items == nil {
		page.Items = []*northstar.Notification{}
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

type unreadJSON struct {
	Unread int `json:"unread"`
}

func (a *API) unreadCount(w http.ResponseWriter, r *http.Request) error {
	n, err := a.app.UnreadCount(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, unreadJSON{n})
	return nil
}

// markReadRequest names the notifications to mark read, or all of them.
type markReadRequest struct {
	IDs []int64 `json:"ids"`
	All bool    `json:"all"`
}

type markReadJSON struct {
	Marked int64 `json:"marked"`
	Unread int   `json:"unread"`
}

func (a *API) markRead(w http.ResponseWriter, r *http.Request) error {
	var req markReadRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.All && len(req.IDs) > 0:
		return northstar.FieldError("ids", "send ids or all, not both.")
	case !req.All && len(req.IDs) == 0:
		return northstar.FieldError("ids", "send the ids of the notifications to mark read, or \"all\": true.")
	case len(req.IDs) > MaxLimit:
		return northstar.FieldError("ids", "at most %d ids at a time.", MaxLimit)
	}
	for _, id := range req.IDs {
		if id < 1 {
			return northstar.FieldError("ids", "ids must be positive whole numbers.")
		}
	}
	n, err := a.app.MarkRead(r.Context(), req.IDs)
	if err != nil {
		return err
	}
	unread, err := a.app.UnreadCount(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, markReadJSON{Marked: n, Unread: unread})
	return nil
}

// --- Webhooks ---

// webhookView makes a webhook's events a JSON array, never null.
func webhookView(h *northstar.Webhook) *northstar.Webhook {
	if h.Events == nil {
		h.Events = []string{}
	}
	return h
}

// createdWebhookJSON is a new webhook with its signing secret, shown once.
type createdWebhookJSON struct {
	Webhook *northstar.Webhook `json:"webhook"`
	Secret  string             `json:"secret"`
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.app.Webhooks(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	for _, h := range hs {
		webhookView(h)
	}
	if hs == nil {
		hs = []*northstar.Webhook{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.Webhook]{Items: hs})
	return nil
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req northstar.WebhookInput
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	h, secret, err := a.app.CreateWebhook(r.Context(), r.PathValue("key"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, createdWebhookJSON{Webhook: webhookView(h), Secret: secret})
	return nil
}

// webhookChange changes a webhook: absent members stay as they are.
type webhookChange struct {
	URL    *string   `json:"url"`
	Events *[]string `json:"events"`
	Active *bool     `json:"active"`
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req webhookChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.URL == nil && req.Events == nil && req.Active == nil {
		return emptyChange("url, events, active")
	}
	// The change applies to the webhook as it is now.
	hs, err := a.app.Webhooks(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	var cur *northstar.Webhook
	for _, h := range hs {
		if h.ID == id {
			cur = h
		}
	}
	if cur == nil {
		return northstar.Errorf(northstar.ENOTFOUND, "Webhook %d not found.", id)
	}
	in := northstar.WebhookInput{URL: cur.URL, Events: cur.Events, Active: req.Active}
	if req.URL != nil {
		in.URL = *req.URL
	}
	if req.Events != nil {
		if in.Events = *req.Events; len(in.Events) == 0 {
			return northstar.FieldError("events", "events needs at least one event type; \"*\" takes them all.")
		}
	}
	h, err := a.app.UpdateWebhook(r.Context(), r.PathValue("key"), id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, webhookView(h))
	return nil
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ds, err := a.app.Deliveries(r.Context(), r.PathValue("key"), id)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []*northstar.Delivery{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.Delivery]{Items: ds})
	return nil
}

// redeliveryRequest names the past delivery to send again.
type redeliveryRequest struct {
	DeliveryID int64 `json:"delivery_id"`
}

type redeliveryJSON struct {
	DeliveryID int64  `json:"delivery_id"`
	Status     string `json:"status"`
}

func (a *API) redeliver(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req redeliveryRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.DeliveryID < 1 {
		return northstar.FieldError("delivery_id", "delivery_id must be the id of one of the webhook's deliveries.")
	}
	if err := a.app.Redeliver(r.Context(), r.PathValue("key"), id, req.DeliveryID); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, redeliveryJSON{DeliveryID: req.DeliveryID, Status: "queued"})
	return nil
}
