package northstar

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func sprintsAt(t *testing.T, f *SprintsForecast) []int {
	t.Helper()
	var out []int
	for _, c := range f.Sprints {
		if c.Sprints == nil {
			out = append(out, -1)
		} else {
			out = append(out, *c.Sprints)
		}
	}
	return out
}

func TestForecastSprintsConstantHistory(t *testing.T) {
	sim := &Simulation{History: []float64{10, 10, 10, 10, 10}, Unit: UnitPoints}
	tests := []struct {
		remaining float64
		want      int
	}{{0, 0}, {1, 1}, {10, 1}, {10.5, 2}, {35, 4}, {40, 4}, {2000, 200}}
	for _, tt := range tests {
		f, err := sim.ForecastSprints(tt.remaining)
		if err != nil {
			t.Fatal(err)
		}
		if got := sprintsAt(t, f); !reflect.DeepEqual(got, []int{tt.want, tt.want, tt.want}) {
			t.Errorf("remaining %v: sprints at 50/85/95 %% = %v, want %d each", tt.remaining, got, tt.want)
		}
	}
	f, _ := sim.ForecastSprints(2001)
	if got := sprintsAt(t, f); !reflect.DeepEqual(got, []int{-1, -1, -1}) {
		t.Errorf("beyond the horizon: %v, want none", got)
	}
	if f.Basis.Thin || f.Basis.Mean != 10 || f.Basis.Trials != ForecastTrials {
		t.Errorf("basis = %+v", f.Basis)
	}
}

// A team finishes 10 points in four sprints out of five and nothing in the
// fifth. Twenty points need two good sprints, so the sprints needed follow
// a negative binomial: P(≤2) = 0.8² = 0.64, P(≤3) = 0.896,
// P(≤4) = 1 − 0.2⁴ − 4·0.8·0.2³ = 0.9728. So 2 sprints at 50 %, 3 at 85 %
// and 4 at 95 %.
func TestForecastSprintsStalledSprints(t *testing.T) {
	sim := &Simulation{History: []float64{10, 0, 10, 10, 10}, Unit: UnitPoints}
	f, err := sim.ForecastSprints(20)
	if err != nil {
		t.Fatal(err)
	}
	if got := sprintsAt(t, f); !reflect.DeepEqual(got, []int{2, 3, 4}) {
		t.Errorf("sprints at 50/85/95 %% = %v, want [2 3 4]", got)
	}

	w, err := sim.ForecastWork(2)
	if err != nil {
		t.Fatal(err)
	}
	// Two sprints finish 20 with chance 0.64, 10 with 0.32, 0 with 0.04.
	want := []ConfidenceAt{{50, 20}, {85, 10}, {95, 10}}
	if !reflect.DeepEqual(w.Done, want) {
		t.Errorf("done in two sprints = %v, want %v", w.Done, want)
	}
	for _, tt := range []struct{ amount, want float64 }{{20, 0.64}, {10, 0.96}, {0, 1}, {21, 0}} {
		if got := w.Chance(tt.amount); math.Abs(got-tt.want) > 0.015 {
			t.Errorf("chance of %v = %.3f, want %.2f", tt.amount, got, tt.want)
		}
	}

	d, err := sim.ForecastDelivery(10)
	if err != nil {
		t.Fatal(err)
	}
	if d.Low != 0 || d.Likely != 10 || d.High != 10 || math.Abs(d.ChanceAll-0.8) > 0.015 {
		t.Errorf("delivery = %+v, want 0 … 10, likely 10, all with chance 0.8", d)
	}
}

func TestForecastWorkAndDeliveryConstantHistory(t *testing.T) {
	sim := &Simulation{History: []float64{6, 6, 6, 6, 6, 6}, Unit: UnitStories}
	w, err := sim.ForecastWork(3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []ConfidenceAt{{50, 18}, {85, 18}, {95, 18}}; !reflect.DeepEqual(w.Done, want) {
		t.Errorf("done = %v, want %v", w.Done, want)
	}
	if w.Chance(18) != 1 || w.Chance(18.5) != 0 {
		t.Errorf("chance of 18 = %v, of 18.5 = %v; want 1 and 0", w.Chance(18), w.Chance(18.5))
	}
	for _, tt := range []struct {
		commit, low, likely, high, all float64
	}{{4, 4, 4, 4, 1}, {6, 6, 6, 6, 1}, {9, 6, 6, 6, 0}, {0, 0, 0, 0, 1}} {
		d, err := sim.ForecastDelivery(tt.commit)
		if err != nil {
			t.Fatal(err)
		}
		if d.Low != tt.low || d.Likely != tt.likely || d.High != tt.high || d.ChanceAll != tt.all {
			t.Errorf("commit %v: %+v, want %v … %v (likely %v), all with chance %v", tt.commit, d, tt.low, tt.high, tt.likely, tt.all)
		}
	}
}

// With commitments, a delivery forecast resamples shares: a team that
// delivered all it committed in four sprints out of five and half in the
// fifth delivers all of 10 with chance 0.8 and 5 otherwise, and may go
// past a commitment when it took in more work before.
func TestForecastDeliveryByShare(t *testing.T) {
	sim := &Simulation{History: []float64{8, 8, 8, 8, 4}, Committed: []float64{8, 8, 8, 8, 8}, Unit: UnitPoints}
	d, err := sim.ForecastDelivery(10)
	if err != nil {
		t.Fatal(err)
	}
	if !d.ByShare || d.Low != 5 || d.Likely != 10 || d.High != 10 || math.Abs(d.ChanceAll-0.8) > 0.015 {
		t.Errorf("delivery = %+v, want 5 … 10, likely 10, all with chance 0.8", d)
	}
	over := &Simulation{History: []float64{12, 12, 12, 12, 12, 0}, Committed: []float64{10, 10, 10, 10, 10, 0}, Unit: UnitPoints}
	if d, _ := over.ForecastDelivery(20); d.Likely != 24 || d.ChanceAll != 1 {
		t.Errorf("a team delivering 120 %%: %+v, want 24 of 20", d)
	}
	// Nothing ever committed: back to the amounts, capped.
	none := &Simulation{History: []float64{6, 6, 6, 6, 6}, Committed: []float64{0, 0, 0, 0, 0}, Unit: UnitPoints}
	if d, _ := none.ForecastDelivery(4); d.ByShare || d.Likely != 4 {
		t.Errorf("no commitments: %+v, want amounts, 4 of 4", d)
	}
	bad := &Simulation{History: []float64{6, 6}, Committed: []float64{1}, Unit: UnitPoints}
	if _, err := bad.ForecastDelivery(4); ErrorField(err) != "committed" {
		t.Errorf("mismatched commitments: %v, want a committed field error", err)
	}
}

func TestForecastThinHistoryWidens(t *testing.T) {
	thin := &Simulation{History: []float64{10}, Unit: UnitPoints}
	f, err := thin.ForecastSprints(50)
	if err != nil {
		t.Fatal(err)
	}
	got := sprintsAt(t, f)
	if got[0] < 4 || got[0] > 6 || got[2] < 8 {
		t.Errorf("thin history: sprints %v, want about 5 at 50 %% widening to 8 or more at 95 %%", got)
	}
	if !f.Basis.Thin || !strings.Contains(f.Basis.Note, "Only 1 closed sprint") {
		t.Errorf("basis = %+v, want a thin-history note", f.Basis)
	}
	var prevWidth int
	for n := 1; n <= MinForecastHistory; n++ {
		h := make([]float64, n)
		for i := range h {
			h[i] = 10
		}
		f, _ := (&Simulation{History: h, Unit: UnitPoints}).ForecastSprints(50)
		s := sprintsAt(t, f)
		width := s[2] - s[0]
		if n > 1 && width > prevWidth {
			t.Errorf("%d sprints: width %d is more than with %d (%d)", n, width, n-1, prevWidth)
		}
		prevWidth = width
	}
	if prevWidth != 0 {
		t.Errorf("%d equal sprints: width %d, want 0", MinForecastHistory, prevWidth)
	}
}

func TestForecastIsSeeded(t *testing.T) {
	h := []float64{3, 8, 13, 5, 21, 2, 9}
	a, _ := (&Simulation{History: h, Unit: UnitPoints}).ForecastWork(4)
	b, _ := (&Simulation{History: h, Unit: UnitPoints}).ForecastWork(4)
	if !reflect.DeepEqual(a.Done, b.Done) {
		t.Errorf("same seed, different forecasts: %v and %v", a.Done, b.Done)
	}
	c, _ := (&Simulation{History: h, Unit: UnitPoints, Trials: 100_000, Seed: 7}).ForecastWork(4)
	for i := range a.Done {
		if math.Abs(a.Done[i].Value-c.Done[i].Value) > 2 {
			t.Errorf("seed changes the %d %% forecast by more than 2: %v and %v", a.Done[i].Confidence, a.Done, c.Done)
		}
	}
}

func TestForecastErrors(t *testing.T) {
	tests := []struct {
		name  string
		sim   Simulation
		run   func(*Simulation) error
		code  string
		field string
	}{
		{"no history", Simulation{Unit: UnitPoints}, func(s *Simulation) error { _, err := s.ForecastSprints(10); return err }, EUNPROCESSABLE, ""},
		{"nothing done", Simulation{History: []float64{0, 0}, Unit: UnitPoints}, func(s *Simulation) error { _, err := s.ForecastWork(2); return err }, EUNPROCESSABLE, ""},
		{"negative history", Simulation{History: []float64{5, -1}, Unit: UnitPoints}, func(s *Simulation) error { _, err := s.ForecastWork(2); return err }, EINVALID, "history"},
		{"bad unit", Simulation{History: []float64{5}, Unit: "hours"}, func(s *Simulation) error { _, err := s.ForecastWork(2); return err }, EINVALID, "unit"},
		{"negative remaining", Simulation{History: []float64{5}, Unit: UnitPoints}, func(s *Simulation) error { _, err := s.ForecastSprints(-1); return err }, EINVALID, "remaining"},
		{"too many sprints", Simulation{History: []float64{5}, Unit: UnitPoints}, func(s *Simulation) error { _, err := s.ForecastWork(MaxForecastSprints + 1); return err }, EINVALID, "sprints"},
		{"NaN commitment", Simulation{History: []float64{5}, Unit: UnitPoints}, func(s *Simulation) error { _, err := s.ForecastDelivery(math.NaN()); return err }, EINVALID, "commitment"},
	}
	for _, tt := range tests {
		err := tt.run(&tt.sim)
		if ErrorCode(err) != tt.code || ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want code %s field %q", tt.name, err, tt.code, tt.field)
		}
	}
}

func TestSprintDates(t *testing.T) {
	first, _ := ParseDate("d", "2026-03-02")
	if got := SprintEnd(first, 14, 1).String(); got != "2026-03-15" {
		t.Errorf("end of sprint 1 = %s", got)
	}
	if got := SprintEnd(first, 14, 3).String(); got != "2026-04-12" {
		t.Errorf("end of sprint 3 = %s", got)
	}
	for _, tt := range []struct {
		by   string
		want int
	}{{"2026-03-01", 0}, {"2026-03-14", 0}, {"2026-03-15", 1}, {"2026-03-28", 1}, {"2026-03-29", 2}} {
		by, _ := ParseDate("d", tt.by)
		if got := SprintsBy(first, 14, by); got != tt.want {
			t.Errorf("sprints by %s = %d, want %d", tt.by, got, tt.want)
		}
	}
	sim := &Simulation{History: []float64{10, 10, 10, 10, 10}, Unit: UnitPoints}
	f, _ := sim.ForecastSprints(25)
	f.Date(first, 14)
	for _, c := range f.Sprints {
		if c.Date.String() != "2026-04-12" {
			t.Errorf("%d %%: date %s, want 2026-04-12", c.Confidence, c.Date)
		}
	}
}

func BenchmarkForecastSprints(b *testing.B) {
	sim := &Simulation{History: []float64{3, 8, 13, 5, 21, 2, 9, 12}, Unit: UnitPoints}
	for b.Loop() {
		sim.ForecastSprints(300)
	}
}
