package api

// Product metrics: definitions, points pushed as JSON by a daily job (any
// API token of a product manager) or uploaded as CSV, and a series with
// its lifecycle suggestion.

import (
	"mime"
	"net/http"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// maxMetricCSVBytes bounds a CSV upload: ten years of daily rows fit in a
// tenth of it.
const maxMetricCSVBytes = 4 << 20

// metricRoutes lists the metric routes; Routes includes them.
func (a *API) metricRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/products/{key}/metrics", Handler: authed(a.listMetrics)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/metrics", Handler: authed(a.createMetric)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/metrics/{id}", Handler: authed(a.getSeries)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/metrics/{id}/points", Handler: authed(a.pushPoints)},
	}
}

func (a *API) listMetrics(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.app.Metrics(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.Metric]{Items: ms})
	return nil
}

func (a *API) createMetric(w http.ResponseWriter, r *http.Request) error {
	var in northstar.MetricInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	m, err := a.app.CreateMetric(r.Context(), r.PathValue("key"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/products/"+m.ProductKey+"/metrics/"+m.Key)
	httpx.WriteJSON(w, http.StatusCreated, m)
	return nil
}

func (a *API) getSeries(w http.ResponseWriter, r *http.Request) error {
	var from, to time.Time
	for _, q := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := r.URL.Query().Get(q.name); v != "" {
			d, err := northstar.ParseDate(q.name, v)
			if err != nil {
				return err
			}
			*q.t = d.Time
		}
	}
	s, err := a.app.Series(r.Context(), r.PathValue("key"), r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s)
	return nil
}

// metricPointsRequest is a batch of points.
type metricPointsRequest struct {
	Points []northstar.PointInput `json:"points"`
}

// pushPoints records points from JSON, or from a CSV body (Content-Type
// text/csv).
func (a *API) pushPoints(w http.ResponseWriter, r *http.Request) error {
	key, metric := r.PathValue("key"), r.PathValue("id")
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var (
		res *northstar.PointsResult
		err error
	)
	if mt == "text/csv" {
		r.Body = http.MaxBytesReader(w, r.Body, maxMetricCSVBytes)
		res, err = a.app.ImportMetricCSV(r.Context(), key, metric, r.Body)
	} else {
		var req metricPointsRequest
		if err := httpx.DecodeJSON(w, r, &req); err != nil {
			return err
		}
		res, err = a.app.RecordPoints(r.Context(), key, metric, req.Points)
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}
