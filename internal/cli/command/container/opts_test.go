package container

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"
)

// parseArgs parses run-style arguments (flags, IMAGE, COMMAND...) as create and run do.
func parseArgs(t *testing.T, args ...string) (*containerConfig, error) {
	t.Helper()
	flags := pflag.NewFlagSet("run", pflag.ContinueOnError)
	flags.SetInterspersed(false)
	o := addContainerFlags(flags, "")
	if err := flags.Parse(args); err != nil {
		return nil, err
	}
	return parse(flags, o, flags.Args())
}

func mustParse(t *testing.T, args ...string) *containerConfig {
	t.Helper()
	cfg, err := parseArgs(t, args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return cfg
}

func port(s string) network.Port { return network.MustParsePort(s) }

func TestParseDefaults(t *testing.T) {
	cfg := mustParse(t, "busybox", "sh", "-c", "echo hi")
	c, h := cfg.Config, cfg.HostConfig
	if c.Image != "busybox" || !reflect.DeepEqual(c.Cmd, []string{"sh", "-c", "echo hi"}) || c.Entrypoint != nil {
		t.Errorf("image/cmd %+v", c)
	}
	if c.AttachStdin || !c.AttachStdout || !c.AttachStderr || c.OpenStdin || c.StdinOnce || c.Tty {
		t.Errorf("attach defaults %+v", c)
	}
	if h.NetworkMode != "default" || h.RestartPolicy.Name != "no" || h.AutoRemove || h.Init != nil ||
		h.PidsLimit != nil || h.OomKillDisable != nil || h.MemorySwappiness != nil || c.StopTimeout != nil || c.Healthcheck != nil {
		t.Errorf("host defaults %+v", h)
	}
	if len(cfg.NetworkingConfig.EndpointsConfig) != 0 || cfg.Platform != nil {
		t.Errorf("networking %+v", cfg.NetworkingConfig)
	}
	// The request encodes as the API expects.
	raw, err := json.Marshal(container.CreateRequest{Config: c, HostConfig: h, NetworkingConfig: cfg.NetworkingConfig})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Image":"busybox"`, `"NetworkMode":"default"`, `"RestartPolicy":{"Name":"no","MaximumRetryCount":0}`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("request lacks %s: %s", want, raw)
		}
	}
}

func TestParseStreamsAndProcess(t *testing.T) {
	cfg := mustParse(t, "-i", "-t", "-e", "A=1", "--env", "B", "-w", "/work", "-u", "1000:1000", "--entrypoint", "/bin/sh",
		"--hostname", "box", "--domainname", "example.org", "-l", "x=1", "--label", "flag", "--stop-signal", "SIGUSR1",
		"--stop-timeout", "30", "--init", "--runtime", "runc", "--rm", "--name", "ignored-here", "busybox")
	c, h := cfg.Config, cfg.HostConfig
	if !c.AttachStdin || !c.OpenStdin || !c.StdinOnce || !c.Tty || !c.AttachStdout {
		t.Errorf("-it %+v", c)
	}
	if !reflect.DeepEqual(c.Env, []string{"A=1", "B"}) || c.WorkingDir != "/work" || c.User != "1000:1000" ||
		!reflect.DeepEqual(c.Entrypoint, []string{"/bin/sh"}) || c.Hostname != "box" || c.Domainname != "example.org" {
		t.Errorf("process %+v", c)
	}
	if !reflect.DeepEqual(c.Labels, map[string]string{"x": "1", "flag": ""}) || c.StopSignal != "SIGUSR1" || *c.StopTimeout != 30 {
		t.Errorf("labels/stop %+v", c)
	}
	if h.Init == nil || !*h.Init || h.Runtime != "runc" || !h.AutoRemove {
		t.Errorf("host %+v", h)
	}

	cfg = mustParse(t, "-a", "stderr", "--entrypoint=", "busybox")
	if cfg.Config.AttachStdout || !cfg.Config.AttachStderr || cfg.Config.AttachStdin || !reflect.DeepEqual(cfg.Config.Entrypoint, []string{""}) {
		t.Errorf("-a stderr / empty entrypoint %+v", cfg.Config)
	}
	cfg = mustParse(t, "-a", "stdin", "busybox")
	if !cfg.Config.AttachStdin || cfg.Config.OpenStdin || cfg.Config.StdinOnce {
		t.Errorf("-a stdin %+v", cfg.Config)
	}
}

func TestParseEnvAndLabelFiles(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	labelFile := filepath.Join(dir, "labels")
	_ = os.WriteFile(envFile, []byte("A=from-file\nB=2\n"), 0o644)
	_ = os.WriteFile(labelFile, []byte("# c\nteam=core\nx=file\n"), 0o644)
	cfg := mustParse(t, "--env-file", envFile, "-e", "A=flag", "--label-file", labelFile, "-l", "x=flag", "busybox")
	// Files first, flags after (so flags win in the container).
	if !reflect.DeepEqual(cfg.Config.Env, []string{"A=from-file", "B=2", "A=flag"}) {
		t.Errorf("env %q", cfg.Config.Env)
	}
	if !reflect.DeepEqual(cfg.Config.Labels, map[string]string{"team": "core", "x": "flag"}) {
		t.Errorf("labels %v", cfg.Config.Labels)
	}
	if _, err := parseArgs(t, "--env-file", filepath.Join(dir, "nope"), "busybox"); err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("missing env file: %v", err)
	}
}

func TestParseRestartAndHealth(t *testing.T) {
	for in, want := range map[string]container.RestartPolicy{
		"always":         {Name: "always"},
		"on-failure:3":   {Name: "on-failure", MaximumRetryCount: 3},
		"on-failure":     {Name: "on-failure"},
		"unless-stopped": {Name: "unless-stopped"},
	} {
		cfg := mustParse(t, "--restart", in, "busybox")
		if cfg.HostConfig.RestartPolicy != want {
			t.Errorf("%q: %+v", in, cfg.HostConfig.RestartPolicy)
		}
	}
	cfg := mustParse(t, "--health-cmd", "curl -f localhost", "--health-interval", "5s", "--health-timeout", "2s",
		"--health-retries", "4", "--health-start-period", "1m", "--health-start-interval", "500ms", "busybox")
	want := &container.HealthConfig{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: 5 * time.Second,
		Timeout: 2 * time.Second, Retries: 4, StartPeriod: time.Minute, StartInterval: 500 * time.Millisecond}
	if !reflect.DeepEqual(cfg.Config.Healthcheck, want) {
		t.Errorf("health %+v", cfg.Config.Healthcheck)
	}
	cfg = mustParse(t, "--no-healthcheck", "busybox")
	if !reflect.DeepEqual(cfg.Config.Healthcheck.Test, []string{"NONE"}) {
		t.Errorf("no healthcheck %+v", cfg.Config.Healthcheck)
	}
}

func TestParseResources(t *testing.T) {
	cfg := mustParse(t, "-m", "512m", "--memory-swap", "-1", "--memory-reservation", "256m", "--cpus", "1.5",
		"-c", "512", "--cpuset-cpus", "0-1", "--cpuset-mems", "0", "--cpu-period", "100000", "--cpu-quota", "50000",
		"--pids-limit", "100", "--blkio-weight", "300", "--blkio-weight-device", "/dev/sda:200",
		"--device-read-bps", "/dev/sda:1mb", "--device-write-bps", "/dev/sda:2m", "--device-read-iops", "/dev/sda:100",
		"--device-write-iops", "/dev/sda:200", "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=64",
		"--oom-kill-disable", "--memory-swappiness", "10", "--shm-size", "64m", "busybox")
	r := cfg.HostConfig.Resources
	if r.Memory != 512<<20 || r.MemorySwap != -1 || r.MemoryReservation != 256<<20 || r.NanoCPUs != 15e8 ||
		r.CPUShares != 512 || r.CpusetCpus != "0-1" || r.CpusetMems != "0" || r.CPUPeriod != 100000 || r.CPUQuota != 50000 {
		t.Errorf("cpu/memory %+v", r)
	}
	if *r.PidsLimit != 100 || r.BlkioWeight != 300 || *r.OomKillDisable != true || *r.MemorySwappiness != 10 || cfg.HostConfig.ShmSize != 64<<20 {
		t.Errorf("limits %+v", r)
	}
	if !reflect.DeepEqual(r.BlkioWeightDevice, []*blkiodev.WeightDevice{{Path: "/dev/sda", Weight: 200}}) ||
		!reflect.DeepEqual(r.BlkioDeviceReadBps, []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1 << 20}}) ||
		!reflect.DeepEqual(r.BlkioDeviceWriteBps, []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 2 << 20}}) ||
		!reflect.DeepEqual(r.BlkioDeviceReadIOps, []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 100}}) ||
		!reflect.DeepEqual(r.BlkioDeviceWriteIOps, []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 200}}) {
		t.Errorf("blkio %+v", r)
	}
	if len(r.Ulimits) != 2 || r.Ulimits[0].Name != "nofile" || r.Ulimits[0].Soft != 1024 || r.Ulimits[0].Hard != 2048 ||
		r.Ulimits[1].Name != "nproc" || r.Ulimits[1].Hard != 64 {
		t.Errorf("ulimits %+v", r.Ulimits)
	}
}

func TestParseSecurityAndNamespaces(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "seccomp.json")
	_ = os.WriteFile(profile, []byte("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n"), 0o644)
	cfg := mustParse(t, "--privileged", "--cap-add", "net_admin", "--cap-add", "CAP_SYS_TIME", "--cap-drop", "ALL",
		"--cap-drop", "net_admin", "--security-opt", "no-new-privileges", "--security-opt", "seccomp="+profile,
		"--security-opt", "apparmor=unconfined", "--security-opt", "systempaths=unconfined", "--read-only",
		"--pid", "host", "--ipc", "shareable", "--uts", "host", "--userns", "host", "--cgroupns", "private",
		"--group-add", "audio", "--device", "/dev/fuse", "--device", "/dev/sda:/dev/xvda:r", "--device", "/dev/tty0:rw",
		"--device-cgroup-rule", "c 1:3 mr", "--sysctl", "net.core.somaxconn=1024", "--oom-score-adj", "-500",
		"--annotation", "a=b", "busybox")
	h := cfg.HostConfig
	if !h.Privileged || !h.ReadonlyRootfs || !reflect.DeepEqual(h.CapAdd, []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}) ||
		!reflect.DeepEqual(h.CapDrop, []string{"ALL"}) {
		t.Errorf("caps %+v %+v", h.CapAdd, h.CapDrop)
	}
	want := []string{"no-new-privileges", `seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`, "apparmor=unconfined"}
	if !reflect.DeepEqual(h.SecurityOpt, want) || h.MaskedPaths == nil || len(h.MaskedPaths) != 0 || h.ReadonlyPaths == nil {
		t.Errorf("security %q %v", h.SecurityOpt, h.MaskedPaths)
	}
	if h.PidMode != "host" || h.IpcMode != "shareable" || h.UTSMode != "host" || h.UsernsMode != "host" || h.CgroupnsMode != "private" {
		t.Errorf("namespaces %+v", h)
	}
	wantDevices := []container.DeviceMapping{
		{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"},
		{PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "r"},
		{PathOnHost: "/dev/tty0", PathInContainer: "/dev/tty0", CgroupPermissions: "rw"},
	}
	if !reflect.DeepEqual(h.Devices, wantDevices) || !reflect.DeepEqual(h.DeviceCgroupRules, []string{"c 1:3 mr"}) {
		t.Errorf("devices %+v", h.Devices)
	}
	if !reflect.DeepEqual(h.GroupAdd, []string{"audio"}) || h.Sysctls["net.core.somaxconn"] != "1024" || h.OomScoreAdj != -500 ||
		h.Annotations["a"] != "b" {
		t.Errorf("misc %+v", h)
	}
	// Adding a capability wins over dropping it.
	cfg = mustParse(t, "--cap-add", "chown", "--cap-drop", "CHOWN", "--cap-drop", "mknod", "busybox")
	if !reflect.DeepEqual(cfg.HostConfig.CapAdd, []string{"CAP_CHOWN"}) || !reflect.DeepEqual(cfg.HostConfig.CapDrop, []string{"CAP_MKNOD"}) {
		t.Errorf("add beats drop %v %v", cfg.HostConfig.CapAdd, cfg.HostConfig.CapDrop)
	}
}

func TestParsePorts(t *testing.T) {
	cfg := mustParse(t, "-p", "8080:80", "-p", "127.0.0.1:5353:53/udp", "-p", "9000", "-p", "[::1]:8443:443",
		"-p", "7000-7001:7000-7001", "-p", "127.0.0.1::6000", "-p", "3000-3005:3000", "--expose", "9999",
		"--expose", "5000-5001/udp", "-p", "published=8181,target=81,protocol=tcp", "-P", "busybox")
	h, c := cfg.HostConfig, cfg.Config
	want := network.PortMap{
		port("80/tcp"):   {{HostPort: "8080"}},
		port("53/udp"):   {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "5353"}},
		port("9000/tcp"): {{}},
		port("443/tcp"):  {{HostIP: netip.MustParseAddr("::1"), HostPort: "8443"}},
		port("7000/tcp"): {{HostPort: "7000"}},
		port("7001/tcp"): {{HostPort: "7001"}},
		port("6000/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}},
		port("3000/tcp"): {{HostPort: "3000-3005"}},
		port("81/tcp"):   {{HostPort: "8181"}},
	}
	if !reflect.DeepEqual(h.PortBindings, want) {
		t.Errorf("bindings %v", h.PortBindings)
	}
	for _, p := range []string{"80/tcp", "53/udp", "9000/tcp", "443/tcp", "7000/tcp", "7001/tcp", "6000/tcp", "3000/tcp", "9999/tcp", "5000/udp", "5001/udp", "81/tcp"} {
		if _, ok := c.ExposedPorts[port(p)]; !ok {
			t.Errorf("%s not exposed", p)
		}
	}
	if len(c.ExposedPorts) != 12 || !h.PublishAllPorts {
		t.Errorf("exposed %v", c.ExposedPorts)
	}
	raw, _ := json.Marshal(h.PortBindings)
	if !strings.Contains(string(raw), `"53/udp":[{"HostIp":"127.0.0.1","HostPort":"5353"}]`) || !strings.Contains(string(raw), `"80/tcp":[{"HostIp":"","HostPort":"8080"}]`) {
		t.Errorf("wire form %s", raw)
	}
}

func TestParseVolumesMountsTmpfs(t *testing.T) {
	cwd, _ := os.Getwd()
	cfg := mustParse(t, "-v", "/data:/data:ro", "-v", "named:/srv", "-v", "/anon", "-v", "./rel:/rel",
		"--mount", "type=tmpfs,dst=/cache,tmpfs-size=1m", "--tmpfs", "/run:rw,size=64m", "--tmpfs", "/tmp",
		"--volumes-from", "other:ro", "--volume-driver", "local", "busybox")
	h, c := cfg.HostConfig, cfg.Config
	if !reflect.DeepEqual(h.Binds, []string{"/data:/data:ro", "named:/srv", filepath.Join(cwd, "rel") + ":/rel"}) {
		t.Errorf("binds %q", h.Binds)
	}
	if !reflect.DeepEqual(c.Volumes, map[string]struct{}{"/anon": {}}) {
		t.Errorf("volumes %v", c.Volumes)
	}
	if !reflect.DeepEqual(h.Mounts, []mount.Mount{{Type: "tmpfs", Target: "/cache", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}}}) {
		t.Errorf("mounts %+v", h.Mounts)
	}
	if !reflect.DeepEqual(h.Tmpfs, map[string]string{"/run": "rw,size=64m", "/tmp": ""}) || !reflect.DeepEqual(h.VolumesFrom, []string{"other:ro"}) || h.VolumeDriver != "local" {
		t.Errorf("tmpfs %v", h.Tmpfs)
	}
}

func TestParseNetworkAndLogging(t *testing.T) {
	cfg := mustParse(t, "--network", "backend", "--ip", "10.5.0.9", "--ip6", "fd00::9", "--network-alias", "db",
		"--mac-address", "02:42:ac:11:00:09", "--dns", "1.1.1.1", "--dns-search", "corp", "--dns-option", "ndots:2",
		"--add-host", "db=10.0.0.2", "--add-host", "gw:host-gateway", "--link", "web:web",
		"--log-driver", "json-file", "--log-opt", "max-size=10m", "--storage-opt", "size=1G", "--platform", "linux/arm64", "busybox")
	h := cfg.HostConfig
	if h.NetworkMode != "backend" || !reflect.DeepEqual(h.DNS, []netip.Addr{netip.MustParseAddr("1.1.1.1")}) ||
		!reflect.DeepEqual(h.DNSSearch, []string{"corp"}) || !reflect.DeepEqual(h.DNSOptions, []string{"ndots:2"}) ||
		!reflect.DeepEqual(h.ExtraHosts, []string{"db:10.0.0.2", "gw:host-gateway"}) || !reflect.DeepEqual(h.Links, []string{"web:web"}) {
		t.Errorf("network host config %+v", h)
	}
	ep := cfg.NetworkingConfig.EndpointsConfig["backend"]
	if ep == nil || !reflect.DeepEqual(ep.Aliases, []string{"db"}) || ep.IPAMConfig.IPv4Address.String() != "10.5.0.9" ||
		ep.IPAMConfig.IPv6Address.String() != "fd00::9" || ep.MacAddress.String() != "02:42:ac:11:00:09" {
		t.Errorf("endpoint %+v", ep)
	}
	if h.LogConfig.Type != "json-file" || h.LogConfig.Config["max-size"] != "10m" || h.StorageOpt["size"] != "1G" {
		t.Errorf("log/storage %+v", h.LogConfig)
	}
	if cfg.Platform == nil || cfg.Platform.OS != "linux" || cfg.Platform.Architecture != "arm64" {
		t.Errorf("platform %+v", cfg.Platform)
	}
	cfg = mustParse(t, "--net", "host", "busybox")
	if cfg.HostConfig.NetworkMode != "host" || len(cfg.NetworkingConfig.EndpointsConfig) != 0 {
		t.Errorf("--net host %+v", cfg.NetworkingConfig)
	}
	cfg = mustParse(t, "--network", "a", "--network", "name=b,alias=x", "busybox")
	if len(cfg.NetworkingConfig.EndpointsConfig) != 2 || cfg.NetworkingConfig.EndpointsConfig["b"].Aliases[0] != "x" {
		t.Errorf("two networks %+v", cfg.NetworkingConfig.EndpointsConfig)
	}
}

// TestParseErrors checks docker's messages for bad values, both those refused while the flags
// are parsed and those refused by parse.
func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-m", "bad"}, `invalid argument "bad" for "-m, --memory" flag: invalid size: 'bad'`},
		{[]string{"--memory-reservation", "x"}, `invalid argument "x" for "--memory-reservation" flag: invalid size: 'x'`},
		{[]string{"--shm-size", "-1"}, `invalid argument "-1" for "--shm-size" flag: invalid size: '-1'`},
		{[]string{"--cpus", "abc"}, `invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number`},
		{[]string{"--ulimit", "nofile=a"}, `invalid argument "nofile=a" for "--ulimit" flag: strconv.ParseInt: parsing "a": invalid syntax`},
		{[]string{"--device-read-bps", "/dev/sda:xx"}, `invalid argument "/dev/sda:xx" for "--device-read-bps" flag: invalid rate for device: /dev/sda:xx. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`},
		{[]string{"--health-interval", "1"}, `invalid argument "1" for "--health-interval" flag: time: missing unit in duration "1"`},
		{[]string{"--stop-timeout", "x"}, `invalid argument "x" for "--stop-timeout" flag: strconv.ParseInt: parsing "x": invalid syntax`},
		{[]string{"--add-host", "bad"}, `invalid argument "bad" for "--add-host" flag: bad format for add-host: "bad"`},
		{[]string{"--dns", "bad"}, `invalid argument "bad" for "--dns" flag: IP address is not correctly formatted: bad`},
		{[]string{"-a", "bogus"}, `invalid argument "bogus" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`},
		{[]string{"--sysctl", "bad"}, `invalid argument "bad" for "--sysctl" flag: sysctl 'bad' is not allowed`},
		{[]string{"--mount", "type=bogus"}, `invalid argument "type=bogus" for "--mount" flag: target is required`},
		{[]string{"--pids-limit", "x"}, `invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax`},
		{[]string{"--restart", "on-failure:x"}, "invalid restart policy format: maximum retry count must be an integer"},
		{[]string{"--restart", ":3"}, "invalid restart policy format: no policy provided before colon"},
		{[]string{"-p", "99999:80"}, "invalid hostPort: 99999"},
		{[]string{"-p", "abc"}, "invalid containerPort: abc"},
		{[]string{"-p", "8000-8001:80-82"}, "invalid ranges specified for container and host Ports: 80-82 and 8000-8001"},
		{[]string{"-p", "80/xtp"}, "invalid proto: xtp"},
		{[]string{"-p", "1.2.3:80:80"}, "invalid IP address: 1.2.3"},
		{[]string{"--expose", "abc"}, `invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax`},
		{[]string{"-v", ":/x"}, "invalid spec: :/x: empty section between colons"},
		{[]string{"-v", "a:b:c:d"}, "invalid spec: a:b:c:d: too many colons"},
		{[]string{"--security-opt", "bad"}, `Invalid --security-opt: "bad"`},
		{[]string{"--rm", "--restart", "always"}, "conflicting options: cannot specify both --restart and --rm"},
		{[]string{"--no-healthcheck", "--health-cmd", "x"}, "--no-healthcheck conflicts with --health-* options"},
		{[]string{"--health-retries", "-1"}, "--health-retries cannot be negative"},
		{[]string{"--health-timeout", "-1s"}, "--health-timeout cannot be negative"},
		{[]string{"--memory-swappiness", "101"}, "invalid value: 101. Valid memory swappiness range is 0-100"},
		{[]string{"--ipc", "weird"}, "--ipc: invalid IPC mode"},
		{[]string{"--pid", "weird"}, "--pid: invalid PID mode"},
		{[]string{"--mac-address", "zz"}, "zz is not a valid mac address"},
		{[]string{"--network", "a", "--network", "a"}, `network "a" is specified multiple times`},
		{[]string{"--network", "host", "--network", "mynet"}, "conflicting options: cannot attach both user-defined and non-user-defined network-modes"},
		{[]string{"--network", "name=n,alias=a", "--network-alias", "b"}, "conflicting options: cannot specify both --network-alias and per-network alias"},
		{[]string{"--env-file", filepath.Join(dir, "none")}, "open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{[]string{"--label-file", filepath.Join(dir, "none")}, "open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{[]string{"--platform", "linux//x"}, `"linux//x": unknown operating system or architecture: invalid argument`},
	} {
		_, err := parseArgs(t, append(c.args, "busybox")...)
		if err == nil || err.Error() != c.msg {
			t.Errorf("%q: got %v\nwant %s", c.args, err, c.msg)
		}
	}
	if err := validatePull("bogus"); err == nil || err.Error() != `invalid pull option: 'bogus': must be one of "always", "missing" or "never"` {
		t.Errorf("pull: %v", err)
	}
}
