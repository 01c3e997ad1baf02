package server_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

// Sign-up: the first account becomes admin and its token works at once;
// after that sign-up needs an invitation unless an admin opens it.
func TestSignUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		var first credentials
		e.anon().post(t, "/api/v1/signup", map[string]string{"name": "Ada Admin", "email": "Ada@Example.com", "password": password}).
			want(t, http.StatusCreated).decode(t, &first)
		if !first.User.Admin {
			t.Errorf("first user: admin = false, want true")
		}
		if first.User.Email != "ada@example.com" {
			t.Errorf("first user: email = %q, want it lower-cased to %q", first.User.Email, "ada@example.com")
		}
		if !strings.HasPrefix(first.Token, "ns_") {
			t.Errorf("token = %q, want the ns_ prefix", first.Token)
		}
		admin := &client{env: e, name: "Ada", token: first.Token}
		var me user
		admin.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
		if me.Email != "ada@example.com" || !me.Admin {
			t.Errorf("GET /me = %+v, want ada@example.com, admin", me)
		}

		bob := map[string]string{"name": "Bob", "email": "bob@example.com", "password": password}
		before := e.snapshot(t)
		e.anon().post(t, "/api/v1/signup", bob).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		e.wantUnchanged(t, before, "refused sign-up")

		// Only an admin may open sign-up.
		var s struct {
			OpenSignup bool `json:"open_signup"`
		}
		admin.get(t, "/api/v1/settings").want(t, http.StatusOK).decode(t, &s)
		if s.OpenSignup {
			t.Errorf("open_signup = true on a new installation, want false")
		}
		admin.patch(t, "/api/v1/settings", map[string]bool{"open_signup": true}).want(t, http.StatusOK).decode(t, &s)
		if !s.OpenSignup {
			t.Errorf("after PATCH open_signup=true: open_signup = false")
		}

		var second credentials
		e.anon().post(t, "/api/v1/signup", bob).want(t, http.StatusCreated).decode(t, &second)
		if second.User.Admin {
			t.Errorf("second user: admin = true, want false")
		}
		bobc := &client{env: e, name: "Bob", token: second.Token}
		bobc.get(t, "/api/v1/me").want(t, http.StatusOK)
		bobc.patch(t, "/api/v1/settings", map[string]bool{"open_signup": false}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")

		// The same address twice is a conflict on the email field.
		e.anon().post(t, "/api/v1/signup", map[string]string{"name": "Bob 2", "email": "BOB@example.com", "password": password}).
			wantError(t, http.StatusConflict, northstar.ECONFLICT, "email")
	})
}

// Invitations: the link carries the secret; signing up with it uses the
// invitation's address and role, and works only once.
func TestInvitationSignUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "BOOK", "Book inventory")

		var inv invitation
		admin.post(t, "/api/v1/invitations", map[string]string{"email": "Carol@Example.com", "product": "book", "role": "product_owner"}).
			want(t, http.StatusCreated).decode(t, &inv)
		if inv.Email != "carol@example.com" || inv.Product != "BOOK" || inv.Role != "product_owner" {
			t.Errorf("invitation = %+v, want carol@example.com, BOOK, product_owner", inv)
		}
		prefix := e.url + "/invitations/"
		if !strings.HasPrefix(inv.URL, prefix) || len(inv.URL) <= len(prefix) {
			t.Fatalf("invitation url = %q, want %s<secret>", inv.URL, prefix)
		}
		secret := strings.TrimPrefix(inv.URL, prefix)

		invs := list[invitation](t, admin, "/api/v1/invitations")
		if len(invs) != 1 || invs[0].Email != "carol@example.com" {
			t.Errorf("GET /invitations = %+v, want carol's", invs)
		}
		if strings.Contains(string(admin.get(t, "/api/v1/invitations").body), secret) {
			t.Errorf("GET /invitations shows the invitation secret")
		}

		// The address in the body is ignored: the invitation decides it.
		var cr credentials
		e.anon().post(t, "/api/v1/signup", map[string]string{"name": "Carol", "email": "mallory@example.com", "password": password, "invitation": secret}).
			want(t, http.StatusCreated).decode(t, &cr)
		if cr.User.Email != "carol@example.com" || cr.User.Admin {
			t.Errorf("signed up as %+v, want carol@example.com, not admin", cr.User)
		}
		carol := &client{env: e, name: "Carol", email: "carol@example.com", token: cr.Token}
		if p := carol.getProduct(t, "BOOK"); p.Role != "product_owner" {
			t.Errorf("carol's role in BOOK = %q, want product_owner", p.Role)
		}
		ms := list[member](t, admin, "/api/v1/products/BOOK/members")
		if i := slices.IndexFunc(ms, func(m member) bool { return m.Email == "carol@example.com" }); i < 0 || ms[i].Role != "product_owner" {
			t.Errorf("members = %+v, want carol as product_owner", ms)
		}

		before := e.snapshot(t)
		e.anon().post(t, "/api/v1/signup", map[string]string{"name": "Carol again", "password": password, "invitation": secret}).
			wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.anon().post(t, "/api/v1/signup", map[string]string{"name": "Nobody", "password": password, "invitation": "inv_madeup"}).
			wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.wantUnchanged(t, before, "sign-up with a used or unknown invitation")

		// Someone who already has an account cannot be invited.
		admin.post(t, "/api/v1/invitations", map[string]string{"email": "carol@example.com"}).
			wantError(t, http.StatusConflict, northstar.ECONFLICT, "email")
		// A member who is not a product manager may not invite.
		carol.post(t, "/api/v1/invitations", map[string]string{"email": "dan@example.com", "product": "BOOK"}).
			wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
	})
}

// Tokens: programs sign in with e-mail and password; tokens are listed and
// revoked, and a revoked token or a disabled account is refused at once.
func TestTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		e.newUser(t, "Bob", "bob@example.com")

		var got struct {
			Token string `json:"token"`
			User  user   `json:"user"`
		}
		e.anon().post(t, "/api/v1/tokens", map[string]string{"email": "bob@example.com", "password": password, "name": "laptop"}).
			want(t, http.StatusCreated).decode(t, &got)
		if got.Token == "" || got.User.Email != "bob@example.com" {
			t.Fatalf("POST /tokens = %+v, want a token for bob", got)
		}
		bob := &client{env: e, name: "Bob", email: "bob@example.com", token: got.Token}
		bob.get(t, "/api/v1/me").want(t, http.StatusOK)

		refusals := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"wrong password", map[string]string{"email": "bob@example.com", "password": "wrong password!"}, 401, northstar.EUNAUTHORIZED, ""},
			{"unknown account", map[string]string{"email": "nobody@example.com", "password": password}, 401, northstar.EUNAUTHORIZED, ""},
			{"no email", map[string]string{"password": password}, 400, northstar.EINVALID, "email"},
			{"no password", map[string]string{"email": "bob@example.com"}, 400, northstar.EINVALID, "password"},
			{"name too long", map[string]string{"email": "bob@example.com", "password": password, "name": strings.Repeat("n", 101)}, 400, northstar.EINVALID, "name"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				e.anon().post(t, "/api/v1/tokens", tc.body).wantError(t, tc.status, tc.code, tc.field)
				e.wantUnchanged(t, before, tc.name)
			})
		}

		tokens := list[token](t, bob, "/api/v1/tokens")
		i := slices.IndexFunc(tokens, func(tk token) bool { return tk.Name == "laptop" })
		if len(tokens) != 2 || i < 0 {
			t.Fatalf("bob's tokens = %+v, want the fixture's and \"laptop\"", tokens)
		}
		if !strings.HasPrefix(got.Token, tokens[i].Prefix) || len(tokens[i].Prefix) >= len(got.Token) {
			t.Errorf("listed prefix %q: want a strict prefix of the token", tokens[i].Prefix)
		}
		if strings.Contains(string(bob.get(t, "/api/v1/tokens").body), got.Token) {
			t.Errorf("GET /tokens shows a token's secret")
		}
		laptop := tokens[i].ID

		// Someone else's token is not found, and stays valid.
		admin.delete(t, fmt.Sprintf("/api/v1/tokens/%d", laptop)).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		bob.get(t, "/api/v1/me").want(t, http.StatusOK)

		bob.delete(t, fmt.Sprintf("/api/v1/tokens/%d", laptop)).want(t, http.StatusNoContent)
		bob.get(t, "/api/v1/me").wantError(t, http.StatusUnauthorized, northstar.EUNAUTHORIZED, "")
		bob.get(t, "/api/v1/products").wantError(t, http.StatusUnauthorized, northstar.EUNAUTHORIZED, "")

		// A signed-in caller may create a token without a password.
		var more struct {
			Token string `json:"token"`
		}
		admin.post(t, "/api/v1/tokens", map[string]string{"name": "ci"}).want(t, http.StatusCreated).decode(t, &more)
		admin.withToken(more.Token).get(t, "/api/v1/me").want(t, http.StatusOK)
	})
}

// Disabling an account cuts off its tokens and sessions on the next request.
func TestDisabledUserIsRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		bob := e.newUser(t, "Bob", "bob@example.com")
		bobWeb := e.login(t, "bob@example.com")
		bob.get(t, "/api/v1/me").want(t, http.StatusOK)
		bobWeb.get(t, "/api/v1/me").want(t, http.StatusOK)

		var u user
		admin.patch(t, "/api/v1/users/bob@example.com", map[string]bool{"disabled": true}).want(t, http.StatusOK).decode(t, &u)
		if !u.Disabled {
			t.Errorf("PATCH disabled=true answered %+v", u)
		}
		bob.get(t, "/api/v1/me").wantError(t, http.StatusUnauthorized, northstar.EUNAUTHORIZED, "")
		bobWeb.get(t, "/api/v1/me").wantError(t, http.StatusUnauthorized, northstar.EUNAUTHORIZED, "")
		e.anon().post(t, "/api/v1/tokens", map[string]string{"email": "bob@example.com", "password": password}).
			wantError(t, http.StatusUnauthorized, northstar.EUNAUTHORIZED, "")

		// An admin cannot lock themselves out.
		admin.patch(t, "/api/v1/users/ada@example.com", map[string]bool{"disabled": true}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		admin.patch(t, "/api/v1/users/nobody@example.com", map[string]bool{"disabled": true}).
			wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")

		// Enabled again, the token works again; the session was ended for good.
		admin.patch(t, "/api/v1/users/bob@example.com", map[string]bool{"disabled": false}).want(t, http.StatusOK)
		bob.get(t, "/api/v1/me").want(t, http.StatusOK)
		bobWeb.get(t, "/api/v1/me").wantError(t, http.StatusUnauthorized, northstar.EUNAUTHORIZED, "")
	})
}

// Ten wrong passwords lock the account's logins for a while: 429 with
// Retry-After, even for the right password.
func TestLoginRateLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.signUpAdmin(t)
		wrong := map[string]string{"email": "ada@example.com", "password": "not the password"}
		for i := 1; i <= 10; i++ {
			e.anon().post(t, "/api/v1/tokens", wrong).wantError(t, http.StatusUnauthorized, northstar.EUNAUTHORIZED, "")
		}
		for _, body := range []map[string]string{wrong, {"email": "ada@example.com", "password": password}} {
			res := e.anon().post(t, "/api/v1/tokens", body)
			res.wantError(t, http.StatusTooManyRequests, northstar.ERATELIMITED, "")
			if ra := res.header.Get("Retry-After"); ra == "" {
				t.Errorf("%s: no Retry-After header", res.req)
			}
		}
		// The web form is limited by the same counter.
		res := e.anon().post(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {password}})
		if res.status != http.StatusTooManyRequests {
			t.Errorf("%s: got %d, want 429", res.req, res.status)
		}
		if sessionCookie(t, res) != nil {
			t.Errorf("%s: a rate-limited login set a session cookie", res.req)
		}
	})
}

// Products: create, read with ETag, and the Location of a new one.
func TestProductCreateAndRead(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		res := admin.post(t, "/api/v1/products", map[string]string{
			"key": "BOOK", "name": "Book inventory", "description": "Stock for small bookshops", "vision": "Every book *findable*.",
		}).want(t, http.StatusCreated)
		if got, want := res.header.Get("Location"), "/api/v1/products/BOOK"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
		if got, want := res.header.Get("ETag"), `"1"`; got != want {
			t.Errorf("ETag = %q, want %q", got, want)
		}
		var p product
		res.decode(t, &p)
		want := product{Key: "BOOK", Name: "Book inventory", Description: "Stock for small bookshops", Vision: "Every book *findable*.",
			Stage: "conceived", Version: 1, Role: "product_manager"}
		if p != want {
			t.Errorf("created product = %+v\nwant %+v", p, want)
		}

		for _, path := range []string{"/api/v1/products/BOOK", "/api/v1/products/book"} {
			res := admin.get(t, path).want(t, http.StatusOK)
			if got := res.header.Get("ETag"); got != `"1"` {
				t.Errorf("GET %s: ETag = %q, want \"1\"", path, got)
			}
			var got product
			res.decode(t, &got)
			if got != want {
				t.Errorf("GET %s = %+v\nwant %+v", path, got, want)
			}
		}
		admin.get(t, "/api/v1/products/NOPE").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")

		// A product may start in a later stage; its history starts there.
		var late product
		admin.post(t, "/api/v1/products", map[string]string{"key": "EBOOK", "name": "Ebooks", "stage": "development"}).
			want(t, http.StatusCreated).decode(t, &late)
		if late.Stage != "development" {
			t.Errorf("stage = %q, want development", late.Stage)
		}
	})
}

// Lists page with ?limit= and an opaque ?cursor=, in a stable order.
func TestProductListPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		for _, key := range []string{"ECHO", "ALPHA", "DELTA", "BRAVO", "CHARLIE"} {
			admin.createProduct(t, key, "Product "+key)
		}
		want := []string{"ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO"}

		for _, limit := range []int{1, 2, 3, 5, 200} {
			t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
				var keys []string
				cursor := ""
				for pages := 1; ; pages++ {
					q := url.Values{"limit": {fmt.Sprint(limit)}}
					if cursor != "" {
						q.Set("cursor", cursor)
					}
					var p page[product]
					admin.get(t, "/api/v1/products?"+q.Encode()).want(t, http.StatusOK).decode(t, &p)
					if len(p.Items) > limit {
						t.Fatalf("page %d has %d items, limit %d", pages, len(p.Items), limit)
					}
					for _, it := range p.Items {
						keys = append(keys, it.Key)
					}
					if p.NextCursor == "" {
						break
					}
					if len(p.Items) != limit {
						t.Errorf("page %d: %d items and a next_cursor; only the last page may be short", pages, len(p.Items))
					}
					if pages > len(want) {
						t.Fatalf("more than %d pages for %d products", pages, len(want))
					}
					cursor = p.NextCursor
				}
				if !slices.Equal(keys, want) {
					t.Errorf("paged keys = %v, want %v (in order, each once)", keys, want)
				}
			})
		}

		// The JSON of the last page has no next_cursor at all.
		res := admin.get(t, "/api/v1/products?limit=5").want(t, http.StatusOK)
		if strings.Contains(string(res.body), "next_cursor") {
			t.Errorf("last page: body has next_cursor: %s", short(res.body))
		}

		bad := []struct {
			query, field string
		}{
			{"limit=0", "limit"},
			{"limit=201", "limit"},
			{"limit=-1", "limit"},
			{"limit=abc", "limit"},
			{"limit=2.5", "limit"},
			{"cursor=***", "cursor"},
			{"cursor=" + strings.Repeat("QUFB", 100), "cursor"},
			{"archived=maybe", "archived"},
		}
		for _, tc := range bad {
			admin.get(t, "/api/v1/products?"+tc.query).wantError(t, http.StatusBadRequest, northstar.EINVALID, tc.field)
		}

		// Someone who belongs to no product sees an empty list, not null.
		bob := e.newUser(t, "Bob", "bob@example.com")
		res = bob.get(t, "/api/v1/products").want(t, http.StatusOK)
		if got := strings.TrimSpace(string(res.body)); got != `{"items":[]}` {
			t.Errorf("empty list = %s, want {\"items\":[]}", got)
		}
	})
}

// Updates check the version in If-Match; a stale one is a 409 and changes
// nothing.
func TestProductUpdateVersions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "BOOK", "Book inventory")

		res := admin.patch(t, "/api/v1/products/BOOK", map[string]string{"name": "Books"}, "If-Match", `"1"`).want(t, http.StatusOK)
		var p product
		res.decode(t, &p)
		if p.Version != 2 || p.Name != "Books" || res.header.Get("ETag") != `"2"` {
			t.Errorf("after PATCH: version %d, name %q, ETag %s; want 2, Books, \"2\"", p.Version, p.Name, res.header.Get("ETag"))
		}

		before := e.snapshot(t)
		admin.patch(t, "/api/v1/products/BOOK", map[string]string{"name": "Lost update"}, "If-Match", `"1"`).
			wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		admin.post(t, "/api/v1/products/BOOK/stage", map[string]string{"stage": "development"}, "If-Match", `"1"`).
			wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		for _, h := range []string{"abc", `"0"`, `"-1"`, `"1.5"`, `""x`} {
			admin.patch(t, "/api/v1/products/BOOK", map[string]string{"name": "Bad header"}, "If-Match", h).
				wantError(t, http.StatusBadRequest, northstar.EINVALID, "If-Match")
		}
		e.wantUnchanged(t, before, "stale or malformed If-Match")
		if p := admin.getProduct(t, "BOOK"); p.Name != "Books" || p.Version != 2 {
			t.Errorf("after refused updates: %+v, want name Books at version 2", p)
		}

		steps := []struct {
			ifMatch     string
			wantVersion int
		}{
			{"2", 3},     // a bare number
			{`W/"3"`, 4}, // a weak tag
			{"", 5},      // no header: not checked
			{`"5"`, 6},   // the usual form
		}
		for _, s := range steps {
			var hdr []string
			if s.ifMatch != "" {
				hdr = []string{"If-Match", s.ifMatch}
			}
			name := fmt.Sprintf("Books v%d", s.wantVersion)
			var got product
			res := admin.patch(t, "/api/v1/products/BOOK", map[string]string{"name": name}, hdr...)
			if !res.check(t, http.StatusOK) {
				continue
			}
			res.decode(t, &got)
			if got.Version != s.wantVersion || got.Name != name {
				t.Errorf("If-Match %q: version %d name %q, want %d %q", s.ifMatch, got.Version, got.Name, s.wantVersion, name)
			}
		}

		// Clearing optional text works; the name is required.
		admin.patch(t, "/api/v1/products/BOOK", map[string]string{"vision": "x"}).want(t, http.StatusOK)
		admin.patch(t, "/api/v1/products/BOOK", map[string]string{"vision": ""}).want(t, http.StatusOK).decode(t, &p)
		if p.Vision != "" {
			t.Errorf("vision after clearing = %q", p.Vision)
		}
		admin.patch(t, "/api/v1/products/BOOK", map[string]string{"name": "  "}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "name")
	})
}

// The lifecycle: forward moves, backward moves with a note, and a history
// that records each.
func TestStageChanges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "BOOK", "Book inventory")
		path := "/api/v1/products/BOOK/stage"

		if p := admin.changeStage(t, "BOOK", "growth", ""); p.Stage != "growth" || p.Version != 2 {
			t.Errorf("forward move: %+v, want growth at version 2", p)
		}

		before := e.snapshot(t)
		refused := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"backwards without a note", map[string]string{"stage": "development"}, 422, northstar.EUNPROCESSABLE, "note"},
			{"backwards with a blank note", map[string]string{"stage": "development", "note": "   "}, 422, northstar.EUNPROCESSABLE, "note"},
			{"same stage", map[string]string{"stage": "growth"}, 422, northstar.EUNPROCESSABLE, "stage"},
			{"unknown stage", map[string]string{"stage": "hype"}, 400, northstar.EINVALID, "stage"},
			{"upper-case stage", map[string]string{"stage": "GROWTH"}, 400, northstar.EINVALID, "stage"},
			{"no stage", map[string]string{"note": "why"}, 400, northstar.EINVALID, "stage"},
			{"note too long", map[string]string{"stage": "maturity", "note": strings.Repeat("n", 2001)}, 400, northstar.EINVALID, "note"},
			{"stage not a string", map[string]any{"stage": 3}, 400, northstar.EINVALID, "stage"},
		}
		for _, tc := range refused {
			admin.post(t, path, tc.body).wantError(t, tc.status, tc.code, tc.field)
		}
		e.wantUnchanged(t, before, "refused stage changes")

		admin.changeStage(t, "BOOK", "development", "Relaunch after the pilot.")
		admin.changeStage(t, "BOOK", "maturity", strings.Repeat("n", 2000))

		got := list[stageChange](t, admin, "/api/v1/products/BOOK/stages")
		want := []stageChange{
			{From: "", To: "conceived", Note: "Product created.", Actor: "Ada Admin"},
			{From: "conceived", To: "growth", Note: "", Actor: "Ada Admin"},
			{From: "growth", To: "development", Note: "Relaunch after the pilot.", Actor: "Ada Admin"},
			{From: "development", To: "maturity", Note: strings.Repeat("n", 2000), Actor: "Ada Admin"},
		}
		if len(got) != len(want) {
			t.Fatalf("history has %d entries, want %d: %+v", len(got), len(want), got)
		}
		var last time.Time
		for i := range want {
			at, err := time.Parse(time.RFC3339Nano, got[i].At)
			if err != nil || at.IsZero() {
				t.Errorf("entry %d: at = %q, want an RFC 3339 time", i, got[i].At)
			}
			if at.Before(last) {
				t.Errorf("entry %d: at %v is before the previous entry's %v", i, at, last)
			}
			last = at
			got[i].At = ""
			if got[i] != want[i] {
				t.Errorf("entry %d = %+v\nwant %+v", i, got[i], want[i])
			}
		}
		// The raw JSON has exactly the documented names.
		raw := string(admin.get(t, "/api/v1/products/BOOK/stages").body)
		for _, k := range []string{`"from"`, `"to"`, `"note"`, `"actor"`, `"at"`} {
			if !strings.Contains(raw, k) {
				t.Errorf("history JSON lacks %s: %s", k, short([]byte(raw)))
			}
		}
	})
}

// A retired product is read-only until it is moved to another stage.
func TestRetiredProductIsReadOnly(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.pm.changeStage(t, "BOOK", "retired", "")

		before := e.snapshot(t)
		tm.pm.patch(t, "/api/v1/products/BOOK", map[string]string{"name": "Renamed"}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		tm.pm.put(t, "/api/v1/products/BOOK/members/outsider@example.com", map[string]string{"role": "viewer"}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		tm.pm.delete(t, "/api/v1/products/BOOK/members/viewer@example.com").
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		tm.admin.patch(t, "/api/v1/products/BOOK", map[string]string{"vision": "Admins too"}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		tm.admin.post(t, "/api/v1/invitations", map[string]string{"email": "new@example.com", "product": "BOOK"}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		// Members without the right still get 403, not 422.
		tm.viewer.patch(t, "/api/v1/products/BOOK", map[string]string{"name": "Renamed"}).
			wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		e.wantUnchanged(t, before, "writes to a retired product")

		// Reading still works.
		tm.viewer.getProduct(t, "BOOK")
		list[stageChange](t, tm.viewer, "/api/v1/products/BOOK/stages")
		list[member](t, tm.viewer, "/api/v1/products/BOOK/members")

		// Leaving retirement is a backward move: it needs a note.
		tm.pm.post(t, "/api/v1/products/BOOK/stage", map[string]string{"stage": "decline"}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "note")
		tm.pm.changeStage(t, "BOOK", "decline", "A distributor wants it back.")
		var p product
		tm.pm.patch(t, "/api/v1/products/BOOK", map[string]string{"name": "Renamed"}).want(t, http.StatusOK).decode(t, &p)
		if p.Name != "Renamed" || p.Stage != "decline" {
			t.Errorf("after leaving retirement: %+v, want Renamed in decline", p)
		}
		tm.pm.setMember(t, "BOOK", "outsider@example.com", "viewer")
	})
}

// Archiving is allowed on a retired product; archived products leave the
// default list.
func TestArchiveProduct(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "BOOK", "Book inventory")
		admin.createProduct(t, "EBOOK", "Ebooks")
		admin.changeStage(t, "BOOK", "retired", "")
		var p product
		admin.patch(t, "/api/v1/products/BOOK", map[string]bool{"archived": true}).want(t, http.StatusOK).decode(t, &p)
		if !p.Archived {
			t.Errorf("archived = false after PATCH archived=true")
		}
		keys := func(path string) []string {
			var ks []string
			for _, p := range list[product](t, admin, path) {
				ks = append(ks, p.Key)
			}
			return ks
		}
		if got := keys("/api/v1/products"); !slices.Equal(got, []string{"EBOOK"}) {
			t.Errorf("default list = %v, want [EBOOK]", got)
		}
		if got := keys("/api/v1/products?archived=true"); !slices.Equal(got, []string{"BOOK", "EBOOK"}) {
			t.Errorf("list with archived = %v, want [BOOK EBOOK]", got)
		}
		admin.getProduct(t, "BOOK")
	})
}

// Members: roles are set by e-mail; the last product manager stays.
func TestMembers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.pm.createProduct(t, "BOOK", "Book inventory")
		path := "/api/v1/products/BOOK/members/"

		var m member
		tm.pm.put(t, path+"Dev@Example.com", map[string]string{"role": "developer"}).want(t, http.StatusOK).decode(t, &m)
		if m.Email != "dev@example.com" || m.Role != "developer" || m.Name != "Dev Eloper" {
			t.Errorf("PUT member = %+v, want dev@example.com as developer", m)
		}
		if p := tm.dev.getProduct(t, "BOOK"); p.Role != "developer" {
			t.Errorf("dev's role = %q, want developer", p.Role)
		}
		// PUT again changes the role; it does not add a second membership.
		tm.pm.setMember(t, "BOOK", "dev@example.com", "product_owner")
		ms := list[member](t, tm.pm, "/api/v1/products/BOOK/members")
		if len(ms) != 2 {
			t.Errorf("members = %+v, want pm and dev", ms)
		}
		if p := tm.dev.getProduct(t, "BOOK"); p.Role != "product_owner" {
			t.Errorf("dev's role after the change = %q, want product_owner", p.Role)
		}

		before := e.snapshot(t)
		refused := []struct {
			name           string
			method, target string
			body           any
			status         int
			code, field    string
		}{
			{"unknown role", "PUT", path + "viewer@example.com", map[string]string{"role": "boss"}, 400, northstar.EINVALID, "role"},
			{"no role", "PUT", path + "viewer@example.com", map[string]string{}, 400, northstar.EINVALID, "role"},
			{"role not a string", "PUT", path + "viewer@example.com", map[string]int{"role": 1}, 400, northstar.EINVALID, "role"},
			{"unknown email", "PUT", path + "nobody@example.com", map[string]string{"role": "viewer"}, 404, northstar.ENOTFOUND, "email"},
			{"demote the last PM", "PUT", path + "pm@example.com", map[string]string{"role": "viewer"}, 422, northstar.EUNPROCESSABLE, ""},
			{"remove the last PM", "DELETE", path + "pm@example.com", nil, 422, northstar.EUNPROCESSABLE, ""},
			{"remove a non-member", "DELETE", path + "viewer@example.com", nil, 404, northstar.ENOTFOUND, ""},
			{"unknown product", "PUT", "/api/v1/products/NOPE/members/viewer@example.com", map[string]string{"role": "viewer"}, 404, northstar.ENOTFOUND, ""},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				tm.pm.do(t, tc.method, tc.target, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		e.wantUnchanged(t, before, "refused member changes")

		// With a second PM, the first may step down and then leave.
		tm.pm.setMember(t, "BOOK", "po@example.com", "product_manager")
		tm.pm.setMember(t, "BOOK", "pm@example.com", "viewer")
		tm.po.delete(t, path+"pm@example.com").want(t, http.StatusNoContent)
		tm.pm.get(t, "/api/v1/products/BOOK").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.po.delete(t, path+"dev@example.com").want(t, http.StatusNoContent)
		tm.po.delete(t, path+"po@example.com").wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
	})
}

// Permissions through the API: every role against reads and writes. A
// non-member learns nothing (404); a member without the right gets 403;
// an admin who is not a member may do everything.
func TestPermissions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		everyone := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer}
		managers := []*client{tm.admin, tm.pm}
		actions := []struct {
			name   string
			method string
			path   string // %[1]s is the product's key
			body   any
			// allowed lists who may; members not listed get 403, and
			// the outsider gets outsider (404 when 0).
			allowed  []*client
			outsider int
		}{
			{name: "read product", method: "GET", path: "/api/v1/products/%[1]s", allowed: everyone},
			{name: "read history", method: "GET", path: "/api/v1/products/%[1]s/stages", allowed: everyone},
			{name: "read members", method: "GET", path: "/api/v1/products/%[1]s/members", allowed: everyone},
			{name: "edit product", method: "PATCH", path: "/api/v1/products/%[1]s", body: map[string]string{"vision": "New vision"}, allowed: managers},
			{name: "archive product", method: "PATCH", path: "/api/v1/products/%[1]s", body: map[string]bool{"archived": true}, allowed: managers},
			{name: "change stage", method: "POST", path: "/api/v1/products/%[1]s/stage", body: map[string]string{"stage": "development"}, allowed: managers},
			{name: "set member", method: "PUT", path: "/api/v1/products/%[1]s/members/stakeholder@example.com", body: map[string]string{"role": "viewer"}, allowed: managers},
			{name: "remove member", method: "DELETE", path: "/api/v1/products/%[1]s/members/viewer@example.com", allowed: managers},
			// Inviting is refused for the organization (the caller
			// manages no product) before the product is looked at.
			{name: "invite into product", method: "POST", path: "/api/v1/invitations", body: map[string]string{"email": "new@example.com", "product": "%[1]s"},
				allowed: managers, outsider: http.StatusForbidden},
		}
		callers := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer, tm.outsider}
		n := 0
		for _, a := range actions {
			for _, who := range callers {
				n++
				// Each row gets its own product, so writes do not
				// change what the next row sees.
				key := fmt.Sprintf("P%d", n)
				tm.product(t, key, "Product "+key)
				want := http.StatusForbidden
				switch {
				case slices.Contains(a.allowed, who):
					want = http.StatusOK
				case who == tm.outsider && a.outsider != 0:
					want = a.outsider
				case who == tm.outsider:
					want = http.StatusNotFound
				}
				t.Run(a.name+"/"+who.name, func(t *testing.T) {
					before := e.snapshot(t)
					res := who.do(t, a.method, withKey(a.path, key), withKey(a.body, key))
					if want == http.StatusOK {
						if res.status != http.StatusOK && res.status != http.StatusCreated && res.status != http.StatusNoContent {
							t.Errorf("%s: got %d, want success; body: %s", res.req, res.status, short(res.body))
						}
						return
					}
					code := map[int]string{403: northstar.EFORBIDDEN, 404: northstar.ENOTFOUND}[want]
					res.wantError(t, want, code, "")
					e.wantUnchanged(t, before, "a refused "+a.name)
				})
			}
		}

		// An admin who is not a member sees every product in the list,
		// with no role; a member sees only theirs.
		var ps []product
		ps = list[product](t, tm.admin, "/api/v1/products?archived=true&limit=200")
		if len(ps) != n {
			t.Errorf("admin lists %d products, want %d", len(ps), n)
		}
		for _, p := range ps {
			if p.Role != "" {
				t.Errorf("admin's role in %s = %q, want none", p.Key, p.Role)
				break
			}
		}
		if ps := list[product](t, tm.outsider, "/api/v1/products"); len(ps) != 0 {
			t.Errorf("outsider lists %d products, want 0", len(ps))
		}

		// Org-level rights: only admins manage users, invitations and settings.
		for _, who := range []*client{tm.pm, tm.viewer, tm.outsider} {
			who.get(t, "/api/v1/users").wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
			who.get(t, "/api/v1/invitations").wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
			who.get(t, "/api/v1/settings").wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
			who.patch(t, "/api/v1/users/viewer@example.com", map[string]bool{"admin": true}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		}
		tm.outsider.post(t, "/api/v1/invitations", map[string]string{"email": "x@example.com"}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		// Anyone signed in may create a product.
		tm.outsider.createProduct(t, "OTTO", "Otto's own")
	})
}

// Every API route but the public ones refuses an anonymous request with
// 401, and a malformed or unknown credential is a 401 everywhere.
func TestUnauthenticated(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		public := map[string]bool{
			"GET /api/v1/openapi.json": true,
			"POST /api/v1/signup":      true,
			"POST /api/v1/tokens":      true,
			// The public feedback portal.
			"GET /api/v1/portal/{key}":                      true,
			"GET /api/v1/portal/{key}/ideas/{id}":           true,
			"POST /api/v1/portal/{key}/ideas":               true,
			"POST /api/v1/portal/{key}/ideas/{id}/votes":    true,
			"POST /api/v1/portal/{key}/ideas/{id}/comments": true,
			// A shared roadmap, behind its secret link.
			"GET /api/v1/roadmaps/{secret}": true,
		}
		values := map[string]string{"key": "BOOK", "email": "viewer@example.com", "id": "1", "ref": "BOOK-1", "kr": "1", "insight": "1", "column": "1", "secret": "rm_unknown"}
		creds := []struct {
			name   string
			header []string
		}{
			{"no credentials", nil},
			{"unknown token", []string{"Authorization", "Bearer ns_notarealtoken"}},
			{"token without prefix", []string{"Authorization", "Bearer abc"}},
			{"empty bearer", []string{"Authorization", "Bearer "}},
			{"basic auth", []string{"Authorization", "Basic YWRhOnB3"}},
			{"unknown session", []string{"Cookie", "northstar_session=nope"}},
		}
		before := e.snapshot(t)
		for _, rt := range e.server.APIRoutes() {
			path := fillPattern(t, rt.Pattern, values)
			for _, cr := range creds {
				res := e.anon().do(t, rt.Method, path, "{}", cr.header...)
				if public[rt.Method+" "+rt.Pattern] && cr.header == nil {
					if res.status == http.StatusUnauthorized {
						t.Errorf("%s: public route answered 401", res.req)
					}
					continue
				}
				if public[rt.Method+" "+rt.Pattern] && cr.name == "unknown session" {
					continue // a bad cookie is dropped; the public route answers anyway
				}
				if res.status != http.StatusUnauthorized {
					t.Errorf("%s with %s: got %d, want 401; body: %s", res.req, cr.name, res.status, short(res.body))
					continue
				}
				res.wantError(t, http.StatusUnauthorized, northstar.EUNAUTHORIZED, "")
			}
		}
		e.wantUnchanged(t, before, "unauthenticated requests")
	})
}

// Bad input: every malformed or invalid request gets a 4xx JSON error that
// says what is wrong and where, and writes nothing.
func TestBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "BOOK", "Book inventory")
		e.newUser(t, "Bob", "bob@example.com")
		long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes

		const create = "/api/v1/products"
		const update = "/api/v1/products/BOOK"
		cases := []struct {
			name         string
			method, path string
			body         any
			header       []string
			status       int
			code, field  string
		}{
			// The body itself.
			{"malformed JSON", "POST", create, `{"key": "AB", "name": }`, nil, 400, northstar.EINVALID, ""},
			{"not JSON", "POST", create, `key=AB&name=x`, nil, 400, northstar.EINVALID, ""},
			{"truncated JSON", "POST", create, `{"key": "AB"`, nil, 400, northstar.EINVALID, ""},
			{"empty body", "POST", create, "", nil, 400, northstar.EINVALID, ""},
			{"JSON null", "POST", create, "null", nil, 400, northstar.EINVALID, "key"},
			{"body is an array", "POST", create, `[{"key": "AB", "name": "x"}]`, nil, 400, northstar.EINVALID, ""},
			{"body is a string", "POST", create, `"AB"`, nil, 400, northstar.EINVALID, ""},
			{"trailing object", "POST", create, `{"key": "AB", "name": "x"} {}`, nil, 400, northstar.EINVALID, ""},
			{"trailing garbage", "POST", create, `{"key": "AB", "name": "x"} garbage`, nil, 400, northstar.EINVALID, ""},
			{"unknown field", "POST", create, `{"key": "AB", "name": "x", "colour": "red"}`, nil, 400, northstar.EINVALID, "colour"},
			{"unknown field on update", "PATCH", update, `{"stage": "growth"}`, nil, 400, northstar.EINVALID, "stage"},
			{"body too large", "POST", create, `{"key": "AB", "name": "x", "vision": "` + strings.Repeat("v", 1<<20) + `"}`, nil, 413, northstar.ETOOLARGE, ""},
			// Wrong types name the field.
			{"key is a number", "POST", create, `{"key": 12, "name": "x"}`, nil, 400, northstar.EINVALID, "key"},
			{"name is an array", "POST", create, `{"key": "AB", "name": ["x"]}`, nil, 400, northstar.EINVALID, "name"},
			{"name is an object", "PATCH", update, `{"name": {"x": 1}}`, nil, 400, northstar.EINVALID, "name"},
			{"archived is a string", "PATCH", update, `{"archived": "yes"}`, nil, 400, northstar.EINVALID, "archived"},
			{"open_signup is a number", "PATCH", "/api/v1/settings", `{"open_signup": 1}`, nil, 400, northstar.EINVALID, "open_signup"},
			{"disabled is a string", "PATCH", "/api/v1/users/bob@example.com", `{"disabled": "true"}`, nil, 400, northstar.EINVALID, "disabled"},
			// Lengths are counted in characters.
			{"name too long", "POST", create, map[string]string{"key": "AB", "name": long(101)}, nil, 400, northstar.EINVALID, "name"},
			{"description too long", "POST", create, map[string]string{"key": "AB", "name": "x", "description": long(2001)}, nil, 400, northstar.EINVALID, "description"},
			{"vision too long", "POST", create, map[string]string{"key": "AB", "name": "x", "vision": long(50001)}, nil, 400, northstar.EINVALID, "vision"},
			{"name too long on update", "PATCH", update, map[string]string{"name": long(101)}, nil, 400, northstar.EINVALID, "name"},
			{"description too long on update", "PATCH", update, map[string]string{"description": long(2001)}, nil, 400, northstar.EINVALID, "description"},
			{"vision too long on update", "PATCH", update, map[string]string{"vision": long(50001)}, nil, 400, northstar.EINVALID, "vision"},
			{"name missing", "POST", create, map[string]string{"key": "AB"}, nil, 400, northstar.EINVALID, "name"},
			{"name blank", "POST", create, map[string]string{"key": "AB", "name": " \t "}, nil, 400, northstar.EINVALID, "name"},
			{"name with NUL", "POST", create, map[string]string{"key": "AB", "name": "a\x00b"}, nil, 400, northstar.EINVALID, "name"},
			// Keys: 2–10 of A–Z and 0–9, starting with a letter. Lower
			// case is refused on create (keys are shown as typed in
			// refs such as BOOK-42); URLs accept any case.
			{"key missing", "POST", create, map[string]string{"name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key one character", "POST", create, map[string]string{"key": "B", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key lower-case short", "POST", create, map[string]string{"key": "b", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key starts with a digit", "POST", create, map[string]string{"key": "1ABC", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key eleven characters", "POST", create, map[string]string{"key": "TOOLONGKEY1", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key with a dash", "POST", create, map[string]string{"key": "AB-C", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key with a space", "POST", create, map[string]string{"key": "AB C", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key lower-case", "POST", create, map[string]string{"key": "book", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key mixed case", "POST", create, map[string]string{"key": "Book", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key non-ASCII letter", "POST", create, map[string]string{"key": "ÄB", "name": "x"}, nil, 400, northstar.EINVALID, "key"},
			{"key duplicate", "POST", create, map[string]string{"key": "BOOK", "name": "Again"}, nil, 409, northstar.ECONFLICT, "key"},
			{"key duplicate after trim", "POST", create, map[string]string{"key": " BOOK ", "name": "Again"}, nil, 409, northstar.ECONFLICT, "key"},
			// Stages and roles.
			{"unknown initial stage", "POST", create, map[string]string{"key": "AB", "name": "x", "stage": "launched"}, nil, 400, northstar.EINVALID, "stage"},
			{"unknown stage", "POST", update + "/stage", map[string]string{"stage": "launched"}, nil, 400, northstar.EINVALID, "stage"},
			{"unknown role", "PUT", update + "/members/bob@example.com", map[string]string{"role": "owner"}, nil, 400, northstar.EINVALID, "role"},
			{"unknown invitation role", "POST", "/api/v1/invitations", map[string]string{"email": "x@example.com", "product": "BOOK", "role": "boss"}, nil, 400, northstar.EINVALID, "role"},
			{"invitation role without product", "POST", "/api/v1/invitations", map[string]string{"email": "x@example.com", "role": "viewer"}, nil, 400, northstar.EINVALID, "product"},
			{"invitation bad product key", "POST", "/api/v1/invitations", map[string]string{"email": "x@example.com", "product": "A-B"}, nil, 400, northstar.EINVALID, "product"},
			{"invitation bad email", "POST", "/api/v1/invitations", map[string]string{"email": "not an address"}, nil, 400, northstar.EINVALID, "email"},
			// Headers and paths.
			{"malformed If-Match", "PATCH", update, map[string]string{"name": "x"}, []string{"If-Match", "version-one"}, 400, northstar.EINVALID, "If-Match"},
			{"token id not a number", "DELETE", "/api/v1/tokens/abc", nil, nil, 400, northstar.EINVALID, "id"},
			{"token id zero", "DELETE", "/api/v1/tokens/0", nil, nil, 400, northstar.EINVALID, "id"},
			{"token id too big", "DELETE", "/api/v1/tokens/99999999999999999999", nil, nil, 400, northstar.EINVALID, "id"},
			{"invitation id negative", "DELETE", "/api/v1/invitations/-3", nil, nil, 400, northstar.EINVALID, "id"},
			{"unknown route", "GET", "/api/v1/nothing", nil, nil, 404, northstar.ENOTFOUND, ""},
			// Accounts.
			{"sign-up password too short", "POST", "/api/v1/signup", map[string]string{"name": "x", "email": "x@example.com", "password": "short"}, nil, 400, northstar.EINVALID, "password"},
			{"sign-up password too long", "POST", "/api/v1/signup", map[string]string{"name": "x", "email": "x@example.com", "password": strings.Repeat("p", 257)}, nil, 400, northstar.EINVALID, "password"},
			{"sign-up bad email", "POST", "/api/v1/signup", map[string]string{"name": "x", "email": "x@localhost", "password": password}, nil, 400, northstar.EINVALID, "email"},
			{"sign-up email with a name", "POST", "/api/v1/signup", map[string]string{"name": "x", "email": "X <x@example.com>", "password": password}, nil, 400, northstar.EINVALID, "email"},
			{"sign-up name too long", "POST", "/api/v1/signup", map[string]string{"name": long(101), "email": "x@example.com", "password": password}, nil, 400, northstar.EINVALID, "name"},
			{"sign-up unknown field", "POST", "/api/v1/signup", map[string]any{"name": "x", "email": "x@example.com", "password": password, "admin": true}, nil, 400, northstar.EINVALID, "admin"},
			{"password change too short", "POST", "/api/v1/me/password", map[string]string{"current_password": password, "new_password": "short"}, nil, 400, northstar.EINVALID, "new_password"},
			{"password change wrong current", "POST", "/api/v1/me/password", map[string]string{"current_password": "wrong password", "new_password": "a new long password"}, nil, 400, northstar.EINVALID, "current_password"},
			{"admin password reset too short", "PATCH", "/api/v1/users/bob@example.com", map[string]string{"password": "short"}, nil, 400, northstar.EINVALID, "password"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := admin.do(t, tc.method, tc.path, tc.body, tc.header...)
				if res.status < 400 || res.status >= 500 {
					t.Fatalf("%s: got %d, want a 4xx; body: %s", res.req, res.status, short(res.body))
				}
				res.wantError(t, tc.status, tc.code, tc.field)
				e.wantUnchanged(t, before, tc.name)
			})
		}

		// The limits themselves are allowed.
		admin.post(t, create, map[string]string{"key": "A1234567Z9", "name": long(100), "description": long(2000), "vision": long(50000)}).
			want(t, http.StatusCreated)
		admin.post(t, create, map[string]string{"key": "ZZ", "name": "Two"}).want(t, http.StatusCreated)
		if n := len(list[product](t, admin, "/api/v1/products")); n != 3 {
			t.Errorf("%d products after the bad input, want 3 (BOOK and the two at the limits)", n)
		}
	})
}

// withKey puts a product key where a path or a body of strings says %[1]s.
func withKey[T any](v T, key string) T {
	switch v := any(v).(type) {
	case string:
		return any(strings.ReplaceAll(v, "%[1]s", key)).(T)
	case map[string]string:
		m := make(map[string]string, len(v))
		for k, s := range v {
			m[k] = strings.ReplaceAll(s, "%[1]s", key)
		}
		return any(m).(T)
	}
	return v
}

// fillPattern turns a ServeMux pattern into a path with the given values
// for its wildcards; it fails the test for a wildcard it has no value for,
// so that a new route cannot be skipped silently.
func fillPattern(t *testing.T, pattern string, values map[string]string) string {
	t.Helper()
	var b strings.Builder
	rest := pattern
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			t.Fatalf("pattern %q: unclosed wildcard", pattern)
		}
		b.WriteString(rest[:i])
		name := strings.TrimSuffix(rest[i+1:i+j], "...")
		if name != "$" {
			v, ok := values[name]
			if !ok {
				t.Fatalf("pattern %q: no test value for {%s}", pattern, name)
			}
			b.WriteString(url.PathEscape(v))
		}
		rest = rest[i+j+1:]
	}
	return b.String()
}

// Text that a database may refuse to store or compare (NUL, invalid
// UTF-8) gets a 4xx wherever it comes in: path, query, JSON or form. On
// PostgreSQL such a value used to reach the server and come back as a 500.
func TestHostileTextIsRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin := e.signUpAdmin(t)
		admin.createProduct(t, "BOOK", "Book inventory")
		e.newUser(t, "Bob", "bob@example.com")
		session := e.login(t, "ada@example.com")
		cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		cases := []struct {
			name         string
			who          *client
			method, path string
			body         any
		}{
			{"NUL in product key", admin, "GET", "/api/v1/products/BO%00OK", nil},
			{"invalid UTF-8 in product key", admin, "GET", "/api/v1/products/BO%FFOK", nil},
			{"NUL in key of history", admin, "GET", "/api/v1/products/BO%00OK/stages", nil},
			{"NUL in key of stage change", admin, "POST", "/api/v1/products/BO%00OK/stage", map[string]string{"stage": "growth"}},
			{"NUL in member email", admin, "PUT", "/api/v1/products/BOOK/members/bob%00@example.com", map[string]string{"role": "viewer"}},
			{"invalid UTF-8 in member email", admin, "PUT", "/api/v1/products/BOOK/members/bob%FF@example.com", map[string]string{"role": "viewer"}},
			{"NUL in removed member", admin, "DELETE", "/api/v1/products/BOOK/members/bob%00@example.com", nil},
			{"NUL in user email", admin, "PATCH", "/api/v1/users/bob%00@example.com", map[string]bool{"disabled": true}},
			{"NUL in cursor", admin, "GET", "/api/v1/products?cursor=" + cursor("A\x00"), nil},
			{"invalid UTF-8 in cursor", admin, "GET", "/api/v1/products?cursor=" + cursor("\xff\xfe"), nil},
			{"NUL in token name", admin, "POST", "/api/v1/tokens", map[string]string{"name": "ci\x00"}},
			{"NUL in login email", e.anon(), "POST", "/api/v1/tokens", map[string]string{"email": "ada\x00@example.com", "password": password}},
			{"NUL in invitation secret", e.anon(), "POST", "/api/v1/signup", map[string]string{"name": "x", "password": password, "invitation": "inv_\x00"}},
			{"NUL in invited product", admin, "POST", "/api/v1/invitations", map[string]string{"email": "x@example.com", "product": "BO\x00K"}},
			{"web: NUL in product key", session, "GET", "/products/BO%00OK", nil},
			{"web: NUL in settings key", session, "GET", "/products/BO%00OK/settings", nil},
			{"web: NUL in invitation secret", session, "GET", "/invitations/inv_%00", nil},
			{"web: NUL in login email", e.anon(), "POST", "/login", url.Values{"email": {"ada\x00@example.com"}, "password": {password}}},
			{"web: NUL in token name", session, "POST", "/account/tokens", url.Values{"name": {"ci\x00"}}},
			{"web: NUL in member email", session, "POST", "/products/BOOK/members", url.Values{"email": {"bob\x00@example.com"}, "role": {"viewer"}}},
			{"web: NUL in removed member", session, "POST", "/products/BOOK/members/bob%00@example.com/remove", url.Values{}},
			{"web: NUL in changed user", session, "POST", "/admin/users/bob%00@example.com", url.Values{"disabled": {"true"}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := tc.who.do(t, tc.method, tc.path, tc.body)
				// A web form may also answer by redirecting back with
				// an error message ("!…") to show.
				formError := res.status == http.StatusSeeOther && strings.HasPrefix(flash(res), "!")
				if (res.status < 400 || res.status >= 500) && !formError {
					t.Errorf("%s: got %d, want a 4xx; body: %s", res.req, res.status, short(res.body))
				}
				e.wantUnchanged(t, before, tc.name)
			})
		}
	})
}

// flash returns the one-time message a web response leaves for the next
// page, "" if none.
func flash(r *response) string {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "northstar_flash" {
			msg, _ := url.QueryUnescape(c.Value)
			return msg
		}
	}
	return ""
}
