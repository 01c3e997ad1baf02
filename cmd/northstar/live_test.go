//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// liveChange is the data of a change event on /api/v1/events.
type liveChange struct {
	ID      int64  `json:"id"`
	Product string `json:"product"`
	Kind    string `json:"kind"`
	Ref     string `json:"ref"`
	Action  string `json:"action"`
	Actor   string `json:"actor"`
}

// liveStream is an open event stream; changes arrive on its channel and
// it is closed when the server ends the stream.
type liveStream struct {
	changes chan liveChange
	ended   chan struct{}
}

// subscribe opens /api/v1/events?query on url with the token and waits
// for the ready event.
func subscribe(t *testing.T, url, token, query string) *liveStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/events?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s/api/v1/events: %v", url, err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		cancel()
		t.Fatalf("GET %s/api/v1/events?%s: %d", url, query, res.StatusCode)
	}
	s := &liveStream{changes: make(chan liveChange, 100), ended: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(s.ended)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
				if event == "ready" {
					close(ready)
				}
			case strings.HasPrefix(line, "data: ") && event != "ready" && event != "resync":
				var c liveChange
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &c); err == nil {
					s.changes <- c
				}
			case line == "":
				event = ""
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-s.ended
	})
	select {
	case <-ready:
	case <-s.ended:
		t.Fatalf("the stream on %s ended before it was ready", url)
	case <-time.After(10 * time.Second):
		t.Fatalf("the stream on %s sent no ready event within 10s", url)
	}
	return s
}

// await waits for the change of ref and returns how long it took.
func (s *liveStream) await(t *testing.T, where, ref string, since time.Time) time.Duration {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case c := <-s.changes:
			if c.Ref == ref {
				return time.Since(since)
			}
		case <-s.ended:
			t.Fatalf("the stream on %s ended before the change of %s", where, ref)
		case <-timeout:
			t.Fatalf("the stream on %s got no change of %s within 5s", where, ref)
		}
	}
}

// Two "northstar serve" processes on one PostgreSQL database, as behind a
// load balancer: a change made through one reaches the browsers connected
// to the other (LISTEN/NOTIFY), and both stop promptly with streams open.
func TestLiveUpdatesAcrossServers(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresEnv + " is not set: live updates across server processes need PostgreSQL (LISTEN/NOTIFY); on SQLite one process serves")
	}
	t.Parallel()
	dsn := storetest.DSN(t, store.Postgres) // a schema of this test's own
	a, urlA := serve(t, "--db", dsn)
	b, urlB := serve(t, "--db", dsn)

	// The first account, made on A, is the admin; its token works on B.
	var cr struct{ Token string }
	if code := call(t, "POST", urlA+"/api/v1/signup", "", map[string]string{"name": "Ada Admin", "email": "ada@example.com", "password": "correct horse battery"}, &cr); code != http.StatusCreated || cr.Token == "" {
		t.Fatalf("POST /api/v1/signup on A: %d", code)
	}
	if code := call(t, "POST", urlA+"/api/v1/products", cr.Token, map[string]string{"key": "BOOK", "name": "Book inventory"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/products on A: %d", code)
	}
	var story struct{ Ref string }
	if code := call(t, "POST", urlA+"/api/v1/products/BOOK/stories", cr.Token, map[string]string{"title": "Scan a barcode"}, &story); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/products/BOOK/stories on A: %d", code)
	}

	onB := subscribe(t, urlB, cr.Token, "product=BOOK")
	onA := subscribe(t, urlA, cr.Token, "product=BOOK")

	// A change on A reaches B's stream (and A's own).
	begin := time.Now()
	if code := call(t, "PATCH", urlA+"/api/v1/stories/"+story.Ref, cr.Token, map[string]any{"points": 5}, nil); code != http.StatusOK {
		t.Fatalf("PATCH /api/v1/stories/%s on A: %d", story.Ref, code)
	}
	tookB := onB.await(t, "B", story.Ref, begin)
	tookA := onA.await(t, "A", story.Ref, begin)
	t.Logf("a change made on A reached a stream on B in %s (on A in %s)", tookB.Round(time.Microsecond), tookA.Round(time.Microsecond))

	// And the other way round.
	var other struct{ Ref string }
	begin = time.Now()
	if code := call(t, "POST", urlB+"/api/v1/products/BOOK/stories", cr.Token, map[string]string{"title": "Print labels"}, &other); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/products/BOOK/stories on B: %d", code)
	}
	tookA = onA.await(t, "A", other.Ref, begin)
	onB.await(t, "B", other.Ref, begin)
	t.Logf("a change made on B reached a stream on A in %s", tookA.Round(time.Microsecond))

	// Both stop promptly although their streams are open.
	for _, p := range []*proc{a, b} {
		begin := time.Now()
		p.stop()
		if took := time.Since(begin); took > 5*time.Second {
			t.Errorf("a server with an open event stream took %s to stop", took)
		}
	}
	for name, s := range map[string]*liveStream{"A": onA, "B": onB} {
		select {
		case <-s.ended:
		case <-time.After(5 * time.Second):
			t.Errorf("the stream on %s did not end with its server", name)
		}
	}
}

// On SQLite one process serves: its streams carry its changes, and an open
// stream does not hold up shutdown (serve ends the streams as it begins).
func TestServeStopsWithOpenStream(t *testing.T) {
	t.Parallel()
	p, url := serve(t, "--data", t.TempDir())
	var cr struct{ Token string }
	if code := call(t, "POST", url+"/api/v1/signup", "", map[string]string{"name": "Ada Admin", "email": "ada@example.com", "password": "correct horse battery"}, &cr); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/signup: %d", code)
	}
	if code := call(t, "POST", url+"/api/v1/products", cr.Token, map[string]string{"key": "BOOK", "name": "Book inventory"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/products: %d", code)
	}
	s := subscribe(t, url, cr.Token, "product=BOOK")
	begin := time.Now()
	if code := call(t, "PATCH", url+"/api/v1/products/BOOK", cr.Token, map[string]string{"name": "Books"}, nil); code != http.StatusOK {
		t.Fatalf("PATCH /api/v1/products/BOOK: %d", code)
	}
	s.await(t, "the server", "BOOK", begin)

	begin = time.Now()
	p.stop()
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("serve took %s to stop with an open event stream (grace 20s)", took)
	} else {
		t.Logf("serve stopped in %s with an open event stream", took.Round(time.Millisecond))
	}
	select {
	case <-s.ended:
	case <-time.After(5 * time.Second):
		t.Error("the stream did not end with the server")
	}
	if log := p.out.String(); !strings.Contains(log, `msg="shut down cleanly"`) || strings.Contains(log, "level=ERROR") {
		t.Errorf("log after stopping with a stream open:\n%s", log)
	}
}
