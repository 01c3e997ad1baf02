package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// blocking is a handler that holds each request until release is closed,
// and says on entered when one has come in.
type blocking struct {
	entered chan string
	release chan struct{}
}

func newBlocking() *blocking {
	return &blocking{entered: make(chan string, 100), release: make(chan struct{})}
}

func (b *blocking) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.entered <- r.URL.Path
	<-b.release
	io.WriteString(w, "done")
}

// serveAsync serves one request to h in the background; the recorder
// arrives on the channel when the handler is done.
func serveAsync(h http.Handler, path string) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		done <- rec
	}()
	return done
}

func waitEntered(t *testing.T, b *blocking, n int) {
	t.Helper()
	for range n {
		select {
		case <-b.entered:
		case <-time.After(5 * time.Second):
			t.Fatal("a request did not reach the handler within 5s")
		}
	}
}

func TestLimitRefusesBeyondInFlightAndQueue(t *testing.T) {
	b := newBlocking()
	lim := newLimiter(Limits{MaxInFlight: 2, MaxQueue: 1, QueueWait: 300 * time.Millisecond}.withDefaults())
	h := lim.wrap(b)
	first, second := serveAsync(h, "/api/v1/products"), serveAsync(h, "/products")
	waitEntered(t, b, 2)

	// The third waits for a slot; the fourth finds the queue full and is
	// refused at once, with a JSON error on the API and text elsewhere.
	begin := time.Now()
	third := serveAsync(h, "/api/v1/products")
	for deadline := time.Now().Add(5 * time.Second); lim.waiting.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the third request did not start waiting within 5s")
		}
	}
	for _, path := range []string{"/api/v1/stories/BOOK-1", "/products/BOOK"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		checkOverloaded(t, rec, path)
	}
	rec := <-third
	if took := time.Since(begin); took < 250*time.Millisecond {
		t.Errorf("the queued request was refused after %s, want it to wait about 300ms", took)
	}
	checkOverloaded(t, rec, "/api/v1/products")

	close(b.release)
	for _, done := range []<-chan *httptest.ResponseRecorder{first, second} {
		if rec := <-done; rec.Code != http.StatusOK || rec.Body.String() != "done" {
			t.Errorf("admitted request: %d %q, want 200 done", rec.Code, rec.Body)
		}
	}
	// The slots are free again.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/products", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("after the load: %d, want 200", rec.Code)
	}
}

func checkOverloaded(t *testing.T, rec *httptest.ResponseRecorder, path string) {
	t.Helper()
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("%s: %d, want 503", path, rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("%s: Retry-After %q, want 1", path, got)
	}
	ct := rec.Header().Get("Content-Type")
	if strings.HasPrefix(path, "/api/") {
		var body ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "unavailable" || body.Error.Message == "" {
			t.Errorf("%s: body %q (%v), want a JSON error with code unavailable", path, rec.Body, err)
		}
		if !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q, want JSON", path, ct)
		}
	} else if !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("%s: Content-Type %q, want text/plain", path, ct)
	}
}

func TestLimitQueuedRequestGetsFreedSlot(t *testing.T) {
	b := newBlocking()
	h := Limit(Limits{MaxInFlight: 1, QueueWait: 5 * time.Second})(b)
	first := serveAsync(h, "/products")
	waitEntered(t, b, 1)
	second := serveAsync(h, "/products")
	select {
	case <-b.entered:
		t.Fatal("a second request ran while the only slot was taken")
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	for _, done := range []<-chan *httptest.ResponseRecorder{first, second} {
		if rec := <-done; rec.Code != http.StatusOK {
			t.Errorf("%d, want 200: a request that waited must get the slot freed", rec.Code)
		}
	}
}

func TestLimitLeavesHealthChecksAndStreamsOut(t *testing.T) {
	b := newBlocking()
	mux := http.NewServeMux()
	mux.Handle("/", b)
	for _, path := range []string{"/healthz", "/readyz"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	}
	streamOpen := make(chan struct{}, 1)
	endStream := make(chan struct{})
	mux.HandleFunc("/api/v1/events", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(*deadlineWriter); ok {
			t.Error("a stream got the write deadlines of ordinary requests; it sets its own")
		}
		streamOpen <- struct{}{}
		<-endStream
	})
	h := Limit(Limits{MaxInFlight: 1, QueueWait: 10 * time.Millisecond, MaxStreams: 1})(mux)

	held := serveAsync(h, "/products")
	waitEntered(t, b, 1)
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s while every slot is taken: %d, want 200", path, rec.Code)
		}
	}
	// A stream does not need an ordinary slot, but has a cap of its own.
	stream := serveAsync(h, "/api/v1/events")
	select {
	case <-streamOpen:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not open while every ordinary slot was taken")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/events", nil))
	checkOverloaded(t, rec, "/api/v1/events")

	close(endStream)
	<-stream
	close(b.release)
	<-held
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/events", nil))
	<-streamOpen
	if rec.Code != http.StatusOK {
		t.Errorf("a stream after the last one ended: %d, want 200", rec.Code)
	}
}

// TestLimitWriteDeadline checks that a client that reads nothing ends its
// own response within the write timeout, and frees its slot.
func TestLimitWriteDeadline(t *testing.T) {
	writeErr := make(chan error, 1)
	h := Limit(Limits{MaxInFlight: 1, QueueWait: 10 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/big" {
				io.WriteString(w, "small")
				return
			}
			// Far more than the kernel's socket buffers hold.
			chunk := bytes.Repeat([]byte("x"), 1<<20)
			for range 256 {
				if _, err := w.Write(chunk); err != nil {
					writeErr <- err
					return
				}
			}
			writeErr <- nil
		}))
	ts := httptest.NewServer(h)
	defer ts.Close()

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /big HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-writeErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("writing to a client that reads nothing: %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's writes to a client that reads nothing did not time out within 10s")
	}
	resp, err := http.Get(ts.URL + "/small")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the stalled response: %d, want 200 (the slot is free again)", resp.StatusCode)
	}
}

// TestLimitDeadlineNotLeftOnIdleConnection checks that a kept-alive
// connection that was idle for longer than the write timeout still
// answers: the deadline of one request must not outlive it.
func TestLimitDeadlineNotLeftOnIdleConnection(t *testing.T) {
	h := Limit(Limits{WriteTimeout: 100 * time.Millisecond})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("y"), 64<<10)) // more than the buffers before the connection
	}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	client := ts.Client()
	var reused []bool
	for i := range 2 {
		if i > 0 {
			time.Sleep(400 * time.Millisecond)
		}
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = append(reused, info.Reused) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "POST", ts.URL+"/x", strings.NewReader("{}"))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != 64<<10 || resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d, %d bytes, %v; want 200 and 64 KiB", i+1, resp.StatusCode, n, err)
		}
	}
	if len(reused) != 2 || !reused[1] {
		t.Errorf("connection reuse %v: the second request did not test a kept-alive connection", reused)
	}
}

// TestLimitMaxResponseTime checks that a response cannot go on past
// MaxResponseTime, however the client reads.
func TestLimitMaxResponseTime(t *testing.T) {
	writeErr := make(chan error, 1)
	h := Limit(Limits{WriteTimeout: 10 * time.Second, MaxResponseTime: 200 * time.Millisecond})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(400 * time.Millisecond)
			_, err := w.Write(bytes.Repeat([]byte("z"), 1<<20))
			writeErr <- err
		}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var ne net.Error
	if err := <-writeErr; !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("a write after MaxResponseTime: %v, want a timeout", err)
	}
}

func TestLimitsDefaults(t *testing.T) {
	got := Limits{MaxInFlight: 8}.withDefaults()
	want := Limits{MaxInFlight: 8, MaxQueue: 8, QueueWait: DefaultQueueWait, MaxStreams: DefaultMaxStreams,
		WriteTimeout: DefaultWriteTimeout, MaxResponseTime: DefaultMaxResponseTime}
	if got != want {
		t.Errorf("Limits{MaxInFlight: 8}.withDefaults() = %+v, want %+v", got, want)
	}
	if got := (Limits{}).withDefaults().MaxInFlight; got != DefaultMaxInFlight {
		t.Errorf("default MaxInFlight = %d, want %d", got, DefaultMaxInFlight)
	}
}
