// Package api serves Northstar's JSON REST API under /api/v1. Every route
// is listed in Routes; the OpenAPI document describes each one, and a test
// keeps the two in step.
package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// API holds the JSON handlers.
type API struct {
	app *app.App
	// BaseURL is the server's public address, used in invitation links.
	BaseURL string
	// StreamsPerUser bounds the event streams one account may hold open;
	// 0 means DefaultStreamsPerUser.
	StreamsPerUser int
}

// New returns the API on top of a.
func New(a *app.App, baseURL string) *API {
	return &API{app: a, BaseURL: strings.TrimSuffix(baseURL, "/")}
}

// handlerFunc is a handler that returns its error; handle writes it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func handle(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			httpx.WriteError(w, r, err)
		}
	})
}

// deleteProductItem answers DELETE /api/v1/products/{key}/…/{id} for the
// items a product holds by id (segments, personas, releases, …) with 204.
func deleteProductItem(del func(ctx context.Context, key string, id int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := del(r.Context(), r.PathValue("key"), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// authed refuses anonymous requests with 401 before fn runs.
func authed(fn handlerFunc) http.Handler {
	return handle(func(w http.ResponseWriter, r *http.Request) error {
		if northstar.UserFromContext(r.Context()) == nil {
			return northstar.Errorf(northstar.EUNAUTHORIZED, "Authentication required: send \"Authorization: Bearer <token>\" or sign in.")
		}
		return fn(w, r)
	})
}

// Routes lists every API route.
func (a *API) Routes() []httpx.Route {
	routes := []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/openapi.json", Handler: handle(a.openAPI)},
		{Method: "POST", Pattern: "/api/v1/signup", Handler: handle(a.signUp)},
		{Method: "POST", Pattern: "/api/v1/tokens", Handler: handle(a.createToken)},
		{Method: "GET", Pattern: "/api/v1/tokens", Handler: authed(a.listTokens)},
		{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", Handler: authed(a.revokeToken)},
		{Method: "GET", Pattern: "/api/v1/me", Handler: authed(a.me)},
		{Method: "POST", Pattern: "/api/v1/me/password", Handler: authed(a.changePassword)},
		{Method: "GET", Pattern: "/api/v1/products", Handler: authed(a.listProducts)},
		{Method: "POST", Pattern: "/api/v1/products", Handler: authed(a.createProduct)},
		{Method: "GET", Pattern: "/api/v1/products/{key}", Handler: authed(a.getProduct)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}", Handler: authed(a.updateProduct)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/stage", Handler: authed(a.changeStage)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/stages", Handler: authed(a.stageHistory)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/members", Handler: authed(a.listMembers)},
		{Method: "PUT", Pattern: "/api/v1/products/{key}/members/{email}", Handler: authed(a.setMember)},
		{Method: "DELETE", Pattern: "/api/v1/products/{key}/members/{email}", Handler: authed(a.removeMember)},
		{Method: "GET", Pattern: "/api/v1/users", Handler: authed(a.listUsers)},
		{Method: "PATCH", Pattern: "/api/v1/users/{email}", Handler: authed(a.changeUser)},
		{Method: "GET", Pattern: "/api/v1/invitations", Handler: authed(a.listInvitations)},
		{Method: "POST", Pattern: "/api/v1/invitations", Handler: authed(a.invite)},
		{Method: "DELETE", Pattern: "/api/v1/invitations/{id}", Handler: authed(a.revokeInvitation)},
		{Method: "GET", Pattern: "/api/v1/settings", Handler: authed(a.getSettings)},
		{Method: "PATCH", Pattern: "/api/v1/settings", Handler: authed(a.changeSettings)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/stories", Handler: authed(a.listStories)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/stories", Handler: authed(a.createStory)},
		{Method: "POST", Pattern: "/api/v1/stories/bulk", Handler: authed(a.bulkUpdateStories)},
		{Method: "GET", Pattern: "/api/v1/stories/{ref}", Handler: authed(a.getStory)},
		{Method: "PATCH", Pattern: "/api/v1/stories/{ref}", Handler: authed(a.updateStory)},
		{Method: "DELETE", Pattern: "/api/v1/stories/{ref}", Handler: authed(a.deleteStory)},
		{Method: "POST", Pattern: "/api/v1/stories/{ref}/move", Handler: authed(a.moveStory)},
		{Method: "POST", Pattern: "/api/v1/stories/{ref}/criteria", Handler: authed(a.addCriterion)},
		{Method: "PATCH", Pattern: "/api/v1/stories/{ref}/criteria/{id}", Handler: authed(a.updateCriterion)},
		{Method: "DELETE", Pattern: "/api/v1/stories/{ref}/criteria/{id}", Handler: authed(a.deleteCriterion)},
		{Method: "POST", Pattern: "/api/v1/stories/{ref}/tasks", Handler: authed(a.addTask)},
		{Method: "PATCH", Pattern: "/api/v1/stories/{ref}/tasks/{id}", Handler: authed(a.updateTask)},
		{Method: "DELETE", Pattern: "/api/v1/stories/{ref}/tasks/{id}", Handler: authed(a.deleteTask)},
		{Method: "GET", Pattern: "/api/v1/search", Handler: authed(a.search)},
	}
	routes = append(routes, a.discoveryRoutes()...)
	routes = append(routes, a.roadmapRoutes()...)
	routes = append(routes, a.sprintRoutes()...)
	routes = append(routes, a.streamRoutes()...)
	routes = append(routes, a.collabRoutes()...)
	routes = append(routes, a.estimationRoutes()...)
	routes = append(routes, a.importRoutes()...)
	routes = append(routes, a.metricRoutes()...)
	routes = append(routes, a.alignmentRoutes()...)
	routes = append(routes, a.noticeRoutes()...)
	routes = append(routes, a.portfolioRoutes()...)
	return append(routes, a.portalRoutes()...)
}

// Handler returns the API's handler, answering JSON 404 and 405 for
// unknown routes.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	httpx.Mount(mux, a.Routes())
	mux.Handle("/api/", handle(func(w http.ResponseWriter, r *http.Request) error {
		return northstar.Errorf(northstar.ENOTFOUND, "No API route %s %s.", r.Method, r.URL.Path)
	}))
	return mux
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDocument)
	return err
}

// Page is the JSON shape of a list: its items and, if there are more, the
// cursor that fetches the next page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// DefaultLimit and MaxLimit bound list pages.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// maxCursorLen bounds a decoded cursor: the sort key of one item.
const maxCursorLen = 200

// pageParams reads ?limit= and ?cursor=. Cursors are opaque to clients;
// inside, they hold the sort key of the last item of the previous page.
func pageParams(r *http.Request) (limit int, after string, err error) {
	return pageParamsUpTo(r, maxCursorLen)
}

// pageParamsUpTo is pageParams for lists whose sort key may be longer
// than maxCursorLen bytes (a name and an id).
func pageParamsUpTo(r *http.Request, maxCursor int) (limit int, after string, err error) {
	limit = DefaultLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return 0, "", northstar.FieldError("limit", "limit must be a whole number from 1 to %d.", MaxLimit)
		}
		limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 || len(b) > maxCursor || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
			return 0, "", northstar.FieldError("cursor", "cursor is not one this server gave out.")
		}
		after = string(b)
	}
	return limit, after, nil
}

func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// ifMatch reads the version a client saw from If-Match: "3", 3 or W/"3".
// No header means 0: the change is not checked against a version.
func ifMatch(r *http.Request) (int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, nil
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.Atoi(h)
	if err != nil || n < 1 {
		return 0, &northstar.Error{Code: northstar.EINVALID, Field: "If-Match", Message: `If-Match must be the item's version, as in "3".`}
	}
	return n, nil
}

func setETag(w http.ResponseWriter, version int) {
	w.Header().Set("ETag", `"`+strconv.Itoa(version)+`"`)
}

// pathID reads a numeric path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, northstar.FieldError(name, "%s must be a positive whole number.", name)
	}
	return id, nil
}
