package httpx

import (
	"net/http"
)

// Route is one entry of a package's routing table. Tests walk the tables:
// the OpenAPI document must list every API route, no GET route may change
// state, and every route has a row in the permission matrix.
type Route struct {
	Method  string
	Pattern string // path pattern as http.ServeMux understands it
	Handler http.Handler
}

// Mount registers the routes on mux, each under its method.
func Mount(mux *http.ServeMux, routes []Route) {
	for _, rt := range routes {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
}
