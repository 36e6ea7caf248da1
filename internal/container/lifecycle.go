package container

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	netsvc "github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/shim"
)

// Runner holds what starting processes needs; the daemon fills it from its configuration.
type Runner struct {
	ExecRoot       string // per-container bundles and shim state: ExecRoot/<id>
	ShmRoot        string // the /dev/shm of --ipc shareable containers: ShmRoot/<id>
	ShimPath       string
	Runtimes       map[string]*runtime.Runtime
	DefaultRuntime string
	InitPath       string // tini or catatonit for --init
	NoX32ABI       bool   // the kernel cannot run x32 programs (see oci.Input)
}

func (s *Service) runtimeFor(c *Container) (*runtime.Runtime, error) {
	name := c.HostConfig.Runtime
	if name == "" {
		name = s.run.DefaultRuntime
	}
	rt, ok := s.run.Runtimes[name]
	if !ok {
		return nil, errdefs.InvalidArgumentf("unknown or invalid runtime name: %s", name)
	}
	return rt, nil
}

func (s *Service) stateDir(id string) string { return filepath.Join(s.run.ExecRoot, id) }

// Start starts a created or exited container.
func (s *Service) Start(ctx context.Context, ref string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.State.Running {
		c.mu.Unlock()
		return errdefs.As(errdefs.NotModified, fmt.Errorf("container %s is already running", c.ID))
	}
	if c.State.Status == "removing" {
		c.mu.Unlock()
		return errdefs.Conflictf("container %s is marked for removal and cannot be started", c.ID)
	}
	c.ManualStop = false
	err = s.startLocked(ctx, c)
	if err == nil {
		c.mu.Unlock()
		return nil
	}
	c.State.Error = err.Error()
	c.State.ExitCode = exitCodeFor(err)
	c.save(s.dir(c.ID))
	c.releasePending() // attach calls waiting for the start give up
	c.notifyExit()
	autoRemove := c.HostConfig.AutoRemove
	c.mu.Unlock()
	if autoRemove {
		// docker run --rm waits for the removal even when the start failed.
		if rerr := s.Remove(context.Background(), c.ID, true, true); rerr != nil {
			s.log.Warn("auto-remove after failed start", "id", c.ID, "err", rerr)
		}
	}
	return err
}

// exitCodeFor is the exit code docker records for a container whose start failed.
func exitCodeFor(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"):
		return 126
	}
	return 128
}

// startLocked mounts the rootfs, writes the bundle and launches the shim; c.mu is held.
func (s *Service) startLocked(ctx context.Context, c *Container) error {
	rt, err := s.runtimeFor(c)
	if err != nil {
		return err
	}
	img, err := s.images.Get(ctx, c.Image.String())
	if err != nil {
		return err
	}
	rootfs, err := s.layers.MountRW(c.ID, img.Chain, c.HostConfig.AutoRemove)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		s.detachNetwork(c)
		s.unmountVolumes(c)
		s.layers.UnmountRW(c.ID)
		return err
	}
	netns, err := s.attachNetwork(c)
	if err != nil {
		return fail(err)
	}
	if err := s.writeEtcFiles(c); err != nil {
		return fail(err)
	}
	mounts, err := s.setupMounts(ctx, c, rootfs)
	if err != nil {
		return fail(err)
	}
	var hardNofile uint64
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil {
		hardNofile = rl.Max
	}
	in := oci.Input{
		ID: c.ID, Config: c.Config, Host: c.HostConfig, RootfsPath: rootfs,
		Passwd: readInRoot(rootfs, "etc/passwd"), Group: readInRoot(rootfs, "etc/group"),
		HostsPath: c.HostsPath, ResolvConfPath: c.ResolvConfPath, HostnamePath: c.HostnamePath,
		CgroupsPath: "/berth/" + c.ID, HostRlimitNofile: hardNofile, SeccompAvailable: true,
		InitPath: s.run.InitPath, NoX32ABI: s.run.NoX32ABI, DeviceNumbers: oci.HostDeviceNumbers, LookupDevices: oci.HostDevices,
		Mounts: mounts,
	}
	in.BoundingCaps, _ = oci.BoundingCapabilities()
	in.NetNSPath = netns
	if err := s.joinNamespaces(c, &in); err != nil {
		return fail(err)
	}
	spec, err := oci.Generate(in)
	if err != nil {
		return fail(errdefs.As(errdefs.InvalidArgument, err))
	}
	rt.Prepare(spec)
	bundle := s.stateDir(c.ID)
	// The previous run's shim may still be deleting that run from the runtime.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := shim.WaitGone(wctx, bundle); err != nil {
		s.log.Warn("previous run's shim", "id", c.ID, "err", err)
	}
	cancel()
	os.RemoveAll(bundle) // a previous run's state
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return fail(err)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), raw, 0o600); err != nil {
		return fail(err)
	}
	rt.Delete(ctx, c.ID) // leftovers of a run whose shim died
	// The run starts before the launch so that attach, which reads the log from this time on, misses nothing.
	runStart := time.Now().UTC()
	h, err := shim.Launch(ctx, s.run.ShimPath, shim.Options{
		ID: c.ID, Bundle: bundle, Runtime: rt.Path, RuntimeRoot: rt.Root, StateDir: bundle,
		LogPath: c.LogPath, LogMaxSize: 10 << 20, LogMaxFiles: 3,
		Tty: c.Config.Tty, Stdin: c.Config.OpenStdin,
		// StdinOnce is applied by Attach, which can tell a client's EOF from a detach; the shim cannot.
		HoldOutput: len(c.pending) > 0,
	})
	if err != nil {
		return fail(classifyStartError(err))
	}
	if len(c.pending) > 0 {
		c.releasePending()
		if err := shim.Release(ctx, bundle); err != nil {
			s.log.Warn("releasing the output to attach clients", "id", c.ID, "err", err)
		}
	}
	c.State = State{Status: string(container.StateRunning), Running: true, Pid: h.Pid, StartedAt: runStart}
	c.HasBeenStartedBefore = true
	s.startHealth(c, h.Pid)
	if err := c.saveState(s.dir(c.ID)); err != nil {
		s.log.Warn("saving container state", "id", c.ID, "err", err)
	}
	s.events.Emit("container", "start", c.ID, c.attributes())
	go s.monitor(c, h.Pid)
	return nil
}

// classifyStartError marks a command that cannot be run as the client's fault (400), as docker does;
// the CLI then maps the message to exit code 127 (not found) or 126 (cannot invoke).
func classifyStartError(err error) error {
	msg := runtime.NormalizeMessage(err.Error())
	wrapped := fmt.Errorf("failed to create task for container: %s: unknown", msg)
	for _, bad := range []string{"executable file not found", "no such file or directory", "permission denied", "is a directory"} {
		if strings.Contains(msg, bad) {
			return errdefs.As(errdefs.InvalidArgument, wrapped)
		}
	}
	return wrapped
}

// joinNamespaces resolves --pid and --ipc container:<id> to that running container's namespaces
// (and, for IPC, its /dev/shm), and gives an --ipc shareable container a /dev/shm that others can
// bind: a tmpfs berthd mounts on the host, as docker does; c.mu is held.
func (s *Service) joinNamespaces(c *Container, in *oci.Input) error {
	if c.HostConfig.IpcMode.IsShareable() {
		dir := s.shmDir(c.ID)
		if err := mountShm(dir, c.HostConfig.ShmSize); err != nil {
			return err
		}
		in.IPCShmPath = dir
	}
	// donor is the running container ref, with its /proc directory.
	donor := func(ref, what string) (*Container, string, error) {
		other, err := s.Get(ref)
		if err != nil {
			return nil, "", err
		}
		if other == c {
			return nil, "", errdefs.InvalidArgumentf("cannot join own %s namespace", what)
		}
		other.mu.Lock()
		defer other.mu.Unlock()
		if !other.State.Running {
			return nil, "", errdefs.Conflictf("cannot join %s of a non running container: %s", what, other.ID)
		}
		return other, "/proc/" + strconv.Itoa(other.State.Pid), nil
	}
	if ref := c.HostConfig.PidMode.Container(); ref != "" {
		_, proc, err := donor(ref, "PID")
		if err != nil {
			return err
		}
		in.PidNSPath = proc + "/ns/pid"
	}
	if ref := c.HostConfig.IpcMode.Container(); ref != "" {
		other, proc, err := donor(ref, "IPC")
		if err != nil {
			return err
		}
		if !other.HostConfig.IpcMode.IsShareable() {
			return errdefs.InvalidArgumentf("non-shareable IPC (hint: use IpcMode:shareable for the donor container)")
		}
		in.IPCNSPath, in.IPCShmPath = proc+"/ns/ipc", s.shmDir(other.ID)
	}
	return nil
}

func readInRoot(root, rel string) []byte {
	p, err := securejoin.SecureJoin(root, rel)
	if err != nil {
		return nil
	}
	b, _ := os.ReadFile(p)
	return b
}

// writeEtcFiles writes the hostname, hosts and resolv.conf the container sees; a container
// sharing another's network namespace sees that one's files, as in docker.
func (s *Service) writeEtcFiles(c *Container) error {
	if mode := c.HostConfig.NetworkMode; mode.IsContainer() {
		other, err := s.Get(mode.ConnectedContainer())
		if err != nil {
			return err
		}
		c.HostsPath, c.ResolvConfPath, c.HostnamePath = other.HostsPath, other.ResolvConfPath, other.HostnamePath
		return nil
	}
	host := c.Config.Hostname
	if c.HostConfig.NetworkMode.IsHost() {
		host, _ = os.Hostname()
	}
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
	for _, h := range c.HostConfig.ExtraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if ok {
			hosts += ip + "\t" + name + "\n"
		}
	}
	if ip := c.primaryIP(); ip.IsValid() {
		hosts += ip.String() + "\t" + host + "\n"
	} else if host != "" && !c.HostConfig.NetworkMode.IsHost() {
		hosts += "127.0.1.1\t" + host + "\n"
	}
	var embedded []netip.Addr
	if s.nets != nil && c.Sandbox != nil {
		embedded = s.nets.Nameservers(c.Sandbox)
	}
	files := map[string]string{c.HostnamePath: host + "\n", c.HostsPath: hosts, c.ResolvConfPath: resolvConf(c.HostConfig.DNS, embedded, c.HostConfig.DNSSearch, c.HostConfig.DNSOptions)}
	for p, content := range files {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// resolvConf is the container's resolv.conf: --dns servers, else the network's embedded DNS,
// else the host's resolvers minus loopback ones (meaningless in the container's namespace).
func resolvConf(dns, embedded []netip.Addr, search, options []string) string {
	var b strings.Builder
	switch {
	case len(dns) > 0:
		for _, d := range dns {
			b.WriteString("nameserver " + d.String() + "\n")
		}
	case len(embedded) > 0:
		for _, d := range embedded {
			b.WriteString("nameserver " + d.String() + "\n")
		}
	default:
		for _, ns := range netsvc.ContainerNameservers() {
			b.WriteString("nameserver " + ns + "\n")
		}
	}
	if len(search) == 0 {
		search = hostSearch()
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	if len(embedded) > 0 && len(dns) == 0 && len(options) == 0 {
		options = []string{"ndots:0"}
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return b.String()
}

// hostSearch is the host's search domains.
func hostSearch() []string {
	raw, _ := os.ReadFile("/etc/resolv.conf")
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "search" {
			return f[1:]
		}
	}
	return nil
}

// monitor waits for the container's exit through the shim and applies the restart policy.
func (s *Service) monitor(c *Container, pid int) {
	exit, err := shim.WaitExit(context.Background(), s.stateDir(c.ID))
	c.mu.Lock()
	if c.State.Pid != pid {
		c.mu.Unlock()
		return // a newer run owns the container
	}
	code := 255 // the shim died without recording the exit, as restore records it too
	if err == nil {
		code = exit.ExitCode
	}
	now := time.Now().UTC()
	if err == nil && !exit.FinishedAt.IsZero() {
		now = exit.FinishedAt
	}
	c.State.Running, c.State.Pid, c.State.ExitCode, c.State.FinishedAt = false, 0, code, now
	c.State.Paused = false
	c.State.Status = string(container.StateExited)
	if err == nil {
		c.State.OOMKilled = exit.OOMKilled
	}
	if rt, rerr := s.runtimeFor(c); rerr == nil && err != nil {
		rt.Delete(context.Background(), c.ID) // the shim died without recording the exit, so it cannot delete either
	}
	restart := s.shouldRestart(c)
	if restart {
		c.RestartCount++
	}
	c.saveState(s.dir(c.ID))
	c.notifyExit()
	autoRemove := c.HostConfig.AutoRemove && !restart
	s.events.Emit("container", "die", c.ID, merge(c.attributes(), map[string]string{"exitCode": fmt.Sprint(code)}))
	// Waiters have their answer; the unmount (which syncs a non-volatile upper layer) runs
	// after it, still under the lock so that nothing remounts or removes the layer meanwhile.
	s.layers.UnmountRW(c.ID)
	s.unmountVolumes(c)
	s.detachNetwork(c)
	c.mu.Unlock()

	if restart {
		time.Sleep(restartDelay(c.RestartCount))
		c.mu.Lock()
		if !c.ManualStop && !c.State.Running && c.State.Status != "removing" {
			if err := s.startLocked(context.Background(), c); err != nil {
				s.log.Warn("restart failed", "id", c.ID, "err", err)
			}
		}
		c.mu.Unlock()
		return
	}
	if autoRemove {
		if err := s.Remove(context.Background(), c.ID, true, true); err != nil {
			s.log.Warn("auto-remove", "id", c.ID, "err", err)
		}
	}
}

func (s *Service) shouldRestart(c *Container) bool {
	if c.ManualStop {
		return false
	}
	p := c.HostConfig.RestartPolicy
	switch p.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return c.State.ExitCode != 0 && (p.MaximumRetryCount == 0 || c.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// restartDelay backs off like docker: 100 ms doubling, at most a minute.
func restartDelay(n int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < n && d < time.Minute; i++ {
		d *= 2
	}
	if d > time.Minute {
		d = time.Minute
	}
	return d
}

// Stop signals the container with its stop signal and kills it after timeout seconds.
func (s *Service) Stop(ctx context.Context, ref string, timeout *int, signal string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if !c.State.Running {
		c.mu.Unlock()
		return errdefs.As(errdefs.NotModified, fmt.Errorf("container %s is already stopped", c.ID))
	}
	c.ManualStop = true
	c.save(s.dir(c.ID))
	exited := c.exitChan()
	c.mu.Unlock()
	return s.stopAndWait(ctx, c, exited, timeout, signal)
}

func (s *Service) stopAndWait(ctx context.Context, c *Container, exited <-chan struct{}, timeout *int, signal string) error {
	rt, err := s.runtimeFor(c)
	if err != nil {
		return err
	}
	if signal == "" {
		signal = c.Config.StopSignal
	}
	sig, err := ParseSignal(signal, syscall.SIGTERM)
	if err != nil {
		return err
	}
	wait := 10
	if c.Config.StopTimeout != nil {
		wait = *c.Config.StopTimeout
	}
	if timeout != nil {
		wait = *timeout
	}
	c.mu.Lock()
	paused := c.State.Paused
	c.mu.Unlock()
	// A frozen container takes its signal only once thawed, as docker does it.
	thaw := func() {
		if paused {
			rt.Resume(ctx, c.ID)
		}
	}
	if wait != 0 && sig != syscall.SIGKILL {
		if err := s.signal(ctx, c, rt, sig, false); err != nil && !errdefs.IsConflict(err) {
			return err
		}
		thaw()
		if wait < 0 {
			<-exited
			return nil
		}
		select {
		case <-exited:
			return nil
		case <-time.After(time.Duration(wait) * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := s.signal(ctx, c, rt, syscall.SIGKILL, true); err != nil && !errdefs.IsConflict(err) {
		return err
	}
	thaw()
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("container %s did not exit 30s after SIGKILL", c.ID)
	}
}

// Kill sends a signal (SIGKILL by default) to a running container.
func (s *Service) Kill(ctx context.Context, ref, signal string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	sig, err := ParseSignal(signal, syscall.SIGKILL)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := c.State.Running
	if running && sig == syscall.SIGKILL {
		c.ManualStop = true // docker does not restart a container the user killed
	}
	c.mu.Unlock()
	if !running {
		return errdefs.Conflictf("cannot kill container: %s: container %s is not running", ref, c.ID)
	}
	rt, err := s.runtimeFor(c)
	if err != nil {
		return err
	}
	s.events.Emit("container", "kill", c.ID, merge(c.attributes(), map[string]string{"signal": fmt.Sprint(int(sig))}))
	return s.signal(ctx, c, rt, sig, sig == syscall.SIGKILL)
}

// Restart stops (if running) and starts a container.
func (s *Service) Restart(ctx context.Context, ref string, timeout *int, signal string) error {
	if err := s.Stop(ctx, ref, timeout, signal); err != nil && errdefs.ClassOf(err) != errdefs.NotModified {
		return err
	}
	if err := s.Start(ctx, ref); err != nil {
		return err
	}
	if c, err := s.Get(ref); err == nil {
		s.events.Emit("container", "restart", c.ID, c.attributes())
	}
	return nil
}

// Remove deletes a container; a running one needs force and is killed first. removeVolumes also
// removes its anonymous volumes (rm -v, --rm).
func (s *Service) Remove(ctx context.Context, ref string, force, removeVolumes bool) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.State.Status == "removing" {
		c.mu.Unlock()
		return errdefs.Conflictf("removal of container %s is already in progress", c.ID)
	}
	if c.State.Running {
		if !force {
			c.mu.Unlock()
			return errdefs.Conflictf("cannot remove container %q: container is running: stop the container before removing or force remove", c.Name)
		}
		c.ManualStop = true
		exited := c.exitChan()
		c.mu.Unlock()
		zero := 0
		if err := s.stopAndWait(ctx, c, exited, &zero, "SIGKILL"); err != nil {
			return err
		}
		c.mu.Lock()
	}
	c.State.Status = "removing"
	c.mu.Unlock()

	// A shim still running deletes the container from the runtime itself, right after it has
	// recorded the exit; nothing here needs that done first.
	if rt, err := s.runtimeFor(c); err == nil && shim.Gone(s.stateDir(c.ID)) {
		rt.Delete(ctx, c.ID)
	}
	if err := s.layers.RemoveRW(c.ID); err != nil {
		return err
	}
	os.RemoveAll(s.stateDir(c.ID))
	// Removing the record last: a crash before this leaves a container that can be removed again.
	if err := os.RemoveAll(s.dir(c.ID)); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.byID, c.ID)
	delete(s.byName, c.Name)
	s.mu.Unlock()
	s.releaseMounts(ctx, c, removeVolumes)
	c.mu.Lock()
	c.notifyRemoved()
	c.mu.Unlock()
	s.events.Emit("container", "destroy", c.ID, c.attributes())
	return nil
}

// WaitResult is what POST /containers/{id}/wait answers.
type WaitResult struct {
	StatusCode int
	Err        error
}

// Wait blocks until the condition holds: "not-running" (default), "next-exit" or "removed".
func (s *Service) Wait(ctx context.Context, ref, condition string) (<-chan WaitResult, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	var ch <-chan struct{}
	switch condition {
	case "", "not-running":
		if !c.State.Running {
			code := c.State.ExitCode
			c.mu.Unlock()
			res := make(chan WaitResult, 1)
			res <- WaitResult{StatusCode: code}
			return res, nil
		}
		ch = c.exitChan()
	case "next-exit":
		ch = c.exitChan()
	case "removed":
		ch = c.removedChan()
	default:
		c.mu.Unlock()
		return nil, errdefs.InvalidArgumentf("invalid condition: %q", condition)
	}
	c.mu.Unlock()
	res := make(chan WaitResult, 1)
	go func() {
		select {
		case <-ch:
			c.mu.Lock()
			res <- WaitResult{StatusCode: c.State.ExitCode}
			c.mu.Unlock()
		case <-ctx.Done():
			res <- WaitResult{StatusCode: -1, Err: ctx.Err()}
		}
	}()
	return res, nil
}

// exitChan is closed at the next exit of the container; c.mu is held.
func (c *Container) exitChan() <-chan struct{} {
	if c.exited == nil {
		c.exited = make(chan struct{})
	}
	return c.exited
}

func (c *Container) notifyExit() {
	if c.exited != nil {
		close(c.exited)
		c.exited = nil
	}
}

func (c *Container) removedChan() <-chan struct{} {
	if c.removed == nil {
		c.removed = make(chan struct{})
	}
	return c.removed
}

func (c *Container) notifyRemoved() {
	c.notifyExit()
	if c.removed != nil {
		close(c.removed)
		c.removed = nil
	}
}

func (c *Container) attributes() map[string]string {
	attrs := map[string]string{"name": strings.TrimPrefix(c.Name, "/"), "image": c.ImageName}
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	return attrs
}

func merge(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// ParseSignal reads "SIGTERM", "TERM", "term" or "15"; empty gives def.
func ParseSignal(s string, def syscall.Signal) (syscall.Signal, error) {
	if s == "" {
		return def, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		if n <= 0 || n > 64 {
			return 0, errdefs.InvalidArgumentf("invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "SIG"))
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	return 0, errdefs.InvalidArgumentf("invalid signal: %s", s)
}
