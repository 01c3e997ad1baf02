package northstar

import (
	"math/rand/v2"
	"testing"
	"time"
)

func day(n int) time.Time { return time.Date(2026, 3, 2+n, 12, 0, 0, 0, time.UTC) }

func pts(n int) *int { return &n }

func TestComputeBurndown(t *testing.T) {
	closed := day(4)
	s := &Sprint{ID: 7, Start: Date{day(0).Truncate(24 * time.Hour)}, End: Date{day(4).Truncate(24 * time.Hour)}, Status: SprintClosed, CommittedPoints: 10, ClosedAt: &closed}
	events := []StoryEvent{
		{StoryID: 1, SprintID: 7, Kind: "sprint", Status: StatusNew, Points: pts(5), At: day(-1)},
		{StoryID: 2, SprintID: 7, Kind: "sprint", Status: StatusNew, Points: pts(5), At: day(-1)},
		{StoryID: 1, SprintID: 7, Kind: "status", Status: StatusDone, Points: pts(5), At: day(1)},
		{StoryID: 3, SprintID: 7, Kind: "sprint", Status: StatusNew, Points: pts(3), At: day(2)}, // scope added
		{StoryID: 2, SprintID: 7, Kind: "points", Status: StatusNew, Points: pts(8), At: day(3)}, // re-estimated
		{StoryID: 3, SprintID: 0, Kind: "sprint", Status: StatusNew, Points: pts(3), At: day(4)}, // removed
	}
	b := ComputeBurndown(s, events, day(10))
	want := []struct{ scope, remaining, completed float64 }{{10, 10, 0}, {10, 5, 5}, {13, 8, 5}, {16, 11, 5}, {13, 8, 5}}
	if len(b.Remaining) != len(want) {
		t.Fatalf("%d days, want %d", len(b.Remaining), len(want))
	}
	for i, w := range want {
		if b.Scope[i].Value != w.scope || b.Remaining[i].Value != w.remaining || b.Completed[i].Value != w.completed {
			t.Errorf("day %d: scope %v remaining %v completed %v, want %+v", i, b.Scope[i].Value, b.Remaining[i].Value, b.Completed[i].Value, w)
		}
	}
	if len(b.ScopeChanges) != 3 || b.ScopeChanges[0].Value != 3 || b.ScopeChanges[2].Value != -3 {
		t.Errorf("scope changes = %+v", b.ScopeChanges)
	}
	if b.Ideal[0].Value != 10 || b.Ideal[4].Value != 0 || b.Ideal[2].Value != 5 {
		t.Errorf("ideal = %+v", b.Ideal)
	}
	// An active sprint is drawn up to today only.
	s.Status, s.ClosedAt = SprintActive, nil
	if b := ComputeBurndown(s, events, day(1)); len(b.Remaining) != 2 {
		t.Errorf("active sprint drawn for %d days, want 2", len(b.Remaining))
	}
	flow := ComputeFlow(events, map[int64]bool{7: true}, day(0).Truncate(24*time.Hour), day(4).Truncate(24*time.Hour))
	if len(flow) != 5 || flow[1].Counts[StatusDone] != 1 || flow[3].Counts[StatusNew] != 2 || flow[4].Counts[StatusNew] != 1 {
		t.Errorf("flow = %+v", flow)
	}
}

func TestAvailability(t *testing.T) {
	ms := []*TeamMember{{Capacity: 100}, {Capacity: 50, DaysOff: 5}, {Capacity: 100, DaysOff: 20}}
	// 10 working days: 10 + 2.5 + 0 of 30.
	if got := Availability(ms, 10); got != 12.5/30 {
		t.Errorf("availability = %v", got)
	}
	if Availability(nil, 10) != 0 {
		t.Error("no members should give 0")
	}
}

// syntheticSprint builds a sprint of 300 stories with 5,000 changes.
func syntheticSprint() (*Sprint, []StoryEvent) {
	r := rand.New(rand.NewPCG(3, 4))
	s := &Sprint{ID: 1, Start: Date{time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}, End: Date{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)}, Status: SprintActive, CommittedPoints: 900}
	var events []StoryEvent
	for i := 0; i < 300; i++ {
		events = append(events, StoryEvent{StoryID: int64(i), SprintID: 1, Kind: "sprint", Status: StatusNew, Points: pts(PointScale[r.IntN(6)]), At: s.Start.Add(-time.Hour)})
	}
	for len(events) < 5000 {
		e := events[r.IntN(300)]
		e.Kind, e.Status, e.At = "status", StoryStatuses[r.IntN(len(StoryStatuses))], s.Start.Add(time.Duration(r.IntN(13*24))*time.Hour)
		events = append(events, e)
	}
	return s, events
}

func BenchmarkBurndown300Stories5000Events(b *testing.B) {
	s, events := syntheticSprint()
	now := s.End.Add(48 * time.Hour)
	for b.Loop() {
		ev := make([]StoryEvent, len(events))
		copy(ev, events)
		ComputeBurndown(s, ev, now)
	}
}
