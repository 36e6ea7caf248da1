// Package oci turns a docker container configuration (container.Config and
// container.HostConfig, already merged with the image config) into an OCI
// runtime spec for runc or crun, reproducing the defaults and option
// handling of docker's daemon: capabilities, namespaces, the standard
// mounts, masked and read-only paths, the device cgroup policy, cgroup
// resources, rlimits, sysctls and docker's default seccomp profile (from
// github.com/moby/profiles/seccomp).
//
// Generate does no I/O of its own: everything it needs from the host or the
// image (rootfs path, /etc/passwd and /etc/group contents, device numbers,
// the daemon's RLIMIT_NOFILE and capability bounding set) arrives in Input,
// so the whole mapping is unit tested without root. (The seccomp package
// calls uname(2) to drop rules for old kernels.) HostDevices,
// HostDeviceNumbers and BoundingCapabilities are the real host lookups.
//
// Not handled yet: user namespaces, joining another container's PID or IPC
// namespace (container:<id>), custom seccomp profiles, AppArmor and SELinux
// labels (ignored, as on a host without them), and --gpus device requests.
package oci

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// SpecVersion is the ociVersion written into specs. It stays at 1.1.0,
// although the specs-go types are newer, because crun up to 1.8 (Debian 12)
// refuses any 1.2+ version with "unknown version specified"; nothing
// Generate emits needs a later version, and runc ignores the field.
const SpecVersion = "1.1.0"

// DefaultPathEnv is docker's PATH for containers whose image sets none.
const DefaultPathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Input is everything spec generation needs; no I/O happens inside Generate.
type Input struct {
	ID     string
	Config *container.Config // from the create request merged with the image config by the caller
	Host   *container.HostConfig
	// RootfsPath is the mounted container rootfs (overlay merged dir).
	RootfsPath string
	// Passwd and Group are the contents of the image's /etc/passwd and
	// /etc/group (may be nil), used to resolve -u name[:group], supplementary
	// groups and --group-add names.
	Passwd, Group []byte
	// Files bind-mounted to /etc/hosts, /etc/resolv.conf and /etc/hostname
	// (empty: not mounted).
	HostsPath, ResolvConfPath, HostnamePath string
	// NetNSPath is "" for a new network namespace, "host" for the host's
	// (as is Host.NetworkMode "host"), or the path of a namespace to join.
	NetNSPath string
	// PidNSPath and IPCNSPath are the namespaces to join for --pid and --ipc
	// container:<id> (/proc/<pid>/ns/...), IPCShmPath that container's /dev/shm.
	PidNSPath, IPCNSPath, IPCShmPath string
	// CgroupsPath is the container's cgroup, e.g. "/berth/<id>" (cgroupfs
	// driver). Empty: Host.CgroupParent (or "/berth") joined with ID.
	CgroupsPath string
	// HostRlimitNofile is the daemon's current hard RLIMIT_NOFILE: a
	// requested nofile limit is clamped to it (0: unknown, no clamping).
	HostRlimitNofile uint64
	// SeccompAvailable is false when the kernel or runtime lacks seccomp:
	// the spec then has no seccomp section.
	SeccompAvailable bool
	// NoX32ABI says the kernel was built without the x32 ABI (host.HasX32ABI): docker's profile
	// then leaves out SCMP_ARCH_X32. No x32 program can run on such a kernel, and runc compiles
	// the profile on every start, a third less work without it.
	NoX32ABI bool
	// InitPath is tini/catatonit on the host for --init ("" makes --init an
	// error).
	InitPath string
	// BoundingCaps is the daemon's capability bounding set (see
	// BoundingCapabilities); --privileged and --cap-add ALL get at most
	// these. nil: every capability.
	BoundingCaps []string
	// NoSwapLimit says the host has no swap accounting; docker then ignores
	// --memory-swap, and so does Generate.
	NoSwapLimit bool

	// Mounts are the container's binds, volumes and --mount entries,
	// already resolved by the caller to OCI mounts. A mount here replaces
	// the default mount at the same destination.
	Mounts []specs.Mount
	// DeviceNumbers resolves a host block device path to its major and
	// minor numbers, for the blkio weight and throttle options (nil: those
	// options are an error). HostDeviceNumbers is the real one.
	DeviceNumbers func(path string) (major, minor int64, err error)
	// LookupDevices lists the device nodes at a host path (the node, or all
	// nodes below a directory) with Path set to their host paths; used for
	// --device and, with "/dev", for --privileged (nil: --device is an
	// error and privileged containers get no device nodes beyond the
	// runtime's defaults). HostDevices is the real one.
	LookupDevices func(hostPath string) ([]specs.LinuxDevice, error)
}

// securityOpts is the part of --security-opt that affects the spec.
type securityOpts struct {
	noNewPrivileges   bool
	seccompUnconfined bool
	writableCgroups   bool
}

// parseSecurityOpts accepts docker's forms: key=value, the legacy key:value,
// and the bare "no-new-privileges". Labels and AppArmor profiles are
// accepted and ignored, as docker does on a host without those LSMs.
func parseSecurityOpts(list []string) (securityOpts, error) {
	var s securityOpts
	for _, opt := range list {
		if opt == "no-new-privileges" {
			s.noNewPrivileges = true
			continue
		}
		if opt == "disable" {
			continue // SELinux labelling off
		}
		var k, v string
		var ok bool
		if strings.Contains(opt, "=") {
			k, v, ok = strings.Cut(opt, "=")
		} else {
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok {
			return s, errdefs.InvalidArgumentf("invalid --security-opt 1: %q", opt)
		}
		switch k {
		case "label", "apparmor":
		case "seccomp":
			switch v {
			case "unconfined":
				s.seccompUnconfined = true
			case "", "builtin":
				s.seccompUnconfined = false
			default:
				return s, errdefs.NotImplementedf("custom seccomp profiles are not supported yet")
			}
		case "no-new-privileges", "writable-cgroups":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return s, errdefs.InvalidArgumentf("invalid --security-opt 2: %q", opt)
			}
			if k == "no-new-privileges" {
				s.noNewPrivileges = b
			} else {
				s.writableCgroups = b
			}
		default:
			return s, errdefs.InvalidArgumentf("invalid --security-opt 2: %q", opt)
		}
	}
	return s, nil
}

// Validate checks everything in a container configuration that can be
// judged without the image or the host, so the create call can refuse a bad
// request up front; Generate runs it again.
func Validate(cfg *container.Config, host *container.HostConfig) error {
	if cfg == nil || host == nil {
		return errdefs.InvalidArgumentf("container config and host config are required")
	}
	if len(cfg.Entrypoint) == 0 && len(cfg.Cmd) == 0 {
		return errdefs.InvalidArgumentf("no command specified")
	}
	if cfg.WorkingDir != "" && !path.IsAbs(cfg.WorkingDir) {
		return errdefs.InvalidArgumentf("the working directory '%s' is invalid, it needs to be an absolute path", cfg.WorkingDir)
	}
	if _, err := Capabilities(host.CapAdd, host.CapDrop, false); err != nil {
		return err
	}
	if _, err := parseSecurityOpts(host.SecurityOpt); err != nil {
		return err
	}
	if host.OomScoreAdj < -1000 || host.OomScoreAdj > 1000 {
		return errdefs.InvalidArgumentf("Invalid value %d, range for oom score adj is [-1000, 1000]", host.OomScoreAdj)
	}
	if !host.IpcMode.Valid() {
		return errdefs.InvalidArgumentf("invalid IPC mode: %v", host.IpcMode)
	}
	if !host.PidMode.Valid() {
		return errdefs.InvalidArgumentf("invalid PID mode: %v", host.PidMode)
	}
	if !host.UTSMode.Valid() {
		return errdefs.InvalidArgumentf("invalid UTS mode: %v", host.UTSMode)
	}
	if !host.CgroupnsMode.Valid() {
		return errdefs.InvalidArgumentf("invalid cgroup namespace mode: %v", host.CgroupnsMode)
	}
	for dest, data := range host.Tmpfs {
		if _, err := TmpfsMount(dest, data); err != nil {
			return err
		}
	}
	return validateResources(&host.Resources)
}

// Generate builds the OCI runtime spec for a container.
func Generate(in Input) (*specs.Spec, error) {
	if err := Validate(in.Config, in.Host); err != nil {
		return nil, err
	}
	if in.RootfsPath == "" {
		return nil, errdefs.InvalidArgumentf("container rootfs path is empty")
	}
	cfg, host := in.Config, in.Host
	sec, _ := parseSecurityOpts(host.SecurityOpt) // validated above
	if (host.PidMode.IsContainer() && in.PidNSPath == "") || (host.IpcMode.IsContainer() && (in.IPCNSPath == "" || in.IPCShmPath == "")) {
		return nil, errdefs.InvalidArgumentf("the namespaces of the container to join are not resolved")
	}

	hostNet := in.NetNSPath == "host" || host.NetworkMode.IsHost()
	pidHost := host.PidMode.IsHost()
	ipcHost := host.IpcMode.IsHost()
	utsHost := host.UTSMode.IsHost()

	s := &specs.Spec{
		Version:  SpecVersion,
		Root:     &specs.Root{Path: in.RootfsPath, Readonly: host.ReadonlyRootfs},
		Process:  &specs.Process{},
		Linux:    &specs.Linux{},
		Hostname: hostname(in, hostNet, utsHost),
	}
	if !utsHost {
		s.Domainname = cfg.Domainname
	}

	// Process.
	args := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	withInit := host.Init != nil && *host.Init && !pidHost
	if withInit {
		if in.InitPath == "" {
			return nil, errdefs.InvalidArgumentf("--init requested but no init binary (tini or catatonit) is available")
		}
		args = append([]string{InitPathInContainer, "--"}, args...)
	}
	p := s.Process
	p.Args = args
	p.Terminal = cfg.Tty
	if cfg.Tty && (host.ConsoleSize[0] > 0 || host.ConsoleSize[1] > 0) {
		p.ConsoleSize = &specs.Box{Height: host.ConsoleSize[0], Width: host.ConsoleSize[1]}
	}
	p.Cwd = "/"
	if cfg.WorkingDir != "" {
		p.Cwd = path.Clean(cfg.WorkingDir)
	}
	p.Env = environment(s.Hostname, cfg.Tty, cfg.Env)
	user, err := ProcessUser(cfg.User, host.GroupAdd, in.Passwd, in.Group)
	if err != nil {
		return nil, err
	}
	if host.Umask != nil {
		m := *host.Umask
		user.Umask = &m
	}
	p.User = user
	caps, err := CapabilitiesWithin(host.CapAdd, host.CapDrop, host.Privileged, in.BoundingCaps)
	if err != nil {
		return nil, err
	}
	p.Capabilities = &specs.LinuxCapabilities{
		Bounding:  caps,
		Effective: append([]string(nil), caps...),
		Permitted: append([]string(nil), caps...),
	}
	p.NoNewPrivileges = sec.noNewPrivileges
	if p.Rlimits, err = rlimits(host.Ulimits, in.HostRlimitNofile); err != nil {
		return nil, err
	}
	oom := host.OomScoreAdj
	p.OOMScoreAdj = &oom

	// Namespaces, in docker's order.
	l := s.Linux
	l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.MountNamespace})
	if !hostNet {
		ns := specs.LinuxNamespace{Type: specs.NetworkNamespace}
		if in.NetNSPath != "" {
			ns.Path = in.NetNSPath
		}
		l.Namespaces = append(l.Namespaces, ns)
	}
	if !utsHost {
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.UTSNamespace})
	}
	if !pidHost {
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: in.PidNSPath})
	}
	if !ipcHost {
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: in.IPCNSPath})
	}
	if host.CgroupnsMode.IsPrivate() {
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}

	// Mounts and the paths hidden from the container.
	if s.Mounts, err = buildMounts(&in, sec, ipcHost, host.IpcMode.IsNone(), withInit); err != nil {
		return nil, err
	}
	if !host.Privileged {
		l.MaskedPaths = DefaultMaskedPaths()
		if host.MaskedPaths != nil {
			l.MaskedPaths = append([]string{}, host.MaskedPaths...)
		}
		l.ReadonlyPaths = DefaultReadonlyPaths()
		if host.ReadonlyPaths != nil {
			l.ReadonlyPaths = append([]string{}, host.ReadonlyPaths...)
		}
	}

	// Devices and cgroup resources.
	if l.Resources, err = buildResources(&in); err != nil {
		return nil, err
	}
	if l.Devices, l.Resources.Devices, err = buildDevices(&in); err != nil {
		return nil, err
	}
	l.CgroupsPath = in.CgroupsPath
	if l.CgroupsPath == "" {
		parent := host.CgroupParent
		if parent == "" {
			parent = "/berth"
		}
		l.CgroupsPath = path.Join(parent, in.ID)
	}

	// Sysctls: docker's defaults for a network namespace of the container's
	// own (ping without CAP_NET_RAW, binding low ports without
	// CAP_NET_BIND_SERVICE), then the user's, which win.
	sysctls := map[string]string{}
	if !hostNet && !host.NetworkMode.IsContainer() {
		sysctls["net.ipv4.ping_group_range"] = "0 2147483647"
		sysctls["net.ipv4.ip_unprivileged_port_start"] = "0"
	}
	for k, v := range host.Sysctls {
		sysctls[k] = v
	}
	if len(sysctls) > 0 {
		l.Sysctl = sysctls
	}

	// Seccomp last: the default profile allows some syscalls depending on
	// the final capability set.
	if in.SeccompAvailable && !host.Privileged && !sec.seccompUnconfined {
		if l.Seccomp, err = seccomp.GetDefaultProfile(s); err != nil {
			return nil, err
		}
		if in.NoX32ABI {
			l.Seccomp.Architectures = slices.DeleteFunc(l.Seccomp.Architectures, func(a specs.Arch) bool { return a == specs.ArchX32 })
		}
	}

	if len(host.Annotations) > 0 {
		s.Annotations = make(map[string]string, len(host.Annotations))
		for k, v := range host.Annotations {
			s.Annotations[k] = v
		}
	}
	return s, nil
}

// hostname is Config.Hostname, defaulting like docker to the short
// container ID; with the host's network or UTS namespace none is set, so
// the container sees the host's name.
func hostname(in Input, hostNet, utsHost bool) string {
	if utsHost {
		return ""
	}
	if in.Config.Hostname != "" {
		return in.Config.Hostname
	}
	if hostNet {
		return ""
	}
	if len(in.ID) > 12 {
		return in.ID[:12]
	}
	return in.ID
}

// environment builds docker's process environment: PATH, HOSTNAME and, with
// a TTY, TERM=xterm, then the container's variables, which replace a
// default of the same name in place; a bare "NAME" unsets it.
func environment(hostname string, tty bool, env []string) []string {
	out := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=" + hostname}
	if tty {
		out = append(out, "TERM=xterm")
	}
	index := map[string]int{}
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		index[k] = i
	}
	removed := map[int]bool{}
	for _, e := range env {
		k, _, hasValue := strings.Cut(e, "=")
		i, exists := index[k]
		switch {
		case !hasValue:
			if exists {
				removed[i] = true
			}
		case exists:
			out[i] = e
			delete(removed, i)
		default:
			index[k] = len(out)
			out = append(out, e)
		}
	}
	if len(removed) == 0 {
		return out
	}
	kept := out[:0]
	for i, e := range out {
		if !removed[i] {
			kept = append(kept, e)
		}
	}
	return kept
}
