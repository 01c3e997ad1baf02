package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// fixture is an app on a fresh database with one admin, a product BOOK
// managed by pm, and one member for every other role.
type fixture struct {
	app   *App
	admin *northstar.User
	users map[northstar.Role]*northstar.User
	other *northstar.User // signed up, member of nothing
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	a := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	f := &fixture{app: a, users: map[northstar.Role]*northstar.User{}}
	var err error
	if f.admin, err = a.SignUp(ctx, northstar.NewUser{Name: "Admin", Email: "admin@example.com", Password: "password-admin"}, ""); err != nil {
		t.Fatal(err)
	}
	sys := f.as(f.admin)
	for _, r := range northstar.Roles {
		u, err := a.CreateUser(sys, northstar.NewUser{Name: string(r), Email: string(r) + "@example.com", Password: "password-" + string(r)}, false)
		if err != nil {
			t.Fatal(err)
		}
		f.users[r] = u
	}
	if f.other, err = a.CreateUser(sys, northstar.NewUser{Name: "Other", Email: "other@example.com", Password: "password-other"}, false); err != nil {
		t.Fatal(err)
	}
	pm := f.as(f.users[northstar.RoleProductManager])
	if _, err := a.CreateProduct(pm, northstar.NewProduct{Key: "BOOK", Name: "Books"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range northstar.Roles[1:] {
		if _, err := a.SetMember(pm, "BOOK", f.users[r].Email, r); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) as(u *northstar.User) context.Context {
	return northstar.NewContextWithUser(context.Background(), u)
}

// TestAuthorizeMatrix walks every action × every role, plus a non-member
// and an admin who is not a member, through the one authorize function, on
// an active product and on a retired one.
func TestAuthorizeMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		type principal struct {
			name string
			user *northstar.User
			role northstar.Role
		}
		principals := []principal{{"non-member", f.other, ""}, {"admin", f.admin, ""}}
		for _, r := range northstar.Roles {
			principals = append(principals, principal{string(r), f.users[r], r})
		}
		for _, retired := range []bool{false, true} {
			if retired {
				pm := f.as(f.users[northstar.RoleProductManager])
				if _, err := f.app.ChangeStage(pm, "BOOK", northstar.StageRetired, "", 0); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range principals {
				for _, action := range northstar.Actions {
					var want string
					switch {
					case p.role == "" && !p.user.Admin:
						want = northstar.ENOTFOUND
					case !northstar.Can(p.user.Admin, p.role, action):
						want = northstar.EFORBIDDEN
					case retired && action.Writes():
						want = northstar.EUNPROCESSABLE
					}
					err := db.View(context.Background(), func(tx *store.Tx) error {
						_, _, err := authorize(f.as(p.user), tx, "BOOK", action)
						return err
					})
					if got := northstar.ErrorCode(err); got != want {
						t.Errorf("retired=%v %s %s: got %q, want %q (%v)", retired, p.name, action, got, want, err)
					}
				}
			}
		}
		// Anonymous and disabled users are refused before anything else.
		err := db.View(context.Background(), func(tx *store.Tx) error {
			_, _, err := authorize(context.Background(), tx, "BOOK", northstar.ActionRead)
			return err
		})
		if northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Errorf("anonymous: got %v, want unauthorized", err)
		}
		disabled := *f.users[northstar.RoleProductManager]
		disabled.Disabled = true
		err = db.View(context.Background(), func(tx *store.Tx) error {
			_, _, err := authorize(f.as(&disabled), tx, "BOOK", northstar.ActionRead)
			return err
		})
		if northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Errorf("disabled: got %v, want unauthorized", err)
		}
	})
}

func TestSignUpRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if !f.admin.Admin {
			t.Error("the first account is not an admin")
		}
		_, err := f.app.SignUp(ctx, northstar.NewUser{Name: "Eve", Email: "eve@example.com", Password: "password-eve"}, "")
		if northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Fatalf("sign-up without invitation: got %v, want forbidden", err)
		}
		// A product manager invites into their product.
		pm := f.as(f.users[northstar.RoleProductManager])
		secret, inv, err := f.app.Invite(pm, northstar.NewInvitation{Email: "New@Example.com", ProductKey: "book", Role: northstar.RoleDeveloper})
		if err != nil {
			t.Fatal(err)
		}
		if inv.Email != "new@example.com" || inv.ProductKey != "BOOK" {
			t.Errorf("invitation = %+v", inv)
		}
		u, err := f.app.SignUp(ctx, northstar.NewUser{Name: "Newcomer", Email: "ignored@example.com", Password: "password-new"}, secret)
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "new@example.com" || u.Admin {
			t.Errorf("invited user = %+v", u)
		}
		if p, err := f.app.Product(f.as(u), "BOOK"); err != nil || p.Role != northstar.RoleDeveloper {
			t.Errorf("invited user's role: %v %v", p, err)
		}
		if _, err := f.app.SignUp(ctx, northstar.NewUser{Name: "Again", Password: "password-again"}, secret); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("second use of an invitation: got %v, want not found", err)
		}
		// A developer may not invite; a PM may not invite into another product.
		if _, _, err := f.app.Invite(f.as(f.users[northstar.RoleDeveloper]), northstar.NewInvitation{Email: "x@example.com"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer invites: got %v, want forbidden", err)
		}
		if _, err := f.app.CreateProduct(f.as(f.admin), northstar.NewProduct{Key: "OTHER", Name: "Other"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.Invite(pm, northstar.NewInvitation{Email: "x@example.com", ProductKey: "OTHER"}); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("PM invites into a product they are not in: got %v, want not found", err)
		}
		// Open sign-up.
		if err := f.app.SetOpenSignup(pm, true); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("PM opens sign-up: got %v, want forbidden", err)
		}
		if err := f.app.SetOpenSignup(f.as(f.admin), true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.SignUp(ctx, northstar.NewUser{Name: "Eve", Email: "eve@example.com", Password: "password-eve"}, ""); err != nil {
			t.Errorf("open sign-up: %v", err)
		}
		if _, err := f.app.SignUp(ctx, northstar.NewUser{Name: "Eve", Email: "EVE@example.com", Password: "password-eve"}, ""); northstar.ErrorCode(err) != northstar.ECONFLICT || northstar.ErrorField(err) != "email" {
			t.Errorf("duplicate email: got %v, want conflict on email", err)
		}
		if _, err := f.app.SignUp(ctx, northstar.NewUser{Name: "Short", Email: "short@example.com", Password: "short"}, ""); northstar.ErrorField(err) != "password" {
			t.Errorf("short password: got %v, want an error on password", err)
		}
	})
}

func TestLoginSessionsAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		dev := f.users[northstar.RoleDeveloper]
		if _, err := f.app.Login(ctx, "DEVELOPER@example.com", "password-developer", "10.0.0.1"); err != nil {
			t.Fatalf("login with upper-case email: %v", err)
		}
		if _, err := f.app.Login(ctx, dev.Email, "wrong-password", "10.0.0.1"); northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Errorf("wrong password: %v", err)
		}
		if _, err := f.app.Login(ctx, "nobody@example.com", "whatever-password", "10.0.0.1"); northstar.ErrorCode(err) != northstar.EUNAUTHORIZED || northstar.ErrorMessage(err) != "Wrong email or password." {
			t.Errorf("unknown account must look like a wrong password: %v", err)
		}

		s1, err := f.app.CreateSession(ctx, dev.ID)
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := f.app.CreateSession(ctx, dev.ID)
		_, keep, err := f.app.UserBySession(ctx, s2)
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := f.app.CreateToken(f.as(dev), "ci")
		if err != nil {
			t.Fatal(err)
		}
		if u, err := f.app.UserByToken(ctx, token); err != nil || u.ID != dev.ID {
			t.Fatalf("token: %v %v", u, err)
		}

		// Changing the password signs out the other sessions, not this one.
		if err := f.app.ChangePassword(f.as(dev), "wrong", "new-password-1", keep.ID); northstar.ErrorField(err) != "current_password" {
			t.Errorf("wrong current password: %v", err)
		}
		if err := f.app.ChangePassword(f.as(dev), "password-developer", "new-password-1", keep.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.UserBySession(ctx, s1); northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Errorf("other session after password change: %v", err)
		}
		if _, _, err := f.app.UserBySession(ctx, s2); err != nil {
			t.Errorf("current session after password change: %v", err)
		}

		// Disabling the user stops sessions and tokens at once.
		yes := true
		if _, err := f.app.ChangeUser(f.as(f.admin), dev.Email, UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.UserBySession(ctx, s2); northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Errorf("session of a disabled user: %v", err)
		}
		if _, err := f.app.UserByToken(ctx, token); northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Errorf("token of a disabled user: %v", err)
		}
		if _, err := f.app.Login(ctx, dev.Email, "new-password-1", ""); northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Errorf("login of a disabled user: %v", err)
		}
		// An admin cannot disable themself.
		if _, err := f.app.ChangeUser(f.as(f.admin), f.admin.Email, UserChange{Disabled: &yes}); northstar.ErrorCode(err) != northstar.EUNPROCESSABLE {
			t.Errorf("admin disables self: %v", err)
		}

		// Revoking a token stops it at once; others' tokens cannot be revoked.
		po := f.users[northstar.RoleProductOwner]
		tok, meta, err := f.app.CreateToken(f.as(po), "script")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.RevokeToken(f.as(f.users[northstar.RoleViewer]), meta.ID); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("revoking another's token: %v", err)
		}
		if err := f.app.RevokeToken(f.as(po), meta.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.UserByToken(ctx, tok); northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Errorf("revoked token: %v", err)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	ctx := context.Background()
	email := f.users[northstar.RoleViewer].Email
	for i := 0; i < loginPerAccount; i++ {
		if _, err := f.app.Login(ctx, email, "wrong-password", "10.0.0.2"); northstar.ErrorCode(err) != northstar.EUNAUTHORIZED {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	// Even the right password is refused while the account is locked.
	if _, err := f.app.Login(ctx, email, "password-viewer", "10.0.0.3"); northstar.ErrorCode(err) != northstar.ERATELIMITED {
		t.Fatalf("after %d failures: %v, want rate limited", loginPerAccount, err)
	}
	// Other accounts from other addresses are not affected.
	if _, err := f.app.Login(ctx, f.users[northstar.RoleDeveloper].Email, "password-developer", "10.0.0.4"); err != nil {
		t.Errorf("another account: %v", err)
	}
	// The window slides: later, the account may try again.
	f.app.logins.now = func() time.Time { return time.Now().Add(loginWindow + time.Second) }
	if _, err := f.app.Login(ctx, email, "password-viewer", "10.0.0.3"); err != nil {
		t.Errorf("after the window: %v", err)
	}

	// Per address: many accounts from one address.
	l := newLoginLimiter()
	for i := 0; i < loginPerAddress; i++ {
		l.fail(fmt.Sprintf("account:%d", i), "address:10.9.9.9")
	}
	if l.allowed("address:10.9.9.9", loginPerAddress) {
		t.Error("address limit not applied")
	}
}

func TestMembersKeepAProductManager(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pmUser := f.users[northstar.RoleProductManager]
		pm := f.as(pmUser)
		if _, err := f.app.SetMember(pm, "BOOK", pmUser.Email, northstar.RoleViewer); northstar.ErrorCode(err) != northstar.EUNPROCESSABLE {
			t.Errorf("demoting the last PM: %v", err)
		}
		if err := f.app.RemoveMember(pm, "BOOK", pmUser.Email); northstar.ErrorCode(err) != northstar.EUNPROCESSABLE {
			t.Errorf("removing the last PM: %v", err)
		}
		if _, err := f.app.SetMember(pm, "BOOK", f.other.Email, northstar.RoleProductManager); err != nil {
			t.Fatal(err)
		}
		if err := f.app.RemoveMember(pm, "BOOK", pmUser.Email); err != nil {
			t.Errorf("removing one of two PMs: %v", err)
		}
		if _, err := f.app.Product(pm, "BOOK"); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("removed member still reads the product: %v", err)
		}
		if _, err := f.app.SetMember(f.as(f.other), "BOOK", "ghost@example.com", northstar.RoleViewer); northstar.ErrorCode(err) != northstar.ENOTFOUND || northstar.ErrorField(err) != "email" {
			t.Errorf("unknown email: %v", err)
		}
		if _, err := f.app.SetMember(f.as(f.other), "BOOK", f.admin.Email, "owner"); northstar.ErrorField(err) != "role" {
			t.Errorf("unknown role: %v", err)
		}
	})
}

func TestStageChangesAndVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pm := f.as(f.users[northstar.RoleProductManager])
		p, err := f.app.ChangeStage(pm, "book", northstar.StageDevelopment, "Funded", 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != 2 || p.Stage != northstar.StageDevelopment {
			t.Errorf("after change: %+v", p)
		}
		if _, err := f.app.ChangeStage(pm, "BOOK", northstar.StageGrowth, "", 1); northstar.ErrorCode(err) != northstar.ECONFLICT {
			t.Errorf("stale version: %v", err)
		}
		if _, err := f.app.ChangeStage(pm, "BOOK", northstar.StageConceived, "", 0); northstar.ErrorField(err) != "note" {
			t.Errorf("backwards without note: %v", err)
		}
		if _, err := f.app.ChangeStage(pm, "BOOK", northstar.StageConceived, "Back to the drawing board", 0); err != nil {
			t.Errorf("backwards with note: %v", err)
		}
		h, err := f.app.StageHistory(f.as(f.users[northstar.RoleViewer]), "BOOK")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range h {
			got = append(got, fmt.Sprintf("%s>%s", c.From, c.To))
			if c.Actor == "" || c.At.IsZero() {
				t.Errorf("history entry without actor or time: %+v", c)
			}
		}
		if want := ">conceived conceived>development development>conceived"; fmt.Sprint(got) != "["+want+"]" {
			t.Errorf("history = %v, want [%s]", got, want)
		}
		// Retired: read-only until moved; archiving still allowed.
		if _, err := f.app.ChangeStage(pm, "BOOK", northstar.StageRetired, "", 0); err != nil {
			t.Fatal(err)
		}
		name := "Renamed"
		if _, err := f.app.UpdateProduct(pm, "BOOK", 0, northstar.ProductUpdate{Name: &name}); northstar.ErrorCode(err) != northstar.EUNPROCESSABLE {
			t.Errorf("renaming a retired product: %v", err)
		}
		yes := true
		if p, err := f.app.UpdateProduct(pm, "BOOK", 0, northstar.ProductUpdate{Archived: &yes}); err != nil || !p.Archived {
			t.Errorf("archiving a retired product: %v", err)
		}
		if _, err := f.app.ChangeStage(pm, "BOOK", northstar.StageMaturity, "Relaunch", 0); err != nil {
			t.Fatal(err)
		}
		if p, err := f.app.UpdateProduct(pm, "BOOK", 0, northstar.ProductUpdate{Name: &name}); err != nil || p.Name != name {
			t.Errorf("renaming after leaving retired: %v", err)
		}
	})
}

// TestConcurrentWriters checks that many writers at once all succeed: on
// SQLite they queue for the one writer connection instead of failing with
// "database is locked".
func TestConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pm := f.as(f.users[northstar.RoleProductManager])
		const writers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					key := fmt.Sprintf("P%dX%d", w, i)
					if _, err := f.app.CreateProduct(pm, northstar.NewProduct{Key: key, Name: key}); err != nil {
						errs <- err
					}
					if _, err := f.app.Products(pm, northstar.ProductFilter{}); err != nil {
						errs <- err
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		ps, err := f.app.Products(pm, northstar.ProductFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != writers*each+1 {
			t.Errorf("%d products, want %d", len(ps), writers*each+1)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	h := newPasswordHasher()
	enc := h.hash("correct horse battery")
	if !h.verify(enc, "correct horse battery") || h.verify(enc, "correct horse batterY") {
		t.Fatal("verify does not tell right from wrong")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=9999999,t=2,p=1$c2FsdA$aGFzaA", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaA"} {
		if h.verify(bad, "x") {
			t.Errorf("verify accepted %q", bad)
		}
	}
	if h.hash("same") == h.hash("same") {
		t.Error("hashes are not salted")
	}
}

func TestSeedDemoOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx := context.Background()
		seeded, err := a.SeedDemo(ctx, nil)
		if err != nil || !seeded {
			t.Fatalf("first seed: %v %v", seeded, err)
		}
		if seeded, err := a.SeedDemo(ctx, nil); err != nil || seeded {
			t.Fatalf("second seed: %v %v", seeded, err)
		}
		u, err := a.Login(ctx, "pm@northstar.test", DemoPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.Product(northstar.NewContextWithUser(ctx, u), "BOOK")
		if err != nil || p.Stage != northstar.StageGrowth {
			t.Fatalf("BOOK: %+v %v", p, err)
		}
		h, _ := a.StageHistory(northstar.NewContextWithUser(ctx, u), "BOOK")
		if len(h) != 4 || !h[0].At.Before(h[3].At) {
			t.Errorf("BOOK history: %d entries", len(h))
		}
	})
}
