package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// Chain applies middleware so that the first one listed runs first.
func Chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Recover turns a panic in a handler into a 500 and a log entry, so one bad
// request cannot take the server down.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				WriteError(w, r, northstar.Errorf(northstar.EINTERNAL, "Internal error."))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushing for
// server-sent events).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Log logs every request with its status and duration.
func Log(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			log.LogAttrs(r.Context(), slog.LevelInfo, "http",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("took", time.Since(start)))
		})
	}
}

// SecurityHeaders sets headers that close common browser attack paths. The
// content security policy allows only our own scripts and styles.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		if IsTLS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// CSRF refuses cross-origin state-changing browser requests, using the
// browser's Sec-Fetch-Site and Origin headers. Requests without them (API
// clients with tokens) pass; no route changes state on GET.
func CSRF(next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := northstar.Errorf(northstar.EFORBIDDEN, "Cross-origin request refused.")
		if WantsJSON(r) {
			WriteError(w, r, err)
			return
		}
		http.Error(w, northstar.ErrorMessage(err), http.StatusForbidden)
	}))
	return p.Handler(next)
}

// WantsJSON reports whether a request is for the JSON API.
func WantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}

// IsTLS reports whether the client reached us over TLS, directly or through
// a proxy that says so.
func IsTLS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// SessionCookie names the browser session cookie over plain HTTP (a
// development setup); over TLS the name is SecureSessionCookie, whose
// __Host- prefix makes browsers keep it only if it is Secure, on "/" and
// for this host alone, so a sibling subdomain cannot plant one.
const (
	SessionCookie       = "northstar_session"
	SecureSessionCookie = "__Host-" + SessionCookie
)

func sessionCookieName(r *http.Request) string {
	if IsTLS(r) {
		return SecureSessionCookie
	}
	return SessionCookie
}

// SessionSecret returns the secret of the request's session cookie, or "".
func SessionSecret(r *http.Request) string {
	if c, err := r.Cookie(sessionCookieName(r)); err == nil {
		return c.Value
	}
	return ""
}

// Authenticator finds the user behind a session secret or an API token.
type Authenticator interface {
	UserBySession(ctx context.Context, secret string) (*northstar.User, *northstar.Session, error)
	UserByToken(ctx context.Context, secret string) (*northstar.User, error)
}

type sessionKey struct{}

// SessionFromContext returns the browser session of the request, if any.
func SessionFromContext(ctx context.Context) *northstar.Session {
	s, _ := ctx.Value(sessionKey{}).(*northstar.Session)
	return s
}

// Authenticate puts the user of a bearer token or a session cookie in the
// request's context. A bad token is refused at once (401): a program that
// sent one expects to act as someone. A bad session cookie is dropped and
// the request goes on anonymous.
func Authenticate(auth Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if h := r.Header.Get("Authorization"); h != "" {
				scheme, token, _ := strings.Cut(h, " ")
				if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
					WriteError(w, r, northstar.Errorf(northstar.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\"."))
					return
				}
				u, err := auth.UserByToken(ctx, strings.TrimSpace(token))
				if err != nil {
					WriteError(w, r, err)
					return
				}
				noStore(w, r)
				next.ServeHTTP(w, r.WithContext(northstar.NewContextWithUser(ctx, u)))
				return
			}
			if secret := SessionSecret(r); secret != "" {
				u, s, err := auth.UserBySession(ctx, secret)
				if err == nil {
					ctx = northstar.NewContextWithUser(ctx, u)
					ctx = context.WithValue(ctx, sessionKey{}, s)
					noStore(w, r)
				} else if northstar.ErrorCode(err) == northstar.EUNAUTHORIZED {
					ClearSessionCookie(w, r)
				} else {
					WriteError(w, r, err)
					return
				}
			}
			if WantsJSON(r) {
				noStore(w, r)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// noStore keeps what a signed-in person sees, and every API answer, out
// of browser and proxy caches (a shared computer's back button, a proxy);
// a handler may still set its own policy. Static files stay cacheable.
func noStore(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		w.Header().Set("Cache-Control", "no-store")
	}
}

// SetSessionCookie starts a browser session.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, secret string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookieName(r), Value: secret, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsTLS(r),
	})
}

// ClearSessionCookie ends a browser session on the client.
func ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsTLS(r),
	})
}
