package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

func (f *fixture) role(r northstar.Role) context.Context { return f.as(f.users[r]) }

func (f *fixture) backlog(t *testing.T, ctx context.Context) []string {
	t.Helper()
	stories, err := f.app.Stories(ctx, "BOOK", northstar.StoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]string, len(stories))
	for i, s := range stories {
		refs[i] = s.Ref
	}
	return refs
}

func (f *fixture) story(t *testing.T, title string, mods ...func(*northstar.NewStory)) *northstar.Story {
	t.Helper()
	in := northstar.NewStory{Title: title}
	for _, m := range mods {
		m(&in)
	}
	s, err := f.app.CreateStory(f.role(northstar.RoleProductOwner), "BOOK", in)
	if err != nil {
		t.Fatalf("create %q: %v", title, err)
	}
	return s
}

func TestCreateStoriesNumbersAndOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po := f.role(northstar.RoleProductOwner)
		points := 5
		s1 := f.story(t, "Scan a barcode", func(n *northstar.NewStory) {
			n.Persona, n.Want, n.Benefit = "shop assistant", "to scan a book's barcode", "I find it in stock at once"
			n.Criteria = []string{"EAN-13 codes are read", "Unknown codes say so"}
			n.Points, n.Labels, n.Assignee = &points, []string{"mobile", "Mobile", " scanning "}, "developer@example.com"
		})
		if s1.Ref != "BOOK-1" || s1.Number != 1 || s1.Version != 1 || s1.Status != northstar.StatusNew || s1.Type != northstar.TypeStory {
			t.Errorf("first story = %+v", s1)
		}
		if !slices.Equal(s1.Labels, []string{"mobile", "scanning"}) {
			t.Errorf("labels = %q, want mobile and scanning once each", s1.Labels)
		}
		if !s1.IsReady() || s1.Assignee == nil || s1.Assignee.Email != "developer@example.com" {
			t.Errorf("story should be ready and assigned: %v %+v", s1.ReadyProblems(), s1.Assignee)
		}
		if got := s1.Sentence(); got != "As a shop assistant, I want to scan a book's barcode so that I find it in stock at once." {
			t.Errorf("sentence = %q", got)
		}
		s2 := f.story(t, "Second")
		s3 := f.story(t, "On top", func(n *northstar.NewStory) { n.Position = "top" })
		if got, want := f.backlog(t, po), []string{s3.Ref, s1.Ref, s2.Ref}; !slices.Equal(got, want) {
			t.Errorf("backlog = %v, want %v", got, want)
		}
		got, err := f.app.Story(f.role(northstar.RoleViewer), "book-1")
		if err != nil || got.Title != "Scan a barcode" || len(got.Criteria) != 2 || got.Criteria[0].Text != "EAN-13 codes are read" {
			t.Fatalf("read back: %+v %v", got, err)
		}
		// Non-members do not learn the story exists; developers cannot create.
		if _, err := f.app.Story(f.as(f.other), "BOOK-1"); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("non-member reads a story: %v", err)
		}
		if _, err := f.app.CreateStory(f.role(northstar.RoleDeveloper), "BOOK", northstar.NewStory{Title: "x"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer creates a story: %v", err)
		}
		if _, err := f.app.CreateStory(po, "BOOK", northstar.NewStory{Title: "x", Assignee: f.other.Email}); northstar.ErrorField(err) != "assignee" {
			t.Errorf("assigning a non-member: %v", err)
		}
	})
}

func TestStoryBadInputWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po := f.role(northstar.RoleProductOwner)
		seven := 7
		many := make([]string, northstar.MaxCriteria+1)
		for i := range many {
			many[i] = fmt.Sprintf("criterion %d", i)
		}
		tests := []struct {
			name  string
			in    northstar.NewStory
			field string
		}{
			{"empty title", northstar.NewStory{Title: "  "}, "title"},
			{"long title", northstar.NewStory{Title: strings.Repeat("t", northstar.MaxStoryTitleLen+1)}, "title"},
			{"points off scale", northstar.NewStory{Title: "x", Points: &seven}, "points"},
			{"bad type", northstar.NewStory{Title: "x", Type: "epic"}, "type"},
			{"bad status", northstar.NewStory{Title: "x", Status: "doing"}, "status"},
			{"too many criteria", northstar.NewStory{Title: "x", Criteria: many}, "criteria"},
			{"empty criterion", northstar.NewStory{Title: "x", Criteria: []string{" "}}, "criteria"},
			{"bad position", northstar.NewStory{Title: "x", Position: "middle"}, "position"},
			{"unknown assignee", northstar.NewStory{Title: "x", Assignee: "ghost@example.com"}, "assignee"},
		}
		for _, tt := range tests {
			if _, err := f.app.CreateStory(po, "BOOK", tt.in); northstar.ErrorField(err) != tt.field || northstar.ErrorCode(err) == northstar.EINTERNAL {
				t.Errorf("%s: got %v (field %q), want an error on %s", tt.name, err, northstar.ErrorField(err), tt.field)
			}
		}
		if n := len(f.backlog(t, po)); n != 0 {
			t.Errorf("%d stories written by bad input", n)
		}
		// A failed create does not use up a number.
		if s := f.story(t, "First"); s.Ref != "BOOK-1" {
			t.Errorf("first good story is %s", s.Ref)
		}
	})
}

// TestMoveWritesOneRow moves stories every way and checks the order and
// that each move changed exactly one row of the stories table.
func TestMoveWritesOneRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po := f.role(northstar.RoleProductOwner)
		var refs []string
		for i := 1; i <= 6; i++ {
			refs = append(refs, f.story(t, fmt.Sprintf("Story %d", i)).Ref)
		}
		moves := []struct {
			ref  string
			move northstar.Move
			want []int
		}{
			{"BOOK-3", northstar.Move{Position: "top"}, []int{3, 1, 2, 4, 5, 6}},
			{"BOOK-1", northstar.Move{Position: "bottom"}, []int{3, 2, 4, 5, 6, 1}},
			{"BOOK-6", northstar.Move{Before: "BOOK-2"}, []int{3, 6, 2, 4, 5, 1}},
			{"BOOK-3", northstar.Move{After: "BOOK-5"}, []int{6, 2, 4, 5, 3, 1}},
			{"BOOK-1", northstar.Move{Before: "book-6"}, []int{1, 6, 2, 4, 5, 3}},
			{"BOOK-3", northstar.Move{After: "BOOK-3"}, nil}, // refused
		}
		for _, m := range moves {
			before, err := db.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			rowsBefore, err := db.RowDigests(context.Background(), "stories")
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.app.MoveStory(po, m.ref, m.move)
			if m.want == nil {
				if northstar.ErrorCode(err) == "" || northstar.ErrorCode(err) == northstar.EINTERNAL {
					t.Errorf("move %s %+v: got %v, want a 4xx", m.ref, m.move, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("move %s %+v: %v", m.ref, m.move, err)
			}
			var want []string
			for _, n := range m.want {
				want = append(want, fmt.Sprintf("BOOK-%d", n))
			}
			if got := f.backlog(t, po); !slices.Equal(got, want) {
				t.Errorf("after moving %s %+v: %v, want %v", m.ref, m.move, got, want)
			}
			// A move changes the story's row, and appends one entry to
			// the activity log; nothing else.
			after, _ := db.Snapshot(context.Background())
			for table, sum := range after {
				if before[table] != sum && table != "stories" && table != "activity" {
					t.Errorf("move changed table %s", table)
				}
			}
			if before["stories"] == after["stories"] {
				t.Error("move did not change the stories table")
			}
			if acts, err := f.app.Activity(po, northstar.KindStory, m.ref, northstar.ActivityFilter{Limit: 1}); err != nil || len(acts) != 1 || acts[0].Action != "moved" {
				t.Errorf("move not logged: %+v %v", acts, err)
			}
			rowsAfter, err := db.RowDigests(context.Background(), "stories")
			if err != nil {
				t.Fatal(err)
			}
			written := 0
			for id, d := range rowsAfter {
				if rowsBefore[id] != d {
					written++
				}
			}
			if written != 1 || len(rowsAfter) != len(rowsBefore) {
				t.Errorf("move of %s wrote %d story rows (of %d), want exactly 1", m.ref, written, len(rowsAfter))
			}
		}
		// Relative to another product's story, or an unknown one.
		if _, err := f.app.CreateProduct(f.as(f.admin), northstar.NewProduct{Key: "EBOOK", Name: "Ebooks"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.CreateStory(f.as(f.admin), "EBOOK", northstar.NewStory{Title: "elsewhere"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.MoveStory(po, "BOOK-1", northstar.Move{Before: "EBOOK-7"}); northstar.ErrorField(err) != "before" {
			t.Errorf("move before another product's story: %v", err)
		}
		if _, err := f.app.MoveStory(po, "BOOK-1", northstar.Move{After: "BOOK-99"}); northstar.ErrorCode(err) != northstar.ENOTFOUND || northstar.ErrorField(err) != "after" {
			t.Errorf("move after an unknown story: %v", err)
		}
		if _, err := f.app.MoveStory(po, "BOOK-1", northstar.Move{Before: "BOOK-2", Position: "top"}); northstar.ErrorCode(err) != northstar.EINVALID {
			t.Errorf("two places at once: %v", err)
		}
		if _, err := f.app.MoveStory(f.role(northstar.RoleDeveloper), "BOOK-1", northstar.Move{Position: "top"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer moves: %v", err)
		}
	})
}

// TestRepeatedMovesRebalance moves a story between the same two stories
// many times; ranks grow, get rebalanced, and the order always holds.
func TestRepeatedMovesRebalance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po := f.role(northstar.RoleProductOwner)
		for i := 1; i <= 4; i++ {
			f.story(t, fmt.Sprintf("Story %d", i))
		}
		// Alternate two stories into the slot right after BOOK-1.
		for i := 0; i < 400; i++ {
			ref := []string{"BOOK-3", "BOOK-4"}[i%2]
			if _, err := f.app.MoveStory(po, ref, northstar.Move{After: "BOOK-1"}); err != nil {
				t.Fatalf("move %d: %v", i, err)
			}
		}
		got := f.backlog(t, po)
		if want := []string{"BOOK-1", "BOOK-4", "BOOK-3", "BOOK-2"}; !slices.Equal(got, want) {
			t.Errorf("backlog = %v, want %v", got, want)
		}
		stories, _ := f.app.Stories(po, "BOOK", northstar.StoryFilter{})
		for _, s := range stories {
			if len(s.Rank) > northstar.MaxRankLen+1 {
				t.Errorf("%s has a rank of %d characters: not rebalanced", s.Ref, len(s.Rank))
			}
		}
	})
}

func TestConcurrentMovesKeepOneOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po := f.role(northstar.RoleProductOwner)
		pm := f.role(northstar.RoleProductManager)
		for i := 1; i <= 10; i++ {
			f.story(t, fmt.Sprintf("Story %d", i))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				ctx := []context.Context{po, pm}[w%2]
				for i := 0; i < 10; i++ {
					ref := fmt.Sprintf("BOOK-%d", (w+i)%10+1)
					target := fmt.Sprintf("BOOK-%d", (w*3+i)%10+1)
					if ref == target {
						continue
					}
					if _, err := f.app.MoveStory(ctx, ref, northstar.Move{Before: target}); err != nil {
						errs <- err
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got := f.backlog(t, po)
		if len(got) != 10 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 10 {
			t.Errorf("backlog after concurrent moves: %v", got)
		}
	})
}

func TestAcceptanceAndRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po, dev, pm := f.role(northstar.RoleProductOwner), f.role(northstar.RoleDeveloper), f.role(northstar.RoleProductManager)
		s := f.story(t, "Reorder suggestions", func(n *northstar.NewStory) {
			n.Criteria = []string{"Shows titles below the threshold", "Suggests quantities"}
		})
		yes, no := true, false
		accept := northstar.StoryUpdate{Accepted: &yes}
		if _, err := f.app.UpdateStory(po, s.Ref, 0, accept); northstar.ErrorCode(err) != northstar.EUNPROCESSABLE {
			t.Fatalf("accept with unmet criteria: %v", err)
		}
		// Developers work on the story: status, points, tasks, criteria met.
		inProgress, eight := northstar.StatusInProgress, 8
		s, err := f.app.UpdateStory(dev, s.Ref, s.Version, northstar.StoryUpdate{Status: &inProgress, Points: northstar.Optional[int]{Set: true, Value: eight}})
		if err != nil {
			t.Fatalf("developer sets status and points: %v", err)
		}
		if s, _, err = f.app.AddTask(dev, s.Ref, s.Version, "Write the query", "developer@example.com"); err != nil {
			t.Fatalf("developer adds a task: %v", err)
		}
		for _, c := range s.Criteria {
			if s, err = f.app.UpdateCriterion(dev, s.Ref, 0, c.ID, nil, &yes); err != nil {
				t.Fatalf("developer marks a criterion met: %v", err)
			}
		}
		title := "Renamed"
		if _, err := f.app.UpdateStory(dev, s.Ref, 0, northstar.StoryUpdate{Title: &title}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer renames: %v", err)
		}
		if _, err := f.app.UpdateStory(dev, s.Ref, 0, accept); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer accepts: %v", err)
		}
		if _, err := f.app.UpdateStory(pm, s.Ref, 0, accept); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("product manager accepts: %v", err)
		}
		if _, err := f.app.UpdateStory(f.role(northstar.RoleStakeholder), s.Ref, 0, northstar.StoryUpdate{Status: &inProgress}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("stakeholder changes status: %v", err)
		}
		// The PO accepts: status becomes done.
		s, err = f.app.UpdateStory(po, s.Ref, s.Version, accept)
		if err != nil {
			t.Fatalf("PO accepts: %v", err)
		}
		if !s.Accepted || s.Status != northstar.StatusDone || s.AcceptedBy == nil || s.AcceptedBy.Email != "product_owner@example.com" || s.AcceptedAt == nil {
			t.Errorf("accepted story = %+v", s)
		}
		// A stale version is refused and changes nothing.
		if _, err := f.app.UpdateStory(po, s.Ref, s.Version-1, northstar.StoryUpdate{Title: &title}); northstar.ErrorCode(err) != northstar.ECONFLICT {
			t.Errorf("stale update: %v", err)
		}
		// Unmeeting a criterion withdraws the acceptance.
		s, err = f.app.UpdateCriterion(dev, s.Ref, 0, s.Criteria[0].ID, nil, &no)
		if err != nil || s.Accepted {
			t.Errorf("after unmeeting a criterion: accepted=%v err=%v", s.Accepted, err)
		}
		got, _ := f.app.Story(po, s.Ref)
		if got.Accepted || got.Version != s.Version {
			t.Errorf("stored story: accepted=%v version %d vs %d", got.Accepted, got.Version, s.Version)
		}
	})
}

func TestFiltersAndSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po := f.role(northstar.RoleProductOwner)
		three := 3
		f.story(t, "Barcode scanning on phones", func(n *northstar.NewStory) {
			n.Labels, n.Assignee, n.Points = []string{"mobile"}, "developer@example.com", &three
			n.Criteria = []string{"Works with the café's old scanner"}
		})
		f.story(t, "Weekly stock report", func(n *northstar.NewStory) {
			n.Type = northstar.TypeTask
			n.Description = "Email the *report* every Monday"
		})
		f.story(t, "Crash when scanning twice", func(n *northstar.NewStory) { n.Type = northstar.TypeBug; n.Status = northstar.StatusInProgress })
		count := func(f2 northstar.StoryFilter) int {
			t.Helper()
			ss, err := f.app.Stories(po, "BOOK", f2)
			if err != nil {
				t.Fatalf("filter %+v: %v", f2, err)
			}
			return len(ss)
		}
		tests := []struct {
			name   string
			filter northstar.StoryFilter
			want   int
		}{
			{"all", northstar.StoryFilter{}, 3},
			{"bugs", northstar.StoryFilter{Types: []northstar.StoryType{northstar.TypeBug}}, 1},
			{"in progress or new", northstar.StoryFilter{Statuses: []northstar.StoryStatus{northstar.StatusNew, northstar.StatusInProgress}}, 3},
			{"assignee", northstar.StoryFilter{Assignee: "developer@example.com"}, 1},
			{"unassigned", northstar.StoryFilter{Assignee: "none"}, 2},
			{"nobody by that address", northstar.StoryFilter{Assignee: "ghost@example.com"}, 0},
			{"label", northstar.StoryFilter{Label: "mobile"}, 1},
			{"label in other case", northstar.StoryFilter{Label: "MOBILE"}, 1},
			{"unestimated", northstar.StoryFilter{Unestimated: true}, 2},
			{"not ready", northstar.StoryFilter{NotReady: true}, 3},
			{"text prefix", northstar.StoryFilter{Query: "scan"}, 2},
			{"text in description", northstar.StoryFilter{Query: "monday"}, 1},
			{"text in criteria, accents ignored", northstar.StoryFilter{Query: "cafe"}, 1},
			{"text, two words", northstar.StoryFilter{Query: "scanning crash"}, 1},
			{"text, only punctuation", northstar.StoryFilter{Query: "*:&!"}, 0},
			{"limit", northstar.StoryFilter{Limit: 2}, 2},
		}
		for _, tt := range tests {
			if got := count(tt.filter); got != tt.want {
				t.Errorf("%s: %d stories, want %d", tt.name, got, tt.want)
			}
		}
		res, err := f.app.Search(po, "scan", 10)
		if err != nil || len(res) != 2 {
			t.Fatalf("search: %v %v", res, err)
		}
		if res[0].Title != "Barcode scanning on phones" && res[0].Title != "Crash when scanning twice" {
			t.Errorf("search results: %+v", res)
		}
		// Editing reindexes; deleting removes.
		title := "Inventory export"
		if _, err := f.app.UpdateStory(po, "BOOK-2", 0, northstar.StoryUpdate{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if n := count(northstar.StoryFilter{Query: "inventory"}); n != 1 {
			t.Errorf("after rename, %d matches", n)
		}
		if err := f.app.DeleteStory(po, "BOOK-1", 0); err != nil {
			t.Fatal(err)
		}
		if res, _ := f.app.Search(po, "barcode", 10); len(res) != 0 {
			t.Errorf("deleted story still found: %+v", res)
		}
		// Search covers only products the user can read.
		if res, _ := f.app.Search(f.as(f.other), "scanning", 10); len(res) != 0 {
			t.Errorf("non-member finds %d stories", len(res))
		}
		if res, _ := f.app.Search(f.as(f.admin), "scanning", 10); len(res) != 1 {
			t.Errorf("admin finds %d stories, want 1", len(res))
		}
	})
}

func TestBulkUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po, dev := f.role(northstar.RoleProductOwner), f.role(northstar.RoleDeveloper)
		for i := 1; i <= 5; i++ {
			f.story(t, fmt.Sprintf("Story %d", i), func(n *northstar.NewStory) { n.Labels = []string{"old"} })
		}
		ready := northstar.StatusReady
		out, err := f.app.BulkUpdateStories(po, northstar.BulkUpdate{Refs: []string{"BOOK-1", "BOOK-2", "book-3"}, Status: &ready, AddLabels: []string{"q3"}, RemoveLabels: []string{"OLD"}})
		if err != nil || len(out) != 3 {
			t.Fatalf("bulk: %d %v", len(out), err)
		}
		s, _ := f.app.Story(po, "BOOK-3")
		if s.Status != northstar.StatusReady || !slices.Equal(s.Labels, []string{"q3"}) || s.Version != 2 {
			t.Errorf("after bulk: %+v", s)
		}
		// One unknown ref: nothing changes.
		done := northstar.StatusDone
		_, err = f.app.BulkUpdateStories(po, northstar.BulkUpdate{Refs: []string{"BOOK-4", "BOOK-99"}, Status: &done})
		if northstar.ErrorCode(err) != northstar.ENOTFOUND || northstar.ErrorField(err) != "refs[1]" {
			t.Errorf("bulk with unknown ref: %v", err)
		}
		if s, _ := f.app.Story(po, "BOOK-4"); s.Status != northstar.StatusNew {
			t.Errorf("BOOK-4 changed by a failed bulk update: %s", s.Status)
		}
		if _, err := f.app.BulkUpdateStories(dev, northstar.BulkUpdate{Refs: []string{"BOOK-4"}, AddLabels: []string{"x"}}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer bulk-labels: %v", err)
		}
		if _, err := f.app.BulkUpdateStories(dev, northstar.BulkUpdate{Refs: []string{"BOOK-4"}, Status: &done}); err != nil {
			t.Errorf("developer bulk-status: %v", err)
		}
		refs := make([]string, northstar.MaxBulkRefs+1)
		for i := range refs {
			refs[i] = "BOOK-1"
		}
		if _, err := f.app.BulkUpdateStories(po, northstar.BulkUpdate{Refs: refs, Status: &done}); northstar.ErrorField(err) != "refs" {
			t.Errorf("bulk over the limit: %v", err)
		}
	})
}
