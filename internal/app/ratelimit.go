package app

import (
	"sync"
	"time"
)

// Login attempts allowed in a window, per account and per client address.
// The per-address limit is higher because offices share an address.
const (
	loginWindow     = 15 * time.Minute
	loginPerAccount = 10
	loginPerAddress = 50
)

// Limits on the public portal, per hour.
const (
	portalWindow          = time.Hour
	portalIdeasPerAddress = 10
	portalIdeasPerEmail   = 5
	portalCommentsPerHour = 30
	portalVotesPerAddress = 200
)

// rateLimiter counts events (failed logins, portal posts) per key in a
// sliding window. It lives in the process: with several servers each keeps
// its own count, which still bounds abuse to a small multiple of the limit.
type rateLimiter struct {
	mu       sync.Mutex
	window   time.Duration
	failures map[string][]time.Time
	now      func() time.Time
	swept    time.Time
}

func newRateLimiter(window time.Duration) *rateLimiter {
	return &rateLimiter{window: window, failures: map[string][]time.Time{}, now: time.Now}
}

func newLoginLimiter() *rateLimiter { return newRateLimiter(loginWindow) }

// allowed reports whether another attempt for key may be made now, keeping
// at most limit failures per window.
func (l *rateLimiter) allowed(key string, limit int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key)) < limit
}

// fail records an event (a failed attempt, a post) for each key.
func (l *rateLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		l.failures[k] = append(l.recent(k), now)
	}
	if now.Sub(l.swept) > l.window {
		for k := range l.failures {
			if len(l.recent(k)) == 0 {
				delete(l.failures, k)
			}
		}
		l.swept = now
	}
}

// reset forgets the failures of key, after a successful login.
func (l *rateLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recent drops failures older than the window; l.mu must be held.
func (l *rateLimiter) recent(key string) []time.Time {
	ts := l.failures[key]
	cutoff := l.now().Add(-l.window)
	i := 0
	for i < len(ts) && ts[i].Before(cutoff) {
		i++
	}
	if i > 0 {
		ts = ts[i:]
		l.failures[key] = ts
	}
	return ts
}
