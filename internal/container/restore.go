package container

import (
	"context"
	"os"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/shim"
)

// Restore re-adopts containers after a daemon start: running ones are monitored again through their
// shims, ones that exited while berthd was away get their exit recorded, half-removed ones are
// removed, and restart policies are applied as docker does on daemon start.
func (s *Service) Restore(ctx context.Context) {
	s.mu.Lock()
	all := make([]*Container, 0, len(s.byID))
	for _, c := range s.byID {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.mu.Lock()
		status := c.State.Status
		c.mu.Unlock()
		if status == "removing" {
			if err := s.Remove(ctx, c.ID, true, c.HostConfig.AutoRemove); err != nil {
				s.log.Warn("finishing removal", "id", c.ID, "err", err)
			}
			continue
		}
		s.restoreOne(ctx, c)
	}
	s.removeOrphanStateDirs()
}

// removeOrphanStateDirs removes the bundle and shim directories of containers berthd has no
// record of (a removal it did not finish), unless a shim still serves one.
func (s *Service) removeOrphanStateDirs() {
	entries, _ := os.ReadDir(s.run.ExecRoot)
	for _, e := range entries {
		s.mu.Lock()
		_, known := s.byID[e.Name()]
		s.mu.Unlock()
		if dir := s.stateDir(e.Name()); !known && e.IsDir() && shim.Gone(dir) {
			os.RemoveAll(dir)
		}
	}
}

func (s *Service) restoreOne(ctx context.Context, c *Container) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State.Running {
		running, _, exit, err := shim.Status(s.stateDir(c.ID))
		if err == nil && running {
			if s.nets != nil && c.Sandbox != nil {
				if err := s.nets.Restore(c.ID, c.Sandbox); err != nil {
					s.log.Warn("re-adopting the container's network", "id", c.ID, "err", err)
				}
			}
			go s.monitor(c, c.State.Pid)
			s.startHealth(c, c.State.Pid)
			return
		}
		code := 255 // the shim died without recording the exit
		finished := time.Now().UTC()
		if exit != nil {
			code, finished = exit.ExitCode, exit.FinishedAt
		}
		c.State = State{Status: string(container.StateExited), ExitCode: code, StartedAt: c.State.StartedAt, FinishedAt: finished}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		shim.WaitGone(wctx, s.stateDir(c.ID)) // a finishing shim deletes the container itself
		cancel()
		if rt, err := s.runtimeFor(c); err == nil {
			rt.Delete(ctx, c.ID)
		}
		s.layers.UnmountRW(c.ID)
		s.unmountVolumes(c)
		s.detachNetwork(c)
		c.saveState(s.dir(c.ID))
	} else {
		s.undoUnfinishedStart(ctx, c)
	}
	p := c.HostConfig.RestartPolicy.Name
	if c.ManualStop || !c.HasBeenStartedBefore || (p != "always" && p != "unless-stopped" && !(p == "on-failure" && c.State.ExitCode != 0)) {
		return
	}
	if err := s.startLocked(ctx, c); err != nil {
		s.log.Warn("restart on daemon start", "id", c.ID, "err", err)
	}
}

// undoUnfinishedStart cleans up after a start that berthd was killed in: the record does not say
// running, yet the runtime may have started the container (a shim serves it) and its rootfs may
// be mounted. The start never completed, so it is undone, as a failed start would be; c.mu is held.
func (s *Service) undoUnfinishedStart(ctx context.Context, c *Container) {
	dir := s.stateDir(c.ID)
	rt, err := s.runtimeFor(c)
	if err != nil {
		return
	}
	if !shim.Gone(dir) {
		s.log.Warn("stopping a container whose start did not finish", "id", c.ID)
		rt.Kill(ctx, c.ID, syscall.SIGKILL, true)
		// The shim itself too: it may hold the output for attach clients that will not come.
		shim.Kill(dir)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		shim.WaitGone(wctx, dir)
		cancel()
	}
	rt.Delete(ctx, c.ID)
	s.layers.UnmountRW(c.ID)
	os.RemoveAll(dir)
}
