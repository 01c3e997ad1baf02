package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// backlogPageSize is how many stories one page of the backlog shows; "load
// more" fetches the next page after the rank of the last one shown.
const backlogPageSize = 50

// backlogQuery is the backlog page's query string: the filters, the tab and
// the rank cursor. It round-trips through the filter form, so a filtered
// backlog has a URL that can be shared.
type backlogQuery struct {
	Status      string
	Type        string
	Assignee    string
	Label       string
	Q           string
	Unestimated bool
	Refinement  bool
	After       string
}

func parseBacklogQuery(q url.Values) backlogQuery {
	bq := backlogQuery{
		Status:      q.Get("status"),
		Type:        q.Get("type"),
		Assignee:    strings.TrimSpace(q.Get("assignee")),
		Label:       strings.TrimSpace(q.Get("label")),
		Q:           strings.TrimSpace(q.Get("q")),
		Unestimated: q.Get("unestimated") != "",
		Refinement:  q.Get("view") == "refinement",
		After:       q.Get("after"),
	}
	// Unknown values come from hand-edited URLs: ignore them rather than
	// show an empty backlog.
	if !northstar.StoryStatus(bq.Status).Valid() {
		bq.Status = ""
	}
	if !northstar.StoryType(bq.Type).Valid() {
		bq.Type = ""
	}
	return bq
}

func (bq backlogQuery) filter() northstar.StoryFilter {
	f := northstar.StoryFilter{
		Assignee: bq.Assignee, Label: bq.Label, Unestimated: bq.Unestimated, NotReady: bq.Refinement,
		Query: bq.Q, After: bq.After, Limit: backlogPageSize + 1, // one more tells whether there is a next page
	}
	if bq.Status != "" {
		f.Statuses = []northstar.StoryStatus{northstar.StoryStatus(bq.Status)}
	}
	if bq.Type != "" {
		f.Types = []northstar.StoryType{northstar.StoryType(bq.Type)}
	}
	return f
}

// Filtered reports whether any filter (not the tab) narrows the list.
func (bq backlogQuery) Filtered() bool {
	return bq.Status != "" || bq.Type != "" || bq.Assignee != "" || bq.Label != "" || bq.Q != "" || bq.Unestimated
}

// values encodes the query; after adds the cursor.
func (bq backlogQuery) values(after string) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("status", bq.Status)
	set("type", bq.Type)
	set("assignee", bq.Assignee)
	set("label", bq.Label)
	set("q", bq.Q)
	if bq.Unestimated {
		v.Set("unestimated", "1")
	}
	if bq.Refinement {
		v.Set("view", "refinement")
	}
	set("after", after)
	return v
}

func backlogURL(key string, v url.Values) string {
	u := "/products/" + key + "/backlog"
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// storyRow is one row of the backlog list.
type storyRow struct {
	Story   *northstar.Story
	Key     string
	CanEdit bool
	// Prev and Next are the neighbours as rendered, for the move-up and
	// move-down forms that work without JavaScript (backlog.js works out
	// the neighbours from the page as it is when the button is pressed).
	Prev, Next string
	// Return is where a form without JavaScript goes back to.
	Return string
	// OOB marks a row sent out of band with a story panel's answer, to
	// replace the row in the list behind the panel.
	OOB bool
	// New marks a row just created by the quick-add, to highlight it.
	New bool
}

type backlogView struct {
	page
	Product  *northstar.Product
	Query    backlogQuery
	Rows     []storyRow
	Members  []*northstar.Member
	CanEdit  bool
	CanWork  bool
	MoreURL  string // the next page, "" when this is the last one
	TabURL   string // the other tab with the same filters
	ClearURL string // the tab without filters
	Here     string // this page, where plain forms return to
	Error    *formError
}

// Statuses, Types: the choices of the filter form.
func (v *backlogView) Statuses() []northstar.StoryStatus { return northstar.StoryStatuses }
func (v *backlogView) Types() []northstar.StoryType      { return northstar.StoryTypes }

// productPermissions returns what the current user may do with a
// product's stories. A retired product is read-only for everyone.
func productPermissions(u *northstar.User, p *northstar.Product) (edit, work, accept bool) {
	if u == nil || p.ReadOnly() {
		return false, false, false
	}
	return northstar.Can(u.Admin, p.Role, northstar.ActionEditStories),
		northstar.Can(u.Admin, p.Role, northstar.ActionWorkStories),
		northstar.Can(u.Admin, p.Role, northstar.ActionAcceptStory)
}

func (web *Web) backlogView(w http.ResponseWriter, r *http.Request, key string, bq backlogQuery) (*backlogView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	title := p.Name + " backlog"
	if bq.Refinement {
		title = p.Name + " refinement"
	}
	view := &backlogView{page: web.newPage(w, r, title, "products"), Product: p, Query: bq}
	view.CanEdit, view.CanWork, _ = productPermissions(view.User, p)
	if view.Members, err = web.app.Members(ctx, p.Key); err != nil {
		return nil, err
	}
	stories, err := web.app.Stories(ctx, p.Key, bq.filter())
	if err != nil {
		if !userError(err) {
			return nil, err
		}
		view.Error, stories = toFormError(err), nil
	}
	shown := stories
	if len(shown) > backlogPageSize {
		shown = shown[:backlogPageSize]
		view.MoreURL = backlogURL(p.Key, bq.values(shown[len(shown)-1].Rank))
	}
	ret := backlogURL(p.Key, bq.values(bq.After))
	view.Here = ret
	for i, s := range shown {
		row := storyRow{Story: s, Key: p.Key, CanEdit: view.CanEdit, Return: ret}
		if i > 0 {
			row.Prev = stories[i-1].Ref
		}
		if i+1 < len(stories) {
			row.Next = stories[i+1].Ref
		}
		view.Rows = append(view.Rows, row)
	}
	other := bq
	other.Refinement, other.After = !bq.Refinement, ""
	view.TabURL = backlogURL(p.Key, other.values(""))
	view.ClearURL = backlogURL(p.Key, backlogQuery{Refinement: bq.Refinement}.values(""))
	return view, nil
}

// backlog serves the backlog page, or for htmx the part it asked for: the
// list when the filters changed, the next rows for "load more".
func (web *Web) backlog(w http.ResponseWriter, r *http.Request) error {
	bq := parseBacklogQuery(r.URL.Query())
	view, err := web.backlogView(w, r, r.PathValue("key"), bq)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if view.Error != nil {
		status = http.StatusBadRequest
	}
	if isHTMX(r) && r.Header.Get("HX-History-Restore-Request") != "true" {
		switch r.Header.Get("HX-Target") {
		case "backlog-results":
			return web.renderPartial(w, status, "backlog", "backlog-results", view)
		case "load-more":
			return web.renderPartial(w, status, "backlog", "backlog-more", view)
		}
	}
	return web.render(w, r, status, "backlog", view)
}

// createStory is the quick-add: a title, placed at the top or the bottom.
// htmx gets the new row to insert; a plain form goes back to the backlog.
func (web *Web) createStory(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	position := r.PostForm.Get("position")
	in := northstar.NewStory{
		Title: r.PostForm.Get("title"), Type: northstar.StoryType(r.PostForm.Get("type")), Position: position,
	}
	s, err := web.app.CreateStory(r.Context(), key, in)
	back := localPath(r.PostForm.Get("next"), backlogURL(key, nil))
	if err != nil {
		if !userError(err) {
			return err
		}
		if isHTMX(r) {
			// Show the message next to the input that sent it.
			if position != "top" {
				position = "bottom"
			}
			w.Header().Set("HX-Retarget", "#quick-add-"+position+"-error")
			w.Header().Set("HX-Reswap", "innerHTML")
			return web.renderPartial(w, httpx.Status(err), "backlog", "form-error", toFormError(err))
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
		redirect(w, r, back)
		return nil
	}
	if isHTMX(r) {
		p, err := web.app.Product(r.Context(), key)
		if err != nil {
			return err
		}
		edit, _, _ := productPermissions(northstar.UserFromContext(r.Context()), p)
		return web.renderPartial(w, http.StatusOK, "backlog", "backlog-row", storyRow{Story: s, Key: p.Key, CanEdit: edit, Return: back, New: true})
	}
	setFlash(w, s.Ref+" created.")
	redirect(w, r, back+"#story-"+s.Ref)
	return nil
}

// moveStory places a story before or after another, or at the top or
// bottom. backlog.js posts it with fetch after a drag or a move button and
// gets 204 or the error's message; a plain form goes back to the backlog.
func (web *Web) moveStory(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key, ref := normalizeKey(r.PathValue("key")), r.PathValue("ref")
	if err := checkRefInProduct(key, ref); err != nil {
		return err
	}
	m := northstar.Move{Before: r.PostForm.Get("before"), After: r.PostForm.Get("after"), Position: r.PostForm.Get("position")}
	_, err := web.app.MoveStory(r.Context(), ref, m)
	back := localPath(r.PostForm.Get("next"), backlogURL(key, nil))
	if isHTMX(r) {
		if err != nil {
			if !userError(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
				return err
			}
			httpx.LogError(r, err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(httpx.Status(err))
			_, err = w.Write([]byte(northstar.ErrorMessage(err)))
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		// A refusal is an error page with its status; a move that cannot
		// be made (relative to itself, to a story of another product) is
		// a message on the backlog.
		if !userError(err) || northstar.ErrorCode(err) == northstar.EFORBIDDEN {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	}
	redirect(w, r, back+"#story-"+strings.ToUpper(ref))
	return nil
}

// checkRefInProduct refuses a ref of another product in a product's URL.
func checkRefInProduct(key, ref string) error {
	k, _, err := northstar.ParseRef(ref)
	if err != nil || k != normalizeKey(key) {
		return northstar.Errorf(northstar.ENOTFOUND, "Story %s not found in %s.", ref, normalizeKey(key))
	}
	return nil
}

// labelsOf splits a comma-separated labels input.
func labelsOf(s string) []string {
	parts := strings.Split(s, ",")
	return slices.DeleteFunc(parts, func(p string) bool { return strings.TrimSpace(p) == "" })
}
