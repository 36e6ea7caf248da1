package container

import (
	"context"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/berth-project/berth/internal/cli"
	"golang.org/x/sys/unix"
)

// forwardSignals sends every signal the CLI receives (but those about the CLI's own terminal
// and children) to the container, until the returned stop is called.
func forwardSignals(c *cli.Cli, id string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigc := make(chan os.Signal, 128)
	signal.Notify(sigc)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sigc:
				sig, ok := s.(syscall.Signal)
				if !ok {
					continue
				}
				switch sig {
				case syscall.SIGCHLD, syscall.SIGPIPE, syscall.SIGURG, syscall.SIGWINCH:
					continue
				}
				name := unix.SignalName(sig)
				if name == "" {
					name = strconv.Itoa(int(sig))
				}
				if err := c.Client().ContainerKill(ctx, id, name); err != nil {
					c.Logger().Debug("error forwarding signal", "signal", name, "error", err)
				}
			}
		}
	}()
	return func() {
		signal.Stop(sigc)
		cancel()
	}
}
