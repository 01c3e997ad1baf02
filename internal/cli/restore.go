package cli

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/northstar-pm/northstar/internal/store"
)

// restoreCmd puts a copy made by "northstar backup" in place as the
// database of an installation that has none yet.
type restoreCmd struct {
	env Env
	db  dbFlags
}

func (c *restoreCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	c.db.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: northstar restore [flags] BACKUP

Copies BACKUP, a file written by "northstar backup", to <data>/northstar.db
(or --db). The database must not exist yet: restore never overwrites one.
Start the server on the data directory afterwards; it applies any newer
migrations.`)
		fs.PrintDefaults()
	}
	return fs
}

func (c *restoreCmd) run(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	src := args[0]
	dsn := c.db.DSN()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		fmt.Fprintln(c.env.Stderr, store.ErrBackupPostgres)
		return errors.New("nothing was restored")
	}
	dest := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(dest, '?'); i >= 0 {
		dest = dest[:i]
	}
	start := time.Now()

	// A journal or WAL left beside the destination would be played into
	// the restored file on its first open and corrupt it.
	for _, p := range []string{dest, dest + "-wal", dest + "-shm", dest + "-journal"} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists: restore never overwrites a database (move it away first)", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	version, err := checkBackup(ctx, src)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(filepath.Dir(dest), 0o750); err != nil {
		return err
	}
	size, err := c.copyFile(src, dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "restored %s (%s, integrity check ok, migration %04d) to %s in %s\n",
		src, byteSize(size), version, dest, time.Since(start).Round(time.Millisecond))
	return nil
}

// checkBackup checks that path is a whole SQLite database of Northstar's
// and returns the last migration applied to it.
func checkBackup(ctx context.Context, path string) (int, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("no backup to restore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a file", path)
	}
	// A backup is complete in one file. Beside a WAL, the file lacks what
	// the WAL holds: it is a live database, to be copied with backup.
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		return 0, fmt.Errorf("%s has a write-ahead log beside it: it is a database in use, not a backup (make one with northstar backup)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	header := make([]byte, 16)
	_, err = io.ReadFull(f, header)
	f.Close()
	if err != nil || !bytes.Equal(header, []byte("SQLite format 3\x00")) {
		return 0, fmt.Errorf("%s is not a SQLite database", path)
	}

	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, fmt.Errorf("check %s: %w", path, err)
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return 0, fmt.Errorf("check %s: %w", path, err)
	}
	if result != "ok" {
		return 0, fmt.Errorf("check %s: integrity check says %q", path, result)
	}
	var version int
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&version); err != nil {
		return 0, fmt.Errorf("%s is not a Northstar database: %w", path, err)
	}
	return version, nil
}

// copyFile copies src to a temporary file beside dest, syncs it and links
// it into place, so dest appears whole or not at all, and only if it still
// does not exist.
func (c *restoreCmd) copyFile(src, dest string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".restore-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	bar := newProgressBar(c.env.Stderr, "restore")
	total := fi.Size()
	var done int64
	buf := make([]byte, 1<<20)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if _, werr := tmp.Write(buf[:n]); werr != nil {
				bar.finish()
				return 0, werr
			}
			done += int64(n)
			bar.set(min(done, total), total)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bar.finish()
			return 0, err
		}
	}
	bar.set(total, total)
	bar.finish()
	if done != total {
		return 0, fmt.Errorf("%s changed while it was copied (%d bytes read, %d expected)", src, done, total)
	}
	if err := tmp.Sync(); err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	// Link, unlike rename, fails if dest appeared in the meantime.
	if err := os.Link(tmp.Name(), dest); err != nil {
		if errors.Is(err, os.ErrExist) {
			return 0, fmt.Errorf("%s already exists: restore never overwrites a database", dest)
		}
		return 0, err
	}
	if dir, err := os.Open(filepath.Dir(dest)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return done, nil
}
