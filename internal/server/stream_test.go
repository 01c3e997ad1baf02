package server_test

// Live updates: GET /api/v1/events streams committed changes as
// server-sent events, over real HTTP, to people who may read the product,
// and ends promptly when the server shuts down.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
)

func init() {
	// The GET walk reads every answer to its end: a stream that ends at
	// once after its ready event.
	walkSeeders = append(walkSeeders, func(t *testing.T, e *env, tm *team, seed *walkSeed) {
		seed.required["/api/v1/events"] = "product=BOOK&timeout=0"
	})
}

// sseEvent is one event read from a stream.
type sseEvent struct {
	ID, Event, Data string
}

// liveEvent is the data of a change on the stream.
type liveEvent struct {
	ID      int64    `json:"id"`
	Type    string   `json:"type"`
	Product string   `json:"product"`
	Kind    string   `json:"kind"`
	Ref     string   `json:"ref"`
	Action  string   `json:"action"`
	Actor   string   `json:"actor"`
	ActorID int64    `json:"actor_id"`
	At      string   `json:"at"`
	Fields  []string `json:"fields"`
}

func (ev sseEvent) change(t *testing.T) liveEvent {
	t.Helper()
	var le liveEvent
	if err := json.Unmarshal([]byte(ev.Data), &le); err != nil {
		t.Fatalf("event %q: data %q: %v", ev.Event, ev.Data, err)
	}
	return le
}

// sseStream is an open event stream, read in the background.
type sseStream struct {
	who    string
	events chan sseEvent
	done   chan struct{} // closed when the server ends the stream
	header http.Header
}

// openStream subscribes as c to base+/api/v1/events?query and returns the
// stream, or the status and body of a refusal.
func openStream(t *testing.T, c *client, base, query string) (*sseStream, int, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.session != nil {
		req.AddCookie(&http.Cookie{Name: c.session.Name, Value: c.session.Value})
	}
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /api/v1/events?%s as %s: %v", query, c.name, err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		return nil, res.StatusCode, b
	}
	s := &sseStream{who: c.name, events: make(chan sseEvent, 100), done: make(chan struct{}), header: res.Header}
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" || ev.Data != "" {
					if ev.Event == "" {
						ev.Event = "message"
					}
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				// a comment: the heartbeat
			default:
				field, value, _ := strings.Cut(line, ":")
				value = strings.TrimPrefix(value, " ")
				switch field {
				case "id":
					ev.ID = value
				case "event":
					ev.Event = value
				case "data":
					if ev.Data != "" {
						ev.Data += "\n"
					}
					ev.Data += value
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s, http.StatusOK, nil
}

// stream opens a stream on the test's server that must be allowed, and
// waits for its ready event.
func (c *client) stream(t *testing.T, query string) *sseStream {
	t.Helper()
	s, status, body := openStream(t, c, c.env.url, query)
	if s == nil {
		t.Fatalf("GET /api/v1/events?%s as %s: %d %s", query, c.name, status, short(body))
	}
	if ct := s.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("stream Content-Type = %q", ct)
	}
	s.next(t, "the ready event", func(ev sseEvent) bool { return ev.Event == "ready" })
	return s
}

// next returns the first event that matches, failing after a few seconds
// or if the stream ends.
func (s *sseStream) next(t *testing.T, what string, match func(sseEvent) bool) sseEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if match(ev) {
				return ev
			}
		case <-s.done:
			// Events read before the end are still in the channel.
			select {
			case ev := <-s.events:
				if match(ev) {
					return ev
				}
				continue
			default:
			}
			t.Fatalf("%s's stream ended before %s", s.who, what)
		case <-timeout:
			t.Fatalf("%s's stream: no %s within 5s", s.who, what)
		}
	}
}

// changeOf matches the change event of an item.
func changeOf(t *testing.T, kind, ref string) func(sseEvent) bool {
	return func(ev sseEvent) bool {
		if ev.Event == "ready" || ev.Event == "resync" {
			return false
		}
		le := ev.change(t)
		return le.Kind == kind && le.Ref == ref
	}
}

func TestLiveEvents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		story := tm.po.createStory(t, "BOOK", "Scan a barcode")
		other := tm.po.createStory(t, "BOOK", "Print labels")
		tm.outsider.createProduct(t, "OUT", "Outside")

		// A browser (session cookie) on the backlog, a developer on one
		// story, the outsider on their own product.
		viewer := e.login(t, "viewer@example.com")
		backlog := viewer.stream(t, "product=book")
		item := tm.dev.stream(t, "product=BOOK&item=story:"+strings.ToLower(story.Ref))
		outside := tm.outsider.stream(t, "product=OUT")

		// The outsider may not follow BOOK: it is hidden, as it is
		// everywhere else.
		if s, status, body := openStream(t, tm.outsider, e.url, "product=BOOK"); s != nil || status != http.StatusNotFound {
			t.Errorf("outsider subscribing to BOOK: %d %s, want 404", status, short(body))
		}
		if s, status, _ := openStream(t, tm.outsider, e.url, "product=OUT,BOOK"); s != nil || status != http.StatusNotFound {
			t.Errorf("outsider subscribing to OUT and BOOK: %d, want 404", status)
		}

		// The product owner changes two stories through the API.
		tm.po.patch(t, "/api/v1/stories/"+other.Ref, map[string]any{"points": 3}).want(t, http.StatusOK)
		tm.po.patch(t, "/api/v1/stories/"+story.Ref, map[string]any{"title": "Scan an ISBN barcode"}).want(t, http.StatusOK)

		ev := backlog.next(t, "the change of "+story.Ref, changeOf(t, "story", story.Ref))
		le := ev.change(t)
		if ev.Event != "updated" || le.Action != "updated" || le.Type != "story.updated" || le.Product != "BOOK" || le.Actor != "Olu Owner" || le.ActorID == 0 {
			t.Errorf("event %q = %+v", ev.Event, le)
		}
		if ev.ID != strconv.FormatInt(le.ID, 10) || le.ID == 0 {
			t.Errorf("event id %q, data id %d", ev.ID, le.ID)
		}
		if !slices.Contains(le.Fields, "title") {
			t.Errorf("fields = %v, want title among them", le.Fields)
		}
		if _, err := time.Parse(time.RFC3339Nano, le.At); err != nil {
			t.Errorf("at = %q: %v", le.At, err)
		}

		// The item stream saw only its story.
		first := item.next(t, "a change", func(ev sseEvent) bool { return ev.Event != "ready" })
		if le := first.change(t); le.Ref != story.Ref {
			t.Errorf("the stream of %s got the change of %s first", story.Ref, le.Ref)
		}

		// The outsider's stream carries OUT's changes and none of BOOK's,
		// which all came before.
		tm.outsider.patch(t, "/api/v1/products/OUT", map[string]any{"name": "Outside, renamed"}).want(t, http.StatusOK)
		outside.next(t, "the change of OUT", func(ev sseEvent) bool {
			if ev.Event == "ready" {
				return false
			}
			le := ev.change(t)
			if le.Product != "OUT" {
				t.Errorf("the outsider got an event of %s: %+v", le.Product, le)
			}
			return le.Ref == "OUT"
		})

		// A reconnecting browser is told to reload what it shows.
		re, status, body := openStreamHeaders(t, tm.dev, e.url, "product=BOOK", http.Header{"Last-Event-Id": {"7"}})
		if re == nil {
			t.Fatalf("reconnect: %d %s", status, short(body))
		}
		re.next(t, "resync after a reconnect", func(ev sseEvent) bool { return ev.Event == "resync" })
	})
}

// openStreamHeaders is openStream with extra request headers.
func openStreamHeaders(t *testing.T, c *client, base, query string, h http.Header) (*sseStream, int, []byte) {
	t.Helper()
	cp := *c
	cp.header = h
	return openStream(t, &cp, base, query)
}

func TestLiveEventsBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "BOOK", "Book inventory")
		e.anon().get(t, "/api/v1/events?product=BOOK").wantError(t, http.StatusUnauthorized, "unauthorized", "")
		admin.get(t, "/api/v1/events").wantError(t, http.StatusBadRequest, "invalid", "product")
		admin.get(t, "/api/v1/events?product=,").wantError(t, http.StatusBadRequest, "invalid", "product")
		admin.get(t, "/api/v1/events?product=BOOK&item=story").wantError(t, http.StatusBadRequest, "invalid", "item")
		admin.get(t, "/api/v1/events?product=BOOK&item=Story!:BOOK-1").wantError(t, http.StatusBadRequest, "invalid", "item")
		admin.get(t, "/api/v1/events?product=BOOK&item=story:").wantError(t, http.StatusBadRequest, "invalid", "item")
		admin.get(t, "/api/v1/events?product=BOOK&timeout=soon").wantError(t, http.StatusBadRequest, "invalid", "timeout")
		admin.get(t, "/api/v1/events?product=BOOK&timeout=-1").wantError(t, http.StatusBadRequest, "invalid", "timeout")
		admin.get(t, "/api/v1/events?product=NOPE").wantError(t, http.StatusNotFound, "not_found", "")
		keys := make([]string, 21)
		for i := range keys {
			keys[i] = "K" + strconv.Itoa(i)
		}
		admin.get(t, "/api/v1/events?product="+strings.Join(keys, ",")).wantError(t, http.StatusBadRequest, "invalid", "product")
		// timeout=0 says whether the stream is allowed, and ends.
		res := admin.get(t, "/api/v1/events?product=BOOK&timeout=0").want(t, http.StatusOK)
		if !strings.Contains(string(res.body), "event: ready\ndata: {\"products\":[\"BOOK\"]}\n\n") {
			t.Errorf("timeout=0 answered %q", res.body)
		}
	})
}

// One account may hold at most 64 streams, so that it cannot take the
// server's whole allowance; others are not held back by it.
func TestLiveEventsPerAccountCap(t *testing.T) {
	e := newEnv(t, store.SQLite)
	admin := e.signUpAdmin(t)
	admin.createProduct(t, "BOOK", "Book inventory")
	for range 64 {
		admin.stream(t, "product=BOOK")
	}
	_, status, body := openStream(t, admin, e.url, "product=BOOK")
	if status != http.StatusTooManyRequests || !strings.Contains(string(body), "rate_limited") {
		t.Errorf("the 65th stream of one account: %d %s, want 429", status, short(body))
	}
	other := e.newUser(t, "Bo", "bo@example.com")
	admin.setMember(t, "BOOK", other.email, "viewer")
	other.stream(t, "product=BOOK")
}

// Shutdown: http.Server.Shutdown waits for handlers, and a stream never
// ends by itself; StopStreams, which serve calls as shutdown begins, ends
// them so that shutdown completes at once. Streams also outlive the
// server's read timeout.
func TestLiveEventsEndOnShutdown(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "BOOK", "Book inventory")

		// A second server on the same app, as serve runs it.
		log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String()
		s, err := server.New(e.app, base, log)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: time.Second, ReadTimeout: time.Second}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close() })

		st, status, body := openStream(t, admin, base, "product=BOOK")
		if st == nil {
			t.Fatalf("stream: %d %s", status, short(body))
		}
		st.next(t, "the ready event", func(ev sseEvent) bool { return ev.Event == "ready" })
		// A stream on the test's own server, which is not stopping.
		stays := admin.stream(t, "product=BOOK")

		// Longer than the read timeout: the stream still delivers.
		time.Sleep(1500 * time.Millisecond)
		admin.patch(t, "/api/v1/products/BOOK", map[string]any{"name": "Books"}).want(t, http.StatusOK)
		st.next(t, "the product change after the read timeout", changeOf(t, "product", "BOOK"))
		stays.next(t, "the product change", changeOf(t, "product", "BOOK"))

		begin := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- srv.Shutdown(ctx) }()
		s.StopStreams()
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v after %s", err, time.Since(begin))
		}
		if took := time.Since(begin); took > 2*time.Second {
			t.Errorf("Shutdown took %s with an open stream, want it prompt", took)
		}
		select {
		case <-st.done:
		case <-time.After(2 * time.Second):
			t.Error("the stream did not end with the server")
		}
		if err := <-served; err != http.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
		t.Logf("shutdown with an open stream took %s", time.Since(begin).Round(time.Millisecond))

		// The other server's stream lives on.
		admin.patch(t, "/api/v1/products/BOOK", map[string]any{"name": "Books again"}).want(t, http.StatusOK)
		stays.next(t, "a change after the other server stopped", func(ev sseEvent) bool {
			return ev.Event == "updated" && strings.Contains(ev.Data, `"ref":"BOOK"`)
		})
	})
}
