// Command northstar runs Northstar: the web server and API, database
// migrations, account administration and backups. See "northstar help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/northstar-pm/northstar/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one stops the process at once
		// instead of waiting for the shutdown grace period.
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin})
	stop()
	os.Exit(code)
}
