package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
	"github.com/northstar-pm/northstar/internal/importer"
)

// The import wizard: upload a CSV file, see its first rows, choose what
// each column is and how unknown statuses map, try a dry run, then run the
// import and watch its progress. The upload waits in a temporary file on
// this server between the steps (an hour at most), so the steps must
// reach the same server.

const (
	maxWizardUpload = 128 << 20
	wizardTTL       = time.Hour
	previewRows     = 10
	previewCellLen  = 120
)

func (web *Web) importRoutes() []httpx.Route {
	a := web.authed
	return []httpx.Route{
		{Method: "GET", Pattern: "/products/{key}/import", Handler: a(web.importPage)},
		{Method: "POST", Pattern: "/products/{key}/import", Handler: a(web.uploadImport)},
		{Method: "GET", Pattern: "/products/{key}/import/{token}", Handler: a(web.importWizard)},
		{Method: "POST", Pattern: "/products/{key}/import/{token}", Handler: a(web.runImportWizard)},
		{Method: "GET", Pattern: "/products/{key}/export.json", Handler: a(web.exportJSON)},
	}
}

// importUpload is one uploaded file waiting for the wizard's next step,
// and the import run from it.
type importUpload struct {
	token, product, name, path, format string
	userID                             int64
	created                            time.Time

	mu          sync.Mutex
	mapping     importer.Mapping
	statuses    map[string]northstar.StoryStatus
	allOrNone   bool
	running     bool
	done, total int
	report      *app.ImportReport
	err         error
}

// uploads holds the wizard's files by token. The wizard is the one place
// with state between requests, so it keeps it here rather than in Web.
var uploads = struct {
	sync.Mutex
	m map[string]*importUpload
}{m: map[string]*importUpload{}}

func findUpload(r *http.Request) (*importUpload, error) {
	u := northstar.UserFromContext(r.Context())
	uploads.Lock()
	defer uploads.Unlock()
	for t, up := range uploads.m { // drop stale uploads
		up.mu.Lock()
		stale := !up.running && time.Since(up.created) > wizardTTL
		up.mu.Unlock()
		if stale {
			os.Remove(up.path)
			delete(uploads.m, t)
		}
	}
	up, ok := uploads.m[r.PathValue("token")]
	if !ok || u == nil || up.userID != u.ID || !strings.EqualFold(up.product, r.PathValue("key")) {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "This import is not there any more (uploads are kept for an hour); upload the file again.")
	}
	return up, nil
}

type importColumn struct {
	Name     string
	Field    string
	Repeated bool // a later column of the same name, read with the first
	Sample   string
}

type statusChoice struct {
	Name   string
	Count  int
	Choice northstar.StoryStatus
}

type importView struct {
	page
	Product       *northstar.Product
	Token         string
	FileName      string
	Format        string
	Encoding      string
	RowCount      int
	Header        []string
	Rows          [][]string
	Columns       []importColumn
	Fields        []importer.Field
	Statuses      []statusChoice
	StoryStatuses []northstar.StoryStatus
	AllOrNothing  bool
	Report        *app.ImportReport
	Errors        []importer.RowError
	MoreErrors    int
	Running       bool
	Done, Total   int
	Percent       int
	Error         *formError
}

// checkImporter refuses people who may not import before they upload: a
// dry run of nothing checks the permission.
func (web *Web) checkImporter(ctx context.Context, key string) (*northstar.Product, error) {
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	if _, err := web.app.Import(ctx, key, &importer.Result{}, app.ImportOptions{DryRun: true}); err != nil {
		return nil, err
	}
	return p, nil
}

func (web *Web) importPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.checkImporter(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	view := importView{page: web.newPage(w, r, "Import into "+p.Key, "products"), Product: p, Format: "jira"}
	return web.render(w, r, http.StatusOK, "import", view)
}

// uploadImport keeps the uploaded file and opens the wizard on it.
func (web *Web) uploadImport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.checkImporter(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	view := importView{page: web.newPage(w, r, "Import into "+p.Key, "products"), Product: p, Format: "jira"}
	fail := func(err error) error {
		view.Error = toFormError(err)
		return web.render(w, r, httpx.Status(err), "import", view)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxWizardUpload)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return fail(northstar.FieldError("file", "Choose a CSV file to upload."))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return fail(northstar.FieldError("file", "The upload cannot be read: %v.", err))
	}
	up := &importUpload{product: p.Key, userID: northstar.UserFromContext(r.Context()).ID, created: time.Now(), format: "jira"}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(uploadFailure(err))
		}
		switch part.FormName() {
		case "format":
			b, _ := io.ReadAll(io.LimitReader(part, 100))
			if f := strings.TrimSpace(string(b)); f == "csv" || f == "jira" {
				up.format = f
			}
		case "file":
			if up.path != "" {
				continue
			}
			up.name = filepath.Base(part.FileName())
			f, err := os.CreateTemp("", "northstar-import-*.csv")
			if err != nil {
				return err
			}
			n, err := io.Copy(f, part)
			f.Close()
			if err != nil {
				os.Remove(f.Name())
				return fail(uploadFailure(err))
			}
			if n == 0 {
				os.Remove(f.Name())
				return fail(northstar.FieldError("file", "Choose a CSV file to upload; that one is empty."))
			}
			up.path = f.Name()
		}
	}
	if up.path == "" {
		return fail(northstar.FieldError("file", "Choose a CSV file to upload."))
	}
	view.Format = up.format
	// Read it once now, so a file that is no CSV is refused at once.
	t, err := readUpload(up.path)
	if err != nil {
		os.Remove(up.path)
		return fail(err)
	}
	if up.format == "jira" {
		up.mapping, err = importer.JiraMapping(t, "")
		if err != nil {
			os.Remove(up.path)
			return fail(northstar.FieldError("file", "%s Choose \"Other CSV\" to map the columns yourself.", err.Error()))
		}
	} else {
		up.mapping = importer.GuessMapping(t.Header)
	}
	b := make([]byte, 16)
	rand.Read(b)
	up.token = hex.EncodeToString(b)
	uploads.Lock()
	uploads.m[up.token] = up
	uploads.Unlock()
	redirect(w, r, "/products/"+p.Key+"/import/"+up.token)
	return nil
}

func uploadFailure(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &northstar.Error{Code: northstar.ETOOLARGE, Field: "file", Message: fmt.Sprintf("The file is larger than %d MB.", maxWizardUpload>>20)}
	}
	return northstar.FieldError("file", "The upload cannot be read: %v.", err)
}

func readUpload(path string) (*importer.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := importer.ReadCSV(f)
	var fe *importer.ErrFile
	if errors.As(err, &fe) {
		return nil, northstar.FieldError("file", "%s", fe.Reason)
	}
	return t, err
}

func (up *importUpload) parse(t *importer.Table) (*importer.Result, error) {
	opts := importer.Options{StatusMap: up.statuses}
	var res *importer.Result
	var err error
	if up.format == "jira" {
		res, err = importer.ParseJiraMapped(t, up.mapping, opts)
	} else {
		res, err = importer.ParseCSV(t, up.mapping, opts)
	}
	var fe *importer.ErrFile
	if errors.As(err, &fe) {
		return nil, northstar.FieldError("mapping", "%s", fe.Reason)
	}
	return res, err
}

// importWizard shows the preview and the choices, the progress of a
// running import, or its report.
func (web *Web) importWizard(w http.ResponseWriter, r *http.Request) error {
	up, err := findUpload(r)
	if err != nil {
		return err
	}
	view, err := web.wizardView(w, r, up)
	if err != nil {
		return err
	}
	if view.Running {
		w.Header().Set("Refresh", "1")
	}
	return web.render(w, r, http.StatusOK, "import", view)
}

func (web *Web) wizardView(w http.ResponseWriter, r *http.Request, up *importUpload) (*importView, error) {
	p, err := web.app.Product(r.Context(), up.product)
	if err != nil {
		return nil, err
	}
	up.mu.Lock()
	view := &importView{page: web.newPage(w, r, "Import into "+p.Key, "products"), Product: p, Token: up.token, FileName: up.name,
		Format: up.format, Fields: importer.Fields, StoryStatuses: northstar.StoryStatuses, AllOrNothing: up.allOrNone,
		Running: up.running, Done: up.done, Total: up.total, Report: up.report}
	if up.err != nil {
		view.Error = toFormError(up.err)
	}
	mapping := up.mapping
	up.mu.Unlock()
	if view.Total > 0 {
		view.Percent = view.Done * 100 / view.Total
	}
	if view.Report != nil {
		view.Errors = view.Report.Errors
		if len(view.Errors) > 200 {
			view.MoreErrors = len(view.Errors) - 200
			view.Errors = view.Errors[:200]
		}
	}
	if view.Running {
		return view, nil
	}
	t, err := readUpload(up.path)
	if err != nil {
		return nil, err
	}
	view.Encoding, view.RowCount, view.Header = t.Encoding, len(t.Rows), t.Header
	fieldOf := map[string]string{}
	for f, c := range mapping {
		fieldOf[strings.ToLower(c)] = f
	}
	seen := map[string]bool{}
	for i, h := range t.Header {
		col := importColumn{Name: h, Field: fieldOf[strings.ToLower(h)], Repeated: seen[strings.ToLower(h)]}
		seen[strings.ToLower(h)] = true
		for _, row := range t.Rows[:min(len(t.Rows), 20)] {
			if v := strings.TrimSpace(row.Fields[i]); v != "" {
				col.Sample = clip(v, 40)
				break
			}
		}
		view.Columns = append(view.Columns, col)
	}
	for _, row := range t.Rows[:min(previewRows, len(t.Rows))] {
		cells := make([]string, len(row.Fields))
		for i, c := range row.Fields {
			cells[i] = clip(c, previewCellLen)
		}
		view.Rows = append(view.Rows, cells)
	}
	res, err := up.parse(t)
	if err != nil {
		if view.Error == nil {
			view.Error = toFormError(err)
		}
		return view, nil
	}
	up.mu.Lock()
	for _, s := range res.UnknownStatuses {
		view.Statuses = append(view.Statuses, statusChoice{Name: s.Value, Count: s.Count, Choice: northstar.StatusNew})
	}
	for name, st := range up.statuses {
		view.Statuses = append(view.Statuses, statusChoice{Name: name, Count: -1, Choice: st})
	}
	up.mu.Unlock()
	return view, nil
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// runImportWizard takes the choices and runs a dry run (shown at once) or
// the import (in the background, its progress shown until it ends).
func (web *Web) runImportWizard(w http.ResponseWriter, r *http.Request) error {
	up, err := findUpload(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	up.mu.Lock()
	if up.running {
		up.mu.Unlock()
		redirect(w, r, r.URL.Path)
		return nil
	}
	up.err, up.report = nil, nil
	up.allOrNone = r.PostForm.Get("all_or_nothing") != ""
	up.mu.Unlock()
	t, err := readUpload(up.path)
	if err != nil {
		return err
	}
	m := importer.Mapping{}
	var ferr error
	for _, h := range t.Header {
		f := strings.TrimSpace(r.PostForm.Get("col:" + h))
		if f == "" {
			continue
		}
		if prev, dup := m[f]; dup && !strings.EqualFold(prev, h) {
			ferr = northstar.FieldError("mapping", "%s is chosen for two columns, %q and %q; choose one.", f, prev, h)
			break
		}
		m[f] = h
	}
	statuses := map[string]northstar.StoryStatus{}
	for k, v := range r.PostForm {
		if name, ok := strings.CutPrefix(k, "status:"); ok && len(v) > 0 {
			if st := northstar.StoryStatus(v[0]); st.Valid() {
				statuses[name] = st
			}
		}
	}
	up.mu.Lock()
	up.mapping, up.statuses = m, statuses
	up.err = ferr
	up.mu.Unlock()
	if ferr != nil {
		redirect(w, r, r.URL.Path)
		return nil
	}
	res, err := up.parse(t)
	if err != nil {
		up.mu.Lock()
		up.err = err
		up.mu.Unlock()
		redirect(w, r, r.URL.Path)
		return nil
	}
	user := northstar.UserFromContext(r.Context())
	opts := app.ImportOptions{AllOrNothing: up.allOrNone}
	if r.PostForm.Get("action") != "run" {
		opts.DryRun = true
		rep, err := web.app.Import(r.Context(), up.product, res, opts)
		up.mu.Lock()
		up.report, up.err = rep, err
		up.mu.Unlock()
		if err != nil && !userError(err) {
			return err
		}
		redirect(w, r, r.URL.Path)
		return nil
	}
	up.mu.Lock()
	up.running, up.done, up.total = true, 0, len(res.Items)
	up.mu.Unlock()
	opts.Progress = func(done, total int) {
		up.mu.Lock()
		up.done, up.total = done, total
		up.mu.Unlock()
	}
	// The import outlives the request; it acts as the same person.
	ctx := northstar.NewContextWithUser(context.WithoutCancel(r.Context()), user)
	go func() {
		rep, err := web.app.Import(ctx, up.product, res, opts)
		up.mu.Lock()
		up.running, up.report, up.err = false, rep, err
		up.created = time.Now() // keep the report an hour
		up.mu.Unlock()
	}()
	redirect(w, r, r.URL.Path)
	return nil
}

// exportJSON downloads a product's complete export.
func (web *Web) exportJSON(w http.ResponseWriter, r *http.Request) error {
	key := strings.ToUpper(r.PathValue("key"))
	if _, err := web.app.Product(r.Context(), key); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-export.json"`, key))
	_, err := web.app.Export(r.Context(), []string{key}, false, w)
	if err != nil {
		httpx.LogError(r, err)
	}
	return nil
}
