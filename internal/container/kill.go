package container

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/runtime"
)

// signal delivers sig to container c. A signal for the init alone, or SIGKILL in a private PID
// namespace (where the init's death takes every other process with it), goes straight to the
// init through a pidfd: one syscall instead of a runtime exec, which matters when fifty
// containers are removed at once. Anything else is the runtime's job (kill --all walks the cgroup).
func (s *Service) signal(ctx context.Context, c *Container, rt *runtime.Runtime, sig syscall.Signal, all bool) error {
	c.mu.Lock()
	pid, privatePid := c.State.Pid, c.HostConfig.PidMode.IsPrivate() // killing a private namespace's init ends all of it
	c.mu.Unlock()
	if pid > 0 && (!all || (sig == syscall.SIGKILL && privatePid)) {
		if err := signalInit(pid, c.ID, sig); err == nil {
			return nil
		}
	}
	return rt.Kill(ctx, c.ID, sig, all)
}

// signalInit signals pid if it still is a process of container id. The pidfd pins the process,
// so the cgroup check made after opening it cannot be fooled by a recycled pid.
func signalInit(pid int, id string, sig syscall.Signal) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return err
	}
	if !strings.Contains(string(cg), "/"+id) {
		return errdefs.NotFoundf("process %d is not container %s's init", pid, id)
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0)
}
