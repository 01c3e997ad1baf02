// Package northstar holds Northstar's domain: the types a product team works
// with, their validation rules, the permission table and the service
// contracts that the application layer implements. It imports only the
// standard library, so that storage and HTTP depend on it and never the
// other way round.
package northstar

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Version is the build's version, set by the linker (-X) in release builds.
var Version = "dev"

// Limits on the length of text fields, in characters. They are documented in
// the README and the OpenAPI document.
const (
	MaxNameLen        = 100
	MaxEmailLen       = 254
	MaxTitleLen       = 200
	MaxDescriptionLen = 2000
	MaxMarkdownLen    = 50000
	MaxNoteLen        = 2000
	MinPasswordLen    = 10
	MaxPasswordLen    = 256
)

type contextKey int

const userContextKey contextKey = iota

// NewContextWithUser returns a context that carries the authenticated user.
func NewContextWithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userContextKey, u)
}

// UserFromContext returns the authenticated user, or nil for anonymous.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userContextKey).(*User)
	return u
}

// checkText trims s and enforces its length. An empty required field and an
// over-long one both name the field in the error.
func checkText(field string, s *string, required bool, max int) error {
	*s = strings.TrimSpace(*s)
	if required && *s == "" {
		return FieldError(field, "%s is required.", field)
	}
	if !utf8.ValidString(*s) {
		return FieldError(field, "%s is not valid UTF-8.", field)
	}
	if n := utf8.RuneCountInString(*s); n > max {
		return FieldError(field, "%s is too long (%d characters, at most %d).", field, n, max)
	}
	if strings.ContainsRune(*s, 0) {
		return FieldError(field, "%s contains a NUL character.", field)
	}
	return nil
}

// Clock returns the current time; services take one so tests can fix it.
type Clock func() time.Time

// jsonUnmarshal is encoding/json.Unmarshal; a variable so the domain
// package needs it in one place only.
var jsonUnmarshal = json.Unmarshal
