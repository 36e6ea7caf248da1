package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/moby/term"
)

// defaultDetachKeys is the sequence that detaches from a container with a TTY.
const defaultDetachKeys = "ctrl-p,ctrl-q"

// streamOptions say which of the CLI's streams a hijacked connection carries.
type streamOptions struct {
	stdin      bool   // send the CLI's stdin
	stdout     bool   // the connection carries the container's stdout
	stderr     bool   // ... and its stderr
	tty        bool   // output is the raw TTY stream (else stdcopy frames); a terminal stdin goes raw
	detachKeys string // with a TTY, typing these detaches (checked here as well as by the daemon)
}

// detachKeys is the detach sequence in use: the flag, then the config file's, then the default.
func detachKeys(c *cli.Cli, flag string) string {
	if flag != "" {
		return flag
	}
	if k := c.ConfigFile().DetachKeys; k != "" {
		return k
	}
	return ""
}

// streamHijacked connects the CLI's streams to resp. It returns when the output ends (nil, or
// the error that ended it), when the user typed the detach keys (term.EscapeError), or when ctx
// is done. After stdin ends the daemon is told (half close) and the output drains.
func streamHijacked(ctx context.Context, c *cli.Cli, resp client.HijackedResponse, o streamOptions) error {
	var in io.Reader
	if o.stdin {
		in = c.In()
	}
	restore := func() {}
	if in != nil && o.tty {
		if c.In().IsTerminal() {
			fd := c.In().FD()
			state, err := term.SetRawTerminal(fd)
			if err != nil {
				return fmt.Errorf("unable to set IO streams as raw terminal: %w", err)
			}
			var once sync.Once
			restore = func() { once.Do(func() { _ = term.RestoreTerminal(fd, state) }) }
			defer restore()
		}
		keys, err := term.ToBytes(defaultDetachKeys)
		if o.detachKeys != "" {
			custom, cerr := term.ToBytes(o.detachKeys)
			if cerr != nil {
				c.Logger().Warn("invalid detach escape keys, using default", "error", cerr)
			} else {
				keys = custom
			}
		}
		if err == nil {
			in = term.NewEscapeProxy(in, keys)
		}
	}

	// With no output attached, outputDone stays nil and only the input ends the stream.
	var outputDone chan error
	if o.stdout || o.stderr {
		outputDone = make(chan error, 1)
		go func() {
			var err error
			if o.tty {
				_, err = io.Copy(c.Out(), resp.Reader)
			} else {
				var stdout, stderr io.Writer = c.Out(), c.Err()
				if !o.stdout {
					stdout = nil
				}
				if !o.stderr {
					stderr = nil
				}
				_, err = client.DemuxStream(stdout, stderr, resp.Reader)
			}
			restore()
			outputDone <- err
		}()
	}

	inputDone := make(chan struct{})
	detached := make(chan error, 1)
	go func() {
		if in != nil {
			_, err := io.Copy(resp.Conn, in)
			restore()
			var esc term.EscapeError
			if errors.As(err, &esc) {
				detached <- err
				return
			}
			if err != nil {
				c.Logger().Debug("error sending stdin", "error", err)
			}
		}
		if err := resp.CloseWrite(); err != nil {
			c.Logger().Debug("could not half-close the connection", "error", err)
		}
		close(inputDone)
	}()

	select {
	case err := <-outputDone:
		return err
	case <-inputDone:
		if outputDone == nil {
			return nil
		}
		select {
		case err := <-outputDone:
			return err
		case err := <-detached:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	case err := <-detached:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
