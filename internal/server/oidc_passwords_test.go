package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar/internal/app"
)

// With local passwords turned off the provider is the only way in: the
// login page has no password form, password sign-in is refused on the web
// and the API alike, and the installation's first person signs in with
// the provider and becomes its admin.
func TestOIDCPasswordsOff(t *testing.T) {
	forEachOIDCEngine(t, func(c *app.OIDCConfig) { c.PasswordsOff = true }, func(t *testing.T, e *env, p *fakeProvider) {
		page := string(e.anon().get(t, "/login").want(t, http.StatusOK).body)
		if strings.Contains(page, `type="password"`) || !strings.Contains(page, "Sign in with Fake IdP") {
			t.Errorf("the login page with passwords off:\n%s", short([]byte(page)))
		}
		p.signInAs(person{Sub: "ada-1", Email: "ada@example.com", EmailVerified: true, Name: "Ada"}, nil, nil)
		ada := e.wantSignedIn(t, e.signInOIDC(t, p, oidcAttempt{}), "ada@example.com", "/products")
		var me struct{ Admin bool }
		ada.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
		if !me.Admin {
			t.Errorf("the first person to sign in is not the admin")
		}
		e.newUser(t, "Bo", "bo@example.com")
		e.anon().post(t, "/api/v1/tokens", map[string]string{"email": "bo@example.com", "password": password, "name": "cli"}).
			want(t, http.StatusForbidden)
		res := e.anon().post(t, "/login", url.Values{"email": {"bo@example.com"}, "password": {password}})
		if res.status < 400 || !strings.Contains(string(res.body), "Passwords are turned off here") {
			t.Errorf("web password sign-in with passwords off: %d %s", res.status, short(res.body))
		}
	})
}
