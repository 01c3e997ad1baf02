package northstar

import (
	"testing"
	"time"
)

func TestAlignmentPicksAndSums(t *testing.T) {
	d := func(n int) Date { return Date{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)} }
	sprints := []*AlignmentSprint{
		{ID: 1, TeamID: 1, Status: "closed", End: d(14)},
		{ID: 2, TeamID: 1, Status: "closed", End: d(28)},
		{ID: 3, TeamID: 1, Status: "closed", End: d(42)},
		{ID: 4, TeamID: 1, Status: "active", End: d(56)},
		{ID: 5, TeamID: 1, Status: "planned", End: d(70)},
		{ID: 6, TeamID: 1, Status: "planned", End: d(84)},
		{ID: 7, TeamID: 2, Status: "closed", End: d(10)},
	}
	closed, upcoming := PickAlignmentSprints(sprints, 2)
	ids := func(ss []*AlignmentSprint) (out []int64) {
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	if got := ids(closed); len(got) != 3 || got[0] != 3 || got[1] != 2 || got[2] != 7 {
		t.Errorf("closed = %v, want 3 2 7 (team 1's last two, team 2's one)", got)
	}
	if got := ids(upcoming); len(got) != 2 || got[0] != 5 || got[1] != 4 {
		t.Errorf("upcoming = %v, want 5 4 (the active and next planned only)", got)
	}
	items := []*AlignmentItem{
		{ProductKey: "A", Ref: "A-1", Points: 5, Done: true, SprintID: 3, Objectives: 1},
		{ProductKey: "A", Ref: "A-2", Points: 3, Done: true, SprintID: 2},
		{ProductKey: "A", Ref: "A-3", Points: 8, Done: false, SprintID: 3},                // not delivered
		{ProductKey: "B", Ref: "B-1", Points: 13, Done: true, SprintID: 1, Objectives: 2}, // too old
		{ProductKey: "B", Ref: "B-2", Points: 2, SprintID: 4},
		{ProductKey: "B", Ref: "B-3", Points: 0, SprintID: 4}, // no points: no orphan
	}
	a := ComputeAlignment("", 2, closed, upcoming, items)
	if a.Delivered != (AlignmentShare{Points: 8, Aligned: 5, Share: 5.0 / 8}) || a.Delivered.Percent() != "63 %" {
		t.Errorf("delivered = %+v", a.Delivered)
	}
	if a.Planned.Points != 2 || a.Planned.Aligned != 0 || a.Planned.Percent() != "0 %" {
		t.Errorf("planned = %+v", a.Planned)
	}
	if len(a.Orphans) != 2 || a.Orphans[0].Ref != "A-2" || a.Orphans[1].Ref != "B-2" {
		t.Errorf("orphans = %v", a.Orphans)
	}
	if len(a.ByProduct) != 2 || (AlignmentShare{}).Percent() != "—" {
		t.Errorf("by product = %v", a.ByProduct)
	}
}
