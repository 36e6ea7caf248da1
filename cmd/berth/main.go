// Command berth is the berth CLI: docker's verbs, flags, output and exit codes, talking to berthd
// (or any Docker-compatible daemon) over the Engine API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-project/berth/internal/cli/command"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
