package web

import (
	"context"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// storyFuncs are the template functions of the backlog and story pages.
func storyFuncs() template.FuncMap {
	return template.FuncMap{
		"pointScale":    func() []int { return northstar.PointScale },
		"storyStatuses": func() []northstar.StoryStatus { return northstar.StoryStatuses },
		"storyTypes":    func() []northstar.StoryType { return northstar.StoryTypes },
		"points":        pointsLabel,
		"join":          strings.Join,
		"quickAdd": func(key, position, ret string) quickAddView {
			return quickAddView{Key: key, Position: position, Return: ret}
		},
	}
}

// quickAddView is one of the backlog's quick-add inputs.
type quickAddView struct {
	Key, Position, Return string
}

// pointsLabel shows an estimate: the number, or "" when unset.
func pointsLabel(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// storyView is the story panel: the whole page, or the part that htmx
// loads into the backlog's side panel.
type storyView struct {
	page
	Product   *northstar.Product
	Story     *northstar.Story
	Members   []*northstar.Member
	CanEdit   bool // title, type, template, description, labels, criteria, order, delete
	CanWork   bool // status, points, assignee, tasks, criteria met
	CanAccept bool
	// Panel is set when the story shows in the backlog's side panel: its
	// forms then also refresh the story's row in the list.
	Panel bool
	URL   string
	// Alert is an error or an edit conflict, shown at the form that was
	// sent.
	Alert *storyAlert
	// Row is the story's backlog row, sent out of band with answers to
	// the panel's forms.
	Row *storyRow
}

// storyAlert is what went wrong with one form of the story panel.
type storyAlert struct {
	Section  string
	Error    *formError
	Conflict *conflict
}

// AlertFor returns the alert of a section of the panel, or nil.
func (v *storyView) AlertFor(section string) *storyAlert {
	if v.Alert != nil && v.Alert.Section == section {
		return v.Alert
	}
	return nil
}

// FieldInvalid reports whether the alert of section names field.
func (v *storyView) FieldInvalid(section, field string) bool {
	a := v.AlertFor(section)
	return a != nil && a.Error != nil && a.Error.Field == field
}

// conflict is a save over someone else's newer change: the form is not
// applied; the person sees the other change next to theirs and decides.
type conflict struct {
	By      string    // who saved the current version
	At      time.Time // when
	Rows    []conflictRow
	Action  string      // where "Overwrite with mine" posts
	Discard string      // the story, reloaded by "Discard mine"
	Fields  []formField // what the person sent, sent again on overwrite
	Version int         // the current version, which the overwrite carries
	// Overwrite labels the button that applies the change anyway.
	Overwrite string
}

type conflictRow struct {
	Label, Theirs, Mine string
}

// Same reports whether both sides agree on the row.
func (c conflictRow) Same() bool { return c.Theirs == c.Mine }

type formField struct{ Name, Value string }

func (web *Web) storyView(w http.ResponseWriter, r *http.Request, key, ref string) (*storyView, error) {
	ctx := r.Context()
	s, err := web.app.Story(ctx, ref)
	if err != nil {
		return nil, err
	}
	if s.ProductKey != key {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Story %s not found in %s.", ref, key)
	}
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	members, err := web.app.Members(ctx, key)
	if err != nil {
		return nil, err
	}
	view := &storyView{page: web.newPage(w, r, s.Ref+" "+s.Title, "products"), Product: p, Story: s, Members: members,
		URL: "/products/" + p.Key + "/stories/" + s.Ref}
	view.CanEdit, view.CanWork, view.CanAccept = productPermissions(view.User, p)
	return view, nil
}

// renderStory answers with the story panel: the part for htmx, with the
// story's backlog row out of band when it is a change made in the side
// panel, else the whole page.
func (web *Web) renderStory(w http.ResponseWriter, r *http.Request, status int, view *storyView) error {
	if isHTMX(r) && r.Header.Get("HX-History-Restore-Request") != "true" {
		if view.Panel && r.Method == http.MethodPost {
			view.Row = &storyRow{Story: view.Story, Key: view.Product.Key, CanEdit: view.CanEdit, OOB: true,
				Return: backlogURL(view.Product.Key, nil)}
		}
		return web.renderPartial(w, status, "story", "story-detail", view)
	}
	view.Panel = false
	return web.render(w, r, status, "story", view)
}

func (web *Web) story(w http.ResponseWriter, r *http.Request) error {
	key, ref := normalizeKey(r.PathValue("key")), strings.ToUpper(r.PathValue("ref"))
	if err := checkRefInProduct(key, ref); err != nil {
		return err
	}
	view, err := web.storyView(w, r, key, ref)
	if err != nil {
		return err
	}
	view.Panel = r.URL.Query().Get("panel") == "1"
	return web.renderStory(w, r, http.StatusOK, view)
}

// storyChangeFunc applies one form of the story panel.
type storyChangeFunc func(ctx context.Context, ref string, version int) error

// conflictRowsFunc says, for a form that met a newer version, what the
// other person's version has and what the form asked for.
type conflictRowsFunc func(current *northstar.Story, members []*northstar.Member) []conflictRow

// storyForm runs a form of the story panel: it applies the change with
// the version the form was rendered with and answers with the panel, or
// with the panel showing the error or the conflict at the form.
func (web *Web) storyForm(w http.ResponseWriter, r *http.Request, section string, change storyChangeFunc, rows conflictRowsFunc) error {
	key, ref := normalizeKey(r.PathValue("key")), strings.ToUpper(r.PathValue("ref"))
	if err := checkRefInProduct(key, ref); err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	err := change(r.Context(), ref, version)
	if err != nil && !userError(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
		return err
	}
	if err == nil && !isHTMX(r) {
		setFlash(w, "Saved.")
		redirect(w, r, "/products/"+key+"/stories/"+ref+"#"+section)
		return nil
	}
	view, verr := web.storyView(w, r, key, ref)
	if verr != nil {
		return verr // the story itself is gone (or was never there)
	}
	view.Panel = r.PostForm.Get("panel") == "1"
	status := http.StatusOK
	if err != nil {
		status = httpx.Status(err)
		view.Alert = &storyAlert{Section: section}
		if northstar.ErrorCode(err) == northstar.ECONFLICT {
			view.Alert.Conflict = newConflict(r, view, rows(view.Story, view.Members))
		} else {
			view.Alert.Error = toFormError(err)
		}
	}
	return web.renderStory(w, r, status, view)
}

func newConflict(r *http.Request, view *storyView, rows []conflictRow) *conflict {
	s := view.Story
	c := &conflict{At: s.UpdatedAt, Rows: rows, Action: r.URL.Path, Discard: view.URL, Version: s.Version,
		Overwrite: "Overwrite with mine"}
	if s.UpdatedBy != nil {
		c.By = s.UpdatedBy.Name
	}
	for _, name := range slices.Sorted(maps.Keys(r.PostForm)) {
		if name == "version" || name == "panel" {
			continue
		}
		for _, v := range r.PostForm[name] {
			c.Fields = append(c.Fields, formField{name, v})
		}
	}
	return c
}

// storySections are the forms of the story panel, for the anchor a plain
// form returns to and the place an alert shows.
var storySections = []string{"title", "meta", "template", "description", "labels", "accept"}

func (web *Web) updateStory(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	section := r.PostForm.Get("section")
	if !slices.Contains(storySections, section) {
		section = "meta"
	}
	u, uerr := storyUpdateFrom(r.PostForm)
	return web.storyForm(w, r, section, func(ctx context.Context, ref string, version int) error {
		if uerr != nil {
			return uerr
		}
		_, err := web.app.UpdateStory(ctx, ref, version, u)
		return err
	}, func(s *northstar.Story, members []*northstar.Member) []conflictRow {
		return updateConflictRows(r.PostForm, s, members)
	})
}

// storyUpdateFrom reads the fields a story form sent; the fields it did
// not send stay as they are.
func storyUpdateFrom(form url.Values) (northstar.StoryUpdate, error) {
	var u northstar.StoryUpdate
	str := func(name string) *string {
		if _, ok := form[name]; !ok {
			return nil
		}
		v := form.Get(name)
		return &v
	}
	u.Title, u.Persona, u.Want, u.Benefit, u.Description = str("title"), str("persona"), str("want"), str("benefit"), str("description")
	// These fields wrap like text but hold one line: a line break typed
	// into them (without JavaScript, Enter does that) is a space.
	for _, f := range []**string{&u.Title, &u.Persona, &u.Want, &u.Benefit} {
		if *f != nil {
			v := oneLine(**f)
			*f = &v
		}
	}
	if v := str("type"); v != nil {
		t := northstar.StoryType(*v)
		u.Type = &t
	}
	if v := str("status"); v != nil {
		st := northstar.StoryStatus(*v)
		u.Status = &st
	}
	if v := str("labels"); v != nil {
		l := labelsOf(*v)
		u.Labels = &l
	}
	if v := str("points"); v != nil {
		u.Points.Set = true
		if strings.TrimSpace(*v) == "" {
			u.Points.Null = true
		} else {
			n, err := strconv.Atoi(strings.TrimSpace(*v))
			if err != nil {
				return u, northstar.FieldError("points", "Points must be a number on the scale.")
			}
			u.Points.Value = n
		}
	}
	if v := str("assignee"); v != nil {
		u.Assignee.Set = true
		if strings.TrimSpace(*v) == "" {
			u.Assignee.Null = true
		} else {
			u.Assignee.Value = *v
		}
	}
	if v := str("accepted"); v != nil {
		b := *v == "true"
		u.Accepted = &b
	}
	if u.Empty() {
		return u, northstar.FieldError("", "The form sent nothing to save.")
	}
	return u, nil
}

// oneLine turns line breaks and runs of spaces into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// updateConflictRows compares, field by field, the current story with
// what the form sent.
func updateConflictRows(form url.Values, s *northstar.Story, members []*northstar.Member) []conflictRow {
	var rows []conflictRow
	add := func(name, label, theirs string, mine func(string) string) {
		if _, ok := form[name]; !ok {
			return
		}
		v := form.Get(name)
		if mine != nil {
			v = mine(v)
		}
		rows = append(rows, conflictRow{Label: label, Theirs: theirs, Mine: v})
	}
	trim := strings.TrimSpace
	add("title", "Title", s.Title, oneLine)
	add("type", "Type", s.Type.Label(), func(v string) string { return northstar.StoryType(v).Label() })
	add("persona", "As a", s.Persona, oneLine)
	add("want", "I want", s.Want, oneLine)
	add("benefit", "So that", s.Benefit, oneLine)
	add("description", "Description", s.Description, trim)
	add("status", "Status", s.Status.Label(), func(v string) string { return northstar.StoryStatus(v).Label() })
	add("points", "Points", orDash(pointsLabel(s.Points)), func(v string) string { return orDash(trim(v)) })
	theirs := "Unassigned"
	if s.Assignee != nil {
		theirs = s.Assignee.Name
	}
	add("assignee", "Assignee", theirs, func(v string) string { return memberName(members, v) })
	add("labels", "Labels", orDash(strings.Join(s.Labels, ", ")), func(v string) string {
		l, err := northstar.NormalizeLabels(labelsOf(v))
		if err != nil {
			return v
		}
		return orDash(strings.Join(l, ", "))
	})
	accepted := func(b bool) string {
		if b {
			return "Accepted"
		}
		return "Not accepted"
	}
	add("accepted", "Acceptance", accepted(s.Accepted), func(v string) string { return accepted(v == "true") })
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func memberName(members []*northstar.Member, email string) string {
	email = strings.TrimSpace(email)
	if email == "" {
		return "Unassigned"
	}
	for _, m := range members {
		if strings.EqualFold(m.Email, email) {
			return m.Name
		}
	}
	return email
}

// formID reads a numeric path value: a criterion's or a task's id.
func formID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, northstar.Errorf(northstar.ENOTFOUND, "No item %q on this story.", r.PathValue("id"))
	}
	return id, nil
}

// boolField reads a checkbox-like field: nil when absent.
func boolField(form url.Values, name string) *bool {
	if _, ok := form[name]; !ok {
		return nil
	}
	b := form.Get(name) == "true"
	return &b
}

func criterionState(s *northstar.Story, id int64) string {
	for _, c := range s.Criteria {
		if c.ID == id {
			return checkMark(c.Met) + " " + c.Text
		}
	}
	return "(deleted)"
}

func taskState(s *northstar.Story, id int64) string {
	for _, t := range s.Tasks {
		if t.ID == id {
			return checkMark(t.Done) + " " + t.Text
		}
	}
	return "(deleted)"
}

func checkMark(b bool) string {
	if b {
		return "☑"
	}
	return "☐"
}

func criteriaList(s *northstar.Story) string {
	if len(s.Criteria) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, c := range s.Criteria {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(checkMark(c.Met) + " " + c.Text)
	}
	return b.String()
}

func tasksList(s *northstar.Story) string {
	if len(s.Tasks) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, t := range s.Tasks {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(checkMark(t.Done) + " " + t.Text)
	}
	return b.String()
}

func (web *Web) addCriterion(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	text := r.PostForm.Get("text")
	return web.storyForm(w, r, "criteria", func(ctx context.Context, ref string, version int) error {
		_, _, err := web.app.AddCriterion(ctx, ref, version, text)
		return err
	}, func(s *northstar.Story, _ []*northstar.Member) []conflictRow {
		return []conflictRow{{Label: "Acceptance criteria", Theirs: criteriaList(s), Mine: "add: " + strings.TrimSpace(text)}}
	})
}

func (web *Web) updateCriterion(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := formID(r)
	if err != nil {
		return err
	}
	var text *string
	if _, ok := r.PostForm["text"]; ok {
		t := oneLine(r.PostForm.Get("text"))
		text = &t
	}
	met := boolField(r.PostForm, "met")
	return web.storyForm(w, r, "criteria", func(ctx context.Context, ref string, version int) error {
		if text == nil && met == nil {
			return northstar.FieldError("text", "The form sent nothing to save.")
		}
		_, err := web.app.UpdateCriterion(ctx, ref, version, id, text, met)
		return err
	}, func(s *northstar.Story, _ []*northstar.Member) []conflictRow {
		var mine []string
		if text != nil {
			mine = append(mine, strings.TrimSpace(*text))
		}
		if met != nil {
			mine = append(mine, map[bool]string{true: "met", false: "not met"}[*met])
		}
		return []conflictRow{{Label: "Criterion", Theirs: criterionState(s, id), Mine: strings.Join(mine, ", ")}}
	})
}

func (web *Web) deleteCriterion(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := formID(r)
	if err != nil {
		return err
	}
	return web.storyForm(w, r, "criteria", func(ctx context.Context, ref string, version int) error {
		_, err := web.app.DeleteCriterion(ctx, ref, version, id)
		return err
	}, func(s *northstar.Story, _ []*northstar.Member) []conflictRow {
		return []conflictRow{{Label: "Criterion", Theirs: criterionState(s, id), Mine: "(delete)"}}
	})
}

func (web *Web) addTask(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	text, assignee := r.PostForm.Get("text"), r.PostForm.Get("assignee")
	return web.storyForm(w, r, "tasks", func(ctx context.Context, ref string, version int) error {
		_, _, err := web.app.AddTask(ctx, ref, version, text, assignee)
		return err
	}, func(s *northstar.Story, members []*northstar.Member) []conflictRow {
		mine := "add: " + strings.TrimSpace(text)
		if strings.TrimSpace(assignee) != "" {
			mine += " (" + memberName(members, assignee) + ")"
		}
		return []conflictRow{{Label: "Tasks", Theirs: tasksList(s), Mine: mine}}
	})
}

func (web *Web) updateTask(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := formID(r)
	if err != nil {
		return err
	}
	done := boolField(r.PostForm, "done")
	return web.storyForm(w, r, "tasks", func(ctx context.Context, ref string, version int) error {
		if done == nil {
			return northstar.FieldError("done", "The form sent nothing to save.")
		}
		_, err := web.app.UpdateTask(ctx, ref, version, id, app.TaskChange{Done: done})
		return err
	}, func(s *northstar.Story, _ []*northstar.Member) []conflictRow {
		return []conflictRow{{Label: "Task", Theirs: taskState(s, id), Mine: map[bool]string{true: "done", false: "not done"}[done != nil && *done]}}
	})
}

func (web *Web) deleteTask(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := formID(r)
	if err != nil {
		return err
	}
	return web.storyForm(w, r, "tasks", func(ctx context.Context, ref string, version int) error {
		_, err := web.app.DeleteTask(ctx, ref, version, id)
		return err
	}, func(s *northstar.Story, _ []*northstar.Member) []conflictRow {
		return []conflictRow{{Label: "Task", Theirs: taskState(s, id), Mine: "(delete)"}}
	})
}

// deleteStory removes a story after the browser asked for confirmation.
// In the side panel the answer closes the panel and removes the row.
func (web *Web) deleteStory(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key, ref := normalizeKey(r.PathValue("key")), strings.ToUpper(r.PathValue("ref"))
	if err := checkRefInProduct(key, ref); err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	err := web.app.DeleteStory(r.Context(), ref, version)
	if err != nil {
		if !userError(err) {
			return err
		}
		view, verr := web.storyView(w, r, key, ref)
		if verr != nil {
			return verr
		}
		view.Panel = r.PostForm.Get("panel") == "1"
		view.Alert = &storyAlert{Section: "delete"}
		if northstar.ErrorCode(err) == northstar.ECONFLICT {
			c := newConflict(r, view, []conflictRow{
				{Label: "Title", Theirs: view.Story.Title, Mine: "(delete)"},
				{Label: "Status", Theirs: view.Story.Status.Label(), Mine: "(delete)"},
			})
			c.Overwrite = "Delete anyway"
			view.Alert.Conflict = c
		} else {
			view.Alert.Error = toFormError(err)
		}
		return web.renderStory(w, r, httpx.Status(err), view)
	}
	if isHTMX(r) && r.PostForm.Get("panel") == "1" {
		return web.renderPartial(w, http.StatusOK, "story", "story-deleted", storyDeletedView{Ref: ref})
	}
	setFlash(w, ref+" deleted.")
	redirect(w, r, backlogURL(key, nil))
	return nil
}

// storyDeletedView is the side panel's answer to a deletion.
type storyDeletedView struct{ Ref string }

// markdownPreview renders a description being written, as it will show
// once saved. It changes nothing; it is a POST because the text can be
// long.
func (web *Web) markdownPreview(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := web.app.Product(r.Context(), r.PathValue("key")); err != nil {
		return err
	}
	src := r.PostForm.Get("description")
	var out template.HTML
	switch {
	case strings.TrimSpace(src) == "":
		out = `<p class="muted small">Nothing to preview yet.</p>`
	case len([]rune(src)) > northstar.MaxMarkdownLen:
		out = template.HTML(`<p class="form-error">` + template.HTMLEscapeString(fmt.Sprintf("The description is too long (at most %d characters).", northstar.MaxMarkdownLen)) + `</p>`)
	default:
		out = `<div class="prose">` + renderMarkdown(src) + `</div>`
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write([]byte(out))
	return err
}
