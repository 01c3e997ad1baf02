// Package httpx holds what Northstar's HTML and JSON handlers share: the one
// table from application error codes to HTTP statuses, JSON helpers,
// authentication and the other middleware, and the server itself.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/northstar-pm/northstar"
)

// statuses maps application error codes to HTTP statuses. It is the only
// place that does.
var statuses = map[string]int{
	northstar.EINVALID:       http.StatusBadRequest,
	northstar.EUNAUTHORIZED:  http.StatusUnauthorized,
	northstar.EFORBIDDEN:     http.StatusForbidden,
	northstar.ENOTFOUND:      http.StatusNotFound,
	northstar.ECONFLICT:      http.StatusConflict,
	northstar.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	northstar.ERATELIMITED:   http.StatusTooManyRequests,
	northstar.EINTERNAL:      http.StatusInternalServerError,
}

// Status returns the HTTP status for an error.
func Status(err error) int {
	if s, ok := statuses[northstar.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error to an API client.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// LogError logs errors that are the server's fault; the others are the
// client's and only noise in the log.
func LogError(r *http.Request, err error) {
	if Status(err) >= 500 {
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// WriteError writes err as a JSON error response.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	LogError(r, err)
	status := Status(err)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{
		Code:    northstar.ErrorCode(err),
		Message: northstar.ErrorMessage(err),
		Field:   northstar.ErrorField(err),
	}})
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		slog.Warn("write json", "err", err)
	}
}

// MaxBodyBytes bounds request bodies.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads one JSON object from the request body into v. Unknown
// fields, wrong types, trailing data and bodies over MaxBodyBytes are
// EINVALID errors that name the field where they can.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	// The Content-Type is not checked: the body must be JSON whatever it
	// says, and "curl -d" sends a form type by default.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return northstar.Errorf(northstar.EINVALID, "The body must hold exactly one JSON object.")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return northstar.Errorf(northstar.EINVALID, "The body is empty; send a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return northstar.Errorf(northstar.EINVALID, "The JSON body ends too early.")
	case errors.As(err, &syntax):
		return northstar.Errorf(northstar.EINVALID, "Malformed JSON at byte %d: %v.", syntax.Offset, syntax)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return northstar.Errorf(northstar.EINVALID, "The body must be a JSON object, not %s.", typ.Value)
		}
		return northstar.FieldError(field, "%s must be %s, not %s.", field, jsonType(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &tooBig):
		return northstar.Errorf(northstar.EINVALID, "The body is too large (at most %d bytes).", tooBig.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return northstar.FieldError(field, "Unknown field %q.", field)
	}
	return northstar.Errorf(northstar.EINVALID, "Invalid JSON: %v.", err)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return fmt.Sprintf("a %s", kind)
}
