package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/northstar-pm/northstar"
)

type versionCmd struct{ env Env }

func (c *versionCmd) flags() *flag.FlagSet { return flag.NewFlagSet("version", flag.ContinueOnError) }

func (c *versionCmd) run(ctx context.Context, args []string) error {
	rev := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " (" + s.Value[:12] + ")"
			}
		}
	}
	fmt.Fprintf(c.env.Stdout, "northstar %s%s %s %s/%s\n", northstar.Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
