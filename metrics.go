package northstar

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits on product metrics.
const (
	MaxMetrics         = 50
	MaxMetricKeyLen    = 40
	MaxPointsPerBatch  = 5000
	MaxMetricRowErrors = 10
)

// MetricDirection says which way a metric should move: revenue should go
// up, churn down.
type MetricDirection string

// The metric directions.
const (
	HigherIsBetter MetricDirection = "up"
	LowerIsBetter  MetricDirection = "down"
)

// Valid reports whether d is known.
func (d MetricDirection) Valid() bool { return d == HigherIsBetter || d == LowerIsBetter }

// Label returns the direction for people.
func (d MetricDirection) Label() string {
	if d == LowerIsBetter {
		return "lower is better"
	}
	return "higher is better"
}

// Metric is a time series a product records: active users, sales, revenue,
// churn or anything the product manager defines, one value a day.
type Metric struct {
	ID          int64           `json:"-"`
	ProductID   int64           `json:"-"`
	ProductKey  string          `json:"product"`
	Key         string          `json:"key"`
	Name        string          `json:"name"`
	Unit        string          `json:"unit"`
	Direction   MetricDirection `json:"direction"`
	Description string          `json:"description"`
	Points      int             `json:"points"`
	First       Date            `json:"first"`
	Last        Date            `json:"last"`
	LastValue   float64         `json:"last_value"`
	CreatedAt   time.Time       `json:"created_at"`
}

// MetricInput defines a metric.
type MetricInput struct {
	Key         string          `json:"key"`
	Name        string          `json:"name"`
	Unit        string          `json:"unit"`
	Direction   MetricDirection `json:"direction"`
	Description string          `json:"description"`
}

// Validate normalises the input and checks it. A missing key is made
// from the name ("Active users" → active-users).
func (in *MetricInput) Validate() error {
	if err := checkText("name", &in.Name, true, MaxNameLen); err != nil {
		return err
	}
	in.Key = strings.ToLower(strings.TrimSpace(in.Key))
	if in.Key == "" {
		in.Key = MetricSlug(in.Name)
	}
	if err := ValidateMetricKey(in.Key); err != nil {
		return err
	}
	if err := checkText("unit", &in.Unit, false, MaxUnitLen); err != nil {
		return err
	}
	if err := checkText("description", &in.Description, false, MaxDescriptionLen); err != nil {
		return err
	}
	if in.Direction == "" {
		in.Direction = HigherIsBetter
	}
	if !in.Direction.Valid() {
		return FieldError("direction", "direction %q is not up or down.", in.Direction)
	}
	return nil
}

// MetricSlug makes a metric key from a name: lower-case letters and digits
// joined by dashes.
func MetricSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
		} else {
			dash = true
		}
		if b.Len() >= MaxMetricKeyLen {
			break
		}
	}
	return b.String()
}

// ValidateMetricKey checks a metric key: 1–40 characters a–z, 0–9 and
// dashes, starting with a letter or digit. Keys name metrics in URLs.
func ValidateMetricKey(key string) *Error {
	if key == "" || len(key) > MaxMetricKeyLen {
		return FieldError("key", "key must be 1 to %d characters (a–z, 0–9 and dashes).", MaxMetricKeyLen)
	}
	for i, c := range key {
		if !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && !(c == '-' && i > 0) {
			return FieldError("key", "key %q must be lower-case letters, digits and dashes.", key)
		}
	}
	return nil
}

// MetricPoint is a metric's value on one day.
type MetricPoint struct {
	Date  Date    `json:"date"`
	Value float64 `json:"value"`
}

// PointInput is one point as a client sends it: the value is a pointer so
// a missing one is told apart from zero.
type PointInput struct {
	Date  string   `json:"date"`
	Value *float64 `json:"value"`
}

// PointsResult says what recording a batch of points did. Updated counts
// days that already had a value (an upsert replaces it); Notes say so in
// words, and name repeated days within the batch.
type PointsResult struct {
	Metric   string   `json:"metric"`
	Inserted int      `json:"inserted"`
	Updated  int      `json:"updated"`
	Notes    []string `json:"notes"`
}

// RowError is one bad row of a batch or CSV file.
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// RowErrors turns row errors into one EINVALID error that names the first
// row and field at fault and lists up to MaxMetricRowErrors of them.
func RowErrors(errs []RowError, rowField func(RowError) string) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, min(len(errs), MaxMetricRowErrors))
	for i, e := range errs {
		if i == MaxMetricRowErrors {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(errs)-i))
			break
		}
		msgs = append(msgs, e.Message)
	}
	return &Error{Code: EINVALID, Field: rowField(errs[0]), Message: "Nothing was recorded. " + strings.Join(msgs, "; ") + "."}
}

// CheckPoint validates one point for row (as people count it: 1 is the
// first) on the given day: dates like 2026-01-31, not after today, finite
// numbers.
func CheckPoint(row int, date string, value float64, today time.Time) (MetricPoint, *RowError) {
	d, err := time.Parse(DateLayout, strings.TrimSpace(date))
	if err != nil {
		return MetricPoint{}, &RowError{Row: row, Field: "date", Message: fmt.Sprintf("row %d: date %q is not like 2026-01-31", row, clip(date, 40))}
	}
	ty, tm, td := today.Date()
	if d.After(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
		return MetricPoint{}, &RowError{Row: row, Field: "date", Message: fmt.Sprintf("row %d: date %s is in the future", row, d.Format(DateLayout))}
	}
	if d.Year() < 1900 {
		return MetricPoint{}, &RowError{Row: row, Field: "date", Message: fmt.Sprintf("row %d: date %s is before 1900", row, d.Format(DateLayout))}
	}
	if math.IsNaN(value) || math.IsInf(value, 0) || math.Abs(value) > 1e15 {
		return MetricPoint{}, &RowError{Row: row, Field: "value", Message: fmt.Sprintf("row %d: value must be a finite number below 10^15", row)}
	}
	return MetricPoint{Date: Date{d}, Value: value}, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// DedupePoints keeps the last value given for each day, in date order, and
// says in words which days were given more than once (rows as people count
// them, starting at first).
func DedupePoints(ps []MetricPoint, first int) ([]MetricPoint, []string) {
	seen := map[time.Time]int{}
	var notes []string
	out := make([]MetricPoint, 0, len(ps))
	for i, p := range ps {
		if j, ok := seen[p.Date.Time]; ok {
			notes = append(notes, fmt.Sprintf("row %d repeats %s from an earlier row; the later value %g is kept", i+first, p.Date, p.Value))
			out[j] = p
			continue
		}
		seen[p.Date.Time] = len(out)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date.Time) })
	return out, notes
}

// --- Lifecycle insight ---

// StageSuggestion is the lifecycle stage a metric's curve looks like, with
// the reason in words. Stage is "" when the curve says nothing clear (too
// little data, or changes within the noise). It is advice: the product
// manager decides, and nothing changes the stage by itself.
type StageSuggestion struct {
	Stage     Stage  `json:"stage"`
	Reason    string `json:"reason"`
	Recorded  Stage  `json:"recorded"`
	Disagrees bool   `json:"disagrees"`
	// GrowthNow and GrowthBefore are the growth over the last window and
	// the one before it (0.09 is 9 %), of the smoothed weekly series.
	GrowthNow    float64 `json:"growth_now"`
	GrowthBefore float64 `json:"growth_before"`
	WindowWeeks  int     `json:"window_weeks"`
	Weeks        int     `json:"weeks"`
}

// Settings of the lifecycle insight.
const (
	// SmoothWeeks is the moving average over weekly means that irons out
	// seasonality within a month.
	SmoothWeeks = 4
	// minInsightWeeks is the least history that gives two windows to
	// compare after smoothing.
	minInsightWeeks = SmoothWeeks + 2*8
)

// marketStages are the stages a curve can speak to.
var marketStages = []Stage{StageIntroduction, StageGrowth, StageMaturity, StageDecline}

// SuggestStage reads a sales or adoption series (any order, one value a
// day or fewer) and suggests the lifecycle stage it looks like:
//
//   - the daily values are averaged by week and smoothed with a 4-week
//     moving average;
//   - the growth over the last window (12 weeks when there is history
//     enough, else 8) is compared with the growth over the window before;
//   - a change counts only if it is well outside the week-to-week noise
//     (three standard errors of the difference of two smoothed values);
//   - rising and not slowing → growth; rising at under half the earlier
//     rate, or flat after having risen → maturity; falling → decline;
//     anything else, or under 20 weeks of data → no suggestion.
//
// Metrics where lower is better (churn) are not adoption curves and get no
// suggestion. recorded is the product's stage, to flag disagreement.
func SuggestStage(points []MetricPoint, dir MetricDirection, recorded Stage) *StageSuggestion {
	s := &StageSuggestion{Recorded: recorded}
	if dir == LowerIsBetter {
		s.Reason = "Lifecycle suggestions read sales or adoption curves, where higher is better."
		return s
	}
	weekly := WeeklyMeans(points)
	s.Weeks = len(weekly)
	if len(weekly) < minInsightWeeks {
		s.Reason = fmt.Sprintf("Not enough data for a suggestion: %d weeks recorded, %d needed.", len(weekly), minInsightWeeks)
		return s
	}
	sm := MovingAverage(weekly, SmoothWeeks)
	w := 12
	if len(sm) < 2*w+1 {
		w = 8
	}
	s.WindowWeeks = w
	n := len(sm) - 1
	now, mid, old := sm[n], sm[n-w], sm[n-2*w]
	dNow, dBefore := now-mid, mid-old
	s.GrowthNow, s.GrowthBefore = ratio(dNow, mid), ratio(dBefore, old)
	sigma := weeklyNoise(weekly)
	// A smoothed value averages SmoothWeeks weekly means, and a growth is
	// the difference of two of them.
	threshold := 3 * sigma / math.Sqrt(SmoothWeeks) * math.Sqrt2
	level := math.Max(math.Abs(mid), 1e-9)
	if threshold < level*0.01 {
		threshold = level * 0.01 // under 1 % over a window is flat, however smooth
	}
	rates := fmt.Sprintf("%d-week growth rate %s from %s to %s", w, moved(s.GrowthBefore, s.GrowthNow), pct(s.GrowthBefore), pct(s.GrowthNow))
	switch {
	case dNow < -threshold:
		s.Stage = StageDecline
		s.Reason = fmt.Sprintf("Falling: %s.", rates)
	case dNow > threshold && dNow < 0.5*dBefore:
		s.Stage = StageMaturity
		s.Reason = fmt.Sprintf("Still rising but slowing: %s.", rates)
	case dNow > threshold:
		s.Stage = StageGrowth
		gained := fmt.Sprintf("it gained %s in the last %d weeks against %s in the %d before", num(dNow), w, num(dBefore), w)
		if dNow > dBefore {
			s.Reason = fmt.Sprintf("Rising and accelerating: %s (%s).", gained, rates)
		} else {
			s.Reason = fmt.Sprintf("Rising steadily: %s (%s).", gained, rates)
		}
	default:
		// Flat now: maturity if the curve rose to get here, else noise.
		lowest := slices.Min(sm[:n-w+1])
		if now-lowest > 2*threshold && dBefore > -threshold {
			s.Stage = StageMaturity
			s.Reason = fmt.Sprintf("Flattened after growing: %s; the level is %s above its low.", rates, pct(ratio(now-lowest, lowest)))
		} else {
			s.Reason = fmt.Sprintf("No clear trend: the %d-week change (%s) is within the week-to-week noise.", w, pct(s.GrowthNow))
		}
	}
	s.Disagrees = s.Stage != "" && recorded != s.Stage && slices.Contains(marketStages, recorded)
	return s
}

// WeeklyMeans averages a daily series by week (seven-day buckets counted
// from the first day), in date order; weeks without a value take the
// value of the week before, so a gap reads as flat rather than a fall.
func WeeklyMeans(points []MetricPoint) []float64 {
	if len(points) == 0 {
		return nil
	}
	ps := points
	if !slices.IsSortedFunc(ps, func(a, b MetricPoint) int { return a.Date.Compare(b.Date.Time) }) {
		ps = slices.Clone(points)
		slices.SortFunc(ps, func(a, b MetricPoint) int { return a.Date.Compare(b.Date.Time) })
	}
	start := ps[0].Date.Time
	n := int(ps[len(ps)-1].Date.Sub(start).Hours()/24)/7 + 1
	sum, cnt := make([]float64, n), make([]int, n)
	for _, p := range ps {
		i := int(p.Date.Sub(start).Hours()/24) / 7
		sum[i] += p.Value
		cnt[i]++
	}
	out := make([]float64, n)
	for i := range out {
		switch {
		case cnt[i] > 0:
			out[i] = sum[i] / float64(cnt[i])
		case i > 0:
			out[i] = out[i-1]
		}
	}
	return out
}

// MovingAverage returns the trailing k-point moving average of xs, from
// the k-th value on (len(xs)-k+1 values).
func MovingAverage(xs []float64, k int) []float64 {
	if k <= 1 || len(xs) < k {
		return slices.Clone(xs)
	}
	out := make([]float64, 0, len(xs)-k+1)
	sum := 0.0
	for i, x := range xs {
		sum += x
		if i >= k {
			sum -= xs[i-k]
		}
		if i >= k-1 {
			out = append(out, sum/float64(k))
		}
	}
	return out
}

// weeklyNoise estimates the standard deviation of the week-to-week noise
// robustly: the median absolute deviation of the first differences around
// their median (which takes out a steady trend), scaled to a normal
// standard deviation and divided by √2 for the difference of two values.
func weeklyNoise(xs []float64) float64 {
	if len(xs) < 3 {
		return 0
	}
	d := make([]float64, len(xs)-1)
	for i := range d {
		d[i] = xs[i+1] - xs[i]
	}
	med := median(d)
	for i := range d {
		d[i] = math.Abs(d[i] - med)
	}
	return median(d) / 0.6745 / math.Sqrt2
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ratio(d, base float64) float64 {
	if base == 0 {
		return 0
	}
	return d / math.Abs(base)
}

// num writes a change for people: a sign, at most two decimals.
func num(v float64) string {
	digits := 0
	if math.Abs(v) < 100 {
		digits = 2
	}
	t := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(t, ".") {
		t = strings.TrimRight(strings.TrimRight(t, "0"), ".")
	}
	if v >= 0 {
		t = "+" + t
	}
	return strings.Replace(t, "-", "−", 1)
}

func moved(before, now float64) string {
	switch {
	case now > before:
		return "rose"
	case now < before:
		return "fell"
	}
	return "stayed"
}

// pct writes a ratio as a whole percentage ("9 %", "−3 %"), or with one
// decimal under 1 %.
func pct(r float64) string {
	v := r * 100
	if math.Abs(v) < 1 && v != 0 {
		return strings.Replace(fmt.Sprintf("%.1f %%", v), "-", "−", 1)
	}
	return strings.Replace(fmt.Sprintf("%.0f %%", v), "-", "−", 1)
}

// StagePeriod is a span of time the product spent in one stage, from the
// lifecycle history; End is zero for the current stage.
type StagePeriod struct {
	Stage Stage
	Start time.Time
	End   time.Time
}

// StagePeriods turns a lifecycle history (oldest first) into periods.
func StagePeriods(history []*StageChange) []StagePeriod {
	var out []StagePeriod
	for i, c := range history {
		p := StagePeriod{Stage: c.To, Start: c.At}
		if i+1 < len(history) {
			p.End = history[i+1].At
		}
		out = append(out, p)
	}
	return out
}
