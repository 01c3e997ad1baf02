package server_test

// Estimation and forecasts through the API on both engines: suggested
// points with their reasons and duplicate flags, accepting a suggestion
// without ever overwriting an estimate, the model cache, and Monte Carlo
// forecasts for a release, a set of stories, a date and a sprint from a
// team whose constant history makes every answer exact.

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type (
	apiSimilar struct {
		Ref        string  `json:"ref"`
		Title      string  `json:"title"`
		Points     *int    `json:"points"`
		Similarity float64 `json:"similarity"`
	}
	apiSuggestion struct {
		Points    *int         `json:"points"`
		Basis     string       `json:"basis"`
		Similar   []apiSimilar `json:"similar"`
		Duplicate *apiSimilar  `json:"duplicate"`
		TrainedOn int          `json:"trained_on"`
		Reason    string       `json:"reason"`
	}
	apiStorySuggestion struct {
		Ref        string        `json:"ref"`
		Version    int           `json:"version"`
		Estimate   *int          `json:"estimate"`
		Suggestion apiSuggestion `json:"suggestion"`
	}
	apiBasis struct {
		Unit    string  `json:"unit"`
		Sprints int     `json:"history_sprints"`
		Mean    float64 `json:"mean_throughput"`
		Trials  int     `json:"trials"`
		Thin    bool    `json:"thin_history"`
		Note    string  `json:"note"`
	}
	apiConfidenceSprints struct {
		Confidence int     `json:"confidence"`
		Sprints    *int    `json:"sprints"`
		Date       *string `json:"date"`
	}
	apiSetForecast struct {
		Product string `json:"product"`
		Team    *struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"team"`
		Unit      string  `json:"unit"`
		Stories   int     `json:"stories"`
		Done      int     `json:"done"`
		Remaining float64 `json:"remaining"`
		Assumed   []struct {
			Ref    string `json:"ref"`
			Points int    `json:"points"`
		} `json:"assumed"`
		Unestimated []string `json:"unestimated"`
		First       string   `json:"first_sprint_start"`
		Days        int      `json:"sprint_days"`
		Forecast    *struct {
			Remaining float64                `json:"remaining"`
			Sprints   []apiConfidenceSprints `json:"sprints"`
			Basis     apiBasis               `json:"basis"`
		} `json:"forecast"`
		TargetChance *float64 `json:"target_chance"`
		Note         string   `json:"note"`
	}
	apiConfidenceAt struct {
		Confidence int     `json:"confidence"`
		Value      float64 `json:"value"`
	}
	apiDateForecast struct {
		Sprints int               `json:"sprints"`
		Done    []apiConfidenceAt `json:"done"`
		Stories []struct {
			Ref        string  `json:"ref"`
			Cumulative float64 `json:"cumulative"`
			Chance     float64 `json:"chance"`
		} `json:"stories"`
		Basis *apiBasis `json:"basis"`
		Note  string    `json:"note"`
	}
	apiSprintForecast struct {
		Commitment  float64  `json:"commitment"`
		Unestimated []string `json:"unestimated"`
		Delivery    *struct {
			Low       float64  `json:"low"`
			Likely    float64  `json:"likely"`
			High      float64  `json:"high"`
			ChanceAll float64  `json:"chance_all"`
			Basis     apiBasis `json:"basis"`
		} `json:"delivery"`
		Note string `json:"note"`
	}
)

// story creates a story through the API and returns its ref.
func (c *client) newStory(t *testing.T, key string, body map[string]any) apiStory {
	t.Helper()
	return decodeAs[apiStory](t, c.post(t, "/api/v1/products/"+key+"/stories", body).want(t, http.StatusCreated))
}

func (c *client) suggestion(t *testing.T, ref string) apiStorySuggestion {
	t.Helper()
	return decodeAs[apiStorySuggestion](t, c.get(t, "/api/v1/stories/"+ref+"/suggestion").want(t, http.StatusOK))
}

func TestEstimationSuggestAndAccept(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		pts := map[string]int{}
		for _, s := range []struct {
			title, desc string
			points      int
		}{
			{"Search books by title", "Full text search over the catalogue", 5},
			{"Search books by author", "Search the catalogue by author name", 5},
			{"Search books by ISBN", "Exact search on the catalogue", 3},
			{"Log in with a password", "A session cookie", 2},
			{"Log out", "End the session", 1},
			{"Export the inventory as CSV", "All books with their stock counts", 8},
		} {
			st := tm.po.newStory(t, "BOOK", map[string]any{"title": s.title, "description": s.desc, "points": s.points})
			pts[st.Ref] = s.points
		}
		target := tm.po.newStory(t, "BOOK", map[string]any{"title": "Search books by publisher", "description": "Search the catalogue"})

		before := e.app.EstimateTrainings()
		got := tm.viewer.suggestion(t, target.Ref)
		s := got.Suggestion
		if got.Estimate != nil || s.Points == nil || *s.Points != 5 || s.Basis != "similar" || s.TrainedOn != 6 {
			t.Fatalf("suggestion = %+v, want 5 points from similar stories, no estimate", got)
		}
		if len(s.Similar) != 3 {
			t.Fatalf("similar = %+v, want three", s.Similar)
		}
		var reason []string
		for _, m := range s.Similar {
			if !strings.HasPrefix(m.Title, "Search books") || m.Points == nil || *m.Points != pts[m.Ref] {
				t.Errorf("similar story %+v is not a search story with its points", m)
			}
			reason = append(reason, fmt.Sprintf("%s (%d)", m.Ref, *m.Points))
		}
		if want := "like " + strings.Join(reason, ", "); s.Reason != want {
			t.Errorf("reason = %q, want %q", s.Reason, want)
		}
		if s.Duplicate != nil {
			t.Errorf("duplicate = %+v, want none", s.Duplicate)
		}
		if etag := tm.viewer.get(t, "/api/v1/stories/"+target.Ref+"/suggestion").header.Get("ETag"); etag != `"`+strconv.Itoa(target.Version)+`"` {
			t.Errorf("ETag = %s, want the story's version %d", etag, target.Version)
		}
		// The model is cached: one training for the two reads.
		if n := e.app.EstimateTrainings() - before; n != 1 {
			t.Errorf("%d trainings for two reads of an unchanged product, want 1", n)
		}

		// A likely duplicate is flagged, estimated or not.
		dup := tm.po.newStory(t, "BOOK", map[string]any{"title": "Export inventory as CSV", "description": "all the books with their stock counts"})
		if d := tm.dev.suggestion(t, dup.Ref).Suggestion.Duplicate; d == nil || d.Ref != "BOOK-6" || d.Similarity < 0.8 {
			t.Errorf("duplicate of %s = %+v, want BOOK-6", dup.Ref, d)
		}

		// Estimating a story retrains the model, and the reason shows it.
		tm.dev.patch(t, "/api/v1/stories/BOOK-1", map[string]int{"points": 8}).want(t, http.StatusOK)
		before = e.app.EstimateTrainings()
		s = tm.viewer.suggestion(t, target.Ref).Suggestion
		if e.app.EstimateTrainings() != before+1 {
			t.Errorf("an estimate changed but the model was not retrained")
		}
		for _, m := range s.Similar {
			if m.Ref == "BOOK-1" && (m.Points == nil || *m.Points != 8) {
				t.Errorf("BOOK-1 after re-estimating: %+v, want 8 points", m)
			}
		}
		want := *s.Points

		// Accepting: roles, versions, and never over an estimate.
		accept := "/api/v1/stories/" + target.Ref + "/suggestion/accept"
		tm.viewer.post(t, accept, nil).wantError(t, http.StatusForbidden, "forbidden", "")
		tm.stakeholder.post(t, accept, nil).wantError(t, http.StatusForbidden, "forbidden", "")
		tm.outsider.post(t, accept, nil).wantError(t, http.StatusNotFound, "not_found", "")
		tm.dev.post(t, accept, nil, "If-Match", `"99"`).wantError(t, http.StatusConflict, "conflict", "")
		other := 13
		if want == 13 {
			other = 8
		}
		tm.dev.post(t, accept, map[string]int{"points": other}).wantError(t, http.StatusConflict, "conflict", "points")
		st := decodeAs[apiStory](t, tm.dev.post(t, accept, map[string]int{"points": want}, "If-Match", strconv.Itoa(target.Version)).want(t, http.StatusOK))
		if st.Points == nil || *st.Points != want || st.Version != target.Version+1 {
			t.Errorf("accepted story = points %v version %d, want %d at version %d", st.Points, st.Version, want, target.Version+1)
		}
		tm.dev.post(t, accept, nil).wantError(t, http.StatusConflict, "conflict", "")
		tm.dev.post(t, "/api/v1/stories/BOOK-2/suggestion/accept", nil).wantError(t, http.StatusConflict, "conflict", "")
		if got := tm.viewer.suggestion(t, "BOOK-2"); got.Estimate == nil || *got.Estimate != 5 {
			t.Errorf("BOOK-2's own estimate = %v, want 5 kept", got.Estimate)
		}

		// A product with nothing estimated has no suggestion to accept.
		lone := tm.po.newStory(t, "EBOOK", map[string]any{"title": "Read offline"})
		if got := tm.viewer.suggestion(t, lone.Ref); got.Suggestion.Basis != "none" || got.Suggestion.Points != nil {
			t.Errorf("EBOOK suggestion = %+v, want none", got.Suggestion)
		}
		tm.dev.post(t, "/api/v1/stories/"+lone.Ref+"/suggestion/accept", nil).wantError(t, http.StatusUnprocessableEntity, "unprocessable", "")

		// Bad input and missing things.
		for _, c := range []struct {
			who    *client
			method string
			path   string
			body   any
			header []string
			status int
			code   string
			field  string
		}{
			{tm.viewer, "GET", "/api/v1/stories/BOOK-999/suggestion", nil, nil, 404, "not_found", ""},
			{tm.viewer, "GET", "/api/v1/stories/nonsense/suggestion", nil, nil, 404, "not_found", ""},
			{tm.outsider, "GET", "/api/v1/stories/BOOK-1/suggestion", nil, nil, 404, "not_found", ""},
			{e.anon(), "GET", "/api/v1/stories/BOOK-1/suggestion", nil, nil, 401, "unauthorized", ""},
			{tm.dev, "POST", "/api/v1/stories/BOOK-999/suggestion/accept", nil, nil, 404, "not_found", ""},
			{tm.dev, "POST", "/api/v1/stories/" + dup.Ref + "/suggestion/accept", nil, []string{"If-Match", "abc"}, 400, "invalid", "If-Match"},
			{tm.dev, "POST", "/api/v1/stories/" + dup.Ref + "/suggestion/accept", map[string]int{"points": 4}, nil, 400, "invalid", "points"},
			{tm.dev, "POST", "/api/v1/stories/" + dup.Ref + "/suggestion/accept", map[string]string{"points": "five"}, nil, 400, "invalid", "points"},
			{tm.dev, "POST", "/api/v1/stories/" + dup.Ref + "/suggestion/accept", "[1]", nil, 400, "invalid", ""},
		} {
			c.who.do(t, c.method, c.path, c.body, c.header...).wantError(t, c.status, c.code, c.field)
		}
		if got := tm.viewer.suggestion(t, dup.Ref); got.Estimate != nil {
			t.Errorf("%s was estimated by refused requests: %v", dup.Ref, got.Estimate)
		}
	})
}

// closeSprints gives a team n closed two-week sprints ending yesterday,
// each finishing two 5-point stories: a constant 10 points, 2 stories.
func closeSprints(t *testing.T, tm *team, teamID int64, key string, n int) {
	t.Helper()
	for i := n; i >= 1; i-- {
		s := tm.po.createSprint(t, teamID, fmt.Sprintf("Past %d", i), -14*i)
		var refs []string
		for j := range 2 {
			st := tm.po.newStory(t, key, map[string]any{"title": fmt.Sprintf("Shipped piece %d of sprint %d", j, i), "points": 5})
			refs = append(refs, st.Ref)
		}
		tm.po.post(t, sprintPath(s.ID, "/stories"), map[string][]string{"refs": refs}).want(t, http.StatusOK)
		tm.po.post(t, sprintPath(s.ID, "/start"), nil).want(t, http.StatusOK)
		for _, ref := range refs {
			tm.dev.patch(t, "/api/v1/stories/"+ref, map[string]string{"status": "done"}).want(t, http.StatusOK)
		}
		tm.po.post(t, sprintPath(s.ID, "/close"), map[string]string{"carry": "backlog"}).want(t, http.StatusOK)
	}
}

func sprintsOf(f apiSetForecast) []int {
	var out []int
	if f.Forecast == nil {
		return nil
	}
	for _, c := range f.Forecast.Sprints {
		if c.Sprints == nil {
			out = append(out, -1)
		} else {
			out = append(out, *c.Sprints)
		}
	}
	return out
}

func TestForecasts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		tm.product(t, "NOTEAM", "No team")
		team := tm.po.createTeam(t, "Readers", "BOOK")
		closeSprints(t, tm, team.ID, "BOOK", 5)

		// A release: one feature with four 5-point stories, one of them
		// done, and an unestimated one like them (suggested 5): 20 points
		// to go at a constant 10 a sprint is two sprints, whatever the
		// confidence.
		rel := decodeAs[apiRelease](t, tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]string{"name": "1.0"}).want(t, http.StatusCreated))
		feat := decodeAs[apiFeature](t, tm.pm.post(t, "/api/v1/products/BOOK/features", map[string]any{"title": "Stock counts", "release_id": rel.ID}).
			want(t, http.StatusCreated))
		var refs []string
		for i := range 4 {
			st := decodeAs[apiStory](t, tm.po.post(t, "/api/v1/features/"+feat.Ref+"/stories", map[string]any{"title": fmt.Sprintf("Shipped piece %d of the stock count", i), "points": 5}).
				want(t, http.StatusCreated))
			refs = append(refs, st.Ref)
		}
		tm.dev.patch(t, "/api/v1/stories/"+refs[0], map[string]string{"status": "done"}).want(t, http.StatusOK)
		unest := decodeAs[apiStory](t, tm.po.post(t, "/api/v1/features/"+feat.Ref+"/stories", map[string]any{"title": "Shipped piece 5 of the stock count"}).
			want(t, http.StatusCreated))

		path := fmt.Sprintf("/api/v1/products/BOOK/releases/%d/forecast", rel.ID)
		f := decodeAs[apiSetForecast](t, tm.viewer.get(t, path).want(t, http.StatusOK))
		if f.Stories != 5 || f.Done != 1 || f.Remaining != 20 || len(f.Assumed) != 1 || f.Assumed[0].Ref != unest.Ref || f.Assumed[0].Points != 5 {
			t.Fatalf("release forecast = %+v, want 5 stories, 1 done, 20 points left with %s assumed at 5", f, unest.Ref)
		}
		if !slices.Equal(sprintsOf(f), []int{2, 2, 2}) || f.Team == nil || f.Team.ID != team.ID || f.Days != 14 || f.First != day(0) {
			t.Errorf("release forecast: sprints %v, team %+v, cadence %s + %d days; want 2 each, Readers, today + 14", sprintsOf(f), f.Team, f.First, f.Days)
		}
		if b := f.Forecast.Basis; b.Sprints != 5 || b.Mean != 10 || b.Thin || b.Trials != 10000 {
			t.Errorf("basis = %+v", b)
		}
		for _, c := range f.Forecast.Sprints {
			if c.Date == nil || *c.Date != day(27) {
				t.Errorf("%d %%: date %v, want %s (end of the second sprint)", c.Confidence, c.Date, day(27))
			}
		}
		if f.TargetChance != nil {
			t.Errorf("target chance %v for a release without a target", *f.TargetChance)
		}
		// With a target date: after one sprint, no chance; after two, sure.
		for _, c := range []struct {
			target int
			chance float64
		}{{20, 0}, {27, 1}} {
			tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d", rel.ID), map[string]string{"target_date": day(c.target)}).want(t, http.StatusOK)
			f = decodeAs[apiSetForecast](t, tm.viewer.get(t, path).want(t, http.StatusOK))
			if f.TargetChance == nil || *f.TargetChance != c.chance {
				t.Errorf("target %s: chance %v, want %v", day(c.target), f.TargetChance, c.chance)
			}
		}
		// In stories: 4 to go at 2 a sprint.
		f = decodeAs[apiSetForecast](t, tm.viewer.get(t, path+"?unit=stories&team="+strconv.FormatInt(team.ID, 10)).want(t, http.StatusOK))
		if f.Remaining != 4 || !slices.Equal(sprintsOf(f), []int{2, 2, 2}) || f.Forecast.Basis.Mean != 2 {
			t.Errorf("in stories: remaining %v, sprints %v, basis %+v; want 4, 2 each, mean 2", f.Remaining, sprintsOf(f), f.Forecast.Basis)
		}

		// Any set of stories: 15 points need two sprints.
		f = decodeAs[apiSetForecast](t, tm.viewer.get(t, "/api/v1/products/BOOK/forecast?stories="+strings.Join(refs[1:], ",")).want(t, http.StatusOK))
		if f.Remaining != 15 || !slices.Equal(sprintsOf(f), []int{2, 2, 2}) {
			t.Errorf("set forecast: remaining %v, sprints %v; want 15 in 2", f.Remaining, sprintsOf(f))
		}
		f = decodeAs[apiSetForecast](t, tm.viewer.get(t, "/api/v1/products/BOOK/forecast?stories="+refs[1]+"&stories="+refs[1]).want(t, http.StatusOK))
		if f.Stories != 1 || !slices.Equal(sprintsOf(f), []int{1, 1, 1}) {
			t.Errorf("one story named twice: %d stories, sprints %v", f.Stories, sprintsOf(f))
		}

		// By a date four weeks out: two sprints, 20 points, and the backlog's
		// stories in order until one is out of reach.
		later := tm.po.newStory(t, "BOOK", map[string]any{"title": "Later", "points": 8})
		d := decodeAs[apiDateForecast](t, tm.viewer.get(t, "/api/v1/products/BOOK/forecast/date?date="+day(27)).want(t, http.StatusOK))
		if d.Sprints != 2 || !slices.Equal(d.Done, []apiConfidenceAt{{50, 20}, {85, 20}, {95, 20}}) {
			t.Errorf("date forecast: %d sprints, done %v; want 2 and 20 each", d.Sprints, d.Done)
		}
		if len(d.Stories) == 0 || d.Stories[0].Chance != 1 || d.Stories[len(d.Stories)-1].Ref != later.Ref || d.Stories[len(d.Stories)-1].Chance != 0 || d.Stories[len(d.Stories)-1].Cumulative != 28 {
			t.Errorf("date forecast stories = %+v, want sure ones first and the first out of reach last", d.Stories)
		}

		// Sprint planning: 15 points committed by a team that has always
		// delivered all it committed.
		plan := tm.po.createSprint(t, team.ID, "Next", 0)
		tm.po.post(t, sprintPath(plan.ID, "/stories"), map[string][]string{"refs": refs[1:]}).want(t, http.StatusOK)
		sf := decodeAs[apiSprintForecast](t, tm.viewer.get(t, sprintPath(plan.ID, "/forecast")).want(t, http.StatusOK))
		if sf.Commitment != 15 || sf.Delivery == nil || sf.Delivery.Low != 15 || sf.Delivery.Likely != 15 || sf.Delivery.High != 15 || sf.Delivery.ChanceAll != 1 {
			t.Errorf("sprint forecast = %+v, want all 15 for sure", sf)
		}

		// A second team with one closed sprint: its forecast is thin and
		// wide, and the product's forecasts now need to be told the team.
		thin := tm.po.createTeam(t, "Newcomers", "BOOK", "EBOOK")
		closeSprints(t, tm, thin.ID, "EBOOK", 1)
		tm.viewer.get(t, path).wantError(t, http.StatusBadRequest, "invalid", "team")
		f = decodeAs[apiSetForecast](t, tm.viewer.get(t, "/api/v1/products/EBOOK/forecast").want(t, http.StatusOK))
		if f.Forecast == nil || !f.Forecast.Basis.Thin || !strings.Contains(f.Note, "widened") {
			t.Errorf("thin forecast = %+v, want widened", f)
		}
		// No team, no forecast, and a note that says why.
		tm.po.newStory(t, "NOTEAM", map[string]any{"title": "Anything", "points": 3})
		f = decodeAs[apiSetForecast](t, tm.viewer.get(t, "/api/v1/products/NOTEAM/forecast").want(t, http.StatusOK))
		if f.Forecast != nil || !strings.Contains(f.Note, "No team") || f.Remaining != 3 {
			t.Errorf("forecast without a team = %+v", f)
		}
		// A team without closed sprints: no forecast either.
		idle := tm.po.createTeam(t, "Idle", "NOTEAM")
		f = decodeAs[apiSetForecast](t, tm.viewer.get(t, "/api/v1/products/NOTEAM/forecast").want(t, http.StatusOK))
		if f.Forecast != nil || f.Team == nil || f.Team.ID != idle.ID || !strings.Contains(f.Note, "close a sprint") {
			t.Errorf("forecast without history = %+v", f)
		}

		teamQ := "team=" + strconv.FormatInt(team.ID, 10)
		for _, c := range []struct {
			who    *client
			path   string
			status int
			code   string
			field  string
		}{
			{tm.viewer, path + "?team=abc", 400, "invalid", "team"},
			{tm.viewer, path + "?team=0", 400, "invalid", "team"},
			{tm.viewer, path + "?team=99999", 400, "invalid", "team"},
			{tm.viewer, path + "?team=" + strconv.FormatInt(idle.ID, 10), 400, "invalid", "team"},
			{tm.viewer, path + "?" + teamQ + "&unit=hours", 400, "invalid", "unit"},
			{tm.viewer, "/api/v1/products/BOOK/releases/99999/forecast?" + teamQ, 404, "not_found", ""},
			{tm.viewer, "/api/v1/products/BOOK/releases/x/forecast", 400, "invalid", "id"},
			{tm.viewer, "/api/v1/products/NOPE/forecast", 404, "not_found", ""},
			{tm.outsider, "/api/v1/products/BOOK/forecast?" + teamQ, 404, "not_found", ""},
			{e.anon(), "/api/v1/products/BOOK/forecast?" + teamQ, 401, "unauthorized", ""},
			{tm.viewer, "/api/v1/products/BOOK/forecast?" + teamQ + "&stories=EBOOK-1", 400, "invalid", "stories"},
			{tm.viewer, "/api/v1/products/BOOK/forecast?" + teamQ + "&stories=nonsense", 400, "invalid", "stories"},
			{tm.viewer, "/api/v1/products/BOOK/forecast?" + teamQ + "&stories=BOOK-9999", 404, "not_found", ""},
			{tm.viewer, "/api/v1/products/BOOK/forecast/date?" + teamQ, 400, "invalid", "date"},
			{tm.viewer, "/api/v1/products/BOOK/forecast/date?" + teamQ + "&date=tomorrow", 400, "invalid", "date"},
			{tm.viewer, "/api/v1/products/BOOK/forecast/date?" + teamQ + "&date=2020-01-01", 400, "invalid", "date"},
			{tm.viewer, "/api/v1/products/BOOK/forecast/date?" + teamQ + "&date=2999-01-01", 400, "invalid", "date"},
			{tm.viewer, "/api/v1/sprints/99999/forecast", 404, "not_found", ""},
			{tm.viewer, sprintPath(plan.ID, "/forecast?unit=days"), 400, "invalid", "unit"},
			{tm.viewer, sprintPath(plan.ID, "/forecast?"+teamQ), 400, "invalid", "team"},
			{tm.outsider, sprintPath(plan.ID, "/forecast"), 404, "not_found", ""},
		} {
			c.who.get(t, c.path).wantError(t, c.status, c.code, c.field)
		}
		many := make([]string, 501)
		for i := range many {
			many[i] = fmt.Sprintf("BOOK-%d", i+1)
		}
		tm.viewer.get(t, "/api/v1/products/BOOK/forecast?"+teamQ+"&stories="+strings.Join(many, ",")).wantError(t, http.StatusBadRequest, "invalid", "stories")
	})
}

// The GET walk covers the estimation routes with a team of its own, so
// that the product's forecasts know whose pace to use.
func init() {
	walkSeeders = append(walkSeeders, func(t *testing.T, e *env, tm *team, seed *walkSeed) {
		team := tm.po.createTeam(t, "Forecasters", "BOOK")
		q := "team=" + strconv.FormatInt(team.ID, 10)
		seed.required["/api/v1/products/{key}/releases/{id}/forecast"] = q
		seed.required["/api/v1/products/{key}/forecast"] = q
		seed.required["/api/v1/products/{key}/forecast/date"] = q + "&date=" + day(30)
		round := decodeAs[apiPokerRound](t, tm.po.post(t, "/api/v1/products/BOOK/poker", map[string]any{"title": "Walk poker", "stories": []string{seed.values["ref"]}}).
			want(t, http.StatusCreated))
		seed.ids["poker"] = strconv.FormatInt(round.ID, 10)
	})
}

type (
	apiPokerVote struct {
		Voter  apiUserRef `json:"voter"`
		Points int        `json:"points"`
	}
	apiPokerItem struct {
		Ref      string         `json:"ref"`
		Points   *int           `json:"points"`
		Revealed bool           `json:"revealed"`
		Voters   []apiUserRef   `json:"voters"`
		Votes    []apiPokerVote `json:"votes"`
		MyVote   *int           `json:"my_vote"`
		Agreed   *int           `json:"agreed"`
		AgreedBy *apiUserRef    `json:"agreed_by"`
		Spread   *struct {
			Min       int  `json:"min"`
			Max       int  `json:"max"`
			Mode      int  `json:"mode"`
			Consensus bool `json:"consensus"`
		} `json:"spread"`
		Suggestion *apiSuggestion `json:"suggestion"`
	}
	apiPokerRound struct {
		ID      int64          `json:"id"`
		Title   string         `json:"title"`
		Status  string         `json:"status"`
		Stories []apiPokerItem `json:"stories"`
		Version int            `json:"version"`
	}
)

func pokerPath(id int64, rest string) string { return fmt.Sprintf("/api/v1/poker/%d%s", id, rest) }

func (c *client) pokerRound(t *testing.T, id int64) apiPokerRound {
	t.Helper()
	return decodeAs[apiPokerRound](t, c.get(t, pokerPath(id, "")).want(t, http.StatusOK))
}

// The planning poker: the product owner opens a round, three
// people vote without seeing each other's votes, the reveal shows them
// with the suggestion, a new vote clears them, and the agreed value
// becomes the estimate while the round keeps who voted what.
func TestPlanningPoker(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		for _, title := range []string{"Search books by title", "Search books by author"} {
			tm.po.newStory(t, "BOOK", map[string]any{"title": title, "points": 5})
		}
		s1 := tm.po.newStory(t, "BOOK", map[string]any{"title": "Search books by publisher"})
		s2 := tm.po.newStory(t, "BOOK", map[string]any{"title": "Print shelf labels"})
		open := map[string]any{"title": "Refinement", "stories": []string{s1.Ref, s2.Ref}}
		tm.dev.post(t, "/api/v1/products/BOOK/poker", open).wantError(t, http.StatusForbidden, "forbidden", "")
		res := tm.po.post(t, "/api/v1/products/BOOK/poker", open).want(t, http.StatusCreated)
		round := decodeAs[apiPokerRound](t, res)
		if round.Status != "open" || len(round.Stories) != 2 || round.Stories[0].Ref != s1.Ref || res.header.Get("Location") != pokerPath(round.ID, "") {
			t.Fatalf("round = %+v, Location %s", round, res.header.Get("Location"))
		}
		vote := pokerPath(round.ID, "/stories/"+s1.Ref+"/vote")
		for c, p := range map[*client]int{tm.dev: 5, tm.pm: 8, tm.po: 5} {
			c.put(t, vote, map[string]int{"points": p}).want(t, http.StatusOK)
		}
		tm.viewer.put(t, vote, map[string]int{"points": 3}).wantError(t, http.StatusForbidden, "forbidden", "")
		tm.stakeholder.put(t, vote, map[string]int{"points": 3}).wantError(t, http.StatusForbidden, "forbidden", "")
		// Hidden: who voted, and one's own vote, but no values and no
		// suggestion to anchor on.
		for c, mine := range map[*client]*int{tm.viewer: nil, tm.dev: intp(5), tm.pm: intp(8)} {
			it := c.pokerRound(t, round.ID).Stories[0]
			if len(it.Voters) != 3 || len(it.Votes) != 0 || it.Spread != nil || it.Suggestion != nil || it.Revealed {
				t.Errorf("%s sees before the reveal: %+v", c.name, it)
			}
			if (mine == nil) != (it.MyVote == nil) || (mine != nil && *it.MyVote != *mine) {
				t.Errorf("%s's own vote = %v, want %v", c.name, it.MyVote, mine)
			}
		}
		// A changed vote counts once.
		tm.dev.put(t, vote, map[string]int{"points": 3}).want(t, http.StatusOK)
		tm.dev.put(t, vote, map[string]int{"points": 5}).want(t, http.StatusOK)

		agree := pokerPath(round.ID, "/stories/"+s1.Ref+"/agree")
		reveal := pokerPath(round.ID, "/stories/"+s1.Ref+"/reveal")
		tm.po.post(t, agree, map[string]int{"points": 5}).wantError(t, http.StatusUnprocessableEntity, "unprocessable", "")
		tm.dev.post(t, reveal, nil).wantError(t, http.StatusForbidden, "forbidden", "")
		tm.po.post(t, reveal, nil, "If-Match", `"1"`).wantError(t, http.StatusConflict, "conflict", "")
		cur := tm.po.pokerRound(t, round.ID)
		got := decodeAs[apiPokerRound](t, tm.po.post(t, reveal, nil, "If-Match", strconv.Itoa(cur.Version)).want(t, http.StatusOK))
		it := got.Stories[0]
		if !it.Revealed || len(it.Votes) != 3 || it.Spread == nil || *it.Spread != (struct {
			Min       int  `json:"min"`
			Max       int  `json:"max"`
			Mode      int  `json:"mode"`
			Consensus bool `json:"consensus"`
		}{5, 8, 5, false}) {
			t.Errorf("revealed: %+v (spread %+v)", it, it.Spread)
		}
		if it.Suggestion == nil || it.Suggestion.Points == nil || *it.Suggestion.Points != 5 {
			t.Errorf("suggestion after the reveal = %+v, want 5", it.Suggestion)
		}
		if v := tm.viewer.pokerRound(t, round.ID).Stories[0]; len(v.Votes) != 3 {
			t.Errorf("the viewer sees %d votes after the reveal, want 3", len(v.Votes))
		}
		tm.dev.put(t, vote, map[string]int{"points": 13}).wantError(t, http.StatusUnprocessableEntity, "unprocessable", "")

		// A new vote clears and hides the votes.
		it = decodeAs[apiPokerRound](t, tm.po.post(t, pokerPath(round.ID, "/stories/"+s1.Ref+"/revote"), nil).want(t, http.StatusOK)).Stories[0]
		if it.Revealed || len(it.Voters) != 0 {
			t.Errorf("after a new vote: %+v", it)
		}
		tm.dev.put(t, vote, map[string]int{"points": 5}).want(t, http.StatusOK)
		tm.pm.put(t, vote, map[string]int{"points": 5}).want(t, http.StatusOK)
		tm.po.post(t, reveal, nil).want(t, http.StatusOK)
		got = decodeAs[apiPokerRound](t, tm.po.post(t, agree, map[string]int{"points": 5}).want(t, http.StatusOK))
		it = got.Stories[0]
		if it.Agreed == nil || *it.Agreed != 5 || it.AgreedBy == nil || it.AgreedBy.Email != "po@example.com" || it.Points == nil || *it.Points != 5 || !it.Spread.Consensus {
			t.Errorf("agreed: %+v", it)
		}
		voters := map[string]int{}
		for _, v := range it.Votes {
			voters[v.Voter.Email] = v.Points
		}
		if len(voters) != 2 || voters["dev@example.com"] != 5 || voters["pm@example.com"] != 5 {
			t.Errorf("who voted what = %v", voters)
		}
		if st := decodeAs[apiStory](t, tm.viewer.get(t, "/api/v1/stories/"+s1.Ref).want(t, http.StatusOK)); st.Points == nil || *st.Points != 5 {
			t.Errorf("%s points = %v, want the agreed 5", s1.Ref, st.Points)
		}
		tm.po.post(t, pokerPath(round.ID, "/stories/"+s2.Ref+"/reveal"), nil).wantError(t, http.StatusUnprocessableEntity, "unprocessable", "")

		// Closing ends the voting and keeps everything.
		closed := decodeAs[apiPokerRound](t, tm.po.post(t, pokerPath(round.ID, "/close"), nil).want(t, http.StatusOK))
		if closed.Status != "closed" || closed.Stories[0].Agreed == nil {
			t.Errorf("closed round = %+v", closed)
		}
		tm.dev.put(t, pokerPath(round.ID, "/stories/"+s2.Ref+"/vote"), map[string]int{"points": 3}).wantError(t, http.StatusUnprocessableEntity, "unprocessable", "")
		if rounds := list[apiPokerRound](t, tm.viewer, "/api/v1/products/BOOK/poker"); len(rounds) != 1 || rounds[0].ID != round.ID {
			t.Errorf("rounds = %+v", rounds)
		}

		// Bad input and missing things.
		other := decodeAs[apiPokerRound](t, tm.po.post(t, "/api/v1/products/BOOK/poker", map[string]any{"title": "Second", "stories": []string{s2.Ref}}).want(t, http.StatusCreated))
		many := make([]string, 51)
		for i := range many {
			many[i] = s2.Ref
		}
		for _, c := range []struct {
			who    *client
			method string
			path   string
			body   any
			status int
			code   string
			field  string
		}{
			{tm.po, "POST", "/api/v1/products/BOOK/poker", map[string]any{"stories": []string{s2.Ref}}, 400, "invalid", "title"},
			{tm.po, "POST", "/api/v1/products/BOOK/poker", map[string]any{"title": "x"}, 400, "invalid", "stories"},
			{tm.po, "POST", "/api/v1/products/BOOK/poker", map[string]any{"title": "x", "stories": many}, 400, "invalid", "stories"},
			{tm.po, "POST", "/api/v1/products/BOOK/poker", map[string]any{"title": "x", "stories": []string{"EBOOK-1"}}, 400, "invalid", "stories"},
			{tm.po, "POST", "/api/v1/products/BOOK/poker", map[string]any{"title": "x", "stories": "BOOK-1"}, 400, "invalid", "stories"},
			{tm.po, "POST", "/api/v1/products/BOOK/poker", map[string]any{"title": "x", "stories": []string{"BOOK-999"}}, 404, "not_found", ""},
			{tm.po, "POST", "/api/v1/products/NOPE/poker", map[string]any{"title": "x", "stories": []string{"NOPE-1"}}, 404, "not_found", ""},
			{tm.dev, "PUT", pokerPath(other.ID, "/stories/"+s2.Ref+"/vote"), map[string]int{"points": 4}, 400, "invalid", "points"},
			{tm.dev, "PUT", pokerPath(other.ID, "/stories/"+s2.Ref+"/vote"), map[string]string{"points": "five"}, 400, "invalid", "points"},
			{tm.dev, "PUT", pokerPath(other.ID, "/stories/"+s2.Ref+"/vote"), map[string]any{}, 400, "invalid", "points"},
			{tm.dev, "PUT", pokerPath(other.ID, "/stories/"+s1.Ref+"/vote"), map[string]int{"points": 3}, 404, "not_found", ""},
			{tm.dev, "PUT", pokerPath(99999, "/stories/"+s1.Ref+"/vote"), map[string]int{"points": 3}, 404, "not_found", ""},
			{tm.po, "POST", pokerPath(other.ID, "/stories/"+s2.Ref+"/agree"), map[string]int{"points": 7}, 400, "invalid", "points"},
			{tm.po, "POST", pokerPath(other.ID, "/close"), nil, 200, "", ""},
			{tm.po, "POST", pokerPath(other.ID, "/close"), nil, 422, "unprocessable", ""},
			{tm.viewer, "GET", "/api/v1/poker/abc", nil, 400, "invalid", "id"},
			{tm.viewer, "GET", pokerPath(99999, ""), nil, 404, "not_found", ""},
			{tm.outsider, "GET", pokerPath(round.ID, ""), nil, 404, "not_found", ""},
			{e.anon(), "GET", pokerPath(round.ID, ""), nil, 401, "unauthorized", ""},
		} {
			res := c.who.do(t, c.method, c.path, c.body)
			if c.status == 200 {
				res.want(t, http.StatusOK)
				continue
			}
			res.wantError(t, c.status, c.code, c.field)
		}
	})
}

func intp(n int) *int { return &n }
