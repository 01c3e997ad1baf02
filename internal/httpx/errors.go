// Package httpx holds what Northstar's HTML and JSON handlers share: the one
// table from application error codes to HTTP statuses, JSON helpers,
// authentication and the other middleware, and the server itself.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
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
	northstar.ETOOLARGE:      http.StatusRequestEntityTooLarge,
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
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; nobody reads the answer
	}
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return jsonError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field == "" {
			typ.Field = memberAtFault(body, v)
		}
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return northstar.Errorf(northstar.EINVALID, "The body must hold exactly one JSON object.")
	}
	return nil
}

// memberAtFault names the member of a JSON object body whose value does
// not fit v, "" if none does, with a dotted path into nested objects
// ("scores.effort"). encoding/json reports a wrong type met by a field's
// own UnmarshalJSON method (northstar.Optional) without the field's name;
// this finds it by decoding the members one at a time.
func memberAtFault(body []byte, v any) string {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return ""
	}
	return memberOfType(body, t.Elem())
}

func memberOfType(body []byte, t reflect.Type) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return ""
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return ""
		}
		one, err := json.Marshal(map[string]json.RawMessage{key: raw})
		if err != nil {
			return ""
		}
		var typ *json.UnmarshalTypeError
		if err := json.Unmarshal(one, reflect.New(t).Interface()); errors.As(err, &typ) {
			if inner := structOf(t, key); inner != nil {
				if sub := memberOfType(raw, inner); sub != "" {
					return key + "." + sub
				}
			}
			return key
		}
	}
	return ""
}

// structOf returns the struct type of t's field named key in JSON, nil if
// it is not a struct (or a pointer to one).
func structOf(t reflect.Type, key string) reflect.Type {
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != key {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			return ft
		}
		return nil
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
		// A map keyed by numbers met a key that is not one: the decoder
		// names the key as a field and its value as "number <key>".
		if key, ok := strings.CutPrefix(typ.Value, "number "); ok && strings.HasSuffix(field, "."+key) {
			field = strings.TrimSuffix(field, "."+key)
			return northstar.FieldError(field, "%s must be keyed by numeric ids, not %q.", field, key)
		}
		return northstar.FieldError(field, "%s must be %s, not %s.", field, jsonType(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &tooBig):
		return northstar.Errorf(northstar.ETOOLARGE, "The body is too large (at most %d bytes).", tooBig.Limit)
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
