package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// Search result pages are smaller than lists: a search box shows a few
// best matches.
const (
	DefaultSearchLimit = northstar.DefaultSearchLimit
	MaxSearchLimit     = 50
)

// maxQueryParamLen bounds the text query parameters of story lists
// (assignee, label); longer values cannot match anything.
const maxQueryParamLen = 500

// storyJSON is a story as the API shows it: the stored fields plus what is
// computed from them, so that clients need not repeat the rules.
type storyJSON struct {
	*northstar.Story
	// Sentence is the "As a … I want … so that …" template as one
	// sentence, "" when the template is empty.
	Sentence string `json:"sentence"`
	// Ready says whether the story is ready for a sprint: a complete
	// template sentence, at least one criterion and an estimate.
	Ready bool `json:"ready"`
	// ReadyProblems lists what keeps the story from being ready.
	ReadyProblems []string `json:"ready_problems"`
	CriteriaMet   int      `json:"criteria_met"`
	TasksDone     int      `json:"tasks_done"`
}

func storyView(s *northstar.Story) storyJSON {
	cp := *s
	// Lists are arrays in JSON, never null.
	if cp.Labels == nil {
		cp.Labels = []string{}
	}
	if cp.Criteria == nil {
		cp.Criteria = []northstar.Criterion{}
	}
	if cp.Tasks == nil {
		cp.Tasks = []northstar.Task{}
	}
	problems := cp.ReadyProblems()
	if problems == nil {
		problems = []string{}
	}
	return storyJSON{
		Story:         &cp,
		Sentence:      cp.Sentence(),
		Ready:         len(problems) == 0,
		ReadyProblems: problems,
		CriteriaMet:   cp.MetCount(),
		TasksDone:     cp.TasksDone(),
	}
}

func storyViews(ss []*northstar.Story) []storyJSON {
	out := make([]storyJSON, len(ss))
	for i, s := range ss {
		out[i] = storyView(s)
	}
	return out
}

// writeStory answers with a story and its version as the ETag.
func writeStory(w http.ResponseWriter, status int, s *northstar.Story) {
	setETag(w, s.Version)
	httpx.WriteJSON(w, status, storyView(s))
}

// queryText reads a text query parameter, refusing what no database can
// compare (invalid UTF-8, NUL) with a 400 that names it.
func queryText(q url.Values, name string, max int) (string, error) {
	v := strings.TrimSpace(q.Get(name))
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", northstar.FieldError(name, "%s must be valid UTF-8 without NUL characters.", name)
	}
	if utf8.RuneCountInString(v) > max {
		return "", northstar.FieldError(name, "%s is too long (at most %d characters).", name, max)
	}
	return v, nil
}

// queryList reads a parameter that may be repeated and may hold
// comma-separated values: status=new,ready or status=new&status=ready.
func queryList(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func queryBool(q url.Values, name string) (value, set bool, err error) {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return false, false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, false, northstar.FieldError(name, "%s must be true or false.", name)
	}
	return v, true, nil
}

// storyFilter reads the filters of a backlog list from the query.
func storyFilter(q url.Values) (northstar.StoryFilter, error) {
	var f northstar.StoryFilter
	for _, s := range queryList(q, "status") {
		st := northstar.StoryStatus(s)
		if !st.Valid() {
			return f, northstar.FieldError("status", "status %q is not one of %s.", s, joinValues(northstar.StoryStatuses))
		}
		f.Statuses = append(f.Statuses, st)
	}
	for _, s := range queryList(q, "type") {
		t := northstar.StoryType(s)
		if !t.Valid() {
			return f, northstar.FieldError("type", "type %q is not one of %s.", s, joinValues(northstar.StoryTypes))
		}
		f.Types = append(f.Types, t)
	}
	var err error
	if f.Assignee, err = queryText(q, "assignee", maxQueryParamLen); err != nil {
		return f, err
	}
	if strings.EqualFold(f.Assignee, "none") {
		f.Assignee = "none"
	}
	if f.Label, err = queryText(q, "label", maxQueryParamLen); err != nil {
		return f, err
	}
	if f.Query, err = queryText(q, "q", northstar.MaxSearchQueryLen); err != nil {
		return f, err
	}
	if f.Unestimated, _, err = queryBool(q, "unestimated"); err != nil {
		return f, err
	}
	ready, set, err := queryBool(q, "ready")
	if err != nil {
		return f, err
	}
	if set && ready {
		return f, northstar.FieldError("ready", "only ready=false (stories not yet ready: the refinement view) is supported.")
	}
	f.NotReady = set
	return f, nil
}

func joinValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func (a *API) listStories(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	f, err := storyFilter(r.URL.Query())
	if err != nil {
		return err
	}
	f.After, f.Limit = after, limit+1
	ss, err := a.app.Stories(r.Context(), r.PathValue("key"), f)
	if err != nil {
		return err
	}
	page := Page[storyJSON]{}
	if len(ss) > limit {
		ss = ss[:limit]
		// The cursor holds the rank of the page's last story: the next
		// page starts after it, whatever was added or moved elsewhere.
		page.NextCursor = encodeCursor(ss[limit-1].Rank)
	}
	page.Items = storyViews(ss)
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) createStory(w http.ResponseWriter, r *http.Request) error {
	var req northstar.NewStory
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	s, err := a.app.CreateStory(r.Context(), r.PathValue("key"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/stories/"+s.Ref)
	writeStory(w, http.StatusCreated, s)
	return nil
}

func (a *API) getStory(w http.ResponseWriter, r *http.Request) error {
	s, err := a.app.Story(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, s)
	return nil
}

func (a *API) updateStory(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req northstar.StoryUpdate
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Empty() {
		return northstar.Errorf(northstar.EINVALID, "The body changes nothing: send at least one field to change.")
	}
	s, err := a.app.UpdateStory(r.Context(), r.PathValue("ref"), version, req)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, s)
	return nil
}

func (a *API) deleteStory(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := a.app.DeleteStory(r.Context(), r.PathValue("ref"), version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) moveStory(w http.ResponseWriter, r *http.Request) error {
	var req northstar.Move
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	s, err := a.app.MoveStory(r.Context(), r.PathValue("ref"), req)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, s)
	return nil
}

type criterionRequest struct {
	Text string `json:"text"`
}

type criterionChange struct {
	Text *string `json:"text"`
	Met  *bool   `json:"met"`
}

func (a *API) addCriterion(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req criterionRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	s, _, err := a.app.AddCriterion(r.Context(), r.PathValue("ref"), version, req.Text)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusCreated, s)
	return nil
}

func (a *API) updateCriterion(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req criterionChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Text == nil && req.Met == nil {
		return northstar.Errorf(northstar.EINVALID, `The body changes nothing: send "text", "met" or both.`)
	}
	s, err := a.app.UpdateCriterion(r.Context(), r.PathValue("ref"), version, id, req.Text, req.Met)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, s)
	return nil
}

func (a *API) deleteCriterion(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	s, err := a.app.DeleteCriterion(r.Context(), r.PathValue("ref"), version, id)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, s)
	return nil
}

type taskRequest struct {
	Text     string `json:"text"`
	Assignee string `json:"assignee"` // email
}

type taskChange struct {
	Text     *string                    `json:"text"`
	Done     *bool                      `json:"done"`
	Assignee northstar.Optional[string] `json:"assignee"` // email, or null to unassign
}

func (a *API) addTask(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req taskRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	s, _, err := a.app.AddTask(r.Context(), r.PathValue("ref"), version, req.Text, req.Assignee)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusCreated, s)
	return nil
}

func (a *API) updateTask(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req taskChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Text == nil && req.Done == nil && !req.Assignee.Set {
		return northstar.Errorf(northstar.EINVALID, `The body changes nothing: send "text", "done" or "assignee".`)
	}
	s, err := a.app.UpdateTask(r.Context(), r.PathValue("ref"), version, id, app.TaskChange{Text: req.Text, Done: req.Done, Assignee: req.Assignee})
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, s)
	return nil
}

func (a *API) deleteTask(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	s, err := a.app.DeleteTask(r.Context(), r.PathValue("ref"), version, id)
	if err != nil {
		return err
	}
	writeStory(w, http.StatusOK, s)
	return nil
}

func (a *API) bulkUpdateStories(w http.ResponseWriter, r *http.Request) error {
	var req northstar.BulkUpdate
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	ss, err := a.app.BulkUpdateStories(r.Context(), req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[storyJSON]{Items: storyViews(ss)})
	return nil
}

func (a *API) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := DefaultSearchLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxSearchLimit {
			return northstar.FieldError("limit", "limit must be a whole number from 1 to %d.", MaxSearchLimit)
		}
		limit = n
	}
	text, err := queryText(q, "q", northstar.MaxSearchQueryLen)
	if err != nil {
		return err
	}
	res, err := a.app.Search(r.Context(), text, limit)
	if err != nil {
		return err
	}
	if res == nil {
		res = []northstar.SearchResult{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[northstar.SearchResult]{Items: res})
	return nil
}
