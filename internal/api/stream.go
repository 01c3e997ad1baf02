package api

// Live updates: GET /api/v1/events streams the changes of one or more
// products as server-sent events, so that open pages (backlog, board,
// item pages) show other people's changes without reloading. Changes come
// from the app's bus, which every committed change reaches: on this
// process directly, and from other processes through PostgreSQL
// LISTEN/NOTIFY (App.ListenForEvents).
//
// The stream writes:
//
//	retry: 3000                     once: how long browsers wait to reconnect
//	event: ready                    once subscribed; data {"products":[…]}
//	id: <activity id>               then, per change,
//	event: <action>                 created, updated, moved, commented, …
//	                                (browsers' EventSource only hears the
//	                                names it listens for: live.js lists them)
//	data: {"product":…,"kind":…}    see streamEvent
//	event: resync                   changes were dropped (a slow client) or
//	                                missed (a reconnect): reload the data
//	: ping                          a comment every heartbeatEvery
//
// A client too slow to keep up never slows the bus: its subscription drops
// changes and the stream tells it to resync. The stream ends when the
// client goes, when ?timeout= runs out, when the user loses access to a
// product (checked with each heartbeat) or when the server stops
// (StopStreams): http.Server.Shutdown waits for handlers to return, and a
// stream would otherwise never return.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// Stream timing; tests shorten them.
var (
	// heartbeatEvery is how often an idle stream sends a comment, so that
	// proxies and load balancers keep the connection open and a dead
	// client is noticed.
	heartbeatEvery = 25 * time.Second
	// streamWriteTimeout bounds each write: a client that reads nothing
	// ends its own stream, not anyone else's.
	streamWriteTimeout = 10 * time.Second
)

// maxStreamProducts bounds the products one stream may follow.
const maxStreamProducts = 20

// maxStreamTimeout bounds ?timeout=, in seconds.
const maxStreamTimeout = 3600

// streamRoutes lists the live-update route.
func (a *API) streamRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/events", Handler: authed(a.streamEvents)},
	}
}

// streamEvent is the data of one change on the stream.
type streamEvent struct {
	ID      int64     `json:"id"`
	Type    string    `json:"type"` // kind.action, as in webhooks: "story.updated"
	Product string    `json:"product"`
	Kind    string    `json:"kind"`
	Ref     string    `json:"ref"`
	Action  string    `json:"action"`
	Actor   string    `json:"actor"`
	ActorID int64     `json:"actor_id,omitempty"`
	At      time.Time `json:"at"`
	// Fields names the fields that changed, when the change has a diff.
	Fields []string `json:"fields,omitempty"`
}

func newStreamEvent(act *northstar.Activity) streamEvent {
	ev := streamEvent{ID: act.ID, Type: act.EventType(), Product: act.ProductKey, Kind: act.ItemKind, Ref: act.ItemRef,
		Action: act.Action, Actor: act.Actor, ActorID: act.ActorID, At: act.At}
	for _, c := range act.Changes {
		ev.Fields = append(ev.Fields, c.Field)
	}
	return ev
}

// streamHub is what an API's streams share: the signal that the server is
// stopping, and the last changes written out as they go on the wire.
type streamHub struct {
	once sync.Once
	done chan struct{}
	enc  frameCache

	mu     sync.Mutex
	byUser map[int64]int // open streams per person
}

// DefaultStreamsPerUser bounds one person's open streams: a browser opens
// one per page, so this is many tabs; beyond it one account could take
// the server's whole allowance of streams (httpx.Limits.MaxStreams).
const DefaultStreamsPerUser = 64

// open counts a stream of the user, or refuses it when they have max.
func (h *streamHub) open(userID int64, max int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byUser[userID] >= max {
		return northstar.Errorf(northstar.ERATELIMITED, "You have %d live-update streams open, the most one account may have; close some pages.", max)
	}
	if h.byUser == nil {
		h.byUser = map[int64]int{}
	}
	h.byUser[userID]++
	return nil
}

// close uncounts a stream opened with open.
func (h *streamHub) close(userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byUser[userID]--; h.byUser[userID] <= 0 {
		delete(h.byUser, userID)
	}
}

// frameCache keeps the last few changes encoded: every stream gets the
// same *Activity from the bus, and a thousand streams need one encoding,
// not a thousand.
type frameCache struct {
	mu   sync.Mutex
	acts [16]*northstar.Activity
	data [16][]byte
	next int
}

// frame returns a change as it goes on the stream: its id, event and
// data lines. The bytes are shared: callers must not change them.
func (c *frameCache) frame(act *northstar.Activity) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, a := range c.acts {
		if a == act {
			return c.data[i]
		}
	}
	data, err := json.Marshal(newStreamEvent(act))
	if err != nil {
		return nil
	}
	var buf []byte
	// Changes that are not in the activity log (poker votes) have no id,
	// and must not reset the browser's Last-Event-ID.
	if act.ID > 0 {
		buf = append(buf, "id: "...)
		buf = strconv.AppendInt(buf, act.ID, 10)
		buf = append(buf, '\n')
	}
	buf = append(buf, "event: "...)
	buf = append(buf, sseField(act.Action)...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	c.acts[c.next], c.data[c.next] = act, buf
	c.next = (c.next + 1) % len(c.acts)
	return buf
}

// streamHubs holds each API's hub, weakly, so that an API that is gone
// (tests build many) takes its hub with it.
var streamHubs sync.Map // weak.Pointer[API] → *streamHub

func (a *API) streams() *streamHub {
	key := weak.Make(a)
	if h, ok := streamHubs.Load(key); ok {
		return h.(*streamHub)
	}
	h, loaded := streamHubs.LoadOrStore(key, &streamHub{done: make(chan struct{})})
	if !loaded {
		runtime.AddCleanup(a, func(k weak.Pointer[API]) { streamHubs.Delete(k) }, key)
	}
	return h.(*streamHub)
}

// StopStreams ends every event stream of this API, now and from now on:
// call it when the server begins to shut down, so that
// http.Server.Shutdown does not wait for streams that never end. Browsers
// reconnect (to another server behind the load balancer) on their own.
func (a *API) StopStreams() {
	h := a.streams()
	h.once.Do(func() { close(h.done) })
}

// streamQuery is what a stream follows.
type streamQuery struct {
	products []*northstar.Product
	kind     string // with ref: only this item's changes
	ref      string
	timeout  time.Duration // 0: until the client goes
}

func (a *API) parseStreamQuery(ctx context.Context, r *http.Request) (*streamQuery, error) {
	q := r.URL.Query()
	var keys []string
	for _, v := range q["product"] {
		for _, k := range strings.Split(v, ",") {
			k = strings.ToUpper(strings.TrimSpace(k))
			if k != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, northstar.FieldError("product", "product is required: the key of the product whose changes to stream, as in ?product=BOOK.")
	}
	if len(keys) > maxStreamProducts {
		return nil, northstar.FieldError("product", "A stream follows at most %d products.", maxStreamProducts)
	}
	sq := &streamQuery{}
	if item := strings.TrimSpace(q.Get("item")); item != "" {
		kind, ref, ok := strings.Cut(item, ":")
		kind, ref = strings.TrimSpace(kind), strings.TrimSpace(ref)
		// Kinds are not listed here: areas add their own (poker rounds).
		if !ok || !itemKind(kind) || ref == "" || len(ref) > 100 {
			return nil, northstar.FieldError("item", "item must be kind:ref, as in story:BOOK-12 or feature:BOOK-3.")
		}
		sq.kind, sq.ref = kind, ref
	}
	if s := q.Get("timeout"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxStreamTimeout {
			return nil, northstar.FieldError("timeout", "timeout must be a whole number of seconds from 0 to %d.", maxStreamTimeout)
		}
		sq.timeout = time.Duration(n) * time.Second
		if n == 0 {
			sq.timeout = -1 // answer the ready event and end
		}
	}
	// Permissions are checked here, once, with the app's own rules; the
	// heartbeat checks them again.
	for _, k := range keys {
		p, err := a.app.Product(ctx, k)
		if err != nil {
			return nil, err
		}
		sq.products = append(sq.products, p)
	}
	return sq, nil
}

// itemKind reports whether s can be an item kind: a short lower-case word.
func itemKind(s string) bool {
	if s == "" || len(s) > 30 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// accepts reports whether a change belongs on the stream.
func (sq *streamQuery) accepts(ids map[int64]bool) func(*northstar.Activity) bool {
	return func(act *northstar.Activity) bool {
		if !ids[act.ProductID] {
			return false
		}
		return sq.kind == "" || (act.ItemKind == sq.kind && strings.EqualFold(act.ItemRef, sq.ref))
	}
}

// stillAllowed checks again that the user may read every product.
func (a *API) stillAllowed(ctx context.Context, sq *streamQuery) bool {
	for _, p := range sq.products {
		if _, err := a.app.Product(ctx, p.Key); err != nil {
			switch northstar.ErrorCode(err) {
			case northstar.ENOTFOUND, northstar.EFORBIDDEN, northstar.EUNAUTHORIZED:
				return false
			}
			// Anything else (the database is away for a moment) keeps the
			// stream: the next heartbeat checks again.
		}
	}
	return true
}

func (a *API) streamEvents(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sq, err := a.parseStreamQuery(ctx, r)
	if err != nil {
		return err
	}
	hub := a.streams()
	user := northstar.UserFromContext(ctx)
	max := a.StreamsPerUser
	if max <= 0 {
		max = DefaultStreamsPerUser
	}
	if err := hub.open(user.ID, max); err != nil {
		return err
	}
	defer hub.close(user.ID)
	ids := map[int64]bool{}
	keys := make([]string, 0, len(sq.products))
	for _, p := range sq.products {
		ids[p.ID] = true
		keys = append(keys, p.Key)
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)

	// The server's ReadTimeout does not end the stream: net/http clears
	// the read deadline once the request is read (a test checks it).
	rc := http.NewResponseController(w)
	send := func(b []byte) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := w.Write(b); err != nil {
			return false
		}
		if err := rc.Flush(); err != nil {
			return false
		}
		return true
	}

	select {
	case <-hub.done:
		// The server is stopping: the browser retries, elsewhere.
		send([]byte("retry: 1000\n\n"))
		return nil
	default:
	}

	sub := a.app.Events().Subscribe(sq.accepts(ids))
	defer a.app.Events().Unsubscribe(sub)

	ready, _ := json.Marshal(map[string]any{"products": keys})
	head := "retry: 3000\n\nevent: ready\ndata: " + string(ready) + "\n\n"
	// A browser that reconnects has missed what happened meanwhile.
	if r.Header.Get("Last-Event-ID") != "" {
		head += "event: resync\ndata: {}\n\n"
	}
	if !send([]byte(head)) {
		return nil
	}

	var end <-chan time.Time
	switch {
	case sq.timeout < 0:
		return nil
	case sq.timeout > 0:
		timer := time.NewTimer(sq.timeout)
		defer timer.Stop()
		end = timer.C
	}
	heartbeat := time.NewTicker(heartbeatEvery)
	defer heartbeat.Stop()
	resync := []byte("event: resync\ndata: {}\n\n")
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hub.done:
			return nil
		case <-end:
			return nil
		case <-heartbeat.C:
			if !a.stillAllowed(ctx, sq) {
				send([]byte("event: denied\ndata: {}\n\n"))
				return nil
			}
			msg := []byte(": ping\n\n")
			if sub.Dropped() > 0 {
				msg = resync
			}
			if !send(msg) {
				return nil
			}
		case act := <-sub.C:
			frame := hub.enc.frame(act)
			if frame == nil {
				continue
			}
			msg := frame
			if sub.Dropped() > 0 {
				msg = append(append(buf[:0], resync...), frame...)
				buf = msg
			}
			if !send(msg) {
				return nil
			}
		}
	}
}

// sseField keeps a value on one line of the stream.
func sseField(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}
