package container

import (
	"context"
	"io"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/shim"
)

// LogOptions select what `logs` returns.
type LogOptions struct {
	Follow, Stdout, Stderr, Timestamps bool
	Tail                               int // -1: all
	Since, Until                       time.Time
}

// IsTTY reports whether the container has a terminal, which decides the stream framing.
func (s *Service) IsTTY(ref string) (bool, error) {
	c, err := s.Get(ref)
	if err != nil {
		return false, err
	}
	return c.Config.Tty, nil
}

// Logs writes the container's log to w: raw with a TTY, multiplexed frames without.
func (s *Service) Logs(ctx context.Context, ref string, opts LogOptions, w io.Writer) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := c.State.Running
	c.mu.Unlock()
	return s.copyLogs(ctx, c, shim.LogOptions{
		Follow: opts.Follow && running, Tail: opts.Tail, Since: opts.Since, Until: opts.Until,
		Stdout: opts.Stdout, Stderr: opts.Stderr,
	}, opts.Timestamps, w)
}

func (s *Service) copyLogs(ctx context.Context, c *Container, opts shim.LogOptions, timestamps bool, w io.Writer) error {
	if c.HostConfig.LogConfig.Type != "" && c.HostConfig.LogConfig.Type != "json-file" && c.HostConfig.LogConfig.Type != "local" {
		return errdefs.InvalidArgumentf("configured logging driver does not support reading")
	}
	opts.StateDir = s.stateDir(c.ID)
	entries, err := shim.ReadLogs(ctx, c.LogPath, opts)
	if err != nil {
		return err
	}
	stdout, stderr := newFrameWriters(w)
	if c.Config.Tty {
		stdout, stderr = w, w
	}
	for e := range entries {
		line := e.Line
		if timestamps {
			line = append([]byte(e.Time.UTC().Format(time.RFC3339Nano)+" "), line...)
		}
		dst := stdout
		if e.Stream == "stderr" {
			dst = stderr
		}
		if _, err := dst.Write(line); err != nil {
			return nil // the client went away
		}
	}
	return nil
}
