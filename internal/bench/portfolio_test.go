package bench_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The portfolio targets: with 100 products holding five years of daily
// metrics each (182,600 points), the portfolio page (stage board with each
// product's suggestion, roadmap, objectives), the shipped digest, a
// product's metrics page (line chart, stage bands, lifecycle suggestion
// over the whole series) and the series API answer in under 100 ms p99; a product's and the company's alignment
// over 100 closed sprints of 10 stories each compute in under 50 ms. Run
// with
//
//	go test -run '^$' -bench 'MetricsPages|Alignment' -benchtime=200x ./internal/bench/
//
// and read the p50-ms / p99-ms metrics.

// seedMetrics gives 100 products (BENCH and P001…P099) a metric with five
// years of daily values ending yesterday.
func seedMetrics(b *testing.B, f *fixture) {
	b.Helper()
	end := time.Now().UTC().AddDate(0, 0, -1)
	const days = 5 * 365
	for i := range 100 {
		key := "BENCH"
		if i > 0 {
			key = fmt.Sprintf("P%03d", i)
			f.call(b, "POST", "/api/v1/products", fmt.Sprintf(`{"key":%q,"name":"Product %d","stage":"growth"}`, key, i), http.StatusCreated, nil)
		}
		f.call(b, "POST", "/api/v1/products/"+key+"/metrics", `{"name":"Sales","unit":"books"}`, http.StatusCreated, nil)
		var body strings.Builder
		body.WriteString(`{"points":[`)
		for d := range days {
			if d > 0 {
				body.WriteByte(',')
			}
			v := 10000 / (1 + float64(days-d)/float64(days)*20) * (1 + 0.05*float64((d*7919)%11-5)/5)
			fmt.Fprintf(&body, `{"date":%q,"value":%.1f}`, end.AddDate(0, 0, d-days+1).Format("2006-01-02"), v)
		}
		body.WriteString(`]}`)
		f.call(b, "POST", "/api/v1/products/"+key+"/metrics/sales/points", body.String(), http.StatusOK, nil)
	}
}

func BenchmarkMetricsPages(b *testing.B) {
	for _, en := range engines(b, false) {
		b.Run(en.name, func(b *testing.B) {
			f := setup(b, en)
			seedMetrics(b, f)
			web := f.session(b, "pm@northstar.test")
			for _, p := range []struct{ name, path string }{
				{"metrics-page", "/products/P050/metrics"},
				{"product-section", "/products/P050/metrics?section=1"},
				{"portfolio-page", "/portfolio"},
				{"shipped-page", "/portfolio/shipped"},
			} {
				b.Run(p.name, func(b *testing.B) { latencies(b, func() { page(b, web, f.url+p.path) }) })
			}
			b.Run("portfolio-api", func(b *testing.B) {
				latencies(b, func() { f.call(b, "GET", "/api/v1/portfolio", "", http.StatusOK, nil) })
			})
			b.Run("series-api", func(b *testing.B) {
				latencies(b, func() { f.call(b, "GET", "/api/v1/products/P050/metrics/sales", "", http.StatusOK, nil) })
			})
		})
	}
}

// seedSprints closes 100 two-week sprints of a team on BENCH, each with
// 10 done stories of 3 points, half of them under a feature serving an
// objective.
func seedSprints(b *testing.B, f *fixture) {
	b.Helper()
	var obj struct{ ID int64 }
	f.call(b, "POST", "/api/v1/products/BENCH/objectives", `{"title":"Grow","start":"2020-01-01","end":"2030-01-01"}`, http.StatusCreated, &obj)
	var served, other struct{ Ref string }
	f.call(b, "POST", "/api/v1/products/BENCH/features", fmt.Sprintf(`{"title":"Served","objective_ids":[%d]}`, obj.ID), http.StatusCreated, &served)
	f.call(b, "POST", "/api/v1/products/BENCH/features", `{"title":"Not served"}`, http.StatusCreated, &other)
	var team struct{ ID int64 }
	f.call(b, "POST", "/api/v1/teams", `{"name":"Bench team","products":["BENCH"]}`, http.StatusCreated, &team)
	start := time.Now().UTC().AddDate(0, 0, -14*101)
	for s := range 100 {
		from := start.AddDate(0, 0, 14*s)
		var sprint struct{ ID int64 }
		f.call(b, "POST", fmt.Sprintf("/api/v1/teams/%d/sprints", team.ID), fmt.Sprintf(`{"name":"Sprint %d","start":%q,"end":%q}`,
			s+1, from.Format("2006-01-02"), from.AddDate(0, 0, 13).Format("2006-01-02")), http.StatusCreated, &sprint)
		refs := make([]string, 10)
		for i := range refs {
			feature := served.Ref
			if i%2 == 1 {
				feature = other.Ref
			}
			if i == 9 {
				feature = ""
			}
			var st struct{ Ref string }
			f.call(b, "POST", "/api/v1/products/BENCH/stories", fmt.Sprintf(`{"title":"Story %d.%d","points":3,"feature":%q}`, s, i, feature), http.StatusCreated, &st)
			refs[i] = fmt.Sprintf("%q", st.Ref)
		}
		list := strings.Join(refs, ",")
		f.call(b, "POST", fmt.Sprintf("/api/v1/sprints/%d/stories", sprint.ID), `{"refs":[`+list+`]}`, http.StatusOK, nil)
		f.call(b, "POST", fmt.Sprintf("/api/v1/sprints/%d/start", sprint.ID), "", http.StatusOK, nil)
		f.call(b, "POST", "/api/v1/stories/bulk", `{"refs":[`+list+`],"status":"done"}`, http.StatusOK, nil)
		f.call(b, "POST", fmt.Sprintf("/api/v1/sprints/%d/close", sprint.ID), `{"carry":"backlog"}`, http.StatusOK, nil)
	}
}

func BenchmarkAlignment(b *testing.B) {
	for _, en := range engines(b, false) {
		b.Run(en.name, func(b *testing.B) {
			f := setup(b, en)
			seedSprints(b, f)
			var al struct {
				Delivered struct{ Points, Aligned int }
				Orphans   []any
			}
			f.call(b, "GET", "/api/v1/products/BENCH/alignment?sprints=100", "", http.StatusOK, &al)
			if al.Delivered.Points != 3000 || len(al.Orphans) != 500 {
				b.Fatalf("alignment over 100 sprints: %d points delivered, %d orphans; want 3000 and 500", al.Delivered.Points, len(al.Orphans))
			}
			web := f.session(b, "pm@northstar.test")
			b.Run("product-api", func(b *testing.B) {
				latencies(b, func() { f.call(b, "GET", "/api/v1/products/BENCH/alignment?sprints=100", "", http.StatusOK, nil) })
			})
			b.Run("company-api", func(b *testing.B) {
				latencies(b, func() { f.call(b, "GET", "/api/v1/alignment?sprints=100", "", http.StatusOK, nil) })
			})
			b.Run("product-page", func(b *testing.B) {
				latencies(b, func() { page(b, web, f.url+"/products/BENCH/alignment?sprints=100") })
			})
		})
	}
}
