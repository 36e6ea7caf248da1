package container

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
)

// Top runs ps on the host and keeps the lines of the container's processes.
func (s *Service) Top(ctx context.Context, ref, psArgs string) (*container.TopResponse, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	running, paused := c.State.Running, c.State.Paused
	c.mu.Unlock()
	if !running {
		return nil, errdefs.Conflictf("Container %s is not running", c.ID)
	}
	if paused {
		return nil, errdefs.Conflictf("Container %s is paused, unpause the container before running top", c.ID)
	}
	rt, err := s.runtimeFor(c)
	if err != nil {
		return nil, err
	}
	pids, err := rt.Pids(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if psArgs == "" {
		psArgs = "-ef"
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ps", strings.Fields(psArgs)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errdefs.InvalidArgumentf("Error running ps: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parsePS(out, pids)
}

// parsePS keeps the ps lines whose PID column is one of pids; the last column may contain spaces.
func parsePS(out []byte, pids []int) (*container.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	titles := strings.Fields(lines[0])
	pidCol := -1
	for i, t := range titles {
		if t == "PID" {
			pidCol = i
			break
		}
	}
	if pidCol < 0 {
		return nil, errdefs.InvalidArgumentf("Couldn't find PID field in ps output")
	}
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	resp := &container.TopResponse{Titles: titles, Processes: [][]string{}}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= pidCol {
			continue
		}
		pid, err := strconv.Atoi(f[pidCol])
		if err != nil || !want[pid] {
			continue
		}
		if len(f) > len(titles) {
			f = append(f[:len(titles)-1], strings.Join(f[len(titles)-1:], " "))
		}
		resp.Processes = append(resp.Processes, f)
	}
	return resp, nil
}

// Pause freezes a running container.
func (s *Service) Pause(ctx context.Context, ref string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.State.Running {
		return errdefs.Conflictf("Container %s is not running", c.ID)
	}
	if c.State.Paused {
		return errdefs.Conflictf("Container %s is already paused", c.ID)
	}
	rt, err := s.runtimeFor(c)
	if err != nil {
		return err
	}
	if err := rt.Pause(ctx, c.ID); err != nil {
		return fmt.Errorf("cannot pause container %s: %w", c.ID, err)
	}
	c.State.Paused, c.State.Status = true, string(container.StatePaused)
	c.save(s.dir(c.ID))
	s.events.Emit("container", "pause", c.ID, c.attributes())
	return nil
}

// Unpause thaws a paused container.
func (s *Service) Unpause(ctx context.Context, ref string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.State.Paused {
		return errdefs.Conflictf("Container %s is not paused", c.ID)
	}
	rt, err := s.runtimeFor(c)
	if err != nil {
		return err
	}
	if err := rt.Resume(ctx, c.ID); err != nil {
		return fmt.Errorf("cannot unpause container %s: %w", c.ID, err)
	}
	c.State.Paused = false
	if c.State.Running {
		c.State.Status = string(container.StateRunning)
	}
	c.save(s.dir(c.ID))
	s.events.Emit("container", "unpause", c.ID, c.attributes())
	return nil
}

// Rename gives a container a new name under the rules of create.
func (s *Service) Rename(ctx context.Context, ref, newName string) error {
	if ref == "" || newName == "" {
		return errdefs.InvalidArgumentf("Neither old nor new names may be empty")
	}
	if !validName.MatchString(newName) {
		return errdefs.InvalidArgumentf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", newName)
	}
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	name := "/" + strings.TrimPrefix(newName, "/")
	s.mu.Lock()
	c.mu.Lock()
	old := c.Name
	if old == name {
		c.mu.Unlock()
		s.mu.Unlock()
		return errdefs.InvalidArgumentf("Renaming a container with the same name as its current name")
	}
	if other, taken := s.byName[name]; taken {
		c.mu.Unlock()
		s.mu.Unlock()
		return errdefs.Conflictf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", name, other)
	}
	c.Name = name
	if err := c.save(s.dir(c.ID)); err != nil {
		c.Name = old
		c.mu.Unlock()
		s.mu.Unlock()
		return err
	}
	delete(s.byName, old)
	s.byName[name] = c.ID
	attrs := merge(c.attributes(), map[string]string{"oldName": old})
	c.mu.Unlock()
	s.mu.Unlock()
	s.events.Emit("container", "rename", c.ID, attrs)
	return nil
}

// Prune removes stopped containers matching the until and label filters.
func (s *Service) Prune(ctx context.Context, f filters.Args) (*container.PruneReport, error) {
	if err := f.Validate("until", "label", "label!"); err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	var until time.Time
	if vals := f.Get("until"); len(vals) > 0 {
		if len(vals) > 1 {
			return nil, errdefs.InvalidArgumentf("more than one until filter specified")
		}
		t, err := filters.ParseTimestamp(vals[0], time.Now())
		if err != nil {
			return nil, errdefs.InvalidArgumentf("failed to parse value %q as a timestamp for the until filter: %v", vals[0], err)
		}
		until = t
	}
	s.mu.Lock()
	var cands []*Container
	for _, c := range s.byID {
		cands = append(cands, c)
	}
	s.mu.Unlock()
	rep := &container.PruneReport{ContainersDeleted: []string{}}
	for _, c := range cands {
		c.mu.Lock()
		skip := c.State.Running || c.State.Paused || c.State.Restarting || c.State.Status == "removing"
		created, labels := c.Created, c.Config.Labels
		c.mu.Unlock()
		if skip || (!until.IsZero() && !created.Before(until)) || !f.MatchLabels("label", labels) {
			continue
		}
		size := dirSize(s.layers.UpperDir(c.ID))
		if err := s.Remove(ctx, c.ID, false, false); err != nil {
			s.log.Warn("prune container", "id", c.ID, "err", err)
			continue
		}
		rep.ContainersDeleted = append(rep.ContainersDeleted, c.ID)
		rep.SpaceReclaimed += uint64(size)
	}
	s.events.Emit("container", "prune", "", map[string]string{"reclaimed": strconv.FormatUint(rep.SpaceReclaimed, 10)})
	return rep, nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// Update changes a container's resource limits and restart policy, live when it runs.
func (s *Service) Update(ctx context.Context, ref string, u container.UpdateConfig) ([]string, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State.Status == "removing" {
		return nil, errdefs.Conflictf("Cannot update container %s: container is marked for removal and cannot be \"update\"", c.ID)
	}
	hc := *c.HostConfig
	r := u.Resources
	if r.Memory != 0 {
		hc.Memory = r.Memory
	}
	if r.MemorySwap != 0 {
		hc.MemorySwap = r.MemorySwap
	}
	if r.NanoCPUs != 0 {
		hc.NanoCPUs = r.NanoCPUs
	}
	if r.CPUShares != 0 {
		hc.CPUShares = r.CPUShares
	}
	if r.CpusetCpus != "" {
		hc.CpusetCpus = r.CpusetCpus
	}
	if r.PidsLimit != nil {
		hc.PidsLimit = r.PidsLimit
	}
	if r.BlkioWeight != 0 {
		hc.BlkioWeight = r.BlkioWeight
	}
	if u.RestartPolicy.Name != "" {
		if hc.AutoRemove && u.RestartPolicy.Name != "no" {
			return nil, errdefs.InvalidArgumentf("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		hc.RestartPolicy = u.RestartPolicy
	}
	if hc.Memory > 0 && hc.MemorySwap > 0 && hc.MemorySwap < hc.Memory {
		return nil, errdefs.InvalidArgumentf("Cannot update container %s: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time", c.ID)
	}
	if err := validateHostConfig(&hc); err != nil {
		return nil, err
	}
	if r.NanoCPUs != 0 && (r.NanoCPUs < 0 || r.NanoCPUs > int64(numCPU())*1e9) {
		return nil, errdefs.InvalidArgumentf("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", numCPU(), numCPU())
	}
	if c.State.Running {
		rt, err := s.runtimeFor(c)
		if err != nil {
			return nil, err
		}
		if err := rt.Update(ctx, c.ID, linuxResources(&hc)); err != nil {
			return nil, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
		}
	}
	c.HostConfig = &hc
	if err := c.save(s.dir(c.ID)); err != nil {
		return nil, err
	}
	s.events.Emit("container", "update", c.ID, c.attributes())
	return []string{}, nil
}

// linuxResources renders the updatable limits of hc for the runtime.
func linuxResources(hc *container.HostConfig) *specs.LinuxResources {
	res := &specs.LinuxResources{CPU: &specs.LinuxCPU{}, Memory: &specs.LinuxMemory{}}
	if hc.Memory != 0 {
		m := hc.Memory
		res.Memory.Limit = &m
		if hc.MemorySwap != 0 {
			sw := hc.MemorySwap
			res.Memory.Swap = &sw
		}
	}
	if hc.CPUShares != 0 {
		sh := uint64(hc.CPUShares)
		res.CPU.Shares = &sh
	}
	if hc.NanoCPUs != 0 {
		period := uint64(100000)
		quota := hc.NanoCPUs * int64(period) / 1e9
		res.CPU.Period, res.CPU.Quota = &period, &quota
	}
	res.CPU.Cpus = hc.CpusetCpus
	if hc.PidsLimit != nil && *hc.PidsLimit != 0 {
		limit := *hc.PidsLimit
		res.Pids = &specs.LinuxPids{Limit: &limit}
	}
	if hc.BlkioWeight != 0 {
		w := hc.BlkioWeight
		res.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return res
}

func numCPU() int { return goruntime.NumCPU() }
