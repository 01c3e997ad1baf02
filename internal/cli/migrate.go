package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
)

type migrateCmd struct {
	env Env
	db  dbFlags
}

func (c *migrateCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	c.db.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: northstar migrate [flags] up|status")
		fs.PrintDefaults()
	}
	return fs
}

func (c *migrateCmd) run(ctx context.Context, args []string) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "status") {
		return errUsage
	}
	db, err := c.db.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "up" {
		n, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stdout, "applied %d migration(s) to %s\n", n, redact(c.db.DSN()))
		return nil
	}
	ms, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tNAME\tAPPLIED")
	for _, m := range ms {
		applied := "pending"
		if m.AppliedAt != nil {
			applied = m.AppliedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		fmt.Fprintf(w, "%04d\t%s\t%s\n", m.Version, m.Name, applied)
	}
	return w.Flush()
}
