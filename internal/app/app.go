// Package app holds Northstar's use cases: it checks permissions, applies the
// domain's rules, and runs each change in one database transaction. HTTP
// handlers and the CLI call it; it never sees a request or a response.
package app

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// App implements Northstar's use cases on top of a store.
type App struct {
	db     *store.DB
	log    *slog.Logger
	hasher *passwordHasher
	logins *rateLimiter
	portal *rateLimiter
	bus    *Bus
	wake   chan struct{} // nudges the webhook worker
	origin string        // names this app in events sent to other servers

	// Mail sends e-mail notifications; nil sends none.
	Mail *MailConfig
	// AllowPrivateWebhooks lets webhooks call loopback and private
	// addresses (for tests and trusted networks).
	AllowPrivateWebhooks bool
	// WebhookClient sends webhook deliveries; see newWebhookClient.
	WebhookClient *http.Client

	// SessionTTL is how long a browser session lasts without use (the
	// idle timeout), and SessionMaxAge how long it lasts at most however
	// much it is used (the absolute timeout); then one signs in again.
	SessionTTL    time.Duration
	SessionMaxAge time.Duration
	// InvitationTTL is how long an invitation link stays valid.
	InvitationTTL time.Duration
	// OIDC signs people in with an OpenID Connect provider; nil when none
	// is configured (see EnableOIDC).
	OIDC *OIDC
}

// New returns an App that keeps its data in db.
func New(db *store.DB, log *slog.Logger) *App {
	if log == nil {
		log = slog.Default()
	}
	logins := newLoginLimiter()
	logins.now = db.Now // the clock tests move with TravelTo
	return &App{
		db:            db,
		log:           log,
		hasher:        newPasswordHasher(),
		logins:        logins,
		portal:        newRateLimiter(portalWindow),
		bus:           newBus(),
		origin:        newOrigin(),
		wake:          make(chan struct{}, 1),
		SessionTTL:    DefaultSessionTTL,
		SessionMaxAge: DefaultSessionMaxAge,
		InvitationTTL: 14 * 24 * time.Hour,
	}
}

// Session timeouts unless configured (OWASP ASVS 3.3: idle and absolute).
const (
	DefaultSessionTTL    = 30 * time.Minute
	DefaultSessionMaxAge = 12 * time.Hour
)

// DB returns the store the app works on.
func (a *App) DB() *store.DB { return a.db }

// Ready reports whether the database answers.
func (a *App) Ready(ctx context.Context) error { return a.db.Ping(ctx) }

// SystemContext returns a context acting as the installation itself, with
// every right. The CLI uses it for administration on the server's machine.
func SystemContext(ctx context.Context) context.Context {
	return northstar.NewContextWithUser(ctx, &northstar.User{Name: "system", Admin: true})
}

// currentUser returns the signed-in user or an EUNAUTHORIZED error.
func currentUser(ctx context.Context) (*northstar.User, error) {
	u := northstar.UserFromContext(ctx)
	if u == nil || u.Disabled {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "Sign in first.")
	}
	return u, nil
}

// authorize loads a product and checks that the current user may perform
// the action on it. It is the one place where product permissions are
// enforced: a non-member learns nothing (404), a member without the right
// gets 403, and a write to a read-only product gets 422.
func authorize(ctx context.Context, tx *store.Tx, key string, action northstar.Action) (*northstar.User, *northstar.Product, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, err := tx.FindProductWithRole(ctx, key, user.ID)
	if err != nil {
		return nil, nil, err
	}
	role := p.Role
	if role == "" && !user.Admin {
		return nil, nil, northstar.Errorf(northstar.ENOTFOUND, "Product %s not found.", key)
	}
	if !northstar.Can(user.Admin, role, action) {
		return nil, nil, northstar.Errorf(northstar.EFORBIDDEN, "As %s of %s you may not %s.", role.Label(), key, action.Description())
	}
	if action.Writes() && p.ReadOnly() {
		return nil, nil, northstar.Errorf(northstar.EUNPROCESSABLE, "Product %s is retired and read-only; a product manager must move it to another stage first.", key)
	}
	return user, p, nil
}

// readProduct runs read in a read transaction on a product the current
// user may read, for the lists that need nothing else.
func readProduct[T any](ctx context.Context, a *App, key string, read func(tx *store.Tx, p *northstar.Product) (T, error)) (T, error) {
	var out T
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		out, err = read(tx, p)
		return err
	})
	return out, err
}

// authorizeOrg checks an organization-level permission.
func authorizeOrg(ctx context.Context, tx *store.Tx, action northstar.OrgAction) (*northstar.User, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var st northstar.OrgStanding
	if !user.Admin && action != northstar.OrgCreateProduct && action != northstar.OrgManageUsers {
		roles, err := tx.RolesOf(ctx, user.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			st.ManagesAProduct = st.ManagesAProduct || r == northstar.RoleProductManager
			st.GivesFeedbackSome = st.GivesFeedbackSome || northstar.Can(false, r, northstar.ActionAddFeedback)
			st.PlansSomewhere = st.PlansSomewhere || northstar.Can(false, r, northstar.ActionEditStories)
		}
	}
	if !northstar.CanOrg(user, st, action) {
		return nil, northstar.Errorf(northstar.EFORBIDDEN, "You may not %s.", action.Description())
	}
	return user, nil
}

func validUTF8(s string) bool { return utf8.ValidString(s) }

// checkFinite refuses NaN and infinities, which JSON cannot carry but
// forms can.
func checkFinite(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return northstar.FieldError(field, "%s must be a finite number.", field)
	}
	return nil
}

// asErr is errors.As for application errors.
func asErr(err error, target **northstar.Error) bool { return errors.As(err, target) }
