package oci

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// minMemory is docker's smallest accepted memory limit or reservation
// (6MiB), below which a container cannot even start reliably.
const minMemory = 6 << 20

// cfsPeriod is the CFS period docker uses to express --cpus (100ms in µs).
const cfsPeriod = 100000

func i64(v int64) *int64 { return &v }

// defaultDeviceRules is docker's device cgroup policy: deny everything,
// allow the standard character devices, and explicitly deny /dev/fuse.
// full, ptmx and pts are allowed here too because the OCI spec makes them
// default devices; runc adds them on its own, crun does not everywhere.
func defaultDeviceRules() []specs.LinuxDeviceCgroup {
	allow := func(major, minor int64) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(major), Access: "rwm"}
		if minor >= 0 {
			r.Minor = i64(minor)
		}
		return r
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		allow(1, 5),    // zero
		allow(1, 3),    // null
		allow(1, 9),    // urandom
		allow(1, 8),    // random
		allow(5, 0),    // tty
		allow(5, 1),    // console
		allow(1, 7),    // full
		allow(5, 2),    // ptmx
		allow(136, -1), // pts/*
		{Allow: false, Type: "c", Major: i64(10), Minor: i64(229), Access: "rwm"}, // fuse
	}
}

var deviceRuleRE = regexp.MustCompile(`^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$`)

// parseDeviceCgroupRule parses a --device-cgroup-rule such as "c 13:* rwm".
func parseDeviceCgroupRule(rule string) (specs.LinuxDeviceCgroup, error) {
	m := deviceRuleRE.FindStringSubmatch(strings.TrimSpace(rule))
	if m == nil {
		return specs.LinuxDeviceCgroup{}, errdefs.InvalidArgumentf("invalid device cgroup rule format: '%s'", rule)
	}
	r := specs.LinuxDeviceCgroup{Allow: true, Type: m[1], Access: m[4]}
	if m[2] != "*" {
		n, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			return r, errdefs.InvalidArgumentf("invalid device cgroup rule format: '%s'", rule)
		}
		r.Major = &n
	}
	if m[3] != "*" {
		n, err := strconv.ParseInt(m[3], 10, 64)
		if err != nil {
			return r, errdefs.InvalidArgumentf("invalid device cgroup rule format: '%s'", rule)
		}
		r.Minor = &n
	}
	return r, nil
}

var validCgroupPerms = regexp.MustCompile(`^[rwm]{1,3}$`)

// mapDevices turns one --device into device nodes inside the container:
// the host node itself, or each node under a host directory, re-rooted at
// PathInContainer.
func mapDevices(in *Input, d container.DeviceMapping) ([]specs.LinuxDevice, error) {
	if in.LookupDevices == nil {
		return nil, errdefs.InvalidArgumentf("cannot add device %s: device lookup is not available", d.PathOnHost)
	}
	found, err := in.LookupDevices(d.PathOnHost)
	if err != nil {
		return nil, errdefs.InvalidArgumentf("error gathering device information while adding custom device %q: %v", d.PathOnHost, err)
	}
	if len(found) == 0 {
		return nil, errdefs.InvalidArgumentf("error gathering device information while adding custom device %q: not a device node", d.PathOnHost)
	}
	target := d.PathInContainer
	if target == "" {
		target = d.PathOnHost
	}
	hostRoot := path.Clean(d.PathOnHost)
	out := make([]specs.LinuxDevice, 0, len(found))
	for _, dev := range found {
		rel := strings.TrimPrefix(path.Clean(dev.Path), hostRoot)
		dev.Path = path.Join(target, rel)
		out = append(out, dev)
	}
	return out, nil
}

// buildDevices returns the device nodes to create and the device cgroup
// rules. Privileged containers get every host device (when the caller can
// list them) and an allow-all rule.
func buildDevices(in *Input) ([]specs.LinuxDevice, []specs.LinuxDeviceCgroup, error) {
	host := in.Host
	if len(host.DeviceRequests) > 0 {
		return nil, nil, errdefs.NotImplementedf("device requests (--gpus) are not supported")
	}
	devs := []specs.LinuxDevice{}
	if host.Privileged {
		if in.LookupDevices != nil {
			all, err := in.LookupDevices("/dev")
			if err != nil {
				return nil, nil, fmt.Errorf("listing host devices: %w", err)
			}
			devs = append(devs, all...)
		}
		for _, d := range host.Devices {
			if d.PathInContainer == d.PathOnHost || d.PathInContainer == "" {
				continue // already there through /dev
			}
			mapped, err := mapDevices(in, d)
			if err != nil {
				return nil, nil, err
			}
			devs = append(devs, mapped...)
		}
		return devs, []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}, nil
	}

	rules := defaultDeviceRules()
	for _, d := range host.Devices {
		perms := d.CgroupPermissions
		if perms == "" {
			perms = "rwm"
		}
		mapped, err := mapDevices(in, d)
		if err != nil {
			return nil, nil, err
		}
		for _, dev := range mapped {
			devs = append(devs, dev)
			rules = append(rules, specs.LinuxDeviceCgroup{
				Allow: true, Type: dev.Type, Major: i64(dev.Major), Minor: i64(dev.Minor), Access: perms,
			})
		}
	}
	for _, r := range host.DeviceCgroupRules {
		rule, err := parseDeviceCgroupRule(r)
		if err != nil {
			return nil, nil, err
		}
		rules = append(rules, rule)
	}
	return devs, rules, nil
}

// validateResources repeats docker's create-time checks so that a bad
// value is reported as the client's error instead of a runtime failure.
func validateResources(r *container.Resources) error {
	if r.Memory != 0 && r.Memory < minMemory {
		return errdefs.InvalidArgumentf("Minimum memory limit allowed is 6MB")
	}
	if r.MemoryReservation != 0 && r.MemoryReservation < minMemory {
		return errdefs.InvalidArgumentf("Minimum memory reservation allowed is 6MB")
	}
	if r.Memory > 0 && r.MemoryReservation > 0 && r.MemoryReservation > r.Memory {
		return errdefs.InvalidArgumentf("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	if r.MemorySwap > 0 {
		if r.Memory == 0 {
			return errdefs.InvalidArgumentf("You should always set the Memory limit when using Memoryswap limit, see usage")
		}
		if r.MemorySwap < r.Memory {
			return errdefs.InvalidArgumentf("Minimum memoryswap limit should be larger than memory limit, see usage")
		}
	}
	if s := r.MemorySwappiness; s != nil && (*s < -1 || *s > 100) {
		return errdefs.InvalidArgumentf("Invalid value: %v, valid memory swappiness range is 0-100", *s)
	}
	if r.CPUShares < 0 {
		return errdefs.InvalidArgumentf("shares: invalid argument")
	}
	if r.NanoCPUs < 0 {
		return errdefs.InvalidArgumentf("invalid value for NanoCPUs: must be positive")
	}
	if r.NanoCPUs > 0 && r.CPUPeriod > 0 {
		return errdefs.InvalidArgumentf("Conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	if r.NanoCPUs > 0 && r.CPUQuota > 0 {
		return errdefs.InvalidArgumentf("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000) {
		return errdefs.InvalidArgumentf("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	}
	if r.CPUQuota > 0 && r.CPUQuota < 1000 {
		return errdefs.InvalidArgumentf("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	}
	if r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		return errdefs.InvalidArgumentf("Range of blkio weight is from 10 to 1000")
	}
	for _, w := range r.BlkioWeightDevice {
		if w != nil && (w.Weight < 10 || w.Weight > 1000) {
			return errdefs.InvalidArgumentf("invalid weight for device %s: range of blkio weight is from 10 to 1000", w.Path)
		}
	}
	for _, d := range r.Devices {
		if d.CgroupPermissions != "" && !validCgroupPerms.MatchString(d.CgroupPermissions) {
			return errdefs.InvalidArgumentf("invalid device permissions %q for %s", d.CgroupPermissions, d.PathOnHost)
		}
	}
	for _, rule := range r.DeviceCgroupRules {
		if _, err := parseDeviceCgroupRule(rule); err != nil {
			return err
		}
	}
	_, err := rlimits(r.Ulimits, 0)
	return err
}

// buildResources maps docker's Resources onto the OCI cgroup settings.
func buildResources(in *Input) (*specs.LinuxResources, error) {
	r := &in.Host.Resources
	res := &specs.LinuxResources{}

	var mem specs.LinuxMemory
	if r.Memory > 0 {
		mem.Limit = i64(r.Memory)
		// Docker's create turns an unset swap limit into memory*2 (on hosts
		// with swap accounting); -1 stays unset, i.e. unlimited swap.
		switch {
		case in.NoSwapLimit:
		case r.MemorySwap > 0:
			mem.Swap = i64(r.MemorySwap)
		case r.MemorySwap == 0:
			mem.Swap = i64(2 * r.Memory)
		}
	}
	if r.MemoryReservation > 0 {
		mem.Reservation = i64(r.MemoryReservation)
	}
	if s := r.MemorySwappiness; s != nil && *s >= 0 {
		v := uint64(*s)
		mem.Swappiness = &v
	}
	if r.OomKillDisable != nil {
		v := *r.OomKillDisable
		mem.DisableOOMKiller = &v
	}
	if mem != (specs.LinuxMemory{}) {
		res.Memory = &mem
	}

	var cpu specs.LinuxCPU
	if r.CPUShares > 0 {
		v := uint64(r.CPUShares)
		cpu.Shares = &v
	}
	if r.NanoCPUs > 0 {
		period := uint64(cfsPeriod)
		cpu.Period = &period
		cpu.Quota = i64(r.NanoCPUs * cfsPeriod / 1e9)
	}
	if r.CPUPeriod > 0 {
		v := uint64(r.CPUPeriod)
		cpu.Period = &v
	}
	if r.CPUQuota != 0 {
		cpu.Quota = i64(r.CPUQuota)
	}
	if r.CPURealtimePeriod > 0 {
		v := uint64(r.CPURealtimePeriod)
		cpu.RealtimePeriod = &v
	}
	if r.CPURealtimeRuntime != 0 {
		cpu.RealtimeRuntime = i64(r.CPURealtimeRuntime)
	}
	cpu.Cpus = r.CpusetCpus
	cpu.Mems = r.CpusetMems
	if cpu != (specs.LinuxCPU{}) {
		res.CPU = &cpu
	}

	if r.PidsLimit != nil && *r.PidsLimit > 0 {
		res.Pids = &specs.LinuxPids{Limit: i64(*r.PidsLimit)}
	}

	bio, err := buildBlockIO(in, r)
	if err != nil {
		return nil, err
	}
	res.BlockIO = bio
	return res, nil
}

func buildBlockIO(in *Input, r *container.Resources) (*specs.LinuxBlockIO, error) {
	var bio specs.LinuxBlockIO
	used := false
	if r.BlkioWeight > 0 {
		w := r.BlkioWeight
		bio.Weight = &w
		used = true
	}
	numbers := func(p string) (specs.LinuxBlockIODevice, error) {
		if in.DeviceNumbers == nil {
			return specs.LinuxBlockIODevice{}, errdefs.InvalidArgumentf("cannot resolve block device %s: device lookup is not available", p)
		}
		major, minor, err := in.DeviceNumbers(p)
		if err != nil {
			return specs.LinuxBlockIODevice{}, errdefs.InvalidArgumentf("cannot resolve block device %s: %v", p, err)
		}
		return specs.LinuxBlockIODevice{Major: major, Minor: minor}, nil
	}
	for _, w := range r.BlkioWeightDevice {
		if w == nil {
			continue
		}
		dev, err := numbers(w.Path)
		if err != nil {
			return nil, err
		}
		weight := w.Weight
		bio.WeightDevice = append(bio.WeightDevice, specs.LinuxWeightDevice{LinuxBlockIODevice: dev, Weight: &weight})
		used = true
	}
	throttle := func(list []*blkiodev.ThrottleDevice) ([]specs.LinuxThrottleDevice, error) {
		var out []specs.LinuxThrottleDevice
		for _, t := range list {
			if t == nil {
				continue
			}
			dev, err := numbers(t.Path)
			if err != nil {
				return nil, err
			}
			out = append(out, specs.LinuxThrottleDevice{LinuxBlockIODevice: dev, Rate: t.Rate})
			used = true
		}
		return out, nil
	}
	var err error
	if bio.ThrottleReadBpsDevice, err = throttle(r.BlkioDeviceReadBps); err != nil {
		return nil, err
	}
	if bio.ThrottleWriteBpsDevice, err = throttle(r.BlkioDeviceWriteBps); err != nil {
		return nil, err
	}
	if bio.ThrottleReadIOPSDevice, err = throttle(r.BlkioDeviceReadIOps); err != nil {
		return nil, err
	}
	if bio.ThrottleWriteIOPSDevice, err = throttle(r.BlkioDeviceWriteIOps); err != nil {
		return nil, err
	}
	if !used {
		return nil, nil
	}
	return &bio, nil
}

// rlimitNames are the resources `--ulimit` may name (setrlimit(2)).
var rlimitNames = map[string]bool{
	"as": true, "core": true, "cpu": true, "data": true, "fsize": true,
	"locks": true, "memlock": true, "msgqueue": true, "nice": true,
	"nofile": true, "nproc": true, "rss": true, "rtprio": true,
	"rttime": true, "sigpending": true, "stack": true,
}

// rlimitValue maps docker's -1 ("unlimited") to RLIM_INFINITY.
func rlimitValue(v int64) uint64 {
	if v < 0 {
		return ^uint64(0)
	}
	return uint64(v)
}

// rlimits converts --ulimit entries. A later entry for the same resource
// replaces an earlier one. nofile is clamped to hostNofile (when known):
// without CAP_SYS_RESOURCE the runtime cannot raise a hard limit above its
// own, and the container would fail to start instead of running with the
// most the host allows.
func rlimits(list []*container.Ulimit, hostNofile uint64) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	index := map[string]int{}
	for _, u := range list {
		if u == nil {
			continue
		}
		name := strings.ToLower(u.Name)
		if !rlimitNames[name] {
			return nil, errdefs.InvalidArgumentf("invalid ulimit type: %s", u.Name)
		}
		soft, hard := rlimitValue(u.Soft), rlimitValue(u.Hard)
		if soft > hard {
			return nil, errdefs.InvalidArgumentf("ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard)
		}
		if name == "nofile" && hostNofile > 0 && hard > hostNofile {
			hard = hostNofile
			soft = min(soft, hard)
		}
		rl := specs.POSIXRlimit{Type: "RLIMIT_" + strings.ToUpper(name), Soft: soft, Hard: hard}
		if i, ok := index[name]; ok {
			out[i] = rl
			continue
		}
		index[name] = len(out)
		out = append(out, rl)
	}
	return out, nil
}
