package main

import (
	"os"
	"sync"
	"syscall"
)

// reaper collects every child and orphan the shim inherits as a subreaper.
// A child is claimed either when it is started (run) or, for the container
// init that runc leaves behind, by pid (watch). Statuses of pids that nobody
// has claimed yet are kept until the init is known, so an init that dies
// before its pid file is read still gets its status recorded.
type reaper struct {
	mu      sync.Mutex
	waiting map[int]chan syscall.WaitStatus
	early   map[int]syscall.WaitStatus // nil once the init has been claimed
}

func newReaper() *reaper {
	return &reaper{
		waiting: map[int]chan syscall.WaitStatus{},
		early:   map[int]syscall.WaitStatus{},
	}
}

// loop reaps on every SIGCHLD; signals coalesce, so each wakeup drains all
// exited children.
func (r *reaper) loop(sig <-chan os.Signal) {
	for range sig {
		r.reap()
	}
}

func (r *reaper) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		r.mu.Lock()
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- ws
		} else if r.early != nil && len(r.early) < 256 {
			r.early[pid] = ws
		}
		r.mu.Unlock()
	}
}

// run starts argv with the given stdio and returns a channel that receives
// its wait status. The lock is held across the fork so that the reaper cannot
// see the exit before the pid is registered.
func (r *reaper) run(argv []string, env []string, stdio [3]int) (int, <-chan syscall.WaitStatus, error) {
	ch := make(chan syscall.WaitStatus, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{uintptr(stdio[0]), uintptr(stdio[1]), uintptr(stdio[2])},
		Sys:   &syscall.SysProcAttr{},
	})
	if err != nil {
		return 0, nil, err
	}
	r.waiting[pid] = ch
	return pid, ch, nil
}

// watch claims a pid the shim did not start itself (the reparented init).
// After it, statuses of unclaimed pids are dropped.
func (r *reaper) watch(pid int) <-chan syscall.WaitStatus {
	ch := make(chan syscall.WaitStatus, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ws, ok := r.early[pid]; ok {
		ch <- ws
	} else {
		r.waiting[pid] = ch
	}
	r.early = nil
	return ch
}

// exitCode maps a wait status to docker's exit code: the status, or 128+signal.
func exitCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 255
}
