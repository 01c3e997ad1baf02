package bench_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar/internal/app"
)

// The roadmap and sprint targets: the prioritisation table of 500 scored
// features and the timeline render in under 50 ms p99; a board of 300
// cards renders in under 30 ms p99, a card move takes under 5 ms p99, and
// the burndown of a 300-story sprint with 5,000 change events computes in
// under 20 ms p99. Run with
//
//	make bench   (or: go test -run '^$' -bench 'Roadmap|Board' ./internal/bench/)
//
// and read the p50-ms / p99-ms metrics.

// session signs a demo user in through the login form and returns a
// client that carries the session cookie, for the HTML pages.
func (f *fixture) session(b *testing.B, email string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: f.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(f.url+"/login", url.Values{"email": {email}, "password": {app.DemoPassword}})
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in as %s: %d", email, res.StatusCode)
	}
	return c
}

// latencies times each call and reports the median and the 99th
// percentile in milliseconds besides ns/op.
func latencies(b *testing.B, call func()) {
	b.Helper()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		call()
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// page GETs an HTML page and fails unless it answers 200 with a body.
func page(b *testing.B, c *http.Client, u string) {
	res, err := c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(body) == 0 {
		b.Fatalf("GET %s: %d", u, res.StatusCode)
	}
}

// BenchmarkRoadmapPages renders the prioritisation table and the timeline
// of a product with 500 scored, dated features and two stories each.
func BenchmarkRoadmapPages(b *testing.B) {
	for _, en := range engines(b, false) {
		b.Run(en.name, func(b *testing.B) {
			f := setup(b, en)
			horizons := []string{"now", "next", "later"}
			for i := range 500 {
				start := time.Date(2026, time.Month(1+i%12), 1+i%27, 0, 0, 0, 0, time.UTC)
				var ref struct{ Ref string }
				f.call(b, "POST", "/api/v1/products/BENCH/features", fmt.Sprintf(
					`{"title":"Feature %d for the shop floor","status":"planned","horizon":%q,"start":%q,"end":%q,"moscow":"should",
					  "scores":{"reach":%d,"impact":2,"confidence":80,"effort":%d,"value":%d}}`,
					i, horizons[i%3], start.Format("2006-01-02"), start.AddDate(0, 2, 0).Format("2006-01-02"), 100+i, 1+i%8, 1+i%10),
					http.StatusCreated, &ref)
				for j := range 2 {
					f.call(b, "POST", "/api/v1/products/BENCH/stories", fmt.Sprintf(`{"title":"Story %d of %s","points":3,"feature":%q}`, j, ref.Ref, ref.Ref), http.StatusCreated, nil)
				}
			}
			web := f.session(b, "pm@northstar.test")
			for _, p := range []struct{ name, path string }{
				{"prioritise", "/products/BENCH/prioritise"},
				{"timeline", "/products/BENCH/roadmap?view=timeline"},
			} {
				b.Run(p.name, func(b *testing.B) { latencies(b, func() { page(b, web, f.url+p.path) }) })
			}
		})
	}
}

// BenchmarkBoard measures a sprint of 300 stories: the board page, a card
// move, and the burndown once 5,000 change events are recorded.
func BenchmarkBoard(b *testing.B) {
	for _, en := range engines(b, false) {
		b.Run(en.name, func(b *testing.B) {
			f := setup(b, en)
			var team struct {
				ID      int64
				Columns []struct {
					ID     int64
					Status string
				}
			}
			f.call(b, "POST", "/api/v1/teams", `{"name":"Bench team","products":["BENCH"]}`, http.StatusCreated, &team)
			var sprint struct{ ID int64 }
			today := time.Now().UTC()
			f.call(b, "POST", fmt.Sprintf("/api/v1/teams/%d/sprints", team.ID), fmt.Sprintf(`{"name":"Big sprint","start":%q,"end":%q}`,
				today.AddDate(0, 0, -5).Format("2006-01-02"), today.AddDate(0, 0, 9).Format("2006-01-02")), http.StatusCreated, &sprint)
			refs := make([]string, 300)
			for i := range refs {
				var s struct{ Ref string }
				f.call(b, "POST", "/api/v1/products/BENCH/stories", fmt.Sprintf(`{"title":"Card %d","points":%d,"status":"ready","criteria":["It works"],"assignee":"pm@northstar.test"}`, i, []int{1, 2, 3, 5, 8}[i%5]), http.StatusCreated, &s)
				refs[i] = s.Ref
			}
			f.call(b, "POST", fmt.Sprintf("/api/v1/sprints/%d/stories", sprint.ID), `{"refs":["`+strings.Join(refs, `","`)+`"]}`, http.StatusOK, nil)
			f.call(b, "POST", fmt.Sprintf("/api/v1/sprints/%d/start", sprint.ID), ``, http.StatusOK, nil)
			web := f.session(b, "pm@northstar.test")

			b.Run("board-300-cards", func(b *testing.B) {
				latencies(b, func() { page(b, web, fmt.Sprintf("%s/teams/%d/board", f.url, team.ID)) })
			})
			moves := 0
			move := func() {
				col := team.Columns[1+moves%3] // ready, in progress, in review
				f.call(b, "POST", fmt.Sprintf("/api/v1/sprints/%d/cards/%s/move", sprint.ID, refs[moves%len(refs)]), fmt.Sprintf(`{"column":%d}`, col.ID), http.StatusOK, nil)
				moves++
			}
			b.Run("card-move", func(b *testing.B) { latencies(b, move) })
			for moves < 5000 {
				move()
			}
			b.Run("burndown-5000-events", func(b *testing.B) {
				latencies(b, func() {
					f.call(b, "GET", fmt.Sprintf("/api/v1/sprints/%d/burndown", sprint.ID), "", http.StatusOK, nil)
				})
			})
		})
	}
}
