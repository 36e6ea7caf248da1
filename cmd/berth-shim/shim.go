package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/shim/wire"
)

const prSetChildSubreaper = 36

// drainTimeout bounds how long the shim waits, once the init has exited, for
// the output pipes to reach EOF (a process outside the container's pid
// namespace could hold them open forever).
const drainTimeout = 2 * time.Second

// releaseTimeout bounds how long held output waits for its release once the
// container has exited (berthd died between the launch and the release).
const releaseTimeout = 10 * time.Second

type shim struct {
	cfg    *config
	ready  *os.File
	reaper *reaper
	log    *jsonLog
	env    []string

	mu          sync.Mutex
	clients     map[*attachClient]struct{}
	stdinW      *os.File // container stdin: pipe write end, or the pty master
	stdinClosed bool
	console     *os.File // pty master with --tty
	closing     bool     // the container has exited: no new attach clients

	outputs []*os.File // read ends being copied
	copiers sync.WaitGroup

	releaseReq chan chan struct{} // --hold-output: the release request from control.sock
	released   bool               // the copiers run (guarded by mu)

	attachL, controlL *listener
}

func (s *shim) run() int {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return s.abort("set child subreaper: " + errno.Error())
	}
	writeFileAtomic(wire.ShimPidFile, strconv.AppendInt(nil, int64(os.Getpid()), 10))
	for _, name := range []string{wire.ExitFile, wire.AttachSocket, wire.ControlSocket, wire.ConsoleSocket, wire.InitPidFile} {
		os.Remove(name)
	}
	s.reaper = newReaper()
	go s.reaper.loop(setupSignals())
	s.env = os.Environ()
	s.releaseReq = make(chan chan struct{})

	if dir := filepath.Dir(s.cfg.logPath); dir != "" {
		os.MkdirAll(dir, 0o755)
	}
	log, err := openJSONLog(s.cfg.logPath, s.cfg.logMaxSize, s.cfg.logMaxFiles)
	if err != nil {
		return s.abort("open log: " + err.Error())
	}
	log.onErr = func(err error) { logf("log: " + err.Error()) }
	s.log = log

	devnull, err := syscall.Open(os.DevNull, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return s.abort("open /dev/null: " + err.Error())
	}
	defer syscall.Close(devnull)

	// The container's stdio: pipes whose far ends runc hands to the init, or a
	// console socket on which runc sends the pty master.
	stdio := [3]int{devnull, devnull, devnull}
	var childEnds []int
	var consoleL *listener
	var consolePath string
	if s.cfg.tty {
		// runc dials it after moving into the bundle: an absolute path, short
		// enough for sun_path.
		var cleanup func()
		if consolePath, cleanup, err = shortSocketPath(s.cfg.stateDir, wire.ConsoleSocket); err != nil {
			return s.abort("console socket: " + err.Error())
		}
		defer cleanup()
		consoleL, err = listenUnix(consolePath)
		if err != nil {
			return s.abort("console socket: " + err.Error())
		}
		defer consoleL.close()
	} else {
		for i := 1; i <= 2; i++ { // stdout, stderr
			r, w, err := pipe()
			if err != nil {
				return s.abort("pipe: " + err.Error())
			}
			stdio[i] = w
			childEnds = append(childEnds, w)
			s.outputs = append(s.outputs, r)
		}
		if s.cfg.stdin {
			var r int
			var w *os.File
			if w, r, err = pipeForStdin(); err != nil {
				return s.abort("pipe: " + err.Error())
			}
			stdio[0] = r
			childEnds = append(childEnds, r)
			s.stdinW = w
		}
	}

	// One `run --detach` creates and starts the container. With --hold-output its first output
	// waits in the pipes (or the pty) until the attach clients are connected, which costs no
	// runtime exec, where `create` and a later `start` would cost one.
	args := []string{"run", "--detach", "--bundle", s.cfg.bundle, "--pid-file", filepath.Join(s.cfg.stateDir, wire.InitPidFile)}
	if s.cfg.tty {
		args = append(args, "--console-socket", consolePath)
	}
	err = s.runtimeRun(stdio, append(args, s.cfg.id)...)
	for _, fd := range childEnds {
		syscall.Close(fd)
	}
	if err != nil {
		for _, f := range s.outputs {
			f.Close()
		}
		return s.abort(err.Error())
	}
	if s.cfg.tty {
		if s.console, err = recvConsole(consoleL); err != nil {
			return s.abort("receive pty master: " + err.Error())
		}
		consoleL.close()
		s.outputs = []*os.File{s.console}
		if s.cfg.stdin {
			s.stdinW = s.console
		}
	}
	pidText, err := os.ReadFile(wire.InitPidFile)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil || perr != nil || pid <= 0 {
		return s.abort("read container pid file: " + errText(err, perr))
	}
	initDone := s.reaper.watch(pid)
	oomFile := oomCounterFile(pid)

	if err := s.listen(); err != nil {
		return s.abort(err.Error())
	}
	if !s.cfg.holdOutput {
		s.startCopiers()
	}
	report(s.ready, pid, "")
	s.trim()
	var ws syscall.WaitStatus
	exited := false
	if s.cfg.holdOutput {
		var timeout <-chan time.Time
	hold:
		for {
			select {
			case done := <-s.releaseReq:
				s.startCopiers()
				close(done)
				break hold
			case ws = <-initDone:
				// Done before its output was asked for: the attach clients may still be
				// connecting, so the listeners stay open a while for the release.
				exited, initDone = true, nil
				timeout = time.After(releaseTimeout)
			case <-timeout:
				logf("output not released " + releaseTimeout.String() + " after the container exited; releasing it")
				s.startCopiers()
				break hold
			}
		}
		s.trim()
	}
	if !exited {
		ws = <-initDone
	}
	return s.finish(ws, oomFile, devnull)
}

// finish runs once the init has exited: drain and close the streams, record
// the exit, delete the container from the runtime.
func (s *shim) finish(ws syscall.WaitStatus, oomFile string, devnull int) int {
	code := exitCode(ws)
	s.closeListeners()

	drained := make(chan struct{})
	go func() { s.copiers.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		logf("output still open " + drainTimeout.String() + " after the container exited; closing it")
		for _, f := range s.outputs {
			f.SetReadDeadline(time.Now())
		}
		<-drained
	}
	s.closeStdin()
	if s.console != nil {
		s.console.Close()
	}
	s.closeClients()
	s.log.close()

	// The exit is recorded first and the runtime's delete (a process of its own, 6-8 ms)
	// follows, so waiters get the status that much sooner. berthd knows the runtime state
	// lasts until this process ends (shim.WaitGone).
	// berthd may remove the state directory as soon as exit.json is there, so the runtime's
	// log is opened before and reaches the runtime as its stderr.
	oom := oomKilled(oomFile)
	deleteIO, logPath := [3]int{devnull, devnull, devnull}, ""
	if fd, err := syscall.Open(wire.RuntimeLog, syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CREAT|syscall.O_CLOEXEC, 0o644); err == nil {
		defer syscall.Close(fd)
		deleteIO[2], logPath = fd, "/proc/self/fd/2"
	}
	werr := writeFileAtomic(wire.ExitFile, wire.AppendExit(nil, code, time.Now(), oom))
	if werr != nil {
		logf("write exit status: " + werr.Error())
	}
	if err := s.runtimeRunLog(deleteIO, logPath, "delete", "--force", s.cfg.id); err != nil {
		logf("delete: " + err.Error())
	}
	if werr != nil {
		return 1
	}
	return 0
}

// abort reports a failure before the container ran and cleans up.
func (s *shim) abort(msg string) int {
	logf(msg)
	report(s.ready, 0, msg)
	if s.reaper != nil {
		if devnull, err := syscall.Open(os.DevNull, syscall.O_RDWR|syscall.O_CLOEXEC, 0); err == nil {
			s.runtimeRun([3]int{devnull, devnull, devnull}, "delete", "--force", s.cfg.id)
			syscall.Close(devnull)
		}
	}
	s.closeListeners()
	if s.log != nil {
		s.log.close()
	}
	return 1
}

// startCopiers starts copying the container's output to the log and the attach clients.
func (s *shim) startCopiers() {
	s.mu.Lock()
	s.released = true
	s.mu.Unlock()
	for i, f := range s.outputs {
		stream := byte(wire.Stdout)
		if i == 1 {
			stream = wire.Stderr
		}
		s.copiers.Add(1)
		go s.copyOut(stream, f)
	}
}

// runtimeRun runs the OCI runtime with args and waits for it; a failure
// carries the runtime's own message from its json log.
func (s *shim) runtimeRun(stdio [3]int, args ...string) error {
	return s.runtimeRunLog(stdio, "", args...)
}

// runtimeRunLog is runtimeRun with the runtime logging to logPath rather than to the state
// directory's runtime.log (when logPath is not empty).
func (s *shim) runtimeRunLog(stdio [3]int, logPath string, args ...string) error {
	if logPath == "" {
		logPath = filepath.Join(s.cfg.stateDir, wire.RuntimeLog)
	}
	var offset int64
	if st, err := os.Stat(wire.RuntimeLog); err == nil {
		offset = st.Size()
	}
	argv := []string{s.cfg.runtime}
	if s.cfg.runtimeRoot != "" {
		argv = append(argv, "--root", s.cfg.runtimeRoot)
	}
	argv = append(argv, "--log", logPath, "--log-format", "json")
	argv = append(argv, args...)
	_, done, err := s.reaper.run(argv, s.env, stdio)
	if err != nil {
		return errors.New("run " + s.cfg.runtime + ": " + err.Error())
	}
	ws := <-done
	if ws.Exited() && ws.ExitStatus() == 0 {
		return nil
	}
	if msg := runtimeMessage(wire.RuntimeLog, offset); msg != "" {
		return errors.New(msg)
	}
	return errors.New(filepath.Base(s.cfg.runtime) + " " + args[0] + " failed: exit status " + strconv.Itoa(exitCode(ws)))
}

// runtimeMessage returns the last error logged by the runtime past offset.
func runtimeMessage(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if offset > 0 {
		f.Seek(offset, 0)
	}
	buf := make([]byte, 64*1024)
	n, _ := f.Read(buf)
	var msg string
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		fields, err := wire.ParseObject([]byte(line))
		if err != nil {
			continue
		}
		if lvl := fields.Str("level"); lvl == "error" || lvl == "fatal" {
			msg = fields.Str("msg")
		}
	}
	return msg
}

func (s *shim) copyOut(stream byte, f *os.File) {
	defer s.copiers.Done()
	buf := make([]byte, 16*1024)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			s.log.write(stream, buf[:n])
			s.broadcast(stream, buf[:n])
		}
		if err != nil {
			break // EOF, EIO from a pty whose slave is gone, or the drain deadline
		}
	}
	s.log.flush(stream)
	if f != s.console {
		f.Close()
	}
}

func (s *shim) closeStdin() {
	s.mu.Lock()
	w, closed := s.stdinW, s.stdinClosed
	s.stdinClosed = true
	s.mu.Unlock()
	if w != nil && !closed && w != s.console {
		w.Close()
	}
}

// writeStdin copies attach input to the container; it may block on a full
// pipe, which only holds up that client.
func (s *shim) writeStdin(p []byte) error {
	s.mu.Lock()
	w, closed := s.stdinW, s.stdinClosed
	s.mu.Unlock()
	if w == nil || closed {
		return errors.New("stdin is closed")
	}
	_, err := w.Write(p)
	return err
}

// trim drops what start-up left resident and the steady state does not need:
// the pages of the executable's read-only mappings (see trimFilePages).
// It deliberately does not force a garbage collection (debug.FreeOSMemory):
// start-up allocates only a few tens of KiB, and the first collection costs
// far more (its mark metadata, ~400 KiB resident) than it frees. An idle or
// log-only shim allocates nothing, so no collection ever runs.
func (s *shim) trim() {
	if !s.cfg.noTrim {
		trimFilePages()
	}
}

// pipe returns a read end the shim polls and a blocking write end for the child.
func pipe() (*os.File, int, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, 0, err
	}
	syscall.SetNonblock(p[0], true)
	return os.NewFile(uintptr(p[0]), "output"), p[1], nil
}

// pipeForStdin returns the write end the shim polls and a blocking read end for the child.
func pipeForStdin() (*os.File, int, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, 0, err
	}
	syscall.SetNonblock(p[1], true)
	return os.NewFile(uintptr(p[1]), "stdin"), p[0], nil
}

// shortSocketPath returns an absolute socket path for name in dir, or in a
// fresh directory under the temp dir when that would not fit in sun_path.
func shortSocketPath(dir, name string) (string, func(), error) {
	if p := filepath.Join(dir, name); len(p) < 100 {
		return p, func() { os.Remove(p) }, nil
	}
	tmp, err := os.MkdirTemp("", "berth-shim-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(tmp, name), func() { os.RemoveAll(tmp) }, nil
}

func errText(errs ...error) string {
	for _, err := range errs {
		if err != nil {
			return err.Error()
		}
	}
	return "no pid"
}

// oomCounterFile finds the memory cgroup file with the container's oom_kill
// counter: memory.oom_control on cgroup v1, memory.events on v2.
func oomCounterFile(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return ""
	}
	var unified string
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			unified = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				return "/sys/fs/cgroup/memory" + parts[2] + "/memory.oom_control"
			}
		}
	}
	if unified != "" {
		if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
			return "/sys/fs/cgroup" + unified + "/memory.events"
		}
	}
	return ""
}

func oomKilled(file string) bool {
	if file == "" {
		return false
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n > 0
		}
	}
	return false
}
