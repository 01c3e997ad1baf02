package northstar

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// series builds a daily series of days values from f(day), with
// multiplicative noise of the given relative size (seeded, so the tests
// are repeatable).
func series(days int, noise float64, seed uint64, f func(d float64) float64) []MetricPoint {
	r := rand.New(rand.NewPCG(seed, 7))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ps := make([]MetricPoint, days)
	for i := range ps {
		v := f(float64(i)) * (1 + noise*r.NormFloat64())
		ps[i] = MetricPoint{Date: Date{start.AddDate(0, 0, i)}, Value: v}
	}
	return ps
}

// logistic is an S-curve reaching 10,000 a day with its inflection at day
// mid.
func logistic(mid float64) func(float64) float64 {
	return func(d float64) float64 { return 10000 / (1 + math.Exp(-(d-mid)/60)) }
}

func TestSuggestStage(t *testing.T) {
	tests := []struct {
		name   string
		points []MetricPoint
		want   Stage
		reason string
	}{
		// A year of an S-curve whose inflection is a year and a half
		// away: the early, accelerating part.
		{"logistic before its inflection", series(365, 0.05, 1, logistic(540)), StageGrowth, "accelerating"},
		{"exponential", series(365, 0.05, 2, func(d float64) float64 { return 100 * math.Exp(d/150) }), StageGrowth, "accelerating"},
		{"straight line up", series(365, 0.05, 3, func(d float64) float64 { return 1000 + 10*d }), StageGrowth, "Rising"},
		// The top of the S: inflection 300 days before the end.
		{"logistic past its inflection", series(730, 0.02, 4, logistic(430)), StageMaturity, "slowing"},
		{"logistic at its plateau", series(1095, 0.05, 5, logistic(400)), StageMaturity, "Flattened"},
		{"decline after a plateau", series(730, 0.05, 6, func(d float64) float64 {
			if d < 400 {
				return 8000
			}
			return 8000 * math.Exp(-(d-400)/250)
		}), StageDecline, "Falling"},
		{"white noise", series(730, 0.2, 7, func(float64) float64 { return 500 }), "", "No clear trend"},
		{"noise on a tiny level", series(365, 0.5, 8, func(float64) float64 { return 3 }), "", "No clear trend"},
		{"ten weeks", series(70, 0.05, 9, logistic(300)), "", "Not enough data"},
		{"nothing", nil, "", "Not enough data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := SuggestStage(tt.points, HigherIsBetter, StageIntroduction)
			if s.Stage != tt.want {
				t.Errorf("stage = %q, want %q (reason: %s; growth %.3f after %.3f)", s.Stage, tt.want, s.Reason, s.GrowthNow, s.GrowthBefore)
			}
			if !strings.Contains(s.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to mention %q", s.Reason, tt.reason)
			}
			if want := tt.want != "" && tt.want != StageIntroduction; s.Disagrees != want {
				t.Errorf("disagrees = %v, want %v", s.Disagrees, want)
			}
		})
	}
}

// Many noise seeds: a flat noisy series must almost never be read as a
// stage. Three standard errors allow a rare false alarm; more than 2 in 100
// means the threshold is wrong.
func TestSuggestStageNoiseRarelySuggests(t *testing.T) {
	alarms := 0
	for seed := range uint64(100) {
		s := SuggestStage(series(365, 0.3, seed, func(float64) float64 { return 200 }), HigherIsBetter, StageMaturity)
		if s.Stage != "" {
			alarms++
		}
	}
	if alarms > 2 {
		t.Errorf("pure noise suggested a stage %d times in 100", alarms)
	}
}

func TestSuggestStageReason(t *testing.T) {
	s := SuggestStage(series(1095, 0, 0, logistic(400)), HigherIsBetter, StageGrowth)
	if s.Stage != StageMaturity || !s.Disagrees {
		t.Fatalf("got %q (disagrees %v), want maturity disagreeing with growth", s.Stage, s.Disagrees)
	}
	if !strings.Contains(s.Reason, "12-week growth rate fell from ") || !strings.Contains(s.Reason, " %") {
		t.Errorf("reason = %q, want the 12-week growth rates in percent", s.Reason)
	}
	// Lower-is-better metrics are not adoption curves.
	if s := SuggestStage(series(365, 0, 0, logistic(100)), LowerIsBetter, StageGrowth); s.Stage != "" || s.Disagrees {
		t.Errorf("churn suggested %q", s.Stage)
	}
	// A recorded stage outside the market (development) is not flagged.
	if s := SuggestStage(series(365, 0.02, 1, logistic(540)), HigherIsBetter, StageDevelopment); s.Stage != StageGrowth || s.Disagrees {
		t.Errorf("development: got %q disagrees %v", s.Stage, s.Disagrees)
	}
}

func TestWeeklyMeansAndMovingAverage(t *testing.T) {
	d := func(day int) Date { return Date{time.Date(2026, 1, 1+day, 0, 0, 0, 0, time.UTC)} }
	// Out of order, a gap in week 2 carried from week 1.
	ps := []MetricPoint{{d(8), 4}, {d(0), 1}, {d(1), 3}, {d(21), 10}}
	got := WeeklyMeans(ps)
	want := []float64{2, 4, 4, 10}
	if len(got) != len(want) {
		t.Fatalf("weekly = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("weekly = %v, want %v", got, want)
		}
	}
	ma := MovingAverage([]float64{1, 2, 3, 4, 5}, 2)
	if len(ma) != 4 || ma[0] != 1.5 || ma[3] != 4.5 {
		t.Errorf("moving average = %v", ma)
	}
}

func TestCheckPoint(t *testing.T) {
	today := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		date  string
		value float64
		field string
	}{
		{"2026-03-10", 1, ""},
		{"2026-03-11", 1, "date"},
		{"10/03/2026", 1, "date"},
		{"2026-03-01", math.NaN(), "value"},
		{"2026-03-01", math.Inf(1), "value"},
	}
	for _, tt := range tests {
		_, err := CheckPoint(4, tt.date, tt.value, today)
		got := ""
		if err != nil {
			got = err.Field
			if !strings.HasPrefix(err.Message, "row 4: ") {
				t.Errorf("%s: message %q does not name the row", tt.date, err.Message)
			}
		}
		if got != tt.field {
			t.Errorf("%s %v: field %q, want %q", tt.date, tt.value, got, tt.field)
		}
	}
}

func TestDedupePoints(t *testing.T) {
	d := func(day int) Date { return Date{time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC)} }
	got, notes := DedupePoints([]MetricPoint{{d(3), 1}, {d(1), 2}, {d(3), 5}}, 2)
	if len(got) != 2 || got[0].Date != d(1) || got[1].Value != 5 {
		t.Errorf("deduped = %v", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "row 4 repeats 2026-01-03") {
		t.Errorf("notes = %q", notes)
	}
}

func TestMetricInput(t *testing.T) {
	in := MetricInput{Name: "Active users (daily)"}
	if err := in.Validate(); err != nil || in.Key != "active-users-daily" || in.Direction != HigherIsBetter {
		t.Errorf("got %+v, %v", in, err)
	}
	for _, bad := range []MetricInput{{Name: "x", Key: "Bad Key"}, {Name: "x", Direction: "sideways"}, {Name: ""}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}
