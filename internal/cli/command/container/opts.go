package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	apitypes "github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

// containerOptions are the flags of create and run that describe the container.
type containerOptions struct {
	attach            *opts.List
	volumes           *opts.List
	tmpfs             *opts.List
	blkioWeightDevice *opts.WeightDevices
	deviceReadBps     *opts.ThrottleDevices
	deviceWriteBps    *opts.ThrottleDevices
	deviceReadIOps    *opts.ThrottleDevices
	deviceWriteIOps   *opts.ThrottleDevices
	links             *opts.List
	aliases           *opts.List
	linkLocalIPs      *opts.List
	env               *opts.List
	envFile           *opts.List
	labels            *opts.List
	labelsFile        *opts.List
	devices           *opts.List
	deviceCgroupRules *opts.List
	ulimits           *opts.Ulimits
	sysctls           *opts.Map
	annotations       *opts.Map
	publish           *opts.List
	expose            *opts.List
	dns               *opts.List
	dnsSearch         *opts.List
	dnsOptions        *opts.List
	extraHosts        *opts.List
	volumesFrom       *opts.List
	capAdd            *opts.List
	capDrop           *opts.List
	groupAdd          *opts.List
	securityOpt       *opts.List
	storageOpt        *opts.List
	logOpts           *opts.List
	mounts            *opts.Mounts
	networks          *opts.Networks

	memory            opts.MemBytes
	memoryReservation opts.MemBytes
	memorySwap        opts.MemSwapBytes
	shmSize           opts.MemBytes
	ioMaxBandwidth    opts.MemBytes
	kernelMemory      opts.MemBytes // deprecated and ignored, as by docker's daemon
	cpus              opts.NanoCPUs

	privileged        bool
	publishAll        bool
	stdin             bool
	tty               bool
	oomKillDisable    bool
	readonlyRootfs    bool
	autoRemove        bool
	init              bool
	noHealthcheck     bool
	disableTrust      bool
	quiet             bool
	swappiness        int64
	oomScoreAdj       int
	pidsLimit         int64
	cpuShares         int64
	cpuPeriod         int64
	cpuQuota          int64
	cpuRealtimePeriod int64
	cpuRealtimeRT     int64
	cpuCount          int64
	cpuPercent        int64
	ioMaxIOps         uint64
	blkioWeight       uint16
	stopTimeout       int
	healthRetries     int
	healthInterval    time.Duration
	healthTimeout     time.Duration
	healthStartPeriod time.Duration
	healthStartIntvl  time.Duration
	healthOnFailure   string

	name          string
	user          string
	workingDir    string
	entrypoint    string
	hostname      string
	domainname    string
	macAddress    string
	ipv4Address   string
	ipv6Address   string
	ipcMode       string
	pidMode       string
	utsMode       string
	usernsMode    string
	cgroupnsMode  string
	cgroupParent  string
	cpusetCpus    string
	cpusetMems    string
	restartPolicy string
	stopSignal    string
	runtime       string
	isolation     string
	logDriver     string
	volumeDriver  string
	healthCmd     string
	platform      string
	pull          string
	cidFile       string
}

// Pull policies of --pull.
const (
	pullAlways  = "always"
	pullMissing = "missing"
	pullNever   = "never"
)

// addContainerFlags defines the create/run flags on flags. pullHelp differs between the two.
func addContainerFlags(flags *pflag.FlagSet, pullHelp string) *containerOptions {
	o := &containerOptions{
		attach:            opts.NewNormalizedList(opts.ValidateAttach),
		volumes:           opts.NewList(nil),
		tmpfs:             opts.NewList(nil),
		blkioWeightDevice: &opts.WeightDevices{},
		deviceReadBps:     opts.NewThrottleBps(),
		deviceWriteBps:    opts.NewThrottleBps(),
		deviceReadIOps:    opts.NewThrottleIOps(),
		deviceWriteIOps:   opts.NewThrottleIOps(),
		links:             opts.NewList(nil),
		aliases:           opts.NewList(nil),
		linkLocalIPs:      opts.NewList(nil),
		env:               opts.NewNormalizedList(opts.ValidateEnv),
		envFile:           opts.NewList(nil),
		labels:            opts.NewNormalizedList(opts.ValidateLabel),
		labelsFile:        opts.NewList(nil),
		devices:           opts.NewNormalizedList(opts.ValidateDevice),
		deviceCgroupRules: opts.NewNormalizedList(opts.ValidateDeviceCgroupRule),
		ulimits:           opts.NewUlimits(),
		sysctls:           opts.NewMap(opts.ValidateSysctl),
		annotations:       opts.NewMap(nil),
		publish:           opts.NewList(nil),
		expose:            opts.NewList(nil),
		dns:               opts.NewNormalizedList(opts.ValidateIPAddress),
		dnsSearch:         opts.NewNormalizedList(opts.ValidateDNSSearch),
		dnsOptions:        opts.NewList(nil),
		extraHosts:        opts.NewNormalizedList(opts.ValidateExtraHost),
		volumesFrom:       opts.NewList(nil),
		capAdd:            opts.NewList(nil),
		capDrop:           opts.NewList(nil),
		groupAdd:          opts.NewList(nil),
		securityOpt:       opts.NewList(nil),
		storageOpt:        opts.NewList(nil),
		logOpts:           opts.NewList(nil),
		mounts:            &opts.Mounts{},
		networks:          &opts.Networks{},
	}

	// General
	flags.VarP(o.attach, "attach", "a", "Attach to STDIN, STDOUT or STDERR")
	flags.Var(o.devices, "device", "Add a host device to the container")
	flags.Var(o.deviceCgroupRules, "device-cgroup-rule", "Add a rule to the cgroup allowed devices list")
	flags.VarP(o.env, "env", "e", "Set environment variables")
	flags.Var(o.envFile, "env-file", "Read in a file of environment variables")
	flags.StringVar(&o.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	flags.Var(o.groupAdd, "group-add", "Add additional groups to join")
	flags.StringVarP(&o.hostname, "hostname", "h", "", "Container host name")
	flags.StringVar(&o.domainname, "domainname", "", "Container NIS domain name")
	flags.BoolVarP(&o.stdin, "interactive", "i", false, "Keep STDIN open even if not attached")
	flags.VarP(o.labels, "label", "l", "Set meta data on a container")
	flags.Var(o.labelsFile, "label-file", "Read in a line delimited file of labels")
	flags.BoolVar(&o.readonlyRootfs, "read-only", false, "Mount the container's root filesystem as read only")
	flags.StringVar(&o.restartPolicy, "restart", "no", "Restart policy to apply when a container exits")
	flags.StringVar(&o.stopSignal, "stop-signal", "", "Signal to stop the container")
	flags.IntVar(&o.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	flags.Var(o.sysctls, "sysctl", "Sysctl options")
	flags.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	flags.Var(o.ulimits, "ulimit", "Ulimit options")
	flags.StringVarP(&o.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	flags.StringVarP(&o.workingDir, "workdir", "w", "", "Working directory inside the container")
	flags.BoolVar(&o.autoRemove, "rm", false, "Automatically remove the container and its associated anonymous volumes when it exits")
	flags.StringVar(&o.name, "name", "", "Assign a name to the container")
	flags.StringVar(&o.cidFile, "cidfile", "", "Write the container ID to the file")
	flags.StringVar(&o.platform, "platform", "", "Set platform if server is multi-platform capable")
	flags.StringVar(&o.pull, "pull", pullMissing, pullHelp)
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the pull output")
	flags.BoolVar(&o.disableTrust, "disable-content-trust", true, "Skip image verification")

	// Security
	flags.Var(o.capAdd, "cap-add", "Add Linux capabilities")
	flags.Var(o.capDrop, "cap-drop", "Drop Linux capabilities")
	flags.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to this container")
	flags.Var(o.securityOpt, "security-opt", "Security Options")
	flags.StringVar(&o.usernsMode, "userns", "", "User namespace to use")
	flags.StringVar(&o.cgroupnsMode, "cgroupns", "", `Cgroup namespace to use (host|private)
'host':    Run the container in the berth host's cgroup namespace
'private': Run the container in its own private cgroup namespace
'':        Use the cgroup namespace as configured by the
           default-cgroupns-mode option on the daemon (default)`)

	// Network and ports
	flags.Var(o.extraHosts, "add-host", "Add a custom host-to-IP mapping (host:ip)")
	flags.Var(o.dns, "dns", "Set custom DNS servers")
	flags.Var(o.dnsOptions, "dns-option", "Set DNS options")
	flags.Var(o.dnsSearch, "dns-search", "Set custom DNS search domains")
	flags.Var(o.expose, "expose", "Expose a port or a range of ports")
	flags.StringVar(&o.ipv4Address, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	flags.StringVar(&o.ipv6Address, "ip6", "", "IPv6 address (e.g., 2001:db8::33)")
	flags.Var(o.links, "link", "Add link to another container")
	flags.Var(o.linkLocalIPs, "link-local-ip", "Container IPv4/IPv6 link-local addresses")
	flags.StringVar(&o.macAddress, "mac-address", "", "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
	flags.VarP(o.publish, "publish", "p", "Publish a container's port(s) to the host")
	flags.BoolVarP(&o.publishAll, "publish-all", "P", false, "Publish all exposed ports to random ports")
	flags.Var(o.networks, "network", "Connect a container to a network")
	flags.Var(o.networks, "net", "Connect a container to a network")
	_ = flags.MarkHidden("net")
	flags.Var(o.aliases, "network-alias", "Add network-scoped alias for the container")
	flags.Var(o.aliases, "net-alias", "Add network-scoped alias for the container")
	_ = flags.MarkHidden("net-alias")

	// Logging and storage
	flags.StringVar(&o.logDriver, "log-driver", "", "Logging driver for the container")
	flags.Var(o.logOpts, "log-opt", "Log driver options")
	flags.StringVar(&o.volumeDriver, "volume-driver", "", "Optional volume driver for the container")
	flags.Var(o.storageOpt, "storage-opt", "Storage driver options for the container")
	flags.Var(o.tmpfs, "tmpfs", "Mount a tmpfs directory")
	flags.Var(o.volumesFrom, "volumes-from", "Mount volumes from the specified container(s)")
	flags.VarP(o.volumes, "volume", "v", "Bind mount a volume")
	flags.Var(o.mounts, "mount", "Attach a filesystem mount to the container")

	// Health checking
	flags.StringVar(&o.healthCmd, "health-cmd", "", "Command to run to check health")
	flags.DurationVar(&o.healthInterval, "health-interval", 0, "Time between running the check (ms|s|m|h) (default 0s)")
	flags.IntVar(&o.healthRetries, "health-retries", 0, "Consecutive failures needed to report unhealthy")
	flags.DurationVar(&o.healthTimeout, "health-timeout", 0, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)")
	flags.DurationVar(&o.healthStartPeriod, "health-start-period", 0, "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)")
	flags.DurationVar(&o.healthStartIntvl, "health-start-interval", 0, "Time between running the check during the start period (ms|s|m|h) (default 0s)")
	flags.BoolVar(&o.noHealthcheck, "no-healthcheck", false, "Disable any container-specified HEALTHCHECK")
	flags.StringVar(&o.healthOnFailure, "health-on-failure", "", "Action when the container turns unhealthy: none, kill, restart or stop (sets the label "+apitypes.HealthOnFailureLabel+")")

	// Resources
	flags.Uint16Var(&o.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)")
	flags.Var(o.blkioWeightDevice, "blkio-weight-device", "Block IO weight (relative device weight)")
	flags.StringVar(&o.cgroupParent, "cgroup-parent", "", "Optional parent cgroup for the container")
	flags.Int64Var(&o.cpuCount, "cpu-count", 0, "CPU count (Windows only)")
	flags.Int64Var(&o.cpuPercent, "cpu-percent", 0, "CPU percent (Windows only)")
	flags.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	flags.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	flags.Int64Var(&o.cpuRealtimePeriod, "cpu-rt-period", 0, "Limit CPU real-time period in microseconds")
	flags.Int64Var(&o.cpuRealtimeRT, "cpu-rt-runtime", 0, "Limit CPU real-time runtime in microseconds")
	flags.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	flags.Var(&o.cpus, "cpus", "Number of CPUs")
	flags.StringVar(&o.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	flags.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	flags.Var(o.deviceReadBps, "device-read-bps", "Limit read rate (bytes per second) from a device")
	flags.Var(o.deviceReadIOps, "device-read-iops", "Limit read rate (IO per second) from a device")
	flags.Var(o.deviceWriteBps, "device-write-bps", "Limit write rate (bytes per second) to a device")
	flags.Var(o.deviceWriteIOps, "device-write-iops", "Limit write rate (IO per second) to a device")
	flags.Var(&o.ioMaxBandwidth, "io-maxbandwidth", "Maximum IO bandwidth limit for the system drive (Windows only)")
	flags.Uint64Var(&o.ioMaxIOps, "io-maxiops", 0, "Maximum IOps limit for the system drive (Windows only)")
	flags.VarP(&o.memory, "memory", "m", "Memory limit")
	flags.Var(&o.memoryReservation, "memory-reservation", "Memory soft limit")
	flags.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	flags.Int64Var(&o.swappiness, "memory-swappiness", -1, "Tune container memory swappiness (0 to 100)")
	flags.BoolVar(&o.oomKillDisable, "oom-kill-disable", false, "Disable OOM Killer")
	flags.Var(&o.kernelMemory, "kernel-memory", "Kernel memory limit")
	flags.IntVar(&o.oomScoreAdj, "oom-score-adj", 0, "Tune host's OOM preferences (-1000 to 1000)")
	flags.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")

	// Low-level execution
	flags.StringVar(&o.ipcMode, "ipc", "", "IPC mode to use")
	flags.StringVar(&o.isolation, "isolation", "", "Container isolation technology")
	flags.StringVar(&o.pidMode, "pid", "", "PID namespace to use")
	flags.Var(&o.shmSize, "shm-size", "Size of /dev/shm")
	flags.StringVar(&o.utsMode, "uts", "", "UTS namespace to use")
	flags.StringVar(&o.runtime, "runtime", "", "Runtime to use for this container")
	flags.BoolVar(&o.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	flags.Var(o.annotations, "annotation", "Add an annotation to the container (passed through to the OCI runtime)")
	return o
}

// containerConfig is what create sends.
type containerConfig struct {
	Config           *container.Config
	HostConfig       *container.HostConfig
	NetworkingConfig *network.NetworkingConfig
	Platform         *ocispec.Platform
}

// parse checks the flags and the positional arguments (IMAGE [COMMAND] [ARG...]) and builds the
// create request. Its errors are docker's, reported with exit status 125.
func parse(flags *pflag.FlagSet, o *containerOptions, args []string) (*containerConfig, error) {
	var (
		attachStdin  = contains(o.attach.Values(), "stdin")
		attachStdout = contains(o.attach.Values(), "stdout")
		attachStderr = contains(o.attach.Values(), "stderr")
	)
	if o.stdin {
		attachStdin = true
	}
	if o.attach.Len() == 0 {
		attachStdout, attachStderr = true, true
	}

	if o.swappiness != -1 && (o.swappiness < 0 || o.swappiness > 100) {
		return nil, fmt.Errorf("invalid value: %v. Valid memory swappiness range is 0-100", o.swappiness)
	}
	if o.oomScoreAdj < -1000 || o.oomScoreAdj > 1000 {
		return nil, fmt.Errorf("invalid value: %v. Valid oom score adj range is -1000-1000", o.oomScoreAdj)
	}
	if o.macAddress != "" {
		if _, err := net.ParseMAC(strings.TrimSpace(o.macAddress)); err != nil {
			return nil, fmt.Errorf("%s is not a valid mac address", o.macAddress)
		}
	}

	binds, volumes, err := parseVolumes(o.volumes.Values())
	if err != nil {
		return nil, err
	}

	tmpfs := map[string]string{}
	for _, t := range o.tmpfs.Values() {
		dst, options, _ := strings.Cut(t, ":")
		tmpfs[dst] = options
	}
	if len(tmpfs) == 0 {
		tmpfs = nil
	}

	var image string
	var cmd, entrypoint []string
	if len(args) > 0 {
		image = args[0]
	}
	if len(args) > 1 {
		cmd = args[1:]
	}
	if o.entrypoint != "" {
		entrypoint = []string{o.entrypoint}
	} else if flags.Changed("entrypoint") {
		// --entrypoint= resets the image's entrypoint.
		entrypoint = []string{""}
	}

	exposed, portBindings, err := parsePorts(o.publish.Values(), o.expose.Values())
	if err != nil {
		return nil, err
	}

	var devices []container.DeviceMapping
	for _, d := range o.devices.Values() {
		devices = append(devices, parseDevice(d))
	}

	env, err := opts.ReadEnvFiles(o.envFile.Values())
	if err != nil {
		return nil, err
	}
	env = append(env, o.env.Values()...)

	labelLines, err := opts.ReadKVFiles(o.labelsFile.Values())
	if err != nil {
		return nil, err
	}
	labels := opts.KeyValueMap(append(labelLines, o.labels.Values()...))
	if o.healthOnFailure != "" {
		switch o.healthOnFailure {
		case "none", "kill", "restart", "stop":
		default:
			return nil, fmt.Errorf("invalid argument %q for \"--health-on-failure\" flag: use none, kill, restart or stop", o.healthOnFailure)
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[apitypes.HealthOnFailureLabel] = o.healthOnFailure
	}

	if err := validateMode("--ipc", "IPC", container.IpcMode(o.ipcMode).Valid()); err != nil {
		return nil, err
	}
	if err := validateMode("--pid", "PID", container.PidMode(o.pidMode).Valid()); err != nil {
		return nil, err
	}
	if err := validateMode("--uts", "UTS", container.UTSMode(o.utsMode).Valid()); err != nil {
		return nil, err
	}
	if err := validateMode("--userns", "USER", container.UsernsMode(o.usernsMode).Valid()); err != nil {
		return nil, err
	}
	if err := validateMode("--cgroupns", "CGROUP", container.CgroupnsMode(o.cgroupnsMode).Valid()); err != nil {
		return nil, err
	}

	restart, err := parseRestartPolicy(o.restartPolicy)
	if err != nil {
		return nil, err
	}
	if o.autoRemove && !restart.IsNone() {
		return nil, errors.New("conflicting options: cannot specify both --restart and --rm")
	}

	logConfig := container.LogConfig{Type: o.logDriver, Config: opts.KeyValueMap(o.logOpts.Values())}
	if o.logDriver == "none" && len(logConfig.Config) > 0 {
		return nil, errors.New("invalid logging opts for driver none")
	}

	storageOpts := map[string]string{}
	for _, s := range o.storageOpt.Values() {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, errors.New("invalid storage option")
		}
		storageOpts[k] = v
	}
	if len(storageOpts) == 0 {
		storageOpts = nil
	}

	health, err := o.healthConfig()
	if err != nil {
		return nil, err
	}

	securityOpts, maskedPaths, readonlyPaths, err := parseSecurityOpts(o.securityOpt.Values())
	if err != nil {
		return nil, err
	}

	capAdd, capDrop := effectiveCaps(o.capAdd.Values(), o.capDrop.Values())

	var dns []netip.Addr
	for _, s := range o.dns.Values() {
		a, _ := netip.ParseAddr(s)
		dns = append(dns, a)
	}

	resources := container.Resources{
		CgroupParent:         o.cgroupParent,
		Memory:               o.memory.Value(),
		MemoryReservation:    o.memoryReservation.Value(),
		MemorySwap:           o.memorySwap.Value(),
		NanoCPUs:             o.cpus.Value(),
		CPUShares:            o.cpuShares,
		CPUPeriod:            o.cpuPeriod,
		CPUQuota:             o.cpuQuota,
		CPURealtimePeriod:    o.cpuRealtimePeriod,
		CPURealtimeRuntime:   o.cpuRealtimeRT,
		CpusetCpus:           o.cpusetCpus,
		CpusetMems:           o.cpusetMems,
		BlkioWeight:          o.blkioWeight,
		BlkioWeightDevice:    o.blkioWeightDevice.Values(),
		BlkioDeviceReadBps:   o.deviceReadBps.Values(),
		BlkioDeviceWriteBps:  o.deviceWriteBps.Values(),
		BlkioDeviceReadIOps:  o.deviceReadIOps.Values(),
		BlkioDeviceWriteIOps: o.deviceWriteIOps.Values(),
		Ulimits:              o.ulimits.Values(),
		Devices:              devices,
		DeviceCgroupRules:    o.deviceCgroupRules.Values(),
		CPUCount:             o.cpuCount,
		CPUPercent:           o.cpuPercent,
		IOMaximumIOps:        o.ioMaxIOps,
		IOMaximumBandwidth:   uint64(o.ioMaxBandwidth.Value()),
	}
	if flags.Changed("memory-swappiness") {
		s := o.swappiness
		resources.MemorySwappiness = &s
	}
	if flags.Changed("oom-kill-disable") {
		b := o.oomKillDisable
		resources.OomKillDisable = &b
	}
	if flags.Changed("pids-limit") {
		p := o.pidsLimit
		resources.PidsLimit = &p
	}

	config := &container.Config{
		Hostname:     o.hostname,
		Domainname:   o.domainname,
		ExposedPorts: exposed,
		User:         o.user,
		Tty:          o.tty,
		OpenStdin:    o.stdin,
		AttachStdin:  attachStdin,
		AttachStdout: attachStdout,
		AttachStderr: attachStderr,
		StdinOnce:    o.stdin && attachStdin,
		Env:          env,
		Cmd:          cmd,
		Image:        image,
		Volumes:      volumes,
		Entrypoint:   entrypoint,
		WorkingDir:   o.workingDir,
		Labels:       labels,
		StopSignal:   o.stopSignal,
		Healthcheck:  health,
	}
	if flags.Changed("stop-timeout") {
		t := o.stopTimeout
		config.StopTimeout = &t
	}

	hostConfig := &container.HostConfig{
		Binds:           binds,
		ContainerIDFile: o.cidFile,
		OomScoreAdj:     o.oomScoreAdj,
		AutoRemove:      o.autoRemove,
		Privileged:      o.privileged,
		PortBindings:    portBindings,
		Links:           o.links.Values(),
		PublishAllPorts: o.publishAll,
		DNS:             dns,
		DNSSearch:       o.dnsSearch.Values(),
		DNSOptions:      o.dnsOptions.Values(),
		ExtraHosts:      o.extraHosts.Values(),
		VolumesFrom:     o.volumesFrom.Values(),
		IpcMode:         container.IpcMode(o.ipcMode),
		NetworkMode:     container.NetworkMode(o.networks.NetworkMode()),
		PidMode:         container.PidMode(o.pidMode),
		UTSMode:         container.UTSMode(o.utsMode),
		UsernsMode:      container.UsernsMode(o.usernsMode),
		CgroupnsMode:    container.CgroupnsMode(o.cgroupnsMode),
		CapAdd:          capAdd,
		CapDrop:         capDrop,
		GroupAdd:        o.groupAdd.Values(),
		RestartPolicy:   restart,
		SecurityOpt:     securityOpts,
		StorageOpt:      storageOpts,
		ReadonlyRootfs:  o.readonlyRootfs,
		LogConfig:       logConfig,
		VolumeDriver:    o.volumeDriver,
		Isolation:       container.Isolation(o.isolation),
		ShmSize:         o.shmSize.Value(),
		Resources:       resources,
		Tmpfs:           tmpfs,
		Sysctls:         o.sysctls.Values(),
		Runtime:         o.runtime,
		Mounts:          o.mounts.Values(),
		MaskedPaths:     maskedPaths,
		ReadonlyPaths:   readonlyPaths,
		Annotations:     o.annotations.Values(),
	}
	if hostConfig.NetworkMode == "" {
		hostConfig.NetworkMode = network.NetworkDefault
	}
	if flags.Changed("init") {
		b := o.init
		hostConfig.Init = &b
	}

	networking, err := o.networkingConfig(hostConfig.NetworkMode)
	if err != nil {
		return nil, err
	}

	var platform *ocispec.Platform
	if o.platform != "" {
		p, err := parsePlatform(o.platform)
		if err != nil {
			return nil, err
		}
		platform = &p
	}
	return &containerConfig{Config: config, HostConfig: hostConfig, NetworkingConfig: networking, Platform: platform}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func validateMode(flag, what string, ok bool) error {
	if !ok {
		return fmt.Errorf("%s: invalid %s mode", flag, what)
	}
	return nil
}

// parseRestartPolicy reads --restart: no, always, unless-stopped or on-failure[:max-retries].
// The daemon checks the policy name.
func parseRestartPolicy(s string) (container.RestartPolicy, error) {
	if s == "" {
		return container.RestartPolicy{}, nil
	}
	name, count, hasCount := strings.Cut(s, ":")
	if hasCount && name == "" {
		return container.RestartPolicy{}, errors.New("invalid restart policy format: no policy provided before colon")
	}
	p := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return container.RestartPolicy{}, errors.New("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	return p, nil
}

// parseDevice reads a --device value already checked by opts.ValidateDevice:
// host-path[:container-path][:permissions], permissions defaulting to rwm.
func parseDevice(v string) container.DeviceMapping {
	parts := strings.Split(v, ":")
	d := container.DeviceMapping{PathOnHost: parts[0], CgroupPermissions: "rwm"}
	switch len(parts) {
	case 3:
		d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
	case 2:
		if opts.IsValidDeviceMode(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	}
	if d.PathInContainer == "" {
		d.PathInContainer = d.PathOnHost
	}
	d.PathInContainer = path.Clean(d.PathInContainer)
	return d
}

func (o *containerOptions) healthConfig() (*container.HealthConfig, error) {
	have := o.healthCmd != "" || o.healthInterval != 0 || o.healthTimeout != 0 ||
		o.healthStartPeriod != 0 || o.healthRetries != 0 || o.healthStartIntvl != 0
	if o.noHealthcheck {
		if have {
			return nil, errors.New("--no-healthcheck conflicts with --health-* options")
		}
		return &container.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if !have {
		return nil, nil
	}
	for _, c := range []struct {
		flag string
		neg  bool
	}{
		{"--health-interval", o.healthInterval < 0},
		{"--health-timeout", o.healthTimeout < 0},
		{"--health-retries", o.healthRetries < 0},
		{"--health-start-period", o.healthStartPeriod < 0},
		{"--health-start-interval", o.healthStartIntvl < 0},
	} {
		if c.neg {
			return nil, errors.New(c.flag + " cannot be negative")
		}
	}
	h := &container.HealthConfig{
		Interval:      o.healthInterval,
		Timeout:       o.healthTimeout,
		StartPeriod:   o.healthStartPeriod,
		StartInterval: o.healthStartIntvl,
		Retries:       o.healthRetries,
	}
	if o.healthCmd != "" {
		h.Test = []string{"CMD-SHELL", o.healthCmd}
	}
	return h, nil
}

// parseSecurityOpts checks --security-opt values. A seccomp profile path is replaced by the
// profile's JSON; systempaths=unconfined clears the masked and read-only paths.
func parseSecurityOpts(values []string) (out, maskedPaths, readonlyPaths []string, err error) {
	for _, v := range values {
		if v == "no-new-privileges" {
			out = append(out, v)
			continue
		}
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			k, val, ok = strings.Cut(v, ":")
		}
		if !ok {
			return nil, nil, nil, fmt.Errorf("Invalid --security-opt: %q", v)
		}
		switch {
		case k == "seccomp" && val != "unconfined" && val != "builtin":
			raw, err := os.ReadFile(val)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("opening seccomp profile (%s) failed: %w", val, err)
			}
			var profile any
			if err := json.Unmarshal(raw, &profile); err != nil {
				return nil, nil, nil, fmt.Errorf("compacting json for seccomp profile (%s) failed: %w", val, err)
			}
			compact, _ := json.Marshal(profile)
			out = append(out, "seccomp="+string(compact))
		case k == "systempaths" && val == "unconfined":
			maskedPaths, readonlyPaths = []string{}, []string{}
		default:
			out = append(out, v)
		}
	}
	return out, maskedPaths, readonlyPaths, nil
}

const allCapabilities = "ALL"

func normalizeCaps(caps []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if c != allCapabilities && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// effectiveCaps normalizes --cap-add and --cap-drop ("net_admin" becomes "CAP_NET_ADMIN"). ALL
// replaces any other capability of its list, and a capability both added and dropped is added.
func effectiveCaps(add, drop []string) (capAdd, capDrop []string) {
	capAdd, capDrop = normalizeCaps(add), normalizeCaps(drop)
	if contains(capAdd, allCapabilities) {
		capAdd = []string{allCapabilities}
	}
	if contains(capDrop, allCapabilities) {
		capDrop = []string{allCapabilities}
	}
	var kept []string
	for _, c := range capDrop {
		if !contains(capAdd, c) {
			kept = append(kept, c)
		}
	}
	return capAdd, kept
}

// networkingConfig builds the endpoint settings of each --network. The single-network flags
// (--ip, --ip6, --network-alias, --link-local-ip, --mac-address) apply to the first network.
func (o *containerOptions) networkingConfig(mode container.NetworkMode) (*network.NetworkingConfig, error) {
	attachments := o.networks.Values()
	if len(attachments) == 0 {
		attachments = []opts.NetworkAttachment{{Target: string(mode)}}
	}
	endpoints := map[string]*network.EndpointSettings{}
	userDefined, builtin := false, false
	for i, a := range attachments {
		if container.NetworkMode(a.Target).IsUserDefined() {
			userDefined = true
		} else {
			builtin = true
		}
		if i == 0 {
			if err := o.applyLegacyNetworkFlags(&a); err != nil {
				return nil, err
			}
		}
		ep, err := EndpointSettings(a)
		if err != nil {
			return nil, err
		}
		if _, dup := endpoints[a.Target]; dup {
			return nil, fmt.Errorf("network %q is specified multiple times", a.Target)
		}
		// A single network without options needs no endpoint configuration.
		if i == 0 && len(attachments) == 1 && ep == nil {
			continue
		}
		if ep == nil {
			ep = &network.EndpointSettings{}
		}
		endpoints[a.Target] = ep
	}
	if userDefined && builtin {
		return nil, errors.New("conflicting options: cannot attach both user-defined and non-user-defined network-modes")
	}
	return &network.NetworkingConfig{EndpointsConfig: endpoints}, nil
}

func (o *containerOptions) applyLegacyNetworkFlags(a *opts.NetworkAttachment) error {
	conflict := func(flag, what string) error {
		return fmt.Errorf("conflicting options: cannot specify both --%s and per-network %s", flag, what)
	}
	if aliases := o.aliases.Values(); len(aliases) > 0 {
		if len(a.Aliases) > 0 {
			return conflict("network-alias", "alias")
		}
		a.Aliases = aliases
	}
	if o.ipv4Address != "" {
		if a.IPv4Address != "" {
			return conflict("ip", "IPv4 address")
		}
		a.IPv4Address = o.ipv4Address
	}
	if o.ipv6Address != "" {
		if a.IPv6Address != "" {
			return conflict("ip6", "IPv6 address")
		}
		a.IPv6Address = o.ipv6Address
	}
	if lls := o.linkLocalIPs.Values(); len(lls) > 0 {
		if len(a.LinkLocalIPs) > 0 {
			return conflict("link-local-ip", "link-local IP addresses")
		}
		a.LinkLocalIPs = lls
	}
	if o.macAddress != "" {
		if a.MacAddress != "" {
			return conflict("mac-address", "MAC address")
		}
		a.MacAddress = o.macAddress
	}
	return nil
}

// EndpointSettings is the endpoint configuration of an attachment (from --network or `network
// connect`), nil when it sets nothing.
func EndpointSettings(a opts.NetworkAttachment) (*network.EndpointSettings, error) {
	if len(a.Aliases) == 0 && len(a.DriverOpts) == 0 && len(a.Links) == 0 && a.IPv4Address == "" &&
		a.IPv6Address == "" && len(a.LinkLocalIPs) == 0 && a.MacAddress == "" && a.GwPriority == 0 {
		return nil, nil
	}
	if len(a.Aliases) > 0 && !container.NetworkMode(a.Target).IsUserDefined() {
		return nil, errors.New("network-scoped aliases are only supported for user-defined networks")
	}
	ep := &network.EndpointSettings{Aliases: a.Aliases, DriverOpts: a.DriverOpts, Links: a.Links, GwPriority: a.GwPriority}
	if a.IPv4Address != "" || a.IPv6Address != "" || len(a.LinkLocalIPs) > 0 {
		ipam := &network.EndpointIPAMConfig{}
		if a.IPv4Address != "" {
			ip, err := netip.ParseAddr(a.IPv4Address)
			if err != nil || !ip.Is4() {
				return nil, fmt.Errorf("invalid IPv4 address: %s", a.IPv4Address)
			}
			ipam.IPv4Address = ip
		}
		if a.IPv6Address != "" {
			ip, err := netip.ParseAddr(a.IPv6Address)
			if err != nil || !ip.Is6() {
				return nil, fmt.Errorf("invalid IPv6 address: %s", a.IPv6Address)
			}
			ipam.IPv6Address = ip
		}
		for _, s := range a.LinkLocalIPs {
			ip, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("invalid link-local IP address: %s", s)
			}
			ipam.LinkLocalIPs = append(ipam.LinkLocalIPs, ip)
		}
		ep.IPAMConfig = ipam
	}
	if a.MacAddress != "" {
		mac, err := net.ParseMAC(strings.TrimSpace(a.MacAddress))
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid mac address", a.MacAddress)
		}
		ep.MacAddress = network.HardwareAddr(mac)
	}
	return ep, nil
}

// parsePlatform reads os[/arch[/variant]].
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 || parts[0] == "" {
		return ocispec.Platform{}, fmt.Errorf("%q: unknown operating system or architecture: invalid argument", s)
	}
	for _, p := range parts {
		if p == "" {
			return ocispec.Platform{}, fmt.Errorf("%q: unknown operating system or architecture: invalid argument", s)
		}
	}
	p := ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p, nil
}

// validatePull checks --pull.
func validatePull(p string) error {
	switch p {
	case pullAlways, pullMissing, pullNever, "":
		return nil
	}
	return fmt.Errorf(`invalid pull option: '%s': must be one of "always", "missing" or "never"`, p)
}
