package web

// Estimation pages: a story's suggested points (a fragment the story page
// loads), accepting it, planning-poker rounds that update every two
// seconds or on a live change, and the forecast page for a release, the
// backlog, a date and the next sprint.

import (
	"fmt"
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

// estimationRoutes lists the estimation pages; Routes includes them.
func (web *Web) estimationRoutes() []httpx.Route {
	a := web.authed
	return []httpx.Route{
		{Method: "GET", Pattern: "/products/{key}/stories/{ref}/suggestion", Handler: a(web.suggestion)},
		{Method: "POST", Pattern: "/products/{key}/stories/{ref}/suggestion/accept", Handler: a(web.acceptSuggestion)},
		{Method: "GET", Pattern: "/products/{key}/forecast", Handler: a(web.forecast)},
		{Method: "GET", Pattern: "/products/{key}/releases/{id}/forecast", Handler: a(web.releaseForecastSummary)},
		{Method: "GET", Pattern: "/products/{key}/poker", Handler: a(web.pokerRounds)},
		{Method: "POST", Pattern: "/products/{key}/poker", Handler: a(web.openPokerRound)},
		{Method: "GET", Pattern: "/products/{key}/poker/{id}", Handler: a(web.pokerRound)},
		{Method: "POST", Pattern: "/products/{key}/poker/{id}", Handler: a(web.pokerAction)},
	}
}

// --- Suggestion ---

// suggestionView is the suggestion block of a story page.
type suggestionView struct {
	Key       string
	S         *app.StorySuggestion
	CanAccept bool
	Error     string
}

// SimilarityPct writes a similarity as a whole percentage.
func (v *suggestionView) SimilarityPct(s float64) int { return int(math.Round(s * 100)) }

func (web *Web) suggestion(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := web.app.Product(ctx, normalizeKey(r.PathValue("key")))
	if err != nil {
		return err
	}
	s, err := web.app.Suggestion(ctx, r.PathValue("ref"))
	if err != nil {
		return err
	}
	view := &suggestionView{Key: p.Key, S: s, CanAccept: canProduct(northstar.UserFromContext(ctx), p, northstar.ActionWorkStories)}
	return web.renderPartial(w, http.StatusOK, "forecast", "estimate-suggestion", view)
}

func (web *Web) acceptSuggestion(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key, ref := normalizeKey(r.PathValue("key")), r.PathValue("ref")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	var points *int
	if s := r.PostFormValue("points"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return northstar.FieldError("points", "points must be a whole number.")
		}
		points = &n
	}
	back := "/products/" + key + "/stories/" + url.PathEscape(ref)
	s, err := web.app.AcceptSuggestion(r.Context(), ref, version, points)
	switch northstar.ErrorCode(err) {
	case "":
		setFlash(w, fmt.Sprintf("%s is estimated at %d points, as suggested.", s.Ref, *s.Points))
	case northstar.ECONFLICT, northstar.EUNPROCESSABLE:
		setFlash(w, "!"+northstar.ErrorMessage(err))
	default:
		return err
	}
	redirect(w, r, back)
	return nil
}

// --- Forecast page ---

// forecastView is the forecast page: a release's or the backlog's, by a
// date, and the next sprint's delivery.
type forecastView struct {
	page
	Product  *northstar.Product
	Teams    []*northstar.Team
	Releases []*northstar.Release
	Team     int64
	Unit     string
	Release  int64
	Date     string
	Set      *app.SetForecast
	ByDate   *app.DateForecast
	Sprint   *app.SprintForecast
	Error    string
	Field    string
}

// Confidence levels for the band.
func (v *forecastView) Levels() []int { return northstar.ForecastConfidences }

// UnitLabel names the unit for people.
func (v *forecastView) UnitLabel() string {
	if v.Unit == string(northstar.UnitStories) {
		return "stories"
	}
	return "points"
}

// SprintsLabel writes a number of sprints, or "more than 200".
func (v *forecastView) SprintsLabel(n *int) string {
	if n == nil {
		return fmt.Sprintf("more than %d sprints", northstar.MaxForecastSprints)
	}
	if *n == 1 {
		return "1 sprint"
	}
	return fmt.Sprintf("%d sprints", *n)
}

// DateLabel writes a forecast date.
func (v *forecastView) DateLabel(d northstar.Date) string {
	if d.IsZero() {
		return "–"
	}
	return d.Format("Mon 2 Jan 2006")
}

// AssumedShown is the start of the list of stories counted at their
// suggestion; a whole backlog can have thousands.
func (v *forecastView) AssumedShown() []app.AssumedEstimate {
	if v.Set == nil {
		return nil
	}
	return v.Set.Assumed[:min(len(v.Set.Assumed), 50)]
}

// AssumedMore counts the stories AssumedShown leaves out.
func (v *forecastView) AssumedMore() int {
	if v.Set == nil {
		return 0
	}
	return len(v.Set.Assumed) - len(v.AssumedShown())
}

// Pct writes a share 0–1 as a whole percentage.
func (v *forecastView) Pct(f float64) int { return int(math.Round(f * 100)) }

// Num writes a forecast amount.
func (v *forecastView) Num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Band places the 50 %, 85 % and 95 % dates (and the target) on a line
// from today, as percentages of its width.
type Band struct {
	P50, P85, P95, Target float64
	Width                 float64 // from the 50 % to the 95 % date, at least a sliver
	HasTarget             bool
	Start, End            string
}

// Band returns the picture of the release's forecast, or nil.
func (v *forecastView) Band() *Band {
	if v.Set == nil || v.Set.Forecast == nil {
		return nil
	}
	var ds []time.Time
	for _, c := range v.Set.Forecast.Sprints {
		if c.Date.IsZero() {
			return nil
		}
		ds = append(ds, c.Date.Time)
	}
	start := v.Set.First.Time
	end := ds[len(ds)-1]
	if v.Set.Release != nil && !v.Set.Release.Target.IsZero() && v.Set.Release.Target.After(end) {
		end = v.Set.Release.Target.Time
	}
	span := end.Sub(start).Hours()
	if span <= 0 {
		span = 24
	}
	at := func(t time.Time) float64 {
		return math.Max(0, math.Min(100, math.Round(t.Sub(start).Hours()/span*1000)/10))
	}
	b := &Band{P50: at(ds[0]), P85: at(ds[1]), P95: at(ds[2]), Width: math.Max(0.8, at(ds[2])-at(ds[0])), Start: start.Format("2 Jan 2006"), End: end.Format("2 Jan 2006")}
	if b.P50+b.Width > 100 {
		b.P50 = 100 - b.Width // a sliver at the very end stays inside
	}
	if v.Set.Release != nil && !v.Set.Release.Target.IsZero() && !v.Set.Release.Target.Before(start) {
		b.HasTarget, b.Target = true, at(v.Set.Release.Target.Time)
	}
	return b
}

func (web *Web) forecast(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := web.app.Product(ctx, normalizeKey(r.PathValue("key")))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	view := &forecastView{page: web.newPage(w, r, "Forecast · "+p.Key, "products"), Product: p,
		Unit: q.Get("unit"), Date: strings.TrimSpace(q.Get("date"))}
	teams, err := web.app.Teams(ctx)
	if err != nil {
		return err
	}
	for _, t := range teams {
		if t.HasProduct(p.Key) {
			view.Teams = append(view.Teams, t)
		}
	}
	if view.Releases, err = web.app.Releases(ctx, p.Key); err != nil {
		return err
	}
	fail := func(err error) error {
		if northstar.ErrorCode(err) != northstar.EINVALID && northstar.ErrorCode(err) != northstar.ENOTFOUND {
			return err
		}
		view.Error, view.Field = northstar.ErrorMessage(err), northstar.ErrorField(err)
		return web.render(w, r, httpx.Status(err), "forecast", view)
	}
	var o app.ForecastOptions
	if s := q.Get("team"); s != "" {
		if o.Team, err = strconv.ParseInt(s, 10, 64); err != nil || o.Team < 1 {
			return fail(northstar.FieldError("team", "Choose a team."))
		}
	} else if len(view.Teams) > 0 {
		o.Team = view.Teams[0].ID
	}
	view.Team = o.Team
	o.Unit = northstar.ForecastUnit(view.Unit)
	if s := q.Get("release"); s != "" {
		if view.Release, err = strconv.ParseInt(s, 10, 64); err != nil || view.Release < 1 {
			return fail(northstar.FieldError("release", "Choose a release."))
		}
	}
	if view.Release != 0 {
		view.Set, err = web.app.ReleaseForecast(ctx, p.Key, view.Release, o)
	} else {
		view.Set, err = web.app.StoriesForecast(ctx, p.Key, nil, o)
	}
	if err != nil {
		return fail(err)
	}
	if view.Date != "" {
		d, err := northstar.ParseDate("date", view.Date)
		if err == nil {
			view.ByDate, err = web.app.DateForecast(ctx, p.Key, d, o)
		}
		if err != nil {
			return fail(err)
		}
	}
	if o.Team != 0 {
		sprints, err := web.app.Sprints(ctx, o.Team)
		if err != nil {
			return err
		}
		// The next sprint to deliver: the active one, else the first planned.
		var next *northstar.Sprint
		for _, s := range sprints {
			switch {
			case s.Status == northstar.SprintActive:
				next = s
			case s.Status == northstar.SprintPlanned && (next == nil || next.Status == northstar.SprintPlanned && s.Start.Before(next.Start.Time)):
				next = s
			}
			if next != nil && next.Status == northstar.SprintActive {
				break
			}
		}
		if next != nil {
			if view.Sprint, err = web.app.SprintForecast(ctx, next.ID, app.ForecastOptions{Unit: o.Unit}); err != nil {
				return err
			}
		}
	}
	return web.render(w, r, http.StatusOK, "forecast", view)
}

// releaseSummaryView is the forecast line on a release page.
type releaseSummaryView struct {
	Key     string
	Release int64
	F       *app.SetForecast
	Message string
}

// DateLabel writes a forecast date.
func (v *releaseSummaryView) DateLabel(d northstar.Date) string {
	return (&forecastView{}).DateLabel(d)
}

// Pct writes a share 0–1 as a whole percentage.
func (v *releaseSummaryView) Pct(f float64) int { return int(math.Round(f * 100)) }

// releaseForecastSummary answers the release page's forecast line (loaded
// after the page): the 50, 85 and 95 % dates with the product's only
// team, or why there are none. Problems are said in the line, not as an
// error page, since the release page itself is fine.
func (web *Web) releaseForecastSummary(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Release")
	if err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	view := &releaseSummaryView{Key: key, Release: id}
	var o app.ForecastOptions
	if s := r.URL.Query().Get("team"); s != "" {
		o.Team, _ = strconv.ParseInt(s, 10, 64)
	}
	view.F, err = web.app.ReleaseForecast(r.Context(), key, id, o)
	switch code := northstar.ErrorCode(err); code {
	case "":
		if view.F.Forecast == nil {
			view.Message = view.F.Note
		}
	case northstar.EINVALID:
		view.Message = northstar.ErrorMessage(err)
	default:
		return err
	}
	return web.renderPartial(w, http.StatusOK, "forecast", "release-forecast", view)
}

// --- Planning poker ---

// pokerListView lists a product's rounds with the form to open one.
type pokerListView struct {
	page
	Product    *northstar.Product
	Rounds     []*northstar.PokerRound
	Candidates []*northstar.Story
	CanOpen    bool
	Error      string
}

// pokerView is one round.
type pokerView struct {
	page
	Product *northstar.Product
	Round   *northstar.PokerRound
	CanVote bool
	CanLead bool
	Me      int64
}

// Scale is the point scale to vote on.
func (v *pokerView) Scale() []int { return northstar.PointScale }

// IsMine reports whether p is the viewer's vote on the item.
func (v *pokerView) IsMine(it *northstar.PokerItem, p int) bool {
	return it.MyVote != nil && *it.MyVote == p
}

// AgreeDefault is the value the agree form starts on: the most common vote.
func (v *pokerView) AgreeDefault(it *northstar.PokerItem) int {
	if it.Agreed != nil {
		return *it.Agreed
	}
	if it.Spread != nil {
		return it.Spread.Mode
	}
	return 0
}

// Open reports whether the round takes votes.
func (v *pokerView) Open() bool { return v.Round.Status == northstar.PokerOpen }

// Live is the product key the page's live updates follow.
func (v *pokerView) Live() string { return v.Product.Key }

func (web *Web) pokerRounds(w http.ResponseWriter, r *http.Request) error {
	view, err := web.pokerListView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "poker", view)
}

func (web *Web) pokerListView(w http.ResponseWriter, r *http.Request) (*pokerListView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, normalizeKey(r.PathValue("key")))
	if err != nil {
		return nil, err
	}
	view := &pokerListView{page: web.newPage(w, r, "Planning poker · "+p.Key, "products"), Product: p,
		CanOpen: canProduct(northstar.UserFromContext(ctx), p, northstar.ActionEditStories)}
	if view.Rounds, err = web.app.PokerRounds(ctx, p.Key); err != nil {
		return nil, err
	}
	if view.CanOpen {
		stories, err := web.app.Stories(ctx, p.Key, northstar.StoryFilter{Statuses: []northstar.StoryStatus{northstar.StatusNew, northstar.StatusReady}, Limit: 200})
		if err != nil {
			return nil, err
		}
		// Unestimated stories first: they are what a round is for.
		slices.SortStableFunc(stories, func(a, b *northstar.Story) int {
			if (a.Points == nil) == (b.Points == nil) {
				return 0
			} else if a.Points == nil {
				return -1
			}
			return 1
		})
		view.Candidates = stories
	}
	return view, nil
}

func (web *Web) openPokerRound(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	in := northstar.NewPokerRound{Title: r.PostFormValue("title"), Stories: r.PostForm["stories"]}
	round, err := web.app.OpenPokerRound(r.Context(), normalizeKey(r.PathValue("key")), in)
	if code := northstar.ErrorCode(err); code == northstar.EINVALID || code == northstar.ENOTFOUND {
		view, verr := web.pokerListView(w, r)
		if verr != nil {
			return verr
		}
		view.Error = northstar.ErrorMessage(err)
		return web.render(w, r, httpx.Status(err), "poker", view)
	} else if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/products/%s/poker/%d", round.ProductKey, round.ID))
	return nil
}

func (web *Web) pokerRound(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := parseID(r, "id", "Poker round")
	if err != nil {
		return err
	}
	p, err := web.app.Product(ctx, normalizeKey(r.PathValue("key")))
	if err != nil {
		return err
	}
	round, err := web.app.PokerRound(ctx, id)
	if err != nil {
		return err
	}
	if round.ProductKey != p.Key {
		return northstar.Errorf(northstar.ENOTFOUND, "Poker round %d not found.", id)
	}
	user := northstar.UserFromContext(ctx)
	view := &pokerView{page: web.newPage(w, r, round.Title+" · Planning poker", "products"), Product: p, Round: round, Me: user.ID,
		CanVote: canProduct(user, p, northstar.ActionWorkStories), CanLead: canProduct(user, p, northstar.ActionEditStories)}
	if r.URL.Query().Get("fragment") != "" {
		return web.renderPartial(w, http.StatusOK, "poker_round", "poker-round", view)
	}
	return web.render(w, r, http.StatusOK, "poker_round", view)
}

// pokerAction handles the round's forms: vote, reveal, revote, agree and
// close, each named by the form's action field.
func (web *Web) pokerAction(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Poker round")
	if err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	ref := r.PostFormValue("ref")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	points := func() (int, error) {
		n, err := strconv.Atoi(r.PostFormValue("points"))
		if err != nil {
			return 0, northstar.FieldError("points", "Choose a value on the scale.")
		}
		return n, nil
	}
	switch action := r.PostFormValue("action"); action {
	case "vote":
		var n int
		if n, err = points(); err == nil {
			_, err = web.app.VotePoker(ctx, id, ref, n)
		}
	case "reveal":
		_, err = web.app.RevealPoker(ctx, id, ref, version)
	case "revote":
		_, err = web.app.RevotePoker(ctx, id, ref, version)
	case "agree":
		var n int
		if n, err = points(); err == nil {
			_, err = web.app.AgreePoker(ctx, id, ref, n, version)
		}
	case "close":
		_, err = web.app.ClosePokerRound(ctx, id, version)
	default:
		return northstar.FieldError("action", "action must be vote, reveal, revote, agree or close.")
	}
	switch northstar.ErrorCode(err) {
	case "":
	case northstar.EINVALID, northstar.ECONFLICT, northstar.EUNPROCESSABLE:
		setFlash(w, "!"+northstar.ErrorMessage(err))
	default:
		return err
	}
	to := fmt.Sprintf("/products/%s/poker/%d", key, id)
	if ref != "" {
		to += "#poker-" + url.PathEscape(ref)
	}
	redirect(w, r, to)
	return nil
}
