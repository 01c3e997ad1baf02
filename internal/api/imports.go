package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
	"github.com/northstar-pm/northstar/internal/importer"
)

// MaxImportBytes bounds an uploaded import file.
const MaxImportBytes = 128 << 20

func (a *API) importRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "POST", Pattern: "/api/v1/products/{key}/imports", Handler: authed(a.importFile)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/export", Handler: authed(a.exportProduct)},
	}
}

// importParams are an import's settings, from the query string or from the
// fields of a multipart form.
type importParams struct {
	format, mapping, pointsField, statusMap string
	dryRun, allOrNothing, markup            bool
}

func readImportParams(get func(string) string) (importParams, error) {
	p := importParams{format: strings.ToLower(strings.TrimSpace(get("format"))), mapping: get("map"),
		pointsField: strings.TrimSpace(get("points_field")), statusMap: get("status_map")}
	if p.format == "" {
		p.format = "jira"
	}
	if p.format != "jira" && p.format != "csv" {
		return p, northstar.FieldError("format", "format must be jira or csv.")
	}
	for _, b := range []struct {
		name string
		v    *bool
	}{{"dry_run", &p.dryRun}, {"all_or_nothing", &p.allOrNothing}, {"markup", &p.markup}} {
		if s := strings.TrimSpace(get(b.name)); s != "" {
			v, err := strconv.ParseBool(s)
			if err != nil {
				return p, northstar.FieldError(b.name, "%s must be true or false.", b.name)
			}
			*b.v = v
		}
	}
	return p, nil
}

// importFile imports a CSV file sent as the raw body (settings in the
// query string) or as the "file" part of a multipart form (settings in
// the query string or the form's other fields).
func (a *API) importFile(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxImportBytes)
	q := r.URL.Query()
	get := q.Get
	var body io.Reader = r.Body
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return northstar.FieldError("file", "The multipart body cannot be read: %v.", err)
		}
		fields := map[string]string{}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return northstar.FieldError("file", `Send the CSV file as the form's "file" part.`)
			}
			if err != nil {
				return uploadError(err)
			}
			if part.FormName() == "file" {
				body = part
				break
			}
			b, err := io.ReadAll(io.LimitReader(part, 64<<10))
			if err != nil {
				return uploadError(err)
			}
			fields[part.FormName()] = string(b)
		}
		get = func(k string) string {
			if v := q.Get(k); v != "" {
				return v
			}
			return fields[k]
		}
	}
	p, err := readImportParams(get)
	if err != nil {
		return err
	}
	statuses := map[string]northstar.StoryStatus{}
	if p.statusMap != "" {
		for _, pair := range strings.Split(p.statusMap, ",") {
			name, st, ok := strings.Cut(pair, "=")
			status := northstar.StoryStatus(strings.TrimSpace(st))
			if !ok || !status.Valid() {
				return northstar.FieldError("status_map", "status_map %q: write Name=status, with status one of new, ready, in_progress, in_review, done.", pair)
			}
			statuses[strings.TrimSpace(name)] = status
		}
	}
	t, err := importer.ReadCSV(body)
	if err != nil {
		return importError(err)
	}
	opts := importer.Options{PointsField: p.pointsField, StatusMap: statuses, Markup: p.markup}
	var res *importer.Result
	if p.format == "jira" {
		res, err = importer.ParseJira(t, opts)
	} else {
		m, merr := importer.ParseMapping(p.mapping)
		if merr != nil {
			return northstar.FieldError("map", "%s.", merr.Error())
		}
		res, err = importer.ParseCSV(t, m, opts)
	}
	if err != nil {
		return importError(err)
	}
	rep, err := a.app.Import(r.Context(), r.PathValue("key"), res, app.ImportOptions{DryRun: p.dryRun, AllOrNothing: p.allOrNothing})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
	return nil
}

// importError turns a file the importer cannot read into a 400 that says
// why, and an oversized body into a 413.
func importError(err error) error {
	var fe *importer.ErrFile
	if errors.As(err, &fe) {
		return northstar.FieldError("file", "%s", fe.Reason)
	}
	return uploadError(err)
}

func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &northstar.Error{Code: northstar.EINVALID, Field: "file", Message: fmt.Sprintf("The file is larger than %d MB.", MaxImportBytes>>20)}
	}
	return northstar.FieldError("file", "The upload cannot be read: %v.", err)
}

// exportProduct streams a product's complete JSON export.
func (a *API) exportProduct(w http.ResponseWriter, r *http.Request) error {
	key := strings.ToUpper(strings.TrimSpace(r.PathValue("key")))
	// Check first: once the export streams, an error can no longer be a
	// JSON error answer.
	if _, err := a.app.Product(r.Context(), key); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+key+`-export.json"`)
	if _, err := a.app.Export(r.Context(), []string{key}, false, w); err != nil {
		slog.Warn("export", "product", key, "err", err)
	}
	return nil
}
