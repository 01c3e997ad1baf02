package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one numbered schema change, embedded in the binary.
type Migration struct {
	Version   int
	Name      string
	SQL       string
	AppliedAt *time.Time
}

// Migrations lists the migrations for the engine with the time each was
// applied, if it was.
func (db *DB) Migrations(ctx context.Context) ([]Migration, error) {
	all, err := db.embedded()
	if err != nil {
		return nil, err
	}
	if err := db.ensureMigrationTable(ctx); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, "SELECT version, applied_at FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]time.Time{}
	for rows.Next() {
		var v int
		var at time.Time
		if err := rows.Scan(&v, &at); err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
		applied[v] = at
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	for i := range all {
		if at, ok := applied[all[i].Version]; ok {
			all[i].AppliedAt = &at
		}
	}
	return all, nil
}

func (db *DB) embedded() ([]Migration, error) {
	dir := path.Join("migrations", string(db.engine))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", name)
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: expected version %d, found %d", i+1, m.Version)
		}
	}
	return ms, nil
}

func (db *DB) ensureMigrationTable(ctx context.Context) error {
	typ := "TIMESTAMP"
	if db.engine == Postgres {
		typ = "TIMESTAMPTZ"
	}
	_, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at `+typ+` NOT NULL)`)
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return nil
}

// Migrate applies every migration not yet applied, each in its own
// transaction, and returns how many it applied. Several servers starting
// at once against PostgreSQL take turns through an advisory lock.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	all, err := db.embedded()
	if err != nil {
		return 0, err
	}
	if err := db.ensureMigrationTable(ctx); err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range all {
		done := false
		err := db.Update(ctx, func(tx *Tx) error {
			if db.engine == Postgres {
				// Held until the transaction ends. Keyed by schema:
				// installations (and tests) in other schemas of the same
				// database need not wait for each other's migrations.
				if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock(7265626, hashtext(current_schema()))"); err != nil {
					return err
				}
			}
			var n int
			if err := tx.queryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				done = true
				return nil
			}
			if _, err := tx.tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.Version, m.Name, tx.Now)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if !done {
			applied++
		}
	}
	return applied, nil
}
