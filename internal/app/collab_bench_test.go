package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// The collaboration targets: an item's timeline of 10,000 entries pages in
// under 10 ms p99, and 10,000 webhook deliveries queued while the
// receiver is down all arrive, once each and in order, when it comes
// back. Run with
//
//	go test -run '^$' -bench 'Timeline|WebhookBacklog' ./internal/app/

// BenchmarkTimeline10000 pages newest first through a story's timeline of
// 10,000 entries, 50 at a time, as the item page and the API do.
func BenchmarkTimeline10000(b *testing.B) {
	for _, e := range storetest.Engines(b) {
		b.Run(string(e), func(b *testing.B) {
			f := newFixture(b, storetest.Open(b, e))
			po := f.as(f.users[northstar.RoleProductOwner])
			s, err := f.app.CreateStory(po, "BOOK", northstar.NewStory{Title: "A busy story"})
			if err != nil {
				b.Fatal(err)
			}
			fillActivity(b, f, func(tx *store.Tx, i int) error {
				return tx.AddActivity(context.Background(), &northstar.Activity{ProductID: s.ProductID, ItemKind: northstar.KindStory,
					ItemID: s.ID, ItemRef: s.Ref, Action: "updated", Actor: "po",
					Changes: []northstar.FieldChange{{Field: "points", Old: i, New: i + 1}}})
			})
			var ds []time.Duration
			before := int64(0)
			for b.Loop() {
				t0 := time.Now()
				page, err := f.app.Activity(po, northstar.KindStory, s.Ref, northstar.ActivityFilter{Before: before, Limit: 50})
				ds = append(ds, time.Since(t0))
				if err != nil || len(page) == 0 {
					b.Fatalf("page after %d: %d entries, %v", before, len(page), err)
				}
				before = page[len(page)-1].ID
				if len(page) < 50 {
					before = 0 // start again from the newest
				}
			}
			reportLatencies(b, ds)
		})
	}
}

// BenchmarkWebhookBacklog queues 10,000 deliveries for one webhook while
// its receiver answers 503, then lets it recover, and measures until the
// last one is delivered; it fails on a loss, a duplicate or a change of
// order.
func BenchmarkWebhookBacklog(b *testing.B) {
	for _, e := range storetest.Engines(b) {
		b.Run(string(e), func(b *testing.B) {
			for range b.N {
				drainBacklog(b, e, 10000)
			}
		})
	}
}

func drainBacklog(b *testing.B, e store.Engine, n int) {
	b.StopTimer()
	f := newFixture(b, storetest.Open(b, e))
	f.app.AllowPrivateWebhooks = true
	pm := f.as(f.users[northstar.RoleProductManager])
	var mu sync.Mutex
	var got []int
	up := false
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p webhookPayload
		json.Unmarshal(body, &p)
		var seq int
		fmt.Sscanf(p.Item, "BOOK-%d", &seq)
		got = append(got, seq)
	}))
	defer recv.Close()
	w, _, err := f.app.CreateWebhook(pm, "BOOK", northstar.WebhookInput{URL: recv.URL + "/hook"})
	if err != nil {
		b.Fatal(err)
	}
	fillActivity(b, f, func(tx *store.Tx, i int) error {
		act := &northstar.Activity{ItemKind: northstar.KindStory, ItemRef: fmt.Sprintf("BOOK-%d", i+1), Action: "updated", Actor: "po"}
		if err := tx.AddActivity(context.Background(), act); err != nil {
			return err
		}
		payload, _ := json.Marshal(webhookPayload{Event: "story.updated", Product: "BOOK", Item: act.ItemRef, ItemKind: act.ItemKind, Action: act.Action, At: act.At})
		return tx.QueueDelivery(context.Background(), w.ID, act.ID, "story.updated", payload)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.StartTimer()
	go f.app.RunWebhooks(ctx)
	time.Sleep(300 * time.Millisecond) // the receiver is down: attempts fail
	mu.Lock()
	up = true
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		mu.Lock()
		done := len(got)
		mu.Unlock()
		if done >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered after 5 minutes", done, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	mu.Lock()
	defer mu.Unlock()
	if !slices.IsSorted(got) || len(got) != n || got[0] != 1 || got[n-1] != n {
		b.Fatalf("deliveries out of order, lost or repeated: %d received, first %d, last %d", len(got), got[0], got[len(got)-1])
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "deliveries/s")
}

// fillActivity writes 10,000 rows in one transaction through fn.
func fillActivity(b *testing.B, f *fixture, fn func(tx *store.Tx, i int) error) {
	b.Helper()
	err := f.app.db.Update(context.Background(), func(tx *store.Tx) error {
		for i := range 10000 {
			if err := fn(tx, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func reportLatencies(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
