package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar/internal/app"
)

// oidcFlags configure sign-in with an OpenID Connect provider on serve.
type oidcFlags struct {
	issuer, clientID, clientSecret, redirectURL, name, domains string
	emailClaim, nameClaim, adminGroup, groupsClaim             string
	createUsers, trustEmail, passwordsOff, allowPrivate        bool
}

func (o *oidcFlags) register(fs *flag.FlagSet, env Env) {
	fs.StringVar(&o.issuer, "oidc-issuer", envOr(env, "NORTHSTAR_OIDC_ISSUER", ""), "OpenID Connect provider's issuer URL; turns on \"Sign in with\" (env NORTHSTAR_OIDC_ISSUER)")
	fs.StringVar(&o.clientID, "oidc-client-id", envOr(env, "NORTHSTAR_OIDC_CLIENT_ID", ""), "client ID registered with the provider (env NORTHSTAR_OIDC_CLIENT_ID)")
	fs.StringVar(&o.clientSecret, "oidc-client-secret", envOr(env, "NORTHSTAR_OIDC_CLIENT_SECRET", ""), "client secret; better given in env NORTHSTAR_OIDC_CLIENT_SECRET than on the command line")
	fs.StringVar(&o.redirectURL, "oidc-redirect-url", envOr(env, "NORTHSTAR_OIDC_REDIRECT_URL", ""), "callback URL registered with the provider (env NORTHSTAR_OIDC_REDIRECT_URL; default <base-url>/login/oidc/callback)")
	fs.StringVar(&o.name, "oidc-name", envOr(env, "NORTHSTAR_OIDC_NAME", ""), "provider's name on the sign-in button (env NORTHSTAR_OIDC_NAME; default the issuer's host)")
	fs.StringVar(&o.domains, "oidc-allowed-domains", envOr(env, "NORTHSTAR_OIDC_ALLOWED_DOMAINS", ""), "comma-separated e-mail domains that may sign in; empty allows all (env NORTHSTAR_OIDC_ALLOWED_DOMAINS)")
	create, _ := strconv.ParseBool(envOr(env, "NORTHSTAR_OIDC_CREATE_USERS", "false"))
	fs.BoolVar(&o.createUsers, "oidc-create-users", create, "create an account on first sign-in for people without one; otherwise only while open sign-up is on (env NORTHSTAR_OIDC_CREATE_USERS)")
	fs.StringVar(&o.emailClaim, "oidc-email-claim", envOr(env, "NORTHSTAR_OIDC_EMAIL_CLAIM", "email"), "ID token claim holding the e-mail address (env NORTHSTAR_OIDC_EMAIL_CLAIM)")
	fs.StringVar(&o.nameClaim, "oidc-name-claim", envOr(env, "NORTHSTAR_OIDC_NAME_CLAIM", "name"), "ID token claim holding the display name (env NORTHSTAR_OIDC_NAME_CLAIM)")
	trust, _ := strconv.ParseBool(envOr(env, "NORTHSTAR_OIDC_TRUST_EMAIL", "false"))
	fs.BoolVar(&o.trustEmail, "oidc-trust-email", trust, "take the provider's addresses as verified even without email_verified, for directories that vouch for them (env NORTHSTAR_OIDC_TRUST_EMAIL)")
	off, _ := strconv.ParseBool(envOr(env, "NORTHSTAR_OIDC_PASSWORDS_OFF", "false"))
	fs.BoolVar(&o.passwordsOff, "oidc-passwords-off", off, "turn local passwords off: everyone signs in with the provider (env NORTHSTAR_OIDC_PASSWORDS_OFF)")
	allowPrivate, _ := strconv.ParseBool(envOr(env, "NORTHSTAR_OIDC_ALLOW_PRIVATE", "false"))
	fs.BoolVar(&o.allowPrivate, "oidc-allow-private", allowPrivate, "let the provider be on a loopback or private address, as a company's own Keycloak is (env NORTHSTAR_OIDC_ALLOW_PRIVATE)")
	fs.StringVar(&o.adminGroup, "oidc-admin-group", envOr(env, "NORTHSTAR_OIDC_ADMIN_GROUP", ""), "members of this provider group become org admins when they sign in (env NORTHSTAR_OIDC_ADMIN_GROUP)")
	fs.StringVar(&o.groupsClaim, "oidc-groups-claim", envOr(env, "NORTHSTAR_OIDC_GROUPS_CLAIM", "groups"), "ID token claim listing the person's groups (env NORTHSTAR_OIDC_GROUPS_CLAIM)")
}

// enable turns on OpenID Connect sign-in when an issuer is given. It tries
// discovery once so that a wrong issuer shows in the log at start, but a
// provider that is down does not stop the server: discovery is retried on
// the first sign-in.
func (o *oidcFlags) enable(ctx context.Context, a *app.App, baseURL string, log *slog.Logger) error {
	if o.issuer == "" {
		if o.passwordsOff {
			return fmt.Errorf("--oidc-passwords-off needs --oidc-issuer: nobody could sign in")
		}
		if o.clientID != "" {
			return fmt.Errorf("--oidc-client-id needs --oidc-issuer")
		}
		return nil
	}
	if o.clientID == "" {
		return fmt.Errorf("--oidc-issuer needs --oidc-client-id")
	}
	redirect := o.redirectURL
	if redirect == "" {
		redirect = strings.TrimSuffix(baseURL, "/") + "/login/oidc/callback"
	}
	name := o.name
	if name == "" {
		name = o.issuer
		if i := strings.Index(name, "://"); i >= 0 {
			name = name[i+3:]
		}
		name, _, _ = strings.Cut(name, "/")
	}
	var domains []string
	for _, d := range strings.Split(o.domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			domains = append(domains, d)
		}
	}
	oc, err := a.EnableOIDC(app.OIDCConfig{Issuer: o.issuer, ClientID: o.clientID, ClientSecret: o.clientSecret,
		RedirectURL: redirect, Name: name, AllowedDomains: domains, CreateUsers: o.createUsers, PasswordsOff: o.passwordsOff,
		EmailClaim: o.emailClaim, NameClaim: o.nameClaim, TrustEmail: o.trustEmail, AdminGroup: o.adminGroup, GroupsClaim: o.groupsClaim,
		AllowPrivate: o.allowPrivate})
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := oc.Discover(dctx); err != nil {
		log.Warn("oidc: provider not reachable yet; retried on first sign-in", "issuer", o.issuer, "err", err)
	} else {
		log.Info("oidc sign-in", "issuer", o.issuer, "redirect_url", redirect, "create_users", o.createUsers, "allowed_domains", domains)
	}
	return nil
}
