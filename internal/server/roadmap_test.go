package server_test

// Scenario tests of the features and roadmap API: features from feedback,
// their scores and the prioritisation table, the custom score's criteria,
// releases and the MVP, themes, the roadmap as JSON and CSV, splitting a
// feature into stories, and published roadmap links read without an
// account, through HTTP on every engine.

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

// The JSON shapes of the features and roadmap API, as the tests read them.
type (
	apiNamedRef struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	apiScores struct {
		Reach      *float64 `json:"reach"`
		Impact     *float64 `json:"impact"`
		Confidence *float64 `json:"confidence"`
		Effort     *float64 `json:"effort"`
		Value      *float64 `json:"value"`
	}
	apiComputed struct {
		RICE        *float64 `json:"rice"`
		ValueEffort *float64 `json:"value_effort"`
		Weighted    *float64 `json:"weighted"`
	}
	apiVoice struct {
		Count         int     `json:"count"`
		Importance    int     `json:"importance"`
		CustomerValue float64 `json:"customer_value"`
		Customers     int     `json:"customers"`
	}
	apiProgress struct {
		StoriesDone  int `json:"stories_done"`
		StoriesTotal int `json:"stories_total"`
		PointsDone   int `json:"points_done"`
		PointsTotal  int `json:"points_total"`
	}
	apiFeature struct {
		Ref            string             `json:"ref"`
		Product        string             `json:"product"`
		Number         int                `json:"number"`
		Title          string             `json:"title"`
		Problem        string             `json:"problem"`
		Solution       string             `json:"solution"`
		Status         string             `json:"status"`
		RejectedReason string             `json:"rejected_reason"`
		MVP            bool               `json:"mvp"`
		Release        *apiNamedRef       `json:"release"`
		Theme          *apiNamedRef       `json:"theme"`
		Objectives     []apiNamedRef      `json:"objectives"`
		Owner          *apiUserRef        `json:"owner"`
		Horizon        string             `json:"horizon"`
		Start          *string            `json:"start"`
		End            *string            `json:"end"`
		MoSCoW         string             `json:"moscow"`
		Scores         apiScores          `json:"scores"`
		Custom         map[string]float64 `json:"custom_scores"`
		Computed       apiComputed        `json:"computed"`
		Voice          apiVoice           `json:"voice_of_customer"`
		Progress       apiProgress        `json:"progress"`
		InsightCount   int                `json:"insight_count"`
		Version        int                `json:"version"`
	}
	apiQuote struct {
		InsightID  int64  `json:"insight_id"`
		Passage    string `json:"passage"`
		Importance string `json:"importance"`
	}
	apiFeatureFeedback struct {
		ID       int64        `json:"id"`
		Source   string       `json:"source"`
		Title    string       `json:"title"`
		Text     string       `json:"text"`
		Customer *apiCustomer `json:"customer"`
		Quotes   []apiQuote   `json:"quotes"`
	}
	apiFeatureDetail struct {
		apiFeature
		Stories  []apiStory           `json:"stories"`
		Feedback []apiFeatureFeedback `json:"feedback"`
	}
	apiRelease struct {
		ID           int64       `json:"id"`
		Product      string      `json:"product"`
		Name         string      `json:"name"`
		Goal         string      `json:"goal"`
		TargetDate   *string     `json:"target_date"`
		Status       string      `json:"status"`
		MVP          bool        `json:"mvp"`
		ReleasedAt   *time.Time  `json:"released_at"`
		FeatureCount int         `json:"feature_count"`
		Progress     apiProgress `json:"progress"`
		Version      int         `json:"version"`
	}
	apiReleaseFeature struct {
		apiFeature
		Stories []apiStory `json:"stories"`
	}
	apiReleaseDetail struct {
		apiRelease
		Features []apiReleaseFeature `json:"features"`
	}
	apiTheme struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		ParentID    *int64 `json:"parent_id"`
	}
	apiScoreCriterion struct {
		ID          int64   `json:"id"`
		Name        string  `json:"name"`
		Weight      float64 `json:"weight"`
		Kind        string  `json:"kind"`
		ObjectiveID *int64  `json:"objective_id"`
	}
	apiRoadmapObjective struct {
		ID       int64    `json:"id"`
		Title    string   `json:"title"`
		Product  *string  `json:"product"`
		Status   string   `json:"status"`
		Progress *float64 `json:"progress"`
	}
	apiRoadmapProduct struct {
		Key  string `json:"key"`
		Name string `json:"name"`
	}
	apiRoadmap struct {
		Product    apiRoadmapProduct     `json:"product"`
		Features   []apiFeature          `json:"features"`
		Releases   []apiRelease          `json:"releases"`
		Themes     []apiTheme            `json:"themes"`
		Objectives []apiRoadmapObjective `json:"objectives"`
	}
	apiSharedInternal struct {
		MoSCoW   string      `json:"moscow"`
		Scores   apiScores   `json:"scores"`
		Computed apiComputed `json:"computed"`
		Voice    apiVoice    `json:"voice_of_customer"`
		Owner    string      `json:"owner"`
	}
	apiSharedFeature struct {
		Ref        string             `json:"ref"`
		Title      string             `json:"title"`
		Status     string             `json:"status"`
		MVP        bool               `json:"mvp"`
		Release    *apiNamedRef       `json:"release"`
		Objectives []apiNamedRef      `json:"objectives"`
		Horizon    string             `json:"horizon"`
		Start      *string            `json:"start"`
		End        *string            `json:"end"`
		Progress   apiProgress        `json:"progress"`
		Internal   *apiSharedInternal `json:"internal"`
	}
	apiSharedRoadmap struct {
		Product    apiRoadmapProduct     `json:"product"`
		Internal   bool                  `json:"internal"`
		Features   []apiSharedFeature    `json:"features"`
		Releases   []apiRelease          `json:"releases"`
		Themes     []apiTheme            `json:"themes"`
		Objectives []apiRoadmapObjective `json:"objectives"`
	}
	apiRoadmapLink struct {
		ID           int64      `json:"id"`
		Name         string     `json:"name"`
		Prefix       string     `json:"prefix"`
		HideInternal bool       `json:"hide_internal"`
		CreatedBy    string     `json:"created_by"`
		RevokedAt    *time.Time `json:"revoked_at"`
	}
	apiPublishedLink struct {
		Link apiRoadmapLink `json:"link"`
		URL  string         `json:"url"`
	}
)

func init() {
	walkSeeders = append(walkSeeders, seedRoadmapWalk)
}

// seedRoadmapWalk gives the GET walk a scored feature with a story and
// feedback, a release, a theme, a criterion and a live roadmap link.
func seedRoadmapWalk(t *testing.T, e *env, tm *team, seed *walkSeed) {
	t.Helper()
	rel := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{"name": "Walk MVP", "mvp": true, "target_date": "2026-06-30"}).
		want(t, http.StatusCreated))
	theme := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/BOOK/themes", map[string]string{"name": "Walk theme"}).want(t, http.StatusCreated))
	crit := decodeAs[apiScoreCriterion](t, tm.pm.post(t, "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "Walk fit", "weight": 2}).
		want(t, http.StatusCreated))
	f := tm.pm.createFeature(t, "BOOK", map[string]any{
		"title": "Walk feature", "problem": "Counting", "mvp": true, "release_id": rel.ID, "theme_id": theme.ID, "horizon": "now",
		"start": "2026-01-01", "end": "2026-03-31", "moscow": "must",
		"scores":        map[string]any{"reach": 100, "impact": 2, "confidence": 80, "effort": 2, "value": 7},
		"custom_scores": map[string]any{strconv.FormatInt(crit.ID, 10): 6},
	})
	tm.po.post(t, "/api/v1/features/"+f.Ref+"/stories", map[string]any{"title": "Walk part", "points": 3}).want(t, http.StatusCreated)
	tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{"text": "Counting is slow.", "insights": []map[string]string{{"passage": "slow", "feature": f.Ref}}}).
		want(t, http.StatusCreated)
	link := decodeAs[apiPublishedLink](t, tm.pm.post(t, "/api/v1/products/BOOK/roadmap-links", map[string]any{"name": "Walk"}).want(t, http.StatusCreated))
	_, secret, _ := strings.Cut(link.URL, "/roadmaps/")
	seed.ids["features"] = f.Ref
	seed.ids["releases"] = strconv.FormatInt(rel.ID, 10)
	seed.ids["themes"] = strconv.FormatInt(theme.ID, 10)
	seed.ids["score-criteria"] = strconv.FormatInt(crit.ID, 10)
	seed.ids["roadmap-links"] = strconv.FormatInt(link.Link.ID, 10)
	seed.ids["roadmaps"] = secret
	seed.required["/api/v1/products/{key}/features"] = "sort=rice&status=idea,planned&horizon=now&mvp=true&limit=5"
}

// createFeature creates a feature through the API; body is a title or a
// JSON object.
func (c *client) createFeature(t *testing.T, key string, body any) apiFeature {
	t.Helper()
	if title, ok := body.(string); ok {
		body = map[string]any{"title": title}
	}
	return decodeAs[apiFeature](t, c.post(t, "/api/v1/products/"+key+"/features", body).want(t, http.StatusCreated))
}

// getFeature reads a feature with its stories and feedback.
func (c *client) getFeature(t *testing.T, ref string) apiFeatureDetail {
	t.Helper()
	return decodeAs[apiFeatureDetail](t, c.get(t, "/api/v1/features/"+ref).want(t, http.StatusOK))
}

// changeFeature PATCHes a feature without If-Match.
func (c *client) changeFeature(t *testing.T, ref string, body any) apiFeature {
	t.Helper()
	return decodeAs[apiFeature](t, c.patch(t, "/api/v1/features/"+ref, body).want(t, http.StatusOK))
}

// featureOrder lists the refs of a features list, following every page.
func featureOrder(t *testing.T, c *client, path string) []string {
	t.Helper()
	refs := []string{}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := path
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatalf("more than 50 pages of %s", path)
		}
		var p page[apiFeature]
		c.get(t, next).want(t, http.StatusOK).decode(t, &p)
		for _, f := range p.Items {
			refs = append(refs, f.Ref)
		}
		if p.NextCursor == "" {
			return refs
		}
		next = path + sep + "cursor=" + p.NextCursor
	}
}

func val(p *float64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatFloat(*p, 'g', 6, 64)
}

func nearPtr(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }

func dateOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// The "done when", through the API: three features from the
// ideas in feedback, scored with RICE, the MVP marked with an MVP release,
// placed on the timeline and in now / next / later, one split into
// stories; a roadmap link published, read without an account, revoked.
func TestRoadmapDoneWhen(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")

		// Three ideas from an interview, and one of them asked for
		// again in support.
		ana := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]any{"name": "Ana", "value": 100}).want(t, http.StatusCreated))
		bo := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]any{"name": "Bo", "value": 40}).want(t, http.StatusCreated))
		interview := decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{
			"source": "interview", "customer_id": ana.ID,
			"text": "We count stock by hand. Shelves are empty before anyone notices. Reorders take days.",
			"insights": []map[string]string{
				{"passage": "We count stock by hand", "new_idea": "Stock counts", "importance": "critical"},
				{"passage": "Shelves are empty", "new_idea": "Low-stock alerts", "importance": "important"},
				{"passage": "Reorders take days", "new_idea": "Faster reorders"},
			},
		}).want(t, http.StatusCreated))
		refs := []string{interview.Insights[0].Feature, interview.Insights[1].Feature, interview.Insights[2].Feature}
		if !slices.Equal(refs, bookRefs(1, 2, 3)) {
			t.Fatalf("ideas from the interview = %v", refs)
		}
		tm.po.post(t, "/api/v1/products/BOOK/feedback", map[string]any{"source": "support", "customer_id": bo.ID, "text": "Counting takes all Sunday.",
			"insights": []map[string]string{{"passage": "Counting takes all Sunday", "feature": "BOOK-1", "importance": "important"}}}).
			want(t, http.StatusCreated)
		if ideas := list[apiIdea](t, tm.viewer, "/api/v1/products/BOOK/ideas"); len(ideas) != 3 {
			t.Errorf("%d ideas, want 3", len(ideas))
		}

		// RICE scores, each change against the version seen.
		rice := map[string]map[string]any{
			"BOOK-1": {"reach": 500, "impact": 2, "confidence": 80, "effort": 2},     // 400
			"BOOK-2": {"reach": 300, "impact": 1, "confidence": 50, "effort": 1},     // 150
			"BOOK-3": {"reach": 1000, "impact": 0.5, "confidence": 100, "effort": 4}, // 125
		}
		wantRICE := map[string]float64{"BOOK-1": 400, "BOOK-2": 150, "BOOK-3": 125}
		for _, ref := range refs {
			res := tm.pm.get(t, "/api/v1/features/"+ref).want(t, http.StatusOK)
			etag := res.header.Get("ETag")
			res = tm.pm.patch(t, "/api/v1/features/"+ref, map[string]any{"scores": rice[ref], "status": "under_consideration"}, "If-Match", etag).
				want(t, http.StatusOK)
			f := decodeAs[apiFeature](t, res)
			if !nearPtr(f.Computed.RICE, wantRICE[ref]) || f.Status != "under_consideration" || res.header.Get("ETag") != fmt.Sprintf(`"%d"`, f.Version) ||
				fmt.Sprintf(`"%d"`, f.Version-1) != etag {
				t.Errorf("%s scored: rice %s, status %s, version %d (ETag before %s, after %s)", ref, val(f.Computed.RICE), f.Status, f.Version, etag, res.header.Get("ETag"))
			}
		}
		if got := featureOrder(t, tm.viewer, "/api/v1/products/BOOK/features?sort=rice"); !slices.Equal(got, bookRefs(1, 2, 3)) {
			t.Errorf("by RICE: %v", got)
		}

		// The MVP: a release marked MVP, and two features in it.
		mvp := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{
			"name": "MVP", "goal": "Shops count stock in minutes", "target_date": "2026-03-31", "mvp": true,
		}).want(t, http.StatusCreated))
		if !mvp.MVP || mvp.Status != "planned" || dateOf(mvp.TargetDate) != "2026-03-31" {
			t.Errorf("MVP release = %+v", mvp)
		}
		// Placed on the timeline and in now / next / later.
		placed := map[string]map[string]any{
			"BOOK-1": {"mvp": true, "release_id": mvp.ID, "horizon": "now", "start": "2026-01-05", "end": "2026-02-27", "status": "planned"},
			"BOOK-2": {"mvp": true, "release_id": mvp.ID, "horizon": "next", "start": "2026-02-02", "end": "2026-03-27", "status": "planned"},
			"BOOK-3": {"horizon": "later", "moscow": "could"},
		}
		for _, ref := range refs {
			f := tm.pm.changeFeature(t, ref, placed[ref])
			if f.Horizon != placed[ref]["horizon"] || !nearPtr(f.Computed.RICE, wantRICE[ref]) {
				t.Errorf("%s placed: %+v", ref, f)
			}
		}
		rm := decodeAs[apiRoadmap](t, tm.stakeholder.get(t, "/api/v1/products/BOOK/roadmap").want(t, http.StatusOK))
		columns := map[string][]string{}
		for _, f := range rm.Features {
			columns[f.Horizon] = append(columns[f.Horizon], f.Ref)
		}
		if !slices.Equal(columns["now"], bookRefs(1)) || !slices.Equal(columns["next"], bookRefs(2)) || !slices.Equal(columns["later"], bookRefs(3)) {
			t.Errorf("now / next / later = %v", columns)
		}
		if f := rm.Features[0]; dateOf(f.Start) != "2026-01-05" || dateOf(f.End) != "2026-02-27" || !f.MVP || f.Release == nil || f.Release.Name != "MVP" {
			t.Errorf("BOOK-1 on the timeline: %+v", f)
		}
		if len(rm.Releases) != 1 || rm.Releases[0].FeatureCount != 2 || !rm.Releases[0].MVP || rm.Product.Key != "BOOK" {
			t.Errorf("roadmap releases = %+v, product %+v", rm.Releases, rm.Product)
		}
		if got := featureOrder(t, tm.viewer, "/api/v1/products/BOOK/features?mvp=true"); !slices.Equal(got, bookRefs(1, 2)) {
			t.Errorf("MVP features: %v", got)
		}
		if got := featureOrder(t, tm.viewer, fmt.Sprintf("/api/v1/products/BOOK/features?release=%d&horizon=next", mvp.ID)); !slices.Equal(got, bookRefs(2)) {
			t.Errorf("next in the MVP: %v", got)
		}

		// The product owner splits BOOK-1 into stories; a developer
		// finishes one.
		s1 := decodeAs[apiStory](t, tm.po.post(t, "/api/v1/features/book-1/stories", map[string]any{"title": "Count a shelf", "points": 3,
			"persona": "shop owner", "want": "to count a shelf with my phone", "benefit": "Sunday is free"}).want(t, http.StatusCreated))
		s2 := decodeAs[apiStory](t, tm.po.post(t, "/api/v1/features/BOOK-1/stories", map[string]any{"title": "Correct a miscount", "points": 2}).
			want(t, http.StatusCreated))
		if s1.Ref != "BOOK-4" || s2.Ref != "BOOK-5" {
			t.Errorf("stories = %s, %s; want BOOK-4, BOOK-5 (the numbering is shared)", s1.Ref, s2.Ref)
		}
		tm.dev.patch(t, "/api/v1/stories/BOOK-4", map[string]string{"status": "done"}).want(t, http.StatusOK)
		d := tm.viewer.getFeature(t, "BOOK-1")
		if !slices.Equal(refsOf(d.Stories), bookRefs(4, 5)) || d.Progress != (apiProgress{StoriesDone: 1, StoriesTotal: 2, PointsDone: 3, PointsTotal: 5}) {
			t.Errorf("BOOK-1: stories %v, progress %+v", refsOf(d.Stories), d.Progress)
		}
		if got := tm.viewer.getStory(t, "BOOK-5"); got.Title != "Correct a miscount" {
			t.Errorf("BOOK-5 = %+v", got)
		}
		// Its page shows the feedback quotes and the voice of the
		// customer: two insights, critical and important, from Ana and Bo.
		if len(d.Feedback) != 2 {
			t.Fatalf("BOOK-1 feedback = %+v", d.Feedback)
		}
		quotes := map[string]string{}
		for _, fb := range d.Feedback {
			for _, q := range fb.Quotes {
				quotes[q.Passage] = q.Importance
			}
		}
		if len(quotes) != 2 || quotes["We count stock by hand"] != "critical" || quotes["Counting takes all Sunday"] != "important" {
			t.Errorf("BOOK-1 quotes = %v", quotes)
		}
		if d.Voice != (apiVoice{Count: 2, Importance: 5, CustomerValue: 140, Customers: 2}) {
			t.Errorf("BOOK-1 voice = %+v", d.Voice)
		}
		// A rejected idea stays off shared roadmaps.
		tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Blockchain shelves", "status": "rejected", "rejected_reason": "No customer asked."})

		// A link for sales, with the internal fields, read logged out.
		res := tm.pm.post(t, "/api/v1/products/BOOK/roadmap-links", map[string]any{"name": "Sales"}).want(t, http.StatusCreated)
		pub := decodeAs[apiPublishedLink](t, res)
		secret, ok := strings.CutPrefix(pub.URL, e.url+"/roadmaps/")
		if !ok || !strings.HasPrefix(secret, pub.Link.Prefix) || len(secret) < 40 || pub.Link.Name != "Sales" || pub.Link.HideInternal {
			t.Fatalf("published %+v", pub)
		}
		res = e.anon().get(t, "/api/v1/roadmaps/"+secret).want(t, http.StatusOK)
		if cc := res.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("shared roadmap Cache-Control %q, want no-store", cc)
		}
		shared := decodeAs[apiSharedRoadmap](t, res)
		var sharedRefs []string
		for _, f := range shared.Features {
			sharedRefs = append(sharedRefs, f.Ref)
		}
		if !slices.Equal(sharedRefs, bookRefs(1, 2, 3)) || !shared.Internal || shared.Product.Name != "Book inventory" {
			t.Errorf("shared roadmap: features %v, internal %v, product %+v", sharedRefs, shared.Internal, shared.Product)
		}
		if f := shared.Features[0]; f.Internal == nil || !nearPtr(f.Internal.Computed.RICE, 400) || f.Horizon != "now" || dateOf(f.Start) != "2026-01-05" ||
			f.Progress.StoriesDone != 1 || f.Release == nil || f.Release.ID != mvp.ID {
			t.Errorf("BOOK-1 shared: %+v", f)
		}
		noEmails(t, res)

		// One for marketing without the internal fields.
		hidden := decodeAs[apiPublishedLink](t, tm.pm.post(t, "/api/v1/products/BOOK/roadmap-links", map[string]any{"name": "Marketing", "hide_internal": true}).
			want(t, http.StatusCreated))
		hiddenSecret := strings.TrimPrefix(hidden.URL, e.url+"/roadmaps/")
		res = e.anon().get(t, "/api/v1/roadmaps/"+hiddenSecret).want(t, http.StatusOK)
		for _, word := range []string{`"internal":{`, "reach", "rice", "voice_of_customer", "moscow", "Pat Manager", "rejected"} {
			if strings.Contains(string(res.body), word) {
				t.Errorf("a link hiding internal fields shows %q: %s", word, short(res.body))
			}
		}
		if shared := decodeAs[apiSharedRoadmap](t, res); shared.Internal || len(shared.Features) != 3 {
			t.Errorf("hidden link: internal %v, %d features", shared.Internal, len(shared.Features))
		}

		// Revoked, the link is gone, and says no more than an unknown one.
		links := list[apiRoadmapLink](t, tm.pm, "/api/v1/products/BOOK/roadmap-links")
		if len(links) != 2 || links[0].Name != "Marketing" || links[1].CreatedBy != "Pat Manager" || links[0].RevokedAt != nil {
			t.Errorf("links = %+v", links)
		}
		tm.pm.delete(t, fmt.Sprintf("/api/v1/products/BOOK/roadmap-links/%d", pub.Link.ID)).want(t, http.StatusNoContent)
		gone := e.anon().get(t, "/api/v1/roadmaps/"+secret)
		gone.wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		unknown := e.anon().get(t, "/api/v1/roadmaps/rm_"+strings.Repeat("a", 52))
		unknown.wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		if string(gone.body) != string(unknown.body) || strings.Contains(string(gone.body), "BOOK") || strings.Contains(string(gone.body), "Book") {
			t.Errorf("a revoked link answers %s, an unknown one %s", gone.body, unknown.body)
		}
		e.anon().get(t, "/api/v1/roadmaps/"+hiddenSecret).want(t, http.StatusOK)
		tm.pm.delete(t, fmt.Sprintf("/api/v1/products/BOOK/roadmap-links/%d", pub.Link.ID)).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		links = list[apiRoadmapLink](t, tm.pm, "/api/v1/products/BOOK/roadmap-links")
		if links[1].RevokedAt == nil || links[0].RevokedAt != nil {
			t.Errorf("links after revoking = %+v", links)
		}
	})
}

// The prioritisation table sorts by every score, pages in that order,
// and its scores follow their inputs: RICE, value/effort, the weighted
// score from criteria (manual values, feedback demand, objectives) and
// the voice of the customer.
func TestFeaturePrioritisation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		objective := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{
			"title": "Win shops", "start": "2026-01-01", "end": "2026-06-30"}).want(t, http.StatusCreated))
		fit := decodeAs[apiScoreCriterion](t, tm.pm.post(t, "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "Strategic fit", "weight": 2}).
			want(t, http.StatusCreated))
		demand := decodeAs[apiScoreCriterion](t, tm.pm.post(t, "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "Customer demand", "kind": "demand"}).
			want(t, http.StatusCreated))
		serves := decodeAs[apiScoreCriterion](t, tm.pm.post(t, "/api/v1/products/BOOK/score-criteria", map[string]any{
			"name": "Wins shops", "kind": "objective", "objective_id": objective.ID, "weight": 1}).want(t, http.StatusCreated))
		if demand.Weight != 1 || serves.ObjectiveID == nil || *serves.ObjectiveID != objective.ID {
			t.Errorf("criteria: %+v, %+v", demand, serves)
		}
		fitKey := strconv.FormatInt(fit.ID, 10)
		type in struct {
			reach, impact, confidence, effort, value float64
			fit                                      float64
		}
		inputs := []in{
			{100, 1, 100, 1, 2, 10},    // BOOK-1: RICE 100, value/effort 2
			{1000, 3, 50, 5, 9, 4},     // BOOK-2: RICE 300, 1.8
			{10, 0.25, 80, 0.5, 10, 0}, // BOOK-3: RICE 4, 20
			{0, 0, 0, 0, 0, 1},         // BOOK-4: no inputs
			{400, 2, 100, 4, 4, 2},     // BOOK-5: RICE 200, 1
		}
		for i, x := range inputs {
			body := map[string]any{"title": fmt.Sprintf("Feature %d", i+1), "custom_scores": map[string]any{fitKey: x.fit}}
			if x.effort > 0 {
				body["scores"] = map[string]any{"reach": x.reach, "impact": x.impact, "confidence": x.confidence, "effort": x.effort, "value": x.value}
			}
			if i == 4 {
				body["objective_ids"] = []int64{objective.ID}
			}
			tm.pm.createFeature(t, "BOOK", body)
		}
		// Demand: BOOK-3 critical twice (6), BOOK-1 important once (2).
		tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{"text": "Scan it. Scan all of it.", "insights": []map[string]string{
			{"passage": "Scan it", "feature": "BOOK-3", "importance": "critical"}, {"passage": "Scan all of it", "feature": "BOOK-3", "importance": "critical"},
			{"passage": "it", "feature": "BOOK-1", "importance": "important"},
		}}).want(t, http.StatusCreated)

		orders := map[string][]string{
			"number":       bookRefs(1, 2, 3, 4, 5),
			"rice":         bookRefs(2, 5, 1, 3, 4),
			"value_effort": bookRefs(3, 1, 2, 5, 4),
			// (2×fit + demand + objective) / 4: 5.83, 2.0, 2.5, 0.5, 3.5
			"weighted": bookRefs(1, 5, 3, 2, 4),
			"voice":    bookRefs(3, 1, 2, 4, 5),
		}
		for by, want := range orders {
			for _, limit := range []int{50, 2, 1} {
				if got := featureOrder(t, tm.viewer, fmt.Sprintf("/api/v1/products/BOOK/features?sort=%s&limit=%d", by, limit)); !slices.Equal(got, want) {
					t.Errorf("sort=%s, limit=%d: %v, want %v", by, limit, got, want)
				}
			}
		}
		fs := list[apiFeature](t, tm.viewer, "/api/v1/products/BOOK/features")
		weighted := func(f apiFeature) float64 {
			d := 10 * float64(f.Voice.Importance) / 6
			o := 0.0
			if len(f.Objectives) > 0 {
				o = 10
			}
			return (2*f.Custom[fitKey] + d + o) / 4
		}
		for _, f := range fs {
			if !nearPtr(f.Computed.Weighted, weighted(f)) {
				t.Errorf("%s weighted = %s, want %g", f.Ref, val(f.Computed.Weighted), weighted(f))
			}
		}
		if f := fs[2]; !nearPtr(f.Computed.RICE, 4) || !nearPtr(f.Computed.ValueEffort, 20) || f.Voice.Importance != 6 || f.Voice.Count != 2 {
			t.Errorf("BOOK-3 = %+v", f)
		}
		if f := fs[3]; f.Computed.RICE != nil || f.Computed.ValueEffort != nil || f.Scores.Reach != nil {
			t.Errorf("BOOK-4 without inputs: %+v", f.Computed)
		}

		// Scores follow their inputs: one input changed keeps the others.
		f3 := tm.pm.changeFeature(t, "BOOK-3", map[string]any{"scores": map[string]any{"reach": 1000}})
		if !nearPtr(f3.Computed.RICE, 400) || !nearPtr(f3.Scores.Impact, 0.25) || !nearPtr(f3.Scores.Effort, 0.5) || !nearPtr(f3.Computed.ValueEffort, 20) {
			t.Errorf("BOOK-3 with reach 1000: scores %+v, computed rice %s", f3.Scores, val(f3.Computed.RICE))
		}
		if got := featureOrder(t, tm.viewer, "/api/v1/products/BOOK/features?sort=rice"); !slices.Equal(got, bookRefs(3, 2, 5, 1, 4)) {
			t.Errorf("by RICE after the change: %v", got)
		}
		// null clears one input, and the scores that need it.
		f3 = tm.pm.changeFeature(t, "BOOK-3", map[string]any{"scores": map[string]any{"effort": nil}})
		if f3.Computed.RICE != nil || f3.Computed.ValueEffort != nil || f3.Scores.Effort != nil || !nearPtr(f3.Scores.Reach, 1000) {
			t.Errorf("BOOK-3 without effort: scores %+v, computed %+v", f3.Scores, f3.Computed)
		}
		// A criterion's weight changes every weighted score at once.
		tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/score-criteria/%d", fit.ID), map[string]any{"weight": 6}).want(t, http.StatusOK)
		f1 := tm.viewer.getFeature(t, "BOOK-1")
		if want := (6*10 + 10*2.0/6) / 8; !nearPtr(f1.Computed.Weighted, want) {
			t.Errorf("BOOK-1 weighted after the weight change = %s, want %g", val(f1.Computed.Weighted), want)
		}
		// So does feedback: BOOK-1 now has the most demand.
		tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{"text": "Count, count, count.", "insights": []map[string]string{
			{"passage": "Count", "feature": "BOOK-1", "importance": "critical"}, {"passage": "count", "feature": "BOOK-1", "importance": "critical"},
		}}).want(t, http.StatusCreated)
		f1 = tm.viewer.getFeature(t, "BOOK-1")
		if want := (6*10 + 10.0) / 8; f1.Voice.Importance != 8 || !nearPtr(f1.Computed.Weighted, want) {
			t.Errorf("BOOK-1 after more feedback: importance %d, weighted %s, want %g", f1.Voice.Importance, val(f1.Computed.Weighted), want)
		}
		if got := featureOrder(t, tm.viewer, "/api/v1/products/BOOK/features?sort=voice"); !slices.Equal(got, bookRefs(1, 3, 2, 4, 5)) {
			t.Errorf("by voice after more feedback: %v", got)
		}
		// A manual value cleared, and a criterion removed.
		f1.apiFeature = tm.pm.changeFeature(t, "BOOK-1", map[string]any{"custom_scores": map[string]any{fitKey: nil}})
		if _, ok := f1.Custom[fitKey]; ok || !nearPtr(f1.Computed.Weighted, 10.0/8) {
			t.Errorf("BOOK-1 without its fit: custom %v, weighted %s", f1.Custom, val(f1.Computed.Weighted))
		}
		for _, c := range []apiScoreCriterion{fit, demand, serves} {
			tm.pm.delete(t, fmt.Sprintf("/api/v1/products/BOOK/score-criteria/%d", c.ID)).want(t, http.StatusNoContent)
		}
		for _, f := range list[apiFeature](t, tm.viewer, "/api/v1/products/BOOK/features") {
			if f.Computed.Weighted != nil || len(f.Custom) != 0 {
				t.Errorf("%s without criteria: weighted %s, custom %v", f.Ref, val(f.Computed.Weighted), f.Custom)
			}
		}
		if cs := list[apiScoreCriterion](t, tm.viewer, "/api/v1/products/BOOK/score-criteria"); len(cs) != 0 {
			t.Errorf("criteria after deleting them: %+v", cs)
		}

		// Filters combine with the order.
		tm.pm.changeFeature(t, "BOOK-2", map[string]any{"status": "planned", "horizon": "now"})
		tm.pm.changeFeature(t, "BOOK-5", map[string]any{"status": "planned"})
		if got := featureOrder(t, tm.viewer, "/api/v1/products/BOOK/features?status=planned,in_progress&sort=rice"); !slices.Equal(got, bookRefs(2, 5)) {
			t.Errorf("planned by RICE: %v", got)
		}
		if got := featureOrder(t, tm.viewer, "/api/v1/products/BOOK/features?horizon=none&sort=value_effort"); !slices.Equal(got, bookRefs(1, 5, 3, 4)) {
			t.Errorf("unplaced by value/effort: %v", got)
		}
	})
}

// The voice of the customer on a feature: how many insights, their
// importance summed, and the value of the customers who asked, each
// customer counted once however often they asked.
func TestVoiceOfCustomer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		customer := func(name string, value any) int64 {
			body := map[string]any{"name": name}
			if value != nil {
				body["value"] = value
			}
			return decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", body).want(t, http.StatusCreated)).ID
		}
		ana, bo, cy := customer("Ana", 100), customer("Bo", 40), customer("Cy", nil)
		f := tm.pm.createFeature(t, "BOOK", "Stock counts")
		other := tm.pm.createFeature(t, "BOOK", "Dark mode")
		feedback := func(who *int64, insights ...map[string]string) apiFeedback {
			body := map[string]any{"text": "Counting stock takes all day, every week.", "insights": insights}
			if who != nil {
				body["customer_id"] = *who
			}
			return decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/BOOK/feedback", body).want(t, http.StatusCreated))
		}
		link := func(importance string) map[string]string {
			return map[string]string{"feature": f.Ref, "importance": importance}
		}
		// Ana asks three times (twice in one interview), Bo once, Cy
		// (worth nothing said) once, someone unknown once.
		feedback(&ana, link("important"), map[string]string{"passage": "every week", "feature": f.Ref, "importance": "critical"})
		anaAgain := feedback(&ana, link("nice_to_have"), map[string]string{"feature": other.Ref, "importance": "critical"})
		feedback(&bo, link("important"))
		feedback(&cy, link("critical"))
		feedback(nil, link("important"))

		want := apiVoice{Count: 6, Importance: 2 + 3 + 1 + 2 + 3 + 2, CustomerValue: 140, Customers: 3}
		if got := tm.viewer.getFeature(t, f.Ref); got.Voice != want || got.InsightCount != 6 || len(got.Feedback) != 5 {
			t.Errorf("voice = %+v (insights %d, %d feedback), want %+v", got.Voice, got.InsightCount, len(got.Feedback), want)
		}
		if got := tm.viewer.getFeature(t, other.Ref); got.Voice != (apiVoice{Count: 1, Importance: 3, CustomerValue: 100, Customers: 1}) {
			t.Errorf("the other feature's voice = %+v", got.Voice)
		}
		rm := decodeAs[apiRoadmap](t, tm.viewer.get(t, "/api/v1/products/BOOK/roadmap").want(t, http.StatusOK))
		if rm.Features[0].Voice != want {
			t.Errorf("voice on the roadmap = %+v", rm.Features[0].Voice)
		}
		// Ana's value changes: the voice follows, still counted once.
		tm.pm.patch(t, fmt.Sprintf("/api/v1/customers/%d", ana), map[string]any{"value": 200}).want(t, http.StatusOK)
		if got := list[apiFeature](t, tm.viewer, "/api/v1/products/BOOK/features")[0].Voice; got.CustomerValue != 240 {
			t.Errorf("customer value after Ana's change = %g, want 240", got.CustomerValue)
		}
		// An insight unlinked counts no more.
		tm.pm.delete(t, fmt.Sprintf("/api/v1/products/BOOK/feedback/%d/insights/%d", anaAgain.ID, anaAgain.Insights[0].ID)).want(t, http.StatusNoContent)
		if got := tm.viewer.getFeature(t, f.Ref).Voice; got.Count != 5 || got.Importance != 12 || got.CustomerValue != 240 || got.Customers != 3 {
			t.Errorf("voice after an unlink = %+v", got)
		}
	})
}

// Releasing a release marks its features released (but a rejected one)
// and records when; the release page lists its features and stories with
// progress.
func TestShipRelease(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		r1 := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{"name": "1.0", "target_date": "2026-05-01"}).
			want(t, http.StatusCreated))
		r2 := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{"name": "1.1"}).want(t, http.StatusCreated))
		a := tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Scanning", "release_id": r1.ID, "status": "in_progress"})
		b := tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Blockchain", "release_id": r1.ID, "status": "rejected", "rejected_reason": "Nobody asked."})
		c := tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Exports", "release_id": r2.ID, "status": "planned"})
		d := tm.pm.createFeature(t, "BOOK", "Dark mode")
		tm.po.post(t, "/api/v1/features/"+a.Ref+"/stories", map[string]any{"title": "Scan a barcode", "points": 5, "status": "done"}).want(t, http.StatusCreated)
		tm.po.post(t, "/api/v1/features/"+a.Ref+"/stories", map[string]any{"title": "Scan in the dark", "points": 3}).want(t, http.StatusCreated)

		res := tm.viewer.get(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d", r1.ID)).want(t, http.StatusOK)
		detail := decodeAs[apiReleaseDetail](t, res)
		if res.header.Get("ETag") != `"1"` || detail.Name != "1.0" || len(detail.Features) != 2 || detail.Features[0].Ref != a.Ref ||
			len(detail.Features[0].Stories) != 2 || detail.Progress != (apiProgress{StoriesDone: 1, StoriesTotal: 2, PointsDone: 5, PointsTotal: 8}) {
			t.Errorf("release page: %+v (ETag %s)", detail, res.header.Get("ETag"))
		}

		before := time.Now().Add(-time.Minute)
		res = tm.pm.post(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d/ship", r1.ID), nil).want(t, http.StatusOK)
		shipped := decodeAs[apiRelease](t, res)
		if shipped.Status != "released" || shipped.ReleasedAt == nil || shipped.ReleasedAt.Before(before) || shipped.ReleasedAt.After(time.Now().Add(time.Minute)) ||
			res.header.Get("ETag") != fmt.Sprintf(`"%d"`, shipped.Version) || shipped.Version != 2 {
			t.Errorf("shipped: %+v", shipped)
		}
		status := func(ref string) apiFeature { return tm.viewer.getFeature(t, ref).apiFeature }
		if got := status(a.Ref); got.Status != "released" || got.Version != a.Version+1 {
			t.Errorf("%s after the release: %s, version %d", a.Ref, got.Status, got.Version)
		}
		if got := status(b.Ref); got.Status != "rejected" {
			t.Errorf("the rejected %s became %s", b.Ref, got.Status)
		}
		if got := status(c.Ref); got.Status != "planned" {
			t.Errorf("%s of another release became %s", c.Ref, got.Status)
		}
		if got := status(d.Ref); got.Status != "idea" {
			t.Errorf("%s without a release became %s", d.Ref, got.Status)
		}
		// Released once; the date stays.
		before2 := e.snapshot(t)
		tm.pm.post(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d/ship", r1.ID), nil).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		e.wantUnchanged(t, before2, "shipping twice")
		// Setting the status releases too.
		r2b := decodeAs[apiRelease](t, tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d", r2.ID), map[string]any{"status": "released"},
			"If-Match", `"1"`).want(t, http.StatusOK))
		if r2b.ReleasedAt == nil || status(c.Ref).Status != "released" {
			t.Errorf("release by PATCH: %+v, %s is %s", r2b, c.Ref, status(c.Ref).Status)
		}
		rels := list[apiRelease](t, tm.viewer, "/api/v1/products/BOOK/releases")
		if len(rels) != 2 || rels[0].Name != "1.0" || rels[0].ReleasedAt == nil || !rels[0].ReleasedAt.Equal(*shipped.ReleasedAt) {
			t.Errorf("releases = %+v", rels)
		}
		if got := featureOrder(t, tm.viewer, "/api/v1/products/BOOK/features?status=released"); !slices.Equal(got, []string{a.Ref, c.Ref}) {
			t.Errorf("released features = %v", got)
		}
		// Back to planned: no date; a stale change is refused.
		r2b = decodeAs[apiRelease](t, tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d", r2.ID), map[string]any{"status": "planned", "target_date": nil}).
			want(t, http.StatusOK))
		if r2b.ReleasedAt != nil || r2b.TargetDate != nil || r2b.Name != "1.1" {
			t.Errorf("release back to planned: %+v", r2b)
		}
		before2 = e.snapshot(t)
		tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d", r2.ID), map[string]any{"goal": "x"}, "If-Match", `"1"`).
			wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		e.wantUnchanged(t, before2, "a stale release change")
		// A deleted release leaves its features unscheduled.
		tm.pm.delete(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d", r2.ID)).want(t, http.StatusNoContent)
		if got := status(c.Ref); got.Release != nil {
			t.Errorf("%s keeps a deleted release: %+v", c.Ref, got.Release)
		}
		tm.viewer.get(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d", r2.ID)).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
	})
}

// Features: ETag and If-Match on reads, changes and deletes; a deleted
// feature's stories stay, without it; themes nest without cycles.
func TestFeatureVersionsAndThemes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		f := tm.po.createFeature(t, "BOOK", map[string]any{"title": "Stock counts", "problem": "Counting takes *all* Sunday."})
		if f.Ref != "BOOK-1" || f.Status != "idea" || f.Version != 1 || f.Problem != "Counting takes *all* Sunday." {
			t.Errorf("proposed: %+v", f)
		}
		res := tm.viewer.get(t, "/api/v1/features/BOOK-1").want(t, http.StatusOK)
		if res.header.Get("ETag") != `"1"` {
			t.Errorf("ETag %q, want \"1\"", res.header.Get("ETag"))
		}
		tm.po.patch(t, "/api/v1/features/BOOK-1", map[string]string{"solution": "Scan shelves"}, "If-Match", `W/"1"`).want(t, http.StatusOK)
		before := e.snapshot(t)
		tm.pm.patch(t, "/api/v1/features/BOOK-1", map[string]string{"title": "Mine"}, "If-Match", `"1"`).wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		tm.pm.patch(t, "/api/v1/features/BOOK-1", map[string]any{"scores": map[string]any{"reach": 5}}, "If-Match", "1").
			wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		tm.pm.delete(t, "/api/v1/features/BOOK-1", "If-Match", `"1"`).wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		e.wantUnchanged(t, before, "stale feature changes")
		f = tm.pm.changeFeature(t, "BOOK-1", map[string]any{"owner": "dev@example.com", "start": "2026-02-01", "end": "2026-02-01", "moscow": "must"})
		if f.Version != 3 || f.Solution != "Scan shelves" || f.Owner == nil || f.Owner.Email != "dev@example.com" || dateOf(f.End) != "2026-02-01" {
			t.Errorf("changed: %+v", f)
		}
		f = tm.pm.changeFeature(t, "BOOK-1", map[string]any{"owner": nil, "start": nil, "end": ""})
		if f.Owner != nil || f.Start != nil || f.End != nil || f.MoSCoW != "must" {
			t.Errorf("cleared: %+v", f)
		}

		// Themes: an initiative with a theme under it; a feature in it.
		growth := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/BOOK/themes", map[string]string{"name": "Growth", "description": "More shops"}).
			want(t, http.StatusCreated))
		stock := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/BOOK/themes", map[string]any{"name": "Stock", "parent_id": growth.ID}).
			want(t, http.StatusCreated))
		f = tm.pm.changeFeature(t, "BOOK-1", map[string]any{"theme_id": stock.ID})
		if f.Theme == nil || f.Theme.Name != "Stock" {
			t.Errorf("themed: %+v", f.Theme)
		}
		stock = decodeAs[apiTheme](t, tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/themes/%d", stock.ID), map[string]any{"name": "Stock control"}).
			want(t, http.StatusOK))
		if stock.ParentID == nil || *stock.ParentID != growth.ID || tm.viewer.getFeature(t, "BOOK-1").Theme.Name != "Stock control" {
			t.Errorf("renamed theme: %+v", stock)
		}
		before = e.snapshot(t)
		tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/themes/%d", growth.ID), map[string]any{"parent_id": stock.ID}).
			wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "parent_id")
		e.wantUnchanged(t, before, "a theme cycle")
		tm.pm.delete(t, fmt.Sprintf("/api/v1/products/BOOK/themes/%d", growth.ID)).want(t, http.StatusNoContent)
		themes := list[apiTheme](t, tm.viewer, "/api/v1/products/BOOK/themes")
		if len(themes) != 1 || themes[0].ParentID != nil {
			t.Errorf("themes after deleting the initiative: %+v", themes)
		}

		// Deleted, the feature leaves its stories in the backlog.
		s := decodeAs[apiStory](t, tm.po.post(t, "/api/v1/features/BOOK-1/stories", map[string]string{"title": "Count a shelf"}).want(t, http.StatusCreated))
		tm.pm.delete(t, "/api/v1/features/BOOK-1", "If-Match", fmt.Sprintf(`"%d"`, f.Version)).want(t, http.StatusNoContent)
		tm.viewer.get(t, "/api/v1/features/BOOK-1").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		var story struct {
			Feature *struct{ Ref string } `json:"feature"`
		}
		tm.viewer.get(t, "/api/v1/stories/"+s.Ref).want(t, http.StatusOK).decode(t, &story)
		if story.Feature != nil {
			t.Errorf("%s keeps the deleted feature %+v", s.Ref, story.Feature)
		}
	})
}

// The CSV export: the columns the issue lists, one row a feature, served
// as an attachment, with cells a spreadsheet would run defused.
func TestRoadmapCSV(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		o1 := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{"title": "Win shops", "start": "2026-01-01", "end": "2026-06-30"}).
			want(t, http.StatusCreated))
		o2 := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/objectives", map[string]any{"title": "=Grow", "start": "2026-01-01", "end": "2026-12-31"}).
			want(t, http.StatusCreated))
		rel := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{"name": "@MVP", "mvp": true}).want(t, http.StatusCreated))
		theme := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/BOOK/themes", map[string]string{"name": "-Stock"}).want(t, http.StatusCreated))
		tm.pm.createFeature(t, "BOOK", map[string]any{"title": `=HYPERLINK("http://evil.example","Click")`, "status": "planned", "horizon": "now",
			"start": "2026-01-05", "end": "2026-02-27", "release_id": rel.ID, "theme_id": theme.ID, "objective_ids": []int64{o1.ID, o2.ID},
			"mvp": true, "moscow": "must", "scores": map[string]any{"reach": 100, "impact": 1, "confidence": 100, "effort": 3, "value": 5}})
		tm.pm.createFeature(t, "BOOK", map[string]any{"title": "+1 for scanning, \"quoted\", with a comma"})
		tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Plain, simple"})

		res := tm.viewer.get(t, "/api/v1/products/book/roadmap.csv").want(t, http.StatusOK)
		if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="BOOK-roadmap.csv"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		if err != nil {
			t.Fatalf("CSV: %v\n%s", err, res.body)
		}
		want := [][]string{
			{"ref", "title", "status", "horizon", "start", "end", "release", "theme", "objectives", "mvp", "moscow", "rice", "value_effort"},
			{"BOOK-1", `'=HYPERLINK("http://evil.example","Click")`, "planned", "now", "2026-01-05", "2026-02-27", "'@MVP", "'-Stock", "'=Grow; Win shops", "yes", "must", "33.33", "1.67"},
			{"BOOK-2", `'+1 for scanning, "quoted", with a comma`, "idea", "", "", "", "", "", "", "no", "", "", ""},
			{"BOOK-3", "Plain, simple", "idea", "", "", "", "", "", "", "no", "", "", ""},
		}
		if !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("CSV rows:\n got  %q\n want %q", rows, want)
		}
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("cell %q would run as a formula", cell)
				}
			}
		}
	})
}

// The permission matrix of the features and roadmap API: every new action
// against every role. Product owners may propose features (title,
// problem, solution) and split them into stories; everything else that
// writes is the product manager's. A member without the right gets 403
// and nothing is written; someone who belongs to no product gets 404.
func TestRoadmapPermissions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		everyone := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer}
		managers := []*client{tm.admin, tm.pm}
		proposers := []*client{tm.admin, tm.pm, tm.po}

		type target map[string]string
		actions := []struct {
			name, method, path string
			body               string // JSON; {name}s are replaced by the target's values
			needs              []string
			allowed            []*client
		}{
			{name: "list features", method: "GET", path: "/api/v1/products/{key}/features?sort=rice", allowed: everyone},
			{name: "read feature", method: "GET", path: "/api/v1/features/{feature}", needs: []string{"feature"}, allowed: everyone},
			{name: "list criteria", method: "GET", path: "/api/v1/products/{key}/score-criteria", allowed: everyone},
			{name: "list releases", method: "GET", path: "/api/v1/products/{key}/releases", allowed: everyone},
			{name: "read release", method: "GET", path: "/api/v1/products/{key}/releases/{release}", needs: []string{"release"}, allowed: everyone},
			{name: "list themes", method: "GET", path: "/api/v1/products/{key}/themes", allowed: everyone},
			{name: "read roadmap", method: "GET", path: "/api/v1/products/{key}/roadmap", allowed: everyone},
			{name: "export roadmap", method: "GET", path: "/api/v1/products/{key}/roadmap.csv", allowed: everyone},

			{name: "propose feature", method: "POST", path: "/api/v1/products/{key}/features", body: `{"title": "Idea {n}", "problem": "p", "solution": "s"}`, allowed: proposers},
			{name: "create scored feature", method: "POST", path: "/api/v1/products/{key}/features",
				body: `{"title": "Scored {n}", "scores": {"reach": 1, "impact": 1, "confidence": 50, "effort": 1}}`, allowed: managers},
			{name: "create MVP feature", method: "POST", path: "/api/v1/products/{key}/features", body: `{"title": "MVP {n}", "mvp": true}`, allowed: managers},
			{name: "edit feature text", method: "PATCH", path: "/api/v1/features/{feature}", body: `{"problem": "Clearer"}`, needs: []string{"feature"}, allowed: proposers},
			{name: "score feature", method: "PATCH", path: "/api/v1/features/{feature}", body: `{"scores": {"reach": 10}}`, needs: []string{"feature"}, allowed: managers},
			{name: "custom score", method: "PATCH", path: "/api/v1/features/{feature}", body: `{"custom_scores": {"{criterion}": 5}}`,
				needs: []string{"feature", "criterion"}, allowed: managers},
			{name: "mark MVP", method: "PATCH", path: "/api/v1/features/{feature}", body: `{"mvp": true}`, needs: []string{"feature"}, allowed: managers},
			{name: "place on roadmap", method: "PATCH", path: "/api/v1/features/{feature}", body: `{"horizon": "now", "start": "2026-01-01", "end": "2026-02-01"}`,
				needs: []string{"feature"}, allowed: managers},
			{name: "schedule into release", method: "PATCH", path: "/api/v1/features/{feature}", body: `{"release_id": {release}}`,
				needs: []string{"feature", "release"}, allowed: managers},
			{name: "change status", method: "PATCH", path: "/api/v1/features/{feature}", body: `{"status": "planned"}`, needs: []string{"feature"}, allowed: managers},
			{name: "delete feature", method: "DELETE", path: "/api/v1/features/{feature}", needs: []string{"feature"}, allowed: managers},
			{name: "split feature", method: "POST", path: "/api/v1/features/{feature}/stories", body: `{"title": "Part {n}"}`, needs: []string{"feature"}, allowed: proposers},

			{name: "add criterion", method: "POST", path: "/api/v1/products/{key}/score-criteria", body: `{"name": "Fit {n}"}`, allowed: managers},
			{name: "change criterion", method: "PATCH", path: "/api/v1/products/{key}/score-criteria/{criterion}", body: `{"weight": 3}`,
				needs: []string{"criterion"}, allowed: managers},
			{name: "delete criterion", method: "DELETE", path: "/api/v1/products/{key}/score-criteria/{criterion}", needs: []string{"criterion"}, allowed: managers},

			{name: "create release", method: "POST", path: "/api/v1/products/{key}/releases", body: `{"name": "Release {n}"}`, allowed: managers},
			{name: "change release", method: "PATCH", path: "/api/v1/products/{key}/releases/{release}", body: `{"goal": "Ship"}`, needs: []string{"release"}, allowed: managers},
			{name: "ship release", method: "POST", path: "/api/v1/products/{key}/releases/{release}/ship", needs: []string{"release"}, allowed: managers},
			{name: "delete release", method: "DELETE", path: "/api/v1/products/{key}/releases/{release}", needs: []string{"release"}, allowed: managers},

			{name: "create theme", method: "POST", path: "/api/v1/products/{key}/themes", body: `{"name": "Theme {n}"}`, allowed: managers},
			{name: "change theme", method: "PATCH", path: "/api/v1/products/{key}/themes/{theme}", body: `{"description": "d"}`, needs: []string{"theme"}, allowed: managers},
			{name: "delete theme", method: "DELETE", path: "/api/v1/products/{key}/themes/{theme}", needs: []string{"theme"}, allowed: managers},

			{name: "list roadmap links", method: "GET", path: "/api/v1/products/{key}/roadmap-links", allowed: managers},
			{name: "publish roadmap", method: "POST", path: "/api/v1/products/{key}/roadmap-links", body: `{"name": "Sales"}`, allowed: managers},
			{name: "revoke roadmap link", method: "DELETE", path: "/api/v1/products/{key}/roadmap-links/{link}", needs: []string{"link"}, allowed: managers},
		}

		seeded := 0
		seed := func(t *testing.T, key string, needs []string) target {
			t.Helper()
			seeded++
			tg := target{"key": key, "n": fmt.Sprint(seeded)}
			for _, need := range needs {
				seeded++
				switch need {
				case "feature":
					tg["feature"] = tm.pm.createFeature(t, key, fmt.Sprintf("Feature %d", seeded)).Ref
				case "release":
					tg["release"] = fmt.Sprint(decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/"+key+"/releases", map[string]string{"name": fmt.Sprintf("R%d", seeded)}).
						want(t, http.StatusCreated)).ID)
				case "theme":
					tg["theme"] = fmt.Sprint(decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/"+key+"/themes", map[string]string{"name": fmt.Sprintf("T%d", seeded)}).
						want(t, http.StatusCreated)).ID)
				case "criterion":
					tg["criterion"] = fmt.Sprint(decodeAs[apiScoreCriterion](t, tm.pm.post(t, "/api/v1/products/"+key+"/score-criteria",
						map[string]string{"name": fmt.Sprintf("C%d", seeded)}).want(t, http.StatusCreated)).ID)
				case "link":
					tg["link"] = fmt.Sprint(decodeAs[apiPublishedLink](t, tm.pm.post(t, "/api/v1/products/"+key+"/roadmap-links", map[string]string{"name": "L"}).
						want(t, http.StatusCreated)).Link.ID)
				default:
					t.Fatalf("unknown need %q", need)
				}
			}
			return tg
		}
		fill := func(s string, tg target) string {
			for k, v := range tg {
				s = strings.ReplaceAll(s, "{"+k+"}", v)
			}
			return s
		}

		callers := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer, tm.outsider}
		for i, a := range actions {
			key := fmt.Sprintf("R%d", i+1)
			tm.product(t, key, "Product "+key)
			for _, who := range callers {
				tg := seed(t, key, a.needs)
				path := fill(a.path, tg)
				var body any
				if a.body != "" {
					body = fill(a.body, tg)
				}
				t.Run(a.name+"/"+who.name, func(t *testing.T) {
					if slices.Contains(a.allowed, who) {
						res := who.do(t, a.method, path, body)
						if res.status != http.StatusOK && res.status != http.StatusCreated && res.status != http.StatusNoContent {
							t.Errorf("%s: got %d, want success; body: %s", res.req, res.status, short(res.body))
						}
						return
					}
					want := http.StatusForbidden
					if who == tm.outsider {
						want = http.StatusNotFound
					}
					before := e.snapshot(t)
					res := who.do(t, a.method, path, body)
					res.wantError(t, want, map[int]string{403: northstar.EFORBIDDEN, 404: northstar.ENOTFOUND}[want], "")
					e.wantUnchanged(t, before, "a refused "+a.name)
				})
			}
		}

		// Anyone holding a link reads it, signed in or not, member or not.
		pub := decodeAs[apiPublishedLink](t, tm.pm.post(t, "/api/v1/products/R1/roadmap-links", map[string]string{"name": "All"}).want(t, http.StatusCreated))
		secret := pub.URL[strings.LastIndex(pub.URL, "/")+1:]
		for _, who := range append(slices.Clone(callers), e.anon()) {
			who.get(t, "/api/v1/roadmaps/"+secret).check(t, http.StatusOK)
		}

		// A retired product's features and roadmap are read-only, for its
		// PM too; its roadmap may still be read and exported.
		tm.pm.createFeature(t, "R1", "Before retiring")
		tm.pm.changeStage(t, "R1", "retired", "")
		before := e.snapshot(t)
		for _, w := range []struct{ method, path, body string }{
			{"POST", "/api/v1/products/R1/features", `{"title": "x"}`},
			{"PATCH", "/api/v1/features/R1-1", `{"title": "x"}`},
			{"POST", "/api/v1/features/R1-1/stories", `{"title": "x"}`},
			{"POST", "/api/v1/products/R1/releases", `{"name": "x"}`},
			{"POST", "/api/v1/products/R1/themes", `{"name": "x"}`},
			{"POST", "/api/v1/products/R1/score-criteria", `{"name": "x"}`},
			{"POST", "/api/v1/products/R1/roadmap-links", `{"name": "x"}`},
		} {
			tm.pm.do(t, w.method, w.path, w.body).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		}
		e.wantUnchanged(t, before, "writes to a retired product's roadmap")
		tm.viewer.get(t, "/api/v1/products/R1/roadmap").want(t, http.StatusOK)
		tm.viewer.get(t, "/api/v1/products/R1/roadmap.csv").want(t, http.StatusOK)
	})
}

// Bad input to the features and roadmap API, the list first: a
// 4xx with a message that names the field, and nothing written.
func TestRoadmapBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		long := func(n int) string { return strings.Repeat("é", n) }
		f := tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Stock counts", "start": "2026-03-01"})
		story := tm.pm.createStory(t, "BOOK", "Scan a barcode")
		tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{"name": "MVP", "mvp": true}).want(t, http.StatusCreated)
		rel := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{"name": "1.0"}).want(t, http.StatusCreated))
		elsewhere := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/EBOOK/releases", map[string]any{"name": "E1"}).want(t, http.StatusCreated))
		otherTheme := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/EBOOK/themes", map[string]string{"name": "Reading"}).want(t, http.StatusCreated))
		initiative := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/BOOK/themes", map[string]string{"name": "Growth"}).want(t, http.StatusCreated))
		theme := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/BOOK/themes", map[string]any{"name": "Stock", "parent_id": initiative.ID}).
			want(t, http.StatusCreated))
		leaf := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/BOOK/themes", map[string]any{"name": "Counting", "parent_id": theme.ID}).
			want(t, http.StatusCreated))
		crit := decodeAs[apiScoreCriterion](t, tm.pm.post(t, "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "Fit"}).want(t, http.StatusCreated))
		demand := decodeAs[apiScoreCriterion](t, tm.pm.post(t, "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "Demand", "kind": "demand"}).
			want(t, http.StatusCreated))
		otherObjective := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/EBOOK/objectives", map[string]any{"title": "Read more", "start": "2026-01-01", "end": "2026-02-01"}).
			want(t, http.StatusCreated))
		feature := "/api/v1/features/" + f.Ref
		features := "/api/v1/products/BOOK/features"
		rice := func(k string, v any) map[string]any {
			s := map[string]any{"reach": 10, "impact": 1, "confidence": 50, "effort": 1}
			s[k] = v
			return map[string]any{"title": "Scored", "scores": s}
		}
		riceCursor := encodeTestCursor("rice||1")

		cases := []struct {
			name         string
			method, path string
			body         any
			header       []string
			status       int
			code, field  string
		}{
			// The list.
			{"confidence over 100", "POST", features, rice("confidence", 101), nil, 400, northstar.EINVALID, "scores.confidence"},
			{"confidence below 0", "PATCH", feature, map[string]any{"scores": map[string]any{"confidence": -1}}, nil, 400, northstar.EINVALID, "scores.confidence"},
			{"effort zero", "POST", features, rice("effort", 0), nil, 400, northstar.EINVALID, "scores.effort"},
			{"effort negative", "PATCH", feature, map[string]any{"scores": map[string]any{"effort": -2}}, nil, 400, northstar.EINVALID, "scores.effort"},
			{"impact off the scale", "POST", features, rice("impact", 4), nil, 400, northstar.EINVALID, "scores.impact"},
			{"impact between steps", "PATCH", feature, map[string]any{"scores": map[string]any{"impact": 0.3}}, nil, 400, northstar.EINVALID, "scores.impact"},
			{"reach negative", "POST", features, rice("reach", -1), nil, 400, northstar.EINVALID, "scores.reach"},
			{"value over 10", "PATCH", feature, map[string]any{"scores": map[string]any{"value": 11}}, nil, 400, northstar.EINVALID, "scores.value"},
			{"effort a string", "PATCH", feature, map[string]any{"scores": map[string]any{"effort": "big"}}, nil, 400, northstar.EINVALID, "scores.effort"},
			{"unknown score", "PATCH", feature, map[string]any{"scores": map[string]any{"risk": 1}}, nil, 400, northstar.EINVALID, "risk"},
			{"release of another product", "PATCH", feature, map[string]any{"release_id": elsewhere.ID}, nil, 422, northstar.EUNPROCESSABLE, "release_id"},
			{"new feature in another product's release", "POST", features, map[string]any{"title": "x", "release_id": elsewhere.ID}, nil, 422, northstar.EUNPROCESSABLE, "release_id"},
			{"unknown release", "PATCH", feature, map[string]any{"release_id": 999}, nil, 422, northstar.EUNPROCESSABLE, "release_id"},
			{"theme cycle", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/themes/%d", initiative.ID), map[string]any{"parent_id": leaf.ID}, nil, 422, northstar.EUNPROCESSABLE, "parent_id"},
			{"theme its own parent", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/themes/%d", theme.ID), map[string]any{"parent_id": theme.ID}, nil, 422, northstar.EUNPROCESSABLE, "parent_id"},
			{"theme under another product's", "POST", "/api/v1/products/BOOK/themes", map[string]any{"name": "x", "parent_id": otherTheme.ID}, nil, 422, northstar.EUNPROCESSABLE, "parent_id"},
			{"second MVP release", "POST", "/api/v1/products/BOOK/releases", map[string]any{"name": "Also MVP", "mvp": true}, nil, 409, northstar.ECONFLICT, "mvp"},
			{"release made a second MVP", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/releases/%d", rel.ID), map[string]any{"mvp": true}, nil, 409, northstar.ECONFLICT, "mvp"},
			{"unknown shared roadmap", "GET", "/api/v1/roadmaps/rm_nothing", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"overlong shared roadmap secret", "GET", "/api/v1/roadmaps/" + strings.Repeat("x", 300), nil, nil, 404, northstar.ENOTFOUND, ""},
			// Features.
			{"feature without a title", "POST", features, map[string]string{"problem": "x"}, nil, 400, northstar.EINVALID, "title"},
			{"feature title blank", "PATCH", feature, map[string]string{"title": " "}, nil, 400, northstar.EINVALID, "title"},
			{"feature title too long", "POST", features, map[string]string{"title": long(201)}, nil, 400, northstar.EINVALID, "title"},
			{"problem too long", "PATCH", feature, map[string]string{"problem": long(50001)}, nil, 400, northstar.EINVALID, "problem"},
			{"unknown status", "PATCH", feature, map[string]string{"status": "shipped"}, nil, 400, northstar.EINVALID, "status"},
			{"rejected without a reason", "PATCH", feature, map[string]string{"status": "rejected"}, nil, 422, northstar.EUNPROCESSABLE, "rejected_reason"},
			{"unknown horizon", "PATCH", feature, map[string]string{"horizon": "soon"}, nil, 400, northstar.EINVALID, "horizon"},
			{"unknown MoSCoW", "PATCH", feature, map[string]string{"moscow": "maybe"}, nil, 400, northstar.EINVALID, "moscow"},
			{"malformed start", "PATCH", feature, map[string]string{"start": "March"}, nil, 400, northstar.EINVALID, "start"},
			{"end before start", "PATCH", feature, map[string]string{"end": "2026-02-01"}, nil, 400, northstar.EINVALID, "end"},
			{"start a number", "PATCH", feature, map[string]any{"start": 2026}, nil, 400, northstar.EINVALID, "start"},
			{"mvp a string", "PATCH", feature, map[string]any{"mvp": "yes"}, nil, 400, northstar.EINVALID, "mvp"},
			{"theme of another product", "PATCH", feature, map[string]any{"theme_id": otherTheme.ID}, nil, 422, northstar.EUNPROCESSABLE, "theme_id"},
			{"objective of another product", "PATCH", feature, map[string]any{"objective_ids": []int64{otherObjective.ID}}, nil, 422, northstar.EUNPROCESSABLE, "objective_ids"},
			{"21 objectives", "PATCH", feature, map[string]any{"objective_ids": slices.Repeat([]int64{1}, 21)}, nil, 400, northstar.EINVALID, "objective_ids"},
			{"owner unknown", "PATCH", feature, map[string]any{"owner": "ghost@example.com"}, nil, 400, northstar.EINVALID, "owner"},
			{"owner not a member", "PATCH", feature, map[string]any{"owner": "outsider@example.com"}, nil, 422, northstar.EUNPROCESSABLE, "owner"},
			{"custom score over 10", "PATCH", feature, map[string]any{"custom_scores": map[string]any{strconv.FormatInt(crit.ID, 10): 11}}, nil, 400, northstar.EINVALID, "custom_scores"},
			{"custom score of a demand criterion", "PATCH", feature, map[string]any{"custom_scores": map[string]any{strconv.FormatInt(demand.ID, 10): 5}}, nil, 422, northstar.EUNPROCESSABLE, "custom_scores"},
			{"custom score of an unknown criterion", "PATCH", feature, map[string]any{"custom_scores": map[string]any{"999": 5}}, nil, 422, northstar.EUNPROCESSABLE, "custom_scores"},
			{"custom score keyed by a name", "PATCH", feature, `{"custom_scores": {"fit": 5}}`, nil, 400, northstar.EINVALID, "custom_scores"},
			{"empty feature change", "PATCH", feature, map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"feature change of nothing but nulls", "PATCH", feature, map[string]any{"title": nil, "scores": nil}, nil, 400, northstar.EINVALID, ""},
			{"stale feature", "PATCH", feature, map[string]string{"title": "x"}, []string{"If-Match", `"9"`}, 409, northstar.ECONFLICT, ""},
			{"malformed If-Match", "PATCH", feature, map[string]string{"title": "x"}, []string{"If-Match", "latest"}, 400, northstar.EINVALID, "If-Match"},
			{"stale delete", "DELETE", feature, nil, []string{"If-Match", `"9"`}, 409, northstar.ECONFLICT, ""},
			{"unknown member", "POST", features, map[string]any{"title": "x", "priority": 1}, nil, 400, northstar.EINVALID, "priority"},
			{"version in the body", "PATCH", feature, map[string]any{"version": 1}, nil, 400, northstar.EINVALID, "version"},
			{"unknown feature", "GET", "/api/v1/features/BOOK-99", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"a story's ref", "PATCH", "/api/v1/features/" + story.Ref, map[string]string{"title": "x"}, nil, 404, northstar.ENOTFOUND, ""},
			{"malformed ref", "GET", "/api/v1/features/stock-counts", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"NUL in a ref", "DELETE", "/api/v1/features/BO%00OK-1", nil, nil, 404, northstar.ENOTFOUND, ""},
			// The prioritisation table.
			{"unknown sort", "GET", features + "?sort=votes", nil, nil, 400, northstar.EINVALID, "sort"},
			{"unknown status filter", "GET", features + "?status=idea,shipped", nil, nil, 400, northstar.EINVALID, "status"},
			{"unknown horizon filter", "GET", features + "?horizon=soon", nil, nil, 400, northstar.EINVALID, "horizon"},
			{"release filter not an id", "GET", features + "?release=mvp", nil, nil, 400, northstar.EINVALID, "release"},
			{"theme filter zero", "GET", features + "?theme=0", nil, nil, 400, northstar.EINVALID, "theme"},
			{"mvp filter not a bool", "GET", features + "?mvp=maybe", nil, nil, 400, northstar.EINVALID, "mvp"},
			{"features over 200", "GET", features + "?limit=201", nil, nil, 400, northstar.EINVALID, "limit"},
			{"cursor of another sort", "GET", features + "?sort=value_effort&cursor=" + riceCursor, nil, nil, 400, northstar.EINVALID, "cursor"},
			{"cursor made up", "GET", features + "?cursor=" + encodeTestCursor("BOOK-1"), nil, nil, 400, northstar.EINVALID, "cursor"},
			{"cursor with a score by number", "GET", features + "?cursor=" + encodeTestCursor("number|5|1"), nil, nil, 400, northstar.EINVALID, "cursor"},
			// Splitting into stories.
			{"split with a feature in the body", "POST", feature + "/stories", map[string]string{"title": "x", "feature": "BOOK-1"}, nil, 400, northstar.EINVALID, "feature"},
			{"split without a title", "POST", feature + "/stories", map[string]string{"persona": "x"}, nil, 400, northstar.EINVALID, "title"},
			{"split with points off the scale", "POST", feature + "/stories", map[string]any{"title": "x", "points": 4}, nil, 400, northstar.EINVALID, "points"},
			{"split an unknown feature", "POST", "/api/v1/features/BOOK-99/stories", map[string]string{"title": "x"}, nil, 404, northstar.ENOTFOUND, ""},
			{"split a story", "POST", "/api/v1/features/" + story.Ref + "/stories", map[string]string{"title": "x"}, nil, 404, northstar.ENOTFOUND, ""},
			// Criteria.
			{"criterion without a name", "POST", "/api/v1/products/BOOK/score-criteria", map[string]any{"weight": 1}, nil, 400, northstar.EINVALID, "name"},
			{"criterion weight zero", "POST", "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "x", "weight": 0}, nil, 400, northstar.EINVALID, "weight"},
			{"criterion weight over 100", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/score-criteria/%d", crit.ID), map[string]any{"weight": 101}, nil, 400, northstar.EINVALID, "weight"},
			{"criterion of an unknown kind", "POST", "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "x", "kind": "vibes"}, nil, 400, northstar.EINVALID, "kind"},
			{"objective criterion without objective", "POST", "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "x", "kind": "objective"}, nil, 400, northstar.EINVALID, "objective_id"},
			{"objective criterion of another product", "POST", "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "x", "kind": "objective", "objective_id": otherObjective.ID}, nil, 422, northstar.EUNPROCESSABLE, "objective_id"},
			{"criterion twice", "POST", "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "Fit"}, nil, 409, northstar.ECONFLICT, "name"},
			{"empty criterion change", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/score-criteria/%d", crit.ID), map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"unknown criterion", "PATCH", "/api/v1/products/BOOK/score-criteria/999", map[string]any{"weight": 2}, nil, 404, northstar.ENOTFOUND, ""},
			{"another product's criterion", "DELETE", fmt.Sprintf("/api/v1/products/EBOOK/score-criteria/%d", crit.ID), nil, nil, 404, northstar.ENOTFOUND, ""},
			{"criterion id not a number", "DELETE", "/api/v1/products/BOOK/score-criteria/fit", nil, nil, 400, northstar.EINVALID, "id"},
			// Releases.
			{"release without a name", "POST", "/api/v1/products/BOOK/releases", map[string]string{"goal": "x"}, nil, 400, northstar.EINVALID, "name"},
			{"release name too long", "POST", "/api/v1/products/BOOK/releases", map[string]string{"name": long(101)}, nil, 400, northstar.EINVALID, "name"},
			{"release twice", "POST", "/api/v1/products/BOOK/releases", map[string]string{"name": "1.0"}, nil, 409, northstar.ECONFLICT, "name"},
			{"malformed target date", "POST", "/api/v1/products/BOOK/releases", map[string]string{"name": "x", "target_date": "soon"}, nil, 400, northstar.EINVALID, "target_date"},
			{"unknown release status", "POST", "/api/v1/products/BOOK/releases", map[string]string{"name": "x", "status": "shipped"}, nil, 400, northstar.EINVALID, "status"},
			{"empty release status", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/releases/%d", rel.ID), map[string]string{"status": ""}, nil, 400, northstar.EINVALID, "status"},
			{"empty release change", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/releases/%d", rel.ID), map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"stale release", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/releases/%d", rel.ID), map[string]string{"goal": "x"}, []string{"If-Match", `"4"`}, 409, northstar.ECONFLICT, ""},
			{"another product's release", "GET", fmt.Sprintf("/api/v1/products/BOOK/releases/%d", elsewhere.ID), nil, nil, 404, northstar.ENOTFOUND, ""},
			{"ship an unknown release", "POST", "/api/v1/products/BOOK/releases/999/ship", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"release id zero", "DELETE", "/api/v1/products/BOOK/releases/0", nil, nil, 400, northstar.EINVALID, "id"},
			// Themes.
			{"theme without a name", "POST", "/api/v1/products/BOOK/themes", map[string]string{"description": "x"}, nil, 400, northstar.EINVALID, "name"},
			{"theme twice", "POST", "/api/v1/products/BOOK/themes", map[string]string{"name": "Stock"}, nil, 409, northstar.ECONFLICT, "name"},
			{"theme description too long", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/themes/%d", theme.ID), map[string]string{"description": long(2001)}, nil, 400, northstar.EINVALID, "description"},
			{"empty theme change", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/themes/%d", theme.ID), map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"unknown theme", "PATCH", "/api/v1/products/BOOK/themes/999", map[string]string{"name": "x"}, nil, 404, northstar.ENOTFOUND, ""},
			{"another product's theme", "DELETE", fmt.Sprintf("/api/v1/products/BOOK/themes/%d", otherTheme.ID), nil, nil, 404, northstar.ENOTFOUND, ""},
			// Roadmap links.
			{"link name too long", "POST", "/api/v1/products/BOOK/roadmap-links", map[string]string{"name": long(101)}, nil, 400, northstar.EINVALID, "name"},
			{"link name with NUL", "POST", "/api/v1/products/BOOK/roadmap-links", map[string]string{"name": "a\x00b"}, nil, 400, northstar.EINVALID, "name"},
			{"link hide_internal a string", "POST", "/api/v1/products/BOOK/roadmap-links", map[string]string{"hide_internal": "yes"}, nil, 400, northstar.EINVALID, "hide_internal"},
			{"revoke an unknown link", "DELETE", "/api/v1/products/BOOK/roadmap-links/999", nil, nil, 404, northstar.ENOTFOUND, ""},
			// Keys no database can compare.
			{"NUL in a product key", "GET", "/api/v1/products/BO%00OK/features", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"invalid UTF-8 in a product key", "POST", "/api/v1/products/BO%FFOK/releases", map[string]string{"name": "x"}, nil, 404, northstar.ENOTFOUND, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := tm.pm.do(t, tc.method, tc.path, tc.body, tc.header...)
				if res.status < 400 || res.status >= 500 {
					t.Fatalf("%s: got %d, want a 4xx; body: %s", res.req, res.status, short(res.body))
				}
				res.wantError(t, tc.status, tc.code, tc.field)
				e.wantUnchanged(t, before, tc.name)
			})
		}

		// The limits themselves are allowed.
		tm.pm.createFeature(t, "BOOK", map[string]any{"title": long(200), "problem": long(50000),
			"scores": map[string]any{"reach": 0, "impact": 3, "confidence": 100, "effort": 0.01, "value": 10}})
		tm.pm.createFeature(t, "BOOK", map[string]any{"title": "x", "scores": map[string]any{"impact": 0.25, "confidence": 0, "value": 1}})
		tm.pm.post(t, "/api/v1/products/BOOK/score-criteria", map[string]any{"name": long(100), "weight": 100}).want(t, http.StatusCreated)
		tm.pm.post(t, "/api/v1/products/BOOK/roadmap-links", map[string]string{"name": long(100)}).want(t, http.StatusCreated)
		tm.pm.get(t, features+"?limit=200&sort=weighted").want(t, http.StatusOK)
	})
}

// The JSON of the features and roadmap API has exactly the members the
// OpenAPI document lists for it.
func TestRoadmapJSONMatchesOpenAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		var doc struct {
			Components struct {
				Schemas map[string]struct {
					Properties map[string]json.RawMessage `json:"properties"`
					AllOf      []struct {
						Ref        string                     `json:"$ref"`
						Properties map[string]json.RawMessage `json:"properties"`
					} `json:"allOf"`
				} `json:"schemas"`
			} `json:"components"`
		}
		e.anon().get(t, "/api/v1/openapi.json").want(t, http.StatusOK).decode(t, &doc)
		var props func(name string) map[string]bool
		props = func(name string) map[string]bool {
			s, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("schema %s is not documented", name)
			}
			out := map[string]bool{}
			for k := range s.Properties {
				out[k] = true
			}
			for _, part := range s.AllOf {
				if part.Ref != "" {
					for k := range props(strings.TrimPrefix(part.Ref, "#/components/schemas/")) {
						out[k] = true
					}
				}
				for k := range part.Properties {
					out[k] = true
				}
			}
			return out
		}
		check := func(schema string, raw json.RawMessage, optional ...string) map[string]json.RawMessage {
			t.Helper()
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				t.Fatalf("%s: %v in %s", schema, err, raw)
			}
			want := props(schema)
			for k := range obj {
				if !want[k] {
					t.Errorf("%s JSON has %q, which the document does not list", schema, k)
				}
			}
			for k := range want {
				if _, ok := obj[k]; !ok && !slices.Contains(optional, k) {
					t.Errorf("%s JSON lacks the documented %q: %s", schema, k, raw)
				}
			}
			return obj
		}
		first := func(raw json.RawMessage) json.RawMessage {
			t.Helper()
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
				t.Fatalf("want a non-empty array, got %s", raw)
			}
			return items[0]
		}
		get := func(c *client, path string) json.RawMessage {
			t.Helper()
			return json.RawMessage(c.get(t, path).want(t, http.StatusOK).body)
		}

		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		o := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{"title": "Win shops", "start": "2026-01-01", "end": "2026-06-30"}).
			want(t, http.StatusCreated))
		c := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]any{"name": "Ana", "value": 3}).want(t, http.StatusCreated))
		rel := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{"name": "MVP", "mvp": true}).want(t, http.StatusCreated))
		theme := decodeAs[apiTheme](t, tm.pm.post(t, "/api/v1/products/BOOK/themes", map[string]string{"name": "Stock"}).want(t, http.StatusCreated))
		crit := json.RawMessage(tm.pm.post(t, "/api/v1/products/BOOK/score-criteria", map[string]any{"name": "Fit"}).want(t, http.StatusCreated).body)
		created := json.RawMessage(tm.pm.post(t, "/api/v1/products/BOOK/features", map[string]any{"title": "Stock counts", "release_id": rel.ID, "theme_id": theme.ID,
			"objective_ids": []int64{o.ID}, "owner": "pm@example.com", "horizon": "now", "start": "2026-01-01", "end": "2026-02-01",
			"scores": map[string]any{"reach": 1, "impact": 1, "confidence": 50, "effort": 1}}).want(t, http.StatusCreated).body)
		tm.po.post(t, "/api/v1/features/BOOK-1/stories", map[string]string{"title": "Count a shelf"}).want(t, http.StatusCreated)
		tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{"text": "Counting is slow.", "customer_id": c.ID,
			"insights": []map[string]string{{"passage": "slow", "feature": "BOOK-1"}}}).want(t, http.StatusCreated)
		pub := json.RawMessage(tm.pm.post(t, "/api/v1/products/BOOK/roadmap-links", map[string]any{"name": "Sales"}).want(t, http.StatusCreated).body)

		f := check("Feature", created)
		check("NamedRef", f["release"])
		check("FeatureScores", f["scores"])
		check("ComputedScores", f["computed"])
		check("VoiceOfCustomer", f["voice_of_customer"])
		check("FeatureProgress", f["progress"])
		check("ScoreCriterion", crit)
		d := check("FeatureDetail", get(tm.viewer, "/api/v1/features/BOOK-1"))
		check("Story", first(d["stories"]), "sprint_id")
		fb := check("FeatureFeedback", first(d["feedback"]))
		check("CustomerRef", fb["customer"])
		check("FeatureQuote", first(fb["quotes"]))
		var fp page[json.RawMessage]
		json.Unmarshal(get(tm.viewer, "/api/v1/products/BOOK/features?sort=rice&limit=1"), &fp)
		check("Feature", fp.Items[0])
		rd := check("ReleaseDetail", get(tm.viewer, fmt.Sprintf("/api/v1/products/BOOK/releases/%d", rel.ID)))
		check("ReleaseFeature", first(rd["features"]))
		var rp page[json.RawMessage]
		json.Unmarshal(get(tm.viewer, "/api/v1/products/BOOK/releases"), &rp)
		check("Release", rp.Items[0])
		var tp page[json.RawMessage]
		json.Unmarshal(get(tm.viewer, "/api/v1/products/BOOK/themes"), &tp)
		check("Theme", tp.Items[0])
		rm := check("Roadmap", get(tm.viewer, "/api/v1/products/BOOK/roadmap"))
		check("RoadmapProduct", rm["product"])
		check("RoadmapObjective", first(rm["objectives"]))
		p := check("PublishedRoadmapLink", pub)
		check("RoadmapLink", p["link"])
		var lp page[json.RawMessage]
		json.Unmarshal(get(tm.pm, "/api/v1/products/BOOK/roadmap-links"), &lp)
		check("RoadmapLink", lp.Items[0])
		var link apiPublishedLink
		json.Unmarshal(pub, &link)
		shared := check("SharedRoadmap", get(e.anon(), "/api/v1/roadmaps/"+link.URL[strings.LastIndex(link.URL, "/")+1:]))
		sf := check("SharedFeature", first(shared["features"]))
		check("SharedFeatureInternal", sf["internal"])
		check("SharedRelease", first(shared["releases"]))
		check("RoadmapObjective", first(shared["objectives"]), "status", "progress")
		hidden := decodeAs[apiPublishedLink](t, tm.pm.post(t, "/api/v1/products/BOOK/roadmap-links", map[string]any{"name": "Marketing", "hide_internal": true}).
			want(t, http.StatusCreated))
		shared = check("SharedRoadmap", get(e.anon(), "/api/v1/roadmaps/"+hidden.URL[strings.LastIndex(hidden.URL, "/")+1:]))
		check("SharedFeature", first(shared["features"]), "internal")
	})
}

// The roadmap keeps features in number order and its objectives are the
// product's and the company's, with progress for members.
func TestRoadmapObjectives(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		company := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/objectives", map[string]any{"title": "Grow", "start": "2026-01-01", "end": "2026-12-31"}).
			want(t, http.StatusCreated))
		mine := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{"title": "Win shops", "start": "2026-01-01", "end": "2026-06-30",
			"key_results": []map[string]any{{"name": "Shops", "start": 0, "target": 10, "current": 5}}}).want(t, http.StatusCreated))
		tm.pm.post(t, "/api/v1/products/EBOOK/objectives", map[string]any{"title": "Read more", "start": "2026-01-01", "end": "2026-06-30"}).want(t, http.StatusCreated)
		tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Counts", "objective_ids": []int64{mine.ID}})
		tm.pm.createFeature(t, "BOOK", "Dark mode")
		rm := decodeAs[apiRoadmap](t, tm.viewer.get(t, "/api/v1/products/BOOK/roadmap").want(t, http.StatusOK))
		byID := map[int64]apiRoadmapObjective{}
		for _, o := range rm.Objectives {
			byID[o.ID] = o
		}
		if len(rm.Objectives) != 2 || byID[company.ID].Product != nil || byID[mine.ID].Product == nil || *byID[mine.ID].Product != "BOOK" ||
			!nearPtr(byID[mine.ID].Progress, 0.5) || byID[mine.ID].Status != "on_track" {
			t.Errorf("roadmap objectives = %+v", rm.Objectives)
		}
		if len(rm.Features) != 2 || rm.Features[0].Objectives[0].Name != "Win shops" || len(rm.Features[1].Objectives) != 0 {
			t.Errorf("roadmap features = %+v", rm.Features)
		}
		// A shared roadmap shows only the objectives its features serve,
		// without their status.
		pub := decodeAs[apiPublishedLink](t, tm.pm.post(t, "/api/v1/products/BOOK/roadmap-links", map[string]any{}).want(t, http.StatusCreated))
		shared := decodeAs[apiSharedRoadmap](t, e.anon().get(t, "/api/v1/roadmaps/"+pub.URL[strings.LastIndex(pub.URL, "/")+1:]).want(t, http.StatusOK))
		if len(shared.Objectives) != 1 || shared.Objectives[0].ID != mine.ID || shared.Objectives[0].Status != "" || shared.Objectives[0].Progress != nil {
			t.Errorf("shared objectives = %+v", shared.Objectives)
		}
	})
}
