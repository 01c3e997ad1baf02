package httpx

import (
	"log/slog"
	"net/http"

	"github.com/northstar-pm/northstar"
)

// Audit writes audit events to the log (message "audit"): every
// permission denial (a 403 answer) and every change an admin makes (a
// request other than GET or HEAD by an admin that succeeded). Sign-ins and
// failed sign-ins are logged by the app, which knows the account. It runs
// after Authenticate, which puts the user in the request.
func Audit(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			u := northstar.UserFromContext(r.Context())
			var event string
			switch {
			case rec.status == http.StatusForbidden:
				event = "permission_denied"
			case u != nil && u.Admin && r.Method != http.MethodGet && r.Method != http.MethodHead && rec.status < 400:
				event = "admin_action"
			default:
				return
			}
			attrs := []slog.Attr{slog.String("event", event), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.String("ip", ClientIP(r))}
			if u != nil {
				attrs = append(attrs, slog.String("user", u.Email))
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "audit", attrs...)
		})
	}
}
