package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// containerResult holds the container figures of one engine.
type containerResult struct {
	runRm     []time.Duration // `docker run --rm busybox true`, whole CLI command
	runRmNet  []time.Duration // the same on the default bridge (engines whose bridge is on here)
	runDetach time.Duration   // `-ctr` sequential `docker run -d busybox sleep 300`
	rmForce   time.Duration   // one `docker rm -f` of all of them
	rss       int64           // daemon side with -ctr running (bytes)
	shimRSS   int64           // median VmRSS of one shim (bytes)
	shims     int
}

// bridged reports engines measured with their default bridge network on.
func (e engine) bridged() bool { return e.name != "docker" }

// engineProcs names the executables that count as the engine's memory.
func (e engine) engineProcs() (daemons, shims []string) {
	if e.name == "docker" {
		return []string{"dockerd", "containerd"}, []string{"containerd-shim-runc-v2", "containerd-shim-runc-v1", "containerd-shim"}
	}
	return []string{"berthd"}, []string{"berth-shim"}
}

// cli runs the docker CLI against one daemon, with a private config dir so the
// host's ~/.docker (contexts, plugins) is not used.
type cli struct {
	host   string
	config string
	env    []string // added to the CLI's environment
}

func (c cli) run(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, "docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+c.host, "DOCKER_CONFIG="+c.config, "DOCKER_CLI_HINTS=false")
	cmd.Env = append(cmd.Env, c.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// measureContainers loads busybox into d and times container work through the
// docker CLI. Every container it starts is removed before it returns, also
// when ctx is cancelled; shims that outlive their daemon are ended by d.stop.
func measureContainers(ctx context.Context, o options, d *daemon, busybox []byte, fail func(string, ...any)) *containerResult {
	cr := &containerResult{}
	cfgDir := filepath.Join(d.root, "docker-cli")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		fail("containers: %w", err)
		return cr
	}
	c := cli{host: "unix://" + d.sock, config: cfgDir}
	if err := d.api.load(ctx, busybox); err != nil {
		fail("containers: load busybox: %w", err)
		return cr
	}

	var ids []string
	defer func() {
		// Record the shims first: dockerd's are not its descendants.
		_, shimNames := d.eng.engineProcs()
		d.strays = append(d.strays, procsNamed(shimNames, d.root)...)
		if len(ids) == 0 {
			return
		}
		// A fresh context: this must run after ^C too.
		if _, err := c.run(context.Background(), 2*o.timeout, append([]string{"rm", "-f"}, ids...)...); err != nil {
			fail("containers: cleanup: %w", err)
		}
	}()

	// (a) run --rm latency, one unmeasured warm-up first. Engines measured with their bridge
	// on also run on the default network, alternating with --network none so that both see the
	// same machine load; what networking costs is the difference. dockerd runs here without its
	// bridge and iptables (they would change the host's firewall), so only berth has the pair.
	timeRun := func(i int, into *[]time.Duration, args ...string) {
		begin := time.Now()
		_, err := c.run(ctx, o.timeout, append([]string{"run", "--rm"}, args...)...)
		took := time.Since(begin)
		if err != nil {
			// Recorded, not fatal: the detached runs below are still measured.
			fail("containers: run --rm %v (%d of %d): %w", args, i, o.runs, err)
			return
		}
		if i > 0 {
			*into = append(*into, took)
		}
	}
	for i := 0; i <= o.runs && ctx.Err() == nil; i++ {
		timeRun(i, &cr.runRm, "--network", "none", "busybox", "true")
		if d.eng.bridged() {
			timeRun(i, &cr.runRmNet, "busybox", "true")
		}
	}

	// (b) sequential detached runs.
	begin := time.Now()
	for i := 0; i < o.ctrs && ctx.Err() == nil; i++ {
		out, err := c.run(ctx, o.timeout, "run", "-d", "--network", "none", "busybox", "sleep", "300")
		if id := strings.TrimSpace(out); id != "" {
			ids = append(ids, id)
		}
		if err != nil {
			fail("containers: run -d %d: %w", i+1, err)
			return cr
		}
	}
	if ctx.Err() != nil {
		return cr
	}
	cr.runDetach = time.Since(begin)

	// (d) memory with all of them running.
	time.Sleep(time.Second)
	rss, shimRSS, n, err := engineRSS(d)
	if err != nil {
		fail("containers: rss: %w", err)
	} else {
		cr.rss, cr.shimRSS, cr.shims = rss, shimRSS, n
		if n != o.ctrs {
			fail("containers: found %d shims for %d containers", n, o.ctrs)
		}
	}

	// (c) one rm -f of all of them.
	begin = time.Now()
	_, err = c.run(ctx, 2*o.timeout, append([]string{"rm", "-f"}, ids...)...)
	took := time.Since(begin)
	if err != nil {
		fail("containers: rm -f: %w", err)
		return cr
	}
	ids = nil
	cr.rmForce = took
	return cr
}

// engineRSS sums VmRSS of the daemon processes (the daemon and its descendants
// that are engine executables) and of every shim belonging to d, and returns
// the median shim RSS too. Container processes themselves are not counted.
func engineRSS(d *daemon) (total, shimMedian int64, shims int, err error) {
	daemonNames, shimNames := d.eng.engineProcs()
	pids := []int{d.cmd.Process.Pid}
	for _, p := range descendants(d.cmd.Process.Pid) {
		if slices.Contains(daemonNames, exeName(p)) {
			pids = append(pids, p)
		}
	}
	for _, p := range pids {
		kb, err := vmRSS(p)
		if err != nil {
			return 0, 0, 0, err
		}
		total += kb * 1024
	}
	var per []float64
	for _, p := range procsNamed(shimNames, d.root) {
		kb, err := vmRSS(p)
		if err != nil {
			continue // exited meanwhile
		}
		total += kb * 1024
		per = append(per, float64(kb*1024))
	}
	if len(per) > 0 {
		shimMedian = int64(median(per))
	}
	return total, shimMedian, len(per), nil
}

// exeName is the base name of the executable of pid ("" when unknown).
func exeName(pid int) string {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return ""
	}
	return filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
}

// procsNamed lists live processes running one of names whose command line or
// working directory mentions root, so shims of other daemons on the host are left out.
func procsNamed(names []string, root string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !slices.Contains(names, exeName(pid)) || !alive(pid) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		cwd, _ := os.Readlink("/proc/" + e.Name() + "/cwd")
		if strings.Contains(string(cmdline), root) || strings.HasPrefix(cwd, root) {
			out = append(out, pid)
		}
	}
	return out
}

func containerRows(o options) []row {
	dur := func(pick func(*containerResult) time.Duration) func(*result) (string, float64, bool) {
		return func(r *result) (string, float64, bool) {
			if r.ctr == nil || pick(r.ctr) == 0 {
				return "-", 0, false
			}
			v := ms(pick(r.ctr))
			return fmt.Sprintf("%.0f ms", v), v, true
		}
	}
	mem := func(pick func(*containerResult) int64) func(*result) (string, float64, bool) {
		return func(r *result) (string, float64, bool) {
			if r.ctr == nil || pick(r.ctr) == 0 {
				return "-", 0, false
			}
			mib := float64(pick(r.ctr)) / (1 << 20)
			return fmt.Sprintf("%.1f MiB", mib), mib, true
		}
	}
	return []row{
		{fmt.Sprintf("docker run --rm busybox true (median of %d)", o.runs), spreadCell(func(r *result) *containerResult { return r.ctr },
			func(c *containerResult) []time.Duration { return c.runRm })},
		{fmt.Sprintf("same, default bridge network (median of %d)", o.runs), func(r *result) (string, float64, bool) {
			if r.ctr == nil || len(r.ctr.runRmNet) == 0 {
				return "-", 0, false
			}
			m := median(r.ctr.runRmNet)
			return fmt.Sprintf("%.0f ms (+%.0f ms for the network)", ms(m), ms(m)-ms(median(r.ctr.runRm))), ms(m), true
		}},
		{fmt.Sprintf("%d x docker run -d busybox sleep 300 (total)", o.ctrs), dur(func(c *containerResult) time.Duration { return c.runDetach })},
		{fmt.Sprintf("docker rm -f of %d running (one command)", o.ctrs), dur(func(c *containerResult) time.Duration { return c.rmForce })},
		{fmt.Sprintf("RSS with %d running (daemon(s) + shims)", o.ctrs), mem(func(c *containerResult) int64 { return c.rss })},
		{"RSS per shim (median)", mem(func(c *containerResult) int64 { return c.shimRSS })},
	}
}
