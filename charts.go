package northstar

import (
	"slices"
	"time"
)

// storyState is a story's state replayed from its history.
type storyState struct {
	sprint  int64
	status  StoryStatus
	points  int
	deleted bool
}

// replay walks events (oldest first) and calls day for the end of each day
// from first to last, with every story's state at that moment.
func replay(events []StoryEvent, first, last time.Time, day func(d time.Time, states map[int64]*storyState)) {
	// Order by time, keeping the given order for equal times; sorting
	// indexes is far cheaper than moving the events around.
	order := make([]int32, len(events))
	for i := range order {
		order[i] = int32(i)
	}
	if !slices.IsSortedFunc(events, func(a, b StoryEvent) int { return a.At.Compare(b.At) }) {
		slices.SortFunc(order, func(a, b int32) int {
			if c := events[a].At.Compare(events[b].At); c != 0 {
				return c
			}
			return int(a - b)
		})
	}
	states := map[int64]*storyState{}
	i := 0
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		end := d.AddDate(0, 0, 1)
		for ; i < len(order) && events[order[i]].At.Before(end); i++ {
			e := &events[order[i]]
			st := states[e.StoryID]
			if st == nil {
				st = &storyState{}
				states[e.StoryID] = st
			}
			st.sprint, st.status, st.deleted = e.SprintID, e.Status, e.Kind == "deleted"
			st.points = 0
			if e.Points != nil {
				st.points = *e.Points
			}
		}
		day(d, states)
	}
}

// ComputeBurndown draws a sprint's burndown and burn-up from the history of
// its stories: for each day up to today (or the end), the points in scope,
// remaining and completed at the end of that day. The ideal line runs from
// the committed points to zero.
func ComputeBurndown(s *Sprint, events []StoryEvent, today time.Time) *Burndown {
	b := &Burndown{Sprint: s, Remaining: []ChartPoint{}, Ideal: []ChartPoint{}, Completed: []ChartPoint{}, Scope: []ChartPoint{}, ScopeChanges: []ChartPoint{}}
	days := s.Days()
	if len(days) == 0 {
		return b
	}
	committed := float64(s.CommittedPoints)
	for i, d := range days {
		ideal := committed
		if len(days) > 1 {
			ideal = committed * float64(len(days)-1-i) / float64(len(days)-1)
		}
		b.Ideal = append(b.Ideal, ChartPoint{Day: Date{d}, Value: ideal})
	}
	if s.Status == SprintPlanned {
		return b
	}
	last := days[len(days)-1]
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if s.Status == SprintActive && today.Before(last) {
		last = today
	}
	if s.ClosedAt != nil {
		closed := time.Date(s.ClosedAt.Year(), s.ClosedAt.Month(), s.ClosedAt.Day(), 0, 0, 0, 0, time.UTC)
		if closed.Before(last) {
			last = closed
		}
	}
	if last.Before(days[0]) {
		last = days[0]
	}
	prevScope := -1.0
	replay(events, days[0], last, func(d time.Time, states map[int64]*storyState) {
		var scope, done float64
		for _, st := range states {
			if st.deleted || st.sprint != s.ID {
				continue
			}
			scope += float64(st.points)
			if st.status == StatusDone {
				done += float64(st.points)
			}
		}
		day := Date{d}
		b.Scope = append(b.Scope, ChartPoint{Day: day, Value: scope})
		b.Remaining = append(b.Remaining, ChartPoint{Day: day, Value: scope - done})
		b.Completed = append(b.Completed, ChartPoint{Day: day, Value: done})
		if prevScope >= 0 && scope != prevScope {
			b.ScopeChanges = append(b.ScopeChanges, ChartPoint{Day: day, Value: scope - prevScope})
		}
		prevScope = scope
	})
	return b
}

// ComputeFlow counts, for each day from first to last, the stories of the
// given sprints per status at the end of the day: a cumulative flow diagram.
func ComputeFlow(events []StoryEvent, sprints map[int64]bool, first, last time.Time) []FlowDay {
	var out []FlowDay
	replay(events, first, last, func(d time.Time, states map[int64]*storyState) {
		counts := map[StoryStatus]int{}
		for _, s := range StoryStatuses {
			counts[s] = 0
		}
		for _, st := range states {
			if !st.deleted && sprints[st.sprint] {
				counts[st.status]++
			}
		}
		out = append(out, FlowDay{Day: Date{d}, Counts: counts})
	})
	return out
}
