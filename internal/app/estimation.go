package app

// Estimation and forecasting: suggested points for a story learned from
// its product's estimated stories, accepting a suggestion, and Monte Carlo
// forecasts over a team's closed sprints for a release, a set of stories,
// a date and a sprint being planned.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// modelCache keeps one trained estimate model per product with the stamp
// of the stories it was trained on. It is kept per database rather than
// on App so that the estimation code stays in this file; a server has one
// database, tests one per environment.
type modelCache struct {
	mu     sync.Mutex
	models map[int64]*cachedModel
	// trainings counts trainings, for tests of the cache.
	trainings int
}

type cachedModel struct {
	quick, stamp string    // see EstimationQuickStamp and EstimationStamp
	checked      time.Time // when stamp was last compared
	model        *northstar.EstimateModel
}

// fullStampEvery bounds how long a model is trusted on the quick stamp
// alone: changes that leave no trace in the activity log (bulk seeding,
// a re-import updating stories in place) show within this time.
const fullStampEvery = 30 * time.Second

var modelCaches sync.Map // *store.DB → *modelCache

func (a *App) models() *modelCache {
	c, _ := modelCaches.LoadOrStore(a.db, &modelCache{models: map[int64]*cachedModel{}})
	return c.(*modelCache)
}

// EstimateTrainings returns how often this app's database has had an
// estimate model trained, for tests that check the cache.
func (a *App) EstimateTrainings() int {
	c := a.models()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trainings
}

// estimateModel returns the product's model, training it again only when
// a story was added, deleted or changed since the cached one was trained.
// Each call reads the quick stamp (three index lookups); only when it
// moved, or every fullStampEvery, does it sum the stories' versions, and
// only when that moved does it retrain.
func (a *App) estimateModel(ctx context.Context, tx *store.Tx, p *northstar.Product) (*northstar.EstimateModel, error) {
	quick, err := tx.EstimationQuickStamp(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	c := a.models()
	c.mu.Lock()
	cached := c.models[p.ID]
	c.mu.Unlock()
	if cached != nil && cached.quick == quick && time.Since(cached.checked) < fullStampEvery {
		return cached.model, nil
	}
	stamp, err := tx.EstimationStamp(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if cached != nil && cached.stamp == stamp {
		c.mu.Lock()
		c.models[p.ID] = &cachedModel{quick: quick, stamp: stamp, checked: time.Now(), model: cached.model}
		c.mu.Unlock()
		return cached.model, nil
	}
	corpus, err := tx.EstimationCorpus(ctx, p.ID, p.Key)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	m := northstar.TrainEstimateModel(corpus)
	if d := time.Since(start); d > time.Second {
		a.log.Info("estimate model trained", "product", p.Key, "stories", m.Size(), "took", d)
	}
	c.mu.Lock()
	c.models[p.ID] = &cachedModel{quick: quick, stamp: stamp, checked: time.Now(), model: m}
	c.trainings++
	c.mu.Unlock()
	return m, nil
}

// StorySuggestion is a story's suggested estimate next to its own.
type StorySuggestion struct {
	Ref     string `json:"ref"`
	Title   string `json:"title"`
	Version int    `json:"version"`
	// Estimate is the story's own points: a suggestion never replaces them.
	Estimate   *int                  `json:"estimate"`
	Suggestion *northstar.Suggestion `json:"suggestion"`
}

// Suggestion suggests points for a story from its product's estimated
// stories, with the most similar ones as the reason and a duplicate flag.
func (a *App) Suggestion(ctx context.Context, ref string) (*StorySuggestion, error) {
	var out *StorySuggestion
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, s, err := loadStory(ctx, tx, ref, northstar.ActionRead)
		if err != nil {
			return err
		}
		m, err := a.estimateModel(ctx, tx, p)
		if err != nil {
			return err
		}
		out = &StorySuggestion{Ref: s.Ref, Title: s.Title, Version: s.Version, Estimate: s.Points, Suggestion: m.Suggest(s)}
		return nil
	})
	return out, err
}

// AcceptSuggestion sets a story's points to its suggestion, only while the
// story has no estimate and is still at version (0 skips that check; the
// write itself still holds only if nobody estimated it meanwhile). When
// points is given it must be the current suggestion: a caller accepts
// what it showed, not what the model says after others' changes.
func (a *App) AcceptSuggestion(ctx context.Context, ref string, version int, points *int) (*northstar.Story, error) {
	var s *northstar.Story
	var value int
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, story, err := loadStory(ctx, tx, ref, northstar.ActionWorkStories)
		if err != nil {
			return err
		}
		s = story
		if err := checkVersion("Story "+s.Ref, s.Version, version); err != nil {
			return err
		}
		if s.Points != nil {
			return northstar.Errorf(northstar.ECONFLICT, "%s is already estimated at %d points; a suggestion never replaces an estimate.", s.Ref, *s.Points)
		}
		m, err := a.estimateModel(ctx, tx, p)
		if err != nil {
			return err
		}
		sug := m.Suggest(s)
		if sug.Points == nil {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "There is no suggestion for %s: %s has no estimated stories to learn from yet.", s.Ref, p.Key)
		}
		if points != nil && *points != *sug.Points {
			return &northstar.Error{Code: northstar.ECONFLICT, Field: "points",
				Message: fmt.Sprintf("The suggestion for %s is now %d points, not %d; reload to see why.", s.Ref, *sug.Points, *points)}
		}
		value = *sug.Points
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("accept suggestion for %s: %w", ref, err)
	}
	// The version read above makes the write a compare-and-set: if anyone
	// estimated the story in between, it is a conflict, never an overwrite.
	return a.UpdateStory(ctx, ref, s.Version, northstar.StoryUpdate{Points: northstar.Optional[int]{Set: true, Value: value}})
}

// --- Forecasts ---

// ForecastOptions choose the team and unit of a forecast.
type ForecastOptions struct {
	Team int64                  // 0: the product's only team
	Unit northstar.ForecastUnit // "": points
	Seed uint64                 // 0: northstar.ForecastSeed
}

func (o *ForecastOptions) check() error {
	if o.Unit == "" {
		o.Unit = northstar.UnitPoints
	}
	if !o.Unit.Valid() {
		return northstar.FieldError("unit", `unit must be "points" or "stories".`)
	}
	if o.Team < 0 {
		return northstar.FieldError("team", "team must be a team's id.")
	}
	return nil
}

// ForecastTeam names the team whose history a forecast uses.
type ForecastTeam struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Cadence is when the team's future sprints fall: the first starts on
// First and each lasts Days days, like its last sprint.
type Cadence struct {
	First northstar.Date `json:"first_sprint_start"`
	Days  int            `json:"sprint_days"`
}

// AssumedEstimate is an unestimated story counted at its suggested points.
type AssumedEstimate struct {
	Ref    string `json:"ref"`
	Points int    `json:"points"`
	Basis  string `json:"basis"`
}

// SetForecast says when a set of stories (a release's, or any) is done.
type SetForecast struct {
	Product   string                 `json:"product"`
	Release   *northstar.Release     `json:"release,omitempty"`
	Team      *ForecastTeam          `json:"team"`
	Unit      northstar.ForecastUnit `json:"unit"`
	Stories   int                    `json:"stories"`
	Done      int                    `json:"done"`
	Remaining float64                `json:"remaining"`
	// Assumed lists unestimated stories counted at their suggestion;
	// Unestimated those left out for want of one.
	Assumed     []AssumedEstimate `json:"assumed"`
	Unestimated []string          `json:"unestimated"`
	Cadence
	// Forecast is null when the team has no usable history.
	Forecast *northstar.SprintsForecast `json:"forecast"`
	// TargetChance is the share of futures, 0–1, in which the work is done
	// by the release's target date.
	TargetChance *float64 `json:"target_chance"`
	Note         string   `json:"note"`
}

// history is a team's throughput and cadence.
type history struct {
	team    *northstar.Team
	sim     *northstar.Simulation
	cadence Cadence
	today   northstar.Date
}

// forecastTeam picks the team of a product forecast: the one named, which
// must work on the product, or the product's only team. nil means the
// product has no team.
func forecastTeam(ctx context.Context, tx *store.Tx, p *northstar.Product, id int64) (*northstar.Team, error) {
	if id == 0 {
		ids, err := tx.TeamIDsOfProduct(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		switch len(ids) {
		case 0:
			return nil, nil
		case 1:
			id = ids[0]
		default:
			names := make([]string, len(ids))
			for i, id := range ids {
				names[i] = strconv.FormatInt(id, 10)
			}
			return nil, northstar.FieldError("team", "Several teams work on %s; say whose pace to forecast with ?team= (%s).", p.Key, strings.Join(names, ", "))
		}
	}
	t, err := tx.FindTeam(ctx, id)
	if isNotFound(err) || (err == nil && !t.HasProduct(p.Key)) {
		return nil, northstar.FieldError("team", "No team %d works on %s.", id, p.Key)
	}
	return t, err
}

// maxHistory is how many of a team's last closed sprints a forecast
// resamples: enough to see its spread, recent enough to be its pace now.
const maxHistory = 20

// teamHistory reads a team's closed sprints (but skip) as throughput.
func teamHistory(ctx context.Context, tx *store.Tx, t *northstar.Team, o ForecastOptions, skip int64) (*history, error) {
	sprints, err := tx.FindSprints(ctx, t.ID, "", 500)
	if err != nil {
		return nil, err
	}
	today := northstar.Date{Time: time.Date(tx.Now.Year(), tx.Now.Month(), tx.Now.Day(), 0, 0, 0, 0, time.UTC)}
	h := &history{team: t, sim: &northstar.Simulation{Unit: o.Unit, Seed: o.Seed}, cadence: Cadence{Days: 14}, today: today}
	var lastClosed, firstOpen *northstar.Sprint
	for _, s := range sprints { // newest first
		if s.Status != northstar.SprintClosed {
			if firstOpen == nil || s.Start.Before(firstOpen.Start.Time) {
				firstOpen = s
			}
			continue
		}
		if lastClosed == nil {
			lastClosed = s
		}
		if s.ID == skip || len(h.sim.History) == maxHistory {
			continue
		}
		v, c := float64(s.CompletedPoints), float64(s.CommittedPoints)
		if o.Unit == northstar.UnitStories {
			v, c = float64(s.CompletedCount), float64(s.CommittedCount)
		}
		h.sim.History = append(h.sim.History, v)
		h.sim.Committed = append(h.sim.Committed, c)
	}
	slices.Reverse(h.sim.History)
	slices.Reverse(h.sim.Committed)
	model := lastClosed
	if model == nil {
		model = firstOpen
	}
	if model != nil {
		h.cadence.Days = int(model.End.Sub(model.Start.Time)/(24*time.Hour)) + 1
	}
	switch {
	case firstOpen != nil:
		h.cadence.First = firstOpen.Start
	case lastClosed != nil && lastClosed.End.AddDate(0, 0, 1).After(today.Time):
		h.cadence.First = northstar.Date{Time: lastClosed.End.AddDate(0, 0, 1)}
	default:
		h.cadence.First = today
	}
	return h, nil
}

// remainingWork sums the work of the stories not done: points (with
// suggestions for unestimated stories) or a count.
func (a *App) remainingWork(ctx context.Context, tx *store.Tx, p *northstar.Product, f *SetForecast, stories []*northstar.Story) error {
	f.Stories, f.Assumed, f.Unestimated = len(stories), []AssumedEstimate{}, []string{}
	var m *northstar.EstimateModel
	for _, s := range stories {
		if s.Status == northstar.StatusDone {
			f.Done++
			continue
		}
		if f.Unit == northstar.UnitStories {
			f.Remaining++
			continue
		}
		if s.Points != nil {
			f.Remaining += float64(*s.Points)
			continue
		}
		if m == nil {
			var err error
			if m, err = a.estimateModel(ctx, tx, p); err != nil {
				return err
			}
		}
		// Past maxSuggested unestimated stories (a whole large backlog),
		// each counts at the product's median estimate: a suggestion each
		// would cost seconds, and so far down the backlog the difference
		// drowns in the forecast's own spread.
		var sug *northstar.Suggestion
		if len(f.Assumed) < maxSuggested {
			sug = m.Suggest(s)
		} else {
			sug = &northstar.Suggestion{Points: m.Median(), Basis: northstar.BasisMedian}
		}
		if sug.Points != nil {
			f.Remaining += float64(*sug.Points)
			f.Assumed = append(f.Assumed, AssumedEstimate{Ref: s.Ref, Points: *sug.Points, Basis: sug.Basis})
		} else {
			f.Unestimated = append(f.Unestimated, s.Ref)
		}
	}
	return nil
}

// maxSuggested bounds the unestimated stories of one forecast that get a
// suggestion of their own.
const maxSuggested = 300

// simulate fills in the forecast, or explains why there is none.
func (f *SetForecast) simulate(h *history) error {
	if h == nil {
		f.Note = "No team works on " + f.Product + " yet, so there is no pace to forecast from."
		return nil
	}
	f.Team, f.Cadence = &ForecastTeam{ID: h.team.ID, Name: h.team.Name}, h.cadence
	sf, err := h.sim.ForecastSprints(f.Remaining)
	if northstar.ErrorCode(err) == northstar.EUNPROCESSABLE {
		f.Note = northstar.ErrorMessage(err)
		return nil
	} else if err != nil {
		return err
	}
	sf.Date(h.cadence.First, h.cadence.Days)
	f.Forecast, f.Note = sf, sf.Basis.Note
	if len(f.Assumed) > 0 {
		f.Note += fmt.Sprintf(" %d unestimated stories are counted at their suggested points.", len(f.Assumed))
	}
	if len(f.Unestimated) > 0 {
		f.Note += fmt.Sprintf(" %d unestimated stories have no suggestion and are left out.", len(f.Unestimated))
	}
	if f.Release != nil && !f.Release.Target.IsZero() && f.Release.Target.Before(h.today.Time) {
		f.Note += fmt.Sprintf(" The target date, %s, has passed.", f.Release.Target)
	} else if f.Release != nil && !f.Release.Target.IsZero() {
		n := northstar.SprintsBy(h.cadence.First, h.cadence.Days, f.Release.Target)
		wf, err := h.sim.ForecastWork(n)
		if err != nil {
			return err
		}
		c := wf.Chance(f.Remaining)
		f.TargetChance = &c
	}
	return nil
}

// productForecast runs fn in a read transaction on a product the user may
// read, with the history of the chosen team (nil when it has none).
func (a *App) productForecast(ctx context.Context, key string, o *ForecastOptions, fn func(tx *store.Tx, p *northstar.Product, h *history) error) error {
	if err := o.check(); err != nil {
		return err
	}
	return a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		t, err := forecastTeam(ctx, tx, p, o.Team)
		if err != nil {
			return err
		}
		var h *history
		if t != nil {
			if h, err = teamHistory(ctx, tx, t, *o, 0); err != nil {
				return err
			}
		}
		return fn(tx, p, h)
	})
}

// ReleaseForecast says when a release's stories are done, and how likely
// by its target date.
func (a *App) ReleaseForecast(ctx context.Context, key string, id int64, o ForecastOptions) (*SetForecast, error) {
	var f *SetForecast
	err := a.productForecast(ctx, key, &o, func(tx *store.Tx, p *northstar.Product, h *history) error {
		r, err := tx.FindRelease(ctx, p.ID, id)
		if err != nil {
			return err
		}
		stories, err := tx.ReleaseStories(ctx, p.ID, id)
		if err != nil {
			return err
		}
		f = &SetForecast{Product: p.Key, Release: r, Unit: o.Unit}
		if err := a.remainingWork(ctx, tx, p, f, stories); err != nil {
			return err
		}
		return f.simulate(h)
	})
	return f, err
}

// StoriesForecast says when the given stories of a product are done; with
// no refs, the whole unfinished backlog.
func (a *App) StoriesForecast(ctx context.Context, key string, refs []string, o ForecastOptions) (*SetForecast, error) {
	if len(refs) > northstar.MaxBulkRefs {
		return nil, northstar.FieldError("stories", "at most %d stories at once.", northstar.MaxBulkRefs)
	}
	var f *SetForecast
	err := a.productForecast(ctx, key, &o, func(tx *store.Tx, p *northstar.Product, h *history) error {
		var stories []*northstar.Story
		var err error
		if len(refs) == 0 {
			stories, err = tx.OpenBacklog(ctx, p.ID, 0)
		} else {
			stories, err = storiesOf(ctx, tx, p, refs, "stories", true)
		}
		if err != nil {
			return err
		}
		f = &SetForecast{Product: p.Key, Unit: o.Unit}
		if err := a.remainingWork(ctx, tx, p, f, stories); err != nil {
			return err
		}
		return f.simulate(h)
	})
	return f, err
}

// storiesOf loads a product's stories by ref. A ref of another product or
// not a ref at all is bad input naming field; a missing story is not
// found when strict, and left out otherwise.
func storiesOf(ctx context.Context, tx *store.Tx, p *northstar.Product, refs []string, field string, strict bool) ([]*northstar.Story, error) {
	var numbers []int
	seen := map[int]bool{}
	for _, ref := range refs {
		key, n, err := northstar.ParseRef(ref)
		if err != nil || !strings.EqualFold(key, p.Key) {
			return nil, northstar.FieldError(field, "%q is not a story of %s (refs look like %s-12).", ref, p.Key, p.Key)
		}
		if !seen[n] {
			seen[n] = true
			numbers = append(numbers, n)
		}
	}
	stories, err := tx.StoriesByNumber(ctx, p.ID, numbers)
	if err != nil {
		return nil, err
	}
	if strict && len(stories) < len(numbers) {
		found := map[int]bool{}
		for _, s := range stories {
			found[s.Number] = true
		}
		for _, n := range numbers {
			if !found[n] {
				return nil, northstar.Errorf(northstar.ENOTFOUND, "Story %s not found.", northstar.FormatRef(p.Key, n))
			}
		}
	}
	return stories, nil
}

// StoryChance is a backlog story with the chance it is done by a date.
type StoryChance struct {
	Ref        string  `json:"ref"`
	Title      string  `json:"title"`
	Points     *int    `json:"points"`
	Assumed    bool    `json:"assumed"` // points are the suggestion
	Cumulative float64 `json:"cumulative"`
	Chance     float64 `json:"chance"`
}

// DateForecast says how much work is likely done by a date, and which
// stories from the top of the backlog.
type DateForecast struct {
	Product string                 `json:"product"`
	Date    northstar.Date         `json:"date"`
	Team    *ForecastTeam          `json:"team"`
	Unit    northstar.ForecastUnit `json:"unit"`
	Cadence
	// Sprints is how many whole sprints end by the date.
	Sprints int                      `json:"sprints"`
	Done    []northstar.ConfidenceAt `json:"done"`
	Stories []StoryChance            `json:"stories"`
	Basis   *northstar.ForecastBasis `json:"basis"`
	Note    string                   `json:"note"`
}

// maxDateStories bounds the backlog a date forecast walks down.
const maxDateStories = 500

// DateForecast forecasts the work a team finishes on a product by a date.
func (a *App) DateForecast(ctx context.Context, key string, date northstar.Date, o ForecastOptions) (*DateForecast, error) {
	var f *DateForecast
	err := a.productForecast(ctx, key, &o, func(tx *store.Tx, p *northstar.Product, h *history) error {
		today := time.Date(tx.Now.Year(), tx.Now.Month(), tx.Now.Day(), 0, 0, 0, 0, time.UTC)
		if date.Before(today) {
			return northstar.FieldError("date", "date must be today or later.")
		}
		if date.After(today.AddDate(10, 0, 0)) {
			return northstar.FieldError("date", "date must be within ten years.")
		}
		f = &DateForecast{Product: p.Key, Date: date, Unit: o.Unit, Done: []northstar.ConfidenceAt{}, Stories: []StoryChance{}}
		if h == nil {
			f.Note = "No team works on " + p.Key + " yet, so there is no pace to forecast from."
			return nil
		}
		f.Team, f.Cadence = &ForecastTeam{ID: h.team.ID, Name: h.team.Name}, h.cadence
		f.Sprints = min(northstar.SprintsBy(h.cadence.First, h.cadence.Days, date), northstar.MaxForecastSprints)
		wf, err := h.sim.ForecastWork(f.Sprints)
		if northstar.ErrorCode(err) == northstar.EUNPROCESSABLE {
			f.Note = northstar.ErrorMessage(err)
			return nil
		} else if err != nil {
			return err
		}
		f.Done, f.Basis, f.Note = wf.Done, &wf.Basis, wf.Basis.Note
		stories, err := tx.OpenBacklog(ctx, p.ID, maxDateStories)
		if err != nil {
			return err
		}
		var m *northstar.EstimateModel
		cum := 0.0
		for _, s := range stories {
			sc := StoryChance{Ref: s.Ref, Title: s.Title, Points: s.Points}
			switch {
			case o.Unit == northstar.UnitStories:
				cum++
			case s.Points != nil:
				cum += float64(*s.Points)
			default:
				if m == nil {
					if m, err = a.estimateModel(ctx, tx, p); err != nil {
						return err
					}
				}
				if sug := m.Suggest(s); sug.Points != nil {
					cum += float64(*sug.Points)
					sc.Points, sc.Assumed = sug.Points, true
				}
			}
			sc.Cumulative = cum
			sc.Chance = wf.Chance(cum)
			f.Stories = append(f.Stories, sc)
			if sc.Chance == 0 {
				break // the rest of the backlog is even further away
			}
		}
		return nil
	})
	return f, err
}

// SprintForecast is what planning shows of a sprint's likely delivery.
type SprintForecast struct {
	Sprint      *northstar.Sprint           `json:"sprint"`
	Unit        northstar.ForecastUnit      `json:"unit"`
	Commitment  float64                     `json:"commitment"`
	Unestimated []string                    `json:"unestimated"`
	Delivery    *northstar.DeliveryForecast `json:"delivery"`
	Note        string                      `json:"note"`
}

// SprintForecast forecasts how much of a sprint's commitment the team
// delivers, from its other closed sprints.
func (a *App) SprintForecast(ctx context.Context, id int64, o ForecastOptions) (*SprintForecast, error) {
	if o.Team != 0 {
		return nil, northstar.FieldError("team", "a sprint's forecast uses the sprint's own team.")
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	var f *SprintForecast
	err := a.db.View(ctx, func(tx *store.Tx) error {
		acc, s, err := authorizeSprint(ctx, tx, id, northstar.ActionRead)
		if err != nil {
			return err
		}
		p, err := planning(ctx, tx, acc, s)
		if err != nil {
			return err
		}
		f = &SprintForecast{Sprint: s, Unit: o.Unit, Unestimated: p.Unestimated, Commitment: float64(p.Points)}
		if o.Unit == northstar.UnitStories {
			f.Commitment = float64(len(p.Stories))
		}
		h, err := teamHistory(ctx, tx, acc.team, o, s.ID)
		if err != nil {
			return err
		}
		d, err := h.sim.ForecastDelivery(f.Commitment)
		if northstar.ErrorCode(err) == northstar.EUNPROCESSABLE {
			f.Note = northstar.ErrorMessage(err)
			return nil
		} else if err != nil {
			return err
		}
		f.Delivery, f.Note = d, d.Basis.Note
		if len(f.Unestimated) > 0 && o.Unit == northstar.UnitPoints {
			f.Note += fmt.Sprintf(" %d stories in the sprint have no estimate and count as 0.", len(f.Unestimated))
		}
		return nil
	})
	return f, err
}
