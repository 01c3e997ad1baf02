package httpx

// Overload protection. A server that takes on every request it is sent
// slows down for everyone once it is offered more than it can do: each
// request waits behind all the others, clients time out and retry, and
// the work done for requests nobody waits for any more is lost. Limit
// lets a fixed number of ordinary requests run at once, makes the next
// ones wait a short while for a slot, and answers the rest at once with
// 503 and Retry-After, which costs little; what it admits waits at most
// for a slot and for the others in flight, however large the surge.
//
// Event streams are long-lived by design and would hold a slot each for
// hours, so they have a cap of their own. Health checks are never
// refused: a busy server is not a dead one, and a load balancer that took
// it out of rotation would only move its load onto the others.

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// Defaults of Limits' fields.
const (
	// DefaultMaxInFlight is enough to keep the database and the
	// processors busy on a small server; beyond it requests only wait
	// longer for the same throughput.
	DefaultMaxInFlight = 64
	// DefaultQueueWait is short: a request that cannot start soon is
	// better refused at once, while the client can still retry.
	DefaultQueueWait = 200 * time.Millisecond
	// DefaultMaxStreams is above the thousand open pages the event
	// stream's fan-out is measured with.
	DefaultMaxStreams = 4096
	// DefaultWriteTimeout bounds a write to a client that reads slowly or
	// not at all.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultMaxResponseTime bounds the whole response of an ordinary
	// request (a large export to a slow client).
	DefaultMaxResponseTime = 10 * time.Minute
)

// Paths that Limit treats apart: the live-update stream of the API, and
// the health checks of the server.
const (
	streamPath = "/api/v1/events"
	healthPath = "/healthz"
	readyPath  = "/readyz"
)

// Limits bounds the work the server takes on at once. Zero fields take
// the defaults above.
type Limits struct {
	// MaxInFlight is how many ordinary requests are handled at once.
	MaxInFlight int
	// MaxQueue is how many requests may wait for a slot; the default is
	// MaxInFlight.
	MaxQueue int
	// QueueWait is how long a request waits for a slot before it is
	// refused.
	QueueWait time.Duration
	// MaxStreams is how many event streams may be open at once.
	MaxStreams int
	// WriteTimeout is how long a response may go without progress: each
	// write to the client must end within it.
	WriteTimeout time.Duration
	// MaxResponseTime bounds an ordinary response from the moment its
	// handler starts, however steadily the client reads.
	MaxResponseTime time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = DefaultMaxInFlight
	}
	if l.MaxQueue <= 0 {
		l.MaxQueue = l.MaxInFlight
	}
	if l.QueueWait <= 0 {
		l.QueueWait = DefaultQueueWait
	}
	if l.MaxStreams <= 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.MaxResponseTime <= 0 {
		l.MaxResponseTime = DefaultMaxResponseTime
	}
	return l
}

// Limit lets at most l.MaxInFlight ordinary requests run at once and
// answers 503 with Retry-After to those that find no slot within
// l.QueueWait; event streams count against l.MaxStreams instead, and
// health checks against nothing. Every response but a stream's gets write
// deadlines (streams set their own): a client that stops reading cannot
// hold a slot, a goroutine and a connection for ever.
func Limit(l Limits) func(http.Handler) http.Handler {
	return newLimiter(l.withDefaults()).wrap
}

// limiter holds the slots of ordinary requests and of streams.
type limiter struct {
	Limits
	slots   chan struct{}
	streams chan struct{}
	waiting atomic.Int64
}

func newLimiter(l Limits) *limiter {
	return &limiter{Limits: l, slots: make(chan struct{}, l.MaxInFlight), streams: make(chan struct{}, l.MaxStreams)}
}

// acquire takes a slot, waiting for one at most QueueWait, and reports
// whether it got one. Waiting is bounded too (MaxQueue): past it a
// request is refused at once rather than adding to a queue that cannot
// drain in time.
func (l *limiter) acquire(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	if l.waiting.Add(1) > int64(l.MaxQueue) {
		l.waiting.Add(-1)
		return false
	}
	defer l.waiting.Add(-1)
	timer := time.NewTimer(l.QueueWait)
	defer timer.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false // the client went away; nobody reads the answer
	}
}

func (l *limiter) release() { <-l.slots }

func (l *limiter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == streamPath {
			select {
			case l.streams <- struct{}{}:
				defer func() { <-l.streams }()
				next.ServeHTTP(w, r)
			default:
				overloaded(w, r)
			}
			return
		}
		dw := l.deadlines(w)
		defer dw.finish()
		if r.URL.Path == healthPath || r.URL.Path == readyPath {
			next.ServeHTTP(dw, r)
			return
		}
		if !l.acquire(r.Context()) {
			overloaded(dw, r)
			return
		}
		defer l.release()
		next.ServeHTTP(dw, r)
	})
}

// deadlines wraps w so that each write must end within WriteTimeout, and
// the whole response within MaxResponseTime.
//
// The deadline moves with each write rather than being fixed at the
// start: the time a handler spends before it writes (an import, a large
// export being built) is not the client's fault. It is set again as the
// handler returns, for what net/http still has buffered; net/http clears
// it once the response is out, so a kept-alive connection starts its next
// request without one.
func (l *limiter) deadlines(w http.ResponseWriter) *deadlineWriter {
	now := time.Now()
	dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: l.WriteTimeout, latest: now.Add(l.MaxResponseTime)}
	dw.extend(now)
	return dw
}

// deadlineWriter moves the connection's write deadline as a response
// goes out.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	latest  time.Time // the deadline never goes past this
	moved   time.Time // when extend last moved the deadline
}

// extend moves the deadline to timeout from now, at most once a second
// (a page written in many small pieces need not move it each time).
func (d *deadlineWriter) extend(now time.Time) {
	if now.Sub(d.moved) < time.Second {
		return
	}
	d.moved = now
	deadline := now.Add(d.timeout)
	if deadline.After(d.latest) {
		deadline = d.latest
	}
	// A writer without deadlines (a test's recorder) has nothing to bound.
	_ = d.rc.SetWriteDeadline(deadline)
}

// finish gives what net/http writes after the handler returns (what is
// still buffered) its own WriteTimeout.
func (d *deadlineWriter) finish() {
	d.moved = time.Time{}
	d.extend(time.Now())
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	d.extend(time.Now())
	return d.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// overloaded refuses a request the server has no room for. Retry-After
// tells well-behaved clients to come back in a second, when a slot is
// likely free again.
func overloaded(w http.ResponseWriter, r *http.Request) {
	const msg = "The server is busy; retry in a second."
	w.Header().Set("Retry-After", "1")
	if WantsJSON(r) {
		WriteJSON(w, http.StatusServiceUnavailable, ErrorBody{Error: ErrorDetail{Code: codeUnavailable, Message: msg}})
		return
	}
	http.Error(w, msg, http.StatusServiceUnavailable)
}

// codeUnavailable is the error code of a 503 answer. It is not one of the
// application's codes: the application did not fail, it was not asked.
const codeUnavailable = "unavailable"
