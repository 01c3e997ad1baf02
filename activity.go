package northstar

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Item kinds: what comments, watches and activity entries are about.
const (
	KindProduct   = "product"
	KindStory     = "story"
	KindFeature   = "feature"
	KindFeedback  = "feedback"
	KindSprint    = "sprint"
	KindRelease   = "release"
	KindTeam      = "team"
	KindObjective = "objective"
)

// CommentKinds lists the kinds of item that take comments.
var CommentKinds = []string{KindProduct, KindFeature, KindStory, KindFeedback, KindSprint}

// Activity is one entry of the append-only log of changes: who did what
// to which item, when, with the fields that changed.
type Activity struct {
	ID         int64         `json:"id"`
	ProductKey string        `json:"product,omitempty"`
	ProductID  int64         `json:"-"`
	ItemKind   string        `json:"item_kind"`
	ItemID     int64         `json:"-"`
	ItemRef    string        `json:"item"`
	Action     string        `json:"action"`
	ActorID    int64         `json:"-"`
	Actor      string        `json:"actor"`
	Changes    []FieldChange `json:"changes"`
	At         time.Time     `json:"at"`
}

// EventType names the activity for webhooks and live updates: "story.updated".
func (a *Activity) EventType() string { return a.ItemKind + "." + a.Action }

// FieldChange is one field's change in an activity entry.
type FieldChange struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// ignoredFields are bookkeeping that changes with every write and says
// nothing to a reader of the log.
var ignoredFields = map[string]bool{
	"version": true, "updated_at": true, "updated_by": true, "created_at": true, "created_by": true,
	// Identity, not content.
	"id": true, "ref": true, "number": true, "product": true,
	// Derived from other items and recomputed on read: a change to them
	// is recorded where it happens (a story done, feedback linked).
	"computed": true, "voice_of_customer": true, "progress": true,
}

// Diff compares two values field by field through their JSON form and
// lists what changed, sorted by field. A nil before lists every field of
// after as new.
func Diff(before, after any) []FieldChange {
	b, a := asFields(before), asFields(after)
	var out []FieldChange
	for k, nv := range a {
		if ignoredFields[k] {
			continue
		}
		ov, had := b[k]
		if had && jsonEqual(ov, nv) {
			continue
		}
		if !had && before != nil && isEmpty(nv) {
			continue
		}
		if before == nil && isEmpty(nv) {
			continue
		}
		out = append(out, FieldChange{Field: k, Old: ov, New: nv})
	}
	for k, ov := range b {
		if _, ok := a[k]; !ok && !ignoredFields[k] && after != nil && !isEmpty(ov) {
			out = append(out, FieldChange{Field: k, Old: ov, New: nil})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// asFields is jsonFields for anything but a Snapshot, which it returns
// as it is.
func asFields(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return jsonFields(v)
}

func jsonFields(v any) map[string]any {
	m := map[string]any{}
	if v == nil {
		return m
	}
	b, err := json.Marshal(v)
	if err != nil {
		return m
	}
	json.Unmarshal(b, &m)
	return m
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case bool:
		return !v
	case float64:
		return v == 0
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// ActivityFilter selects entries of the log.
type ActivityFilter struct {
	ItemKind string
	ItemID   int64
	Actor    string // email
	Action   string
	Kind     string // item kind, for product-wide feeds
	Since    time.Time
	Before   int64 // id of the last entry of the previous page (newest first)
	Limit    int
}

// Limits on comments.
const (
	MaxCommentLen   = 20000
	CommentEditTime = 15 * time.Minute
	MaxMentions     = 20
)

// Comment is a Markdown comment on an item.
type Comment struct {
	ID        int64      `json:"id"`
	ItemKind  string     `json:"item_kind"`
	ItemRef   string     `json:"item"`
	Author    *UserRef   `json:"author"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	EditedAt  *time.Time `json:"edited_at"`
}

// Edited reports whether the comment was changed after it was posted.
func (c *Comment) Edited() bool { return c.EditedAt != nil }

// CheckCommentBody validates a comment's text.
func CheckCommentBody(body *string) error {
	return checkText("body", body, true, MaxCommentLen)
}

// mentionPattern finds @mentions: @name (the part of an e-mail address
// before the @) or a whole address, @name@example.com. A mention starts a
// word, so e-mail addresses in the text are not mentions.
var mentionPattern = regexp.MustCompile(`(^|[^\w@.])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)`)

// Mentions returns the handles mentioned in a text, once each, without
// the @ and without a trailing dot.
func Mentions(text string) []string {
	var out []string
	for _, m := range mentionPattern.FindAllStringSubmatch(text, -1) {
		h := strings.ToLower(strings.TrimRight(m[2], "."))
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// Notification tells a user about an activity entry that concerns them.
type Notification struct {
	ID       int64      `json:"id"`
	Reason   string     `json:"reason"`
	Activity *Activity  `json:"activity"`
	ReadAt   *time.Time `json:"read_at"`
	At       time.Time  `json:"at"`
}

// Notification reasons.
const (
	ReasonMention  = "mention"
	ReasonAssigned = "assigned"
	ReasonWatching = "watching"
	ReasonStage    = "stage"
	ReasonWebhook  = "webhook"
)

// Webhook sends a product's events to a URL.
type Webhook struct {
	ID             int64     `json:"id"`
	ProductKey     string    `json:"product"`
	ProductID      int64     `json:"-"`
	URL            string    `json:"url"`
	Secret         string    `json:"-"`
	Events         []string  `json:"events"` // event types, or "*" for all
	Active         bool      `json:"active"`
	Failures       int       `json:"failures"`
	DisabledReason string    `json:"disabled_reason"`
	CreatedAt      time.Time `json:"created_at"`
}

// Wants reports whether the webhook takes an event type.
func (w *Webhook) Wants(event string) bool {
	for _, e := range w.Events {
		if e == "*" || e == event || (strings.HasSuffix(e, ".*") && strings.HasPrefix(event, strings.TrimSuffix(e, "*"))) {
			return true
		}
	}
	return false
}

// WebhookInput is the input for creating or changing a webhook.
type WebhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Active *bool    `json:"active"`
}

var eventPattern = regexp.MustCompile(`^(\*|[a-z_]+\.(\*|[a-z_]+))$`)

// Validate checks the URL's form and the event types. Whether the address
// may be reached is checked when it is resolved (see CheckWebhookAddress).
func (in *WebhookInput) Validate() error {
	in.URL = strings.TrimSpace(in.URL)
	if in.URL == "" {
		return FieldError("url", "url is required.")
	}
	if len(in.URL) > 2000 {
		return FieldError("url", "url is too long (at most 2000 characters).")
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return FieldError("url", "url must be an http or https address without credentials, like https://example.com/hooks/northstar.")
	}
	if len(in.Events) == 0 {
		in.Events = []string{"*"}
	}
	if len(in.Events) > 50 {
		return FieldError("events", "at most 50 event types.")
	}
	for _, e := range in.Events {
		if !eventPattern.MatchString(e) {
			return FieldError("events", "event type %q is not like story.updated, story.* or *.", e)
		}
	}
	return nil
}

// CheckWebhookAddress refuses addresses that would let a webhook reach
// the server itself or the network behind it, unless an admin allows
// private addresses.
func CheckWebhookAddress(ip net.IP, allowPrivate bool) error {
	if allowPrivate || !PrivateAddress(ip) {
		return nil
	}
	return &Error{Code: EUNPROCESSABLE, Field: "url", Message: fmt.Sprintf("Webhooks may not call %s, a loopback or private address; an admin can allow private addresses.", ip)}
}

// PrivateAddress reports whether ip is the server's own, or on the
// network behind it rather than the internet: loopback, private,
// link-local (cloud metadata), unspecified, multicast, carrier-grade NAT
// and IPv6 unique-local addresses. Calls out of Northstar refuse them.
func PrivateAddress(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return true
	}
	// Ranges the checks above may miss on older definitions.
	for _, n := range alsoPrivate {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

var alsoPrivate = func() []*net.IPNet {
	var nets []*net.IPNet
	for _, cidr := range []string{"100.64.0.0/10", "fc00::/7", "0.0.0.0/8"} {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			panic(err)
		}
		nets = append(nets, n)
	}
	return nets
}()

// Delivery is one attempt history of sending an event to a webhook.
type Delivery struct {
	ID           int64      `json:"id"`
	Event        string     `json:"event"`
	Status       string     `json:"status"`
	Attempts     int        `json:"attempts"`
	ResponseCode *int       `json:"response_code"`
	Error        string     `json:"error"`
	CreatedAt    time.Time  `json:"created_at"`
	DeliveredAt  *time.Time `json:"delivered_at"`
	NextAttempt  time.Time  `json:"next_attempt"`
}

// Snapshot copies a value's fields through JSON, so that a value about to
// change can be compared with what it becomes (see Diff).
func Snapshot(v any) map[string]any { return jsonFields(v) }
