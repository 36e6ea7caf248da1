package shim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/shim"
)

const (
	runcPath     = "/usr/sbin/runc"
	busyboxPath  = "/bin/busybox"
	cgroupParent = "berth-shim-test"
	helperEnv    = "BERTH_SHIM_TEST_HELPER"
)

// shimBin is the berth-shim binary built once by TestMain ("" when the
// integration tests cannot run here).
var shimBin string

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		helperMain(spec) // never returns
	}
	code := func() int {
		dir, err := os.MkdirTemp("", "berth-shim-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if os.Geteuid() == 0 && fileExists(runcPath) && fileExists(busyboxPath) {
			bin := filepath.Join(dir, "berth-shim")
			args := []string{"build", "-o", bin}
			env := append(os.Environ(), "CGO_ENABLED=0")
			if os.Getenv("BERTH_SHIM_TEST_RACE") != "" { // a race-detecting shim (cgo, much bigger)
				args, env = append(args, "-race"), append(os.Environ(), "CGO_ENABLED=1")
			}
			cmd := exec.Command(goBinary(), append(args, "github.com/berth-project/berth/cmd/berth-shim")...)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "building berth-shim: %v\n%s", err, out)
				return 1
			}
			shimBin = bin
		}
		code := m.Run()
		removeCgroupParent()
		return code
	}()
	os.Exit(code)
}

func goBinary() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func requireRuntime(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if !fileExists(runcPath) {
		t.Skip("needs " + runcPath)
	}
	if !fileExists(busyboxPath) {
		t.Skip("needs " + busyboxPath)
	}
	if shimBin == "" {
		t.Fatal("berth-shim was not built")
	}
}

var idSeq atomic.Int64

// testContainer is a bundle with a busybox rootfs plus the shim options for it.
type testContainer struct {
	t    *testing.T
	opts shim.Options
}

func newContainer(t *testing.T, args []string, mod func(*shim.Options, *specs.Spec)) *testContainer {
	t.Helper()
	requireRuntime(t)
	id := fmt.Sprintf("shimtest-%d-%d", os.Getpid(), idSeq.Add(1))
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	makeRootfs(t, filepath.Join(bundle, "rootfs"))
	opts := shim.Options{
		ID:          id,
		Bundle:      bundle,
		Runtime:     runcPath,
		RuntimeRoot: filepath.Join(dir, "runc"),
		StateDir:    filepath.Join(dir, "state"),
		LogPath:     filepath.Join(dir, "logs", id+"-json.log"),
		LogMaxFiles: 1,
	}
	spec := testSpec(id, args)
	if mod != nil {
		mod(&opts, spec)
	}
	spec.Process.Terminal = opts.Tty
	raw, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c := &testContainer{t: t, opts: opts}
	t.Cleanup(c.cleanup)
	return c
}

func makeRootfs(t *testing.T, root string) {
	t.Helper()
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "echo", "sleep", "cat", "stty", "seq", "true"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	// Something that exists but cannot be executed (exit code 126).
	if err := os.WriteFile(filepath.Join(root, "etc", "notexec"), []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testSpec(id string, args []string) *specs.Spec {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: args,
			Env:  []string{"PATH=/bin", "TERM=xterm", "HOME=/"},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: "shimtest",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: "/" + cgroupParent + "/" + id,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/proc/timer_list"},
			ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

func (c *testContainer) runc(args ...string) error {
	full := append([]string{"--root", c.opts.RuntimeRoot}, args...)
	out, err := exec.Command(runcPath, full...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("runc %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// cleanup removes the container, its shim and its cgroups whatever state the
// test left them in.
func (c *testContainer) cleanup() {
	if b, err := os.ReadFile(filepath.Join(c.opts.StateDir, "shim.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && isShimProcess(pid, c.opts.StateDir) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	exec.Command(runcPath, "--root", c.opts.RuntimeRoot, "delete", "--force", c.opts.ID).Run()
	for _, ctl := range cgroupControllers() {
		dir := filepath.Join(ctl, cgroupParent, c.opts.ID)
		for i := 0; i < 50; i++ {
			if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func isShimProcess(pid int, stateDir string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(b, []byte(stateDir)) && bytes.Contains(b, []byte("berth-shim"))
}

func cgroupControllers() []string {
	ents, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return nil
	}
	dirs := []string{"/sys/fs/cgroup"}
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", e.Name()))
		}
	}
	return dirs
}

func removeCgroupParent() {
	for _, ctl := range cgroupControllers() {
		os.Remove(filepath.Join(ctl, cgroupParent))
	}
}

func (c *testContainer) launch(ctx context.Context) *shim.Handle {
	c.t.Helper()
	h, err := shim.Launch(ctx, shimBin, c.opts)
	if err != nil {
		c.t.Fatalf("Launch: %v", err)
	}
	return h
}

func (c *testContainer) waitExit(timeout time.Duration) *shim.ExitStatus {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	es, err := shim.WaitExit(ctx, c.opts.StateDir)
	if err != nil {
		c.t.Fatalf("WaitExit: %v", err)
	}
	return es
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type logLine struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func readLogFile(t *testing.T, path string) []logLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []logLine
	for _, raw := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
		if len(raw) == 0 {
			continue
		}
		var l logLine
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if l.Time.IsZero() {
			t.Fatalf("log line %q has no time", raw)
		}
		out = append(out, l)
	}
	return out
}

func TestLogsAndExitCode(t *testing.T) {
	c := newContainer(t, []string{"sh", "-c", "echo hello; echo err >&2; printf 'no newline'; exit 3"}, nil)
	h := c.launch(testCtx(t))
	if h.Pid <= 0 || h.ShimPid <= 0 {
		t.Fatalf("bad handle %+v", h)
	}
	es := c.waitExit(30 * time.Second)
	if es.ExitCode != 3 || es.OOMKilled || es.FinishedAt.IsZero() {
		t.Fatalf("exit status %+v, want code 3", es)
	}
	lines := readLogFile(t, c.opts.LogPath)
	got := map[string]string{}
	for _, l := range lines {
		got[l.Log] = l.Stream
	}
	want := map[string]string{"hello\n": "stdout", "err\n": "stderr", "no newline": "stdout"}
	for log, stream := range want {
		if got[log] != stream {
			t.Errorf("log %q: stream %q, want %q (all: %+v)", log, got[log], stream, lines)
		}
	}
	if len(lines) != 3 {
		t.Errorf("got %d log lines, want 3: %+v", len(lines), lines)
	}

	// exit.json comes before the runtime's delete: WaitGone is what says the delete is done.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shim.WaitGone(ctx, c.opts.StateDir); err != nil {
		t.Fatal(err)
	}
	if !shim.Gone(c.opts.StateDir) {
		t.Error("Gone is false after WaitGone returned")
	}
	select {
	case <-h.ShimExited():
	case <-time.After(10 * time.Second):
		t.Fatal("shim did not exit after the container")
	}
	for _, name := range []string{"attach.sock", "control.sock"} {
		if fileExists(filepath.Join(c.opts.StateDir, name)) {
			t.Errorf("%s left behind", name)
		}
	}
	if err := c.runc("state", c.opts.ID); err == nil {
		t.Error("the container was not deleted from the runtime")
	}
	running, _, exit, err := shim.Status(c.opts.StateDir)
	if err != nil || running || exit == nil || exit.ExitCode != 3 {
		t.Errorf("Status after exit = %v, %+v, %v", running, exit, err)
	}
}

// readFrame reads one stdcopy frame.
func readFrame(r io.Reader) (stream byte, payload []byte, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	payload = make([]byte, binary.BigEndian.Uint32(hdr[4:]))
	_, err = io.ReadFull(r, payload)
	return hdr[0], payload, err
}

// readFramesUntil collects frames by stream until want has been seen on
// stdout or stderr (and, when given, also on the other one).
func readFramesUntil(t *testing.T, conn net.Conn, want string, alsoWant ...string) map[byte]string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	defer conn.SetReadDeadline(time.Time{})
	got := map[byte]string{}
	done := func() bool {
		if !strings.Contains(got[1], want) && !strings.Contains(got[2], want) {
			return false
		}
		for _, w := range alsoWant {
			if !strings.Contains(got[1], w) && !strings.Contains(got[2], w) {
				return false
			}
		}
		return true
	}
	for !done() {
		stream, payload, err := readFrame(conn)
		if err != nil {
			t.Fatalf("reading frames (have %q): %v", got, err)
		}
		got[stream] += string(payload)
	}
	return got
}

func TestAttachStdinRoundTrip(t *testing.T) {
	c := newContainer(t, []string{"cat"}, func(o *shim.Options, _ *specs.Spec) {
		o.Stdin = true
		// A state directory past the 108-byte sun_path limit.
		o.StateDir = filepath.Join(o.StateDir, strings.Repeat("d", 60), strings.Repeat("e", 60))
	})
	if len(c.opts.StateDir) < 120 {
		t.Fatalf("state dir %q is not long", c.opts.StateDir)
	}
	ctx := testCtx(t)
	c.launch(ctx)
	conn, err := shim.Attach(ctx, c.opts.StateDir, shim.Streams{Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A second client that only listens sees the same output.
	watcher, err := shim.Attach(ctx, c.opts.StateDir, shim.Streams{Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()

	if _, err := conn.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if got := readFramesUntil(t, conn, "ping\n"); got[1] != "ping\n" || got[2] != "" {
		t.Fatalf("frames %q, want stdout ping", got)
	}
	if got := readFramesUntil(t, watcher, "ping\n"); got[1] != "ping\n" {
		t.Fatalf("second client got %q", got)
	}
	// Without --stdin-once the client's EOF keeps stdin open...
	conn.(*net.UnixConn).CloseWrite()
	time.Sleep(200 * time.Millisecond)
	if running, _, _, err := shim.Status(c.opts.StateDir); err != nil || !running {
		t.Fatalf("container stopped after the client's EOF: running=%v err=%v", running, err)
	}
	// ...until close-stdin.
	if err := shim.CloseStdin(c.opts.StateDir); err != nil {
		t.Fatal(err)
	}
	if es := c.waitExit(20 * time.Second); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
	// The shim closes attach connections at the end.
	watcher.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, err := io.ReadAll(watcher); err != nil {
		t.Fatalf("attach connection not closed: %v (read %q)", err, rest)
	}
	if lines := readLogFile(t, c.opts.LogPath); len(lines) != 1 || lines[0].Log != "ping\n" {
		t.Fatalf("log %+v", lines)
	}
}

func TestAttachStdinOnce(t *testing.T) {
	c := newContainer(t, []string{"sh", "-c", "cat; echo done >&2"}, func(o *shim.Options, _ *specs.Spec) {
		o.Stdin, o.StdinOnce = true, true
	})
	ctx := testCtx(t)
	c.launch(ctx)
	conn, err := shim.Attach(ctx, c.opts.StateDir, shim.Streams{Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "one\ntwo\n")
	conn.(*net.UnixConn).CloseWrite() // closes the container's stdin
	// stdout and stderr are separate pipes: either may come first.
	got := readFramesUntil(t, conn, "done\n", "two\n")
	if got[1] != "one\ntwo\n" || got[2] != "done\n" {
		t.Fatalf("frames %q", got)
	}
	if es := c.waitExit(20 * time.Second); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
}

// The container runs (and here exits) before anyone attached: its output waits for the release.
func TestHeldOutputMissesNothing(t *testing.T) {
	c := newContainer(t, []string{"echo", "early bird"}, func(o *shim.Options, _ *specs.Spec) { o.HoldOutput = true })
	ctx := testCtx(t)
	c.launch(ctx)
	conn, err := shim.Attach(ctx, c.opts.StateDir, shim.Streams{Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := shim.Release(ctx, c.opts.StateDir); err != nil {
		t.Fatal(err)
	}
	if got := readFramesUntil(t, conn, "early bird\n"); got[1] != "early bird\n" {
		t.Fatalf("frames %q", got)
	}
	if es := c.waitExit(20 * time.Second); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
	if err := shim.Release(ctx, c.opts.StateDir); err == nil {
		t.Fatal("a second release succeeded")
	}
}

func TestSlowAttachClientDoesNotBlock(t *testing.T) {
	const lines = 100000
	c := newContainer(t, []string{"sh", "-c", "seq 1 " + strconv.Itoa(lines) + "; echo end"}, func(o *shim.Options, _ *specs.Spec) {
		o.HoldOutput = true
	})
	ctx := testCtx(t)
	c.launch(ctx)
	stuck, err := shim.Attach(ctx, c.opts.StateDir, shim.Streams{Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close() // never read
	start := time.Now()
	if err := shim.Release(ctx, c.opts.StateDir); err != nil {
		t.Fatal(err)
	}
	if es := c.waitExit(30 * time.Second); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
	t.Logf("%d lines with a stuck attach client took %v", lines, time.Since(start).Round(time.Millisecond))
	logged := readLogFile(t, c.opts.LogPath)
	if len(logged) != lines+1 || logged[lines].Log != "end\n" || logged[lines-1].Log != strconv.Itoa(lines)+"\n" {
		t.Fatalf("log has %d entries, last %+v", len(logged), logged[len(logged)-1])
	}
}

func TestTTYResize(t *testing.T) {
	c := newContainer(t, []string{"sh"}, func(o *shim.Options, _ *specs.Spec) { o.Tty, o.Stdin = true, true })
	ctx := testCtx(t)
	c.launch(ctx)
	conn, err := shim.Attach(ctx, c.opts.StateDir, shim.Streams{Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := shim.Resize(c.opts.StateDir, 123, 45); err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "stty size; echo marker-$((6*7))\n")
	var out bytes.Buffer
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "marker-42") {
		n, err := conn.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("reading tty output %q: %v", out.String(), err)
		}
	}
	if !strings.Contains(out.String(), "45 123") {
		t.Fatalf("stty size output %q, want 45 123", out.String())
	}
	io.WriteString(conn, "exit 7\n")
	if es := c.waitExit(20 * time.Second); es.ExitCode != 7 {
		t.Fatalf("exit %+v", es)
	}
	// Raw pty output goes to the log as stdout, with the terminal's \r\n.
	var sawMarker bool
	for _, l := range readLogFile(t, c.opts.LogPath) {
		if l.Stream != "stdout" {
			t.Errorf("tty log line on %q", l.Stream)
		}
		if strings.Contains(l.Log, "marker-42\r\n") {
			sawMarker = true
		}
	}
	if !sawMarker {
		t.Error("marker not in the log")
	}
	if err := shim.Resize(c.opts.StateDir, 80, 24); err == nil {
		t.Error("resize after exit succeeded")
	}
}

func TestResizeWithoutTTY(t *testing.T) {
	c := newContainer(t, []string{"sleep", "100"}, nil)
	c.launch(testCtx(t))
	if err := shim.Resize(c.opts.StateDir, 80, 24); err == nil || !strings.Contains(err.Error(), "no tty") {
		t.Fatalf("resize without a tty: %v", err)
	}
	if err := c.runc("kill", c.opts.ID, "KILL"); err != nil {
		t.Fatal(err)
	}
	if es := c.waitExit(20 * time.Second); es.ExitCode != 137 {
		t.Fatalf("exit %+v, want 137", es)
	}
}

// The signals the shim ignores for itself must not reach the container.
func TestContainerSignalsAtDefault(t *testing.T) {
	c := newContainer(t, []string{"cat", "/proc/self/status"}, nil)
	c.launch(testCtx(t))
	if es := c.waitExit(20 * time.Second); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
	var found bool
	for _, l := range readLogFile(t, c.opts.LogPath) {
		if v, ok := strings.CutPrefix(l.Log, "SigIgn:"); ok {
			found = true
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("SigIgn %q: %v", v, err)
			}
			// Signal 32 is glibc's reserved cancellation signal: ordinary programs cannot set it, and
			// under heavy parallel test load it was seen ignored, set by something below the shim
			// (runc init). Every other signal, the shim's own ignored ones included, must be default.
			if rest := mask &^ (1 << 31); rest != 0 {
				t.Errorf("container starts with ignored signals: SigIgn %s", strings.TrimSpace(v))
			}
		}
	}
	if !found {
		t.Fatal("no SigIgn line in the output")
	}
}

func TestOOMKilled(t *testing.T) {
	limit := int64(16 << 20)
	c := newContainer(t, []string{"sh", "-c", "x=aaaaaaaa; while true; do x=$x$x; done"}, func(_ *shim.Options, s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit}}
	})
	c.launch(testCtx(t))
	es := c.waitExit(60 * time.Second)
	if es.ExitCode != 137 || !es.OOMKilled {
		t.Fatalf("exit %+v, want 137 and oom_killed", es)
	}
}

// TestDeleteAfterExitRecord: the shim writes exit.json before it deletes the container from
// the runtime, so waiters need not wait for the delete. (That the delete also works once
// berthd has removed the state directory is TestRuntimeStateGoesWithContainer in e2e.)
func TestDeleteAfterExitRecord(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "delete.txt")
	wrapper := filepath.Join(dir, "runtime")
	script := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = delete ] && { test -e \"$STATE/exit.json\" && echo after >> " + record + " || echo before >> " + record + "; }; done\nexec " + runcPath + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := newContainer(t, []string{"true"}, func(o *shim.Options, _ *specs.Spec) { o.Runtime = wrapper })
	t.Setenv("STATE", c.opts.StateDir)
	h := c.launch(testCtx(t))
	c.waitExit(30 * time.Second)
	select {
	case <-h.ShimExited():
	case <-time.After(10 * time.Second):
		t.Fatal("shim did not exit")
	}
	if got, _ := os.ReadFile(record); strings.TrimSpace(string(got)) != "after" {
		t.Fatalf("the runtime's delete ran %q exit.json was written, want after", got)
	}
	if err := c.runc("state", c.opts.ID); err == nil {
		t.Error("the container was not deleted from the runtime")
	}
}

func TestLaunchErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
		code int
	}{
		{[]string{"nosuch"}, `exec: "nosuch": executable file not found in $PATH`, 127},
		{[]string{"/etc/notexec"}, "permission denied", 126},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			c := newContainer(t, tc.args, nil)
			start := time.Now()
			_, err := shim.Launch(testCtx(t), shimBin, c.opts)
			if err == nil {
				t.Fatal("Launch succeeded")
			}
			var rerr *shim.RuntimeError
			if !errors.As(err, &rerr) {
				t.Fatalf("error %T %v is not a *RuntimeError", err, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not mention %q", err, tc.msg)
			}
			if rerr.ExitCode() != tc.code {
				t.Fatalf("ExitCode() = %d, want %d", rerr.ExitCode(), tc.code)
			}
			t.Logf("failed launch took %v: %v", time.Since(start).Round(time.Millisecond), err)
			if c.runc("state", c.opts.ID) == nil {
				t.Error("failed container left in the runtime")
			}
			if fileExists(filepath.Join(c.opts.StateDir, "exit.json")) {
				t.Error("exit.json written for a container that never ran")
			}
		})
	}
}

// helperMain is a stand-in berthd: it launches a shim, prints the handle and
// waits to be killed.
func helperMain(spec string) {
	var in struct {
		Bin  string
		Opts shim.Options
	}
	if err := json.Unmarshal([]byte(spec), &in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	h, err := shim.Launch(context.Background(), in.Bin, in.Opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(h)
	select {}
}

func TestShimSurvivesParentKill(t *testing.T) {
	c := newContainer(t, []string{"sleep", "1000"}, nil)
	// Orphans below this process come back to it, so the test can reap the
	// shim once it has exited (pid 1 here may not).
	if err := setSubreaper(); err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(struct {
		Bin  string
		Opts shim.Options
	}{shimBin, c.opts})
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+string(spec))
	helper.Stderr = os.Stderr
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		helper.Process.Kill()
		helper.Wait()
		t.Fatalf("helper: %v", err)
	}
	var h shim.Handle
	if err := json.Unmarshal(line, &h); err != nil {
		t.Fatal(err)
	}
	helper.Process.Signal(syscall.SIGKILL)
	helper.Wait()

	time.Sleep(300 * time.Millisecond)
	running, pid, exit, err := shim.Status(c.opts.StateDir)
	if err != nil || !running || pid != h.Pid || exit != nil {
		t.Fatalf("after the parent's death: running=%v pid=%d (want %d) exit=%v err=%v", running, pid, h.Pid, exit, err)
	}
	// The shim of a running container is not gone, even for a process that is not its parent.
	short, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if shim.Gone(c.opts.StateDir) || shim.WaitGone(short, c.opts.StateDir) == nil {
		t.Fatal("the shim of a running container counts as gone")
	}
	if ppid := parentOf(h.ShimPid); ppid != os.Getpid() {
		t.Logf("shim's parent is now %d", ppid)
	}

	done := make(chan *shim.ExitStatus, 1)
	go func() {
		es, err := shim.WaitExit(context.Background(), c.opts.StateDir)
		if err != nil {
			t.Error(err)
		}
		done <- es
	}()
	time.Sleep(200 * time.Millisecond)
	if err := c.runc("kill", c.opts.ID, "KILL"); err != nil {
		t.Fatal(err)
	}
	select {
	case es := <-done:
		if es == nil || es.ExitCode != 137 {
			t.Fatalf("exit %+v, want 137", es)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("WaitExit did not return after runc kill")
	}
	reap(t, h.ShimPid)
}

func setSubreaper() error {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, 36 /* PR_SET_CHILD_SUBREAPER */, 1, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// reap waits for pid, which must have become this process's child.
func reap(t *testing.T, pid int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if got == pid {
			if !ws.Exited() || ws.ExitStatus() != 0 {
				t.Errorf("shim ended with %v", ws)
			}
			return
		}
		if err != nil { // not our child after all
			t.Logf("cannot reap the shim: %v", err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("the shim did not exit")
}

func TestLogRotationAndReadLogs(t *testing.T) {
	c := newContainer(t, []string{"sh", "-c", "for i in $(seq 1 300); do echo line-$i; done; sleep 1; echo bye >&2"}, func(o *shim.Options, _ *specs.Spec) {
		o.LogMaxSize, o.LogMaxFiles = 2048, 3
	})
	c.launch(testCtx(t))
	if es := c.waitExit(30 * time.Second); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
	for _, suffix := range []string{"", ".1", ".2"} {
		st, err := os.Stat(c.opts.LogPath + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 2048 {
			t.Errorf("%s is %d bytes, over the 2048 limit", c.opts.LogPath+suffix, st.Size())
		}
	}
	if fileExists(c.opts.LogPath + ".3") {
		t.Error("more than 3 log files kept")
	}
	// All files, oldest first, continue each other.
	ch, err := shim.ReadLogs(context.Background(), c.opts.LogPath, shim.LogOptions{Tail: -1})
	if err != nil {
		t.Fatal(err)
	}
	var all []shim.LogEntry
	for e := range ch {
		if e.Err != nil {
			t.Fatal(e.Err)
		}
		all = append(all, e)
	}
	// stdout and stderr are separate pipes: their relative order is not kept.
	var out []shim.LogEntry
	var errs []string
	for _, e := range all {
		if e.Stream == "stderr" {
			errs = append(errs, string(e.Line))
		} else {
			out = append(out, e)
		}
	}
	if len(out) < 20 || len(errs) != 1 || errs[0] != "bye\n" {
		t.Fatalf("read %d stdout entries and stderr %q", len(out), errs)
	}
	first, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(string(out[0].Line)), "line-"))
	for i, e := range out {
		if want := fmt.Sprintf("line-%d\n", first+i); string(e.Line) != want {
			t.Fatalf("entry %d is %q, want %q", i, e.Line, want)
		}
	}
	if string(out[len(out)-1].Line) != "line-300\n" {
		t.Fatalf("last stdout entry %q", out[len(out)-1].Line)
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) }) {
		t.Error("entries out of time order")
	}
	// Tail across the rotated files, stdout only.
	ch, err = shim.ReadLogs(context.Background(), c.opts.LogPath, shim.LogOptions{Tail: 3, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	var tail []string
	for e := range ch {
		tail = append(tail, string(e.Line))
	}
	if strings.Join(tail, "") != "line-298\nline-299\nline-300\n" {
		t.Fatalf("tail %q", tail)
	}
}

// A follower started before the container keeps up through many rotations.
func TestFollowThroughShimRotations(t *testing.T) {
	const lines = 2000
	c := newContainer(t, []string{"sh", "-c", "for i in $(seq 1 " + strconv.Itoa(lines) + "); do echo line-$i; done"}, func(o *shim.Options, _ *specs.Spec) {
		o.LogMaxSize, o.LogMaxFiles, o.HoldOutput = 4096, 100, true
	})
	ctx := testCtx(t)
	c.launch(ctx)
	ch, err := shim.ReadLogs(ctx, c.opts.LogPath, shim.LogOptions{Follow: true, Tail: -1, StateDir: c.opts.StateDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := shim.Release(ctx, c.opts.StateDir); err != nil {
		t.Fatal(err)
	}
	n := 0
	for e := range ch {
		if e.Err != nil {
			t.Fatal(e.Err)
		}
		n++
		if want := fmt.Sprintf("line-%d\n", n); string(e.Line) != want {
			t.Fatalf("entry %d is %q, want %q", n, e.Line, want)
		}
	}
	if n != lines {
		t.Fatalf("followed %d lines, want %d", n, lines)
	}
	if !fileExists(c.opts.LogPath + ".20") {
		t.Fatal("the log did not rotate much")
	}
}

func TestFollowLogsUntilExit(t *testing.T) {
	c := newContainer(t, []string{"sh", "-c", "echo one; sleep 1; echo two; sleep 1; echo three"}, nil)
	ctx := testCtx(t)
	c.launch(ctx)
	ch, err := shim.ReadLogs(ctx, c.opts.LogPath, shim.LogOptions{Follow: true, Tail: -1, StateDir: c.opts.StateDir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case e, ok := <-ch:
			if !ok {
				done = true
				break
			}
			if e.Err != nil {
				t.Fatal(e.Err)
			}
			got = append(got, string(e.Line))
		case <-timeout:
			t.Fatalf("follow did not end after the exit; got %q", got)
		}
	}
	if strings.Join(got, "") != "one\ntwo\nthree\n" {
		t.Fatalf("followed %q", got)
	}
}

// TestRSS measures the shim's resident set with an idle `sleep` container.
func TestRSS(t *testing.T) {
	const n = 5
	var rss, anon, file, pss []int
	for i := 0; i < n; i++ {
		c := newContainer(t, []string{"sleep", "1000"}, nil)
		h := c.launch(testCtx(t))
		defer func() {
			c.runc("kill", c.opts.ID, "KILL")
			c.waitExit(20 * time.Second)
		}()
		time.Sleep(1500 * time.Millisecond)
		st := procFields(t, "/proc/"+strconv.Itoa(h.ShimPid)+"/status")
		sm := procFields(t, "/proc/"+strconv.Itoa(h.ShimPid)+"/smaps_rollup")
		rss, anon, file, pss = append(rss, st["VmRSS"]), append(anon, st["RssAnon"]), append(file, st["RssFile"]), append(pss, sm["Pss"])
	}
	med := func(v []int) int { s := append([]int(nil), v...); sort.Ints(s); return s[len(s)/2] }
	t.Logf("berth-shim with an idle container, median of %d: VmRSS %d KiB (RssAnon %d, RssFile %d), Pss %d KiB; all VmRSS %v",
		n, med(rss), med(anon), med(file), med(pss), rss)
	if med(rss) > 4096 {
		t.Errorf("shim VmRSS %d KiB: far over the 2 MiB target", med(rss))
	}

	// After logging a burst of output the shim should not have grown much:
	// logging allocates nothing, so no collection runs.
	c := newContainer(t, []string{"sh", "-c", "seq 1 200000; exec sleep 1000"}, nil)
	h := c.launch(testCtx(t))
	defer func() {
		c.runc("kill", c.opts.ID, "KILL")
		c.waitExit(20 * time.Second)
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st, err := os.Stat(c.opts.LogPath); err == nil && st.Size() > 200000*40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("output not logged")
		}
	}
	time.Sleep(500 * time.Millisecond)
	st := procFields(t, "/proc/"+strconv.Itoa(h.ShimPid)+"/status")
	t.Logf("after logging 200000 lines: VmRSS %d KiB (RssAnon %d, RssFile %d)", st["VmRSS"], st["RssAnon"], st["RssFile"])
}

func procFields(t *testing.T, path string) map[string]int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			out[k], _ = strconv.Atoi(f[0])
		}
	}
	return out
}
