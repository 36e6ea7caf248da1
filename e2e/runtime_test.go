package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// TestCrunRuntime runs containers with crun, chosen per container (--runtime) and as the daemon's
// default: output, exit codes, a memory limit in the cgroup, and a detached container stopped,
// exec'd into and removed. On a hybrid cgroup host this needs berthd's preparation for crun.
func TestCrunRuntime(t *testing.T) {
	if _, err := exec.LookPath("crun"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("crun not on PATH (scripts/setup.sh installs it)")
		}
		t.Skip("crun not installed")
	}
	docker := dockerCLI(t)
	check := func(t *testing.T, c *cli, runtimeArgs ...string) {
		run := func(args ...string) []string { return append(append([]string{"run"}, runtimeArgs...), args...) }
		if out := c.ok(run("--rm", "busybox", "echo", "hello")...); out != "hello\n" {
			t.Fatalf("crun run output %q", out)
		}
		if _, errOut, code := c.run("", run("--rm", "busybox", "sh", "-c", "exit 3")...); code != 3 {
			t.Fatalf("exit code %d, want 3 (%s)", code, errOut)
		}
		// docker's seccomp profile is in force (crun gets it precompiled by berthd).
		if _, errOut, code := c.run("", run("--rm", "busybox", "unshare", "-U", "true")...); code == 0 || !strings.Contains(errOut, "Operation not permitted") {
			t.Fatalf("unshare -U under the default seccomp profile: exit %d %q", code, errOut)
		}
		if out := c.ok(run("--rm", "--security-opt", "seccomp=unconfined", "busybox", "grep", "Seccomp:", "/proc/self/status")...); !strings.Contains(out, "0") {
			t.Fatalf("seccomp=unconfined: %q", out)
		}
		if _, errOut, code := c.run("", run("--rm", "busybox", "nosuchcommand")...); code != 127 {
			t.Fatalf("missing command: exit %d, want 127 (%s)", code, errOut)
		}
		out := c.ok(run("--rm", "--memory", "64m", "busybox", "sh", "-c",
			"cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")...)
		if strings.TrimSpace(out) != "67108864" {
			t.Fatalf("memory limit in cgroup: %q", out)
		}
		id := strings.TrimSpace(c.ok(run("-d", "busybox", "sleep", "300")...))
		if got := strings.TrimSpace(c.ok("inspect", "-f", "{{.HostConfig.Runtime}} {{.State.Running}}", id)); got != "crun true" {
			t.Fatalf("inspect: %q", got)
		}
		if out := c.ok("exec", id, "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "sleep") {
			t.Fatalf("exec: PID 1 is %q", out)
		}
		c.ok("stop", "-t", "1", id)
		c.ok("rm", id)
	}
	t.Run("per-container", func(t *testing.T) {
		c := withBusybox(t, docker)
		check(t, c, "--runtime", "crun")
	})
	t.Run("daemon-default", func(t *testing.T) {
		d := harness.Start(t, "--default-runtime", "crun")
		c := &cli{t: t, bin: docker, d: d, dir: t.TempDir()}
		c.ok("load", "-q", "-i", harness.Busybox(t, fixture.Options{}))
		if out := strings.TrimSpace(c.ok("info", "-f", "{{.DefaultRuntime}}")); out != "crun" {
			t.Fatalf("info DefaultRuntime %q", out)
		}
		check(t, c)
	})
}

// TestRuntimeStateGoesWithContainer: the shim records the exit before it deletes the container
// from the runtime, and berthd may remove the container (and the shim's directory) in between.
// The runtime's state and the container's cgroups must still go, for runc and crun, after
// `run --rm`, after `rm -f` of a running container and after a restart.
func TestRuntimeStateGoesWithContainer(t *testing.T) {
	runtimes := []string{"runc"}
	if _, err := exec.LookPath("crun"); err == nil {
		runtimes = append(runtimes, "crun")
	}
	c := withBusybox(t, dockerCLI(t))
	var ids []string
	for _, rt := range runtimes {
		name := "keep-" + rt
		c.ok("run", "-d", "--name", name, "--runtime", rt, "busybox", "sleep", "300")
		c.ok("restart", "-t", "0", name)
		for range 3 {
			c.ok("run", "--rm", "--runtime", rt, "busybox", "true")
		}
		ids = append(ids, strings.TrimSpace(c.ok("run", "-d", "--runtime", rt, "busybox", "sleep", "300")))
		c.ok("rm", "-f", ids[len(ids)-1])
	}
	keep := map[string]bool{}
	for _, rt := range runtimes {
		keep[strings.TrimSpace(c.ok("inspect", "-f", "{{.Id}}", "keep-"+rt))] = true
	}
	leftovers := func() []string {
		var out []string
		for _, rt := range runtimes {
			entries, _ := os.ReadDir(filepath.Join(c.d.Dir, "exec", "runtime", rt))
			for _, e := range entries {
				if !keep[e.Name()] {
					out = append(out, rt+" state "+e.Name())
				}
			}
		}
		for _, id := range ids {
			for _, cg := range []string{"/sys/fs/cgroup/memory/berth/" + id, "/sys/fs/cgroup/unified/berth/" + id, "/sys/fs/cgroup/berth/" + id} {
				if _, err := os.Stat(cg); err == nil {
					out = append(out, "cgroup "+cg)
				}
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for left := leftovers(); len(left) > 0; left = leftovers() {
		if time.Now().After(deadline) {
			t.Fatalf("left behind 10 s after the containers went: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, rt := range runtimes {
		if got := strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Running}}", "keep-"+rt)); got != "true" {
			t.Fatalf("%s container after its restart: running=%s", rt, got)
		}
	}
}
