package northstar

import (
	"errors"
	"fmt"
)

// Error codes name the kinds of failure the application reports. The HTTP
// layer maps each one to a status in a single table; nothing else decides it.
const (
	EINVALID       = "invalid"       // bad input: 400
	EUNAUTHORIZED  = "unauthorized"  // no or bad credentials: 401
	EFORBIDDEN     = "forbidden"     // authenticated but not allowed: 403
	ENOTFOUND      = "not_found"     // missing or hidden: 404
	ECONFLICT      = "conflict"      // stale version or duplicate: 409
	EUNPROCESSABLE = "unprocessable" // a business rule refuses the change: 422
	ERATELIMITED   = "rate_limited"  // too many attempts: 429
	ETOOLARGE      = "too_large"     // a body over its size limit: 413
	EINTERNAL      = "internal"      // anything unexpected: 500
)

// Error is the application's error: a code from the list above, a message
// that is safe to show to the user and, for bad input, the field at fault.
type Error struct {
	Code    string
	Message string
	Field   string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("northstar error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("northstar error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an application error with the given code and message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error that names the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first application error in err's chain,
// EINTERNAL for any other error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Unknown errors get a
// generic message so that internal detail never reaches a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field named by err, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
