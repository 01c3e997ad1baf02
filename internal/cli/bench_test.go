package cli_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
)

// TestBench runs every scenario briefly against a server on a small seeded
// database: each must send requests, and none may fail.
func TestBench(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "northstar.db")
	mustRun(t, "seed", "--db", dsn, "--products", "2", "--stories", "40", "--corpus", writeSeedCorpus(t))

	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	quiet := slog.New(slog.DiscardHandler)
	ts := httptest.NewUnstartedServer(nil)
	srv, err := server.New(app.New(db, quiet), "http://"+ts.Listener.Addr().String(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)

	r := mustRun(t, "bench", "--url", ts.URL, "--email", "po@northstar.test", "--password", app.DemoPassword,
		"--clients", "2", "--duration", "300ms", "--warmup", "50ms", "--pid", strconv.Itoa(os.Getpid()))
	t.Logf("bench output:\n%s", r.stdout)
	if !strings.Contains(r.stderr, "2 products with 80 stories") {
		t.Errorf("bench did not find the seeded stories:\n%s", r.stderr)
	}
	for _, name := range []string{"backlog-first-page", "get-story", "move", "search", "create", "update"} {
		line := lineWith(r.stdout, name)
		f := strings.Fields(line)
		if len(f) < 9 {
			t.Errorf("no result line for %s in\n%s", name, r.stdout)
			continue
		}
		if n, _ := strconv.Atoi(f[1]); n == 0 {
			t.Errorf("%s sent no requests: %s", name, line)
		}
		if f[7] != "0" {
			t.Errorf("%s had failures: %s\n%s", name, line, r.stdout)
		}
		if len(f) < 10 || f[9] != "MB" {
			t.Errorf("%s: no memory figure: %s", name, line)
		}
	}

	// Bad command lines.
	for _, args := range [][]string{
		{"--url", ts.URL},                      // no credentials
		{"--url", ts.URL, "--scenario", "fly"}, // unknown scenario
		{"--url", ts.URL, "--token", "nope"},   // refused token
	} {
		if r := run(t, append([]string{"bench", "--duration", "10ms"}, args...)...); r.code == 0 {
			t.Errorf("bench %v succeeded", args)
		}
	}
}
