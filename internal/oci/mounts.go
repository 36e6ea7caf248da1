package oci

import (
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// DefaultShmSize is docker's /dev/shm size when HostConfig.ShmSize is 0.
const DefaultShmSize int64 = 64 << 20

// InitPathInContainer is where --init's binary is bound; docker's own path,
// so `ps` inside a container looks the same under berth.
const InitPathInContainer = "/sbin/docker-init"

// defaultMounts is docker's base set of kernel filesystems.
func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777"}},
	}
}

// DefaultMaskedPaths returns docker's masked paths (without the per-CPU
// thermal_throttle entries docker adds after probing sysfs).
func DefaultMaskedPaths() []string {
	return []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
}

// DefaultReadonlyPaths returns docker's read-only /proc paths.
func DefaultReadonlyPaths() []string {
	return []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
}

// mountFlagGroup maps each mount flag to the key of the set of flags it
// conflicts with, so that a later "exec" overrides a default "noexec".
var mountFlagGroup = map[string]string{
	"ro": "ro", "rw": "ro",
	"exec": "exec", "noexec": "exec",
	"suid": "suid", "nosuid": "suid",
	"dev": "dev", "nodev": "dev",
	"sync": "sync", "async": "sync",
	"dirsync": "dirsync",
	"atime":   "atime", "noatime": "atime",
	"diratime": "diratime", "nodiratime": "diratime",
	"relatime": "relatime", "norelatime": "relatime",
	"strictatime": "strictatime", "nostrictatime": "strictatime",
	"mand": "mand", "nomand": "mand",
	"remount": "remount",
	"bind":    "bind", "rbind": "bind",
	"private": "propagation", "rprivate": "propagation",
	"shared": "propagation", "rshared": "propagation",
	"slave": "propagation", "rslave": "propagation",
	"unbindable": "propagation", "runbindable": "propagation",
}

// tmpfsDataKeys are the key=value options docker accepts for tmpfs.
var tmpfsDataKeys = map[string]bool{
	"size": true, "mode": true, "uid": true, "gid": true,
	"nr_inodes": true, "nr_blocks": true, "mpol": true,
}

// TmpfsOptions merges docker's tmpfs defaults (noexec, nosuid, nodev,
// rprivate) with a --tmpfs option string such as "rw,exec,size=64m": the
// last occurrence of each flag group or data key wins and keeps its place.
func TmpfsOptions(data string) ([]string, error) {
	opts := []string{"noexec", "nosuid", "nodev", "rprivate"}
	if data != "" {
		opts = append(opts, strings.Split(data, ",")...)
	}
	seen := map[string]bool{}
	var out []string
	for i := len(opts) - 1; i >= 0; i-- {
		o := strings.TrimSpace(opts[i])
		if o == "" || o == "defaults" {
			continue
		}
		key, isFlag := mountFlagGroup[o]
		if !isFlag {
			k, _, ok := strings.Cut(o, "=")
			if !ok || !tmpfsDataKeys[k] {
				return nil, errdefs.InvalidArgumentf("invalid tmpfs option %q", o)
			}
			key = "data:" + k
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, o)
		}
	}
	slices.Reverse(out)
	return out, nil
}

// TmpfsMount is the spec mount for one --tmpfs entry.
func TmpfsMount(dest, data string) (specs.Mount, error) {
	if !path.IsAbs(dest) || path.Clean(dest) == "/" {
		return specs.Mount{}, errdefs.InvalidArgumentf("invalid tmpfs mount %q: the destination must be an absolute path other than /", dest)
	}
	opts, err := TmpfsOptions(data)
	if err != nil {
		return specs.Mount{}, err
	}
	return specs.Mount{Destination: path.Clean(dest), Type: "tmpfs", Source: "tmpfs", Options: opts}, nil
}

// bindMount is how docker mounts daemon-managed files such as /etc/hosts.
func bindMount(src, dest string, readonly bool) specs.Mount {
	opts := []string{"rbind"}
	if readonly {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dest, Type: "bind", Source: src, Options: append(opts, "rprivate")}
}

// mountDepth orders mounts so that a parent is mounted before anything
// beneath it.
func mountDepth(dest string) int {
	return len(strings.Split(path.Clean(dest), "/"))
}

func dropOption(opts []string, o string) []string {
	return slices.DeleteFunc(slices.Clone(opts), func(s string) bool { return s == o })
}

// buildMounts assembles the mount list as docker's WithMounts does: the
// defaults (minus any a user mount replaces, everything under /dev when /dev
// itself is user-mounted, and /dev/shm for --ipc none), the init binary,
// then user mounts ordered by depth.
func buildMounts(in *Input, sec securityOpts, ipcHost, ipcNone, withInit bool) ([]specs.Mount, error) {
	host := in.Host
	var user []specs.Mount

	dests := make([]string, 0, len(host.Tmpfs))
	for d := range host.Tmpfs {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	for _, d := range dests {
		m, err := TmpfsMount(d, host.Tmpfs[d])
		if err != nil {
			return nil, err
		}
		user = append(user, m)
	}
	// Docker's order for its network files.
	if in.ResolvConfPath != "" {
		user = append(user, bindMount(in.ResolvConfPath, "/etc/resolv.conf", host.ReadonlyRootfs))
	}
	if in.HostnamePath != "" {
		user = append(user, bindMount(in.HostnamePath, "/etc/hostname", host.ReadonlyRootfs))
	}
	if in.HostsPath != "" {
		user = append(user, bindMount(in.HostsPath, "/etc/hosts", host.ReadonlyRootfs))
	}
	if ipcHost {
		user = append(user, bindMount("/dev/shm", "/dev/shm", false))
	} else if in.IPCShmPath != "" {
		user = append(user, bindMount(in.IPCShmPath, "/dev/shm", false))
	}
	user = append(user, in.Mounts...)
	sort.SliceStable(user, func(i, j int) bool {
		return mountDepth(user[i].Destination) < mountDepth(user[j].Destination)
	})

	userDest := map[string]bool{}
	for _, m := range user {
		userDest[path.Clean(m.Destination)] = true
	}

	shmSize := host.ShmSize
	if shmSize <= 0 {
		shmSize = DefaultShmSize
	}
	var out []specs.Mount
	for _, m := range defaultMounts() {
		if userDest[m.Destination] {
			continue
		}
		if userDest["/dev"] && strings.HasPrefix(m.Destination, "/dev/") {
			continue
		}
		switch m.Destination {
		case "/dev/shm":
			if ipcNone {
				continue
			}
			m.Options = append(m.Options, "size="+strconv.FormatInt(shmSize, 10))
		case "/proc", "/dev", "/dev/pts", "/dev/mqueue":
			// Always writable: they hold no image data.
		default:
			if host.ReadonlyRootfs && !slices.Contains(m.Options, "ro") {
				m.Options = append(m.Options, "ro")
			}
		}
		if host.Privileged && m.Destination == "/sys" {
			m.Options = dropOption(m.Options, "ro")
		}
		if m.Type == "cgroup" && (host.Privileged || sec.writableCgroups) {
			m.Options = dropOption(m.Options, "ro")
		}
		out = append(out, m)
	}
	if withInit {
		out = append(out, specs.Mount{Destination: InitPathInContainer, Type: "bind", Source: in.InitPath, Options: []string{"bind", "ro"}})
	}
	return append(out, user...), nil
}
