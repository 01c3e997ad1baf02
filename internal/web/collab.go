package web

// Working together in the browser: the discussion block of every item
// (comments, @mentions, watching and the item's activity timeline), the
// notifications bell and list, the product-wide activity feed with its CSV
// export, and a product's webhook settings.
//
// The item pages include the discussion as a placeholder that collab.js
// fills from GET /discussion/{kind}/{ref}, so that the item pages' own
// handlers load nothing more; without JavaScript the placeholder links to
// the same discussion as a page of its own, where every form works.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// collabRoutes lists the collaboration routes.
func (web *Web) collabRoutes() []httpx.Route {
	a := web.authed
	return []httpx.Route{
		{Method: "GET", Pattern: "/discussion/{kind}/{ref...}", Handler: a(web.discussion)},
		{Method: "POST", Pattern: "/discussion/{kind}/{ref...}", Handler: a(web.addComment)},
		{Method: "POST", Pattern: "/watch/{kind}/{ref...}", Handler: a(web.watch)},
		{Method: "POST", Pattern: "/comments/{id}", Handler: a(web.editComment)},
		{Method: "POST", Pattern: "/comments/{id}/delete", Handler: a(web.deleteComment)},
		{Method: "GET", Pattern: "/products/{key}/mentions", Handler: a(web.mentions)},
		{Method: "GET", Pattern: "/notifications", Handler: a(web.notifications)},
		{Method: "GET", Pattern: "/notifications/count", Handler: a(web.unreadCount)},
		{Method: "POST", Pattern: "/notifications/read", Handler: a(web.markAllRead)},
		{Method: "POST", Pattern: "/notifications/{id}/read", Handler: a(web.markRead)},
		{Method: "GET", Pattern: "/products/{key}/activity", Handler: a(web.activityFeed)},
		{Method: "GET", Pattern: "/products/{key}/activity.csv", Handler: a(web.activityCSV)},
		{Method: "GET", Pattern: "/products/{key}/webhooks", Handler: a(web.webhooks)},
		{Method: "POST", Pattern: "/products/{key}/webhooks", Handler: a(web.createWebhook)},
		{Method: "POST", Pattern: "/products/{key}/webhooks/{id}", Handler: a(web.updateWebhook)},
		{Method: "POST", Pattern: "/products/{key}/webhooks/{id}/delete", Handler: a(web.deleteWebhook)},
		{Method: "POST", Pattern: "/products/{key}/webhooks/{id}/deliveries/{delivery}/redeliver", Handler: a(web.redeliver)},
	}
}

// --- Items, their pages and their activity ---

// itemURL returns the page of an item named in the activity log, or ""
// for items without a page.
func itemURL(kind, ref, productKey string, itemID int64) string {
	key := url.PathEscape(productKey)
	switch kind {
	case northstar.KindProduct:
		return "/products/" + url.PathEscape(ref)
	case northstar.KindStory:
		return "/products/" + key + "/stories/" + url.PathEscape(ref)
	case northstar.KindFeature:
		return "/products/" + key + "/features/" + url.PathEscape(ref)
	case northstar.KindFeedback:
		k, id, ok := strings.Cut(ref, "/")
		if !ok {
			return ""
		}
		return "/products/" + url.PathEscape(k) + "/feedback/" + url.PathEscape(id)
	case northstar.KindSprint:
		return "/sprints/" + url.PathEscape(ref)
	case northstar.KindRelease:
		return fmt.Sprintf("/products/%s/releases/%d", key, itemID)
	case northstar.KindObjective:
		if productKey == "" {
			return "/objectives"
		}
		return "/products/" + key + "/objectives"
	case northstar.KindTeam:
		return fmt.Sprintf("/teams/%d", itemID)
	case "customer":
		return "/customers"
	case "webhook":
		return "/products/" + key + "/webhooks"
	}
	return ""
}

// itemName names an item for people: "story BOOK-12", "sprint 3".
func itemName(kind, ref string) string {
	switch kind {
	case northstar.KindProduct:
		return "product " + ref
	case northstar.KindFeedback:
		if _, id, ok := strings.Cut(ref, "/"); ok {
			return "feedback #" + id
		}
	case northstar.KindSprint, northstar.KindObjective:
		return kind + " #" + ref
	}
	return strings.ReplaceAll(kind, "_", " ") + " " + ref
}

// discussionURL is where an item's discussion lives.
func discussionURL(kind, ref string) string {
	return "/discussion/" + url.PathEscape(kind) + "/" + escapeRef(ref)
}

// escapeRef escapes a ref for a path, keeping the slash of feedback refs
// (BOOK/12).
func escapeRef(ref string) string {
	parts := strings.Split(ref, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// changeView is one field of an activity entry, written for people.
type changeView struct {
	Field    string
	Old, New string
	// Long values are shown one under the other rather than side by side.
	Long bool
}

// entryView is one activity entry, written for people.
type entryView struct {
	ID       int64
	Actor    string
	Action   string
	ItemName string
	URL      string
	At       time.Time
	Comment  string // a comment's text, for "commented"
	Changes  []changeView
}

func newEntryView(a *northstar.Activity) entryView {
	e := entryView{ID: a.ID, Actor: a.Actor, Action: actionLabel(a.Action), ItemName: itemName(a.ItemKind, a.ItemRef),
		URL: itemURL(a.ItemKind, a.ItemRef, a.ProductKey, a.ItemID), At: a.At}
	if e.Actor == "" {
		e.Actor = "Someone"
	}
	for _, c := range a.Changes {
		if a.Action == "commented" && c.Field == "comment" {
			if m, ok := c.New.(map[string]any); ok {
				body, _ := m["body"].(string)
				e.Comment = excerpt(body, 280) // plain text: no Markdown marks
				continue
			}
		}
		if c.Field == "rank" {
			continue // an ordering key, meaningless to read
		}
		cv := changeView{Field: strings.ReplaceAll(c.Field, "_", " "), Old: formatValue(c.Old), New: formatValue(c.New)}
		cv.Long = len(cv.Old) > 60 || len(cv.New) > 60
		e.Changes = append(e.Changes, cv)
	}
	return e
}

// actionLabel turns an action name into words: "comment_edited" →
// "edited a comment on".
func actionLabel(action string) string {
	switch action {
	case "commented":
		return "commented on"
	case "comment_edited":
		return "edited a comment on"
	case "comment_deleted":
		return "deleted a comment on"
	case "updated":
		return "changed"
	}
	return strings.ReplaceAll(action, "_", " ")
}

// formatValue writes a value of an activity diff (decoded JSON) as text.
func formatValue(v any) string {
	const max = 300
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		s = v
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			s = "yes"
		} else {
			s = "no"
		}
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			parts = append(parts, formatValue(x))
		}
		s = strings.Join(parts, ", ")
	case map[string]any:
		for _, k := range []string{"body", "title", "name", "ref", "email", "text"} {
			if x, ok := v[k]; ok {
				return formatValue(x)
			}
		}
		b, _ := json.Marshal(v)
		s = string(b)
	default:
		s = fmt.Sprint(v)
	}
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// --- The discussion block ---

// commentView is a comment with what the current user may do with it.
type commentView struct {
	*northstar.Comment
	HTML      template.HTML
	CanEdit   bool
	CanDelete bool
}

// discussionView is an item's discussion: its comments, the comment box,
// whether the current user watches it, and its timeline.
type discussionView struct {
	page
	Kind, Ref   string
	Name        string
	URL         string // the discussion's own address
	ItemURL     string
	Product     *northstar.Product
	MentionsURL string
	Comments    []commentView
	MoreAfter   int64 // comments after this one are on the next page
	CanComment  bool
	Watching    bool
	Timeline    []entryView
	OlderURL    string
	Error       *formError
	Draft       string
	EditID      int64 // the comment whose edit failed, shown open
	EditDraft   string
}

const (
	commentsPerPage = 200
	timelinePage    = 20
)

// discussionProduct finds the product an item's discussion belongs to:
// a sprint's is its team's first product the user may read, as the app
// decides.
func (web *Web) discussionProduct(ctx context.Context, kind, ref string) (*northstar.Product, error) {
	var key string
	switch kind {
	case northstar.KindProduct:
		key = ref
	case northstar.KindStory, northstar.KindFeature:
		i := strings.LastIndexByte(ref, '-')
		if i <= 0 {
			return nil, northstar.Errorf(northstar.ENOTFOUND, "%s %s not found.", kind, ref)
		}
		key = ref[:i]
	case northstar.KindFeedback:
		k, _, ok := strings.Cut(ref, "/")
		if !ok {
			return nil, northstar.Errorf(northstar.ENOTFOUND, "Feedback %s not found.", ref)
		}
		key = k
	case northstar.KindSprint:
		id, err := strconv.ParseInt(ref, 10, 64)
		if err != nil || id <= 0 {
			return nil, northstar.Errorf(northstar.ENOTFOUND, "Sprint %s not found.", ref)
		}
		s, err := web.app.Sprint(ctx, id)
		if err != nil {
			return nil, err
		}
		team, err := web.app.Team(ctx, s.TeamID)
		if err != nil {
			return nil, err
		}
		for _, k := range team.Products {
			if p, err := web.app.Product(ctx, k); err == nil {
				return p, nil
			}
		}
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Sprint %s not found.", ref)
	default:
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Items of kind %q take no comments.", kind)
	}
	return web.app.Product(ctx, normalizeKey(key))
}

// discussionView loads an item's discussion; before pages the timeline.
func (web *Web) discussionView(w http.ResponseWriter, r *http.Request, kind, ref string) (*discussionView, error) {
	ctx := r.Context()
	if !slices.Contains(northstar.CommentKinds, kind) {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Items of kind %q take no comments.", kind)
	}
	if kind == northstar.KindProduct || kind == northstar.KindStory || kind == northstar.KindFeature {
		ref = strings.ToUpper(ref)
	}
	if kind == northstar.KindFeedback {
		if k, id, ok := strings.Cut(ref, "/"); ok {
			ref = strings.ToUpper(k) + "/" + id
		}
	}
	p, err := web.discussionProduct(ctx, kind, ref)
	if err != nil {
		return nil, err
	}
	v := &discussionView{page: web.newPage(w, r, "Discussion of "+ref, "products"), Kind: kind, Ref: ref, Name: itemName(kind, ref),
		URL: discussionURL(kind, ref), ItemURL: itemURL(kind, ref, p.Key, 0), Product: p,
		MentionsURL: "/products/" + url.PathEscape(p.Key) + "/mentions"}
	v.CanComment = canProduct(v.User, p, northstar.ActionComment)
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	comments, err := web.app.Comments(ctx, kind, ref, max(after, 0), commentsPerPage)
	if err != nil {
		return nil, err
	}
	for _, c := range comments {
		own := c.Author != nil && v.User != nil && c.Author.ID == v.User.ID
		v.Comments = append(v.Comments, commentView{Comment: c, HTML: markMentions(renderMarkdown(c.Body)),
			CanEdit:   own && !p.ReadOnly() && time.Since(c.CreatedAt) < northstar.CommentEditTime,
			CanDelete: own || (v.User != nil && v.User.Admin)})
	}
	if len(comments) == commentsPerPage {
		v.MoreAfter = comments[len(comments)-1].ID
	}
	if v.Watching, err = web.app.Watching(ctx, kind, ref); err != nil {
		return nil, err
	}
	if err := web.loadTimeline(r, v); err != nil {
		return nil, err
	}
	return v, nil
}

// loadTimeline reads a page of the item's timeline, older than ?before.
func (web *Web) loadTimeline(r *http.Request, v *discussionView) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	acts, err := web.app.Activity(r.Context(), v.Kind, v.Ref, northstar.ActivityFilter{Before: max(before, 0), Limit: timelinePage + 1})
	if err != nil {
		return err
	}
	if len(acts) > timelinePage {
		acts = acts[:timelinePage]
		v.OlderURL = v.URL + "?before=" + strconv.FormatInt(acts[len(acts)-1].ID, 10)
	}
	for _, a := range acts {
		v.Timeline = append(v.Timeline, newEntryView(a))
	}
	return nil
}

// discussion answers the discussion block for collab.js (HX-Request), a
// page of older timeline entries (part=timeline), or the discussion as a
// page of its own.
func (web *Web) discussion(w http.ResponseWriter, r *http.Request) error {
	v, err := web.discussionView(w, r, r.PathValue("kind"), r.PathValue("ref"))
	if err != nil {
		return err
	}
	return web.renderDiscussion(w, r, http.StatusOK, v)
}

func (web *Web) renderDiscussion(w http.ResponseWriter, r *http.Request, status int, v *discussionView) error {
	if isHTMX(r) {
		if r.URL.Query().Get("part") == "timeline" {
			return web.renderPartial(w, status, "discussion", "timeline-items", v)
		}
		return web.renderPartial(w, status, "discussion", "discussion-body", v)
	}
	return web.render(w, r, status, "discussion", v)
}

// discussionDone answers a form of the discussion: the block again for
// collab.js, with the error and what was typed if it failed; without
// JavaScript a redirect to the discussion page, or that page with the
// error.
func (web *Web) discussionDone(w http.ResponseWriter, r *http.Request, kind, ref, done string, err error, keep func(*discussionView)) error {
	if err != nil && !userError(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
		return err
	}
	if err == nil && !isHTMX(r) {
		setFlash(w, done)
		http.Redirect(w, r, discussionURL(kind, ref)+"#discussion", http.StatusSeeOther)
		return nil
	}
	// The answer is the discussion as it is now: no paging.
	r.URL.RawQuery = ""
	v, verr := web.discussionView(w, r, kind, ref)
	if verr != nil {
		if err != nil {
			return err
		}
		return verr
	}
	status := http.StatusOK
	if err != nil {
		status = httpx.Status(err)
		v.Error = toFormError(err)
		if keep != nil {
			keep(v)
		}
	}
	return web.renderDiscussion(w, r, status, v)
}

func (web *Web) addComment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	kind, ref := r.PathValue("kind"), r.PathValue("ref")
	body := r.PostForm.Get("body")
	_, err := web.app.AddComment(r.Context(), kind, ref, body)
	return web.discussionDone(w, r, kind, ref, "Comment posted.", err, func(v *discussionView) { v.Draft = body })
}

func (web *Web) editComment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Comment")
	if err != nil {
		return err
	}
	body := r.PostForm.Get("body")
	kind, ref := r.PostForm.Get("kind"), r.PostForm.Get("ref")
	c, err := web.app.EditComment(r.Context(), id, body)
	if err == nil {
		kind, ref = c.ItemKind, c.ItemRef
	}
	if kind == "" || ref == "" {
		if err != nil {
			return err
		}
	}
	return web.discussionDone(w, r, kind, ref, "Comment saved.", err, func(v *discussionView) {
		// The error goes at the comment's edit form if this person has
		// one, else at the top.
		if slices.ContainsFunc(v.Comments, func(c commentView) bool { return c.ID == id && c.CanEdit }) {
			v.EditID, v.EditDraft = id, body
		}
	})
}

func (web *Web) deleteComment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Comment")
	if err != nil {
		return err
	}
	kind, ref := r.PostForm.Get("kind"), r.PostForm.Get("ref")
	err = web.app.DeleteComment(r.Context(), id)
	if kind == "" || ref == "" {
		if err != nil {
			return err
		}
		setFlash(w, "Comment deleted.")
		http.Redirect(w, r, "/products", http.StatusSeeOther)
		return nil
	}
	return web.discussionDone(w, r, kind, ref, "Comment deleted.", err, nil)
}

func (web *Web) watch(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	kind, ref := r.PathValue("kind"), r.PathValue("ref")
	on := r.PostForm.Get("watch") == "1"
	err := web.app.Watch(r.Context(), kind, ref, on)
	done := "You no longer watch " + itemName(kind, ref) + "."
	if on {
		done = "You watch " + itemName(kind, ref) + ": you will be told of its changes."
	}
	return web.discussionDone(w, r, kind, ref, done, err, nil)
}

// htmlTag and mentionText find, in sanitised HTML, the tags and the
// @mentions in the text between them (as northstar.Mentions does).
var (
	htmlTag     = regexp.MustCompile(`<[^>]*>`)
	mentionText = regexp.MustCompile(`(^|[^\w@.])(@[A-Za-z0-9._%+-]*[A-Za-z0-9_%+-](?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)`)
)

// markMentions wraps the @mentions of a rendered comment in a span, except
// in links and code. The HTML is the sanitiser's output: tags are whole,
// text is escaped, and a handle has no character that escaping changes.
func markMentions(h template.HTML) template.HTML {
	src := string(h)
	if !strings.Contains(src, "@") {
		return h
	}
	var b strings.Builder
	skip := 0 // inside <a>, <code> or <pre>
	last := 0
	text := func(t string) {
		if skip > 0 {
			b.WriteString(t)
			return
		}
		b.WriteString(mentionText.ReplaceAllString(t, `$1<span class="mention">$2</span>`))
	}
	for _, loc := range htmlTag.FindAllStringIndex(src, -1) {
		text(src[last:loc[0]])
		tag := src[loc[0]:loc[1]]
		name := ""
		if f := strings.FieldsFunc(tag, func(r rune) bool { return r == '<' || r == '>' || r == '/' || unicode.IsSpace(r) }); len(f) > 0 {
			name = strings.ToLower(f[0])
		}
		if name == "a" || name == "code" || name == "pre" {
			if strings.HasPrefix(tag, "</") {
				skip = max(skip-1, 0)
			} else {
				skip++
			}
		}
		b.WriteString(tag)
		last = loc[1]
	}
	text(src[last:])
	return template.HTML(b.String())
}

// mentionView is one person the comment box may mention.
type mentionView struct {
	Handle string `json:"handle"`
	Name   string `json:"name"`
	Email  string `json:"email"`
}

// mentions answers the comment box's autocomplete: the product's members
// but the current user whose handle, address or name starts with ?q, as
// JSON. A handle is the
// part of the address before the @, or the whole address when two members
// share that part.
func (web *Web) mentions(w http.ResponseWriter, r *http.Request) error {
	members, err := web.app.Members(r.Context(), normalizeKey(r.PathValue("key")))
	if err != nil {
		return err
	}
	q := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(r.URL.Query().Get("q")), "@"))
	locals := map[string]int{}
	for _, m := range members {
		local, _, _ := strings.Cut(strings.ToLower(m.Email), "@")
		locals[local]++
	}
	me := northstar.UserFromContext(r.Context())
	out := []mentionView{}
	for _, m := range members {
		email := strings.ToLower(m.Email)
		if me != nil && strings.EqualFold(me.Email, email) {
			continue // nobody needs to tell themselves
		}
		local, _, _ := strings.Cut(email, "@")
		handle := local
		if locals[local] > 1 {
			handle = email
		}
		match := q == "" || strings.HasPrefix(handle, q) || strings.HasPrefix(email, q)
		for _, word := range strings.Fields(strings.ToLower(m.Name)) {
			match = match || strings.HasPrefix(word, q)
		}
		if match {
			out = append(out, mentionView{Handle: handle, Name: m.Name, Email: m.Email})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		pi, pj := strings.HasPrefix(out[i].Handle, q), strings.HasPrefix(out[j].Handle, q)
		if pi != pj {
			return pi
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > 8 {
		out = out[:8]
	}
	w.Header().Set("Cache-Control", "private, max-age=30")
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// --- Notifications ---

// notificationView is one notification, written for people.
type notificationView struct {
	ID     int64
	Reason string
	Unread bool
	Entry  entryView
	At     time.Time
}

// notificationsView is the notifications page: unread first, then the
// earlier ones, a page at a time.
type notificationsView struct {
	page
	Unread   []notificationView
	Earlier  []notificationView
	UnreadN  int
	OlderURL string
	Paging   bool
}

const notificationsPage = 50

func reasonLabel(reason string) string {
	switch reason {
	case northstar.ReasonMention:
		return "Mentioned you"
	case northstar.ReasonAssigned:
		return "Assigned to you"
	case northstar.ReasonWatching:
		return "Watching"
	case northstar.ReasonStage:
		return "Product stage"
	case northstar.ReasonWebhook:
		return "Webhook"
	}
	return reason
}

func newNotificationView(n *northstar.Notification) notificationView {
	return notificationView{ID: n.ID, Reason: reasonLabel(n.Reason), Unread: n.ReadAt == nil, Entry: newEntryView(n.Activity), At: n.At}
}

func (web *Web) notifications(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v := &notificationsView{page: web.newPage(w, r, "Notifications", "notifications")}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	v.Paging = before > 0
	if !v.Paging {
		unread, n, err := web.app.Notifications(ctx, true, 0, 200)
		if err != nil {
			return err
		}
		v.UnreadN = n
		for _, x := range unread {
			v.Unread = append(v.Unread, newNotificationView(x))
		}
	}
	// The read ones, newest first, a page at a time: the unread are
	// listed above, so pages of them are skipped (a few at most).
	cursor, exhausted := max(before, 0), false
	for range 5 {
		page, n, err := web.app.Notifications(ctx, false, cursor, 100)
		if err != nil {
			return err
		}
		v.UnreadN = n
		for _, x := range page {
			cursor = x.ID
			if x.ReadAt == nil && !v.Paging {
				continue
			}
			if len(v.Earlier) == notificationsPage {
				v.OlderURL = "/notifications?before=" + strconv.FormatInt(v.Earlier[len(v.Earlier)-1].ID, 10)
				break
			}
			v.Earlier = append(v.Earlier, newNotificationView(x))
		}
		if exhausted = len(page) < 100; exhausted || v.OlderURL != "" {
			break
		}
	}
	if v.OlderURL == "" && !exhausted {
		v.OlderURL = "/notifications?before=" + strconv.FormatInt(cursor, 10)
	}
	return web.render(w, r, http.StatusOK, "notifications", v)
}

// unreadCount answers the bell: {"unread": n}, one query.
func (web *Web) unreadCount(w http.ResponseWriter, r *http.Request) error {
	n, err := web.app.UnreadCount(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]int{"unread": n})
	return nil
}

func (web *Web) markRead(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Notification")
	if err != nil {
		return err
	}
	if _, err := web.app.MarkRead(r.Context(), []int64{id}); err != nil {
		return err
	}
	if isHTMX(r) {
		// collab.js marks read as a link is followed: no page back.
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	setFlash(w, "Marked read.")
	http.Redirect(w, r, "/notifications", http.StatusSeeOther)
	return nil
}

func (web *Web) markAllRead(w http.ResponseWriter, r *http.Request) error {
	n, err := web.app.MarkRead(r.Context(), nil)
	if err != nil {
		return err
	}
	setFlash(w, plural(int(n), "notification")+" marked read.")
	redirect(w, r, "/notifications")
	return nil
}

// --- The product's activity feed ---

// activityFilterView is the feed's filter form, as sent.
type activityFilterView struct {
	Actor, Kind, Action, Since string
}

// Query returns the filter as a query string, for links.
func (f activityFilterView) Query() string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "kind": f.Kind, "action": f.Action, "since": f.Since} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// activityView is the product-wide activity feed.
type activityView struct {
	page
	Product   *northstar.Product
	Members   []*northstar.Member
	Filter    activityFilterView
	Kinds     []string
	Actions   []string
	Entries   []entryView
	OlderURL  string
	NewestURL string
	CSVURL    string
	Paging    bool
	Error     *formError
}

const activityPage = 50

// activityKinds are the kinds of item the feed can be filtered to.
var activityKinds = []string{northstar.KindProduct, northstar.KindFeature, northstar.KindStory, northstar.KindFeedback, northstar.KindSprint,
	northstar.KindRelease, northstar.KindObjective, "webhook"}

// activityActions are the actions the filter suggests.
var activityActions = []string{"created", "updated", "deleted", "commented", "comment_edited", "comment_deleted", "moved",
	"stage_changed", "strategy_updated", "started", "closed", "disabled"}

// activityFilter reads the feed's filters from the query.
func activityFilter(r *http.Request) (activityFilterView, northstar.ActivityFilter, error) {
	q := r.URL.Query()
	fv := activityFilterView{Actor: strings.TrimSpace(q.Get("actor")), Kind: strings.TrimSpace(q.Get("kind")),
		Action: strings.TrimSpace(q.Get("action")), Since: strings.TrimSpace(q.Get("since"))}
	f := northstar.ActivityFilter{Actor: fv.Actor, Kind: fv.Kind, Action: fv.Action}
	if fv.Since != "" {
		t, err := time.Parse("2006-01-02", fv.Since)
		if err != nil {
			return fv, f, northstar.FieldError("since", "since must be a date, like 2026-03-01.")
		}
		f.Since = t
	}
	for name, v := range map[string]string{"actor": fv.Actor, "kind": fv.Kind, "action": fv.Action} {
		if len(v) > 200 {
			return fv, f, northstar.FieldError(name, "%s is too long.", name)
		}
	}
	return fv, f, nil
}

func (web *Web) activityFeed(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := web.app.Product(ctx, normalizeKey(r.PathValue("key")))
	if err != nil {
		return err
	}
	v := &activityView{page: web.newPage(w, r, p.Name+" activity", "products"), Product: p, Kinds: activityKinds, Actions: activityActions}
	if v.Members, err = web.app.Members(ctx, p.Key); err != nil {
		return err
	}
	fv, f, ferr := activityFilter(r)
	v.Filter = fv
	base := "/products/" + url.PathEscape(p.Key) + "/activity"
	v.CSVURL, v.NewestURL = base+".csv", base
	if q := fv.Query(); q != "" {
		v.CSVURL += "?" + q
		v.NewestURL += "?" + q
	}
	if ferr != nil {
		v.Error = toFormError(ferr)
		return web.render(w, r, http.StatusBadRequest, "activity", v)
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	v.Paging = before > 0
	f.Before, f.Limit = max(before, 0), activityPage+1
	acts, err := web.app.Activity(ctx, "", p.Key, f)
	if err != nil {
		return err
	}
	if len(acts) > activityPage {
		acts = acts[:activityPage]
		q := fv.Query()
		if q != "" {
			q += "&"
		}
		v.OlderURL = base + "?" + q + "before=" + strconv.FormatInt(acts[len(acts)-1].ID, 10)
	}
	for _, a := range acts {
		v.Entries = append(v.Entries, newEntryView(a))
	}
	return web.render(w, r, http.StatusOK, "activity", v)
}

// csvValue writes a diff value for the CSV: text as it is, anything else
// as JSON.
func csvValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// maxCSVRows bounds an export.
const maxCSVRows = 100000

// activityCSV exports the filtered feed, one row per changed field (one
// row for entries without fields), newest first.
func (web *Web) activityCSV(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := web.app.Product(ctx, normalizeKey(r.PathValue("key")))
	if err != nil {
		return err
	}
	_, f, err := activityFilter(r)
	if err != nil {
		return err
	}
	// Read the first page before writing, so that an error is still a page.
	f.Limit = 1000
	acts, err := web.app.Activity(ctx, "", p.Key, f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-activity.csv"`, p.Key))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	// csvCell (roadmap.go) keeps spreadsheets from running cells as
	// formulas.
	write := func(rec ...string) {
		for i := range rec {
			rec[i] = csvCell(rec[i])
		}
		cw.Write(rec)
	}
	write("id", "at", "actor", "item_kind", "item", "action", "field", "old", "new")
	rows := 0
	for len(acts) > 0 && rows < maxCSVRows {
		for _, a := range acts {
			base := []string{strconv.FormatInt(a.ID, 10), a.At.UTC().Format(time.RFC3339), a.Actor, a.ItemKind, a.ItemRef, a.Action}
			if len(a.Changes) == 0 {
				write(append(slices.Clone(base), "", "", "")...)
				rows++
			}
			for _, c := range a.Changes {
				write(append(slices.Clone(base), c.Field, csvValue(c.Old), csvValue(c.New))...)
				rows++
			}
		}
		if len(acts) < f.Limit {
			break
		}
		f.Before = acts[len(acts)-1].ID
		if acts, err = web.app.Activity(ctx, "", p.Key, f); err != nil {
			// Headers are sent: the cut-off file is all we can do.
			httpx.LogError(r, err)
			break
		}
	}
	cw.Flush()
	return cw.Error()
}

// --- Webhooks ---

// webhookView is a webhook with its recent deliveries.
type webhookView struct {
	*northstar.Webhook
	Deliveries []*northstar.Delivery
	// Kinds are the event kinds chosen whole ("story.*"); Other the rest.
	Kinds map[string]bool
	All   bool
	Other string
}

// webhooksView is a product's webhook settings.
type webhooksView struct {
	page
	alerts
	Product *northstar.Product
	Hooks   []webhookView
	Kinds   []string
	// Created and Secret show a new webhook's signing secret, once.
	Created *northstar.Webhook
	Secret  string
}

// webhookKinds are the item kinds whose events a webhook can take whole.
var webhookKinds = []string{northstar.KindProduct, northstar.KindFeature, northstar.KindStory, northstar.KindFeedback, northstar.KindSprint,
	northstar.KindRelease, northstar.KindObjective}

// DeliveriesShown is how many recent deliveries the page lists per webhook.
const deliveriesShown = 20

func newWebhookView(h *northstar.Webhook) webhookView {
	v := webhookView{Webhook: h, Kinds: map[string]bool{}}
	var other []string
	for _, e := range h.Events {
		switch {
		case e == "*":
			v.All = true
		case strings.HasSuffix(e, ".*") && slices.Contains(webhookKinds, strings.TrimSuffix(e, ".*")):
			v.Kinds[strings.TrimSuffix(e, ".*")] = true
		default:
			other = append(other, e)
		}
	}
	v.Other = strings.Join(other, ", ")
	return v
}

// Blank is the new webhook form's starting point: every event.
func (v *webhooksView) Blank() webhookView {
	return webhookView{Webhook: &northstar.Webhook{}, Kinds: map[string]bool{}, All: true}
}

// SentAll reports whether a form chose every event: as sent after an
// error, else as saved.
func (v *webhooksView) SentAll(section string, saved bool) bool {
	if v.Alert != nil && v.Alert.Section == section && v.Alert.Values != nil {
		return v.Alert.Values.Get("all") == "1"
	}
	return saved
}

// SentKind reports whether a form chose a kind's events.
func (v *webhooksView) SentKind(section, kind string, saved bool) bool {
	if v.Alert != nil && v.Alert.Section == section && v.Alert.Values != nil {
		return slices.Contains(v.Alert.Values["kind"], kind)
	}
	return saved
}

func (web *Web) webhooksView(w http.ResponseWriter, r *http.Request) (*webhooksView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, normalizeKey(r.PathValue("key")))
	if err != nil {
		return nil, err
	}
	hooks, err := web.app.Webhooks(ctx, p.Key)
	if err != nil {
		return nil, err
	}
	v := &webhooksView{page: web.newPage(w, r, p.Name+" webhooks", "products"), Product: p, Kinds: webhookKinds}
	for _, h := range hooks {
		hv := newWebhookView(h)
		ds, err := web.app.Deliveries(ctx, p.Key, h.ID)
		if err != nil {
			return nil, err
		}
		if len(ds) > deliveriesShown {
			ds = ds[:deliveriesShown]
		}
		hv.Deliveries = ds
		v.Hooks = append(v.Hooks, hv)
	}
	return v, nil
}

func (web *Web) webhooks(w http.ResponseWriter, r *http.Request) error {
	v, err := web.webhooksView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "webhooks", v)
}

// webhookInput reads a webhook form: the URL, the kinds chosen whole,
// "all events", and other event types separated by commas or spaces.
func webhookInput(r *http.Request) northstar.WebhookInput {
	in := northstar.WebhookInput{URL: r.PostForm.Get("url")}
	if r.PostForm.Get("all") == "1" {
		in.Events = []string{"*"}
	} else {
		for _, k := range r.PostForm["kind"] {
			in.Events = append(in.Events, k+".*")
		}
		for _, e := range strings.FieldsFunc(r.PostForm.Get("other"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }) {
			if !slices.Contains(in.Events, e) {
				in.Events = append(in.Events, e)
			}
		}
	}
	if len(in.Events) == 0 {
		// Nothing chosen is an error, rather than Validate's "everything".
		in.Events = []string{""}
	}
	active := r.PostForm.Get("active") == "1"
	in.Active = &active
	return in
}

// webhooksDone answers a webhook form: back to the page with a flash, or
// the page with the error at the form.
func (web *Web) webhooksDone(w http.ResponseWriter, r *http.Request, section, done string, err error) error {
	if err == nil {
		setFlash(w, done)
		http.Redirect(w, r, "/products/"+normalizeKey(r.PathValue("key"))+"/webhooks#"+section, http.StatusSeeOther)
		return nil
	}
	if !formProblem(err) && northstar.ErrorField(err) == "" {
		return err
	}
	v, verr := web.webhooksView(w, r)
	if verr != nil {
		return verr
	}
	v.Alert = newAlert(r, section, err)
	return web.render(w, r, httpx.Status(err), "webhooks", v)
}

func (web *Web) createWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	r.PostForm.Set("active", "1")
	h, secret, err := web.app.CreateWebhook(r.Context(), normalizeKey(r.PathValue("key")), webhookInput(r))
	if err != nil {
		return web.webhooksDone(w, r, "new-webhook", "", err)
	}
	// The secret is shown once, on this answer; it is not kept anywhere
	// the browser could show it again.
	v, err := web.webhooksView(w, r)
	if err != nil {
		return err
	}
	v.Created, v.Secret = h, secret
	v.Flash = "Webhook added. Copy its signing secret now: it is not shown again."
	return web.render(w, r, http.StatusCreated, "webhooks", v)
}

func (web *Web) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Webhook")
	if err != nil {
		return err
	}
	_, err = web.app.UpdateWebhook(r.Context(), normalizeKey(r.PathValue("key")), id, webhookInput(r))
	return web.webhooksDone(w, r, "webhook-"+strconv.FormatInt(id, 10), "Webhook saved.", err)
}

func (web *Web) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Webhook")
	if err != nil {
		return err
	}
	err = web.app.DeleteWebhook(r.Context(), normalizeKey(r.PathValue("key")), id)
	return web.webhooksDone(w, r, "webhooks", "Webhook deleted.", err)
}

func (web *Web) redeliver(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Webhook")
	if err != nil {
		return err
	}
	delivery, err := parseID(r, "delivery", "Delivery")
	if err != nil {
		return err
	}
	err = web.app.Redeliver(r.Context(), normalizeKey(r.PathValue("key")), id, delivery)
	return web.webhooksDone(w, r, "webhook-"+strconv.FormatInt(id, 10), "Delivery queued again.", err)
}
