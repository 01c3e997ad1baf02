package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/oidc"
	"github.com/northstar-pm/northstar/internal/outbound"
	"github.com/northstar-pm/northstar/internal/store"
)

// OIDCConfig configures sign-in with an OpenID Connect provider.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, found by discovery.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this server's callback, registered with the
	// provider: <base URL>/login/oidc/callback.
	RedirectURL string
	// Name is the provider's name on the sign-in button.
	Name string
	// AllowedDomains, when not empty, limits sign-in to e-mail addresses
	// of these domains (and their subdomains are not included).
	AllowedDomains []string
	// PasswordsOff turns local passwords off: everyone signs in with the
	// provider, and password sign-in (web and API) is refused.
	PasswordsOff bool
	// CreateUsers lets a person without an account get one on first
	// sign-in. Without it, accounts are created only while the
	// organization's open sign-up setting is on.
	CreateUsers bool
	// EmailClaim and NameClaim name the ID token claims that hold the
	// e-mail address and the display name; "" means "email" and "name".
	EmailClaim, NameClaim string
	// TrustEmail takes every address the provider sends as verified, for
	// providers that vouch for their directory's addresses and send no
	// email_verified claim. Off, an address must be verified.
	TrustEmail bool
	// AdminGroup, when set, makes people whose GroupsClaim (default
	// "groups") lists it org admins when they sign in. It only grants:
	// taking admin rights away stays an admin's decision in Northstar.
	AdminGroup, GroupsClaim string
	// AllowPrivate lets the provider be on a loopback or private address
	// (a Keycloak on the company network). Off, discovery, keys and the
	// token exchange refuse such addresses, also after a redirect.
	AllowPrivate bool
	// HTTP talks to the provider; nil uses a client with a timeout that
	// keeps to AllowPrivate.
	HTTP *http.Client
	// Now replaces the clock when checking token times, for tests.
	Now func() time.Time
}

// FlowTTL is how long a person has between leaving for the provider and
// coming back.
const FlowTTL = 10 * time.Minute

// OIDC signs people in with an OpenID Connect provider. The provider is
// discovered on first use and again after a failure, so a provider that is
// down when the server starts does not stop it.
type OIDC struct {
	app *App
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
}

// EnableOIDC turns on sign-in with the provider cfg describes. It checks
// the configuration, not the provider: see Discover.
func (a *App) EnableOIDC(cfg OIDCConfig) (*OIDC, error) {
	cfg.Issuer = strings.TrimSpace(cfg.Issuer)
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("oidc: the issuer, client ID and redirect URL are required")
	}
	var domains []string
	for _, d := range cfg.AllowedDomains {
		if d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "@.")); d != "" {
			domains = append(domains, d)
		}
	}
	cfg.AllowedDomains = domains
	if cfg.Name == "" {
		cfg.Name = "single sign-on"
	}
	if cfg.EmailClaim == "" {
		cfg.EmailClaim = "email"
	}
	if cfg.NameClaim == "" {
		cfg.NameClaim = "name"
	}
	if cfg.HTTP == nil {
		allow := cfg.AllowPrivate
		cfg.HTTP = outbound.Client(func(ip net.IP) error {
			if !allow && northstar.PrivateAddress(ip) {
				return fmt.Errorf("the sign-in provider may not be reached at %s, a loopback or private address (the server's --oidc-allow-private allows it)", ip)
			}
			return nil
		}, 15*time.Second, 5)
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	o := &OIDC{app: a, cfg: cfg}
	a.OIDC = o
	return o, nil
}

// Name returns the provider's name for the sign-in button.
func (o *OIDC) Name() string { return o.cfg.Name }

// Discover reads the provider's discovery document if it has not been
// read yet.
func (o *OIDC) Discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.Discover(ctx, oidc.Config{
		Issuer: o.cfg.Issuer, ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret,
		RedirectURL: o.cfg.RedirectURL, HTTP: o.cfg.HTTP, Now: o.cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	o.provider = p
	return p, nil
}

// unavailable is what a person sees when the provider cannot be used; the
// detail goes to the log.
func (o *OIDC) unavailable(err error) error {
	o.app.log.Error("oidc sign-in", "issuer", o.cfg.Issuer, "err", err)
	return northstar.Errorf(northstar.EUNPROCESSABLE, "Sign-in with %s is not available right now; try again later or ask an admin.", o.cfg.Name)
}

// BeginSignIn starts a sign-in: it returns the provider's page to send the
// person to, and the flow's secrets, which the caller keeps in the browser
// until the person comes back.
func (o *OIDC) BeginSignIn(ctx context.Context) (string, oidc.Flow, error) {
	p, err := o.Discover(ctx)
	if err != nil {
		return "", oidc.Flow{}, o.unavailable(err)
	}
	f := oidc.NewFlow()
	return p.AuthURL(f), f, nil
}

// Callback is what the provider sent back to the redirect URL.
type Callback struct {
	State            string
	Code             string
	Error            string
	ErrorDescription string
}

// FinishSignIn completes a sign-in: the state must be the flow's, the code
// is exchanged for an ID token, which must verify and carry a verified
// e-mail address of an allowed domain. The person's account is the one
// linked to the identity, or else the one with that e-mail address (then
// linked), or else a new one when creating accounts is allowed. Disabled
// accounts are refused. Every refusal is EUNAUTHORIZED or EFORBIDDEN with
// a message for the person.
func (o *OIDC) FinishSignIn(ctx context.Context, f oidc.Flow, cb Callback) (*northstar.User, error) {
	if err := f.CheckState(cb.State); err != nil {
		return nil, refused(err)
	}
	if cb.Error != "" {
		msg := "The provider did not sign you in"
		if cb.Error == "access_denied" {
			msg = "Sign-in was cancelled or refused at the provider"
		}
		if d := printable(cb.ErrorDescription, 200); d != "" {
			msg += ": " + d
		} else if code := printable(cb.Error, 60); code != "" {
			msg += " (" + code + ")"
		}
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "%s.", strings.TrimSuffix(msg, "."))
	}
	if cb.Code == "" {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "The provider sent no sign-in code; start again.")
	}
	p, err := o.Discover(ctx)
	if err != nil {
		return nil, o.unavailable(err)
	}
	claims, err := p.Exchange(ctx, f, cb.Code)
	if err != nil {
		var re *oidc.Error
		if errors.As(err, &re) {
			o.app.log.Warn("oidc sign-in refused", "reason", re.Message)
			return nil, refused(err)
		}
		return nil, o.unavailable(err)
	}
	return o.signIn(ctx, p.Issuer(), claims)
}

// refused turns a protocol refusal into an application error.
func refused(err error) error {
	return northstar.Errorf(northstar.EUNAUTHORIZED, "%s", err.Error())
}

// printable keeps a provider's text short and free of control characters.
func printable(s string, max int) string {
	if !utf8.ValidString(s) {
		return ""
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

// claimString returns a claim that holds text, or "".
func claimString(c *oidc.Claims, name string) string {
	s, _ := c.Raw[name].(string)
	return s
}

// inGroup reports whether a claim, a list of names or one name, holds
// group.
func inGroup(c *oidc.Claims, claim, group string) bool {
	switch v := c.Raw[claim].(type) {
	case string:
		return v == group
	case []any:
		for _, g := range v {
			if g == group {
				return true
			}
		}
	}
	return false
}

// signIn applies Northstar's rules to verified claims.
func (o *OIDC) signIn(ctx context.Context, issuer string, c *oidc.Claims) (*northstar.User, error) {
	rawEmail := claimString(c, o.cfg.EmailClaim)
	if rawEmail == "" {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "The provider did not share your e-mail address; allow the \"email\" scope and try again.")
	}
	if !c.EmailVerified && !o.cfg.TrustEmail {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "Your e-mail address %s is not verified at the provider; verify it there first.", printable(rawEmail, 100))
	}
	email, err := northstar.NormalizeEmail(rawEmail)
	if err != nil || !validUTF8(c.Subject) || strings.ContainsRune(c.Subject, 0) || len(c.Subject) > 255 {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "The provider sent an e-mail address or subject Northstar cannot use.")
	}
	if len(o.cfg.AllowedDomains) > 0 {
		domain := email[strings.LastIndexByte(email, '@')+1:]
		if !slices.Contains(o.cfg.AllowedDomains, domain) {
			return nil, northstar.Errorf(northstar.EFORBIDDEN, "Accounts of %s may not sign in here; ask an admin.", domain)
		}
	}
	name := strings.TrimSpace(claimString(c, o.cfg.NameClaim))
	if name == "" {
		name = strings.TrimSpace(c.PreferredUsername)
	}
	if name == "" || !validUTF8(name) || utf8.RuneCountInString(name) > northstar.MaxNameLen {
		name = email[:strings.LastIndexByte(email, '@')]
	}

	var u *northstar.User
	err = o.app.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		u, err = tx.FindUserByIdentity(ctx, issuer, c.Subject)
		linked := err == nil
		if err != nil && !isNotFound(err) {
			return err
		}
		if !linked {
			// The account with the verified address, linked below so
			// that a later change of address at the provider keeps it.
			if u, _, err = tx.FindUserByEmail(ctx, email); err != nil && !isNotFound(err) {
				return err
			}
			if u == nil {
				if u, err = o.createUser(ctx, tx, email, name); err != nil {
					return err
				}
			}
		}
		if u.Disabled {
			return nil // refused below; link nothing
		}
		if o.cfg.AdminGroup != "" && !u.Admin && inGroup(c, o.cfg.GroupsClaim, o.cfg.AdminGroup) {
			u.Admin = true
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			o.app.log.Info("oidc: org admin by group", "email", u.Email, "group", o.cfg.AdminGroup)
		}
		if linked {
			return nil
		}
		return tx.LinkIdentity(ctx, issuer, c.Subject, u.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("oidc sign-in %s: %w", email, err)
	}
	if u.Disabled {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "This account is disabled; ask an admin.")
	}
	return u, nil
}

// createUser creates the account of a person signing in for the first
// time, if allowed: by configuration, by open sign-up, or because the
// installation has no account yet (the first becomes admin, as with
// sign-up). The account has no password: it can sign in only through the
// provider until someone sets one.
func (o *OIDC) createUser(ctx context.Context, tx *store.Tx, email, name string) (*northstar.User, error) {
	n, err := tx.CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	if !o.cfg.CreateUsers && n > 0 {
		open, err := tx.Setting(ctx, settingOpenSignup, "false")
		if err != nil {
			return nil, err
		}
		if open != "true" {
			return nil, northstar.Errorf(northstar.EFORBIDDEN, "There is no Northstar account for %s; ask an admin to invite you.", email)
		}
	}
	u := &northstar.User{Email: email, Name: name, Admin: n == 0}
	if err := tx.CreateUser(ctx, u, ""); err != nil {
		if store.IsDuplicate(err) {
			return nil, northstar.Errorf(northstar.ECONFLICT, "An account with email %s already exists.", email)
		}
		return nil, err
	}
	o.app.log.Info("oidc: account created on first sign-in", "email", email)
	return u, nil
}

// PasswordsOff reports whether local passwords are turned off, so that
// people sign in only with the provider.
func (o *OIDC) PasswordsOff() bool { return o != nil && o.cfg.PasswordsOff }
