package app

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// TestSuggestionAtScale seeds a product with 20,000 stories and asks for
// suggestions the way the story page does: the first trains the model
// (the issue allows seconds), the next ones reuse it (the issue allows
// 20 ms each), and estimating a story makes the next one retrain.
func TestSuggestionAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	ctx := context.Background()
	po := f.as(f.users[northstar.RoleProductOwner])
	p, err := f.app.Product(po, "BOOK")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	ranks, err := northstar.RanksBetween("", "", n)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("book shelf stock order supplier invoice barcode scan search author title isbn price discount customer report export import sync branch transfer alert label print receipt till sale return refund")
	text := func(k int) string {
		var b strings.Builder
		for range k {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		return b.String()
	}
	stories := make([]*northstar.Story, n)
	for i := range stories {
		pts := northstar.PointScale[1+r.IntN(6)]
		stories[i] = &northstar.Story{ProductID: p.ID, ProductKey: p.Key, Number: i + 1, Rank: ranks[i], Type: northstar.TypeStory,
			Status: northstar.StatusNew, Title: text(5), Description: text(30), Points: &pts}
	}
	for i := 3; i < n; i += 4 {
		stories[i].Points = nil // a quarter of the backlog unestimated
	}
	stories[n-1].Points = nil
	seeder, err := db.NewSeeder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 2000 {
		if err := seeder.Add(ctx, stories[i:i+2000]); err != nil {
			t.Fatal(err)
		}
	}
	if err := seeder.Close(ctx); err != nil {
		t.Fatal(err)
	}

	ref := northstar.FormatRef("BOOK", n)
	start := time.Now()
	s, err := f.app.Suggestion(po, ref)
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	if s.Suggestion.TrainedOn != n*3/4 || s.Suggestion.Points == nil {
		t.Fatalf("suggestion = %+v, want one from %d stories", s.Suggestion, n*3/4)
	}
	const reads = 20
	start = time.Now()
	for range reads {
		if _, err := f.app.Suggestion(po, ref); err != nil {
			t.Fatal(err)
		}
	}
	cached := time.Since(start) / reads
	trainings := f.app.EstimateTrainings()
	t.Logf("%d stories: first suggestion (loading and training) %v, then %v each", n, first, cached)
	if first > 10*time.Second || cached > 20*time.Millisecond {
		t.Errorf("first suggestion %v (limit 10 s), cached %v (limit 20 ms)", first, cached)
	}
	// The whole backlog's forecast counts 5,000 unestimated stories.
	start = time.Now()
	fc, err := f.app.StoriesForecast(po, "BOOK", nil, ForecastOptions{})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("forecast of the whole backlog (%d stories, %d unestimated) %v", fc.Stories, len(fc.Assumed), took)
	if len(fc.Assumed) != n/4 || took > 5*time.Second {
		t.Errorf("backlog forecast assumed %d stories in %v, want %d within 5 s", len(fc.Assumed), took, n/4)
	}
	if _, err := f.app.UpdateStory(po, northstar.FormatRef("BOOK", 1), 0, northstar.StoryUpdate{Points: northstar.Optional[int]{Set: true, Value: 100}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.Suggestion(po, ref); err != nil {
		t.Fatal(err)
	}
	if got := f.app.EstimateTrainings(); got != trainings+1 {
		t.Errorf("trainings after an estimate changed: %d, want %d", got, trainings+1)
	}
}
