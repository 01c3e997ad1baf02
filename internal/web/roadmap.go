package web

// The releases and the roadmap: release pages with their features and
// stories, the roadmap's three views (timeline, now / next / later, by
// objective), its exports (CSV and an SVG image), the themes it groups
// by, the read-only links a product manager publishes, and the shared page
// behind such a link, which needs no account.

import (
	"bytes"
	"encoding/csv"
	"fmt"
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

// roadmapRoutes lists the features, prioritisation, releases and roadmap
// routes. The shared roadmap needs no account: it uses the plain handler.
func (web *Web) roadmapRoutes() []httpx.Route {
	h, a := web.handle, web.authed
	return []httpx.Route{
		{Method: "GET", Pattern: "/products/{key}/features", Handler: a(web.features)},
		{Method: "POST", Pattern: "/products/{key}/features", Handler: a(web.createFeature)},
		{Method: "GET", Pattern: "/products/{key}/features/{ref}", Handler: a(web.feature)},
		{Method: "POST", Pattern: "/products/{key}/features/{ref}", Handler: a(web.updateFeature)},
		{Method: "POST", Pattern: "/products/{key}/features/{ref}/delete", Handler: a(web.deleteFeature)},
		{Method: "POST", Pattern: "/products/{key}/features/{ref}/stories", Handler: a(web.splitFeature)},
		{Method: "POST", Pattern: "/products/{key}/features/{ref}/horizon", Handler: a(web.moveFeature)},
		{Method: "GET", Pattern: "/products/{key}/prioritise", Handler: a(web.prioritise)},
		{Method: "POST", Pattern: "/products/{key}/score-criteria", Handler: a(web.saveScoreCriterion)},
		{Method: "POST", Pattern: "/products/{key}/score-criteria/{id}", Handler: a(web.saveScoreCriterion)},
		{Method: "POST", Pattern: "/products/{key}/score-criteria/{id}/delete", Handler: a(web.deleteScoreCriterion)},
		{Method: "GET", Pattern: "/products/{key}/releases", Handler: a(web.releases)},
		{Method: "POST", Pattern: "/products/{key}/releases", Handler: a(web.saveRelease)},
		{Method: "GET", Pattern: "/products/{key}/releases/{id}", Handler: a(web.release)},
		{Method: "POST", Pattern: "/products/{key}/releases/{id}", Handler: a(web.saveRelease)},
		{Method: "POST", Pattern: "/products/{key}/releases/{id}/ship", Handler: a(web.shipRelease)},
		{Method: "POST", Pattern: "/products/{key}/releases/{id}/features", Handler: a(web.addToRelease)},
		{Method: "POST", Pattern: "/products/{key}/releases/{id}/delete", Handler: a(web.deleteRelease)},
		{Method: "GET", Pattern: "/products/{key}/roadmap", Handler: a(web.roadmap)},
		{Method: "GET", Pattern: "/products/{key}/roadmap.csv", Handler: a(web.roadmapCSV)},
		{Method: "GET", Pattern: "/products/{key}/roadmap.svg", Handler: a(web.roadmapSVG)},
		{Method: "POST", Pattern: "/products/{key}/roadmap/links", Handler: a(web.publishRoadmap)},
		{Method: "POST", Pattern: "/products/{key}/roadmap/links/{id}/revoke", Handler: a(web.revokeRoadmapLink)},
		{Method: "POST", Pattern: "/products/{key}/themes", Handler: a(web.saveTheme)},
		{Method: "POST", Pattern: "/products/{key}/themes/{id}", Handler: a(web.saveTheme)},
		{Method: "POST", Pattern: "/products/{key}/themes/{id}/delete", Handler: a(web.deleteTheme)},
		{Method: "GET", Pattern: "/roadmaps/{secret}", Handler: h(web.sharedRoadmap)},
	}
}

// --- Releases ---

func releasesURL(key string) string { return "/products/" + key + "/releases" }

func releaseURL(key string, id int64) string {
	return releasesURL(key) + "/" + strconv.FormatInt(id, 10)
}

// releaseTiming says where a release's target stands today.
func releaseTiming(r *northstar.Release, now time.Time) string {
	if r.Status == northstar.ReleaseReleased {
		if r.ReleasedAt != nil {
			return "released " + r.ReleasedAt.UTC().Format("2 Jan 2006")
		}
		return "released"
	}
	if r.Target.IsZero() {
		return "no target date"
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	days := int(r.Target.Sub(today).Hours() / 24)
	switch {
	case days == 0:
		return "due today"
	case days < 0:
		return plural(-days, "day") + " late"
	}
	return "in " + plural(days, "day")
}

// releasesView lists a product's releases.
type releasesView struct {
	page
	alerts
	roadmapChoices
	Product   *northstar.Product
	Releases  []*northstar.Release
	CanManage bool
	HasMVP    bool
}

// Timing says where a release's target stands.
func (v *releasesView) Timing(r *northstar.Release) string { return releaseTiming(r, time.Now()) }

// Late reports whether an unreleased release is past its target.
func (v *releasesView) Late(r *northstar.Release) bool {
	return r.Status != northstar.ReleaseReleased && !r.Target.IsZero() && r.Target.Before(time.Now().AddDate(0, 0, -1))
}

func (web *Web) releasesView(w http.ResponseWriter, r *http.Request, key string) (*releasesView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	view := &releasesView{page: web.newPage(w, r, p.Name+" releases", "products"), Product: p}
	view.CanManage = canProduct(view.User, p, northstar.ActionManageFeatures)
	if view.Releases, err = web.app.Releases(ctx, p.Key); err != nil {
		return nil, err
	}
	view.HasMVP = slices.ContainsFunc(view.Releases, func(r *northstar.Release) bool { return r.MVP })
	return view, nil
}

func (web *Web) releases(w http.ResponseWriter, r *http.Request) error {
	view, err := web.releasesView(w, r, r.PathValue("key"))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "releases", view)
}

// releaseView is a release's page: its features and their stories.
type releaseView struct {
	page
	alerts
	roadmapChoices
	Product   *northstar.Product
	R         *northstar.Release
	Features  []*northstar.Feature
	Stories   map[int64][]*northstar.Story
	Others    []*northstar.Feature // features that could join (not rejected, in no release)
	CanManage bool
	Timing    string
}

// ReleasedCount counts the release's features already released.
func (v *releaseView) ReleasedCount() int {
	n := 0
	for _, f := range v.Features {
		if f.Status == northstar.FeatureReleased {
			n++
		}
	}
	return n
}

// StoriesOf lists a feature's stories.
func (v *releaseView) StoriesOf(f *northstar.Feature) []*northstar.Story { return v.Stories[f.ID] }

// StoryPoints writes a story's estimate, "–" when unset.
func (v *releaseView) StoryPoints(s *northstar.Story) string { return orDash(pointsLabel(s.Points)) }

func (web *Web) releaseView(w http.ResponseWriter, r *http.Request, key string, id int64) (*releaseView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	d, err := web.app.Release(ctx, p.Key, id)
	if err != nil {
		return nil, err
	}
	view := &releaseView{page: web.newPage(w, r, d.Release.Name, "products"), Product: p, R: d.Release, Features: d.Features,
		Stories: d.Stories, Timing: releaseTiming(d.Release, time.Now())}
	view.CanManage = canProduct(view.User, p, northstar.ActionManageFeatures)
	if view.CanManage && d.Release.Status != northstar.ReleaseReleased {
		all, err := web.app.Features(ctx, p.Key)
		if err != nil {
			return nil, err
		}
		for _, f := range all {
			if f.Release == nil && f.Status != northstar.FeatureRejected && f.Status != northstar.FeatureReleased {
				view.Others = append(view.Others, f)
			}
		}
	}
	return view, nil
}

func (web *Web) release(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Release")
	if err != nil {
		return err
	}
	view, err := web.releaseView(w, r, normalizeKey(r.PathValue("key")), id)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "release", view)
}

// releaseInputFrom reads a release form.
func releaseInputFrom(form url.Values) (northstar.ReleaseInput, error) {
	in := northstar.ReleaseInput{Name: oneLine(form.Get("name")), Goal: form.Get("goal"),
		Status: northstar.ReleaseStatus(form.Get("status")), MVP: form.Get("mvp") == "true"}
	if s := strings.TrimSpace(form.Get("target_date")); s != "" {
		d, err := northstar.ParseDate("target_date", s)
		if err != nil {
			return in, northstar.FieldError("target_date", "The target date must be a date like 2026-06-30.")
		}
		in.Target = d
	}
	return in, nil
}

// saveRelease creates a release (no id) or changes one.
func (web *Web) saveRelease(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = parseID(r, "id", "Release"); err != nil {
			return err
		}
	}
	in, err := releaseInputFrom(r.PostForm)
	var rel *northstar.Release
	if err == nil {
		version, _ := strconv.Atoi(r.PostForm.Get("version"))
		rel, err = web.app.SaveRelease(r.Context(), key, id, version, in)
	}
	if err == nil {
		setFlash(w, "Release “"+rel.Name+"” saved.")
		redirect(w, r, releaseURL(key, rel.ID))
		return nil
	}
	if !formProblem(err) {
		return err
	}
	if id == 0 {
		view, verr := web.releasesView(w, r, key)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "new", err)
		return web.render(w, r, httpx.Status(err), "releases", view)
	}
	view, verr := web.releaseView(w, r, key, id)
	if verr != nil {
		return verr
	}
	view.Alert = newAlert(r, "edit", err)
	return web.render(w, r, httpx.Status(err), "release", view)
}

// shipRelease releases a release: its features are marked released and
// the date recorded.
func (web *Web) shipRelease(w http.ResponseWriter, r *http.Request) error {
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "id", "Release")
	if err != nil {
		return err
	}
	rel, err := web.app.ShipRelease(r.Context(), key, id)
	if err != nil {
		if !formProblem(err) {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
		redirect(w, r, releaseURL(key, id))
		return nil
	}
	setFlash(w, fmt.Sprintf("%s released: %s marked released.", rel.Name, plural(rel.Features, "feature")))
	redirect(w, r, releaseURL(key, id))
	return nil
}

// addToRelease schedules a feature into the release.
func (web *Web) addToRelease(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "id", "Release")
	if err != nil {
		return err
	}
	ref := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("ref")))
	if checkFeatureRef(key, ref) != nil {
		err = northstar.FieldError("ref", "Choose a feature of %s.", key)
	} else {
		_, err = web.app.UpdateFeature(r.Context(), ref, 0, northstar.FeatureInput{Release: northstar.Optional[int64]{Set: true, Value: id}})
	}
	if err != nil {
		if !formProblem(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	} else {
		setFlash(w, ref+" added to the release.")
	}
	redirect(w, r, releaseURL(key, id)+"#features")
	return nil
}

func (web *Web) deleteRelease(w http.ResponseWriter, r *http.Request) error {
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "id", "Release")
	if err != nil {
		return err
	}
	if err := web.app.DeleteRelease(r.Context(), key, id); err != nil {
		return err
	}
	setFlash(w, "Release deleted; its features stay, unscheduled.")
	redirect(w, r, releasesURL(key))
	return nil
}

// --- The roadmap ---

// The roadmap's views.
const (
	rmViewTimeline   = "timeline"
	rmViewHorizons   = "horizons"
	rmViewObjectives = "objectives"
)

func roadmapURL(key, view string) string {
	u := "/products/" + key + "/roadmap"
	if view != "" && view != rmViewTimeline {
		u += "?view=" + view
	}
	return u
}

// roadmapQuery is the roadmap page's view and the timeline's options.
type roadmapQuery struct {
	View  string
	Scale string
	Group string
}

func parseRoadmapQuery(q url.Values) roadmapQuery {
	rq := roadmapQuery{View: q.Get("view"), Scale: q.Get("scale"), Group: q.Get("group")}
	if rq.View != rmViewHorizons && rq.View != rmViewObjectives {
		rq.View = rmViewTimeline
	}
	if rq.Scale != rmScaleQuarters {
		rq.Scale = rmScaleMonths
	}
	if rq.Group != rmGroupObjective {
		rq.Group = rmGroupTheme
	}
	return rq
}

// values encodes the query, leaving out the defaults.
func (rq roadmapQuery) values() url.Values {
	v := url.Values{}
	if rq.View != rmViewTimeline {
		v.Set("view", rq.View)
	}
	if rq.Scale != rmScaleMonths {
		v.Set("scale", rq.Scale)
	}
	if rq.Group != rmGroupTheme {
		v.Set("group", rq.Group)
	}
	return v
}

// horizonColumn is a column of the now / next / later view.
type horizonColumn struct {
	Horizon  northstar.Horizon
	Hint     string
	Features []*northstar.Feature
}

// objectiveGroup is an objective with the features serving it.
type objectiveGroup struct {
	O        *northstar.Objective
	Company  bool
	Features []*northstar.Feature
}

// themeRow is a theme with its parent's name, for the themes panel.
type themeRow struct {
	T      *northstar.Theme
	Parent string
	Count  int
}

// roadmapView is the roadmap page of the team and the shared page.
type roadmapView struct {
	page
	alerts
	roadmapChoices
	Product  *northstar.Product
	RM       *app.Roadmap
	Query    roadmapQuery
	Timeline roadmapTimeline
	Columns  []horizonColumn
	// Unplaced are the open features on no horizon yet.
	Unplaced    []*northstar.Feature
	ByObjective []objectiveGroup
	Unaligned   []*northstar.Feature
	Themes      []themeRow
	Links       []*northstar.RoadmapLink
	NewLinkURL  string
	CanManage   bool
	// Shared: seen through a published link (Base is that link).
	Shared bool
	Base   string
	Here   string
}

// URL is this page with one option changed.
func (v *roadmapView) URL(name, value string) string {
	q := v.Query
	switch name {
	case "view":
		q.View = value
	case "scale":
		q.Scale = value
	case "group":
		q.Group = value
	}
	vals := q.values()
	if len(vals) == 0 {
		return v.Base
	}
	return v.Base + "?" + vals.Encode()
}

// ExportURL is the roadmap exported as a file, with the timeline's
// options.
func (v *roadmapView) ExportURL(ext string) string {
	vals := v.Query.values()
	vals.Del("view")
	u := "/products/" + v.Product.Key + "/roadmap." + ext
	if len(vals) > 0 {
		u += "?" + vals.Encode()
	}
	return u
}

// FeatureLink is a feature's page for the team; "" on the shared page.
func (v *roadmapView) FeatureLink(f *northstar.Feature) string {
	if v.Shared {
		return ""
	}
	return featureURL(v.Product.Key, f.Ref)
}

// ThemeCount counts a theme's features.
func (v *roadmapView) ThemeCount(id int64) int {
	n := 0
	for _, f := range v.RM.Features {
		if f.Theme != nil && f.Theme.ID == id {
			n++
		}
	}
	return n
}

// openFeature reports whether a feature belongs on now / next / later:
// neither released nor rejected.
func openFeature(f *northstar.Feature) bool {
	return f.Status != northstar.FeatureReleased && f.Status != northstar.FeatureRejected
}

// fillRoadmap arranges the roadmap for its three views.
func fillRoadmap(view *roadmapView, rm *app.Roadmap, now time.Time) {
	view.RM = rm
	base := ""
	if !view.Shared {
		base = featureURL(rm.Product.Key, "")
	}
	view.Timeline = drawRoadmapTimeline(rm, roadmapTimelineSpec{Scale: view.Query.Scale, Group: view.Query.Group, LinkBase: base, Now: now})
	hints := map[northstar.Horizon]string{
		northstar.HorizonNow:   "Being built or about to be",
		northstar.HorizonNext:  "Coming up in the next months",
		northstar.HorizonLater: "On the radar, not yet shaped",
	}
	for _, h := range northstar.Horizons {
		view.Columns = append(view.Columns, horizonColumn{Horizon: h, Hint: hints[h]})
	}
	for _, f := range rm.Features {
		if !openFeature(f) {
			continue
		}
		placed := false
		for i := range view.Columns {
			if view.Columns[i].Horizon == f.Horizon {
				view.Columns[i].Features = append(view.Columns[i].Features, f)
				placed = true
			}
		}
		if !placed {
			view.Unplaced = append(view.Unplaced, f)
		}
	}
	for _, o := range rm.Objectives {
		g := objectiveGroup{O: o, Company: o.ProductKey == ""}
		for _, f := range rm.Features {
			if slices.ContainsFunc(f.Objectives, func(r northstar.NamedRef) bool { return r.ID == o.ID }) {
				g.Features = append(g.Features, f)
			}
		}
		// Company objectives show when this product serves them.
		if !g.Company || len(g.Features) > 0 {
			view.ByObjective = append(view.ByObjective, g)
		}
	}
	for _, f := range rm.Features {
		if len(f.Objectives) == 0 && openFeature(f) {
			view.Unaligned = append(view.Unaligned, f)
		}
	}
	names := map[int64]string{}
	for _, t := range rm.Themes {
		names[t.ID] = t.Name
	}
	for _, t := range rm.Themes {
		row := themeRow{T: t}
		if t.ParentID != nil {
			row.Parent = names[*t.ParentID]
		}
		view.Themes = append(view.Themes, row)
	}
}

func (web *Web) roadmapView(w http.ResponseWriter, r *http.Request, key string) (*roadmapView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	rq := parseRoadmapQuery(r.URL.Query())
	if r.Method == http.MethodPost {
		// A form of the page keeps the view it was sent from.
		if u, err := url.Parse(r.PostForm.Get("next")); err == nil {
			rq = parseRoadmapQuery(u.Query())
		}
	}
	rm, err := web.app.Roadmap(ctx, p.Key)
	if err != nil {
		return nil, err
	}
	view := &roadmapView{page: web.newPage(w, r, p.Name+" roadmap", "products"), Product: p, Query: rq, Base: "/products/" + p.Key + "/roadmap"}
	view.Here = view.URL("", "")
	view.CanManage = canProduct(view.User, p, northstar.ActionManageFeatures)
	fillRoadmap(view, rm, time.Now())
	if view.CanManage {
		if view.Links, err = web.app.RoadmapLinks(ctx, p.Key); err != nil {
			return nil, err
		}
	}
	return view, nil
}

func (web *Web) roadmap(w http.ResponseWriter, r *http.Request) error {
	view, err := web.roadmapView(w, r, r.PathValue("key"))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "roadmap", view)
}

// csvCell guards a cell against formula injection: spreadsheets run a
// cell that starts with = + - @ (or a tab or carriage return) as a
// formula, so such a cell starts with a quote instead.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// roadmapCSV writes the roadmap as a table: a row per feature with its
// place, scores and progress.
func (web *Web) roadmapCSV(w http.ResponseWriter, r *http.Request) error {
	rm, err := web.app.Roadmap(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"ref", "title", "status", "mvp", "release", "release_target", "theme", "objectives", "horizon", "start", "end",
		"moscow", "owner", "rice", "value_effort", "weighted", "feedback", "stories_done", "stories_total", "points_done", "points_total"})
	targets := map[int64]string{}
	for _, rel := range rm.Releases {
		targets[rel.ID] = rel.Target.String()
	}
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	for _, f := range rm.Features {
		release, target, theme, owner := "", "", "", ""
		if f.Release != nil {
			release, target = f.Release.Name, targets[f.Release.ID]
		}
		if f.Theme != nil {
			theme = f.Theme.Name
		}
		if f.Owner != nil {
			owner = f.Owner.Email
		}
		var objectives []string
		for _, o := range f.Objectives {
			objectives = append(objectives, o.Name)
		}
		p := f.Progress
		row := []string{f.Ref, f.Title, string(f.Status), strconv.FormatBool(f.MVP), release, target, theme, strings.Join(objectives, "; "),
			string(f.Horizon), f.Start.String(), f.End.String(), string(f.MoSCoW), owner,
			num(f.Computed.RICE), num(f.Computed.ValueEffort), num(f.Computed.Weighted), strconv.Itoa(f.Voice.Count),
			strconv.Itoa(p.StoriesDone), strconv.Itoa(p.StoriesTotal), strconv.Itoa(p.PointsDone), strconv.Itoa(p.PointsTotal)}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-roadmap-%s.csv"`, rm.Product.Key, time.Now().UTC().Format("2006-01-02")))
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

// roadmapSVG writes the timeline as an SVG document of its own, to put
// in a slide deck or a wiki.
func (web *Web) roadmapSVG(w http.ResponseWriter, r *http.Request) error {
	rm, err := web.app.Roadmap(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	rq := parseRoadmapQuery(r.URL.Query())
	now := time.Now()
	tl := drawRoadmapTimeline(rm, roadmapTimelineSpec{Scale: rq.Scale, Group: rq.Group, Standalone: true, Now: now,
		Heading: rm.Product.Name + " roadmap · " + now.UTC().Format("2 January 2006")})
	w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s-roadmap-%s.svg"`, rm.Product.Key, now.UTC().Format("2006-01-02")))
	w.Header().Set("Cache-Control", "no-store")
	_, err = fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n%s\n", tl.SVG)
	return err
}

// roadmapDone answers a form of the roadmap page: back to the view it
// was sent from, or that view with the error at the form.
func (web *Web) roadmapDone(w http.ResponseWriter, r *http.Request, key, section, anchor, done string, err error) error {
	if err == nil {
		setFlash(w, done)
		redirect(w, r, localPath(r.PostForm.Get("next"), roadmapURL(key, ""))+"#"+anchor)
		return nil
	}
	if !formProblem(err) {
		return err
	}
	view, verr := web.roadmapView(w, r, key)
	if verr != nil {
		return verr
	}
	view.Alert = newAlert(r, section, err)
	return web.render(w, r, httpx.Status(err), "roadmap", view)
}

// publishRoadmap creates a read-only link and shows its address once, on
// this answer only: only its hash is stored.
func (web *Web) publishRoadmap(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	secret, _, err := web.app.PublishRoadmap(r.Context(), key, r.PostForm.Get("name"), r.PostForm.Get("hide_internal") == "true")
	if err != nil {
		return web.roadmapDone(w, r, key, "publish", "share", "", err)
	}
	view, err := web.roadmapView(w, r, key)
	if err != nil {
		return err
	}
	view.NewLinkURL = web.baseURL + "/roadmaps/" + secret
	return web.render(w, r, http.StatusCreated, "roadmap", view)
}

func (web *Web) revokeRoadmapLink(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "id", "Link")
	if err != nil {
		return err
	}
	if err := web.app.RevokeRoadmapLink(r.Context(), key, id); err != nil {
		return err
	}
	return web.roadmapDone(w, r, key, "", "share", "Link revoked: it shows nothing any more.", nil)
}

// saveTheme creates a theme (no id) or changes one.
func (web *Web) saveTheme(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	t := northstar.Theme{Name: oneLine(r.PostForm.Get("name")), Description: r.PostForm.Get("description")}
	section := "theme-new"
	if r.PathValue("id") != "" {
		id, err := parseID(r, "id", "Theme")
		if err != nil {
			return err
		}
		t.ID, section = id, fmt.Sprintf("theme-%d", id)
	}
	var err error
	if s := strings.TrimSpace(r.PostForm.Get("parent_id")); s != "" {
		id, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil {
			err = northstar.FieldError("parent_id", "Choose a theme from the list.")
		}
		t.ParentID = &id
	}
	if err == nil {
		_, err = web.app.SaveTheme(r.Context(), key, t)
	}
	return web.roadmapDone(w, r, key, section, "themes", "Theme “"+t.Name+"” saved.", err)
}

func (web *Web) deleteTheme(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "id", "Theme")
	if err != nil {
		return err
	}
	if err := web.app.DeleteTheme(r.Context(), key, id); err != nil {
		return err
	}
	return web.roadmapDone(w, r, key, "", "themes", "Theme deleted; its features stay.", nil)
}

// --- The shared roadmap ---

// sharedRoadmap is the page behind a published link: no account, no
// navigation of the app, read-only, and with internal fields hidden if
// the link says so. A revoked or unknown link is a plain 404 that says
// nothing of what was there.
func (web *Web) sharedRoadmap(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	secret := r.PathValue("secret")
	rm, err := web.app.SharedRoadmap(r.Context(), secret)
	p := web.newPage(w, r, "Roadmap", "")
	p.User = nil // the shared page shows nothing of an account
	if err != nil {
		if httpx.Status(err) >= 500 {
			return err
		}
		httpx.LogError(r, err)
		p.Title = "Not found"
		return web.renderTemplate(w, http.StatusNotFound, "roadmap_shared", "rm-shared-layout", &roadmapView{page: p})
	}
	p.Title = rm.Product.Name + " roadmap"
	view := &roadmapView{page: p, Product: rm.Product, Query: parseRoadmapQuery(r.URL.Query()), Shared: true,
		Base: "/roadmaps/" + url.PathEscape(secret)}
	fillRoadmap(view, rm, time.Now())
	return web.renderTemplate(w, http.StatusOK, "roadmap_shared", "rm-shared-layout", view)
}
