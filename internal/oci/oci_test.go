package oci

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

const testPasswd = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
`

const testGroup = `root:x:0:root
bin:x:1:root,daemon
staff:x:50:app
app:x:1000:
video:x:44:app,other
nogroup:x:65534:
`

func baseInput() Input {
	return Input{
		ID:         testID,
		Config:     &container.Config{Entrypoint: []string{"/entry.sh"}, Cmd: []string{"echo", "hi"}},
		Host:       &container.HostConfig{},
		RootfsPath: "/var/lib/berth/overlay/abc/merged",
		Passwd:     []byte(testPasswd),
		Group:      []byte(testGroup),
	}
}

func mustGenerate(t *testing.T, in Input) *specs.Spec {
	t.Helper()
	s, err := Generate(in)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return s
}

func findMount(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func nsTypes(s *specs.Spec) []specs.LinuxNamespaceType {
	var out []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		out = append(out, ns.Type)
	}
	return out
}

func hasNS(s *specs.Spec, typ specs.LinuxNamespaceType) bool {
	return slices.Contains(nsTypes(s), typ)
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

func wantErr(t *testing.T, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error containing %q, got nil", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
}

func TestDefaultSpec(t *testing.T) {
	s := mustGenerate(t, baseInput())

	equal(t, "version", s.Version, "1.1.0")
	equal(t, "root", *s.Root, specs.Root{Path: "/var/lib/berth/overlay/abc/merged"})
	equal(t, "hostname", s.Hostname, testID[:12])
	equal(t, "args", s.Process.Args, []string{"/entry.sh", "echo", "hi"})
	equal(t, "env", s.Process.Env, []string{"PATH=" + DefaultPathEnv, "HOSTNAME=" + testID[:12]})
	equal(t, "cwd", s.Process.Cwd, "/")
	equal(t, "terminal", s.Process.Terminal, false)
	// root is a member of bin in the image's /etc/group.
	equal(t, "user", s.Process.User, specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 1}})
	equal(t, "oom score", *s.Process.OOMScoreAdj, 0)
	equal(t, "no new privs", s.Process.NoNewPrivileges, false)
	if s.Process.Rlimits != nil {
		t.Errorf("rlimits = %v, want none", s.Process.Rlimits)
	}

	wantCaps := []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
	c := s.Process.Capabilities
	equal(t, "bounding", c.Bounding, wantCaps)
	equal(t, "effective", c.Effective, wantCaps)
	equal(t, "permitted", c.Permitted, wantCaps)
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Errorf("inheritable/ambient should be empty: %v %v", c.Inheritable, c.Ambient)
	}

	equal(t, "namespaces", s.Linux.Namespaces, []specs.LinuxNamespace{
		{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.UTSNamespace},
		{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
	})
	for _, p := range []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
		"/sys/devices/virtual/powercap"} {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			t.Errorf("masked paths lack %s", p)
		}
	}
	equal(t, "readonly paths", s.Linux.ReadonlyPaths,
		[]string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"})

	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	equal(t, "mounts", dests, []string{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"})
	equal(t, "/dev", findMount(s, "/dev").Options, []string{"nosuid", "strictatime", "mode=755", "size=65536k"})
	equal(t, "/dev/pts", findMount(s, "/dev/pts").Options,
		[]string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"})
	equal(t, "/sys", findMount(s, "/sys").Options, []string{"nosuid", "noexec", "nodev", "ro"})
	equal(t, "/sys/fs/cgroup type", findMount(s, "/sys/fs/cgroup").Type, "cgroup")
	if !slices.Contains(findMount(s, "/sys/fs/cgroup").Options, "ro") {
		t.Error("/sys/fs/cgroup should be read-only")
	}
	equal(t, "/dev/shm", findMount(s, "/dev/shm").Options, []string{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"})

	rules := s.Linux.Resources.Devices
	equal(t, "first device rule", rules[0], specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"})
	allowed := map[[2]int64]bool{}
	for _, r := range rules[1:] {
		if r.Allow && r.Type == "c" && r.Major != nil {
			minor := int64(-1)
			if r.Minor != nil {
				minor = *r.Minor
			}
			allowed[[2]int64{*r.Major, minor}] = true
		}
	}
	for _, d := range [][2]int64{{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {136, -1}} {
		if !allowed[d] {
			t.Errorf("device %d:%d not allowed", d[0], d[1])
		}
	}
	equal(t, "devices", s.Linux.Devices, []specs.LinuxDevice{})
	equal(t, "cgroups path", s.Linux.CgroupsPath, "/berth/"+testID)
	equal(t, "sysctls", s.Linux.Sysctl, map[string]string{
		"net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_unprivileged_port_start": "0",
	})
	if s.Linux.Seccomp != nil {
		t.Error("seccomp must be absent when unavailable")
	}
	if s.Linux.Resources.Memory != nil || s.Linux.Resources.CPU != nil || s.Linux.Resources.Pids != nil || s.Linux.Resources.BlockIO != nil {
		t.Errorf("no resources requested, got %+v", s.Linux.Resources)
	}
}

func TestProcessOptions(t *testing.T) {
	in := baseInput()
	in.Config.Tty = true
	in.Config.WorkingDir = "/srv/app/"
	in.Config.Hostname = "web"
	in.Config.Domainname = "example.org"
	in.Config.Env = []string{"PATH=/opt/bin:/bin", "FOO=bar", "HOSTNAME", "FOO=baz"}
	in.Host.ConsoleSize = [2]uint{40, 120}
	in.Host.OomScoreAdj = 300
	in.Host.Annotations = map[string]string{"a": "b"}
	in.Host.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "1024", "kernel.shmmax": "1"}
	in.CgroupsPath = "/custom/x"
	s := mustGenerate(t, in)

	equal(t, "env", s.Process.Env, []string{"PATH=/opt/bin:/bin", "TERM=xterm", "FOO=baz"})
	equal(t, "terminal", s.Process.Terminal, true)
	equal(t, "console", *s.Process.ConsoleSize, specs.Box{Height: 40, Width: 120})
	equal(t, "cwd", s.Process.Cwd, "/srv/app")
	equal(t, "hostname", s.Hostname, "web")
	equal(t, "domainname", s.Domainname, "example.org")
	equal(t, "oom", *s.Process.OOMScoreAdj, 300)
	equal(t, "annotations", s.Annotations, map[string]string{"a": "b"})
	equal(t, "cgroups path", s.Linux.CgroupsPath, "/custom/x")
	equal(t, "sysctls", s.Linux.Sysctl, map[string]string{
		"net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_unprivileged_port_start": "1024", "kernel.shmmax": "1",
	})

	in = baseInput()
	in.Host.CgroupParent = "/parent"
	in.Host.CgroupnsMode = container.CgroupnsModePrivate
	s = mustGenerate(t, in)
	equal(t, "cgroups path", s.Linux.CgroupsPath, "/parent/"+testID)
	if !hasNS(s, specs.CgroupNamespace) {
		t.Error("private cgroupns should add a cgroup namespace")
	}

	in = baseInput()
	in.Config.WorkingDir = "relative"
	_, err := Generate(in)
	wantErr(t, err, "needs to be an absolute path")
}

func TestNoCommand(t *testing.T) {
	in := baseInput()
	in.Config.Entrypoint, in.Config.Cmd = nil, nil
	_, err := Generate(in)
	wantErr(t, err, "no command specified")
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("error class = %v, want InvalidArgument", errdefs.ClassOf(err))
	}

	in = baseInput()
	in.Config.Entrypoint = nil
	equal(t, "cmd only", mustGenerate(t, in).Process.Args, []string{"echo", "hi"})
}

func TestParseUser(t *testing.T) {
	passwd, group := []byte(testPasswd), []byte(testGroup)
	tests := []struct {
		user       string
		uid, gid   uint32
		additional []uint32
	}{
		{"", 0, 0, []uint32{0, 1}},
		{"root", 0, 0, []uint32{0, 1}},
		{"app", 1000, 1000, []uint32{50, 44}},
		{"1000", 1000, 1000, []uint32{50, 44}},
		{"nobody", 65534, 65534, nil},
		{"4242", 4242, 0, nil},          // numeric and not in passwd: allowed
		{"app:staff", 1000, 50, nil},    // explicit group: no supplementary groups
		{"app:4242", 1000, 4242, nil},   // numeric group not in group file
		{"1000:44", 1000, 44, nil},      //
		{"4242:4343", 4242, 4343, nil},  //
		{"daemon:bin:extra", 1, 1, nil}, // fields past the group are ignored
		{"nobody:nogroup", 65534, 65534, nil},
	}
	for _, tc := range tests {
		uid, gid, add, err := ParseUser(tc.user, passwd, group)
		if err != nil {
			t.Errorf("ParseUser(%q): %v", tc.user, err)
			continue
		}
		if uid != tc.uid || gid != tc.gid || !reflect.DeepEqual(add, tc.additional) {
			t.Errorf("ParseUser(%q) = %d, %d, %v; want %d, %d, %v", tc.user, uid, gid, add, tc.uid, tc.gid, tc.additional)
		}
	}

	_, _, _, err := ParseUser("xyz", passwd, group)
	if err == nil || err.Error() != "unable to find user xyz: no matching entries in passwd file" {
		t.Errorf("unknown user error = %v", err)
	}
	_, _, _, err = ParseUser("app:nosuch", passwd, group)
	if err == nil || err.Error() != "unable to find group nosuch: no matching entries in group file" {
		t.Errorf("unknown group error = %v", err)
	}
	// An image without /etc/passwd: numbers work, names do not.
	if uid, gid, _, err := ParseUser("123:456", nil, nil); err != nil || uid != 123 || gid != 456 {
		t.Errorf("numeric user without passwd = %d, %d, %v", uid, gid, err)
	}
	_, _, _, err = ParseUser("app", nil, nil)
	wantErr(t, err, "unable to find user app: no matching entries in passwd file")
	_, _, _, err = ParseUser("-1", passwd, group)
	wantErr(t, err, "unable to find user -1")
}

func TestUserInSpec(t *testing.T) {
	in := baseInput()
	in.Config.User = "app"
	in.Host.GroupAdd = []string{"video", "777", "staff"}
	umask := uint32(0o027)
	in.Host.Umask = &umask
	s := mustGenerate(t, in)
	equal(t, "user", s.Process.User, specs.User{UID: 1000, GID: 1000, Umask: &umask, AdditionalGids: []uint32{1000, 50, 44, 777}})

	in.Host.GroupAdd = []string{"nosuch"}
	_, err := Generate(in)
	wantErr(t, err, "unable to find group nosuch")

	in = baseInput()
	in.Config.User = "xyz"
	_, err = Generate(in)
	wantErr(t, err, "unable to find user xyz: no matching entries in passwd file")
}

func TestCapabilities(t *testing.T) {
	caps := func(add, drop []string) []string {
		t.Helper()
		c, err := Capabilities(add, drop, false)
		if err != nil {
			t.Fatalf("Capabilities(%v, %v): %v", add, drop, err)
		}
		return c
	}
	c := caps([]string{"net_admin", "CAP_SYS_ADMIN", "chown"}, []string{"Mknod", "CAP_NET_RAW"})
	if !slices.Contains(c, "CAP_NET_ADMIN") || !slices.Contains(c, "CAP_SYS_ADMIN") {
		t.Errorf("adds missing: %v", c)
	}
	if slices.Contains(c, "CAP_MKNOD") || slices.Contains(c, "CAP_NET_RAW") {
		t.Errorf("drops still present: %v", c)
	}
	if len(c) != 14 { // 14 - 2 + 2, chown not duplicated
		t.Errorf("got %d caps: %v", len(c), c)
	}

	c = caps([]string{"ALL"}, []string{"NET_ADMIN"})
	if len(c) != len(allCapabilities)-1 || slices.Contains(c, "CAP_NET_ADMIN") || !slices.Contains(c, "CAP_SYS_ADMIN") {
		t.Errorf("add ALL drop NET_ADMIN: %v", c)
	}
	equal(t, "drop all", caps([]string{"chown", "setuid"}, []string{"all"}), []string{"CAP_CHOWN", "CAP_SETUID"})
	if c := caps(nil, []string{"ALL"}); len(c) != 0 {
		t.Errorf("drop ALL: %v", c)
	}

	c, err := CapabilitiesWithin([]string{"ALL"}, []string{"KILL"}, false, []string{"CAP_CHOWN", "CAP_KILL", "CAP_BPF"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "add ALL within bounding set", c, []string{"CAP_CHOWN", "CAP_BPF"})

	bnd, err := BoundingCapabilities()
	if err != nil || len(bnd) == 0 {
		t.Errorf("BoundingCapabilities() = %v, %v", bnd, err)
	}
	for _, c := range bnd {
		if !slices.Contains(allCapabilities[:], c) {
			t.Errorf("unknown capability %s in bounding set", c)
		}
	}

	_, err = Capabilities([]string{"bogus"}, nil, false)
	wantErr(t, err, `unknown capability: "CAP_BOGUS"`)
	in := baseInput()
	in.Host.CapDrop = []string{"CAP_NOPE"}
	_, err = Generate(in)
	wantErr(t, err, `unknown capability: "CAP_NOPE"`)

	in = baseInput()
	in.Host.CapAdd = []string{"SYS_PTRACE"}
	in.Host.CapDrop = []string{"ALL"}
	s := mustGenerate(t, in)
	equal(t, "bounding", s.Process.Capabilities.Bounding, []string{"CAP_SYS_PTRACE"})
}

func TestPrivileged(t *testing.T) {
	in := baseInput()
	in.Host.Privileged = true
	in.Host.CapDrop = []string{"CHOWN"} // ignored: privileged wins
	in.SeccompAvailable = true
	var looked []string
	in.LookupDevices = func(p string) ([]specs.LinuxDevice, error) {
		looked = append(looked, p)
		return []specs.LinuxDevice{{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0}}, nil
	}
	s := mustGenerate(t, in)

	equal(t, "caps", s.Process.Capabilities.Bounding, allCapabilities[:])

	if s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
		t.Errorf("privileged: masked %v readonly %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if slices.Contains(findMount(s, "/sys").Options, "ro") || slices.Contains(findMount(s, "/sys/fs/cgroup").Options, "ro") {
		t.Error("privileged: /sys and cgroups must be writable")
	}
	if s.Linux.Seccomp != nil {
		t.Error("privileged: no seccomp")
	}
	equal(t, "device rules", s.Linux.Resources.Devices, []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}})
	equal(t, "lookups", looked, []string{"/dev"})
	equal(t, "devices", s.Linux.Devices, []specs.LinuxDevice{{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0}})
	// A daemon without CAP_SYS_RESOURCE cannot pass it on.
	in.BoundingCaps = slices.DeleteFunc(slices.Clone(allCapabilities[:]), func(c string) bool { return c == "CAP_SYS_RESOURCE" })
	b := mustGenerate(t, in).Process.Capabilities.Bounding
	if len(b) != len(allCapabilities)-1 || slices.Contains(b, "CAP_SYS_RESOURCE") {
		t.Errorf("privileged within bounding set: %v", b)
	}
}

func TestReadonlyRootfs(t *testing.T) {
	in := baseInput()
	in.Host.ReadonlyRootfs = true
	in.Host.Tmpfs = map[string]string{"/tmp": ""}
	in.HostsPath = "/run/berth/c/hosts"
	s := mustGenerate(t, in)
	if !s.Root.Readonly {
		t.Error("root should be read-only")
	}
	for _, d := range []string{"/sys", "/sys/fs/cgroup", "/etc/hosts"} {
		if !slices.Contains(findMount(s, d).Options, "ro") {
			t.Errorf("%s should be ro: %v", d, findMount(s, d).Options)
		}
	}
	for _, d := range []string{"/proc", "/dev", "/dev/pts", "/dev/mqueue", "/dev/shm", "/tmp"} {
		if slices.Contains(findMount(s, d).Options, "ro") {
			t.Errorf("%s should stay writable: %v", d, findMount(s, d).Options)
		}
	}
}

func TestResources(t *testing.T) {
	in := baseInput()
	r := &in.Host.Resources
	r.Memory = 128 << 20
	r.MemoryReservation = 64 << 20
	r.NanoCPUs = 1_500_000_000
	r.CPUShares = 512
	r.CpusetCpus = "0-1"
	r.CpusetMems = "0"
	pids := int64(100)
	r.PidsLimit = &pids
	r.BlkioWeight = 300
	r.BlkioWeightDevice = []*blkiodev.WeightDevice{{Path: "/dev/sda", Weight: 200}}
	r.BlkioDeviceReadBps = []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1 << 20}}
	r.BlkioDeviceWriteIOps = []*blkiodev.ThrottleDevice{{Path: "/dev/vdb", Rate: 100}}
	in.Host.ShmSize = 128 << 20
	in.DeviceNumbers = func(p string) (int64, int64, error) {
		switch p {
		case "/dev/sda":
			return 8, 0, nil
		case "/dev/vdb":
			return 254, 16, nil
		}
		return 0, 0, errors.New("no such device")
	}
	s := mustGenerate(t, in)
	res := s.Linux.Resources

	equal(t, "memory limit", *res.Memory.Limit, int64(128<<20))
	equal(t, "swap (2x memory)", *res.Memory.Swap, int64(256<<20))
	equal(t, "reservation", *res.Memory.Reservation, int64(64<<20))
	equal(t, "cpu period", *res.CPU.Period, uint64(100000))
	equal(t, "cpu quota", *res.CPU.Quota, int64(150000))
	equal(t, "cpu shares", *res.CPU.Shares, uint64(512))
	equal(t, "cpuset cpus", res.CPU.Cpus, "0-1")
	equal(t, "cpuset mems", res.CPU.Mems, "0")
	equal(t, "pids", *res.Pids.Limit, int64(100))
	equal(t, "blkio weight", *res.BlockIO.Weight, uint16(300))
	equal(t, "weight device", res.BlockIO.WeightDevice[0].LinuxBlockIODevice, specs.LinuxBlockIODevice{Major: 8, Minor: 0})
	equal(t, "weight device weight", *res.BlockIO.WeightDevice[0].Weight, uint16(200))
	equal(t, "read bps", res.BlockIO.ThrottleReadBpsDevice, []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8}, Rate: 1 << 20}})
	equal(t, "write iops", res.BlockIO.ThrottleWriteIOPSDevice, []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 254, Minor: 16}, Rate: 100}})
	if !slices.Contains(findMount(s, "/dev/shm").Options, "size=134217728") {
		t.Errorf("shm options %v", findMount(s, "/dev/shm").Options)
	}

	// Explicit swap, unlimited swap, no swap accounting, explicit CFS.
	in = baseInput()
	in.Host.Memory, in.Host.MemorySwap = 64<<20, 100<<20
	in.Host.CPUPeriod, in.Host.CPUQuota = 50000, 25000
	zero := int64(0)
	in.Host.PidsLimit = &zero
	s = mustGenerate(t, in)
	equal(t, "swap", *s.Linux.Resources.Memory.Swap, int64(100<<20))
	equal(t, "period", *s.Linux.Resources.CPU.Period, uint64(50000))
	equal(t, "quota", *s.Linux.Resources.CPU.Quota, int64(25000))
	if s.Linux.Resources.Pids != nil {
		t.Error("pids limit 0 means unlimited")
	}
	in.Host.MemorySwap = -1
	if sw := mustGenerate(t, in).Linux.Resources.Memory.Swap; sw != nil {
		t.Errorf("swap -1 should leave swap unset, got %d", *sw)
	}
	in.Host.MemorySwap = 0
	in.NoSwapLimit = true
	if sw := mustGenerate(t, in).Linux.Resources.Memory.Swap; sw != nil {
		t.Errorf("no swap accounting: swap should be unset, got %d", *sw)
	}

	// Throttles need device numbers.
	in = baseInput()
	in.Host.BlkioDeviceWriteBps = []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1}}
	_, err := Generate(in)
	wantErr(t, err, "cannot resolve block device /dev/sda")

	bad := []struct {
		set  func(r *container.Resources)
		want string
	}{
		{func(r *container.Resources) { r.Memory = 1 << 20 }, "Minimum memory limit allowed is 6MB"},
		{func(r *container.Resources) { r.NanoCPUs, r.CPUPeriod = 1e9, 100000 }, "Nano CPUs and CPU Period cannot both be set"},
		{func(r *container.Resources) { r.NanoCPUs, r.CPUQuota = 1e9, 100000 }, "Nano CPUs and CPU Quota cannot both be set"},
		{func(r *container.Resources) { r.MemorySwap = 1 << 30 }, "always set the Memory limit"},
		{func(r *container.Resources) { r.Memory, r.MemorySwap = 1<<30, 1<<29 }, "memoryswap limit should be larger"},
		{func(r *container.Resources) { r.CPUShares = -1 }, "shares: invalid argument"},
		{func(r *container.Resources) { r.BlkioWeight = 5 }, "blkio weight"},
		{func(r *container.Resources) { r.DeviceCgroupRules = []string{"x 1:2 rwm"} }, "invalid device cgroup rule format"},
	}
	for _, b := range bad {
		in := baseInput()
		b.set(&in.Host.Resources)
		_, err := Generate(in)
		wantErr(t, err, b.want)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q: class %v", b.want, errdefs.ClassOf(err))
		}
	}
}

func TestUlimits(t *testing.T) {
	in := baseInput()
	in.HostRlimitNofile = 20000
	in.Host.Ulimits = []*container.Ulimit{
		{Name: "nofile", Soft: 1_000_000, Hard: 1_000_000},
		{Name: "nproc", Soft: 1_000_000, Hard: 2_000_000},
		{Name: "core", Soft: -1, Hard: -1},
	}
	s := mustGenerate(t, in)
	equal(t, "rlimits", s.Process.Rlimits, []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000},
		{Type: "RLIMIT_NPROC", Soft: 1_000_000, Hard: 2_000_000},
		{Type: "RLIMIT_CORE", Soft: ^uint64(0), Hard: ^uint64(0)},
	})

	in.Host.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 1_000_000}, {Name: "NOFILE", Soft: 512, Hard: 4096}}
	equal(t, "later entry wins", mustGenerate(t, in).Process.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 4096}})
	in.Host.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 1_000_000}}
	equal(t, "soft kept", mustGenerate(t, in).Process.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 20000}})

	in.Host.Ulimits = []*container.Ulimit{{Name: "bogus", Soft: 1, Hard: 1}}
	_, err := Generate(in)
	wantErr(t, err, "invalid ulimit type: bogus")
	in.Host.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 10, Hard: 5}}
	_, err = Generate(in)
	wantErr(t, err, "soft limit must be less than or equal to hard limit")
}

func TestNamespacesAndHostModes(t *testing.T) {
	in := baseInput()
	in.NetNSPath = "host"
	s := mustGenerate(t, in)
	if hasNS(s, specs.NetworkNamespace) {
		t.Error("host network: no network namespace")
	}
	equal(t, "hostname", s.Hostname, "")
	if s.Linux.Sysctl != nil {
		t.Errorf("host network: no default sysctls, got %v", s.Linux.Sysctl)
	}

	in = baseInput()
	in.Host.NetworkMode = "host"
	if hasNS(mustGenerate(t, in), specs.NetworkNamespace) {
		t.Error("NetworkMode host: no network namespace")
	}

	in = baseInput()
	in.NetNSPath = "/run/berth/netns/abc"
	s = mustGenerate(t, in)
	equal(t, "net ns", s.Linux.Namespaces[1], specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/run/berth/netns/abc"})

	in = baseInput()
	in.Host.PidMode = "host"
	in.Host.UTSMode = "host"
	in.Config.Hostname = "ignored"
	s = mustGenerate(t, in)
	equal(t, "namespaces", nsTypes(s), []specs.LinuxNamespaceType{specs.MountNamespace, specs.NetworkNamespace, specs.IPCNamespace})
	equal(t, "hostname with host uts", s.Hostname, "")

	in = baseInput()
	in.Host.IpcMode = "host"
	s = mustGenerate(t, in)
	if hasNS(s, specs.IPCNamespace) {
		t.Error("host ipc: no ipc namespace")
	}
	shm := findMount(s, "/dev/shm")
	equal(t, "host shm", *shm, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "rprivate"}})

	in = baseInput()
	in.Host.IpcMode = "none"
	if m := findMount(mustGenerate(t, in), "/dev/shm"); m != nil {
		t.Errorf("ipc none: no /dev/shm, got %+v", m)
	}

	for _, mode := range []container.IpcMode{"bogus", "container:abc"} { // the second: not resolved
		in = baseInput()
		in.Host.IpcMode = mode
		if _, err := Generate(in); err == nil {
			t.Errorf("ipc mode %q should be refused", mode)
		}
	}
	in = baseInput()
	in.Host.PidMode = "container:abc"
	_, err := Generate(in)
	wantErr(t, err, "not resolved")

	// Resolved by the caller: the other container's namespaces are joined, and its /dev/shm
	// replaces the container's own.
	in = baseInput()
	in.Host.PidMode, in.Host.IpcMode = "container:abc", "container:abc"
	in.PidNSPath, in.IPCNSPath, in.IPCShmPath = "/proc/42/ns/pid", "/proc/42/ns/ipc", "/proc/42/root/dev/shm"
	s = mustGenerate(t, in)
	joined := map[specs.LinuxNamespaceType]string{}
	for _, ns := range s.Linux.Namespaces {
		joined[ns.Type] = ns.Path
	}
	if joined[specs.PIDNamespace] != "/proc/42/ns/pid" || joined[specs.IPCNamespace] != "/proc/42/ns/ipc" {
		t.Errorf("namespaces %+v", s.Linux.Namespaces)
	}
	if m := findMount(s, "/dev/shm"); m == nil || m.Type != "bind" || m.Source != "/proc/42/root/dev/shm" {
		t.Errorf("/dev/shm of ipc container mode: %+v", m)
	}
}

func TestTmpfs(t *testing.T) {
	in := baseInput()
	in.Host.Tmpfs = map[string]string{"/run": "rw,noexec,size=64m", "/scratch": "exec,mode=1777", "/tmp": ""}
	s := mustGenerate(t, in)
	equal(t, "/run", *findMount(s, "/run"), specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs",
		Options: []string{"nosuid", "nodev", "rprivate", "rw", "noexec", "size=64m"}})
	equal(t, "/scratch", findMount(s, "/scratch").Options, []string{"nosuid", "nodev", "rprivate", "exec", "mode=1777"})
	equal(t, "/tmp", findMount(s, "/tmp").Options, []string{"noexec", "nosuid", "nodev", "rprivate"})

	_, err := TmpfsOptions("size=1m,bogus")
	wantErr(t, err, `invalid tmpfs option "bogus"`)
	in.Host.Tmpfs = map[string]string{"/": ""}
	_, err = Generate(in)
	wantErr(t, err, "absolute path other than /")
	in.Host.Tmpfs = map[string]string{"relative": ""}
	_, err = Generate(in)
	wantErr(t, err, "absolute path other than /")
}

func TestMountsFilesAndOverrides(t *testing.T) {
	in := baseInput()
	in.HostsPath, in.ResolvConfPath, in.HostnamePath = "/c/hosts", "/c/resolv.conf", "/c/hostname"
	in.Mounts = []specs.Mount{
		{Destination: "/data/sub", Type: "bind", Source: "/srv/b", Options: []string{"rbind"}},
		{Destination: "/data", Type: "bind", Source: "/srv/a", Options: []string{"rbind"}},
		{Destination: "/dev/shm", Type: "bind", Source: "/host/shm", Options: []string{"rbind"}},
	}
	s := mustGenerate(t, in)
	equal(t, "hosts", *findMount(s, "/etc/hosts"), specs.Mount{Destination: "/etc/hosts", Type: "bind", Source: "/c/hosts", Options: []string{"rbind", "rprivate"}})
	equal(t, "resolv source", findMount(s, "/etc/resolv.conf").Source, "/c/resolv.conf")
	equal(t, "hostname source", findMount(s, "/etc/hostname").Source, "/c/hostname")
	equal(t, "shm replaced", findMount(s, "/dev/shm").Source, "/host/shm")

	pos := map[string]int{}
	for i, m := range s.Mounts {
		if _, dup := pos[m.Destination]; dup {
			t.Errorf("duplicate mount %s", m.Destination)
		}
		pos[m.Destination] = i
	}
	if pos["/data"] > pos["/data/sub"] {
		t.Error("parent mount must come before its child")
	}

	in = baseInput()
	in.Mounts = []specs.Mount{{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}}}
	s = mustGenerate(t, in)
	for _, m := range s.Mounts {
		if strings.HasPrefix(m.Destination, "/dev/") {
			t.Errorf("user /dev mount should drop default %s", m.Destination)
		}
	}
}

func TestInit(t *testing.T) {
	yes := true
	in := baseInput()
	in.Host.Init = &yes
	in.InitPath = "/usr/bin/tini"
	s := mustGenerate(t, in)
	equal(t, "args", s.Process.Args, []string{"/sbin/docker-init", "--", "/entry.sh", "echo", "hi"})
	equal(t, "init mount", *findMount(s, "/sbin/docker-init"),
		specs.Mount{Destination: "/sbin/docker-init", Type: "bind", Source: "/usr/bin/tini", Options: []string{"bind", "ro"}})

	in.InitPath = ""
	_, err := Generate(in)
	wantErr(t, err, "--init requested")

	// With the host's PID namespace there is already an init: docker skips it.
	in.Host.PidMode = "host"
	s = mustGenerate(t, in)
	equal(t, "args", s.Process.Args, []string{"/entry.sh", "echo", "hi"})
}

func TestSecurityOpts(t *testing.T) {
	in := baseInput()
	in.SeccompAvailable = true
	s := mustGenerate(t, in)
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Fatalf("default seccomp profile missing: %+v", s.Linux.Seccomp)
	}
	allows := func(s *specs.Spec, name string) bool {
		for _, sc := range s.Linux.Seccomp.Syscalls {
			if sc.Action == specs.ActAllow && slices.Contains(sc.Names, name) {
				return true
			}
		}
		return false
	}
	if !allows(s, "read") || allows(s, "mount") {
		t.Error("default profile: read allowed, mount not")
	}
	if !slices.Contains(s.Linux.Seccomp.Architectures, specs.ArchX32) {
		t.Errorf("docker's profile covers x32 unless told otherwise: %v", s.Linux.Seccomp.Architectures)
	}
	in.NoX32ABI = true
	if archs := mustGenerate(t, in).Linux.Seccomp.Architectures; slices.Contains(archs, specs.ArchX32) || !slices.Contains(archs, specs.ArchX86) {
		t.Errorf("without the x32 ABI: architectures %v, want x86 kept and x32 left out", archs)
	}
	in.NoX32ABI = false
	in.Host.CapAdd = []string{"SYS_ADMIN"}
	if !allows(mustGenerate(t, in), "mount") {
		t.Error("CAP_SYS_ADMIN should allow mount in the default profile")
	}

	for _, opt := range []string{"seccomp=unconfined", "seccomp:unconfined"} {
		in = baseInput()
		in.SeccompAvailable = true
		in.Host.SecurityOpt = []string{opt, "apparmor=unconfined", "label=disable"}
		if mustGenerate(t, in).Linux.Seccomp != nil {
			t.Errorf("%s: no seccomp expected", opt)
		}
	}
	in.Host.SecurityOpt = []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}
	_, err := Generate(in)
	wantErr(t, err, "custom seccomp profiles are not supported yet")

	for _, opt := range []string{"no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"} {
		in = baseInput()
		in.Host.SecurityOpt = []string{opt}
		if !mustGenerate(t, in).Process.NoNewPrivileges {
			t.Errorf("%s: noNewPrivileges not set", opt)
		}
	}
	in.Host.SecurityOpt = []string{"no-new-privileges=maybe"}
	_, err = Generate(in)
	wantErr(t, err, "invalid --security-opt 2")
	in.Host.SecurityOpt = []string{"bogus"}
	_, err = Generate(in)
	wantErr(t, err, "invalid --security-opt 1")

	in = baseInput()
	in.Host.SecurityOpt = []string{"writable-cgroups=true"}
	if slices.Contains(findMount(mustGenerate(t, in), "/sys/fs/cgroup").Options, "ro") {
		t.Error("writable-cgroups: cgroup mount should be rw")
	}

	in = baseInput()
	in.Host.MaskedPaths, in.Host.ReadonlyPaths = []string{}, []string{"/proc/x"}
	s = mustGenerate(t, in)
	equal(t, "masked override", s.Linux.MaskedPaths, []string{})
	equal(t, "readonly override", s.Linux.ReadonlyPaths, []string{"/proc/x"})
}

func TestDevices(t *testing.T) {
	mode := os.FileMode(0o666)
	in := baseInput()
	in.LookupDevices = func(p string) ([]specs.LinuxDevice, error) {
		switch p {
		case "/dev/fuse":
			return []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode}}, nil
		case "/dev/snd":
			return []specs.LinuxDevice{
				{Path: "/dev/snd/controlC0", Type: "c", Major: 116, Minor: 0},
				{Path: "/dev/snd/pcmC0D0p", Type: "c", Major: 116, Minor: 16},
			}, nil
		}
		return nil, errors.New("no such file or directory")
	}
	in.Host.Devices = []container.DeviceMapping{
		{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"},
		{PathOnHost: "/dev/snd", PathInContainer: "/dev/sound", CgroupPermissions: "rw"},
	}
	in.Host.DeviceCgroupRules = []string{"c 13:* rwm", "a *:* m"}
	s := mustGenerate(t, in)
	equal(t, "devices", s.Linux.Devices, []specs.LinuxDevice{
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode},
		{Path: "/dev/sound/controlC0", Type: "c", Major: 116, Minor: 0},
		{Path: "/dev/sound/pcmC0D0p", Type: "c", Major: 116, Minor: 16},
	})
	rules := s.Linux.Resources.Devices
	n := len(defaultDeviceRules())
	equal(t, "extra rules", rules[n:], []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Major: i64(10), Minor: i64(229), Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(116), Minor: i64(0), Access: "rw"},
		{Allow: true, Type: "c", Major: i64(116), Minor: i64(16), Access: "rw"},
		{Allow: true, Type: "c", Major: i64(13), Access: "rwm"},
		{Allow: true, Type: "a", Access: "m"},
	})

	in.Host.Devices = []container.DeviceMapping{{PathOnHost: "/dev/nope", PathInContainer: "/dev/nope", CgroupPermissions: "rwm"}}
	_, err := Generate(in)
	wantErr(t, err, `adding custom device "/dev/nope"`)
	in.LookupDevices = nil
	_, err = Generate(in)
	wantErr(t, err, "device lookup is not available")

	in = baseInput()
	in.Host.DeviceRequests = []container.DeviceRequest{{Count: -1}}
	_, err = Generate(in)
	wantErr(t, err, "not supported")
}

func TestHostDeviceLookups(t *testing.T) {
	devs, err := HostDevices("/dev/null")
	if err != nil {
		t.Skipf("no /dev/null here: %v", err)
	}
	if len(devs) != 1 || devs[0].Type != "c" || devs[0].Major != 1 || devs[0].Minor != 3 || devs[0].Path != "/dev/null" {
		t.Errorf("HostDevices(/dev/null) = %+v", devs)
	}
	if major, minor, err := HostDeviceNumbers("/dev/null"); err != nil || major != 1 || minor != 3 {
		t.Errorf("HostDeviceNumbers(/dev/null) = %d, %d, %v", major, minor, err)
	}

	dir := t.TempDir()
	if err := os.WriteFile(dir+"/file", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if devs, err := HostDevices(dir); err != nil || len(devs) != 0 {
		t.Errorf("HostDevices(dir without nodes) = %v, %v", devs, err)
	}
	if _, err := HostDevices(dir + "/file"); err == nil {
		t.Error("a regular file is not a device")
	}
	if _, _, err := HostDeviceNumbers(dir + "/file"); err == nil {
		t.Error("a regular file has no device numbers")
	}
	if _, err := HostDevices(dir + "/missing"); err == nil {
		t.Error("missing path should fail")
	}
}
