package container

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/host"
)

// StatsOptions selects how Stats samples a container, as the stream and one-shot query flags do.
type StatsOptions struct {
	Stream  bool // one sample a second until the client leaves or the container stops
	OneShot bool // with !Stream: a single sample without waiting for a second one to fill precpu_stats
}

// statsInterval is the time between two samples, as docker's collector uses.
const statsInterval = time.Second

// clockTicks is USER_HZ, the unit of /proc/stat and cpuacct.stat; 100 on every Linux docker runs on.
const clockTicks = 100

// cgroupStats reads resource usage from cgroup files. Its fields are paths so tests can point it at
// a fake tree.
type cgroupStats struct {
	root     string // normally /sys/fs/cgroup
	v2       bool
	procStat string // normally /proc/stat
	meminfo  string // normally /proc/meminfo
}

func defaultCgroupStats() *cgroupStats {
	return &cgroupStats{
		root:     "/sys/fs/cgroup",
		v2:       host.DetectCgroupMode("/sys/fs/cgroup") == host.CgroupV2,
		procStat: "/proc/stat",
		meminfo:  "/proc/meminfo",
	}
}

// Stats sends the container's resource usage to send: once, or every second with opts.Stream. A
// container that is not running yields one zeroed sample carrying only its name and ID.
func (s *Service) Stats(ctx context.Context, ref string, opts StatsOptions, send func(*container.StatsResponse) error) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	cg := defaultCgroupStats()
	running := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.State.Running
	}
	if !running() {
		return send(&container.StatsResponse{ID: c.ID, Name: c.Name})
	}
	var prev *container.StatsResponse
	sample := func() *container.StatsResponse {
		cur := cg.sample(c.ID)
		cur.ID, cur.Name = c.ID, c.Name
		cur.Networks = c.networkStats()
		if prev != nil {
			cur.PreRead, cur.PreCPUStats = prev.Read, prev.CPUStats
		}
		prev = cur
		return cur
	}
	wait := func() bool {
		t := time.NewTimer(statsInterval)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	if !opts.Stream {
		st := sample()
		if !opts.OneShot {
			if !wait() {
				return ctx.Err()
			}
			if !running() {
				return send(&container.StatsResponse{ID: c.ID, Name: c.Name})
			}
			st = sample()
		}
		return send(st)
	}
	for {
		if err := send(sample()); err != nil {
			return err
		}
		if !wait() {
			return nil
		}
		if !running() {
			return nil
		}
	}
}

// sample reads one snapshot of the cgroup of container id; missing files leave fields at zero.
func (cg *cgroupStats) sample(id string) *container.StatsResponse {
	st := &container.StatsResponse{Read: time.Now().UTC(), OSType: "linux"}
	if raw, err := os.ReadFile(cg.procStat); err == nil {
		st.CPUStats.SystemUsage, st.CPUStats.OnlineCPUs = parseProcStat(string(raw))
	}
	memTotal := readMemTotal(cg.meminfo)
	if cg.v2 {
		dir := filepath.Join(cg.root, "berth", id)
		if raw, err := os.ReadFile(filepath.Join(dir, "cpu.stat")); err == nil {
			st.CPUStats.CPUUsage, st.CPUStats.ThrottlingData = parseCPUStatV2(string(raw))
		}
		st.MemoryStats.Usage, _ = readUint(filepath.Join(dir, "memory.current"))
		if lim, ok := readUint(filepath.Join(dir, "memory.max")); ok {
			st.MemoryStats.Limit = lim
		}
		st.MemoryStats.MaxUsage, _ = readUint(filepath.Join(dir, "memory.peak"))
		if raw, err := os.ReadFile(filepath.Join(dir, "memory.stat")); err == nil {
			st.MemoryStats.Stats = parseFlatKeyed(string(raw))
		}
		st.PidsStats.Current, _ = readUint(filepath.Join(dir, "pids.current"))
		st.PidsStats.Limit, _ = readUint(filepath.Join(dir, "pids.max"))
		if raw, err := os.ReadFile(filepath.Join(dir, "io.stat")); err == nil {
			st.BlkioStats.IoServiceBytesRecursive, st.BlkioStats.IoServicedRecursive = parseIOStat(string(raw))
		}
	} else {
		sub := filepath.Join("berth", id)
		cpu := filepath.Join(cg.root, "cpuacct", sub)
		st.CPUStats.CPUUsage.TotalUsage, _ = readUint(filepath.Join(cpu, "cpuacct.usage"))
		if raw, err := os.ReadFile(filepath.Join(cpu, "cpuacct.stat")); err == nil {
			st.CPUStats.CPUUsage.UsageInUsermode, st.CPUStats.CPUUsage.UsageInKernelmode = parseCPUAcctStat(string(raw))
		}
		if raw, err := os.ReadFile(filepath.Join(cpu, "cpuacct.usage_percpu")); err == nil {
			st.CPUStats.CPUUsage.PercpuUsage = parseUintList(string(raw))
		}
		if raw, err := os.ReadFile(filepath.Join(cg.root, "cpu", sub, "cpu.stat")); err == nil {
			_, st.CPUStats.ThrottlingData = parseCPUStatV2(string(raw))
		}
		mem := filepath.Join(cg.root, "memory", sub)
		st.MemoryStats.Usage, _ = readUint(filepath.Join(mem, "memory.usage_in_bytes"))
		st.MemoryStats.MaxUsage, _ = readUint(filepath.Join(mem, "memory.max_usage_in_bytes"))
		st.MemoryStats.Failcnt, _ = readUint(filepath.Join(mem, "memory.failcnt"))
		st.MemoryStats.Limit, _ = readUint(filepath.Join(mem, "memory.limit_in_bytes"))
		if raw, err := os.ReadFile(filepath.Join(mem, "memory.stat")); err == nil {
			st.MemoryStats.Stats = parseFlatKeyed(string(raw))
		}
		pids := filepath.Join(cg.root, "pids", sub)
		st.PidsStats.Current, _ = readUint(filepath.Join(pids, "pids.current"))
		st.PidsStats.Limit, _ = readUint(filepath.Join(pids, "pids.max"))
		blk := filepath.Join(cg.root, "blkio", sub)
		st.BlkioStats.IoServiceBytesRecursive = readBlkio(blk, "blkio.throttle.io_service_bytes")
		st.BlkioStats.IoServicedRecursive = readBlkio(blk, "blkio.throttle.io_serviced")
	}
	// An unlimited cgroup reports "max" or a huge number: docker shows the host's memory instead.
	if memTotal > 0 && (st.MemoryStats.Limit == 0 || st.MemoryStats.Limit > memTotal) {
		st.MemoryStats.Limit = memTotal
	}
	return st
}

// readBlkio prefers the _recursive variant of a v1 blkio file and falls back to the plain one.
func readBlkio(dir, name string) []container.BlkioStatEntry {
	raw, err := os.ReadFile(filepath.Join(dir, name+"_recursive"))
	if errors.Is(err, fs.ErrNotExist) {
		raw, err = os.ReadFile(filepath.Join(dir, name))
	}
	if err != nil {
		return nil
	}
	return parseBlkioV1(string(raw))
}

// readUint reads a single-number cgroup file; "max" and unreadable files report ok=false.
func readUint(path string) (uint64, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

func readMemTotal(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, _ := strconv.ParseUint(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// parseProcStat returns the host's CPU time in nanoseconds as docker computes it (the first seven
// fields of the aggregate "cpu" line: user, nice, system, idle, iowait, irq, softirq) and the number
// of per-CPU lines.
func parseProcStat(s string) (uint64, uint32) {
	var total uint64
	var online uint32
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			online++
			continue
		}
		var ticks uint64
		for i := 1; i < len(f) && i <= 7; i++ {
			n, _ := strconv.ParseUint(f[i], 10, 64)
			ticks += n
		}
		total = ticks * (uint64(time.Second) / clockTicks)
	}
	return total, online
}

// parseCPUAcctStat reads a v1 cpuacct.stat ("user N", "system N", in USER_HZ ticks) into nanoseconds.
func parseCPUAcctStat(s string) (user, system uint64) {
	kv := parseFlatKeyed(s)
	const ns = uint64(time.Second) / clockTicks
	return kv["user"] * ns, kv["system"] * ns
}

// parseCPUStatV2 reads a cpu.stat file: v2 usage in microseconds converted to nanoseconds, and the
// throttling counters (v1's cpu.stat has nr_periods, nr_throttled and throttled_time in ns; v2 has
// throttled_usec).
func parseCPUStatV2(s string) (container.CPUUsage, container.ThrottlingData) {
	kv := parseFlatKeyed(s)
	u := container.CPUUsage{
		TotalUsage:        kv["usage_usec"] * 1000,
		UsageInUsermode:   kv["user_usec"] * 1000,
		UsageInKernelmode: kv["system_usec"] * 1000,
	}
	t := container.ThrottlingData{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_time"]}
	if v, ok := kv["throttled_usec"]; ok {
		t.ThrottledTime = v * 1000
	}
	return u, t
}

// parseFlatKeyed reads "key value" lines such as memory.stat; lines that are not a key and a number
// are skipped.
func parseFlatKeyed(s string) map[string]uint64 {
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		out[f[0]] = n
	}
	return out
}

func parseUintList(s string) []uint64 {
	var out []uint64
	for _, f := range strings.Fields(s) {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

func parseDevice(s string) (major, minor uint64, ok bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	ma, err1 := strconv.ParseUint(a, 10, 64)
	mi, err2 := strconv.ParseUint(b, 10, 64)
	return ma, mi, err1 == nil && err2 == nil
}

// parseBlkioV1 reads "MAJ:MIN Op value" lines; the closing "Total N" line has no device and is
// skipped.
func parseBlkioV1(s string) []container.BlkioStatEntry {
	var out []container.BlkioStatEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		major, minor, ok := parseDevice(f[0])
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, container.BlkioStatEntry{Major: major, Minor: minor, Op: f[1], Value: v})
	}
	return out
}

// parseIOStat reads a v2 io.stat ("MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...") into docker's
// bytes and operations entries, with the lower-case op names docker uses on cgroup v2.
func parseIOStat(s string) (bytes, ios []container.BlkioStatEntry) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		major, minor, ok := parseDevice(f[0])
		if !ok {
			continue
		}
		for _, kv := range f[1:] {
			k, v, found := strings.Cut(kv, "=")
			if !found {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			e := container.BlkioStatEntry{Major: major, Minor: minor, Value: n}
			switch k {
			case "rbytes":
				e.Op = "read"
				bytes = append(bytes, e)
			case "wbytes":
				e.Op = "write"
				bytes = append(bytes, e)
			case "rios":
				e.Op = "read"
				ios = append(ios, e)
			case "wios":
				e.Op = "write"
				ios = append(ios, e)
			}
		}
	}
	return bytes, ios
}

// networkStats reads the counters of the host ends of the container's veths, seen from the
// container's side (what the host end receives, the container sent).
func (c *Container) networkStats() map[string]container.NetworkStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Sandbox == nil || len(c.Sandbox.Endpoints) == 0 {
		return nil
	}
	out := map[string]container.NetworkStats{}
	for _, ep := range c.Sandbox.Endpoints {
		dir := "/sys/class/net/" + ep.HostIf + "/statistics/"
		get := func(name string) uint64 { v, _ := readUint(dir + name); return v }
		out[ep.IfName] = container.NetworkStats{
			RxBytes: get("tx_bytes"), RxPackets: get("tx_packets"), RxErrors: get("tx_errors"), RxDropped: get("tx_dropped"),
			TxBytes: get("rx_bytes"), TxPackets: get("rx_packets"), TxErrors: get("rx_errors"), TxDropped: get("rx_dropped"),
		}
	}
	return out
}
