package container

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"

	apitypes "github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/runtime"
)

// Docker's healthcheck defaults and limits.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 30 * time.Second
	defaultHealthRetries  = 3
	healthLogEntries      = 5
	healthOutputMax       = 4096
)

// healthProbe returns the command a healthcheck runs, or nil when there is none.
func healthProbe(h *container.HealthConfig) []string {
	if h == nil || len(h.Test) == 0 {
		return nil
	}
	switch h.Test[0] {
	case "CMD":
		return h.Test[1:]
	case "CMD-SHELL":
		if len(h.Test) < 2 {
			return nil
		}
		return []string{"/bin/sh", "-c", h.Test[1]}
	}
	return nil // NONE, or an unknown form
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// startHealth begins probing for the run whose init is pid; c.mu is held.
func (s *Service) startHealth(c *Container, pid int) {
	probe := healthProbe(c.Config.Healthcheck)
	if probe == nil {
		c.State.Health = nil
		return
	}
	c.State.Health = &container.Health{Status: container.Starting, Log: []*container.HealthcheckResult{}}
	go s.healthLoop(c, pid, probe)
}

func (s *Service) healthLoop(c *Container, pid int, probe []string) {
	h := c.Config.Healthcheck
	interval := orDefault(h.Interval, defaultHealthInterval)
	timeout := orDefault(h.Timeout, defaultHealthTimeout)
	retries := h.Retries
	if retries <= 0 {
		retries = defaultHealthRetries
	}
	started := time.Now()
	startInterval := orDefault(h.StartInterval, 5*time.Second)
	for {
		wait := interval
		if h.StartPeriod > 0 && time.Since(started) < h.StartPeriod && startInterval < interval {
			wait = startInterval
		}
		time.Sleep(wait)
		c.mu.Lock()
		current := c.State.Running && c.State.Pid == pid
		c.mu.Unlock()
		if !current {
			return
		}
		res := s.runProbe(c, probe, timeout)
		c.mu.Lock()
		if !c.State.Running || c.State.Pid != pid || c.State.Health == nil {
			c.mu.Unlock()
			return
		}
		health := c.State.Health
		health.Log = append(health.Log, res)
		if len(health.Log) > healthLogEntries {
			health.Log = health.Log[len(health.Log)-healthLogEntries:]
		}
		old := health.Status
		if res.ExitCode == 0 {
			health.Status, health.FailingStreak = container.Healthy, 0
		} else if !(h.StartPeriod > 0 && time.Since(started) < h.StartPeriod) {
			// Failures during the start period do not count, as in docker.
			health.FailingStreak++
			if health.FailingStreak >= retries {
				health.Status = container.Unhealthy
			}
		}
		action := ""
		if health.Status != old {
			s.events.Emit("container", "health_status: "+string(health.Status), c.ID, c.attributes())
			c.saveState(s.dir(c.ID))
			if health.Status == container.Unhealthy {
				action = c.Config.Labels[apitypes.HealthOnFailureLabel]
			}
		}
		c.mu.Unlock()
		if action != "" && action != "none" {
			s.onUnhealthy(c, action)
			return // the action ends or replaces this run; a restart brings its own loop
		}
	}
}

func validHealthOnFailure(v string) bool {
	switch v {
	case "", "none", "kill", "restart", "stop":
		return true
	}
	return false
}

// onUnhealthy carries out the container's health-on-failure action.
func (s *Service) onUnhealthy(c *Container, action string) {
	ctx := context.Background()
	var err error
	switch action {
	case "kill":
		// Not a user's kill: the restart policy still decides what happens next.
		var rt *runtime.Runtime
		if rt, err = s.runtimeFor(c); err == nil {
			err = rt.Kill(ctx, c.ID, syscall.SIGKILL, true)
		}
	case "restart":
		err = s.Restart(ctx, c.ID, nil, "")
	case "stop":
		err = s.Stop(ctx, c.ID, nil, "")
	}
	if err != nil {
		s.log.Warn("health-on-failure action", "id", c.ID, "action", action, "err", err)
	}
}

// runProbe runs one healthcheck command in the container.
func (s *Service) runProbe(c *Container, probe []string, timeout time.Duration) *container.HealthcheckResult {
	res := &container.HealthcheckResult{Start: time.Now(), ExitCode: -1}
	defer func() { res.End = time.Now() }()
	rt, err := s.runtimeFor(c)
	if err != nil {
		res.Output = err.Error()
		return res
	}
	p, err := s.execProcess(&execProc{container: c, req: container.ExecCreateRequest{Cmd: probe}})
	if err != nil {
		res.Output = err.Error()
		return res
	}
	r, w, err := os.Pipe()
	if err != nil {
		res.Output = err.Error()
		return res
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		r.Close()
		w.Close()
		res.Output = err.Error()
		return res
	}
	defer devnull.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&limitedBuffer{buf: &out, max: healthOutputMax}, r)
		r.Close()
		close(copied)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pidFile := filepath.Join(s.stateDir(c.ID), "health-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".pid")
	defer os.Remove(pidFile)
	code, err := rt.Exec(ctx, c.ID, p, runtime.ExecIO{Stdin: devnull, Stdout: w, Stderr: w}, pidFile)
	w.Close()
	<-copied
	switch {
	case ctx.Err() != nil:
		res.Output = "Health check exceeded timeout (" + timeout.String() + ")"
	case err != nil:
		res.Output = err.Error()
	default:
		res.ExitCode, res.Output = code, out.String()
	}
	return res
}

// limitedBuffer keeps the first max bytes and discards the rest, so a chatty probe costs no memory.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}
