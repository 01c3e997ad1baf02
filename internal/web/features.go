package web

// The features pages: a product's features with filters and scores, a
// feature's own page (problem, solution, plan, scores, the voice of the
// customer and its stories), and the prioritisation table with the
// value/effort 2×2 and the custom criteria. The routes are listed with
// the roadmap's in roadmap.go.

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// roadmapChoices gives the features and roadmap views the choices of
// their selects (the pages' templates have no functions of their own).
type roadmapChoices struct{}

// FeatureStatuses lists the feature statuses in order.
func (roadmapChoices) FeatureStatuses() []northstar.FeatureStatus { return northstar.FeatureStatuses }

// Horizons lists now, next and later.
func (roadmapChoices) Horizons() []northstar.Horizon { return northstar.Horizons }

// MoSCoWs lists the MoSCoW priorities.
func (roadmapChoices) MoSCoWs() []northstar.MoSCoW {
	return []northstar.MoSCoW{northstar.Must, northstar.Should, northstar.Could, northstar.Wont}
}

// ReleaseStatuses lists the release statuses.
func (roadmapChoices) ReleaseStatuses() []northstar.ReleaseStatus {
	return []northstar.ReleaseStatus{northstar.ReleasePlanned, northstar.ReleaseInProgress, northstar.ReleaseReleased}
}

// rmOption is a value of a select and its label.
type rmOption struct{ Value, Label string }

// ImpactScale lists RICE's impact values with their names.
func (roadmapChoices) ImpactScale() []rmOption {
	return []rmOption{{"3", "3 · massive"}, {"2", "2 · high"}, {"1", "1 · medium"}, {"0.5", "0.5 · low"}, {"0.25", "0.25 · minimal"}}
}

// CriterionKinds lists where a custom criterion's value can come from.
func (roadmapChoices) CriterionKinds() []rmOption {
	return []rmOption{
		{string(northstar.CriterionManual), "Scored by hand (0–10)"},
		{string(northstar.CriterionDemand), "Customer demand (linked feedback)"},
		{string(northstar.CriterionObjective), "Serves an objective"},
	}
}

// Number writes an optional number for people ("" when unset).
func (roadmapChoices) Number(v *float64) string { return formatNumberPtr(v) }

// Ratio is done out of total as a fraction for a progress bar.
func (roadmapChoices) Ratio(done, total int) float64 {
	if total <= 0 {
		return 0
	}
	return float64(done) / float64(total)
}

// Dates writes a feature's span on the roadmap.
func (roadmapChoices) Dates(f *northstar.Feature) string { return featureDates(f) }

func featuresURL(key string) string { return "/products/" + key + "/features" }

func featureURL(key, ref string) string { return "/products/" + key + "/features/" + ref }

// checkFeatureRef refuses a ref of another product in a product's URL.
func checkFeatureRef(key, ref string) error {
	k, _, err := northstar.ParseRef(ref)
	if err != nil || k != key {
		return northstar.Errorf(northstar.ENOTFOUND, "Feature %s not found in %s.", ref, key)
	}
	return nil
}

// --- The features list ---

// featureQuery is the features list's filters, round-tripped through the
// filter form so a filtered list has a URL.
type featureQuery struct {
	Status  string
	Horizon string // now, next, later, or none for unplaced
	Release int64
	Theme   int64
	MVP     bool
}

func parseFeatureQuery(q url.Values) featureQuery {
	fq := featureQuery{Status: q.Get("status"), Horizon: q.Get("horizon"), MVP: q.Get("mvp") != ""}
	fq.Release, _ = strconv.ParseInt(q.Get("release"), 10, 64)
	fq.Theme, _ = strconv.ParseInt(q.Get("theme"), 10, 64)
	// Unknown values come from hand-edited URLs: ignore them.
	if !northstar.FeatureStatus(fq.Status).Valid() {
		fq.Status = ""
	}
	if fq.Horizon != "none" && (fq.Horizon == "" || !northstar.Horizon(fq.Horizon).Valid()) {
		fq.Horizon = ""
	}
	fq.Release, fq.Theme = max(fq.Release, 0), max(fq.Theme, 0)
	return fq
}

func (fq featureQuery) filter() northstar.FeatureFilter {
	var f northstar.FeatureFilter
	if fq.Status != "" {
		f.Statuses = []northstar.FeatureStatus{northstar.FeatureStatus(fq.Status)}
	}
	switch fq.Horizon {
	case "":
	case "none":
		h := northstar.Horizon("")
		f.Horizon = &h
	default:
		h := northstar.Horizon(fq.Horizon)
		f.Horizon = &h
	}
	f.Release, f.Theme = fq.Release, fq.Theme
	if fq.MVP {
		mvp := true
		f.MVP = &mvp
	}
	return f
}

// Filtered reports whether any filter narrows the list.
func (fq featureQuery) Filtered() bool {
	return fq.Status != "" || fq.Horizon != "" || fq.Release != 0 || fq.Theme != 0 || fq.MVP
}

// featuresView is a product's features.
type featuresView struct {
	page
	alerts
	roadmapChoices
	Product    *northstar.Product
	Query      featureQuery
	Features   []*northstar.Feature
	Releases   []*northstar.Release
	Themes     []*northstar.Theme
	CanManage  bool // create with everything, score, schedule
	CanPropose bool // propose: title, problem, solution
	ClearURL   string
	// MVP counts the features in the MVP among those shown.
	MVP int
}

func (web *Web) featuresView(w http.ResponseWriter, r *http.Request, key string, fq featureQuery) (*featuresView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	view := &featuresView{page: web.newPage(w, r, p.Name+" features", "products"), Product: p, Query: fq, ClearURL: featuresURL(p.Key)}
	view.CanManage = canProduct(view.User, p, northstar.ActionManageFeatures)
	view.CanPropose = canProduct(view.User, p, northstar.ActionProposeFeature)
	if view.Features, err = web.app.FeaturesFiltered(ctx, p.Key, fq.filter()); err != nil {
		return nil, err
	}
	for _, f := range view.Features {
		if f.MVP {
			view.MVP++
		}
	}
	if view.Releases, err = web.app.Releases(ctx, p.Key); err != nil {
		return nil, err
	}
	if view.Themes, err = web.app.Themes(ctx, p.Key); err != nil {
		return nil, err
	}
	return view, nil
}

func (web *Web) features(w http.ResponseWriter, r *http.Request) error {
	view, err := web.featuresView(w, r, r.PathValue("key"), parseFeatureQuery(r.URL.Query()))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "features", view)
}

// createFeature adds a feature from its texts: a product manager's new
// feature or a product owner's proposal. The rest is set on its page.
func (web *Web) createFeature(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	title, problem, solution := oneLine(r.PostForm.Get("title")), r.PostForm.Get("problem"), r.PostForm.Get("solution")
	f, err := web.app.CreateFeature(r.Context(), key, northstar.FeatureInput{Title: &title, Problem: &problem, Solution: &solution})
	if err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.featuresView(w, r, key, featureQuery{})
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "new", err)
		return web.render(w, r, httpx.Status(err), "features", view)
	}
	setFlash(w, f.Ref+" created.")
	redirect(w, r, featureURL(key, f.Ref))
	return nil
}

// --- A feature's page ---

// featureQuote is a passage of feedback linked to the feature.
type featureQuote struct {
	Feedback *northstar.Feedback
	Insight  *northstar.Insight
}

// featureView is a feature's page.
type featureView struct {
	page
	alerts
	roadmapChoices
	Product    *northstar.Product
	F          *northstar.Feature
	Stories    []*northstar.Story
	Quotes     []featureQuote
	Criteria   []*northstar.ScoreCriterion
	Releases   []*northstar.Release
	Themes     []*northstar.Theme
	Objectives []*northstar.Objective
	Members    []*northstar.Member
	CanManage  bool // plan, scores, delete
	CanText    bool // title, problem, solution
	CanSplit   bool // split into stories
	// Split is the story just split off, highlighted in the list.
	Split string
	URL   string
}

// Serves reports whether the feature serves an objective.
func (v *featureView) Serves(id int64) bool {
	return slices.ContainsFunc(v.F.Objectives, func(o northstar.NamedRef) bool { return o.ID == id })
}

// ServesSent is Serves, or what the plan form sent after an error.
func (v *featureView) ServesSent(id int64) bool {
	if v.Alert != nil && v.Alert.Section == "plan" && v.Alert.Values != nil {
		return slices.Contains(v.Alert.Values["objective_ids"], strconv.FormatInt(id, 10))
	}
	return v.Serves(id)
}

// CustomSent returns a manual criterion's score, or what the scores form
// sent after an error.
func (v *featureView) CustomSent(c *northstar.ScoreCriterion) string {
	var cur *float64
	if s, ok := v.F.Custom[c.ID]; ok {
		cur = &s
	}
	return v.Sent("scores", fmt.Sprintf("custom_%d", c.ID), cur)
}

// CriterionValue says what a criterion gives this feature, 0–10.
func (v *featureView) CriterionValue(c *northstar.ScoreCriterion) string {
	switch c.Kind {
	case northstar.CriterionManual:
		if s, ok := v.F.Custom[c.ID]; ok {
			return formatNumber(s)
		}
		return "–"
	case northstar.CriterionObjective:
		if c.ObjectiveID != nil && v.Serves(*c.ObjectiveID) {
			return "10"
		}
		return "0"
	}
	return "from feedback"
}

// ObjectiveTitle names the objective of a criterion.
func (v *featureView) ObjectiveTitle(id *int64) string {
	if id == nil {
		return ""
	}
	for _, o := range v.Objectives {
		if o.ID == *id {
			return o.Title
		}
	}
	return fmt.Sprintf("objective %d", *id)
}

// IDSent returns the id of a select (release, theme) or what the plan
// form sent after an error.
func (v *featureView) IDSent(name string, ref *northstar.NamedRef) string {
	cur := ""
	if ref != nil {
		cur = strconv.FormatInt(ref.ID, 10)
	}
	return v.Sent("plan", name, cur)
}

// OwnerSent returns the owner's email or what the plan form sent.
func (v *featureView) OwnerSent() string {
	cur := ""
	if v.F.Owner != nil {
		cur = v.F.Owner.Email
	}
	return v.Sent("plan", "owner", cur)
}

// StoryPoints writes a story's estimate, "–" when unset.
func (v *featureView) StoryPoints(s *northstar.Story) string { return orDash(pointsLabel(s.Points)) }

func (web *Web) featureView(w http.ResponseWriter, r *http.Request, key, ref string) (*featureView, error) {
	ctx := r.Context()
	if err := checkFeatureRef(key, ref); err != nil {
		return nil, err
	}
	d, err := web.app.FeatureDetail(ctx, ref)
	if err != nil {
		return nil, err
	}
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	f := d.Feature
	view := &featureView{page: web.newPage(w, r, f.Ref+" "+f.Title, "products"), Product: p, F: f, Stories: d.Stories,
		URL: featureURL(p.Key, f.Ref)}
	u := view.User
	view.CanManage = canProduct(u, p, northstar.ActionManageFeatures)
	view.CanText = canProduct(u, p, northstar.ActionProposeFeature)
	view.CanSplit = canProduct(u, p, northstar.ActionEditStories)
	for _, fb := range d.Feedback {
		for _, in := range fb.Links {
			if in.FeatureRef == f.Ref {
				view.Quotes = append(view.Quotes, featureQuote{Feedback: fb, Insight: in})
			}
		}
	}
	weight := map[northstar.Importance]int{northstar.Critical: 3, northstar.Important: 2, northstar.NiceToHave: 1}
	slices.SortStableFunc(view.Quotes, func(a, b featureQuote) int {
		return cmp.Compare(weight[b.Insight.Importance], weight[a.Insight.Importance])
	})
	if view.Criteria, err = web.app.Criteria(ctx, p.Key); err != nil {
		return nil, err
	}
	if view.CanManage {
		if view.Releases, err = web.app.Releases(ctx, p.Key); err != nil {
			return nil, err
		}
		if view.Themes, err = web.app.Themes(ctx, p.Key); err != nil {
			return nil, err
		}
		if view.Members, err = web.app.Members(ctx, p.Key); err != nil {
			return nil, err
		}
	}
	if view.Objectives, err = web.objectiveChoices(r, p.Key); err != nil {
		return nil, err
	}
	return view, nil
}

// objectiveChoices lists the objectives a product's features may serve:
// the product's own, then the company's.
func (web *Web) objectiveChoices(r *http.Request, key string) ([]*northstar.Objective, error) {
	own, err := web.app.Objectives(r.Context(), key)
	if err != nil {
		return nil, err
	}
	company, err := web.app.Objectives(r.Context(), "")
	if err != nil {
		return nil, err
	}
	return append(own, company...), nil
}

// feature serves a feature's page. Features and stories share a
// product's numbering, so a story's ref leads to the story's page.
func (web *Web) feature(w http.ResponseWriter, r *http.Request) error {
	key, ref := normalizeKey(r.PathValue("key")), strings.ToUpper(r.PathValue("ref"))
	view, err := web.featureView(w, r, key, ref)
	if northstar.ErrorCode(err) == northstar.ENOTFOUND {
		if s, serr := web.app.Story(r.Context(), ref); serr == nil && s.ProductKey == key {
			http.Redirect(w, r, "/products/"+key+"/stories/"+s.Ref, http.StatusSeeOther)
			return nil
		}
	}
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "feature", view)
}

// featureSections are the feature page's forms.
var featureSections = []string{"text", "plan", "scores", "release"}

// featureInputFrom reads one form of the feature page. The plan form
// sends every plan field (an unticked box or an empty select clears);
// the scores form replaces every score.
func featureInputFrom(section string, form url.Values) (northstar.FeatureInput, error) {
	var in northstar.FeatureInput
	id := func(name string) (northstar.Optional[int64], error) {
		o := northstar.Optional[int64]{Set: true}
		s := strings.TrimSpace(form.Get(name))
		if s == "" {
			o.Null = true
			return o, nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			return o, northstar.FieldError(name, "Choose from the list.")
		}
		o.Value = v
		return o, nil
	}
	date := func(name string) (northstar.Optional[northstar.Date], error) {
		o := northstar.Optional[northstar.Date]{Set: true}
		s := strings.TrimSpace(form.Get(name))
		if s == "" {
			o.Null = true
			return o, nil
		}
		d, err := northstar.ParseDate(name, s)
		o.Value = d
		return o, err
	}
	var err error
	switch section {
	case "text":
		title, problem, solution := oneLine(form.Get("title")), form.Get("problem"), form.Get("solution")
		in.Title, in.Problem, in.Solution = &title, &problem, &solution
	case "release":
		in.Release, err = id("release_id")
	case "plan":
		status, reason := northstar.FeatureStatus(form.Get("status")), form.Get("rejected_reason")
		mvp := form.Get("mvp") == "true"
		horizon, moscow := northstar.Horizon(form.Get("horizon")), northstar.MoSCoW(form.Get("moscow"))
		in.Status, in.RejectedReason, in.MVP, in.Horizon, in.MoSCoW = &status, &reason, &mvp, &horizon, &moscow
		if in.Release, err = id("release_id"); err != nil {
			return in, err
		}
		if in.Theme, err = id("theme_id"); err != nil {
			return in, err
		}
		objectives := []int64{}
		for _, s := range form["objective_ids"] {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return in, northstar.FieldError("objective_ids", "Choose objectives from the list.")
			}
			objectives = append(objectives, v)
		}
		in.Objectives = &objectives
		in.Owner = northstar.Optional[string]{Set: true, Value: strings.TrimSpace(form.Get("owner"))}
		in.Owner.Null = in.Owner.Value == ""
		if in.Start, err = date("start"); err != nil {
			return in, err
		}
		in.End, err = date("end")
	case "scores":
		var s northstar.Scores
		for _, f := range []struct {
			name string
			dst  **float64
		}{{"reach", &s.Reach}, {"impact", &s.Impact}, {"confidence", &s.Confidence}, {"effort", &s.Effort}, {"value", &s.Value}} {
			if *f.dst, err = parseNumber(f.name, strings.TrimSuffix(strings.TrimSpace(form.Get(f.name)), "%")); err != nil {
				return in, err
			}
		}
		in.Scores = &s
		for name := range form {
			idText, ok := strings.CutPrefix(name, "custom_")
			if !ok {
				continue
			}
			cid, err := strconv.ParseInt(idText, 10, 64)
			if err != nil {
				continue
			}
			v, err := parseNumber(name, form.Get(name))
			if err != nil {
				return in, northstar.FieldError(name, "Criterion scores are numbers from 0 to 10.")
			}
			if in.Custom == nil {
				in.Custom = map[int64]*float64{}
			}
			in.Custom[cid] = v
		}
	}
	return in, err
}

func (web *Web) updateFeature(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key, ref := normalizeKey(r.PathValue("key")), strings.ToUpper(r.PathValue("ref"))
	if err := checkFeatureRef(key, ref); err != nil {
		return err
	}
	section := r.PostForm.Get("section")
	if !slices.Contains(featureSections, section) {
		return northstar.FieldError("section", "The form sent nothing to save.")
	}
	in, err := featureInputFrom(section, r.PostForm)
	if err == nil {
		version, _ := strconv.Atoi(r.PostForm.Get("version"))
		_, err = web.app.UpdateFeature(r.Context(), ref, version, in)
	}
	back := localPath(r.PostForm.Get("next"), featureURL(key, ref)+"#"+section)
	if err != nil && !formProblem(err) {
		return err
	}
	if section == "release" {
		// From a release's page: the answer is that page.
		if err != nil {
			setFlash(w, "!"+northstar.ErrorMessage(err))
		} else {
			setFlash(w, ref+" saved.")
		}
		redirect(w, r, back)
		return nil
	}
	if err == nil && !isHTMX(r) {
		setFlash(w, "Saved.")
		redirect(w, r, back)
		return nil
	}
	// htmx swaps the form's section for the same section of the page as
	// it is now (with the scores computed again), or with the error.
	view, verr := web.featureView(w, r, key, ref)
	if verr != nil {
		return verr
	}
	status := http.StatusOK
	if err != nil {
		status = httpx.Status(err)
		view.Alert = newAlert(r, section, err)
	}
	return web.render(w, r, status, "feature", view)
}

func (web *Web) deleteFeature(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key, ref := normalizeKey(r.PathValue("key")), strings.ToUpper(r.PathValue("ref"))
	if err := checkFeatureRef(key, ref); err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	if err := web.app.DeleteFeature(r.Context(), ref, version); err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.featureView(w, r, key, ref)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "delete", err)
		return web.render(w, r, httpx.Status(err), "feature", view)
	}
	setFlash(w, ref+" deleted. Its stories stay in the backlog.")
	redirect(w, r, featuresURL(key))
	return nil
}

// splitFeature is the feature page's quick-add: a story under the
// feature, at the bottom of the backlog.
func (web *Web) splitFeature(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key, ref := normalizeKey(r.PathValue("key")), strings.ToUpper(r.PathValue("ref"))
	if err := checkFeatureRef(key, ref); err != nil {
		return err
	}
	s, err := web.app.CreateStory(r.Context(), key, northstar.NewStory{Title: oneLine(r.PostForm.Get("title")), Feature: ref})
	if err != nil && !formProblem(err) {
		return err
	}
	if err == nil && !isHTMX(r) {
		setFlash(w, s.Ref+" added under "+ref+".")
		redirect(w, r, featureURL(key, ref)+"#stories")
		return nil
	}
	view, verr := web.featureView(w, r, key, ref)
	if verr != nil {
		return verr
	}
	status := http.StatusOK
	if err != nil {
		status = httpx.Status(err)
		view.Alert = newAlert(r, "split", err)
	} else {
		view.Split = s.Ref
	}
	return web.render(w, r, status, "feature", view)
}

// moveFeature places a feature now, next or later (or nowhere) on the
// roadmap. roadmap.js posts it after a drag and gets 204 or the error's
// message; a plain form goes back to the roadmap.
func (web *Web) moveFeature(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key, ref := normalizeKey(r.PathValue("key")), strings.ToUpper(r.PathValue("ref"))
	if err := checkFeatureRef(key, ref); err != nil {
		return err
	}
	h := northstar.Horizon(r.PostForm.Get("horizon"))
	_, err := web.app.UpdateFeature(r.Context(), ref, 0, northstar.FeatureInput{Horizon: &h})
	if isHTMX(r) {
		if err != nil {
			if !userError(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
				return err
			}
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
		if !formProblem(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	} else {
		setFlash(w, ref+" moved to "+strings.ToLower(h.Label())+".")
	}
	redirect(w, r, localPath(r.PostForm.Get("next"), roadmapURL(key, "horizons"))+"#feature-"+ref)
	return nil
}

// --- Prioritisation ---

// prioritySorts are the prioritisation table's sort keys: each reads a
// number from a feature (nil when the feature has none).
var prioritySorts = map[string]func(f *northstar.Feature) *float64{
	"rice":         func(f *northstar.Feature) *float64 { return f.Computed.RICE },
	"value_effort": func(f *northstar.Feature) *float64 { return f.Computed.ValueEffort },
	"weighted":     func(f *northstar.Feature) *float64 { return f.Computed.Weighted },
	"reach":        func(f *northstar.Feature) *float64 { return f.Scores.Reach },
	"impact":       func(f *northstar.Feature) *float64 { return f.Scores.Impact },
	"confidence":   func(f *northstar.Feature) *float64 { return f.Scores.Confidence },
	"effort":       func(f *northstar.Feature) *float64 { return f.Scores.Effort },
	"value":        func(f *northstar.Feature) *float64 { return f.Scores.Value },
	"voice": func(f *northstar.Feature) *float64 {
		if f.Voice.Count == 0 {
			return nil
		}
		// Importance first; the number of quotes breaks ties.
		v := float64(f.Voice.Importance) + float64(f.Voice.Count)/1000
		return &v
	},
	"moscow": func(f *northstar.Feature) *float64 {
		rank, ok := map[northstar.MoSCoW]float64{northstar.Must: 4, northstar.Should: 3, northstar.Could: 2, northstar.Wont: 1}[f.MoSCoW]
		if !ok {
			return nil
		}
		return &rank
	},
	"ref": func(f *northstar.Feature) *float64 { n := float64(f.Number); return &n },
}

// sortFeatures orders features by a score; those without one come last
// whichever the direction, then by ref.
func sortFeatures(fs []*northstar.Feature, key string, desc bool) {
	get := prioritySorts[key]
	slices.SortStableFunc(fs, func(a, b *northstar.Feature) int {
		va, vb := get(a), get(b)
		switch {
		case va == nil && vb == nil:
			return cmp.Compare(a.Number, b.Number)
		case va == nil:
			return 1
		case vb == nil:
			return -1
		}
		c := cmp.Compare(*va, *vb)
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.Number, b.Number))
	})
}

// prioritiseView is the prioritisation page.
type prioritiseView struct {
	page
	alerts
	roadmapChoices
	Product    *northstar.Product
	Rows       []*northstar.Feature
	Sort       string
	Desc       bool
	All        bool // with released and rejected features
	Hidden     int  // released and rejected features left out
	Chart      template.HTML
	Unplotted  []*northstar.Feature // without a value or an effort
	Criteria   []*northstar.ScoreCriterion
	Objectives []*northstar.Objective
	CanManage  bool
}

// SortURL is the table sorted by a column: the same column again turns
// the order round.
func (v *prioritiseView) SortURL(col string) string {
	q := url.Values{"sort": {col}}
	desc := col != "ref" && col != "effort"
	if col == v.Sort {
		desc = !v.Desc
	}
	q.Set("dir", map[bool]string{true: "desc", false: "asc"}[desc])
	if v.All {
		q.Set("all", "1")
	}
	return "/products/" + v.Product.Key + "/prioritise?" + q.Encode()
}

// AllURL switches between the open features and all of them.
func (v *prioritiseView) AllURL() string {
	q := url.Values{"sort": {v.Sort}, "dir": {map[bool]string{true: "desc", false: "asc"}[v.Desc]}}
	if !v.All {
		q.Set("all", "1")
	}
	return "/products/" + v.Product.Key + "/prioritise?" + q.Encode()
}

// Rank is a row's place in the table, from 1.
func (v *prioritiseView) Rank(i int) int { return i + 1 }

// Col marks the cells of the column the table is sorted by.
func (v *prioritiseView) Col(col string) string {
	if col == v.Sort {
		return " is-sorted-col"
	}
	return ""
}

// AriaSort says how the table is sorted by a column, for aria-sort.
func (v *prioritiseView) AriaSort(col string) string {
	if col != v.Sort {
		return ""
	}
	if v.Desc {
		return "descending"
	}
	return "ascending"
}

// ObjectiveTitle names an objective criterion's objective.
func (v *prioritiseView) ObjectiveTitle(id *int64) string {
	if id == nil {
		return ""
	}
	for _, o := range v.Objectives {
		if o.ID == *id {
			return o.Title
		}
	}
	return fmt.Sprintf("objective %d", *id)
}

// KindLabel names a criterion's kind.
func (v *prioritiseView) KindLabel(k northstar.CriterionKind) string {
	for _, o := range v.CriterionKinds() {
		if o.Value == string(k) {
			return o.Label
		}
	}
	return string(k)
}

// Quadrant names where a feature falls on the 2×2, "" off the chart.
func (v *prioritiseView) Quadrant(f *northstar.Feature) string {
	if f.Scores.Value == nil || f.Scores.Effort == nil {
		return ""
	}
	xmax, _ := valueEffortAxis(v.Rows)
	_, label := valueEffortQuadrant(*f.Scores.Value, *f.Scores.Effort, xmax/2)
	return label
}

func (web *Web) prioritiseView(w http.ResponseWriter, r *http.Request, key string) (*prioritiseView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	view := &prioritiseView{page: web.newPage(w, r, p.Name+" prioritisation", "products"), Product: p,
		Sort: q.Get("sort"), Desc: q.Get("dir") != "asc", All: q.Get("all") != ""}
	if _, ok := prioritySorts[view.Sort]; !ok {
		view.Sort, view.Desc = "rice", true
	}
	view.CanManage = canProduct(view.User, p, northstar.ActionManageFeatures)
	fs, err := web.app.Features(ctx, p.Key)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if !view.All && (f.Status == northstar.FeatureReleased || f.Status == northstar.FeatureRejected) {
			view.Hidden++
			continue
		}
		view.Rows = append(view.Rows, f)
		if f.Scores.Value == nil || f.Scores.Effort == nil {
			view.Unplotted = append(view.Unplotted, f)
		}
	}
	sortFeatures(view.Rows, view.Sort, view.Desc)
	view.Chart = valueEffortChart(view.Rows, featureURL(p.Key, ""))
	if view.Criteria, err = web.app.Criteria(ctx, p.Key); err != nil {
		return nil, err
	}
	if view.Objectives, err = web.objectiveChoices(r, p.Key); err != nil {
		return nil, err
	}
	return view, nil
}

func (web *Web) prioritise(w http.ResponseWriter, r *http.Request) error {
	view, err := web.prioritiseView(w, r, r.PathValue("key"))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "prioritise", view)
}

// criterionFrom reads a criterion form.
func criterionFrom(form url.Values) (northstar.ScoreCriterion, error) {
	c := northstar.ScoreCriterion{Name: oneLine(form.Get("name")), Kind: northstar.CriterionKind(form.Get("kind"))}
	weight, err := parseNumber("weight", form.Get("weight"))
	if err != nil {
		return c, err
	}
	if weight == nil {
		return c, northstar.FieldError("weight", "Give the criterion a weight, like 1 or 2.5.")
	}
	c.Weight = *weight
	if c.Kind == northstar.CriterionObjective {
		if s := strings.TrimSpace(form.Get("objective_id")); s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return c, northstar.FieldError("objective_id", "Choose an objective from the list.")
			}
			c.ObjectiveID = &id
		}
	}
	return c, nil
}

// criterionDone answers a criterion form: back to the criteria, or the
// page with the error at the form.
func (web *Web) criterionDone(w http.ResponseWriter, r *http.Request, key, section, done string, err error) error {
	if err == nil {
		setFlash(w, done)
		redirect(w, r, "/products/"+key+"/prioritise#criteria")
		return nil
	}
	if !formProblem(err) {
		return err
	}
	view, verr := web.prioritiseView(w, r, key)
	if verr != nil {
		return verr
	}
	view.Alert = newAlert(r, section, err)
	return web.render(w, r, httpx.Status(err), "prioritise", view)
}

func (web *Web) saveScoreCriterion(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	section := "criterion-new"
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = parseID(r, "id", "Criterion"); err != nil {
			return err
		}
		section = fmt.Sprintf("criterion-%d", id)
	}
	c, err := criterionFrom(r.PostForm)
	if err == nil {
		c.ID = id
		_, err = web.app.SaveCriterion(r.Context(), key, c)
	}
	return web.criterionDone(w, r, key, section, "Criterion “"+c.Name+"” saved; scores computed again.", err)
}

func (web *Web) deleteScoreCriterion(w http.ResponseWriter, r *http.Request) error {
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "id", "Criterion")
	if err != nil {
		return err
	}
	if err := web.app.DeleteScoreCriterion(r.Context(), key, id); err != nil {
		return err
	}
	setFlash(w, "Criterion deleted; scores computed again.")
	redirect(w, r, "/products/"+key+"/prioritise#criteria")
	return nil
}
