// Package shim is berthd's side of berth-shim, the small per-container
// supervisor in cmd/berth-shim: the types both sides share, Launch to start a
// shim for a ready OCI bundle, clients for its attach and control sockets, the
// re-adoption helpers Status and WaitExit (which work from any process, so a
// restarted berthd picks up running containers), and ReadLogs for the docker
// json-file logs the shim writes.
//
// A shim's state directory holds:
//
//	shim.pid      the shim's pid
//	init.pid      the container init's pid
//	attach.sock   attach streams (see Attach)
//	control.sock  resize, close-stdin, start (see Resize, CloseStdin, Start)
//	exit.json     {"exit_code":N,"finished_at":"...","oom_killed":false}, once exited
//	              (written before the shim deletes the container from the runtime; WaitGone
//	              waits for that)
//	runtime.log   the OCI runtime's own json log
//	shim.log      the shim's diagnostics
//
// Stop and kill are not the shim's business: berthd runs `runc kill` itself,
// and the shim records the exit that follows.
package shim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/shim/wire"
)

// Options describe the container a shim supervises.
type Options struct {
	ID          string // container ID, as the runtime knows it
	Bundle      string // directory with config.json and the mounted rootfs
	Runtime     string // OCI runtime binary, e.g. /usr/sbin/runc
	RuntimeRoot string // the runtime's --root; empty for its default
	StateDir    string // the shim's state directory (created if missing)
	LogPath     string // docker json-file log
	LogMaxSize  int64  // rotate past this many bytes; <= 0 never
	LogMaxFiles int    // files kept, current one included; < 1 means 1
	Tty         bool   // the bundle has process.terminal: output comes from a pty
	Stdin       bool   // keep the container's stdin open for attach clients
	StdinOnce   bool   // close the container's stdin when the first stdin client closes
	// HoldOutput makes the shim copy none of the container's output until
	// Release: berthd attaches in between so that no early output is missed
	// (docker run). The container runs meanwhile; its output waits in the pipes.
	HoldOutput bool
}

// ExitStatus is the content of a shim's exit.json.
type ExitStatus struct {
	ExitCode   int       `json:"exit_code"`
	FinishedAt time.Time `json:"finished_at"`
	OOMKilled  bool      `json:"oom_killed"`
}

// Handle is a launched shim.
type Handle struct {
	ID       string
	StateDir string
	Pid      int // the container init
	ShimPid  int
	exited   chan struct{}
}

// ShimExited is closed once the shim process has exited and been reaped
// (only for shims this process launched).
func (h *Handle) ShimExited() <-chan struct{} { return h.exited }

// Wait waits for the container to exit; see WaitExit.
func (h *Handle) Wait(ctx context.Context) (*ExitStatus, error) { return WaitExit(ctx, h.StateDir) }

// RuntimeError is the OCI runtime's own message for a failed create or start,
// e.g. `runc create failed: unable to start container process: exec: "nosuch":
// executable file not found in $PATH`.
type RuntimeError struct {
	Msg string
}

func (e *RuntimeError) Error() string { return e.Msg }

// ExitCode is the exit status docker gives a run that failed this way:
// 127 when the command was not found, 126 when it cannot be invoked, else 125.
func (e *RuntimeError) ExitCode() int {
	m := strings.ToLower(e.Msg)
	switch {
	case strings.Contains(m, "executable file not found"), strings.Contains(m, "no such file or directory"):
		return 127
	case strings.Contains(m, "permission denied"), strings.Contains(m, "exec format error"), strings.Contains(m, "is a directory"),
		strings.Contains(m, "open executable: "): // crun's wording
		return 126
	}
	return 125
}

// ErrShimGone means the shim died without recording an exit status (it was
// killed): the container may still be running, unsupervised.
var ErrShimGone = errors.New("shim: supervisor exited without recording an exit status")

// ErrNoShim means the state directory has no shim in it.
var ErrNoShim = errors.New("shim: no shim state in directory")

// launchTimeout bounds a launch when ctx has no deadline.
const launchTimeout = 2 * time.Minute

// Launch starts bin (berth-shim) for opts, detached from the caller: its own
// session, stdin and stdout on /dev/null, stderr appended to shim.log in the
// state directory, no parent-death signal, so it outlives berthd.
// It returns once the shim reports the container running, or with the
// runtime's error (*RuntimeError).
// If ctx ends first, the shim is killed and the container deleted.
func Launch(ctx context.Context, bin string, opts Options) (*Handle, error) {
	if opts.ID == "" || opts.Bundle == "" || opts.Runtime == "" || opts.StateDir == "" || opts.LogPath == "" {
		return nil, errors.New("shim: ID, Bundle, Runtime, StateDir and LogPath are required")
	}
	var err error
	for _, p := range []*string{&opts.Bundle, &opts.StateDir, &opts.LogPath, &opts.RuntimeRoot} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	if err := os.MkdirAll(opts.StateDir, 0o711); err != nil {
		return nil, fmt.Errorf("shim: state dir: %w", err)
	}
	for _, name := range []string{wire.ExitFile, wire.ShimPidFile, wire.InitPidFile, wire.AttachSocket, wire.ControlSocket, wire.ConsoleSocket} {
		os.Remove(filepath.Join(opts.StateDir, name))
	}

	args := []string{
		"--id", opts.ID, "--bundle", opts.Bundle, "--runtime", opts.Runtime,
		"--log-path", opts.LogPath, "--state-dir", opts.StateDir,
		"--log-max-size", strconv.FormatInt(opts.LogMaxSize, 10),
		"--log-max-files", strconv.Itoa(max(opts.LogMaxFiles, 1)),
	}
	if opts.RuntimeRoot != "" {
		args = append(args, "--runtime-root", opts.RuntimeRoot)
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{opts.Tty, "--tty"}, {opts.Stdin, "--stdin"}, {opts.StdinOnce, "--stdin-once"}, {opts.HoldOutput, "--hold-output"}} {
		if f.on {
			args = append(args, f.name)
		}
	}

	// The shim's stderr goes to shim.log (where it also writes its own
	// diagnostics) so that a crash leaves a trace; stdin and stdout are /dev/null.
	shimLog, err := os.OpenFile(filepath.Join(opts.StateDir, wire.ShimLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	defer shimLog.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = opts.StateDir
	cmd.Env = shimEnv()
	cmd.Stderr = shimLog
	cmd.ExtraFiles = []*os.File{pw} // fd 3: the readiness report
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return nil, fmt.Errorf("shim: start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait() // reap it whenever it ends, if this process is still around
		close(exited)
	}()

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, launchTimeout)
		defer cancel()
	}
	stop := context.AfterFunc(ctx, func() { pr.SetReadDeadline(time.Unix(1, 0)) })
	line, rerr := bufio.NewReaderSize(pr, 4096).ReadBytes('\n')
	stop()

	if rerr != nil && len(line) == 0 {
		if ctx.Err() != nil {
			cmd.Process.Kill()
			deleteContainer(opts)
			return nil, fmt.Errorf("shim: launch %s: %w", opts.ID, ctx.Err())
		}
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		msg := lastLine(filepath.Join(opts.StateDir, wire.ShimLog))
		if msg == "" {
			msg = cmd.ProcessState.String()
		}
		return nil, fmt.Errorf("shim: exited before reporting readiness: %s", msg)
	}
	var rep struct {
		Pid   int    `json:"pid"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("shim: bad readiness report %q: %w", line, err)
	}
	if rep.Error != "" || rep.Pid <= 0 {
		select { // it cleans up and exits right after reporting
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		if rep.Error == "" {
			rep.Error = "shim reported no container pid"
		}
		return nil, &RuntimeError{Msg: rep.Error}
	}
	return &Handle{ID: opts.ID, StateDir: opts.StateDir, Pid: rep.Pid, ShimPid: cmd.Process.Pid, exited: exited}, nil
}

// shimEnv is the caller's environment minus what would retune the shim's Go
// runtime or confuse its children.
func shimEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOGC", "GOMAXPROCS", "GOMEMLIMIT", "GODEBUG", "GOTRACEBACK", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func deleteContainer(opts Options) {
	args := []string{}
	if opts.RuntimeRoot != "" {
		args = append(args, "--root", opts.RuntimeRoot)
	}
	args = append(args, "delete", "--force", opts.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exec.CommandContext(ctx, opts.Runtime, args...).Run()
}

// lastLine returns the last non-empty line of a small text file, without the
// timestamp the shim puts first.
func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	last := lines[len(lines)-1]
	if _, rest, ok := strings.Cut(last, " "); ok {
		return rest
	}
	return last
}

// readExit reads exit.json.
func readExit(stateDir string) (*ExitStatus, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, wire.ExitFile))
	if err != nil {
		return nil, err
	}
	var es ExitStatus
	if err := json.Unmarshal(b, &es); err != nil {
		return nil, fmt.Errorf("shim: %s: %w", wire.ExitFile, err)
	}
	return &es, nil
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("shim: bad pid file %s", path)
	}
	return pid, nil
}

// procAlive reports whether pid exists and is not a zombie.
func procAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...; comm may contain spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	st := b[i+2]
	return st != 'Z' && st != 'X' && st != 'x'
}

// isShimFor reports whether pid is a berth-shim serving stateDir (guards
// against a recycled pid).
func isShimFor(pid int, stateDir string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	for i, a := range args {
		if a == "--state-dir" && i+1 < len(args) && filepath.Clean(args[i+1]) == stateDir {
			return true
		}
		if v, ok := strings.CutPrefix(a, "--state-dir="); ok && filepath.Clean(v) == stateDir {
			return true
		}
	}
	return false
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return filepath.Clean(dir)
}

// Status tells berthd, after a restart, what became of a container: running
// is true while both the shim and the container init are alive; once the
// container has exited, exit holds its status. ErrShimGone means the shim was
// killed before recording an exit; ErrNoShim that the directory has no shim.
func Status(stateDir string) (running bool, pid int, exit *ExitStatus, err error) {
	stateDir = absDir(stateDir)
	pid, _ = readPid(filepath.Join(stateDir, wire.InitPidFile))
	if es, err := readExit(stateDir); err == nil {
		return false, pid, es, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, pid, nil, err
	}
	shimPid, err := readPid(filepath.Join(stateDir, wire.ShimPidFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, pid, nil, ErrNoShim
	} else if err != nil {
		return false, pid, nil, err
	}
	if !procAlive(shimPid) || !isShimFor(shimPid, stateDir) {
		if es, err := readExit(stateDir); err == nil { // it finished just now
			return false, pid, es, nil
		}
		return false, pid, nil, ErrShimGone
	}
	if pid > 0 && procAlive(pid) {
		return true, pid, nil, nil
	}
	if pid > 0 {
		// The init is gone and the shim is finishing up: give it a moment to
		// record the exit rather than report a state with no status.
		ctx, cancel := context.WithTimeout(context.Background(), statusGrace)
		defer cancel()
		if es, err := WaitExit(ctx, stateDir); err == nil {
			return false, pid, es, nil
		}
	}
	return false, pid, nil, nil
}

// liveShim returns a pidfd of the shim serving stateDir, or false when none runs. The shim is
// checked after the pidfd pins its pid, so a recycled pid cannot pass for it.
func liveShim(stateDir string) (int, bool) {
	stateDir = absDir(stateDir)
	pid, err := readPid(filepath.Join(stateDir, wire.ShimPidFile))
	if err != nil {
		return -1, false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, false // no such process
	}
	if !procAlive(pid) || !isShimFor(pid, stateDir) {
		unix.Close(fd)
		return -1, false
	}
	return fd, true
}

// WaitGone waits until the shim serving stateDir, if any, has exited. A shim records the exit
// before it deletes the container from the runtime, so the runtime's state (and the cgroup)
// lasts until the shim is gone: a new run with the same ID, or a cleanup that would otherwise
// run the runtime's delete itself, waits here first.
func WaitGone(ctx context.Context, stateDir string) error {
	fd, ok := liveShim(stateDir)
	if !ok {
		return nil
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 50) // short slices, so that ctx is honoured
		if n > 0 || (err != nil && err != unix.EINTR) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("shim of %s still running: %w", stateDir, err)
		}
	}
}

// Kill ends the shim serving stateDir, if any, at once: for a run being undone, whose shim may
// be holding output for attach clients that will never come.
func Kill(stateDir string) {
	if fd, ok := liveShim(stateDir); ok {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		unix.Close(fd)
	}
}

// Gone reports whether no shim serves stateDir any more.
func Gone(stateDir string) bool {
	fd, ok := liveShim(stateDir)
	if ok {
		unix.Close(fd)
	}
	return !ok
}

// statusGrace is how long Status waits for a finishing shim's exit record.
const statusGrace = 3 * time.Second

// WaitExit waits for the container supervised from stateDir to exit and
// returns its status. It works from any process (a restarted berthd): it
// watches the directory with inotify (or polls when inotify is unavailable)
// and checks every second that the shim is still alive.
func WaitExit(ctx context.Context, stateDir string) (*ExitStatus, error) {
	stateDir = absDir(stateDir)
	w := newWatcher(stateDir)
	defer w.close()
	for {
		es, err := readExit(stateDir)
		if err == nil {
			return es, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		shimPid, err := readPid(filepath.Join(stateDir, wire.ShimPidFile))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, ErrNoShim
			}
			return nil, err
		}
		if !procAlive(shimPid) || !isShimFor(shimPid, stateDir) {
			if es, err := readExit(stateDir); err == nil {
				return es, nil
			}
			return nil, ErrShimGone
		}
		if err := w.wait(ctx, time.Second); err != nil {
			return nil, err
		}
	}
}

// readReply reads the shim's one-line answer byte by byte, so that nothing
// after it (the attach stream) is consumed.
func readReply(r io.Reader) error {
	var line []byte
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(line) > 64*1024 {
				return errors.New("shim: reply too long")
			}
			line = append(line, b[0])
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("shim: reading reply: %w", err)
		}
	}
	var rep struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		return fmt.Errorf("shim: bad reply %q: %w", line, err)
	}
	if rep.Error != "" {
		return errors.New("shim: " + rep.Error)
	}
	if !rep.OK {
		return fmt.Errorf("shim: bad reply %q", line)
	}
	return nil
}
