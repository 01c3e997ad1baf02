package northstar

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a person with a login. Users belong to the installation's one
// organization; admins manage users and may do everything.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Admin     bool      `json:"admin"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewUser is the input for creating a user.
type NewUser struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Validate normalises the input and checks it.
func (n *NewUser) Validate() error {
	if err := checkText("name", &n.Name, true, MaxNameLen); err != nil {
		return err
	}
	email, err := NormalizeEmail(n.Email)
	if err != nil {
		return err
	}
	n.Email = email
	return ValidatePassword("password", n.Password)
}

// NormalizeEmail checks an e-mail address and returns it lower-cased, the
// form in which addresses are stored and compared.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", FieldError("email", "email is required.")
	}
	if len(s) > MaxEmailLen {
		return "", FieldError("email", "email is too long (at most %d characters).", MaxEmailLen)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", FieldError("email", "email %q is not a valid address.", s)
	}
	return s, nil
}

// ValidatePassword enforces the password policy on a new password.
func ValidatePassword(field, p string) error {
	n := utf8.RuneCountInString(p)
	if n < MinPasswordLen {
		return FieldError(field, "password must be at least %d characters.", MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return FieldError(field, "password must be at most %d characters.", MaxPasswordLen)
	}
	return nil
}

// Session is a signed-in browser. The cookie holds a random secret; only its
// hash is stored.
type Session struct {
	ID        int64
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Token is a personal API token. Its secret is shown once at creation and
// stored only as a hash; Prefix lets the owner recognise it in a list.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"-"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// Invitation lets a person sign up while open sign-up is off. It may also
// make the invitee a member of one product.
type Invitation struct {
	ID         int64      `json:"id"`
	Email      string     `json:"email"`
	ProductKey string     `json:"product,omitempty"`
	Role       Role       `json:"role,omitempty"`
	InvitedBy  string     `json:"invited_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at"`
}

// NewInvitation is the input for inviting someone.
type NewInvitation struct {
	Email      string `json:"email"`
	ProductKey string `json:"product"`
	Role       Role   `json:"role"`
}

// Validate normalises the input and checks it.
func (n *NewInvitation) Validate() error {
	email, err := NormalizeEmail(n.Email)
	if err != nil {
		return err
	}
	n.Email = email
	n.ProductKey = strings.ToUpper(strings.TrimSpace(n.ProductKey))
	if n.ProductKey == "" {
		if n.Role != "" {
			return FieldError("product", "a role needs a product.")
		}
		return nil
	}
	if err := ValidateProductKey(n.ProductKey); err != nil {
		err.Field = "product"
		return err
	}
	if n.Role == "" {
		n.Role = RoleViewer
	}
	if !n.Role.Valid() {
		return FieldError("role", "role %q is not one of %s.", n.Role, RoleList())
	}
	return nil
}

// Credentials are the result of a successful sign-up or login through the API.
type Credentials struct {
	User  *User  `json:"user"`
	Token string `json:"token"`
}

// Settings are the installation's settings, changed by admins.
type Settings struct {
	OpenSignup bool `json:"open_signup"`
}
