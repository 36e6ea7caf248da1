package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

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
