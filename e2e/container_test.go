package e2e

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// withBusybox starts a daemon with the busybox image loaded and returns a CLI of the given binary.
func withBusybox(t *testing.T, bin string) *cli {
	d := harness.Start(t)
	c := &cli{t: t, bin: bin, d: d, dir: t.TempDir()}
	c.ok("load", "-q", "-i", harness.Busybox(t, fixture.Options{}))
	return c
}

func clis(t *testing.T) map[string]string {
	return map[string]string{"docker": dockerCLI(t), "berth": harness.Binary(t, "berth")}
}

func TestRunExitCodes(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			if out := c.ok("run", "--rm", "busybox", "echo", "hello", "world"); out != "hello world\n" {
				t.Fatalf("run output %q", out)
			}
			out, errOut, code := c.run("", "run", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
			if code != 3 || out != "out\n" || errOut != "err\n" {
				t.Fatalf("exit 3: code %d out %q err %q", code, out, errOut)
			}
			for want, args := range map[int][]string{
				127: {"run", "--rm", "busybox", "nosuchcommand"},
				126: {"run", "--rm", "busybox", "/etc"},
				125: {"run", "--rm", "--memory", "bogus", "busybox", "true"},
			} {
				if _, errOut, code := c.run("", args...); code != want {
					t.Errorf("%v: exit %d, want %d (%s)", args, code, want, errOut)
				}
			}
			_, errOut, code = c.run("", "run", "--rm", "nosuchimage:1", "true")
			if code != 125 || !strings.Contains(errOut, "nosuchimage") {
				t.Fatalf("missing image: %d %q", code, errOut)
			}
			// --rm left nothing behind; the exit-3 container is still listed.
			if out := c.ok("ps", "-a", "-q"); len(strings.Fields(out)) != 1 {
				t.Fatalf("ps -a after runs: %q", out)
			}
		})
	}
}

func TestDetachedLifecycle(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			id := strings.TrimSpace(c.ok("run", "-d", "--name", "d1", "busybox", "sh", "-c", "while true; do echo hello world; sleep 1; done"))
			if len(id) != 64 {
				t.Fatalf("run -d printed %q", id)
			}
			if out := c.ok("inspect", "-f", "{{.State.Running}}", "d1"); strings.TrimSpace(out) != "true" {
				t.Fatalf("running: %q", out)
			}
			// logs -f streams new lines as they come.
			cmd := exec.Command(c.bin, "logs", "-f", "d1")
			cmd.Env = c.d.Env()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			lines := 0
			deadline := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
			for lines < 3 && sc.Scan() {
				if sc.Text() != "hello world" {
					t.Fatalf("log line %q", sc.Text())
				}
				lines++
			}
			deadline.Stop()
			cmd.Process.Kill()
			cmd.Wait()
			if lines < 3 {
				t.Fatalf("logs -f gave %d lines", lines)
			}
			if out := c.ok("exec", "d1", "ps", "-o", "pid,args"); !strings.Contains(out, "1 sh -c while true") {
				t.Fatalf("PID 1 inside: %q", out)
			}
			if _, _, code := c.run("", "exec", "d1", "sh", "-c", "exit 7"); code != 7 {
				t.Fatalf("exec exit code %d", code)
			}
			if out := c.ok("exec", "-e", "X=42", "-w", "/tmp", "d1", "sh", "-c", "echo $X $(pwd)"); out != "42 /tmp\n" {
				t.Fatalf("exec env/workdir %q", out)
			}
			// sh ignores SIGTERM as PID 1: stop escalates to SIGKILL after the timeout.
			start := time.Now()
			c.ok("stop", "-t", "2", "d1")
			if took := time.Since(start); took > 8*time.Second {
				t.Fatalf("stop took %v", took)
			}
			if out := c.ok("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", "d1"); strings.TrimSpace(out) != "false 137" {
				t.Fatalf("after stop: %q", out)
			}
			_, errOut, code := c.run("", "run", "-d", "--name", "d1", "busybox", "true")
			if code != 125 || !strings.Contains(errOut, "is already in use") {
				t.Fatalf("name conflict: %d %q", code, errOut)
			}
			c.ok("start", "d1")
			_, errOut, code = c.run("", "rm", "d1")
			if code != 1 || !strings.Contains(errOut, "container is running") {
				t.Fatalf("rm running: %d %q", code, errOut)
			}
			c.ok("rm", "-f", "d1")
			if out := c.ok("ps", "-a", "-q"); strings.TrimSpace(out) != "" {
				t.Fatalf("ps after rm: %q", out)
			}
		})
	}
}

func TestMemoryLimitInCgroup(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	out := c.ok("run", "--rm", "--memory", "64m", "busybox", "sh", "-c",
		"cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")
	if strings.TrimSpace(out) != "67108864" {
		t.Fatalf("memory limit in cgroup: %q", out)
	}
}

// TestContainersSurviveDaemonKill kills berthd with SIGKILL while a container runs; the container
// keeps running and a new berthd lists it, streams its logs and stops it.
func TestContainersSurviveDaemonKill(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	c.ok("run", "-d", "--name", "survivor", "busybox", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done")
	c.ok("run", "-d", "--name", "phoenix", "--restart", "always", "busybox", "sh", "-c", "sleep 1; exit 1")
	pid := strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Pid}}", "survivor"))
	c.d.Kill()
	time.Sleep(500 * time.Millisecond)
	if err := exec.Command("kill", "-0", pid).Run(); err != nil {
		t.Fatalf("container process %s died with the daemon", pid)
	}
	c.d.Restart()
	if out := c.ok("ps", "--filter", "name=survivor", "--format", "{{.Names}} {{.State}}"); strings.TrimSpace(out) != "survivor running" {
		t.Fatalf("ps after restart: %q", out)
	}
	out := c.ok("logs", "--tail", "2", "survivor")
	if !strings.HasPrefix(out, "tick ") {
		t.Fatalf("logs after restart: %q", out)
	}
	// Attach works through the re-adopted shim.
	att := exec.Command(c.bin, "attach", "--no-stdin", "survivor")
	att.Env = c.d.Env()
	attOut, _ := att.StdoutPipe()
	if err := att.Start(); err != nil {
		t.Fatal(err)
	}
	readUntil(t, attOut, "tick", 10*time.Second)
	att.Process.Kill()
	att.Wait()
	// The new daemon keeps applying the restart policy it inherited.
	before := strings.TrimSpace(c.ok("inspect", "-f", "{{.RestartCount}}", "phoenix"))
	deadline := time.Now().Add(15 * time.Second)
	for strings.TrimSpace(c.ok("inspect", "-f", "{{.RestartCount}}", "phoenix")) == before {
		if time.Now().After(deadline) {
			t.Fatalf("restart count stuck at %s after the daemon restart", before)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.ok("stop", "-t", "1", "survivor")
	if out := c.ok("inspect", "-f", "{{.State.Status}}", "survivor"); strings.TrimSpace(out) != "exited" {
		t.Fatalf("status after stop: %q", out)
	}
}

func TestRestartPolicyOnFailure(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	c.ok("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1")
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		out := c.ok("inspect", "-f", "{{.RestartCount}} {{.State.Running}}", "flaky")
		if strings.TrimSpace(out) == "2 false" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("restart count never reached 2: %s", c.ok("inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "flaky"))
}

func readUntil(t *testing.T, r io.Reader, want string, timeout time.Duration) string {
	t.Helper()
	var got strings.Builder
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if strings.Contains(got.String(), want) || err != nil {
				close(done)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("did not see %q within %v; got %q", want, timeout, got.String())
	}
	return got.String()
}

func TestHealthcheck(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	c.ok("run", "-d", "--name", "hc", "--health-cmd", "test -e /tmp/ok", "--health-interval", "200ms", "--health-retries", "2", "busybox", "sleep", "100")
	waitHealth := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		got := ""
		for time.Now().Before(deadline) {
			got = strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Health.Status}}", "hc"))
			if got == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("health status %q, want %q", got, want)
	}
	waitHealth("unhealthy")
	if out := c.ok("ps", "--format", "{{.Status}}"); !strings.Contains(out, "(unhealthy)") {
		t.Fatalf("ps status: %q", out)
	}
	c.ok("exec", "hc", "touch", "/tmp/ok")
	waitHealth("healthy")
	if out := c.ok("inspect", "-f", "{{(index .State.Health.Log 0).ExitCode}}", "hc"); strings.TrimSpace(out) == "" {
		t.Fatal("no health log")
	}
}

// TestRemoveImageInUse: rmi of an image a container uses is refused, and -f only untags it.
func TestRemoveImageInUse(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	c.ok("create", "--name", "user", "busybox", "true")
	_, errOut, code := c.run("", "rmi", "busybox")
	if code != 1 || !strings.Contains(errOut, "is using its referenced image") {
		t.Fatalf("rmi in use: %d %q", code, errOut)
	}
	if out := c.ok("rmi", "-f", "busybox"); !strings.Contains(out, "Untagged: busybox:latest") || strings.Contains(out, "Deleted") {
		t.Fatalf("rmi -f in use: %q", out)
	}
	c.ok("start", "-a", "user") // the untagged image still runs
	c.ok("rm", "user")
	if out := c.ok("image", "prune", "-f"); !strings.Contains(out, "deleted: sha256:") {
		t.Fatalf("prune after the container went: %q", out)
	}
}

// TestRunOptions checks that run's security, identity and resource flags reach the container.
func TestRunOptions(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			cases := []struct {
				args []string
				want string
			}{
				{[]string{"--init", "busybox", "ps", "-o", "pid,args"}, "1 /sbin/docker-init -- ps"},
				{[]string{"-u", "nobody", "busybox", "id", "-u"}, "65534"},
				{[]string{"-e", "A=1", "-w", "/tmp", "--hostname", "hh", "busybox", "sh", "-c", "echo $A $(pwd) $(hostname)"}, "1 /tmp hh"},
				// The daemon's hard limit here is below a million: the request is clamped, not refused.
				{[]string{"--ulimit", "nofile=1000000:1000000", "busybox", "sh", "-c", "test $(ulimit -n) -ge 1024 && echo clamped"}, "clamped"},
				{[]string{"--pids-limit", "10", "busybox", "sh", "-c", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"}, "10"},
				{[]string{"--tmpfs", "/scratch", "busybox", "sh", "-c", "grep ' /scratch ' /proc/mounts | cut -d' ' -f3"}, "tmpfs"},
			}
			for _, tc := range cases {
				args := append([]string{"run", "--rm"}, tc.args...)
				if out := c.ok(args...); !strings.Contains(out, tc.want) {
					t.Errorf("%v: %q does not contain %q", tc.args, out, tc.want)
				}
			}
			for _, args := range [][]string{
				{"--read-only", "busybox", "touch", "/x"},
				{"--cap-drop", "ALL", "busybox", "chown", "1", "/tmp"},
			} {
				if _, _, code := c.run("", append([]string{"run", "--rm"}, args...)...); code != 1 {
					t.Errorf("%v: exit %d, want the command's failure (1)", args, code)
				}
			}
		})
	}
}

// TestHealthOnFailure: beyond docker, an unhealthy container is restarted (berth flag) or stopped
// (the label, from the docker CLI).
func TestHealthOnFailure(t *testing.T) {
	for name, args := range map[string][]string{
		"berth-restart": {"--health-on-failure", "restart"},
		"docker-stop":   {"--label", "berth.health-on-failure=stop"},
	} {
		t.Run(name, func(t *testing.T) {
			bin := dockerCLI(t)
			if strings.HasPrefix(name, "berth") {
				bin = harness.Binary(t, "berth")
			}
			c := withBusybox(t, bin)
			run := append([]string{"run", "-d", "--name", "sick", "--stop-timeout", "1", "--health-cmd", "false", "--health-interval", "100ms", "--health-retries", "1"}, args...)
			c.ok(append(run, "busybox", "sleep", "100")...)
			first := strings.TrimSpace(c.ok("inspect", "-f", "{{.State.StartedAt}}", "sick"))
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				running, started, _ := strings.Cut(strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Running}} {{.State.StartedAt}}", "sick")), " ")
				if name == "docker-stop" && running == "false" {
					return
				}
				if name == "berth-restart" && running == "true" && started != first {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Fatalf("%s: action never happened: %s", name, c.ok("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}} error={{.State.Error}}", "sick"))
		})
	}
}

// TestJoinPidAndIpcNamespaces: --pid and --ipc container:<name> share the donor's process table
// and its IPC namespace and /dev/shm (an --ipc shareable donor's, as in docker), and the shared
// /dev/shm outlives the donor for a joiner still running. Killing the joiner ends all its
// processes but leaves the donor's. An unknown or stopped donor fails at start, and a private
// one with docker's hint.
func TestJoinPidAndIpcNamespaces(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			c.ok("run", "-d", "--name", "donor", "--ipc", "shareable", "--shm-size", "8m", "busybox", "sleep", "300")
			if out := c.ok("run", "--rm", "--pid", "container:donor", "busybox", "ps", "-o", "args"); !strings.Contains(out, "sleep 300") {
				t.Fatalf("ps in the donor's pid namespace: %q", out)
			}
			c.ok("exec", "donor", "sh", "-c", "echo shared > /dev/shm/note")
			if out := c.ok("run", "--rm", "--ipc", "container:donor", "busybox", "cat", "/dev/shm/note"); out != "shared\n" {
				t.Fatalf("/dev/shm through --ipc container: %q", out)
			}
			donorIPC := c.ok("exec", "donor", "readlink", "/proc/self/ns/ipc")
			if out := c.ok("run", "--rm", "--ipc", "container:donor", "busybox", "readlink", "/proc/self/ns/ipc"); out != donorIPC {
				t.Fatalf("ipc namespace %q, donor's %q", out, donorIPC)
			}
			if out := c.ok("exec", "donor", "df", "-k", "/dev/shm"); !strings.Contains(out, "8192") {
				t.Fatalf("--shm-size of a shareable container: %q", out)
			}
			c.ok("run", "-d", "--name", "reader", "--ipc", "container:donor", "busybox", "sleep", "300")
			c.ok("run", "-d", "--name", "private", "busybox", "sleep", "300")
			if _, errOut, code := c.run("", "run", "--rm", "--ipc", "container:private", "busybox", "true"); code != 125 || !strings.Contains(errOut, "non-shareable IPC") {
				t.Fatalf("joining a private IPC: exit %d %q", code, errOut)
			}

			c.ok("run", "-d", "--name", "joiner", "--pid", "container:donor", "busybox", "sh", "-c", "sleep 301 & exec sleep 302")
			c.ok("rm", "-f", "joiner")
			deadline := time.Now().Add(5 * time.Second)
			for out := c.ok("exec", "donor", "ps", "-o", "args"); strings.Contains(out, "sleep 301"); out = c.ok("exec", "donor", "ps", "-o", "args") {
				if time.Now().After(deadline) {
					t.Fatalf("the joiner's child outlived rm -f: %q", out)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got := strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Running}}", "donor")); got != "true" {
				t.Fatalf("donor after the joiner's removal: running=%s", got)
			}
			c.ok("rm", "-f", "donor")
			if out := c.ok("exec", "reader", "cat", "/dev/shm/note"); out != "shared\n" {
				t.Fatalf("/dev/shm after the donor went: %q", out)
			}

			// Found missing at start, not at create, where the CLI would take a 404 for a missing image.
			for _, mode := range []string{"--pid", "--ipc", "--network"} {
				if _, errOut, code := c.run("", "run", "--rm", mode, "container:nope", "busybox", "true"); code != 125 || !strings.Contains(errOut, "No such container: nope") || strings.Contains(errOut, "Unable to find image") {
					t.Fatalf("%s with an unknown donor: exit %d %q", mode, code, errOut)
				}
			}
			c.ok("create", "--name", "idle", "busybox", "true")
			if _, errOut, code := c.run("", "run", "--rm", "--ipc", "container:idle", "busybox", "true"); code != 125 || !strings.Contains(errOut, "cannot join IPC of a non running container") {
				t.Fatalf("stopped donor: exit %d %q", code, errOut)
			}
		})
	}
}
