package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/northstar-pm/northstar/internal/store"
)

type backupCmd struct {
	env Env
	db  dbFlags
	out string
}

func (c *backupCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	c.db.register(fs)
	fs.StringVar(&c.out, "out", "", "file to write the copy to (default northstar-<time>.db in the data directory)")
	return fs
}

func (c *backupCmd) run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return errUsage
	}
	// Opening a SQLite file creates it: refuse before, or a mistyped
	// --data would "back up" a new, empty database.
	if dsn := c.db.DSN(); !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		path := strings.TrimPrefix(dsn, "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no database to back up: %w", err)
		}
	}
	db, err := c.db.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	out := c.out
	if out == "" {
		out = strings.TrimSuffix(db.Path(), ".db") + "-" + time.Now().UTC().Format("20060102-150405") + ".db"
	}
	start := time.Now()
	bar := newProgressBar(c.env.Stderr, "backup")
	err = db.Backup(ctx, out, bar.set)
	bar.finish()
	if errors.Is(err, store.ErrBackupPostgres) {
		fmt.Fprintln(c.env.Stderr, err)
		return fmt.Errorf("nothing was copied")
	} else if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "backup written to %s in %s (integrity check ok)\n", out, time.Since(start).Round(time.Millisecond))
	return nil
}
