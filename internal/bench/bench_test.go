package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// fixture is a server on a fresh database with the demo data and one more
// product, BENCH, managed by the demo product manager, whose token it has.
type fixture struct {
	url    string
	token  string
	client *http.Client
}

// engine is one database set-up to measure.
type engine struct {
	name string
	e    store.Engine
	sync string // SQLite synchronous mode; "" is the server's default, FULL
}

// engines lists the set-ups: each engine with its default settings, and
// for writes also SQLite with synchronous=NORMAL, the documented faster
// setting.
func engines(b *testing.B, withSyncNormal bool) []engine {
	var es []engine
	for _, e := range storetest.Engines(b) {
		es = append(es, engine{name: string(e), e: e})
		if e == store.SQLite && withSyncNormal {
			es = append(es, engine{name: "sqlite-sync-normal", e: e, sync: "NORMAL"})
		}
	}
	return es
}

func setup(b *testing.B, en engine) *fixture {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(b, en.e), store.Options{Synchronous: en.sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	a := app.New(db, quiet)
	if _, err := a.SeedDemo(ctx, nil); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	srv, err := server.New(a, "http://"+ts.Listener.Addr().String(), quiet)
	if err != nil {
		b.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	b.Cleanup(ts.Close)

	// A real client: keep-alive, with enough idle connections for the
	// parallel benchmarks not to open new ones.
	tr := &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128}
	f := &fixture{url: ts.URL, client: &http.Client{Transport: tr}}
	b.Cleanup(tr.CloseIdleConnections)

	var tok struct{ Token string }
	f.call(b, "POST", "/api/v1/tokens", fmt.Sprintf(`{"email":"pm@northstar.test","password":%q,"name":"bench"}`, app.DemoPassword), http.StatusCreated, &tok)
	f.token = tok.Token
	f.call(b, "POST", "/api/v1/products", `{"key":"BENCH","name":"Benchmark product","vision":"Measured, not guessed.","stage":"growth"}`, http.StatusCreated, nil)
	return f
}

// call sends one request and fails the benchmark unless the status is want.
func (f *fixture) call(b *testing.B, method, path, body string, want int, out any) {
	b.Helper()
	var r io.Reader
	if body != "" {
		r = bytes.NewReader([]byte(body))
	}
	status, data, err := f.do(method, path, r)
	if err != nil {
		b.Fatal(err)
	}
	if status != want {
		b.Fatalf("%s %s: %d %s, want %d", method, path, status, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.Fatal(err)
		}
	}
}

// do sends a request with the bearer token and reads the whole answer, so
// the connection goes back to the pool.
func (f *fixture) do(method, path string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequest(method, f.url+path, body)
	if err != nil {
		return 0, nil, err
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// reportRate adds requests per second, counted over the timed part.
func reportRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
}

// BenchmarkGetProduct measures GET /api/v1/products/{key}, one request at
// a time: authentication by token, the permission check and the product
// read.
func BenchmarkGetProduct(b *testing.B) {
	for _, en := range engines(b, false) {
		b.Run(en.name, func(b *testing.B) {
			f := setup(b, en)
			var p struct{ Key, Stage string }
			f.call(b, "GET", "/api/v1/products/BENCH", "", http.StatusOK, &p)
			if p.Key != "BENCH" || p.Stage != "growth" {
				b.Fatalf("GET BENCH returned %+v", p)
			}
			for b.Loop() {
				status, data, err := f.do("GET", "/api/v1/products/BENCH", nil)
				if err != nil || status != http.StatusOK {
					b.Fatalf("GET /api/v1/products/BENCH: %d %s %v", status, data, err)
				}
			}
			reportRate(b)
		})
	}
}

// BenchmarkGetProductParallel is BenchmarkGetProduct with 4×GOMAXPROCS
// clients at once, each with its own keep-alive connection.
func BenchmarkGetProductParallel(b *testing.B) {
	for _, en := range engines(b, false) {
		// RunParallel calls its function again for every b.N it tries, so
		// the server is set up once, outside.
		f := setup(b, en)
		b.Run(en.name, func(b *testing.B) {
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					status, data, err := f.do("GET", "/api/v1/products/BENCH", nil)
					if err != nil || status != http.StatusOK {
						b.Errorf("GET /api/v1/products/BENCH: %d %s %v", status, data, err)
						return
					}
				}
			})
			reportRate(b)
		})
	}
}

// BenchmarkChangeStage measures POST /api/v1/products/{key}/stage, one at a
// time. It moves the product between growth and maturity and back, always
// with a note (needed when moving backwards), so every request is a real
// write: the product's row and a new history entry in one transaction.
func BenchmarkChangeStage(b *testing.B) {
	bodies := []string{
		`{"stage":"maturity","note":"Sales have levelled off."}`,
		`{"stage":"growth","note":"Relaunched with the new pricing."}`,
	}
	wantStages := []string{"maturity", "growth"}
	for _, en := range engines(b, true) {
		b.Run(en.name, func(b *testing.B) {
			f := setup(b, en)
			i := 0
			for b.Loop() {
				status, data, err := f.do("POST", "/api/v1/products/BENCH/stage", bytes.NewReader([]byte(bodies[i%2])))
				if err != nil || status != http.StatusOK {
					b.Fatalf("POST /api/v1/products/BENCH/stage: %d %s %v", status, data, err)
				}
				i++
			}
			reportRate(b)

			b.StopTimer()
			var p struct{ Stage string }
			f.call(b, "GET", "/api/v1/products/BENCH", "", http.StatusOK, &p)
			if want := wantStages[(i-1)%2]; p.Stage != want {
				b.Errorf("after %d changes the stage is %s, want %s", i, p.Stage, want)
			}
			var h struct{ Items []json.RawMessage }
			f.call(b, "GET", "/api/v1/products/BENCH/stages", "", http.StatusOK, &h)
			if len(h.Items) < i {
				b.Errorf("history has %d entries after %d stage changes", len(h.Items), i)
			}
		})
	}
}
