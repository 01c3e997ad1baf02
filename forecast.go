package northstar

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Forecast settings.
const (
	// ForecastTrials is how many futures a forecast simulates.
	ForecastTrials = 10000
	// MinForecastHistory is how many sprints of history a forecast wants;
	// with fewer it says so and widens its range.
	MinForecastHistory = 5
	// MaxForecastSprints is how far ahead a forecast looks: work that needs
	// more sprints than this is reported as beyond it.
	MaxForecastSprints = 200
	// ForecastSeed seeds the simulation unless told otherwise, so the same
	// history gives the same forecast on every page load.
	ForecastSeed = 20180101
)

// ForecastConfidences are the confidence levels forecasts report, in
// percent.
var ForecastConfidences = []int{50, 85, 95}

// ForecastUnit says what throughput counts.
type ForecastUnit string

// The forecast units.
const (
	UnitPoints  ForecastUnit = "points"
	UnitStories ForecastUnit = "stories"
)

// Valid reports whether u is a known unit.
func (u ForecastUnit) Valid() bool { return u == UnitPoints || u == UnitStories }

// Simulation is a Monte Carlo simulation over a team's throughput history:
// each trial draws sprints at random, with replacement, from the history.
// With fewer than MinForecastHistory sprints each trial's draws are also
// scaled by a random pace around 1, so that a thin history gives a wide forecast
// rather than a falsely precise one.
type Simulation struct {
	History []float64    // throughput per closed sprint, oldest first
	Unit    ForecastUnit // what History counts
	Trials  int          // 0: ForecastTrials
	Seed    uint64       // 0: ForecastSeed
	// Committed optionally holds what each history sprint committed, in
	// the same order. With it ForecastDelivery resamples the share of its
	// commitment a sprint delivered instead of the amount: on the shared
	// sprint data (forecast_eval_test.go) the 85 % range then holds the
	// truth 62–79 % of the time, against 27–73 % for amounts capped at the
	// commitment.
	Committed []float64
}

// ForecastBasis describes the history a forecast rests on.
type ForecastBasis struct {
	Unit    ForecastUnit `json:"unit"`
	Sprints int          `json:"history_sprints"`
	Mean    float64      `json:"mean_throughput"`
	Min     float64      `json:"min_throughput"`
	Max     float64      `json:"max_throughput"`
	Trials  int          `json:"trials"`
	// Thin is true when the history is shorter than MinForecastHistory and
	// the range was widened.
	Thin bool   `json:"thin_history"`
	Note string `json:"note"`
}

func (sim *Simulation) check() error {
	if !sim.Unit.Valid() {
		return FieldError("unit", `unit must be "points" or "stories".`)
	}
	if len(sim.History) == 0 {
		return Errorf(EUNPROCESSABLE, "There is no closed sprint to learn the team's pace from yet; close a sprint first.")
	}
	positive := false
	for _, v := range sim.History {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return FieldError("history", "throughput must be a number of at least 0, not %v.", v)
		}
		positive = positive || v > 0
	}
	if !positive {
		return Errorf(EUNPROCESSABLE, "The team finished no %s in its %d closed sprints, so there is no pace to forecast from.", sim.Unit, len(sim.History))
	}
	if len(sim.Committed) != 0 && len(sim.Committed) != len(sim.History) {
		return FieldError("committed", "give a commitment for each of the %d history sprints, not %d.", len(sim.History), len(sim.Committed))
	}
	for _, v := range sim.Committed {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return FieldError("committed", "a commitment must be a number of at least 0, not %v.", v)
		}
	}
	if sim.Trials < 0 || sim.Trials > 1_000_000 {
		return FieldError("trials", "trials must be between 1 and 1000000.")
	}
	return nil
}

// Basis describes the history the simulation rests on.
func (sim *Simulation) Basis() ForecastBasis {
	b := ForecastBasis{Unit: sim.Unit, Sprints: len(sim.History), Trials: sim.trials()}
	if len(sim.History) == 0 {
		b.Thin = true
		b.Note = "No closed sprints yet: no forecast."
		return b
	}
	b.Min, b.Max = slices.Min(sim.History), slices.Max(sim.History)
	for _, v := range sim.History {
		b.Mean += v
	}
	b.Mean = math.Round(b.Mean/float64(len(sim.History))*10) / 10
	if sim.spread() > 0 {
		b.Thin = true
		b.Note = fmt.Sprintf("Only %d closed sprint(s) of history (%d wanted): the range is widened and still uncertain.", len(sim.History), MinForecastHistory)
	} else {
		b.Note = fmt.Sprintf("Resampled from %d closed sprints, %d trials.", len(sim.History), b.Trials)
	}
	return b
}

func (sim *Simulation) trials() int {
	if sim.Trials == 0 {
		return ForecastTrials
	}
	return sim.Trials
}

// spread is the half-width of the random factor a thin history's draws are
// scaled by: 0.4 with one sprint, 0.1 with four, none from five.
func (sim *Simulation) spread() float64 {
	if n := len(sim.History); n < MinForecastHistory {
		return 0.1 * float64(MinForecastHistory-n)
	}
	return 0
}

// sampler returns a function that draws one sprint's throughput and one
// that starts a new trial. A thin history says little about the team's
// real pace, so each trial of one scales all its draws by its own random
// factor: a pace shared by the trial's sprints, which (unlike noise per
// sprint) does not average out over a long forecast.
func (sim *Simulation) sampler() (draw func() float64, trial func()) {
	seed := sim.Seed
	if seed == 0 {
		seed = ForecastSeed
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h, w := sim.History, sim.spread()
	if w == 0 {
		return func() float64 { return h[r.IntN(len(h))] }, func() {}
	}
	pace := 1.0
	return func() float64 { return h[r.IntN(len(h))] * pace },
		func() { pace = 1 - w + 2*w*r.Float64() }
}

// rank returns the value at the given percent of sorted values by the
// nearest-rank method: the smallest value with at least pct % of the values
// at or below it.
func rank[T int | float64](sorted []T, pct int) T {
	k := (pct*len(sorted) + 99) / 100
	return sorted[max(k, 1)-1]
}

// SprintsForecast says how many sprints some work needs, with confidence.
type SprintsForecast struct {
	Remaining float64 `json:"remaining"`
	// Sprints holds, per confidence level, the sprints within which the
	// work is done in that share of futures; nil when beyond
	// MaxForecastSprints.
	Sprints []ConfidenceSprints `json:"sprints"`
	Basis   ForecastBasis       `json:"basis"`
}

// ConfidenceSprints is the number of sprints needed at one confidence
// level, and the date the last of them ends when sprint dates are known.
type ConfidenceSprints struct {
	Confidence int  `json:"confidence"`
	Sprints    *int `json:"sprints"`
	Date       Date `json:"date"`
}

// ForecastSprints simulates how many sprints the remaining work needs.
func (sim *Simulation) ForecastSprints(remaining float64) (*SprintsForecast, error) {
	if err := sim.check(); err != nil {
		return nil, err
	}
	if remaining < 0 || math.IsNaN(remaining) || math.IsInf(remaining, 0) {
		return nil, FieldError("remaining", "remaining work must be a number of at least 0.")
	}
	draw, trial := sim.sampler()
	need := make([]int, sim.trials())
	for i := range need {
		trial()
		done, k := 0.0, 0
		for done < remaining-1e-9 && k <= MaxForecastSprints {
			done += draw()
			k++
		}
		need[i] = k
	}
	slices.Sort(need)
	f := &SprintsForecast{Remaining: remaining, Basis: sim.Basis()}
	for _, c := range ForecastConfidences {
		cs := ConfidenceSprints{Confidence: c}
		if n := rank(need, c); n <= MaxForecastSprints {
			cs.Sprints = &n
		}
		f.Sprints = append(f.Sprints, cs)
	}
	return f, nil
}

// Date fills in the end date of each confidence level's last sprint,
// given the first future sprint's start and the sprint length in days.
func (f *SprintsForecast) Date(first Date, days int) {
	for i := range f.Sprints {
		if n := f.Sprints[i].Sprints; n != nil && days > 0 {
			f.Sprints[i].Date = SprintEnd(first, days, *n)
		}
	}
}

// SprintEnd returns the last day of the n-th sprint of the given length
// starting on first (n = 0: the day before first).
func SprintEnd(first Date, days, n int) Date {
	return Date{first.AddDate(0, 0, n*days-1)}
}

// SprintsBy returns how many whole sprints of the given length, starting on
// first, end on or before the date.
func SprintsBy(first Date, days int, by Date) int {
	if days <= 0 || by.Before(first.Time) {
		return 0
	}
	return int(by.Sub(first.Time)/(24*time.Hour)+1) / days
}

// WorkForecast says how much work a team likely finishes in some sprints:
// at each confidence level, the amount done in at least that share of
// futures.
type WorkForecast struct {
	Sprints int            `json:"sprints"`
	Done    []ConfidenceAt `json:"done"`
	Basis   ForecastBasis  `json:"basis"`
	totals  []float64      // sorted, one per trial
}

// ConfidenceAt is an amount at one confidence level.
type ConfidenceAt struct {
	Confidence int     `json:"confidence"`
	Value      float64 `json:"value"`
}

// ForecastWork simulates how much work the team finishes in n sprints.
func (sim *Simulation) ForecastWork(n int) (*WorkForecast, error) {
	if err := sim.check(); err != nil {
		return nil, err
	}
	if n < 0 || n > MaxForecastSprints {
		return nil, FieldError("sprints", "sprints must be between 0 and %d.", MaxForecastSprints)
	}
	draw, trial := sim.sampler()
	totals := make([]float64, sim.trials())
	for i := range totals {
		trial()
		for range n {
			totals[i] += draw()
		}
	}
	slices.Sort(totals)
	f := &WorkForecast{Sprints: n, Basis: sim.Basis(), totals: totals}
	for _, c := range ForecastConfidences {
		// Done in at least c % of futures: the (100-c) % rank from below.
		f.Done = append(f.Done, ConfidenceAt{Confidence: c, Value: roundTenth(rank(totals, 100-c))})
	}
	return f, nil
}

// Chance returns the share of futures, 0–1, in which at least the given
// amount of work is done.
func (f *WorkForecast) Chance(amount float64) float64 {
	if len(f.totals) == 0 {
		return 0
	}
	i, _ := slices.BinarySearchFunc(f.totals, amount-1e-9, func(t, a float64) int {
		if t < a {
			return -1
		}
		return 1
	})
	return float64(len(f.totals)-i) / float64(len(f.totals))
}

// DeliveryForecast is what sprint planning shows: the points (or stories)
// the team will likely deliver of its commitment.
type DeliveryForecast struct {
	Commitment float64 `json:"commitment"`
	// Low and High bound the central 85 % of simulated sprints' deliveries;
	// Likely is their median. Resampled amounts never exceed the
	// commitment; resampled shares of it may (teams take in more work).
	Low    float64 `json:"low"`
	Likely float64 `json:"likely"`
	High   float64 `json:"high"`
	// ChanceAll is the share of futures, 0–1, in which all of the
	// commitment is delivered.
	ChanceAll float64 `json:"chance_all"`
	// ByShare is true when the forecast resampled the share of their
	// commitment past sprints delivered, false for the amounts.
	ByShare bool          `json:"by_share"`
	Basis   ForecastBasis `json:"basis"`
}

// shares returns what each history sprint delivered of its commitment,
// for the sprints that committed something, or nil.
func (sim *Simulation) shares() []float64 {
	if len(sim.Committed) != len(sim.History) {
		return nil
	}
	var out []float64
	for i, c := range sim.Committed {
		if c > 0 {
			out = append(out, sim.History[i]/c)
		}
	}
	return out
}

// ForecastDelivery simulates one sprint against a commitment: from the
// shares of their commitments past sprints delivered when the
// simulation knows them (and some sprint committed something), else from
// the amounts they delivered, capped at the commitment.
func (sim *Simulation) ForecastDelivery(commitment float64) (*DeliveryForecast, error) {
	if err := sim.check(); err != nil {
		return nil, err
	}
	if commitment < 0 || math.IsNaN(commitment) || math.IsInf(commitment, 0) {
		return nil, FieldError("commitment", "the commitment must be a number of at least 0.")
	}
	draws := sim
	shares := sim.shares()
	if shares != nil {
		// Fewer shares than sprints (some committed nothing) widen a
		// thin forecast further, as they should: they are less to go on.
		cp := *sim
		cp.History = shares
		draws = &cp
	}
	draw, trial := draws.sampler()
	got := make([]float64, sim.trials())
	all := 0
	for i := range got {
		trial()
		v := draw()
		if shares != nil {
			v *= commitment
		}
		if v >= commitment-1e-9 {
			all++
			if shares == nil {
				v = commitment
			}
		}
		got[i] = v
	}
	slices.Sort(got)
	// The central 85 %: from the 7.5 % rank to the 92.5 % rank, in
	// per-mille so the ranks stay whole numbers.
	low := got[max((75*len(got)+999)/1000, 1)-1]
	high := got[max((925*len(got)+999)/1000, 1)-1]
	return &DeliveryForecast{
		Commitment: commitment,
		Low:        roundTenth(low),
		Likely:     roundTenth(rank(got, 50)),
		High:       roundTenth(high),
		ChanceAll:  math.Round(float64(all)/float64(len(got))*1000) / 1000,
		ByShare:    shares != nil,
		Basis:      sim.Basis(),
	}, nil
}

func roundTenth(v float64) float64 { return math.Round(v*10) / 10 }
