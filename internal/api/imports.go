package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

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
		{Method: "GET", Pattern: "/api/v1/products/{key}/stories.csv", Handler: authed(a.storiesCSV)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/features.csv", Handler: authed(a.featuresCSV)},
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
		return &northstar.Error{Code: northstar.ETOOLARGE, Field: "file", Message: fmt.Sprintf("The file is larger than %d MB.", MaxImportBytes>>20)}
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

// storiesCSV writes the backlog as CSV, in backlog order, with the same
// filters as the story list; it reads a page at a time.
func (a *API) storiesCSV(w http.ResponseWriter, r *http.Request) error {
	f, err := storyFilter(r.URL.Query())
	if err != nil {
		return err
	}
	key := strings.ToUpper(strings.TrimSpace(r.PathValue("key")))
	f.Limit = 500
	page, err := a.app.Stories(r.Context(), key, f) // errors answer before any CSV is written
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+key+`-stories.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"ref", "type", "title", "status", "points", "assignee", "labels", "feature", "persona", "want", "benefit",
		"description", "criteria", "accepted", "created_at", "updated_at"})
	for {
		for _, s := range page {
			pts, assignee, feature := "", "", ""
			if s.Points != nil {
				pts = strconv.Itoa(*s.Points)
			}
			if s.Assignee != nil {
				assignee = s.Assignee.Email
			}
			if s.Feature != nil {
				feature = s.Feature.Ref
			}
			crit := make([]string, len(s.Criteria))
			for i, c := range s.Criteria {
				crit[i] = c.Text
			}
			row := []string{s.Ref, string(s.Type), s.Title, string(s.Status), pts, assignee, strings.Join(s.Labels, ","), feature,
				s.Persona, s.Want, s.Benefit, s.Description, strings.Join(crit, "\n"), strconv.FormatBool(s.Accepted),
				s.CreatedAt.Format(time.RFC3339), s.UpdatedAt.Format(time.RFC3339)}
			for i := range row {
				row[i] = importer.CSVCell(row[i])
			}
			cw.Write(row)
		}
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].Rank
		if page, err = a.app.Stories(r.Context(), key, f); err != nil {
			slog.Warn("stories csv", "product", key, "err", err)
			break
		}
	}
	cw.Flush()
	return nil
}

// featuresCSV writes a product's features as CSV, by number, with the
// same filters as the feature list.
func (a *API) featuresCSV(w http.ResponseWriter, r *http.Request) error {
	flt, err := featureFilter(r.URL.Query())
	if err != nil {
		return err
	}
	key := strings.ToUpper(strings.TrimSpace(r.PathValue("key")))
	fs, err := a.app.FeaturesFiltered(r.Context(), key, flt)
	if err != nil {
		return err
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Number < fs[j].Number })
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+key+`-features.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"ref", "title", "status", "release", "theme", "horizon", "moscow", "mvp", "owner", "problem", "solution",
		"rice", "value_effort", "stories", "created_at", "updated_at"})
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	for _, f := range fs {
		release, theme, owner := "", "", ""
		if f.Release != nil {
			release = f.Release.Name
		}
		if f.Theme != nil {
			theme = f.Theme.Name
		}
		if f.Owner != nil {
			owner = f.Owner.Email
		}
		row := []string{f.Ref, f.Title, string(f.Status), release, theme, string(f.Horizon), string(f.MoSCoW), strconv.FormatBool(f.MVP),
			owner, f.Problem, f.Solution, num(f.Computed.RICE), num(f.Computed.ValueEffort), strconv.Itoa(f.Progress.StoriesTotal),
			f.CreatedAt.Format(time.RFC3339), f.UpdatedAt.Format(time.RFC3339)}
		for i := range row {
			row[i] = importer.CSVCell(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
	return nil
}
