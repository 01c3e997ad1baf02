// Package server assembles Northstar's HTTP handler: the web UI, the JSON
// API, health checks and the middleware around them.
package server

import (
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/northstar-pm/northstar/internal/api"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
	"github.com/northstar-pm/northstar/internal/web"
)

// Server is Northstar's HTTP front.
type Server struct {
	app *app.App
	api *api.API
	web *web.Web
	log *slog.Logger

	// Limits bounds the requests handled at once; zero fields take
	// httpx's defaults. Set it before calling Handler.
	Limits httpx.Limits
	// TrustedProxies are the load balancers whose X-Forwarded-For names
	// the client; none: the peer is the client. Set it before Handler.
	TrustedProxies []netip.Prefix
}

// New builds the server. baseURL is the public address used in links.
func New(a *app.App, baseURL string, log *slog.Logger) (*Server, error) {
	w, err := web.New(a, baseURL)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Server{app: a, api: api.New(a, baseURL), web: w, log: log}, nil
}

// healthRoutes answer load balancers and orchestrators.
func (s *Server) healthRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/healthz", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		})},
		{Method: "GET", Pattern: "/readyz", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := s.app.Ready(r.Context()); err != nil {
				s.log.Warn("not ready", "err", err)
				httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
				return
			}
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		})},
	}
}

// Routes lists every route the server answers, for tests that walk them.
func (s *Server) Routes() []httpx.Route {
	var all []httpx.Route
	all = append(all, s.healthRoutes()...)
	all = append(all, s.api.Routes()...)
	all = append(all, s.web.Routes()...)
	return all
}

// StopStreams ends the live event streams, which http.Server.Shutdown
// would otherwise wait for: call it as shutdown begins.
func (s *Server) StopStreams() { s.api.StopStreams() }

// APIRoutes lists the JSON API's routes.
func (s *Server) APIRoutes() []httpx.Route { return s.api.Routes() }

// Handler returns the whole server's handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	httpx.Mount(mux, s.healthRoutes())
	mux.Handle("/api/", s.api.Handler())
	mux.Handle("/", s.web.Handler())
	return httpx.Chain(mux,
		httpx.ClientAddress(s.TrustedProxies),
		httpx.Log(s.log),
		httpx.Recover,
		httpx.SecurityHeaders,
		httpx.Limit(s.Limits),
		httpx.CSRF,
		httpx.Authenticate(s.app),
		httpx.Audit(s.log),
	)
}
