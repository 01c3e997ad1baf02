package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// settingOpenSignup names the setting that lets anyone sign up.
const settingOpenSignup = "open_signup"

// newSecret returns a random secret with a prefix naming its kind, and the
// hash under which it is stored. Secrets are never stored in clear.
func newSecret(prefix string) (secret, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SignUp creates an account. The first account becomes the organization's
// admin; after that an invitation is needed unless open sign-up is on. With
// an invitation, the invitation's e-mail address is used and the invitee
// joins the invitation's product.
func (a *App) SignUp(ctx context.Context, in northstar.NewUser, inviteSecret string) (*northstar.User, error) {
	inviteSecret = strings.TrimSpace(inviteSecret)
	var inv *northstar.Invitation
	if inviteSecret != "" {
		if err := a.db.View(ctx, func(tx *store.Tx) error {
			var err error
			inv, err = tx.FindInvitation(ctx, hashSecret(inviteSecret))
			return err
		}); err != nil {
			return nil, err
		}
		in.Email = inv.Email
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash := a.hasher.hash(in.Password) // slow: outside the transaction
	u := &northstar.User{Email: in.Email, Name: in.Name}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		switch {
		case n == 0:
			u.Admin = true
		case inv != nil:
			// Look it up again inside the transaction so that one
			// invitation cannot be used twice at once.
			if inv, err = tx.FindInvitation(ctx, hashSecret(inviteSecret)); err != nil {
				return err
			}
			if err := tx.AcceptInvitation(ctx, inv.ID); err != nil {
				return err
			}
		default:
			open, err := tx.Setting(ctx, settingOpenSignup, "false")
			if err != nil {
				return err
			}
			if open != "true" {
				return northstar.Errorf(northstar.EFORBIDDEN, "Sign-up is by invitation only; ask an admin or a product manager to invite you.")
			}
		}
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			if store.IsDuplicate(err) {
				return &northstar.Error{Code: northstar.ECONFLICT, Field: "email", Message: fmt.Sprintf("An account with email %s already exists.", u.Email)}
			}
			return err
		}
		if inv != nil && inv.ProductKey != "" {
			p, err := tx.FindProductByKey(ctx, inv.ProductKey)
			if err != nil {
				return err
			}
			if err := tx.SetMember(ctx, p.ID, u.ID, inv.Role); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sign up %s: %w", in.Email, err)
	}
	return u, nil
}

// Login checks an e-mail and password. Failed attempts are limited per
// account and per client address; ip may be empty.
func (a *App) Login(ctx context.Context, email, password, ip string) (*northstar.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if a.OIDC.PasswordsOff() {
		a.auditLogin(ctx, "login_failed", email, ip, "passwords are turned off")
		return nil, northstar.Errorf(northstar.EFORBIDDEN, "Passwords are turned off here: sign in with %s.", a.OIDC.Name())
	}
	accountKey, addressKey := "account:"+email, "address:"+ip
	if !a.logins.allowed(accountKey, loginPerAccount) || (ip != "" && !a.logins.allowed(addressKey, loginPerAddress)) {
		a.auditLogin(ctx, "login_failed", email, ip, "too many failed attempts")
		return nil, northstar.Errorf(northstar.ERATELIMITED, "Too many failed sign-in attempts; wait a few minutes and try again.")
	}
	var u *northstar.User
	var hash string
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		u, hash, err = tx.FindUserByEmail(ctx, email)
		return err
	})
	if northstar.ErrorCode(err) == northstar.ENOTFOUND {
		a.hasher.verify(a.hasher.dummy(), password) // same time as a wrong password
	} else if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if u == nil || !a.hasher.verify(hash, password) {
		keys := []string{accountKey}
		if ip != "" {
			keys = append(keys, addressKey)
		}
		a.logins.fail(keys...)
		a.auditLogin(ctx, "login_failed", email, ip, "wrong email or password")
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "Wrong email or password.")
	}
	if u.Disabled {
		a.auditLogin(ctx, "login_failed", email, ip, "account disabled")
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "This account is disabled; ask an admin.")
	}
	a.logins.reset(accountKey)
	a.auditLogin(ctx, "login", email, ip, "")
	return u, nil
}

// auditLogin writes a sign-in or failed sign-in to the log as an audit
// event (the HTTP layer logs permission denials and admin actions).
func (a *App) auditLogin(ctx context.Context, event, email, ip, reason string) {
	attrs := []any{"event", event, "email", email, "ip", ip}
	if reason != "" {
		attrs = append(attrs, "reason", reason)
	}
	a.log.InfoContext(ctx, "audit", attrs...)
}

// CreateSession starts a browser session for a user and returns its secret.
func (a *App) CreateSession(ctx context.Context, userID int64) (string, error) {
	secret, hash := newSecret("")
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		s := &northstar.Session{UserID: userID, ExpiresAt: tx.Now.Add(min(a.SessionTTL, a.SessionMaxAge))}
		return tx.CreateSession(ctx, s, hash)
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return secret, nil
}

// UserBySession returns the user signed in with a session secret, and the
// session. An unknown or expired session, or a disabled user, is
// EUNAUTHORIZED. The session's expiry slides forward with use (at most
// every tenth of the idle timeout, to spare writes), never past
// SessionMaxAge from its start.
func (a *App) UserBySession(ctx context.Context, secret string) (*northstar.User, *northstar.Session, error) {
	var u *northstar.User
	var s *northstar.Session
	var stale bool
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		if s, err = tx.FindSession(ctx, hashSecret(secret)); err != nil {
			return err
		}
		if !tx.Now.Before(s.CreatedAt.Add(a.SessionMaxAge)) {
			return northstar.Errorf(northstar.ENOTFOUND, "Session too old.")
		}
		stale = s.ExpiresAt.Sub(tx.Now) < a.SessionTTL-a.SessionTTL/10
		u, err = tx.FindUserByID(ctx, s.UserID)
		return err
	})
	if northstar.ErrorCode(err) == northstar.ENOTFOUND {
		return nil, nil, northstar.Errorf(northstar.EUNAUTHORIZED, "Your session has expired; sign in again.")
	} else if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	if u.Disabled {
		return nil, nil, northstar.Errorf(northstar.EUNAUTHORIZED, "This account is disabled.")
	}
	if stale {
		if err := a.db.Update(ctx, func(tx *store.Tx) error {
			expires := tx.Now.Add(a.SessionTTL)
			if end := s.CreatedAt.Add(a.SessionMaxAge); end.Before(expires) {
				expires = end
			}
			return tx.TouchSession(ctx, s.ID, expires)
		}); err != nil {
			a.log.Warn("extend session", "err", err)
		}
	}
	return u, s, nil
}

// Logout ends a browser session.
func (a *App) Logout(ctx context.Context, secret string) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		return tx.DeleteSession(ctx, hashSecret(secret))
	})
}

// tokenPrefix marks Northstar API tokens so that secret scanners can find them.
const tokenPrefix = "ns_"

// UserByToken returns the user an API token belongs to. An unknown or
// revoked token, or a disabled user, is EUNAUTHORIZED.
func (a *App) UserByToken(ctx context.Context, secret string) (*northstar.User, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "Invalid API token.")
	}
	var u *northstar.User
	var t *northstar.Token
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		t, u, err = tx.FindTokenUser(ctx, hashSecret(secret))
		return err
	})
	if northstar.ErrorCode(err) == northstar.ENOTFOUND {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "Invalid or revoked API token.")
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	if u.Disabled {
		return nil, northstar.Errorf(northstar.EUNAUTHORIZED, "This account is disabled.")
	}
	// Record use at most once a minute, so reads do not all become writes.
	if t.LastUsedAt == nil || time.Since(*t.LastUsedAt) > time.Minute {
		if err := a.db.Update(ctx, func(tx *store.Tx) error { return tx.TouchToken(ctx, t.ID) }); err != nil {
			a.log.Warn("touch token", "err", err)
		}
	}
	return u, nil
}

// CreateToken creates an API token for the current user. The secret is
// returned once and never stored.
func (a *App) CreateToken(ctx context.Context, name string) (string, *northstar.Token, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return "", nil, err
	}
	return a.createToken(ctx, user, name)
}

func (a *App) createToken(ctx context.Context, user *northstar.User, name string) (string, *northstar.Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	if len([]rune(name)) > northstar.MaxNameLen {
		return "", nil, northstar.FieldError("name", "name is too long (at most %d characters).", northstar.MaxNameLen)
	}
	if !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return "", nil, northstar.FieldError("name", "name must be valid UTF-8 without NUL characters.")
	}
	secret, hash := newSecret(tokenPrefix)
	t := &northstar.Token{UserID: user.ID, Name: name, Prefix: secret[:len(tokenPrefix)+6]}
	if err := a.db.Update(ctx, func(tx *store.Tx) error { return tx.CreateToken(ctx, t, hash) }); err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return secret, t, nil
}

// LoginToken checks an e-mail and password and returns a new API token for
// that account: how programs sign in.
func (a *App) LoginToken(ctx context.Context, email, password, tokenName, ip string) (string, *northstar.User, error) {
	u, err := a.Login(ctx, email, password, ip)
	if err != nil {
		return "", nil, err
	}
	secret, _, err := a.createToken(ctx, u, tokenName)
	return secret, u, err
}

// Tokens lists the current user's API tokens.
func (a *App) Tokens(ctx context.Context) ([]*northstar.Token, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var ts []*northstar.Token
	err = a.db.View(ctx, func(tx *store.Tx) error {
		ts, err = tx.FindTokens(ctx, user.ID)
		return err
	})
	return ts, err
}

// RevokeToken deletes one of the current user's API tokens; it stops
// working at once.
func (a *App) RevokeToken(ctx context.Context, id int64) error {
	user, err := currentUser(ctx)
	if err != nil {
		return err
	}
	return a.db.Update(ctx, func(tx *store.Tx) error {
		ok, err := tx.DeleteToken(ctx, user.ID, id)
		if err != nil {
			return err
		} else if !ok {
			return northstar.Errorf(northstar.ENOTFOUND, "Token %d not found.", id)
		}
		return nil
	})
}

// ChangePassword changes the current user's password after checking the old
// one, and signs out every other session (keepSession, 0 for none, stays).
func (a *App) ChangePassword(ctx context.Context, oldPassword, newPassword string, keepSession int64) error {
	user, err := currentUser(ctx)
	if err != nil {
		return err
	}
	if err := northstar.ValidatePassword("new_password", newPassword); err != nil {
		return err
	}
	var hash string
	if err := a.db.View(ctx, func(tx *store.Tx) error {
		hash, err = tx.PasswordHash(ctx, user.ID)
		return err
	}); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !a.hasher.verify(hash, oldPassword) {
		return northstar.FieldError("current_password", "The current password is wrong.")
	}
	newHash := a.hasher.hash(newPassword)
	return a.db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetPasswordHash(ctx, user.ID, newHash); err != nil {
			return err
		}
		return tx.DeleteUserSessions(ctx, user.ID, keepSession)
	})
}

// Users lists every user (admins only).
func (a *App) Users(ctx context.Context) ([]*northstar.User, error) {
	var users []*northstar.User
	err := a.db.View(ctx, func(tx *store.Tx) error {
		if _, err := authorizeOrg(ctx, tx, northstar.OrgManageUsers); err != nil {
			return err
		}
		var err error
		users, err = tx.FindUsers(ctx)
		return err
	})
	return users, err
}

// CreateUser creates an account directly (admins only), bypassing
// invitations; the CLI uses it. The first account is always an admin.
func (a *App) CreateUser(ctx context.Context, in northstar.NewUser, admin bool) (*northstar.User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash := a.hasher.hash(in.Password)
	u := &northstar.User{Email: in.Email, Name: in.Name, Admin: admin}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		if _, err := authorizeOrg(ctx, tx, northstar.OrgManageUsers); err != nil {
			return err
		}
		if n, err := tx.CountUsers(ctx); err != nil {
			return err
		} else if n == 0 {
			u.Admin = true
		}
		err := tx.CreateUser(ctx, u, hash)
		if store.IsDuplicate(err) {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "email", Message: fmt.Sprintf("An account with email %s already exists.", u.Email)}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", in.Email, err)
	}
	return u, nil
}

// UserChange is an admin's change to an account; nil fields stay.
type UserChange struct {
	Admin    *bool
	Disabled *bool
	Password *string
}

// ChangeUser changes another account (admins only). Disabling an account
// or resetting its password signs it out everywhere at once; its API tokens
// stop working while it is disabled.
func (a *App) ChangeUser(ctx context.Context, email string, c UserChange) (*northstar.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var newHash string
	if c.Password != nil {
		if err := northstar.ValidatePassword("password", *c.Password); err != nil {
			return nil, err
		}
		newHash = a.hasher.hash(*c.Password)
	}
	var u *northstar.User
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		actor, err := authorizeOrg(ctx, tx, northstar.OrgManageUsers)
		if err != nil {
			return err
		}
		if u, _, err = tx.FindUserByEmail(ctx, email); err != nil {
			return err
		}
		if u.ID == actor.ID && ((c.Admin != nil && !*c.Admin) || (c.Disabled != nil && *c.Disabled)) {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "You cannot remove your own admin rights or disable yourself.")
		}
		if c.Admin != nil {
			u.Admin = *c.Admin
		}
		if c.Disabled != nil {
			u.Disabled = *c.Disabled
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if newHash != "" {
			if err := tx.SetPasswordHash(ctx, u.ID, newHash); err != nil {
				return err
			}
		}
		if u.Disabled || newHash != "" {
			return tx.DeleteUserSessions(ctx, u.ID, 0)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("change user %s: %w", email, err)
	}
	return u, nil
}

// OpenSignup reports whether anyone may sign up without an invitation.
func (a *App) OpenSignup(ctx context.Context) (bool, error) {
	var v string
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		v, err = tx.Setting(ctx, settingOpenSignup, "false")
		return err
	})
	return v == "true", err
}

// NeedsFirstUser reports whether nobody has signed up yet.
func (a *App) NeedsFirstUser(ctx context.Context) (bool, error) {
	var n int
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.CountUsers(ctx)
		return err
	})
	return n == 0, err
}

// SetOpenSignup turns open sign-up on or off (admins only).
func (a *App) SetOpenSignup(ctx context.Context, open bool) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		if _, err := authorizeOrg(ctx, tx, northstar.OrgManageUsers); err != nil {
			return err
		}
		return tx.SetSetting(ctx, settingOpenSignup, fmt.Sprint(open))
	})
}

// Invite creates an invitation and returns its secret, which goes into the
// link sent to the invitee. Admins may invite into any product; product
// managers into products they manage.
func (a *App) Invite(ctx context.Context, in northstar.NewInvitation) (string, *northstar.Invitation, error) {
	if err := in.Validate(); err != nil {
		return "", nil, err
	}
	secret, hash := newSecret("inv_")
	inv := &northstar.Invitation{Email: in.Email, ProductKey: in.ProductKey, Role: in.Role}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, err := authorizeOrg(ctx, tx, northstar.OrgInvite)
		if err != nil {
			return err
		}
		if _, _, err := tx.FindUserByEmail(ctx, in.Email); err == nil {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "email", Message: fmt.Sprintf("%s already has an account; add them to a product from its settings.", in.Email)}
		} else if northstar.ErrorCode(err) != northstar.ENOTFOUND {
			return err
		}
		var productID *int64
		if in.ProductKey != "" {
			_, p, err := authorize(ctx, tx, in.ProductKey, northstar.ActionManageProduct)
			if err != nil {
				return err
			}
			productID = &p.ID
		}
		inv.InvitedBy = user.Name
		inv.ExpiresAt = tx.Now.Add(a.InvitationTTL)
		return tx.CreateInvitation(ctx, inv, productID, user.ID, hash)
	})
	if err != nil {
		return "", nil, fmt.Errorf("invite %s: %w", in.Email, err)
	}
	return secret, inv, nil
}

// Invitation returns the open invitation with the given secret, for the
// page where the invitee sets a password.
func (a *App) Invitation(ctx context.Context, secret string) (*northstar.Invitation, error) {
	var inv *northstar.Invitation
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		inv, err = tx.FindInvitation(ctx, hashSecret(strings.TrimSpace(secret)))
		return err
	})
	return inv, err
}

// Invitations lists recent invitations (admins only).
func (a *App) Invitations(ctx context.Context) ([]*northstar.Invitation, error) {
	var invs []*northstar.Invitation
	err := a.db.View(ctx, func(tx *store.Tx) error {
		if _, err := authorizeOrg(ctx, tx, northstar.OrgManageUsers); err != nil {
			return err
		}
		var err error
		invs, err = tx.FindInvitations(ctx)
		return err
	})
	return invs, err
}

// RevokeInvitation deletes an open invitation (admins only).
func (a *App) RevokeInvitation(ctx context.Context, id int64) error {
	return a.db.Update(ctx, func(tx *store.Tx) error {
		if _, err := authorizeOrg(ctx, tx, northstar.OrgManageUsers); err != nil {
			return err
		}
		ok, err := tx.DeleteInvitation(ctx, id)
		if err != nil {
			return err
		} else if !ok {
			return northstar.Errorf(northstar.ENOTFOUND, "Invitation %d not found or already used.", id)
		}
		return nil
	})
}

// isNotFound reports whether err is an ENOTFOUND application error.
func isNotFound(err error) bool {
	var e *northstar.Error
	return errors.As(err, &e) && e.Code == northstar.ENOTFOUND
}

// Settings returns the installation's settings (admins only).
func (a *App) Settings(ctx context.Context) (northstar.Settings, error) {
	var s northstar.Settings
	err := a.db.View(ctx, func(tx *store.Tx) error {
		if _, err := authorizeOrg(ctx, tx, northstar.OrgManageUsers); err != nil {
			return err
		}
		v, err := tx.Setting(ctx, settingOpenSignup, "false")
		s.OpenSignup = v == "true"
		return err
	})
	return s, err
}
