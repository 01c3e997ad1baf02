package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
)

// snapshotIgnored lists columns that Snapshot leaves out because reads
// legitimately write them: authenticating a request may slide a session's
// expiry forward (sessions.last_seen_at, sessions.expires_at, at most once
// an hour) and records when an API token was last used
// (tokens.last_used_at, at most once a minute). They are bookkeeping about
// the request itself, not state a request could change on purpose, so a
// GET that only touches them still "changes nothing".
var snapshotIgnored = map[string][]string{
	"sessions": {"last_seen_at", "expires_at"},
	"tokens":   {"last_used_at"},
}

// Snapshot returns, for every table in the database (the current schema on
// PostgreSQL), its row count and a SHA-256 digest of its content, except the
// columns in snapshotIgnored. Two snapshots are equal exactly when no row was
// inserted, deleted or changed in between. It exists for tests that prove a
// request wrote nothing (every GET route, refused requests, bad input);
// the application never calls it.
func (db *DB) Snapshot(ctx context.Context) (map[string]string, error) {
	snap := map[string]string{}
	err := db.View(ctx, func(tx *Tx) error {
		tables, err := tx.snapshotStrings(ctx, tx.tablesQuery())
		if err != nil {
			return fmt.Errorf("snapshot: list tables: %w", err)
		}
		for _, table := range tables {
			cols, err := tx.snapshotStrings(ctx, tx.columnsQuery(), table)
			if err != nil {
				return fmt.Errorf("snapshot: columns of %s: %w", table, err)
			}
			cols = slices.DeleteFunc(cols, func(c string) bool { return slices.Contains(snapshotIgnored[table], c) })
			digest, err := tx.snapshotTable(ctx, table, cols)
			if err != nil {
				return fmt.Errorf("snapshot: %s: %w", table, err)
			}
			snap[table] = digest
		}
		return nil
	})
	return snap, err
}

func (tx *Tx) tablesQuery() string {
	if tx.Engine() == Postgres {
		return `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	return `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
}

func (tx *Tx) columnsQuery() string {
	if tx.Engine() == Postgres {
		return `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
	}
	return `SELECT name FROM pragma_table_info(?) ORDER BY cid`
}

func (tx *Tx) snapshotStrings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// snapshotTable hashes every row of a table, in an order fixed by all of
// its columns, and returns "rows=N sha256=…".
func (tx *Tx) snapshotTable(ctx context.Context, table string, cols []string) (string, error) {
	quoted := make([]string, len(cols))
	order := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		order[i] = fmt.Sprint(i + 1)
	}
	q := fmt.Sprintf(`SELECT %s FROM "%s" ORDER BY %s`, strings.Join(quoted, ", "), strings.ReplaceAll(table, `"`, `""`), strings.Join(order, ", "))
	rows, err := tx.query(ctx, q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	h := sha256.New()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				fmt.Fprintf(h, "%s=NULL\x1f", cols[i])
			case []byte:
				fmt.Fprintf(h, "%s=%q\x1f", cols[i], v)
			case time.Time:
				fmt.Fprintf(h, "%s=%s\x1f", cols[i], v.UTC().Format(time.RFC3339Nano))
			default:
				fmt.Fprintf(h, "%s=%#v\x1f", cols[i], v)
			}
		}
		h.Write([]byte{'\x1e'})
		n++
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("rows=%d sha256=%x", n, h.Sum(nil)[:12]), nil
}

// RowDigests returns a digest of every row of a table that has an id
// column, keyed by id, so that tests can count exactly which rows a change
// wrote (a backlog move must write one). Like Snapshot, it is for tests.
func (db *DB) RowDigests(ctx context.Context, table string) (map[int64]string, error) {
	out := map[int64]string{}
	err := db.View(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, fmt.Sprintf(`SELECT * FROM "%s"`, strings.ReplaceAll(table, `"`, `""`)))
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		idCol := slices.Index(cols, "id")
		if idCol < 0 {
			return fmt.Errorf("table %s has no id column", table)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			h := sha256.New()
			for i, v := range vals {
				if t, ok := v.(time.Time); ok {
					v = t.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(h, "%s=%v\x1f", cols[i], v)
			}
			id, ok := vals[idCol].(int64)
			if !ok {
				return fmt.Errorf("table %s: id is %T", table, vals[idCol])
			}
			out[id] = fmt.Sprintf("%x", h.Sum(nil)[:12])
		}
		return rows.Err()
	})
	return out, err
}
