package api

// The Product Manager's features and roadmap: features with their scores,
// the prioritisation table, the custom score's criteria, releases and the
// MVP, themes, the roadmap (as JSON and as CSV), the stories a feature is
// split into, and published read-only roadmap links with the public side
// that anyone holding such a link may read.

import (
	"cmp"
	"encoding/csv"
	"errors"
	"math"
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

// roadmapRoutes lists the feature and roadmap routes; Routes includes
// them. GET /api/v1/roadmaps/{secret} needs no account.
func (a *API) roadmapRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/products/{key}/features", Handler: authed(a.listFeatures)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/features", Handler: authed(a.createFeature)},
		{Method: "GET", Pattern: "/api/v1/features/{ref}", Handler: authed(a.getFeature)},
		{Method: "PATCH", Pattern: "/api/v1/features/{ref}", Handler: authed(a.updateFeature)},
		{Method: "DELETE", Pattern: "/api/v1/features/{ref}", Handler: authed(a.deleteFeature)},
		{Method: "POST", Pattern: "/api/v1/features/{ref}/stories", Handler: authed(a.splitFeature)},

		{Method: "GET", Pattern: "/api/v1/products/{key}/score-criteria", Handler: authed(a.listScoreCriteria)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/score-criteria", Handler: authed(a.createScoreCriterion)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}/score-criteria/{id}", Handler: authed(a.updateScoreCriterion)},
		{Method: "DELETE", Pattern: "/api/v1/products/{key}/score-criteria/{id}", Handler: authed(deleteProductItem(a.app.DeleteScoreCriterion))},

		{Method: "GET", Pattern: "/api/v1/products/{key}/releases", Handler: authed(a.listReleases)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/releases", Handler: authed(a.createRelease)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/releases/{id}", Handler: authed(a.getRelease)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}/releases/{id}", Handler: authed(a.updateRelease)},
		{Method: "DELETE", Pattern: "/api/v1/products/{key}/releases/{id}", Handler: authed(deleteProductItem(a.app.DeleteRelease))},
		{Method: "POST", Pattern: "/api/v1/products/{key}/releases/{id}/ship", Handler: authed(a.shipRelease)},

		{Method: "GET", Pattern: "/api/v1/products/{key}/themes", Handler: authed(a.listThemes)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/themes", Handler: authed(a.createTheme)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}/themes/{id}", Handler: authed(a.updateTheme)},
		{Method: "DELETE", Pattern: "/api/v1/products/{key}/themes/{id}", Handler: authed(deleteProductItem(a.app.DeleteTheme))},

		{Method: "GET", Pattern: "/api/v1/products/{key}/roadmap", Handler: authed(a.getRoadmap)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/roadmap.csv", Handler: authed(a.roadmapCSV)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/roadmap-links", Handler: authed(a.listRoadmapLinks)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/roadmap-links", Handler: authed(a.publishRoadmap)},
		{Method: "DELETE", Pattern: "/api/v1/products/{key}/roadmap-links/{id}", Handler: authed(a.revokeRoadmapLink)},

		{Method: "GET", Pattern: "/api/v1/roadmaps/{secret}", Handler: handle(a.sharedRoadmap)},
	}
}

// withField returns err naming its field under prefix ("scores." +
// "confidence"), for errors the domain reports without the JSON path.
func withField(prefix string, err error) error {
	var e *northstar.Error
	if !errors.As(err, &e) || e.Field == "" {
		return err
	}
	return &northstar.Error{Code: e.Code, Message: e.Message, Field: prefix + e.Field}
}

// --- Features ---

// writeFeature answers with a feature and its version as the ETag.
func writeFeature(w http.ResponseWriter, status int, f *northstar.Feature) {
	setETag(w, f.Version)
	httpx.WriteJSON(w, status, featureView(f))
}

// featureView makes a feature's lists and maps JSON arrays and objects,
// never null.
func featureView(f *northstar.Feature) *northstar.Feature {
	if f.Objectives == nil {
		f.Objectives = []northstar.NamedRef{}
	}
	if f.Custom == nil {
		f.Custom = map[int64]float64{}
	}
	return f
}

// scoresRequest changes a feature's score inputs: a member present sets
// its input, null clears it, and an absent one stays as it is.
type scoresRequest struct {
	Reach      northstar.Optional[float64] `json:"reach"`
	Impact     northstar.Optional[float64] `json:"impact"`
	Confidence northstar.Optional[float64] `json:"confidence"`
	Effort     northstar.Optional[float64] `json:"effort"`
	Value      northstar.Optional[float64] `json:"value"`
}

// featureRequest creates a feature (POST) or changes one (PATCH): absent
// members stay, null clears the release, theme, owner and dates. Dates
// are read as text here so that a malformed one names its field.
type featureRequest struct {
	Title          *string                    `json:"title"`
	Problem        *string                    `json:"problem"`
	Solution       *string                    `json:"solution"`
	Status         *northstar.FeatureStatus   `json:"status"`
	RejectedReason *string                    `json:"rejected_reason"`
	MVP            *bool                      `json:"mvp"`
	ReleaseID      northstar.Optional[int64]  `json:"release_id"`
	ThemeID        northstar.Optional[int64]  `json:"theme_id"`
	ObjectiveIDs   *[]int64                   `json:"objective_ids"`
	Owner          northstar.Optional[string] `json:"owner"`
	Horizon        *northstar.Horizon         `json:"horizon"`
	Start          northstar.Optional[string] `json:"start"`
	End            northstar.Optional[string] `json:"end"`
	MoSCoW         *northstar.MoSCoW          `json:"moscow"`
	Scores         *scoresRequest             `json:"scores"`
	CustomScores   map[int64]*float64         `json:"custom_scores"`
}

func (req *featureRequest) empty() bool {
	return req.Title == nil && req.Problem == nil && req.Solution == nil && req.Status == nil && req.RejectedReason == nil &&
		req.MVP == nil && !req.ReleaseID.Set && !req.ThemeID.Set && req.ObjectiveIDs == nil && !req.Owner.Set &&
		req.Horizon == nil && !req.Start.Set && !req.End.Set && req.MoSCoW == nil && req.Scores == nil && len(req.CustomScores) == 0
}

const featureFields = "title, problem, solution, status, rejected_reason, mvp, release_id, theme_id, objective_ids, owner, horizon, start, end, moscow, scores, custom_scores"

// optionalDate reads a date member: null or "" clears the date.
func optionalDate(field string, o northstar.Optional[string]) (northstar.Optional[northstar.Date], error) {
	if !o.Set {
		return northstar.Optional[northstar.Date]{}, nil
	}
	if o.Null || strings.TrimSpace(o.Value) == "" {
		return northstar.Optional[northstar.Date]{Set: true, Null: true}, nil
	}
	d, err := northstar.ParseDate(field, o.Value)
	if err != nil {
		return northstar.Optional[northstar.Date]{}, err
	}
	return northstar.Optional[northstar.Date]{Set: true, Value: d}, nil
}

// input turns the request into the application's input. current holds
// the feature's score inputs, which the scores present change.
func (req *featureRequest) input(current northstar.Scores) (northstar.FeatureInput, error) {
	in := northstar.FeatureInput{
		Title: req.Title, Problem: req.Problem, Solution: req.Solution, Status: req.Status, RejectedReason: req.RejectedReason,
		MVP: req.MVP, Release: req.ReleaseID, Theme: req.ThemeID, Objectives: req.ObjectiveIDs, Owner: req.Owner,
		Horizon: req.Horizon, MoSCoW: req.MoSCoW, Custom: req.CustomScores,
	}
	var err error
	if in.Start, err = optionalDate("start", req.Start); err != nil {
		return in, err
	}
	if in.End, err = optionalDate("end", req.End); err != nil {
		return in, err
	}
	if req.Scores != nil {
		s := current
		for _, f := range []struct {
			in  northstar.Optional[float64]
			out **float64
		}{{req.Scores.Reach, &s.Reach}, {req.Scores.Impact, &s.Impact}, {req.Scores.Confidence, &s.Confidence},
			{req.Scores.Effort, &s.Effort}, {req.Scores.Value, &s.Value}} {
			if f.in.Set {
				*f.out = nil
				if !f.in.Null {
					v := f.in.Value
					*f.out = &v
				}
			}
		}
		if err := s.Validate(); err != nil {
			return in, withField("scores.", err)
		}
		in.Scores = &s
	}
	return in, nil
}

// The orders of the prioritisation table: by number, or by a score,
// highest first, features without the score last.
const (
	sortNumber      = "number"
	sortRICE        = "rice"
	sortValueEffort = "value_effort"
	sortWeighted    = "weighted"
	sortVoice       = "voice"
)

var featureSorts = []string{sortNumber, sortRICE, sortValueEffort, sortWeighted, sortVoice}

// featureKey is a feature's place in an order: its score (nil: none)
// and its number.
type featureKey struct {
	score  *float64
	number int
}

func sortKey(f *northstar.Feature, by string) featureKey {
	k := featureKey{number: f.Number}
	switch by {
	case sortRICE:
		k.score = f.Computed.RICE
	case sortValueEffort:
		k.score = f.Computed.ValueEffort
	case sortWeighted:
		k.score = f.Computed.Weighted
	case sortVoice:
		v := float64(f.Voice.Importance)
		k.score = &v
	}
	return k
}

// compareKeys orders by score, highest first and none last, then by
// number.
func compareKeys(a, b featureKey) int {
	switch {
	case a.score != nil && b.score == nil:
		return -1
	case a.score == nil && b.score != nil:
		return 1
	case a.score != nil && b.score != nil && *a.score != *b.score:
		return cmp.Compare(*b.score, *a.score)
	}
	return cmp.Compare(a.number, b.number)
}

// The cursor of a features page holds the order and the key of the
// page's last feature: "rice|12.5|7", "number||7".
func featureCursor(by string, k featureKey) string {
	score := ""
	if k.score != nil {
		score = strconv.FormatFloat(*k.score, 'g', -1, 64)
	}
	return encodeCursor(by + "|" + score + "|" + strconv.Itoa(k.number))
}

func parseFeatureCursor(by, after string) (featureKey, error) {
	bad := northstar.FieldError("cursor", "cursor is not one this server gave out for sort=%s.", by)
	parts := strings.Split(after, "|")
	if len(parts) != 3 || parts[0] != by {
		return featureKey{}, bad
	}
	var k featureKey
	n, err := strconv.Atoi(parts[2])
	if err != nil || n < 1 {
		return featureKey{}, bad
	}
	k.number = n
	if parts[1] != "" {
		v, err := strconv.ParseFloat(parts[1], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || by == sortNumber {
			return featureKey{}, bad
		}
		k.score = &v
	}
	return k, nil
}

// queryID reads an id query parameter.
func queryID(q url.Values, name string) (int64, error) {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, northstar.FieldError(name, "%s must be an id, a positive whole number.", name)
	}
	return id, nil
}

// featureFilter reads the filters of the features list from the query.
func featureFilter(q url.Values) (northstar.FeatureFilter, error) {
	var f northstar.FeatureFilter
	for _, s := range queryList(q, "status") {
		st := northstar.FeatureStatus(s)
		if !st.Valid() {
			return f, northstar.FieldError("status", "status %q is not one of %s.", s, joinValues(northstar.FeatureStatuses))
		}
		f.Statuses = append(f.Statuses, st)
	}
	if s := strings.TrimSpace(q.Get("horizon")); s != "" {
		h := northstar.Horizon(s)
		if s == "none" {
			h = ""
		} else if h == "" || !h.Valid() {
			return f, northstar.FieldError("horizon", "horizon must be now, next, later or none.")
		}
		f.Horizon = &h
	}
	var err error
	if f.Release, err = queryID(q, "release"); err != nil {
		return f, err
	}
	if f.Theme, err = queryID(q, "theme"); err != nil {
		return f, err
	}
	mvp, set, err := queryBool(q, "mvp")
	if err != nil {
		return f, err
	}
	if set {
		f.MVP = &mvp
	}
	return f, nil
}

func (a *API) listFeatures(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	flt, err := featureFilter(q)
	if err != nil {
		return err
	}
	by := cmp.Or(strings.TrimSpace(q.Get("sort")), sortNumber)
	if !slices.Contains(featureSorts, by) {
		return northstar.FieldError("sort", "sort must be one of %s.", strings.Join(featureSorts, ", "))
	}
	var from *featureKey
	if after != "" {
		k, err := parseFeatureCursor(by, after)
		if err != nil {
			return err
		}
		from = &k
	}
	fs, err := a.app.FeaturesFiltered(r.Context(), r.PathValue("key"), flt)
	if err != nil {
		return err
	}
	// Scores are computed as the features are read, so the table is
	// ordered here; the cursor holds the key of the previous page's last
	// feature, and the next page starts after it in the same order.
	slices.SortFunc(fs, func(x, y *northstar.Feature) int { return compareKeys(sortKey(x, by), sortKey(y, by)) })
	if from != nil {
		i, found := slices.BinarySearchFunc(fs, *from, func(f *northstar.Feature, k featureKey) int { return compareKeys(sortKey(f, by), k) })
		if found {
			i++
		}
		fs = fs[i:]
	}
	page := Page[*northstar.Feature]{Items: []*northstar.Feature{}}
	if len(fs) > limit {
		fs = fs[:limit]
		page.NextCursor = featureCursor(by, sortKey(fs[limit-1], by))
	}
	for _, f := range fs {
		page.Items = append(page.Items, featureView(f))
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) createFeature(w http.ResponseWriter, r *http.Request) error {
	var req featureRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	in, err := req.input(northstar.Scores{})
	if err != nil {
		return err
	}
	f, err := a.app.CreateFeature(r.Context(), r.PathValue("key"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/features/"+f.Ref)
	writeFeature(w, http.StatusCreated, f)
	return nil
}

// featureDetailJSON is a feature with its stories and the feedback that
// asked for it.
type featureDetailJSON struct {
	*northstar.Feature
	Stories  []storyJSON           `json:"stories"`
	Feedback []featureFeedbackJSON `json:"feedback"`
}

// featureFeedbackJSON is feedback linked to a feature, with the passages
// (quotes) linked to it.
type featureFeedbackJSON struct {
	ID        int64                    `json:"id"`
	Source    northstar.FeedbackSource `json:"source"`
	Title     string                   `json:"title"`
	Text      string                   `json:"text"`
	Customer  *customerRefJSON         `json:"customer"`
	Quotes    []featureQuoteJSON       `json:"quotes"`
	CreatedAt time.Time                `json:"created_at"`
}

type featureQuoteJSON struct {
	InsightID  int64                `json:"insight_id"`
	Passage    string               `json:"passage"`
	Importance northstar.Importance `json:"importance"`
}

func featureDetailView(d *app.FeatureDetail) featureDetailJSON {
	v := featureDetailJSON{Feature: featureView(d.Feature), Stories: storyViews(d.Stories), Feedback: []featureFeedbackJSON{}}
	for _, fb := range d.Feedback {
		item := featureFeedbackJSON{ID: fb.ID, Source: fb.Source, Title: fb.Title, Text: fb.Text, Quotes: []featureQuoteJSON{}, CreatedAt: fb.CreatedAt}
		if c := fb.Customer; c != nil {
			item.Customer = &customerRefJSON{ID: c.ID, Name: c.Name, Email: c.Email, Company: c.Company, Segment: c.Segment, Value: c.Value}
		}
		for _, in := range fb.Links {
			if strings.EqualFold(in.FeatureRef, d.Feature.Ref) {
				item.Quotes = append(item.Quotes, featureQuoteJSON{InsightID: in.ID, Passage: in.Passage, Importance: in.Importance})
			}
		}
		v.Feedback = append(v.Feedback, item)
	}
	return v
}

func (a *API) getFeature(w http.ResponseWriter, r *http.Request) error {
	d, err := a.app.FeatureDetail(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	setETag(w, d.Feature.Version)
	httpx.WriteJSON(w, http.StatusOK, featureDetailView(d))
	return nil
}

func (a *API) updateFeature(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req featureRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.empty() {
		return emptyChange(featureFields)
	}
	ref := r.PathValue("ref")
	// Score inputs change one by one: the ones not sent keep their
	// values, read here; without If-Match the version read guards the
	// merge against a concurrent change.
	var current northstar.Scores
	if req.Scores != nil {
		if _, err := req.input(current); err != nil {
			return err // bad input is a 400 before anything is read
		}
		f, err := a.app.Feature(r.Context(), ref)
		if err != nil {
			return err
		}
		current = f.Scores
		if version == 0 {
			version = f.Version
		}
	}
	in, err := req.input(current)
	if err != nil {
		return err
	}
	f, err := a.app.UpdateFeature(r.Context(), ref, version, in)
	if err != nil {
		return err
	}
	writeFeature(w, http.StatusOK, f)
	return nil
}

func (a *API) deleteFeature(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := a.app.DeleteFeature(r.Context(), r.PathValue("ref"), version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// splitFeature creates a story under the feature: how the product owner
// splits a feature into stories.
func (a *API) splitFeature(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("ref")
	key, _, err := northstar.ParseRef(ref)
	if err != nil {
		return northstar.Errorf(northstar.ENOTFOUND, "Feature %s not found.", ref)
	}
	var req northstar.NewStory
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Feature != "" {
		return northstar.FieldError("feature", "The story goes under the feature in the path; leave out feature.")
	}
	req.Feature = ref
	s, err := a.app.CreateStory(r.Context(), key, req)
	if err != nil {
		if northstar.ErrorCode(err) == northstar.ENOTFOUND && northstar.ErrorField(err) == "feature" {
			// The feature is the path's, not a member of the body.
			return northstar.Errorf(northstar.ENOTFOUND, "%s", northstar.ErrorMessage(err))
		}
		return err
	}
	w.Header().Set("Location", "/api/v1/stories/"+s.Ref)
	writeStory(w, http.StatusCreated, s)
	return nil
}

// --- Score criteria ---

type scoreCriterionRequest struct {
	Name        string                  `json:"name"`
	Weight      *float64                `json:"weight"`
	Kind        northstar.CriterionKind `json:"kind"`
	ObjectiveID *int64                  `json:"objective_id"`
}

type scoreCriterionChange struct {
	Name        *string                   `json:"name"`
	Weight      *float64                  `json:"weight"`
	Kind        *northstar.CriterionKind  `json:"kind"`
	ObjectiveID northstar.Optional[int64] `json:"objective_id"`
}

func (a *API) listScoreCriteria(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.app.Criteria(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.ScoreCriterion]{Items: cs})
	return nil
}

func (a *API) createScoreCriterion(w http.ResponseWriter, r *http.Request) error {
	var req scoreCriterionRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	c := northstar.ScoreCriterion{Name: req.Name, Weight: 1, Kind: req.Kind, ObjectiveID: req.ObjectiveID}
	if req.Weight != nil {
		c.Weight = *req.Weight
	}
	saved, err := a.app.SaveCriterion(r.Context(), r.PathValue("key"), c)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, saved)
	return nil
}

func (a *API) updateScoreCriterion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req scoreCriterionChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Weight == nil && req.Kind == nil && !req.ObjectiveID.Set {
		return emptyChange("name, weight, kind, objective_id")
	}
	cs, err := a.app.Criteria(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cs, func(c *northstar.ScoreCriterion) bool { return c.ID == id })
	if i < 0 {
		return northstar.Errorf(northstar.ENOTFOUND, "Criterion %d not found.", id)
	}
	c := *cs[i]
	if req.Name != nil {
		c.Name = *req.Name
	}
	if req.Weight != nil {
		c.Weight = *req.Weight
	}
	if req.Kind != nil {
		c.Kind = *req.Kind
		if c.Kind == "" {
			return northstar.FieldError("kind", "kind must be manual, demand or objective.")
		}
	}
	if req.ObjectiveID.Set {
		c.ObjectiveID = nil
		if !req.ObjectiveID.Null {
			c.ObjectiveID = &req.ObjectiveID.Value
		}
	}
	saved, err := a.app.SaveCriterion(r.Context(), r.PathValue("key"), c)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, saved)
	return nil
}

// --- Releases ---

// releaseRequest creates a release; the target date is read as text so
// that a malformed one names its field.
type releaseRequest struct {
	Name       string                  `json:"name"`
	Goal       string                  `json:"goal"`
	TargetDate string                  `json:"target_date"`
	Status     northstar.ReleaseStatus `json:"status"`
	MVP        bool                    `json:"mvp"`
}

// releaseChange changes a release; absent members stay, null or "" clears
// the target date.
type releaseChange struct {
	Name       *string                    `json:"name"`
	Goal       *string                    `json:"goal"`
	TargetDate northstar.Optional[string] `json:"target_date"`
	Status     *northstar.ReleaseStatus   `json:"status"`
	MVP        *bool                      `json:"mvp"`
}

func writeRelease(w http.ResponseWriter, status int, r *northstar.Release) {
	setETag(w, r.Version)
	httpx.WriteJSON(w, status, r)
}

func (a *API) listReleases(w http.ResponseWriter, r *http.Request) error {
	rs, err := a.app.Releases(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.Release]{Items: rs})
	return nil
}

func (a *API) createRelease(w http.ResponseWriter, r *http.Request) error {
	var req releaseRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	target, err := parseDate("target_date", req.TargetDate)
	if err != nil {
		return err
	}
	rel, err := a.app.SaveRelease(r.Context(), r.PathValue("key"), 0, 0,
		northstar.ReleaseInput{Name: req.Name, Goal: req.Goal, Target: target, Status: req.Status, MVP: req.MVP})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/products/"+rel.ProductKey+"/releases/"+strconv.FormatInt(rel.ID, 10))
	writeRelease(w, http.StatusCreated, rel)
	return nil
}

// releaseFeatureJSON is a feature of a release with its stories.
type releaseFeatureJSON struct {
	*northstar.Feature
	Stories []storyJSON `json:"stories"`
}

// releaseDetailJSON is a release with its features and their stories.
type releaseDetailJSON struct {
	*northstar.Release
	Features []releaseFeatureJSON `json:"features"`
}

func (a *API) getRelease(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := a.app.Release(r.Context(), r.PathValue("key"), id)
	if err != nil {
		return err
	}
	v := releaseDetailJSON{Release: d.Release, Features: make([]releaseFeatureJSON, len(d.Features))}
	for i, f := range d.Features {
		v.Features[i] = releaseFeatureJSON{Feature: featureView(f), Stories: storyViews(d.Stories[f.ID])}
	}
	setETag(w, d.Release.Version)
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) updateRelease(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req releaseChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Goal == nil && !req.TargetDate.Set && req.Status == nil && req.MVP == nil {
		return emptyChange("name, goal, target_date, status, mvp")
	}
	var target *northstar.Date
	if req.TargetDate.Set {
		d, err := parseDate("target_date", req.TargetDate.Value) // null reads as "": no date
		if err != nil {
			return err
		}
		target = &d
	}
	if req.Status != nil && *req.Status == "" {
		return northstar.FieldError("status", "status must be planned, in_progress or released.")
	}
	// The change applies to the release as it is now; without If-Match
	// the version read here guards the merge.
	d, err := a.app.Release(r.Context(), r.PathValue("key"), id)
	if err != nil {
		return err
	}
	cur := d.Release
	if version == 0 {
		version = cur.Version
	}
	in := northstar.ReleaseInput{Name: cur.Name, Goal: cur.Goal, Target: cur.Target, Status: cur.Status, MVP: cur.MVP}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Goal != nil {
		in.Goal = *req.Goal
	}
	if target != nil {
		in.Target = *target
	}
	if req.Status != nil {
		in.Status = *req.Status
	}
	if req.MVP != nil {
		in.MVP = *req.MVP
	}
	rel, err := a.app.SaveRelease(r.Context(), r.PathValue("key"), id, version, in)
	if err != nil {
		return err
	}
	writeRelease(w, http.StatusOK, rel)
	return nil
}

func (a *API) shipRelease(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rel, err := a.app.ShipRelease(r.Context(), r.PathValue("key"), id)
	if err != nil {
		return err
	}
	writeRelease(w, http.StatusOK, rel)
	return nil
}

// --- Themes ---

type themeRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	ParentID    *int64 `json:"parent_id"`
}

type themeChange struct {
	Name        *string                   `json:"name"`
	Description *string                   `json:"description"`
	ParentID    northstar.Optional[int64] `json:"parent_id"`
}

func (a *API) listThemes(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.app.Themes(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.Theme]{Items: ts})
	return nil
}

func (a *API) createTheme(w http.ResponseWriter, r *http.Request) error {
	var req themeRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := a.app.SaveTheme(r.Context(), r.PathValue("key"), northstar.Theme{Name: req.Name, Description: req.Description, ParentID: req.ParentID})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, t)
	return nil
}

func (a *API) updateTheme(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req themeChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Description == nil && !req.ParentID.Set {
		return emptyChange("name, description, parent_id")
	}
	ts, err := a.app.Themes(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ts, func(t *northstar.Theme) bool { return t.ID == id })
	if i < 0 {
		return northstar.Errorf(northstar.ENOTFOUND, "Theme %d not found.", id)
	}
	t := *ts[i]
	if req.Name != nil {
		t.Name = *req.Name
	}
	if req.Description != nil {
		t.Description = *req.Description
	}
	if req.ParentID.Set {
		t.ParentID = nil
		if !req.ParentID.Null {
			t.ParentID = &req.ParentID.Value
		}
	}
	saved, err := a.app.SaveTheme(r.Context(), r.PathValue("key"), t)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, saved)
	return nil
}

// --- The roadmap ---

type roadmapProductJSON struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// roadmapObjectiveJSON is an objective as the roadmap shows it: what
// features are grouped by. Status and progress are for members only.
type roadmapObjectiveJSON struct {
	ID       int64                     `json:"id"`
	Title    string                    `json:"title"`
	Product  *string                   `json:"product"` // null for a company objective
	Start    northstar.Date            `json:"start"`
	End      northstar.Date            `json:"end"`
	Status   northstar.ObjectiveStatus `json:"status,omitempty"`
	Progress *float64                  `json:"progress,omitempty"`
}

func roadmapObjective(o *northstar.Objective, members bool) roadmapObjectiveJSON {
	v := roadmapObjectiveJSON{ID: o.ID, Title: o.Title, Start: o.Start, End: o.End}
	if o.ProductKey != "" {
		key := o.ProductKey
		v.Product = &key
	}
	if members {
		p := o.Progress()
		v.Status, v.Progress = o.Status, &p
	}
	return v
}

// roadmapJSON is a product's roadmap for its members: every feature with
// its placement (horizon, start and end, release, theme, objectives) and
// scores, the releases, the themes and the objectives.
type roadmapJSON struct {
	Product    roadmapProductJSON     `json:"product"`
	Features   []*northstar.Feature   `json:"features"`
	Releases   []*northstar.Release   `json:"releases"`
	Themes     []*northstar.Theme     `json:"themes"`
	Objectives []roadmapObjectiveJSON `json:"objectives"`
}

func (a *API) getRoadmap(w http.ResponseWriter, r *http.Request) error {
	rm, err := a.app.Roadmap(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	v := roadmapJSON{Product: roadmapProductJSON{Key: rm.Product.Key, Name: rm.Product.Name}, Features: rm.Features,
		Releases: rm.Releases, Themes: rm.Themes, Objectives: make([]roadmapObjectiveJSON, len(rm.Objectives))}
	for _, f := range v.Features {
		featureView(f)
	}
	for i, o := range rm.Objectives {
		v.Objectives[i] = roadmapObjective(o, true)
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

// csvCell defuses a cell a spreadsheet would run as a formula: one
// starting with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvScore writes a computed score with at most two decimals.
func csvScore(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(math.Round(*v*100)/100, 'f', -1, 64)
}

// roadmapCSV exports the roadmap as CSV, one feature a row by number.
func (a *API) roadmapCSV(w http.ResponseWriter, r *http.Request) error {
	rm, err := a.app.Roadmap(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+rm.Product.Key+`-roadmap.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"ref", "title", "status", "horizon", "start", "end", "release", "theme", "objectives", "mvp", "moscow", "rice", "value_effort"})
	for _, f := range rm.Features {
		var release, theme string
		if f.Release != nil {
			release = f.Release.Name
		}
		if f.Theme != nil {
			theme = f.Theme.Name
		}
		objectives := make([]string, len(f.Objectives))
		for i, o := range f.Objectives {
			objectives[i] = o.Name
		}
		mvp := "no"
		if f.MVP {
			mvp = "yes"
		}
		row := []string{f.Ref, f.Title, string(f.Status), string(f.Horizon), f.Start.String(), f.End.String(), release, theme,
			strings.Join(objectives, "; "), mvp, string(f.MoSCoW), csvScore(f.Computed.RICE), csvScore(f.Computed.ValueEffort)}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
	return nil // the status is sent; a failed write is the client gone
}

// --- Published links and the shared roadmap ---

type roadmapLinkRequest struct {
	Name         string `json:"name"`
	HideInternal bool   `json:"hide_internal"`
}

// publishedLinkJSON is a new link with its secret address, shown once.
type publishedLinkJSON struct {
	Link *northstar.RoadmapLink `json:"link"`
	URL  string                 `json:"url"`
}

func (a *API) listRoadmapLinks(w http.ResponseWriter, r *http.Request) error {
	ls, err := a.app.RoadmapLinks(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.RoadmapLink]{Items: ls})
	return nil
}

func (a *API) publishRoadmap(w http.ResponseWriter, r *http.Request) error {
	var req roadmapLinkRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	secret, l, err := a.app.PublishRoadmap(r.Context(), r.PathValue("key"), req.Name, req.HideInternal)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, publishedLinkJSON{Link: l, URL: a.BaseURL + "/roadmaps/" + secret})
	return nil
}

func (a *API) revokeRoadmapLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.app.RevokeRoadmapLink(r.Context(), r.PathValue("key"), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sharedFeatureJSON is a feature on a shared roadmap: what it is and where
// it is planned; internal holds the scores, the voice of the customer,
// MoSCoW and the owner's name unless the link hides them.
type sharedFeatureJSON struct {
	Ref        string                  `json:"ref"`
	Title      string                  `json:"title"`
	Problem    string                  `json:"problem"`
	Solution   string                  `json:"solution"`
	Status     northstar.FeatureStatus `json:"status"`
	MVP        bool                    `json:"mvp"`
	Release    *northstar.NamedRef     `json:"release"`
	Theme      *northstar.NamedRef     `json:"theme"`
	Objectives []northstar.NamedRef    `json:"objectives"`
	Horizon    northstar.Horizon       `json:"horizon"`
	Start      northstar.Date          `json:"start"`
	End        northstar.Date          `json:"end"`
	Progress   northstar.Progress      `json:"progress"`
	Internal   *sharedInternalJSON     `json:"internal,omitempty"`
}

type sharedInternalJSON struct {
	MoSCoW   northstar.MoSCoW         `json:"moscow"`
	Scores   northstar.Scores         `json:"scores"`
	Computed northstar.ComputedScores `json:"computed"`
	Voice    northstar.Voice          `json:"voice_of_customer"`
	Owner    string                   `json:"owner"` // the owner's name, "" for none
}

// sharedReleaseJSON is a release on a shared roadmap.
type sharedReleaseJSON struct {
	ID         int64                   `json:"id"`
	Name       string                  `json:"name"`
	Goal       string                  `json:"goal"`
	Target     northstar.Date          `json:"target_date"`
	Status     northstar.ReleaseStatus `json:"status"`
	MVP        bool                    `json:"mvp"`
	ReleasedAt *time.Time              `json:"released_at"`
	Progress   northstar.Progress      `json:"progress"`
}

// sharedRoadmapJSON is the roadmap behind a published link: no rejected
// feature, and only the objectives the features shown serve.
type sharedRoadmapJSON struct {
	Product    roadmapProductJSON     `json:"product"`
	Internal   bool                   `json:"internal"`
	Features   []sharedFeatureJSON    `json:"features"`
	Releases   []sharedReleaseJSON    `json:"releases"`
	Themes     []*northstar.Theme     `json:"themes"`
	Objectives []roadmapObjectiveJSON `json:"objectives"`
}

// maxSecretLen bounds a link's secret; longer ones cannot be real.
const maxSecretLen = 200

func (a *API) sharedRoadmap(w http.ResponseWriter, r *http.Request) error {
	// Whoever holds the link sees the roadmap as it is now, and nothing
	// once it is revoked: no cache keeps it, and search engines leave it.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	gone := northstar.Errorf(northstar.ENOTFOUND, "There is no roadmap here.")
	secret := r.PathValue("secret")
	if len(secret) > maxSecretLen {
		return gone
	}
	rm, err := a.app.SharedRoadmap(r.Context(), secret)
	if northstar.ErrorCode(err) == northstar.ENOTFOUND {
		return gone // the same answer, whether unknown or revoked
	} else if err != nil {
		return err
	}
	v := sharedRoadmapJSON{Product: roadmapProductJSON{Key: rm.Product.Key, Name: rm.Product.Name}, Internal: rm.Internal,
		Features: make([]sharedFeatureJSON, len(rm.Features)), Releases: make([]sharedReleaseJSON, len(rm.Releases)),
		Themes: rm.Themes, Objectives: []roadmapObjectiveJSON{}}
	served := map[int64]bool{}
	for i, f := range rm.Features {
		sf := sharedFeatureJSON{Ref: f.Ref, Title: f.Title, Problem: f.Problem, Solution: f.Solution, Status: f.Status, MVP: f.MVP,
			Release: f.Release, Theme: f.Theme, Objectives: f.Objectives, Horizon: f.Horizon, Start: f.Start, End: f.End, Progress: f.Progress}
		if sf.Objectives == nil {
			sf.Objectives = []northstar.NamedRef{}
		}
		for _, o := range sf.Objectives {
			served[o.ID] = true
		}
		if rm.Internal {
			sf.Internal = &sharedInternalJSON{MoSCoW: f.MoSCoW, Scores: f.Scores, Computed: f.Computed, Voice: f.Voice}
			if f.Owner != nil {
				sf.Internal.Owner = f.Owner.Name
			}
		}
		v.Features[i] = sf
	}
	for i, rel := range rm.Releases {
		v.Releases[i] = sharedReleaseJSON{ID: rel.ID, Name: rel.Name, Goal: rel.Goal, Target: rel.Target, Status: rel.Status, MVP: rel.MVP,
			ReleasedAt: rel.ReleasedAt, Progress: rel.Progress}
	}
	for _, o := range rm.Objectives {
		if served[o.ID] {
			v.Objectives = append(v.Objectives, roadmapObjective(o, false))
		}
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}
