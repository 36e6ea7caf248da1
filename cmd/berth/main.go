// Command berth is the berth CLI: docker's verbs, flags, output and exit codes, talking to berthd
// (or any Docker-compatible daemon) over the Engine API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-project/berth/internal/cli/command"
)

// forceExitSignals is how many interrupts end the CLI at once, whatever it is doing (an attached
// run forwards the first ones to the container).
const forceExitSignals = 3

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go forceExit()
	code := command.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

func forceExit() {
	sigc := make(chan os.Signal, forceExitSignals)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	for n := 1; ; n++ {
		<-sigc
		if n >= forceExitSignals {
			fmt.Fprintf(os.Stderr, "got %d SIGTERM/SIGINTs, forcefully exiting\n", n)
			os.Exit(1)
		}
	}
}
