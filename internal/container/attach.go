package container

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/shim"
)

// AttachOptions are the query parameters of POST /containers/{id}/attach.
type AttachOptions struct {
	Stdin, Stdout, Stderr, Logs, Stream bool
	DetachKeys                          string
}

// pendingAttach is an attach made before the container started (docker run): the start holds the
// process between `runc create` and `runc start` until it is connected, so no output is lost.
type pendingAttach struct {
	created chan struct{} // closed once the shim is up, or when the start failed
	ready   chan struct{} // closed by the attacher once connected
}

// attachWait bounds how long a start waits for early attachers to connect.
const attachWait = 5 * time.Second

// Attach connects the client's stream to the container's stdio through its shim; open takes over
// the client connection. An attach made before start is registered before open answers the client,
// so a start the client sends after that answer waits for it; output is framed by the shim as
// docker frames it (raw with a TTY).
func (s *Service) Attach(ctx context.Context, ref string, opts AttachOptions, open func() (io.ReadWriter, error)) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	keys, err := detachKeys(opts.DetachKeys)
	if err != nil {
		return err
	}
	streams := shim.Streams{Stdin: opts.Stdin && c.Config.OpenStdin, Stdout: opts.Stdout, Stderr: opts.Stderr}
	c.mu.Lock()
	if c.State.Status == "removing" {
		c.mu.Unlock()
		return errdefs.Conflictf("container %s is being removed", c.ID)
	}
	var p *pendingAttach
	if opts.Stream && !c.State.Running {
		p = &pendingAttach{created: make(chan struct{}), ready: make(chan struct{})}
		c.pending = append(c.pending, p)
	}
	c.mu.Unlock()
	conn, err := open()
	if err != nil {
		if p != nil {
			c.dropPending(p)
		}
		return err
	}
	if opts.Logs {
		s.copyLogs(ctx, c, shim.LogOptions{Tail: -1, Stdout: opts.Stdout, Stderr: opts.Stderr}, false, conn)
	}
	if !opts.Stream {
		return nil
	}
	var sc net.Conn
	if p == nil {
		if sc, err = shim.Attach(ctx, s.stateDir(c.ID), streams); err != nil {
			c.mu.Lock()
			running := c.State.Running
			c.mu.Unlock()
			if !running {
				return nil // it exited meanwhile: nothing left to attach to
			}
			return err
		}
	} else {
		select {
		case <-p.created:
		case <-ctx.Done():
			c.dropPending(p)
			return ctx.Err()
		}
		sc, err = shim.Attach(ctx, s.stateDir(c.ID), streams)
		close(p.ready)
		if err != nil {
			return nil // the start failed; the client gets the error from its start call
		}
	}
	defer sc.Close()

	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		io.Copy(conn, sc)
	}()
	detached := make(chan struct{})
	if streams.Stdin {
		go func() {
			d := &detachReader{r: conn, keys: keys}
			io.Copy(sc, d)
			if d.detached {
				close(detached)
				return
			}
			// The client closed its input. Like docker: with StdinOnce and no TTY the container's
			// stdin closes too; with a TTY the attach ends (the docker CLI detaches that way).
			if c.Config.StdinOnce && !c.Config.Tty {
				shim.CloseStdin(s.stateDir(c.ID))
				return
			}
			if c.Config.Tty {
				close(detached)
			}
		}()
	}
	select {
	case <-outDone:
	case <-detached:
	case <-ctx.Done():
	}
	return nil
}

// releasePending tells early attachers the shim is up (or that the start failed) and waits a
// bounded time for them to connect; c.mu is held.
func (c *Container) releasePending() {
	pending := c.pending
	c.pending = nil
	for _, p := range pending {
		close(p.created)
	}
	deadline := time.After(attachWait)
	for _, p := range pending {
		select {
		case <-p.ready:
		case <-deadline:
			return
		}
	}
}

func (c *Container) dropPending(p *pendingAttach) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.pending {
		if q == p {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return
		}
	}
}

// Resize sets the terminal size of a container with a TTY.
func (s *Service) Resize(ctx context.Context, ref string, height, width uint) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := c.State.Running
	c.mu.Unlock()
	if !running {
		return errdefs.Conflictf("container %s is not running", c.ID)
	}
	if !c.Config.Tty {
		return nil
	}
	return shim.Resize(s.stateDir(c.ID), int(width), int(height))
}
