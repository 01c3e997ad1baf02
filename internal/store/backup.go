package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrBackupPostgres says that PostgreSQL is backed up with its own tools.
var ErrBackupPostgres = errors.New(`northstar does not copy PostgreSQL databases itself; use pg_dump, for example:
    pg_dump --format=custom --file=northstar.dump "postgres://user@host:5432/northstar"
and restore with:
    pg_restore --clean --if-exists --dbname="postgres://user@host:5432/northstar" northstar.dump`)

// Backup writes a consistent copy of a SQLite database to dest while the
// server keeps running. VACUUM INTO reads one snapshot, so writers are
// never blocked and the copy is never torn; progress reports the copy's
// size against the source's. The copy is checked before Backup returns.
func (db *DB) Backup(ctx context.Context, dest string, progress func(done, total int64)) error {
	if db.engine != SQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists", dest)
	}
	// A connection of its own: the read pool is query-only and the write
	// pool must stay free for the server.
	conn, err := sql.Open("sqlite", "file:"+db.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	var pages, pageSize, free int64
	if err := conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	total := (pages - free) * pageSize

	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(ctx, "VACUUM INTO ?", dest)
		done <- err
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				os.Remove(dest)
				return fmt.Errorf("backup: %w", err)
			}
			if progress != nil {
				progress(total, total)
			}
			return checkCopy(ctx, dest)
		case <-tick.C:
			if progress != nil {
				if fi, err := os.Stat(dest); err == nil {
					progress(min(fi.Size(), total), total)
				}
			}
		}
	}
}

// checkCopy runs SQLite's integrity check on a backup.
func checkCopy(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("check backup: %w", err)
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("check backup: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("check backup: integrity check says %q", result)
	}
	return nil
}
