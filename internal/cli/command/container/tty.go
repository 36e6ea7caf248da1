package container

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/cli"
	"github.com/moby/term"
)

// resizeFunc sets the TTY size of a container or an exec.
type resizeFunc func(ctx context.Context, height, width uint) error

// ttySize is the size of the CLI's terminal (stdout), or 0, 0.
func ttySize(c *cli.Cli) (height, width uint) {
	if !c.Out().IsTerminal() {
		return 0, 0
	}
	ws, err := term.GetWinsize(c.Out().FD())
	if err != nil {
		return 0, 0
	}
	return uint(ws.Height), uint(ws.Width)
}

// consoleSize is the initial console size to create a container or exec with, when its TTY is
// shown on a terminal.
func consoleSize(c *cli.Cli, tty bool) (size [2]uint, ok bool) {
	if !tty {
		return size, false
	}
	h, w := ttySize(c)
	if h == 0 && w == 0 {
		return size, false
	}
	return [2]uint{h, w}, true
}

// monitorTTYSize gives the remote TTY the terminal's size now (retrying briefly, as the process
// may still be starting) and again on every SIGWINCH, until ctx is done.
func monitorTTYSize(ctx context.Context, c *cli.Cli, resize resizeFunc) {
	apply := func() error {
		h, w := ttySize(c)
		if h == 0 && w == 0 {
			return nil
		}
		return resize(ctx, h, w)
	}
	go func() {
		var err error
		for attempt := 1; attempt <= 10; attempt++ {
			if err = apply(); err == nil || ctx.Err() != nil {
				return
			}
			time.Sleep(time.Duration(attempt) * 10 * time.Millisecond)
		}
		fmt.Fprintln(c.Err(), "failed to resize tty, using default size")
	}()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		defer signal.Stop(winch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-winch:
				_ = apply()
			}
		}
	}()
}
