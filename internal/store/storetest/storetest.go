// Package storetest opens throwaway databases for tests on every engine:
// SQLite always, and PostgreSQL when NORTHSTAR_TEST_POSTGRES names a server.
// Each database is private to its test (a temporary file, or a schema of its
// own), so tests run in parallel.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/northstar-pm/northstar/internal/store"
)

// PostgresEnv names the environment variable with the PostgreSQL test URL.
const PostgresEnv = "NORTHSTAR_TEST_POSTGRES"

// Engines returns the engines to test on. Without PostgreSQL it logs that
// PostgreSQL is skipped, and fails under CI, where it must be tested.
func Engines(t testing.TB) []store.Engine {
	t.Helper()
	if os.Getenv(PostgresEnv) != "" {
		return []store.Engine{store.SQLite, store.Postgres}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is not set: PostgreSQL must be tested in CI", PostgresEnv)
	}
	t.Logf("%s not set: testing SQLite only", PostgresEnv)
	return []store.Engine{store.SQLite}
}

// Each runs fn as a subtest on a fresh, migrated database of every engine.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open returns a fresh, migrated database of the engine, closed and removed
// when the test ends.
func Open(t testing.TB, e store.Engine) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), DSN(t, e), store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatalf("open %s: %v", e, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", e, err)
	}
	return db
}

// DSN returns a connection string for a fresh, empty database of the engine.
func DSN(t testing.TB, e store.Engine) string {
	t.Helper()
	if e == store.SQLite {
		return filepath.Join(t.TempDir(), "northstar.db")
	}
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("%s not set", PostgresEnv)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres: %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
